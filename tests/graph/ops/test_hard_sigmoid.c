/* SPDX-License-Identifier: Apache-2.0 */
/* HardSigmoid: float against max(0, min(1, alpha x + beta)) in double with ONNX's defaults
 * (alpha 0.2, beta 0.5) and PyTorch's (alpha 1/6), symbolic and rank-0 shapes, int8 (u8 and s8)
 * with fixed output qparams (scale 1/256, zero point 0 / -128, as PyTorch's quantized
 * hardsigmoid) within one step of quantize(f(dequantize(x))), and bad attributes. */
#include "unary_test_util.h"

typedef struct hs_params {
  double alpha, beta;
} hs_params;

static double ref_hard_sigmoid(double x, const void* p) {
  const hs_params* h = (const hs_params*)p;
  const double v = h->alpha * x + h->beta;
  return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}

static void attrs_torch(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "alpha", 1.0f / 6.0f)); }
static void attrs_both(qk_attrs* a) {
  GT_OK(qk_attrs_set_float(a, "alpha", 0.5f));
  GT_OK(qk_attrs_set_float(a, "beta", 0.25f));
}
static void attr_alpha_int(qk_attrs* a) { GT_OK(qk_attrs_set_int(a, "alpha", 1)); }
static void attr_gamma(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "gamma", 1.0f)); }

static void test_float(void** state) {
  (void)state;
  const int64_t dims[2] = {4, 64};
  float x[256];
  gt_fill(x, 256, -6.0f, 6.0f, 5);
  x[0] = -2.5f; /* defaults: exactly 0 */
  x[1] = 2.5f;  /* defaults: exactly 1 */
  x[2] = 0.0f;  /* beta */
  const hs_params onnx = {0.2, 0.5}, torch = {1.0 / 6.0, 0.5}, both = {0.5, 0.25};
  ut_case c = {"HardSigmoid", NULL, dims, NULL, 2, 0};
  ut_check_float(&c, dims, 2, x, ref_hard_sigmoid, &onnx, 1e-6);
  c.attrs = attrs_torch;
  ut_check_float(&c, dims, 2, x, ref_hard_sigmoid, &torch, 1e-6);
  c.attrs = attrs_both;
  ut_check_float(&c, dims, 2, x, ref_hard_sigmoid, &both, 1e-6);
}

static void test_shapes(void** state) {
  (void)state;
  ut_check_symbolic("HardSigmoid", attrs_both);
  ut_case c = {"HardSigmoid", NULL, NULL, NULL, 0, 0};
  const float x = 1.0f;
  const hs_params onnx = {0.2, 0.5};
  ut_check_float(&c, NULL, 0, &x, ref_hard_sigmoid, &onnx, 1e-6);
}

static void check_int8(int s8, ut_attrs_fn attrs) {
  const int64_t dims[2] = {4, 64};
  ut_case c = {"HardSigmoid", attrs, dims, NULL, 2, s8};
  float x[256];
  gt_fill(x, 256, -5.0f, 5.0f, 6);
  gt_tensor in = {"x", dims, 2, x};
  gt_check_int8(ut_build, &c, &in, 1, "y", 1.0);
  qk_model* q = ut_convert(&c, &in);
  assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 1); /* the node ran int8 */
  ut_expect_qparams(q, "y", 1.0f / 256.0f, s8 ? -128 : 0);
  qk_model_destroy(q);
}

static void test_int8_u8(void** state) {
  (void)state;
  check_int8(0, NULL);
  check_int8(0, attrs_both);
}

static void test_int8_s8(void** state) {
  (void)state;
  check_int8(1, attrs_torch);
}

static void test_bad_input(void** state) {
  (void)state;
  GT_FAILS(ut_try_add("HardSigmoid", NULL, QK_DTYPE_S32, 2, 1), QK_ERR_INVALID_ARGUMENT, "input 0 is s32");
  GT_FAILS(ut_try_add("HardSigmoid", attr_alpha_int, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "attribute 'alpha' must be a float");
  GT_FAILS(ut_try_add("HardSigmoid", attr_gamma, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "no attribute 'gamma'");
  GT_FAILS(ut_try_add("HardSigmoid", NULL, QK_DTYPE_F32, 2, 2), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),   cmocka_unit_test(test_shapes),   cmocka_unit_test(test_int8_u8),
      cmocka_unit_test(test_int8_s8), cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
