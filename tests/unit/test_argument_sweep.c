/* SPDX-License-Identifier: Apache-2.0 */
/* Sweeps every pointer argument of every function that takes one: passing NULL where it is not
 * allowed returns QK_ERR_INVALID_ARGUMENT with a message naming the function, and writes nothing
 * (out-pointers keep their sentinel). Complements the per-area tests with a systematic check. */
#include <math.h>

#include "qk_test_util.h"

#define SENTINEL ((void*)0x5A5A)

#define EXPECT_NULL_REJECTED(call, fname)                     \
  do {                                                        \
    qk_clear_error();                                         \
    assert_status(call, QK_ERR_INVALID_ARGUMENT);             \
    assert_error_mentions(fname);                             \
    assert_error_mentions("NULL");                            \
  } while (0)

/* Proves spec and qparams functions reject each NULL pointer. */
static void test_sweep_spec_and_qparams(void** state) {
  (void)state;
  qk_quant_spec* spec = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  qk_quant_spec* out = SENTINEL;
  EXPECT_NULL_REJECTED(qk_quant_spec_clone(NULL, &out), "qk_quant_spec_clone");
  EXPECT_NULL_REJECTED(qk_quant_spec_clone(spec, NULL), "qk_quant_spec_clone");
  EXPECT_NULL_REJECTED(qk_quant_spec_set_range(NULL, 0, 1), "qk_quant_spec_set_range");
  EXPECT_NULL_REJECTED(qk_quant_spec_set_reduce_range(NULL, 1), "qk_quant_spec_set_reduce_range");
  EXPECT_NULL_REJECTED(qk_quant_spec_set_eps(NULL, 1), "qk_quant_spec_set_eps");
  EXPECT_NULL_REJECTED(qk_quant_spec_set_axis(NULL, 1), "qk_quant_spec_set_axis");
  EXPECT_NULL_REJECTED(qk_quant_spec_set_group_size(NULL, 1), "qk_quant_spec_set_group_size");
  EXPECT_NULL_REJECTED(qk_quant_spec_set_convention(NULL, QK_CONVENTION_PYTORCH), "qk_quant_spec_set_convention");
  int32_t i32;
  int64_t i64;
  qk_qscheme scheme;
  qk_convention conv;
  EXPECT_NULL_REJECTED(qk_quant_spec_get_scheme(spec, NULL), "qk_quant_spec_get_scheme");
  EXPECT_NULL_REJECTED(qk_quant_spec_get_axis(NULL, &i32), "qk_quant_spec_get_axis");
  EXPECT_NULL_REJECTED(qk_quant_spec_get_group_size(NULL, &i64), "qk_quant_spec_get_group_size");
  EXPECT_NULL_REJECTED(qk_quant_spec_get_convention(NULL, &conv), "qk_quant_spec_get_convention");
  EXPECT_NULL_REJECTED(qk_quant_spec_get_effective_range(spec, NULL, &i32), "qk_quant_spec_get_effective_range");
  EXPECT_NULL_REJECTED(qk_quant_spec_get_effective_range(spec, &i32, NULL), "qk_quant_spec_get_effective_range");
  (void)scheme;
  assert_ptr_equal(out, SENTINEL);

  const float lo = -1, hi = 1;
  qk_qparams* qp = SENTINEL;
  EXPECT_NULL_REJECTED(qk_qparams_compute(NULL, &lo, &hi, 1, &qp), "qk_qparams_compute");
  EXPECT_NULL_REJECTED(qk_qparams_compute(spec, NULL, &hi, 1, &qp), "qk_qparams_compute");
  EXPECT_NULL_REJECTED(qk_qparams_compute(spec, &lo, NULL, 1, &qp), "qk_qparams_compute");
  EXPECT_NULL_REJECTED(qk_qparams_compute(spec, &lo, &hi, 1, NULL), "qk_qparams_compute");
  const int64_t shape[1] = {1};
  EXPECT_NULL_REJECTED(qk_qparams_from_tensor(NULL, &lo, shape, 1, &qp, NULL), "qk_qparams_from_tensor");
  EXPECT_NULL_REJECTED(qk_qparams_from_tensor(spec, NULL, shape, 1, &qp, NULL), "qk_qparams_from_tensor");
  EXPECT_NULL_REJECTED(qk_qparams_from_tensor(spec, &lo, shape, 1, NULL, NULL), "qk_qparams_from_tensor");
  const float scale = 1;
  const int32_t zp = 0;
  EXPECT_NULL_REJECTED(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, NULL, &zp, NULL, 1, 0, 255,
                                         &qp), "qk_qparams_create");
  EXPECT_NULL_REJECTED(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &scale, &zp, NULL, 1, 0,
                                         255, NULL), "qk_qparams_create");
  assert_ptr_equal(qp, SENTINEL);
  assert_ok(qk_qparams_compute(spec, &lo, &hi, 1, &qp));
  EXPECT_NULL_REJECTED(qk_qparams_get_dtype(qp, NULL), "qk_qparams_get_dtype");
  EXPECT_NULL_REJECTED(qk_qparams_get_axis(qp, NULL), "qk_qparams_get_axis");
  EXPECT_NULL_REJECTED(qk_qparams_get_group_size(qp, NULL), "qk_qparams_get_group_size");
  EXPECT_NULL_REJECTED(qk_qparams_get_range(qp, NULL, &i32), "qk_qparams_get_range");
  EXPECT_NULL_REJECTED(qk_qparams_get_scales(qp, NULL, 1), "qk_qparams_get_scales");
  EXPECT_NULL_REJECTED(qk_qparams_get_zero_points(qp, NULL, 1), "qk_qparams_get_zero_points");
  EXPECT_NULL_REJECTED(qk_qparams_get_float_zero_points(qp, NULL, 1), "qk_qparams_get_float_zero_points");
  qk_qparams_destroy(qp);
  qk_quant_spec_destroy(spec);
}

/* Proves observer functions reject each NULL pointer. */
static void test_sweep_observers(void** state) {
  (void)state;
  qk_quant_spec* spec = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  qk_observer* obs = SENTINEL;
  EXPECT_NULL_REJECTED(qk_observer_create(QK_OBSERVER_MINMAX, NULL, &obs), "qk_observer_create");
  EXPECT_NULL_REJECTED(qk_observer_create(QK_OBSERVER_MINMAX, spec, NULL), "qk_observer_create");
  assert_ptr_equal(obs, SENTINEL);
  assert_ok(qk_observer_create(QK_OBSERVER_MINMAX, spec, &obs));
  const int64_t shape[1] = {2};
  const float x[2] = {1, 2};
  float f;
  double d;
  size_t n;
  uint64_t u;
  qk_observer_kind kind;
  qk_qparams* qp = SENTINEL;
  EXPECT_NULL_REJECTED(qk_observer_update(obs, NULL, shape, 1), "qk_observer_update");
  EXPECT_NULL_REJECTED(qk_observer_update(obs, x, NULL, 1), "qk_observer_update");
  assert_ok(qk_observer_update(obs, x, shape, 1));
  EXPECT_NULL_REJECTED(qk_observer_get_kind(obs, NULL), "qk_observer_get_kind");
  EXPECT_NULL_REJECTED(qk_observer_get_kind(NULL, &kind), "qk_observer_get_kind");
  EXPECT_NULL_REJECTED(qk_observer_set_param(NULL, QK_OBSERVER_PARAM_BINS, 1), "qk_observer_set_param");
  EXPECT_NULL_REJECTED(qk_observer_get_param(obs, QK_OBSERVER_PARAM_BINS, NULL), "qk_observer_get_param");
  EXPECT_NULL_REJECTED(qk_observer_get_param(NULL, QK_OBSERVER_PARAM_BINS, &d), "qk_observer_get_param");
  EXPECT_NULL_REJECTED(qk_observer_compute_qparams(obs, NULL), "qk_observer_compute_qparams");
  EXPECT_NULL_REJECTED(qk_observer_compute_qparams(NULL, &qp), "qk_observer_compute_qparams");
  EXPECT_NULL_REJECTED(qk_observer_get_range(obs, NULL, &f, 1), "qk_observer_get_range");
  EXPECT_NULL_REJECTED(qk_observer_get_range(obs, &f, NULL, 1), "qk_observer_get_range");
  EXPECT_NULL_REJECTED(qk_observer_get_channel_count(obs, NULL), "qk_observer_get_channel_count");
  EXPECT_NULL_REJECTED(qk_observer_get_channel_count(NULL, &n), "qk_observer_get_channel_count");
  EXPECT_NULL_REJECTED(qk_observer_get_nonfinite_count(obs, NULL), "qk_observer_get_nonfinite_count");
  EXPECT_NULL_REJECTED(qk_observer_get_nonfinite_count(NULL, &u), "qk_observer_get_nonfinite_count");
  EXPECT_NULL_REJECTED(qk_observer_merge(obs, NULL), "qk_observer_merge");
  EXPECT_NULL_REJECTED(qk_observer_save(obs, NULL, 0, NULL), "qk_observer_save");
  EXPECT_NULL_REJECTED(qk_observer_save(NULL, NULL, 0, &n), "qk_observer_save");
  EXPECT_NULL_REJECTED(qk_observer_load(x, 8, NULL), "qk_observer_load");
  assert_ptr_equal(qp, SENTINEL);
  /* A NULL buffer with a non-zero capacity is a contradiction, not a size query. */
  assert_status(qk_observer_save(obs, NULL, 16, &n), QK_ERR_INVALID_ARGUMENT);
  qk_observer_destroy(obs);
  qk_quant_spec_destroy(spec);
}

/* Proves quantize / fake-quant / fold / cast reject NULL data pointers for non-empty tensors. */
static void test_sweep_tensor_functions(void** state) {
  (void)state;
  const float scale = 1;
  const int32_t zp = 0;
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &scale, &zp, NULL, 1, -128, 127, &qp));
  const int64_t shape[1] = {2};
  const float x[2] = {1, 2};
  float y[2] = {7, 7};
  int8_t q[2] = {7, 7};
  uint16_t h[2];
  EXPECT_NULL_REJECTED(qk_quantize(qp, x, NULL, 1, q, 2, NULL), "qk_quantize");
  EXPECT_NULL_REJECTED(qk_dequantize(qp, NULL, 2, shape, 1, y), "qk_dequantize");
  EXPECT_NULL_REJECTED(qk_dequantize(qp, q, 2, shape, 1, NULL), "qk_dequantize");
  EXPECT_NULL_REJECTED(qk_fake_quantize(qp, NULL, shape, 1, y, NULL), "qk_fake_quantize");
  EXPECT_NULL_REJECTED(qk_fake_quantize(qp, x, shape, 1, NULL, NULL), "qk_fake_quantize");
  EXPECT_NULL_REJECTED(qk_fake_quantize_backward(qp, x, NULL, shape, 1, y), "qk_fake_quantize_backward");
  EXPECT_NULL_REJECTED(qk_fake_quantize_backward(qp, x, x, shape, 1, NULL), "qk_fake_quantize_backward");
  float gs, gz;
  const float zpf = 0;
  EXPECT_NULL_REJECTED(qk_fake_quantize_learnable_backward(x, x, shape, 1, -1, NULL, &zpf, 1, -128, 127, 1, y, &gs,
                                                           &gz), "qk_fake_quantize_learnable_backward");
  EXPECT_NULL_REJECTED(qk_fake_quantize_learnable_backward(x, x, shape, 1, -1, &scale, &zpf, 1, -128, 127, 1, y, NULL,
                                                           &gz), "qk_fake_quantize_learnable_backward");
  EXPECT_NULL_REJECTED(qk_cast(NULL, QK_DTYPE_F32, h, QK_DTYPE_F16, 2), "qk_cast");
  EXPECT_NULL_REJECTED(qk_cast(x, QK_DTYPE_F32, NULL, QK_DTYPE_F16, 2), "qk_cast");
  EXPECT_NULL_REJECTED(qk_error_stats(NULL, x, 2, NULL, NULL, NULL), "qk_error_stats");
  const float one = 1;
  const int64_t wshape[2] = {1, 2};
  EXPECT_NULL_REJECTED(qk_fold_batchnorm(QK_FOLD_LINEAR, NULL, wshape, 2, NULL, &one, &one, NULL, NULL, 1e-5f, 1, y,
                                         &gs), "qk_fold_batchnorm");
  EXPECT_NULL_REJECTED(qk_fold_batchnorm(QK_FOLD_LINEAR, x, wshape, 2, NULL, &one, &one, NULL, NULL, 1e-5f, 1, y,
                                         NULL), "qk_fold_batchnorm");
  assert_float_equal(y[0], 7, 0);
  assert_int_equal(q[0], 7);
  /* Zero-length calls are valid with NULL data. */
  assert_ok(qk_cast(NULL, QK_DTYPE_F32, NULL, QK_DTYPE_F16, 0));
  assert_ok(qk_error_stats(NULL, NULL, 0, NULL, NULL, NULL));
  qk_qparams_destroy(qp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sweep_spec_and_qparams),
      cmocka_unit_test(test_sweep_observers),
      cmocka_unit_test(test_sweep_tensor_functions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
