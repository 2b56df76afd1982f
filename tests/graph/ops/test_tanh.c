/* SPDX-License-Identifier: Apache-2.0 */
/* Tanh: float against tanh in double, symbolic and rank-0 shapes, int8 (u8 and s8) with
 * PyTorch's fixed output qparams (scale 2/256, zero point 128 / 0) within one step of
 * quantize(tanh(dequantize(x))), and bad input. */
#include "unary_test_util.h"

static double ref_tanh(double x, const void* p) {
  (void)p;
  return tanh(x);
}

static void attr_alpha(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "alpha", 1.0f)); }

static void test_float(void** state) {
  (void)state;
  const int64_t dims[3] = {2, 8, 16};
  ut_case c = {"Tanh", NULL, dims, NULL, 3, 0};
  float x[256];
  gt_fill(x, 256, -5.0f, 5.0f, 3);
  x[0] = 0.0f;
  x[1] = -40.0f; /* saturates to -1 */
  x[2] = 40.0f;
  ut_check_float(&c, dims, 3, x, ref_tanh, NULL, 1e-6);
}

static void test_shapes(void** state) {
  (void)state;
  ut_check_symbolic("Tanh", NULL);
  ut_case c = {"Tanh", NULL, NULL, NULL, 0, 0};
  const float x = -0.75f;
  ut_check_float(&c, NULL, 0, &x, ref_tanh, NULL, 1e-6);
}

static void check_int8(int s8) {
  const int64_t dims[2] = {4, 64};
  ut_case c = {"Tanh", NULL, dims, NULL, 2, s8};
  float x[256];
  gt_fill(x, 256, -3.0f, 3.0f, 4);
  gt_tensor in = {"x", dims, 2, x};
  gt_check_int8(ut_build, &c, &in, 1, "y", 1.0);
  qk_model* q = ut_convert(&c, &in);
  assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 1); /* the node ran int8 */
  ut_expect_qparams(q, "y", 2.0f / 256.0f, s8 ? 0 : 128);
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
  GT_FAILS(ut_try_add("Tanh", NULL, QK_DTYPE_S64, 1, 1), QK_ERR_INVALID_ARGUMENT, "input 0 is s64, expected f32");
  GT_FAILS(ut_try_add("Tanh", NULL, QK_DTYPE_F32, 2, 2), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
  GT_FAILS(ut_try_add("Tanh", attr_alpha, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT, "no attribute 'alpha'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),   cmocka_unit_test(test_shapes),   cmocka_unit_test(test_int8_u8),
      cmocka_unit_test(test_int8_s8), cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
