/* SPDX-License-Identifier: Apache-2.0 */
/* Gelu: float against 0.5 x (1 + erf(x / sqrt 2)) (default and approximate "none") and the tanh
 * form (approximate "tanh") in double, symbolic and rank-0 shapes, int8 (u8 and s8, both forms)
 * with the observed output qparams within one step of quantize(gelu(dequantize(x))), and bad
 * attributes. The two forms differ by up to ~5e-4, far above the 1e-6 tolerance, so a node
 * computing the wrong form fails. */
#include "unary_test_util.h"

static double ref_gelu_erf(double x, const void* p) {
  (void)p;
  return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
}

static double ref_gelu_tanh(double x, const void* p) {
  (void)p;
  const double pi = 3.14159265358979323846;
  return 0.5 * x * (1.0 + tanh(sqrt(2.0 / pi) * (x + 0.044715 * x * x * x)));
}

static void attr_none(qk_attrs* a) { GT_OK(qk_attrs_set_string(a, "approximate", "none")); }
static void attr_tanh(qk_attrs* a) { GT_OK(qk_attrs_set_string(a, "approximate", "tanh")); }
static void attr_fast(qk_attrs* a) { GT_OK(qk_attrs_set_string(a, "approximate", "fast")); }
static void attr_int(qk_attrs* a) { GT_OK(qk_attrs_set_int(a, "approximate", 1)); }

static void test_float(void** state) {
  (void)state;
  const int64_t dims[3] = {2, 4, 32};
  float x[256];
  gt_fill(x, 256, -6.0f, 6.0f, 11);
  x[0] = 0.0f;
  x[1] = -0.75f; /* near the minimum, about -0.17 */
  ut_case c = {"Gelu", NULL, dims, NULL, 3, 0};
  ut_check_float(&c, dims, 3, x, ref_gelu_erf, NULL, 1e-6);
  c.attrs = attr_none;
  ut_check_float(&c, dims, 3, x, ref_gelu_erf, NULL, 1e-6);
  c.attrs = attr_tanh;
  ut_check_float(&c, dims, 3, x, ref_gelu_tanh, NULL, 1e-6);
}

static void test_shapes(void** state) {
  (void)state;
  ut_check_symbolic("Gelu", NULL);
  ut_check_symbolic("Gelu", attr_tanh);
  ut_case c = {"Gelu", NULL, NULL, NULL, 0, 0};
  const float x = 1.5f;
  ut_check_float(&c, NULL, 0, &x, ref_gelu_erf, NULL, 1e-6);
}

static void check_int8(int s8, ut_attrs_fn attrs) {
  const int64_t dims[2] = {4, 64};
  ut_case c = {"Gelu", attrs, dims, NULL, 2, s8};
  float x[256];
  gt_fill(x, 256, -4.0f, 4.0f, 12);
  gt_tensor in = {"x", dims, 2, x};
  gt_check_int8(ut_build, &c, &in, 1, "y", 1.0);
  qk_model* q = ut_convert(&c, &in);
  assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 1); /* the node ran int8 */
  qk_model_destroy(q);
}

static void test_int8_u8(void** state) {
  (void)state;
  check_int8(0, NULL);
  check_int8(0, attr_tanh);
}

static void test_int8_s8(void** state) {
  (void)state;
  check_int8(1, NULL);
  check_int8(1, attr_tanh);
}

static void test_bad_input(void** state) {
  (void)state;
  GT_FAILS(ut_try_add("Gelu", attr_fast, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "approximate 'fast' must be \"none\" or \"tanh\"");
  GT_FAILS(ut_try_add("Gelu", attr_int, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "attribute 'approximate' must be a string");
  GT_FAILS(ut_try_add("Gelu", NULL, QK_DTYPE_S32, 2, 1), QK_ERR_INVALID_ARGUMENT, "input 0 is s32, expected f32");
  GT_FAILS(ut_try_add("Gelu", NULL, QK_DTYPE_F32, 2, 2), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),   cmocka_unit_test(test_shapes),   cmocka_unit_test(test_int8_u8),
      cmocka_unit_test(test_int8_s8), cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
