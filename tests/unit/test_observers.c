/* SPDX-License-Identifier: Apache-2.0 */
/* Pins the min/max observer family: running and moving-average statistics, channel axes,
 * non-finite skipping, options, exact merge, serialization round trips and corrupt-state
 * rejection. (Histogram kinds: test_histogram_observers.c.) */
#include <math.h>
#include <stdlib.h>

#include "qk_test_util.h"

static qk_observer* make_observer(qk_observer_kind kind, qk_dtype dtype, qk_qscheme scheme, int32_t axis) {
  qk_quant_spec* spec = qk_test_spec(dtype, scheme);
  assert_ok(qk_quant_spec_set_axis(spec, axis));
  qk_observer* obs = NULL;
  assert_ok(qk_observer_create(kind, spec, &obs));
  qk_quant_spec_destroy(spec); /* the observer keeps its own copy */
  return obs;
}

static void update1(qk_observer* obs, const float* x, int64_t n) {
  const int64_t shape[1] = {n};
  assert_ok(qk_observer_update(obs, x, shape, 1));
}

static void range1(const qk_observer* obs, float* lo, float* hi) { assert_ok(qk_observer_get_range(obs, lo, hi, 1)); }

/* Proves MinMax keeps the running extremes over batches and skips non-finite values. */
static void test_minmax_running_extremes(void** state) {
  (void)state;
  qk_observer* obs = make_observer(QK_OBSERVER_MINMAX, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0);
  const float a[4] = {0.5f, -1.0f, NAN, 2.0f};
  const float b[3] = {INFINITY, 3.0f, -0.25f};
  update1(obs, a, 4);
  update1(obs, b, 3);
  float lo, hi;
  range1(obs, &lo, &hi);
  assert_float_equal(lo, -1.0f, 0);
  assert_float_equal(hi, 3.0f, 0);
  uint64_t skipped = 0;
  assert_ok(qk_observer_get_nonfinite_count(obs, &skipped));
  assert_int_equal(skipped, 2);
  qk_qparams* qp = NULL;
  assert_ok(qk_observer_compute_qparams(obs, &qp));
  float scale;
  int32_t zp;
  assert_ok(qk_qparams_get_scales(qp, &scale, 1));
  assert_ok(qk_qparams_get_zero_points(qp, &zp, 1));
  assert_int_equal(qk_test_f32_bits(scale), qk_test_f32_bits(4.0f / 255.0f));
  assert_int_equal(zp, 64);
  qk_qparams_destroy(qp);
  qk_observer_destroy(obs);
}

/* Proves an observer that saw nothing finite refuses to produce qparams (QK_ERR_STATE). */
static void test_observer_without_data_is_state_error(void** state) {
  (void)state;
  qk_observer* obs = make_observer(QK_OBSERVER_MINMAX, QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC, 0);
  qk_qparams* qp = NULL;
  assert_status(qk_observer_compute_qparams(obs, &qp), QK_ERR_STATE);
  const float nans[2] = {NAN, -INFINITY};
  update1(obs, nans, 2);
  assert_status(qk_observer_compute_qparams(obs, &qp), QK_ERR_STATE);
  assert_null(qp);
  const int64_t empty[1] = {0};
  assert_ok(qk_observer_update(obs, NULL, empty, 1)); /* empty batch: no-op */
  qk_observer_destroy(obs);
}

/* Proves the moving average: first batch sets the range, later ones move it by c * delta (float32). */
static void test_moving_average(void** state) {
  (void)state;
  qk_observer* obs = make_observer(QK_OBSERVER_MOVING_AVERAGE_MINMAX, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0);
  double c = 0;
  assert_ok(qk_observer_get_param(obs, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, &c));
  assert_float_equal(c, 0.01, 0);
  assert_ok(qk_observer_set_param(obs, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, 0.5));
  const float a[2] = {-2, 2}, b[2] = {-4, 6};
  update1(obs, a, 2);
  update1(obs, b, 2);
  float lo, hi;
  range1(obs, &lo, &hi);
  assert_float_equal(lo, -3.0f, 0);
  assert_float_equal(hi, 4.0f, 0);
  /* Options are frozen once data was seen. */
  assert_status(qk_observer_set_param(obs, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, 0.1), QK_ERR_STATE);
  assert_ok(qk_observer_reset(obs));
  assert_ok(qk_observer_set_param(obs, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, 0.1));
  assert_status(qk_observer_set_param(obs, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, 0.0), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_observer_set_param(obs, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, NAN), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 2048), QK_ERR_INVALID_ARGUMENT);
  qk_observer_destroy(obs);
}

/* Proves per-channel statistics along a middle axis and a negative axis. */
static void test_per_channel_axis(void** state) {
  (void)state;
  /* shape [2, 3, 2]; channel axis 1 (== -2) */
  float x[12];
  for (int i = 0; i < 12; ++i) x[i] = (float)(i - 5);
  const int64_t shape[3] = {2, 3, 2};
  for (int variant = 0; variant < 2; ++variant) {
    qk_observer* obs = make_observer(QK_OBSERVER_PER_CHANNEL_MINMAX, QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC,
                                     variant == 0 ? 1 : -2);
    assert_ok(qk_observer_update(obs, x, shape, 3));
    size_t channels = 0;
    assert_ok(qk_observer_get_channel_count(obs, &channels));
    assert_int_equal(channels, 3);
    float lo[3], hi[3];
    assert_status(qk_observer_get_range(obs, lo, hi, 2), QK_ERR_BUFFER_TOO_SMALL);
    assert_ok(qk_observer_get_range(obs, lo, hi, 3));
    /* channel c holds elements (o, c, k) = 6o + 2c + k - 5 */
    for (int c = 0; c < 3; ++c) {
      assert_float_equal(lo[c], (float)(2 * c - 5), 0);
      assert_float_equal(hi[c], (float)(6 + 2 * c + 1 - 5), 0);
    }
    /* A batch with another channel count is rejected and changes nothing. */
    const int64_t other[3] = {2, 2, 3};
    assert_status(qk_observer_update(obs, x, other, 3), QK_ERR_INVALID_ARGUMENT);
    assert_error_mentions("channels");
    float lo2[3], hi2[3];
    assert_ok(qk_observer_get_range(obs, lo2, hi2, 3));
    assert_memory_equal(lo, lo2, sizeof lo);
    const int64_t bad_axis[1] = {12};
    assert_status(qk_observer_update(obs, x, bad_axis, 1), QK_ERR_INVALID_ARGUMENT); /* axis 1 of a rank-1 batch */
    qk_observer_destroy(obs);
  }
}

/* Proves kinds and schemes must match (per-channel kind needs a per-channel scheme). */
static void test_kind_scheme_mismatch(void** state) {
  (void)state;
  qk_quant_spec* per_tensor = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  qk_quant_spec* per_channel = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
  qk_observer* obs = NULL;
  assert_status(qk_observer_create(QK_OBSERVER_PER_CHANNEL_MINMAX, per_tensor, &obs), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_observer_create(QK_OBSERVER_MINMAX, per_channel, &obs), QK_ERR_INVALID_ARGUMENT);
  assert_null(obs);
  qk_quant_spec_destroy(per_tensor);
  qk_quant_spec_destroy(per_channel);
}

/* Proves merge is exact for min/max: two halves merged == the whole observed at once. */
static void test_merge_equals_observe_all(void** state) {
  (void)state;
  qk_test_rng rng = {1234};
  enum { C = 4, N = 64 };
  float x[N * C];
  for (int i = 0; i < N * C; ++i) x[i] = qk_test_uniform(&rng, -10, 10);
  const int64_t whole_shape[2] = {N, C}, half_shape[2] = {N / 2, C};
  qk_observer* whole = make_observer(QK_OBSERVER_PER_CHANNEL_MINMAX, QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE, 1);
  qk_observer* a = make_observer(QK_OBSERVER_PER_CHANNEL_MINMAX, QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE, 1);
  qk_observer* b = make_observer(QK_OBSERVER_PER_CHANNEL_MINMAX, QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE, 1);
  qk_observer* empty = make_observer(QK_OBSERVER_PER_CHANNEL_MINMAX, QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE, 1);
  assert_ok(qk_observer_update(whole, x, whole_shape, 2));
  assert_ok(qk_observer_update(a, x, half_shape, 2));
  assert_ok(qk_observer_update(b, x + N / 2 * C, half_shape, 2));
  assert_ok(qk_observer_merge(a, b));
  assert_ok(qk_observer_merge(empty, a)); /* merge into an empty observer copies */
  float lo_w[C], hi_w[C], lo_m[C], hi_m[C], lo_e[C], hi_e[C];
  assert_ok(qk_observer_get_range(whole, lo_w, hi_w, C));
  assert_ok(qk_observer_get_range(a, lo_m, hi_m, C));
  assert_ok(qk_observer_get_range(empty, lo_e, hi_e, C));
  assert_memory_equal(lo_w, lo_m, sizeof lo_w);
  assert_memory_equal(hi_w, hi_m, sizeof hi_w);
  assert_memory_equal(lo_w, lo_e, sizeof lo_w);
  assert_status(qk_observer_merge(a, a), QK_ERR_INVALID_ARGUMENT); /* self-merge is refused */
  qk_observer_destroy(whole);
  qk_observer_destroy(a);
  qk_observer_destroy(b);
  qk_observer_destroy(empty);
}

/* Proves merge refuses other kinds, specs or options and leaves dst unchanged. */
static void test_merge_incompatible(void** state) {
  (void)state;
  qk_observer* a = make_observer(QK_OBSERVER_MINMAX, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0);
  qk_observer* other_kind = make_observer(QK_OBSERVER_MOVING_AVERAGE_MINMAX, QK_DTYPE_U8,
                                          QK_QSCHEME_PER_TENSOR_AFFINE, 0);
  qk_observer* other_spec = make_observer(QK_OBSERVER_MINMAX, QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, 0);
  const float x[2] = {-1, 1}, y[2] = {-50, 50};
  update1(a, x, 2);
  update1(other_kind, y, 2);
  update1(other_spec, y, 2);
  assert_status(qk_observer_merge(a, other_kind), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_observer_merge(a, other_spec), QK_ERR_INVALID_ARGUMENT);
  float lo, hi;
  range1(a, &lo, &hi);
  assert_float_equal(lo, -1, 0);
  assert_float_equal(hi, 1, 0);
  qk_observer* m1 = make_observer(QK_OBSERVER_MOVING_AVERAGE_MINMAX, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0);
  assert_ok(qk_observer_set_param(m1, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, 0.2));
  assert_status(qk_observer_merge(m1, other_kind), QK_ERR_INVALID_ARGUMENT); /* different constant */
  qk_observer_destroy(a);
  qk_observer_destroy(other_kind);
  qk_observer_destroy(other_spec);
  qk_observer_destroy(m1);
}

static unsigned char* save(const qk_observer* obs, size_t* size) {
  assert_ok(qk_observer_save(obs, NULL, 0, size));
  unsigned char* buf = malloc(*size);
  size_t size2 = 0;
  assert_status(qk_observer_save(obs, buf, *size - 1, &size2), QK_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(size2, *size);
  assert_ok(qk_observer_save(obs, buf, *size, &size2));
  return buf;
}

/* Proves save/load round-trips state, options and spec (same qparams, same bytes on re-save). */
static void test_save_load_roundtrip(void** state) {
  (void)state;
  const qk_observer_kind kinds[4] = {QK_OBSERVER_MINMAX, QK_OBSERVER_MOVING_AVERAGE_MINMAX,
                                     QK_OBSERVER_PER_CHANNEL_MINMAX, QK_OBSERVER_MOVING_AVERAGE_PER_CHANNEL_MINMAX};
  float x[24];
  qk_test_rng rng = {5};
  for (int i = 0; i < 24; ++i) x[i] = qk_test_uniform(&rng, -3, 7);
  const int64_t shape[2] = {4, 6};
  for (int k = 0; k < 4; ++k) {
    const int per_channel = kinds[k] == QK_OBSERVER_PER_CHANNEL_MINMAX ||
                            kinds[k] == QK_OBSERVER_MOVING_AVERAGE_PER_CHANNEL_MINMAX;
    qk_observer* obs = make_observer(kinds[k], QK_DTYPE_S8,
                                     per_channel ? QK_QSCHEME_PER_CHANNEL_AFFINE : QK_QSCHEME_PER_TENSOR_AFFINE, 1);
    if (kinds[k] == QK_OBSERVER_MOVING_AVERAGE_MINMAX)
      assert_ok(qk_observer_set_param(obs, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, 0.25));
    assert_ok(qk_observer_update(obs, x, shape, 2));
    const int64_t second[2] = {2, 6}; /* a second batch, so the moving averages move */
    assert_ok(qk_observer_update(obs, x + 6, second, 2));
    size_t size;
    unsigned char* buf = save(obs, &size);
    qk_observer* loaded = NULL;
    assert_ok(qk_observer_load(buf, size, &loaded));
    size_t size2;
    unsigned char* buf2 = save(loaded, &size2);
    assert_int_equal(size, size2);
    assert_memory_equal(buf, buf2, size);
    qk_observer_kind kind;
    assert_ok(qk_observer_get_kind(loaded, &kind));
    assert_int_equal(kind, kinds[k]);
    qk_qparams *qa = NULL, *qb = NULL;
    assert_ok(qk_observer_compute_qparams(obs, &qa));
    assert_ok(qk_observer_compute_qparams(loaded, &qb));
    float sa[6], sb[6];
    assert_ok(qk_qparams_get_scales(qa, sa, 6));
    assert_ok(qk_qparams_get_scales(qb, sb, 6));
    size_t n;
    assert_ok(qk_qparams_get_count(qa, &n));
    assert_memory_equal(sa, sb, n * sizeof(float));
    qk_qparams_destroy(qa);
    qk_qparams_destroy(qb);
    free(buf);
    free(buf2);
    qk_observer_destroy(obs);
    qk_observer_destroy(loaded);
  }
}

/* Proves garbage, truncation and every single-bit flip of a saved state are rejected as
 * QK_ERR_CORRUPT (the checksum covers every byte) and never crash. */
static void test_load_rejects_corruption(void** state) {
  (void)state;
  qk_observer* obs = make_observer(QK_OBSERVER_PER_CHANNEL_MINMAX, QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE, 0);
  const float x[6] = {1, 2, 3, 4, 5, 6};
  const int64_t shape[2] = {3, 2};
  assert_ok(qk_observer_update(obs, x, shape, 2));
  size_t size;
  unsigned char* buf = save(obs, &size);
  qk_observer* loaded = (qk_observer*)0x1;
  for (size_t cut = 0; cut < size; ++cut) assert_status(qk_observer_load(buf, cut, &loaded), QK_ERR_CORRUPT);
  for (size_t bit = 0; bit < size * 8; ++bit) {
    buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    assert_status(qk_observer_load(buf, size, &loaded), QK_ERR_CORRUPT);
    buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
  }
  const char garbage[] = "this is not an observer state, just text that is long enough";
  assert_status(qk_observer_load(garbage, sizeof garbage, &loaded), QK_ERR_CORRUPT);
  assert_error_mentions("magic");
  assert_ptr_equal(loaded, (qk_observer*)0x1);
  assert_status(qk_observer_load(NULL, 10, &loaded), QK_ERR_INVALID_ARGUMENT);
  free(buf);
  qk_observer_destroy(obs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_minmax_running_extremes),  cmocka_unit_test(test_observer_without_data_is_state_error),
      cmocka_unit_test(test_moving_average),           cmocka_unit_test(test_per_channel_axis),
      cmocka_unit_test(test_kind_scheme_mismatch),     cmocka_unit_test(test_merge_equals_observe_all),
      cmocka_unit_test(test_merge_incompatible),       cmocka_unit_test(test_save_load_roundtrip),
      cmocka_unit_test(test_load_rejects_corruption),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
