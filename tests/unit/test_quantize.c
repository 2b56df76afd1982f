/* SPDX-License-Identifier: Apache-2.0 */
/* Pins quantize / dequantize / cast semantics: round half to even by multiplying with the float
 * reciprocal, NaN -> zero point (counted), Inf saturates, per-channel and per-group layouts, 4-bit
 * packing, int32, the dequant error bound, and untouched outputs on error. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "qk_test_util.h"

static qk_qparams* per_tensor(qk_dtype dtype, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_create(dtype, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &scale, &zp, NULL, 1, qmin, qmax, &qp));
  return qp;
}

/* Proves ties round to even, as torch.quantize_per_tensor(x, 1.0, 0, qint8) does. */
static void test_quantize_round_half_even(void** state) {
  (void)state;
  qk_qparams* qp = per_tensor(QK_DTYPE_S8, 1.0f, 0, -128, 127);
  const float x[6] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 3.5f};
  const int64_t shape[1] = {6};
  int8_t q[6];
  assert_ok(qk_quantize(qp, x, shape, 1, q, sizeof q, NULL));
  const int8_t expected[6] = {0, 2, 2, 0, -2, 4};
  assert_memory_equal(q, expected, 6);
  qk_qparams_destroy(qp);
}

/* Proves the multiply-by-reciprocal rule: x * (1/scale) can round differently from x / scale,
 * and QuantKit follows PyTorch (the reciprocal). */
static void test_quantize_uses_float_reciprocal(void** state) {
  (void)state;
  /* Search a case where the two formulas disagree, then check which one we implement. */
  qk_test_rng rng = {42};
  int found = 0;
  for (int attempt = 0; attempt < 200000 && !found; ++attempt) {
    const float scale = qk_test_uniform(&rng, 0.001f, 1.0f);
    const float k = (float)(int)qk_test_uniform(&rng, -100, 100);
    const float x = (k + 0.5f) * scale; /* near a tie */
    const float inv = 1.0f / scale;
    const float by_mul = nearbyintf(x * inv), by_div = nearbyintf(x / scale);
    if (by_mul == by_div || fabsf(by_mul) > 120) continue;
    found = 1;
    qk_qparams* qp = per_tensor(QK_DTYPE_S8, scale, 0, -128, 127);
    const int64_t shape[1] = {1};
    int8_t q;
    assert_ok(qk_quantize(qp, &x, shape, 1, &q, 1, NULL));
    assert_int_equal(q, (int8_t)by_mul);
    qk_qparams_destroy(qp);
  }
  assert_true(found);
}

/* Proves NaN maps to the zero point and is counted, and +-Inf / huge values saturate. */
static void test_quantize_nan_inf(void** state) {
  (void)state;
  qk_qparams* qp = per_tensor(QK_DTYPE_U8, 0.1f, 10, 0, 255);
  const float x[7] = {NAN, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 1e30f, -NAN};
  const int64_t shape[1] = {7};
  uint8_t q[7];
  uint64_t nans = 0;
  assert_ok(qk_quantize(qp, x, shape, 1, q, sizeof q, &nans));
  const uint8_t expected[7] = {10, 255, 0, 255, 0, 255, 10};
  assert_memory_equal(q, expected, 7);
  assert_int_equal(nans, 2);
  qk_qparams_destroy(qp);
}

/* Proves custom quant ranges clamp (not the dtype range). */
static void test_quantize_custom_range_clamps(void** state) {
  (void)state;
  qk_qparams* qp = per_tensor(QK_DTYPE_S8, 1.0f, 0, -127, 127);
  const float x[3] = {-200, -127.4f, 127.6f};
  const int64_t shape[1] = {3};
  int8_t q[3];
  assert_ok(qk_quantize(qp, x, shape, 1, q, sizeof q, NULL));
  assert_int_equal(q[0], -127);
  assert_int_equal(q[1], -127);
  assert_int_equal(q[2], 127);
  qk_qparams_destroy(qp);
}

/* Proves dequant(quant(x)) is within scale/2 of x for x inside the representable range, for
 * every integer dtype, per tensor. */
static void test_quantize_roundtrip_error_bound(void** state) {
  (void)state;
  const qk_dtype dtypes[4] = {QK_DTYPE_U8, QK_DTYPE_S8, QK_DTYPE_U4, QK_DTYPE_S4};
  qk_test_rng rng = {7};
  enum { N = 1001 };
  float* x = malloc(N * sizeof(float));
  float* y = malloc(N * sizeof(float));
  uint8_t* q = malloc(N);
  for (int d = 0; d < 4; ++d) {
    qk_quant_spec* spec = qk_test_spec(dtypes[d], QK_QSCHEME_PER_TENSOR_AFFINE);
    for (int i = 0; i < N; ++i) x[i] = qk_test_uniform(&rng, -3.0f, 5.0f);
    const int64_t shape[1] = {N};
    qk_qparams* qp = NULL;
    assert_ok(qk_qparams_from_tensor(spec, x, shape, 1, &qp, NULL));
    float scale;
    assert_ok(qk_qparams_get_scales(qp, &scale, 1));
    size_t bytes;
    assert_ok(qk_dtype_storage_size(dtypes[d], N, &bytes));
    assert_ok(qk_quantize(qp, x, shape, 1, q, bytes, NULL));
    assert_ok(qk_dequantize(qp, q, bytes, shape, 1, y));
    for (int i = 0; i < N; ++i)
      if (fabsf(x[i] - y[i]) > scale * 0.5f * (1.0f + 1e-5f))
        fail_msg("dtype %s: |%g - %g| > scale/2 = %g", qk_dtype_name(dtypes[d]), x[i], y[i], scale / 2);
    qk_qparams_destroy(qp);
    qk_quant_spec_destroy(spec);
  }
  free(x);
  free(y);
  free(q);
}

/* Proves per-channel quantization uses each channel's scale/zero point along the chosen axis. */
static void test_quantize_per_channel_axis(void** state) {
  (void)state;
  const float scales[3] = {1.0f, 0.5f, 0.25f};
  const int32_t zps[3] = {0, 10, -10};
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_AFFINE, 1, 0, scales, zps, NULL, 3, -128, 127, &qp));
  /* shape [2, 3]: channel = column */
  const float x[6] = {1, 1, 1, 2, 2, 2};
  const int64_t shape[2] = {2, 3};
  int8_t q[6];
  assert_ok(qk_quantize(qp, x, shape, 2, q, sizeof q, NULL));
  const int8_t expected[6] = {1, 12, -6, 2, 14, -2};
  assert_memory_equal(q, expected, 6);
  float y[6];
  assert_ok(qk_dequantize(qp, q, sizeof q, shape, 2, y));
  for (int i = 0; i < 6; ++i) assert_float_equal(y[i], x[i], 0);
  /* A shape whose axis does not have 3 channels is rejected, leaving q untouched. */
  const int64_t wrong[2] = {3, 2};
  int8_t before[6];
  memcpy(before, q, 6);
  assert_status(qk_quantize(qp, x, wrong, 2, q, sizeof q, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("scales");
  assert_memory_equal(q, before, 6);
  qk_qparams_destroy(qp);
}

/* Proves 4-bit packing: two codes per byte, element 2i in the low nibble, odd tail. */
static void test_quantize_nibble_packing(void** state) {
  (void)state;
  qk_qparams* qp = per_tensor(QK_DTYPE_S4, 1.0f, 0, -8, 7);
  const float x[5] = {1, -1, 7, -8, 3};
  const int64_t shape[1] = {5};
  uint8_t q[3] = {0xAA, 0xAA, 0xAA};
  assert_ok(qk_quantize(qp, x, shape, 1, q, 3, NULL));
  assert_int_equal(q[0], 0xF1); /* -1 -> 0xF high, 1 low */
  assert_int_equal(q[1], 0x87); /* -8 high, 7 low */
  assert_int_equal(q[2], 0x03);
  float y[5];
  assert_ok(qk_dequantize(qp, q, 3, shape, 1, y));
  for (int i = 0; i < 5; ++i) assert_float_equal(y[i], x[i], 0);
  uint8_t small[2];
  assert_status(qk_quantize(qp, x, shape, 1, small, 2, NULL), QK_ERR_BUFFER_TOO_SMALL);
  qk_qparams_destroy(qp);

  qp = per_tensor(QK_DTYPE_U4, 0.5f, 8, 0, 15);
  uint8_t u[1];
  const float ux[2] = {-4, 3.5f};
  const int64_t ushape[1] = {2};
  assert_ok(qk_quantize(qp, ux, ushape, 1, u, 1, NULL));
  assert_int_equal(u[0], 0xF0); /* -4/0.5+8 = 0 low, 3.5/0.5+8 = 15 high */
  qk_qparams_destroy(qp);
}

/* Proves per-group quantization with groups along the last axis and along a middle axis. */
static void test_quantize_per_group(void** state) {
  (void)state;
  qk_quant_spec* spec = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_GROUP_SYMMETRIC);
  assert_ok(qk_quant_spec_set_group_size(spec, 2));
  qk_test_rng rng = {99};
  float x[2 * 4 * 3];
  for (int i = 0; i < 24; ++i) x[i] = qk_test_uniform(&rng, -4, 4);
  const int axes[2] = {2, 1};
  const int64_t shape[3] = {2, 4, 3};
  for (int a = 0; a < 2; ++a) {
    assert_ok(qk_quant_spec_set_axis(spec, axes[a]));
    qk_qparams* qp = NULL;
    assert_ok(qk_qparams_from_tensor(spec, x, shape, 3, &qp, NULL));
    size_t count;
    assert_ok(qk_qparams_get_count(qp, &count));
    assert_int_equal(count, a == 0 ? 2 * 4 * 2 : 2 * 2 * 3);
    float scales[16];
    assert_ok(qk_qparams_get_scales(qp, scales, 16));
    int8_t q[24];
    float y[24];
    assert_ok(qk_quantize(qp, x, shape, 3, q, 24, NULL));
    assert_ok(qk_dequantize(qp, q, 24, shape, 3, y));
    for (int i = 0; i < 24; ++i) {
      /* element (o, c, k): its scale index follows the documented layout */
      const int o = i / 12, c = (i / 3) % 4, k = i % 3;
      const int idx = a == 0 ? (o * 4 + c) * 2 + k / 2 : (o * 2 + c / 2) * 3 + k;
      const float expect_q = fminf(fmaxf(nearbyintf(x[i] * (1.0f / scales[idx])), -128), 127);
      assert_int_equal(q[i], (int8_t)expect_q);
      assert_true(fabsf(y[i] - x[i]) <= scales[idx] * 0.5f * 1.0001f);
    }
    qk_qparams_destroy(qp);
  }
  qk_quant_spec_destroy(spec);
}

/* Proves int32 quantization is exact over the full range (bias-style). */
static void test_quantize_s32(void** state) {
  (void)state;
  qk_qparams* qp = per_tensor(QK_DTYPE_S32, 0.5f, 0, INT32_MIN, INT32_MAX);
  const float x[4] = {1e9f, -1e9f, 1e10f, 2.25f};
  const int64_t shape[1] = {4};
  int32_t q[4];
  assert_ok(qk_quantize(qp, x, shape, 1, q, sizeof q, NULL));
  assert_int_equal(q[0], 2000000000);
  assert_int_equal(q[1], -2000000000);
  assert_int_equal(q[2], INT32_MAX);
  assert_int_equal(q[3], 4); /* 4.5 ties to even */
  float y[4];
  assert_ok(qk_dequantize(qp, q, sizeof q, shape, 1, y));
  assert_float_equal(y[0], 1e9f, 0);
  qk_qparams_destroy(qp);
}

/* Proves float-zero-point quantization: lrintf(x/scale + zp) as PyTorch's embedding path. */
static void test_quantize_float_zero_point(void** state) {
  (void)state;
  const float scale = 0.5f, zp = 3.25f;
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE_FLOAT_QPARAMS, 0, 0, &scale, NULL, &zp, 1, 0,
                              255, &qp));
  const float x[3] = {0, 1, -10};
  const int64_t shape[2] = {1, 3};
  uint8_t q[3];
  assert_ok(qk_quantize(qp, x, shape, 2, q, 3, NULL));
  assert_int_equal(q[0], 3); /* 3.25 -> 3 */
  assert_int_equal(q[1], 5); /* 5.25 -> 5 */
  assert_int_equal(q[2], 0); /* clamped */
  float y[3];
  assert_ok(qk_dequantize(qp, q, 3, shape, 2, y));
  assert_float_equal(y[0], (3 - 3.25f) * 0.5f, 0);
  qk_qparams_destroy(qp);
}

/* Proves empty tensors are valid no-ops and bad buffers are rejected before anything is written. */
static void test_quantize_argument_checks(void** state) {
  (void)state;
  qk_qparams* qp = per_tensor(QK_DTYPE_U8, 1.0f, 0, 0, 255);
  const int64_t empty[2] = {3, 0};
  assert_ok(qk_quantize(qp, NULL, empty, 2, NULL, 0, NULL));
  assert_ok(qk_dequantize(qp, NULL, 0, empty, 2, NULL));
  const float x[4] = {1, 2, 3, 4};
  const int64_t shape[1] = {4};
  uint8_t q[4] = {9, 9, 9, 9};
  assert_status(qk_quantize(qp, x, shape, 1, q, 3, NULL), QK_ERR_BUFFER_TOO_SMALL);
  assert_status(qk_quantize(qp, NULL, shape, 1, q, 4, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_quantize(qp, x, shape, 1, NULL, 4, NULL), QK_ERR_INVALID_ARGUMENT);
  const int64_t negative[1] = {-4};
  assert_status(qk_quantize(qp, x, negative, 1, q, 4, NULL), QK_ERR_INVALID_ARGUMENT);
  const uint8_t nine[4] = {9, 9, 9, 9};
  assert_memory_equal(q, nine, 4);
  float y[4] = {7, 7, 7, 7};
  assert_status(qk_dequantize(qp, q, 3, shape, 1, y), QK_ERR_INVALID_ARGUMENT);
  assert_float_equal(y[0], 7, 0);
  qk_qparams_destroy(qp);
}

/* Proves f16/bf16 casts: round to nearest even, subnormals, overflow to Inf, NaN stays NaN. */
static void test_cast_half_and_bfloat(void** state) {
  (void)state;
  const float x[8] = {1.0f, 65504.0f, 65520.0f, 5.960464477539063e-08f, 2.980232238769531e-08f,
                      1.0009765625f + 0.00048828125f, -0.0f, NAN};
  uint16_t h[8];
  assert_ok(qk_cast(x, QK_DTYPE_F32, h, QK_DTYPE_F16, 8));
  const uint16_t expected_h[7] = {0x3C00, 0x7BFF, 0x7C00, 0x0001, 0x0000, 0x3C02, 0x8000};
  assert_memory_equal(h, expected_h, sizeof expected_h);
  assert_true((h[7] & 0x7C00) == 0x7C00 && (h[7] & 0x03FF) != 0);
  float back[8];
  assert_ok(qk_cast(h, QK_DTYPE_F16, back, QK_DTYPE_F32, 8));
  assert_float_equal(back[1], 65504.0f, 0);
  assert_float_equal(back[3], 5.960464477539063e-08f, 0);
  assert_true(isinf(back[2]) && isnan(back[7]));

  const float b[4] = {1.00390625f, 1.01171875f, -3.0e38f, INFINITY};
  uint16_t bf[4];
  assert_ok(qk_cast(b, QK_DTYPE_F32, bf, QK_DTYPE_BF16, 4));
  assert_int_equal(bf[0], 0x3F80); /* tie 1 + 2^-8 rounds to even (1.0) */
  assert_int_equal(bf[1], 0x3F82); /* tie 1 + 3*2^-8 rounds up to even */
  assert_int_equal(bf[3], 0x7F80);
  float bb[4];
  assert_ok(qk_cast(bf, QK_DTYPE_BF16, bb, QK_DTYPE_F32, 4));
  assert_float_equal(bb[0], 1.0f, 0);
  /* overlap is rejected */
  float buf[4] = {1, 2, 3, 4};
  assert_status(qk_cast(buf, QK_DTYPE_F32, (uint16_t*)buf + 1, QK_DTYPE_F16, 4), QK_ERR_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantize_round_half_even),   cmocka_unit_test(test_quantize_uses_float_reciprocal),
      cmocka_unit_test(test_quantize_nan_inf),           cmocka_unit_test(test_quantize_custom_range_clamps),
      cmocka_unit_test(test_quantize_roundtrip_error_bound), cmocka_unit_test(test_quantize_per_channel_axis),
      cmocka_unit_test(test_quantize_nibble_packing),    cmocka_unit_test(test_quantize_per_group),
      cmocka_unit_test(test_quantize_s32),               cmocka_unit_test(test_quantize_float_zero_point),
      cmocka_unit_test(test_quantize_argument_checks),   cmocka_unit_test(test_cast_half_and_bfloat),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
