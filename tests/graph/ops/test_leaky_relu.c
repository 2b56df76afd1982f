/* SPDX-License-Identifier: Apache-2.0 */
/* LeakyRelu: float against x >= 0 ? x : alpha x in double with the default alpha (0.01) and a
 * given one, symbolic and rank-0 shapes, int8 (u8 and s8) with the observed output qparams
 * within one step of quantize(f(dequantize(x))), and bad attributes. */
#include "unary_test_util.h"

static double ref_leaky(double x, const void* p) { return x >= 0.0 ? x : *(const double*)p * x; }

static void attr_alpha(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "alpha", 0.2f)); }
static void attr_alpha_floats(qk_attrs* a) {
  const float v[1] = {0.2f};
  GT_OK(qk_attrs_set_floats(a, "alpha", v, 1));
}
static void attr_slope(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "negative_slope", 0.2f)); }

static void test_float(void** state) {
  (void)state;
  const int64_t dims[2] = {4, 64};
  float x[256];
  gt_fill(x, 256, -8.0f, 8.0f, 9);
  x[0] = 0.0f;
  const double dflt = 0.01, given = (double)0.2f;
  ut_case c = {"LeakyRelu", NULL, dims, NULL, 2, 0};
  ut_check_float(&c, dims, 2, x, ref_leaky, &dflt, 1e-7);
  c.attrs = attr_alpha;
  ut_check_float(&c, dims, 2, x, ref_leaky, &given, 1e-7);
}

static void test_shapes(void** state) {
  (void)state;
  ut_check_symbolic("LeakyRelu", attr_alpha);
  ut_case c = {"LeakyRelu", NULL, NULL, NULL, 0, 0};
  const float x = -3.0f;
  const double dflt = 0.01;
  ut_check_float(&c, NULL, 0, &x, ref_leaky, &dflt, 1e-7);
}

static void check_int8(int s8, ut_attrs_fn attrs) {
  const int64_t dims[2] = {4, 64};
  ut_case c = {"LeakyRelu", attrs, dims, NULL, 2, s8};
  float x[256];
  gt_fill(x, 256, -4.0f, 4.0f, 10);
  gt_tensor in = {"x", dims, 2, x};
  gt_check_int8(ut_build, &c, &in, 1, "y", 1.0);
  qk_model* q = ut_convert(&c, &in);
  assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 1); /* the node ran int8 */
  qk_model_destroy(q);
}

static void test_int8_u8(void** state) {
  (void)state;
  check_int8(0, NULL);
  check_int8(0, attr_alpha);
}

static void test_int8_s8(void** state) {
  (void)state;
  check_int8(1, attr_alpha);
}

static void test_bad_input(void** state) {
  (void)state;
  GT_FAILS(ut_try_add("LeakyRelu", NULL, QK_DTYPE_S32, 2, 1), QK_ERR_INVALID_ARGUMENT, "input 0 is s32, expected f32");
  GT_FAILS(ut_try_add("LeakyRelu", attr_alpha_floats, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "attribute 'alpha' must be a float");
  GT_FAILS(ut_try_add("LeakyRelu", attr_slope, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "no attribute 'negative_slope'");
  GT_FAILS(ut_try_add("LeakyRelu", NULL, QK_DTYPE_F32, 2, 2), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),   cmocka_unit_test(test_shapes),   cmocka_unit_test(test_int8_u8),
      cmocka_unit_test(test_int8_s8), cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
