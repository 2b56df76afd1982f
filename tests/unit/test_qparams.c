/* SPDX-License-Identifier: Apache-2.0 */
/* Pins quant specs and qparams math: PyTorch 1.13 values (hand-checked cases; the exhaustive
 * comparison lives in tests/golden), the ONNX Runtime and TFLite conventions, per-channel,
 * per-group and float-zero-point schemes, and argument validation. */
#include <float.h>
#include <math.h>

#include "qk_test_util.h"

static qk_qparams* compute1(qk_quant_spec* spec, float lo, float hi) {
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_compute(spec, &lo, &hi, 1, &qp));
  return qp;
}

static void expect(qk_qparams* qp, float scale, int32_t zp) {
  float s = 0;
  int32_t z = -999;
  assert_ok(qk_qparams_get_scales(qp, &s, 1));
  assert_ok(qk_qparams_get_zero_points(qp, &z, 1));
  if (qk_test_f32_bits(s) != qk_test_f32_bits(scale)) fail_msg("scale %.9g != expected %.9g", s, scale);
  assert_int_equal(z, zp);
  qk_qparams_destroy(qp);
}

/* Proves the PyTorch cases from torch.ao.quantization 1.13 on the range {-1, 3}. */
static void test_qparams_pytorch_reference_cases(void** state) {
  (void)state;
  qk_quant_spec* s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  expect(compute1(s, -1, 3), 4.0f / 255.0f, 64);
  expect(compute1(s, 0, 0), FLT_EPSILON, 0); /* all-zero tensor: scale = eps */
  expect(compute1(s, 2, 5), 5.0f / 255.0f, 0); /* 0 always inside the range */
  expect(compute1(s, -5, -2), 5.0f / 255.0f, 255);
  assert_ok(qk_quant_spec_set_reduce_range(s, 1));
  expect(compute1(s, -1, 3), 4.0f / 127.0f, 32);
  qk_quant_spec_destroy(s);

  s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  expect(compute1(s, -1, 3), 3.0f / 127.5f, 128);
  assert_ok(qk_quant_spec_set_reduce_range(s, 1));
  qk_qparams* qp = NULL;
  float lo = -1, hi = 3;
  assert_status(qk_qparams_compute(s, &lo, &hi, 1, &qp), QK_ERR_UNSUPPORTED);
  assert_null(qp);
  qk_quant_spec_destroy(s);

  s = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  expect(compute1(s, -1, 3), 3.0f / 127.5f, 0);
  assert_ok(qk_quant_spec_set_eps(s, 1.0f / 4096.0f));
  expect(compute1(s, 0, 1e-6f), 1.0f / 4096.0f, 0);
  qk_quant_spec_destroy(s);

  /* Custom range: symmetric uint8 takes the down-rounded midpoint. */
  s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  assert_ok(qk_quant_spec_set_range(s, 0, 15));
  expect(compute1(s, -1, 3), 3.0f / 7.5f, 7);
  qk_quant_spec_destroy(s);
}

/* Proves the zero point rounds half to even (torch.round) and is clamped into the range. */
static void test_qparams_zero_point_rounding(void** state) {
  (void)state;
  qk_quant_spec* s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  /* scale = 255/255 = 1: zp = -round(min) */
  expect(compute1(s, -2.5f, 252.5f), 1.0f, 2);
  expect(compute1(s, -1.5f, 253.5f), 1.0f, 2);
  qk_quant_spec_destroy(s);
}

/* Proves effective ranges per convention: reduce_range and symmetric narrowing. */
static void test_effective_ranges(void** state) {
  (void)state;
  struct {
    qk_dtype dtype;
    qk_qscheme scheme;
    qk_convention conv;
    int reduce;
    int32_t lo, hi;
  } cases[] = {
      {QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, QK_CONVENTION_PYTORCH, 0, -128, 127},
      {QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, QK_CONVENTION_PYTORCH, 1, -64, 63},
      {QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, QK_CONVENTION_PYTORCH, 1, 0, 127},
      {QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC, QK_CONVENTION_PYTORCH, 0, -128, 127},
      {QK_DTYPE_S4, QK_QSCHEME_PER_GROUP_SYMMETRIC, QK_CONVENTION_PYTORCH, 0, -8, 7},
      {QK_DTYPE_U4, QK_QSCHEME_PER_TENSOR_AFFINE, QK_CONVENTION_PYTORCH, 0, 0, 15},
      {QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC, QK_CONVENTION_ONNXRUNTIME, 0, -127, 127},
      {QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_SYMMETRIC, QK_CONVENTION_ONNXRUNTIME, 0, 0, 254},
      {QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, QK_CONVENTION_ONNXRUNTIME, 1, -64, 64},
      {QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, QK_CONVENTION_ONNXRUNTIME, 1, 0, 127},
      {QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, QK_CONVENTION_TFLITE, 0, -127, 127},
      {QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, QK_CONVENTION_TFLITE, 0, -128, 127},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    qk_quant_spec* s = qk_test_spec(cases[i].dtype, cases[i].scheme);
    assert_ok(qk_quant_spec_set_convention(s, cases[i].conv));
    assert_ok(qk_quant_spec_set_reduce_range(s, cases[i].reduce));
    int32_t lo = 1, hi = -1;
    assert_ok(qk_quant_spec_get_effective_range(s, &lo, &hi));
    if (lo != cases[i].lo || hi != cases[i].hi)
      fail_msg("case %zu: range [%d, %d], expected [%d, %d]", i, lo, hi, cases[i].lo, cases[i].hi);
    qk_quant_spec_destroy(s);
  }
  /* TFLite has neither reduce_range nor unsigned symmetric. */
  qk_quant_spec* s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  assert_ok(qk_quant_spec_set_convention(s, QK_CONVENTION_TFLITE));
  int32_t lo, hi;
  assert_status(qk_quant_spec_get_effective_range(s, &lo, &hi), QK_ERR_UNSUPPORTED);
  qk_quant_spec_destroy(s);
}

/* Proves the ONNX Runtime convention: double scale, symmetric ranges, scale 1 for an empty range. */
static void test_qparams_onnxruntime(void** state) {
  (void)state;
  qk_quant_spec* s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  assert_ok(qk_quant_spec_set_convention(s, QK_CONVENTION_ONNXRUNTIME));
  expect(compute1(s, -1, 3), (float)(4.0 / 255.0), 64);
  expect(compute1(s, 0, 0), 1.0f, 0);
  qk_quant_spec_destroy(s);
  s = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  assert_ok(qk_quant_spec_set_convention(s, QK_CONVENTION_ONNXRUNTIME));
  expect(compute1(s, -1, 3), (float)(6.0 / 254.0), 0);
  qk_quant_spec_destroy(s);
  s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  assert_ok(qk_quant_spec_set_convention(s, QK_CONVENTION_ONNXRUNTIME));
  expect(compute1(s, -1, 3), (float)(6.0 / 254.0), 127); /* ORT: round((0+254)/2) */
  qk_quant_spec_destroy(s);
}

/* Proves the TFLite convention: amax/127 weights, zero point nudged half away from zero. */
static void test_qparams_tflite(void** state) {
  (void)state;
  qk_quant_spec* s = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  assert_ok(qk_quant_spec_set_convention(s, QK_CONVENTION_TFLITE));
  expect(compute1(s, -1, 3), 3.0f / 127.0f, 0);
  expect(compute1(s, 0, 0), 1.0f, 0);
  qk_quant_spec_destroy(s);
  s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  assert_ok(qk_quant_spec_set_convention(s, QK_CONVENTION_TFLITE));
  expect(compute1(s, -2.5f, 252.5f), 1.0f, 3); /* PyTorch gives 2 here (half to even) */
  qk_quant_spec_destroy(s);
  s = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE);
  assert_ok(qk_quant_spec_set_convention(s, QK_CONVENTION_TFLITE));
  expect(compute1(s, -1, 3), 4.0f / 255.0f, -64);
  qk_quant_spec_destroy(s);
}

/* Proves per-channel qparams: one scale per range, symmetric narrow range. */
static void test_qparams_per_channel(void** state) {
  (void)state;
  qk_quant_spec* s = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
  assert_ok(qk_quant_spec_set_range(s, -127, 127));
  const float lo[2] = {-1, 0.25f}, hi[2] = {2, 0.5f};
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_compute(s, lo, hi, 2, &qp));
  float scales[2];
  int32_t zps[2] = {9, 9};
  size_t count = 0;
  assert_ok(qk_qparams_get_count(qp, &count));
  assert_int_equal(count, 2);
  assert_status(qk_qparams_get_scales(qp, scales, 1), QK_ERR_BUFFER_TOO_SMALL);
  assert_ok(qk_qparams_get_scales(qp, scales, 2));
  assert_ok(qk_qparams_get_zero_points(qp, zps, 2));
  assert_int_equal(qk_test_f32_bits(scales[0]), qk_test_f32_bits(2.0f / 127.0f));
  assert_int_equal(qk_test_f32_bits(scales[1]), qk_test_f32_bits(0.5f / 127.0f));
  assert_int_equal(zps[0], 0);
  assert_int_equal(zps[1], 0);
  qk_qparams_destroy(qp);

  /* From a tensor: rows [[-1, 2], [0.5, 0.25]] along axis 0, and along axis -1 (columns). */
  const float w[4] = {-1, 2, 0.5f, 0.25f};
  const int64_t shape[2] = {2, 2};
  assert_ok(qk_qparams_from_tensor(s, w, shape, 2, &qp, NULL));
  assert_ok(qk_qparams_get_scales(qp, scales, 2));
  assert_int_equal(qk_test_f32_bits(scales[1]), qk_test_f32_bits(0.5f / 127.0f));
  qk_qparams_destroy(qp);
  assert_ok(qk_quant_spec_set_axis(s, -1));
  assert_ok(qk_qparams_from_tensor(s, w, shape, 2, &qp, NULL));
  assert_ok(qk_qparams_get_scales(qp, scales, 2));
  assert_int_equal(qk_test_f32_bits(scales[0]), qk_test_f32_bits(1.0f / 127.0f));
  assert_int_equal(qk_test_f32_bits(scales[1]), qk_test_f32_bits(2.0f / 127.0f));
  qk_qparams_destroy(qp);
  assert_ok(qk_quant_spec_set_axis(s, 2));
  qp = NULL;
  assert_status(qk_qparams_from_tensor(s, w, shape, 2, &qp, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("axis");
  assert_null(qp);
  qk_quant_spec_destroy(s);
}

/* Proves per-group qparams: ceil(dim/group) scales per row, laid out row-major. */
static void test_qparams_per_group(void** state) {
  (void)state;
  qk_quant_spec* s = qk_test_spec(QK_DTYPE_S4, QK_QSCHEME_PER_GROUP_SYMMETRIC);
  assert_ok(qk_quant_spec_set_axis(s, 1));
  assert_ok(qk_quant_spec_set_group_size(s, 2));
  /* 2 rows x 5 columns: groups of 2 -> 3 groups per row (the last has one element). */
  const float w[10] = {1, -3, 0.5f, 0.25f, 7.5f, -15, 2, 0, 0, 0};
  const int64_t shape[2] = {2, 5};
  qk_qparams* qp = NULL;
  uint64_t nonfinite = 99;
  assert_ok(qk_qparams_from_tensor(s, w, shape, 2, &qp, &nonfinite));
  assert_int_equal(nonfinite, 0);
  size_t count = 0;
  assert_ok(qk_qparams_get_count(qp, &count));
  assert_int_equal(count, 6);
  float scales[6];
  assert_ok(qk_qparams_get_scales(qp, scales, 6));
  const float expected[6] = {3 / 7.5f, 0.5f / 7.5f, 7.5f / 7.5f, 15 / 7.5f, FLT_EPSILON, FLT_EPSILON};
  for (int i = 0; i < 6; ++i) assert_int_equal(qk_test_f32_bits(scales[i]), qk_test_f32_bits(expected[i]));
  int64_t group = 0;
  assert_ok(qk_qparams_get_group_size(qp, &group));
  assert_int_equal(group, 2);
  qk_qparams_destroy(qp);
  assert_status(qk_quant_spec_set_group_size(s, 0), QK_ERR_INVALID_ARGUMENT);
  qk_quant_spec_destroy(s);
}

/* Proves float zero points (embedding style): zp = -min/scale kept as a float. */
static void test_qparams_float_zero_point(void** state) {
  (void)state;
  qk_quant_spec* s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE_FLOAT_QPARAMS);
  const float lo[1] = {-1}, hi[1] = {3};
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_compute(s, lo, hi, 1, &qp));
  float zp = 0;
  int32_t izp = 0;
  assert_ok(qk_qparams_get_float_zero_points(qp, &zp, 1));
  assert_ok(qk_qparams_get_zero_points(qp, &izp, 1));
  assert_int_equal(qk_test_f32_bits(zp), qk_test_f32_bits(1.0f / (4.0f / 255.0f)));
  assert_int_equal(izp, 64);
  qk_qparams_destroy(qp);
  qk_quant_spec_destroy(s);
  qk_quant_spec* bad = NULL;
  assert_status(qk_quant_spec_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_AFFINE_FLOAT_QPARAMS, &bad),
                QK_ERR_INVALID_ARGUMENT);
}

/* Zero points at the edge of int32 (issue 17 fuzzing: both were float -> int casts of values
 * outside int32, undefined behaviour that clang's UBSan reports). */
static void test_qparams_extreme_zero_points(void** state) {
  (void)state;
  /* TFLite, s32, a range ending at 0: the nudged zero point is qmax, which float(qmax) = 2^31
   * no longer bounds */
  qk_quant_spec* s = qk_test_spec(QK_DTYPE_S32, QK_QSCHEME_PER_TENSOR_AFFINE);
  assert_ok(qk_quant_spec_set_convention(s, QK_CONVENTION_TFLITE));
  qk_qparams* qp = NULL;
  float lo = -1.0f, hi = -0.5f;
  int32_t zp = 0;
  assert_ok(qk_qparams_compute(s, &lo, &hi, 1, &qp));
  assert_ok(qk_qparams_get_zero_points(qp, &zp, 1));
  assert_int_equal(zp, INT32_MAX);
  qk_qparams_destroy(qp);
  qk_quant_spec_destroy(s);
  /* float qparams with min == max == -1e30: scale 1, float zero point 1e30; the integer one
   * saturates (then clamps to the range) */
  s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE_FLOAT_QPARAMS);
  lo = hi = -1e30f;
  assert_ok(qk_qparams_compute(s, &lo, &hi, 1, &qp));
  float fzp = 0;
  assert_ok(qk_qparams_get_float_zero_points(qp, &fzp, 1));
  assert_ok(qk_qparams_get_zero_points(qp, &zp, 1));
  assert_true(fzp == 1e30f);
  assert_int_equal(zp, 255);
  qk_qparams_destroy(qp);
  qk_quant_spec_destroy(s);
}

/* Proves range/spec validation and that failures leave outputs untouched. */
static void test_qparams_validation(void** state) {
  (void)state;
  qk_quant_spec* s = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  assert_status(qk_quant_spec_set_range(s, 1, 10), QK_ERR_INVALID_ARGUMENT);   /* must contain 0 */
  assert_status(qk_quant_spec_set_range(s, 0, 256), QK_ERR_INVALID_ARGUMENT);  /* outside u8 */
  assert_status(qk_quant_spec_set_range(s, 0, 0), QK_ERR_INVALID_ARGUMENT);    /* empty */
  { /* a custom range that reduce_range empties, and reduce_range at INT32_MIN (issue 17 fuzzing) */
    qk_quant_spec* r = qk_test_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    int32_t a = 7, b = 7;
    assert_ok(qk_quant_spec_set_range(r, 0, 1));
    assert_ok(qk_quant_spec_set_reduce_range(r, 1));
    assert_status(qk_quant_spec_get_effective_range(r, &a, &b), QK_ERR_INVALID_ARGUMENT);
    assert_error_mentions("reduce_range");
    assert_true(a == 7 && b == 7);
    qk_observer* o = NULL;
    assert_status(qk_observer_create(QK_OBSERVER_MSE, r, &o), QK_ERR_INVALID_ARGUMENT);
    assert_null(o);
    qk_quant_spec_destroy(r);
    r = qk_test_spec(QK_DTYPE_S32, QK_QSCHEME_PER_TENSOR_AFFINE);
    assert_ok(qk_quant_spec_set_range(r, INT32_MIN, INT32_MAX));
    assert_ok(qk_quant_spec_set_reduce_range(r, 1));
    assert_ok(qk_quant_spec_get_effective_range(r, &a, &b));
    assert_int_equal(a, -1073741824); /* floor(INT32_MIN / 2), as Python's // */
    assert_int_equal(b, 1073741823);
    qk_quant_spec_destroy(r);
  }
  assert_status(qk_quant_spec_set_eps(s, 0.0f), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_quant_spec_set_eps(s, NAN), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_quant_spec_set_axis(s, 8), QK_ERR_INVALID_ARGUMENT);
  int32_t lo_r, hi_r;
  assert_ok(qk_quant_spec_get_effective_range(s, &lo_r, &hi_r));
  assert_int_equal(hi_r, 255); /* failed setters changed nothing */
  qk_qparams* qp = (qk_qparams*)0x1;
  float lo = 1, hi = 0;
  assert_status(qk_qparams_compute(s, &lo, &hi, 1, &qp), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("greater");
  lo = NAN;
  assert_status(qk_qparams_compute(s, &lo, &hi, 1, &qp), QK_ERR_INVALID_ARGUMENT);
  lo = -INFINITY;
  assert_status(qk_qparams_compute(s, &lo, &hi, 1, &qp), QK_ERR_INVALID_ARGUMENT);
  lo = -3e38f;
  hi = 3e38f; /* max - min overflows float: no finite scale exists */
  assert_status(qk_qparams_compute(s, &lo, &hi, 1, &qp), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("too wide");
  lo = 0;
  hi = 0;
  assert_status(qk_qparams_compute(s, &lo, &hi, 0, &qp), QK_ERR_INVALID_ARGUMENT);
  const float two[2] = {0, 0};
  assert_status(qk_qparams_compute(s, two, two, 2, &qp), QK_ERR_INVALID_ARGUMENT);
  assert_ptr_equal(qp, (qk_qparams*)0x1);
  /* from_tensor: empty tensors and all-NaN tensors have no range. */
  const float nans[3] = {NAN, INFINITY, NAN};
  const int64_t shape3[1] = {3}, shape0[1] = {0};
  assert_status(qk_qparams_from_tensor(s, nans, shape3, 1, &qp, NULL), QK_ERR_STATE);
  assert_status(qk_qparams_from_tensor(s, nans, shape0, 1, &qp, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_ptr_equal(qp, (qk_qparams*)0x1);
  qk_quant_spec_destroy(s);

  /* qk_qparams_create validates scales, zero points and ranges. */
  const float good_scale = 0.5f, zero_scale = 0.0f, nan_scale = NAN;
  const int32_t zp0 = 0, zp300 = 300;
  qp = NULL;
  assert_status(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &zero_scale, &zp0, NULL, 1, 0,
                                  255, &qp), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &nan_scale, &zp0, NULL, 1, 0,
                                  255, &qp), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &good_scale, &zp300, NULL, 1, 0,
                                  255, &qp), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &good_scale, &zp0, NULL, 1, 0,
                                  256, &qp), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &good_scale, NULL, NULL, 1, 0,
                                  255, &qp), QK_ERR_INVALID_ARGUMENT);
  const float denormal_scale = 1e-40f; /* its reciprocal overflows: quantize could not use it */
  assert_status(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &denormal_scale, &zp0, NULL, 1,
                                  0, 255, &qp), QK_ERR_INVALID_ARGUMENT);
  assert_null(qp);
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &good_scale, &zp0, NULL, 1, 0, 255,
                              &qp));
  qk_qscheme scheme;
  assert_ok(qk_qparams_get_scheme(qp, &scheme));
  assert_int_equal(scheme, QK_QSCHEME_PER_TENSOR_AFFINE);
  qk_qparams_destroy(qp);
}

/* Proves clone is deep: changing the clone leaves the original alone. */
static void test_spec_clone(void** state) {
  (void)state;
  qk_quant_spec* a = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_AFFINE);
  qk_quant_spec* b = NULL;
  assert_ok(qk_quant_spec_clone(a, &b));
  assert_ok(qk_quant_spec_set_axis(b, 3));
  int32_t axis_a = -1, axis_b = -1;
  assert_ok(qk_quant_spec_get_axis(a, &axis_a));
  assert_ok(qk_quant_spec_get_axis(b, &axis_b));
  assert_int_equal(axis_a, 0);
  assert_int_equal(axis_b, 3);
  qk_quant_spec_destroy(a);
  qk_quant_spec_destroy(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_qparams_pytorch_reference_cases),
      cmocka_unit_test(test_qparams_zero_point_rounding),
      cmocka_unit_test(test_effective_ranges),
      cmocka_unit_test(test_qparams_onnxruntime),
      cmocka_unit_test(test_qparams_tflite),
      cmocka_unit_test(test_qparams_per_channel),
      cmocka_unit_test(test_qparams_per_group),
      cmocka_unit_test(test_qparams_float_zero_point),
      cmocka_unit_test(test_qparams_validation),
      cmocka_unit_test(test_qparams_extreme_zero_points),
      cmocka_unit_test(test_spec_clone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
