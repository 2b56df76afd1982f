/* SPDX-License-Identifier: Apache-2.0 */
/* Sigmoid: float against 1 / (1 + e^-x) in double, symbolic and rank-0 shapes, int8 (u8 and s8)
 * with PyTorch's fixed output qparams (scale 1/256, zero point 0 / -128) within one step of
 * quantize(sigmoid(dequantize(x))), and bad input. */
#include "unary_test_util.h"

static double ref_sigmoid(double x, const void* p) {
  (void)p;
  return 1.0 / (1.0 + exp(-x));
}

static void attr_alpha(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "alpha", 1.0f)); }

static void test_float(void** state) {
  (void)state;
  const int64_t dims[2] = {4, 64};
  ut_case c = {"Sigmoid", NULL, dims, NULL, 2, 0};
  float x[256];
  gt_fill(x, 256, -12.0f, 12.0f, 1);
  x[0] = 0.0f;  /* exactly 0.5 */
  x[1] = -30.0f; /* underflows towards 0 without NaN */
  x[2] = 30.0f;
  ut_check_float(&c, dims, 2, x, ref_sigmoid, NULL, 1e-6);
}

static void test_shapes(void** state) {
  (void)state;
  ut_check_symbolic("Sigmoid", NULL);
  /* rank 0 */
  ut_case c = {"Sigmoid", NULL, NULL, NULL, 0, 0};
  const float x = 1.5f;
  ut_check_float(&c, NULL, 0, &x, ref_sigmoid, NULL, 1e-6);
}

static void check_int8(int s8) {
  const int64_t dims[2] = {4, 64};
  ut_case c = {"Sigmoid", NULL, dims, NULL, 2, s8};
  float x[256];
  gt_fill(x, 256, -6.0f, 6.0f, 2);
  gt_tensor in = {"x", dims, 2, x};
  gt_check_int8(ut_build, &c, &in, 1, "y", 1.0);
  qk_model* q = ut_convert(&c, &in);
  assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 1); /* the node ran int8 */
  ut_expect_qparams(q, "y", 1.0f / 256.0f, s8 ? -128 : 0);
  qk_model_destroy(q);
}

static void test_int8_u8(void** state) {
  (void)state;
  check_int8(0);
}

static void test_int8_s8(void** state) {
  (void)state;
  check_int8(1);
}

/* Fixed qparams: the output's qparams cannot be set by hand. */
static void test_fixed_qparams_not_settable(void** state) {
  (void)state;
  const int64_t dims[1] = {8};
  ut_case c = {"Sigmoid", NULL, dims, NULL, 1, 0};
  qk_model* m = ut_build(&c);
  const float scale = 0.01f;
  const int32_t zp = 0;
  qk_qparams* qp = NULL;
  GT_OK(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp, NULL, 1, 0, 255, &qp));
  GT_FAILS(qk_model_set_tensor_qparams(m, "y", qp), QK_ERR_INVALID_ARGUMENT, "has fixed qparams");
  qk_qparams_destroy(qp);
  qk_model_destroy(m);
}

static void test_bad_input(void** state) {
  (void)state;
  GT_FAILS(ut_try_add("Sigmoid", NULL, QK_DTYPE_S32, 2, 1), QK_ERR_INVALID_ARGUMENT, "input 0 is s32, expected f32");
  GT_FAILS(ut_try_add("Sigmoid", NULL, QK_DTYPE_F32, 2, 2), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
  GT_FAILS(ut_try_add("Sigmoid", attr_alpha, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT, "no attribute 'alpha'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),   cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_int8_u8), cmocka_unit_test(test_int8_s8),
      cmocka_unit_test(test_fixed_qparams_not_settable), cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
