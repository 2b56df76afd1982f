/* SPDX-License-Identifier: Apache-2.0 */
/* Pins fake quantization (forward, straight-through mask, LSQ gradients) and batch-norm folding
 * on hand-computed cases, plus their argument validation. Bit-exact PyTorch parity is checked
 * by the golden tests (tests/golden). */
#include <math.h>

#include "qk_test_util.h"

static qk_qparams* per_tensor(qk_dtype dtype, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_create(dtype, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &scale, &zp, NULL, 1, qmin, qmax, &qp));
  return qp;
}

/* Proves forward values and the STE mask: x=[-200,-1,0.5,100,300], s=1, zp=0, [-128,127]
 * gives y=[-128,-1,0,100,127] and grad [0,1,1,1,0] (torch's documented example). */
static void test_fake_quant_forward_and_mask(void** state) {
  (void)state;
  qk_qparams* qp = per_tensor(QK_DTYPE_S8, 1.0f, 0, -128, 127);
  const float x[5] = {-200, -1, 0.5f, 100, 300};
  const int64_t shape[1] = {5};
  float y[5];
  uint8_t mask[5];
  assert_ok(qk_fake_quantize(qp, x, shape, 1, y, mask));
  const float expected_y[5] = {-128, -1, 0, 100, 127};
  const uint8_t expected_mask[5] = {0, 1, 1, 1, 0};
  assert_memory_equal(y, expected_y, sizeof y);
  assert_memory_equal(mask, expected_mask, sizeof mask);
  const float gy[5] = {1, 2, 3, 4, 5};
  float gx[5];
  assert_ok(qk_fake_quantize_backward(qp, x, gy, shape, 1, gx));
  const float expected_gx[5] = {0, 2, 3, 4, 0};
  assert_memory_equal(gx, expected_gx, sizeof gx);
  /* in place: y may alias x */
  float inplace[5] = {-200, -1, 0.5f, 100, 300};
  assert_ok(qk_fake_quantize(qp, inplace, shape, 1, inplace, NULL));
  assert_memory_equal(inplace, expected_y, sizeof inplace);
  qk_qparams_destroy(qp);
}

/* Proves per-channel fake quantization uses each channel's scale and zero point. */
static void test_fake_quant_per_channel(void** state) {
  (void)state;
  const float scales[2] = {0.5f, 2.0f};
  const int32_t zps[2] = {1, -1};
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_AFFINE, 0, 0, scales, zps, NULL, 2, -4, 3, &qp));
  const float x[4] = {1.2f, 10.0f, 3.1f, -20.0f};
  const int64_t shape[2] = {2, 2};
  float y[4];
  uint8_t mask[4];
  assert_ok(qk_fake_quantize(qp, x, shape, 2, y, mask));
  /* ch0: q = round(x*2)+1 in [-4,3] -> 1.2 -> 3 -> (3-1)*0.5 = 1.0; 10 -> 21 clamps to 3 -> 1.0
   * ch1: q = round(x/2)-1 -> 3.1 -> 1 -> (1+1)*2 = 4; -20 -> -11 clamps to -4 -> -6 */
  const float expected[4] = {1.0f, 1.0f, 4.0f, -6.0f};
  const uint8_t expected_mask[4] = {1, 0, 1, 0};
  assert_memory_equal(y, expected, sizeof y);
  assert_memory_equal(mask, expected_mask, sizeof mask);
  const int64_t wrong[2] = {4, 1};
  assert_status(qk_fake_quantize(qp, x, wrong, 2, y, mask), QK_ERR_INVALID_ARGUMENT);
  qk_qparams_destroy(qp);
}

/* Proves LSQ gradients: inside the range dscale = dy*(fq(x)-x)/s, outside dscale = dy*(qmin|qmax
 * - zp), dzp = -dy*s outside and 0 inside; sums over the tensor. */
static void test_fake_quant_learnable_gradients(void** state) {
  (void)state;
  const float x[3] = {0.3f, 10.0f, -10.0f};
  const float gy[3] = {1.0f, 1.0f, 2.0f};
  const int64_t shape[1] = {3};
  const float scale = 1.0f, zp = 0.0f;
  float gx[3], gs = 0, gz = 0;
  assert_ok(qk_fake_quantize_learnable_backward(x, gy, shape, 1, -1, &scale, &zp, 1, -4, 3, 1.0f, gx, &gs, &gz));
  const float expected_gx[3] = {1, 0, 0};
  assert_memory_equal(gx, expected_gx, sizeof gx);
  /* 0.3 -> q 0 -> fq 0: dscale = (0 - 0.3) * 1 = -0.3; 10 -> above: 3 - 0 = 3; -10 -> below: 2*(-4) = -8 */
  assert_float_equal(gs, -0.3f + 3.0f - 8.0f, 1e-6);
  assert_float_equal(gz, -1.0f - 2.0f, 0);
  /* grad_factor scales the parameter gradients only */
  float gs2 = 0, gz2 = 0;
  assert_ok(qk_fake_quantize_learnable_backward(x, gy, shape, 1, -1, &scale, &zp, 1, -4, 3, 0.5f, gx, &gs2, &gz2));
  assert_float_equal(gs2, gs * 0.5f, 1e-6);
  assert_float_equal(gz2, gz * 0.5f, 0);
  /* validation: bad scale, count mismatch, empty range -> nothing written */
  const float bad_scale = 0.0f;
  gs = 42;
  assert_status(qk_fake_quantize_learnable_backward(x, gy, shape, 1, -1, &bad_scale, &zp, 1, -4, 3, 1.0f, gx, &gs,
                                                    &gz), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_fake_quantize_learnable_backward(x, gy, shape, 1, 0, &scale, &zp, 1, -4, 3, 1.0f, gx, &gs, &gz),
                QK_ERR_INVALID_ARGUMENT); /* per channel along axis 0 needs 3 scales */
  assert_status(qk_fake_quantize_learnable_backward(x, gy, shape, 1, -1, &scale, &zp, 1, 3, 3, 1.0f, gx, &gs, &gz),
                QK_ERR_INVALID_ARGUMENT);
  assert_float_equal(gs, 42, 0);
}

/* Proves fake quantization rejects per-group and float-zero-point qparams. */
static void test_fake_quant_rejects_other_schemes(void** state) {
  (void)state;
  const float scale = 1.0f, fzp = 0.5f;
  qk_qparams* qp = NULL;
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE_FLOAT_QPARAMS, 0, 0, &scale, NULL, &fzp, 1,
                              0, 255, &qp));
  const float x[1] = {1};
  float y[1] = {7};
  const int64_t shape[1] = {1};
  assert_status(qk_fake_quantize(qp, x, shape, 1, y, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_float_equal(y[0], 7, 0);
  qk_qparams_destroy(qp);
}

/* Proves conv folding: W' = W*gamma/sqrt(var+eps) per output channel, b' = (b-mean)*gamma/sqrt(var+eps)+beta. */
static void test_fold_conv(void** state) {
  (void)state;
  /* weight [2 out, 1 in, 1, 2] */
  const float w[4] = {1, 2, 3, 4};
  const int64_t shape[4] = {2, 1, 1, 2};
  const float bias[2] = {0.5f, -1}, mean[2] = {1, -1}, var[2] = {3, 0}, gamma[2] = {2, 1}, beta[2] = {1, 0};
  float w_out[4], b_out[2];
  assert_ok(qk_fold_batchnorm(QK_FOLD_CONV, w, shape, 4, bias, mean, var, gamma, beta, 1.0f, 2, w_out, b_out));
  /* ch0: inv = 1/sqrt(4) = 0.5, factor 1; ch1: inv = 1, factor 1 */
  const float expected_w[4] = {1, 2, 3, 4};
  assert_memory_equal(w_out, expected_w, sizeof w_out);
  assert_float_equal(b_out[0], (0.5f - 1) * 0.5f * 2 + 1, 0);
  assert_float_equal(b_out[1], 0, 0);
  /* transposed: channel axis 1 of [1 in, 2 out, 1, 2]; gamma/beta/bias NULL = 1/0/0 */
  const int64_t tshape[4] = {1, 2, 1, 2};
  const float var4[2] = {3, 15};
  assert_ok(qk_fold_batchnorm(QK_FOLD_CONV_TRANSPOSED, w, tshape, 4, NULL, mean, var4, NULL, NULL, 1.0f, 2, w_out,
                              b_out));
  const float expected_t[4] = {0.5f, 1.0f, 0.75f, 1.0f};
  assert_memory_equal(w_out, expected_t, sizeof w_out);
  assert_float_equal(b_out[0], -0.5f, 0);
  assert_float_equal(b_out[1], 0.25f, 0);
}

/* Proves linear folding and validation (channel mismatch, var+eps <= 0, rank) leaves outputs untouched. */
static void test_fold_linear_and_validation(void** state) {
  (void)state;
  const float w[6] = {1, 2, 3, 4, 5, 6};
  const int64_t shape[2] = {3, 2};
  const float mean[3] = {0, 0, 0}, var[3] = {0, 0, 0}, gamma[3] = {1, 2, 4};
  float w_out[6] = {9, 9, 9, 9, 9, 9}, b_out[3] = {9, 9, 9};
  assert_ok(qk_fold_batchnorm(QK_FOLD_LINEAR, w, shape, 2, NULL, mean, var, gamma, NULL, 0.25f, 3, w_out, b_out));
  const float expected[6] = {2, 4, 12, 16, 40, 48};
  assert_memory_equal(w_out, expected, sizeof w_out);
  float untouched[6];
  memcpy(untouched, w_out, sizeof untouched);
  assert_status(qk_fold_batchnorm(QK_FOLD_LINEAR, w, shape, 2, NULL, mean, var, gamma, NULL, 0.25f, 2, w_out, b_out),
                QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("channels");
  const float negative_var[3] = {0, -1, 0};
  assert_status(qk_fold_batchnorm(QK_FOLD_LINEAR, w, shape, 2, NULL, mean, negative_var, gamma, NULL, 0.25f, 3,
                                  w_out, b_out), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("bn_var[1]");
  const int64_t rank3[3] = {3, 2, 1};
  assert_status(qk_fold_batchnorm(QK_FOLD_LINEAR, w, rank3, 3, NULL, mean, var, gamma, NULL, 0.25f, 3, w_out, b_out),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_fold_batchnorm(QK_FOLD_CONV, w, shape, 2, NULL, NULL, var, gamma, NULL, 0.25f, 3, w_out, b_out),
                QK_ERR_INVALID_ARGUMENT);
  assert_memory_equal(w_out, untouched, sizeof w_out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fake_quant_forward_and_mask),   cmocka_unit_test(test_fake_quant_per_channel),
      cmocka_unit_test(test_fake_quant_learnable_gradients), cmocka_unit_test(test_fake_quant_rejects_other_schemes),
      cmocka_unit_test(test_fold_conv),                     cmocka_unit_test(test_fold_linear_and_validation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
