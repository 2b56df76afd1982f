/* SPDX-License-Identifier: Apache-2.0 */
/* HardSwish: float against x * min(max(x + 3, 0), 6) / 6 in double, symbolic and rank-0 shapes,
 * int8 (u8 and s8) with the observed output qparams within one step of
 * quantize(f(dequantize(x))), and bad input. */
#include "unary_test_util.h"

static double ref_hard_swish(double x, const void* p) {
  (void)p;
  double r = x + 3.0;
  r = r < 0.0 ? 0.0 : (r > 6.0 ? 6.0 : r);
  return x * r / 6.0;
}

static void attr_alpha(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "alpha", 0.2f)); }

static void test_float(void** state) {
  (void)state;
  const int64_t dims[4] = {2, 2, 8, 8};
  float x[256];
  gt_fill(x, 256, -6.0f, 6.0f, 7);
  x[0] = -3.0f; /* 0 */
  x[1] = 3.0f;  /* x */
  x[2] = -1.5f; /* the minimum, -0.375 */
  ut_case c = {"HardSwish", NULL, dims, NULL, 4, 0};
  ut_check_float(&c, dims, 4, x, ref_hard_swish, NULL, 1e-6);
}

static void test_shapes(void** state) {
  (void)state;
  ut_check_symbolic("HardSwish", NULL);
  ut_case c = {"HardSwish", NULL, NULL, NULL, 0, 0};
  const float x = 1.25f;
  ut_check_float(&c, NULL, 0, &x, ref_hard_swish, NULL, 1e-6);
}

static void check_int8(int s8) {
  const int64_t dims[4] = {2, 2, 8, 8};
  ut_case c = {"HardSwish", NULL, dims, NULL, 4, s8};
  float x[256];
  gt_fill(x, 256, -5.0f, 5.0f, 8);
  gt_tensor in = {"x", dims, 4, x};
  gt_check_int8(ut_build, &c, &in, 1, "y", 1.0);
  qk_model* q = ut_convert(&c, &in);
  assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 1); /* the node ran int8 */
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

static void test_bad_input(void** state) {
  (void)state;
  GT_FAILS(ut_try_add("HardSwish", NULL, QK_DTYPE_S32, 2, 1), QK_ERR_INVALID_ARGUMENT, "input 0 is s32, expected f32");
  GT_FAILS(ut_try_add("HardSwish", NULL, QK_DTYPE_F32, 2, 2), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
  /* ONNX's HardSwish has no attributes (alpha = 1/6 and beta = 0.5 are fixed) */
  GT_FAILS(ut_try_add("HardSwish", attr_alpha, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT, "no attribute 'alpha'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),   cmocka_unit_test(test_shapes),   cmocka_unit_test(test_int8_u8),
      cmocka_unit_test(test_int8_s8), cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
