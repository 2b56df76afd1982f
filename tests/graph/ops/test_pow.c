/* SPDX-License-Identifier: Apache-2.0 */
/* Pow: numpy broadcasting (incl. symbolic dims), float against pow() in double with f32, s32
 * and s64 exponents (negative bases with integer exponents, NaN for a negative base with a
 * fractional one), float only after convert, and bad input. */
#include "binary_test_util.h"

static double ref_pow(double a, double b) { return pow(a, b); }

static void test_float_broadcast(void** state) {
  (void)state;
  const int64_t s234[3] = {2, 3, 4}, s4[1] = {4}, s31[2] = {3, 1};
  float a[24], b[24];
  gt_fill(a, 24, 0.1f, 3.0f, 1);
  gt_fill(b, 24, -2.0f, 2.0f, 2);
  bt_case c = {"Pow", s234, NULL, 3, s234, NULL, 3, NULL, 0};
  bt_check_float(&c, s234, 3, a, s234, 3, b, ref_pow, 1e-6);
  c.b_dims = s4;
  c.b_rank = 1;
  bt_check_float(&c, s234, 3, a, s4, 1, b, ref_pow, 1e-6);
  c.b_dims = s31;
  c.b_rank = 2;
  bt_check_float(&c, s234, 3, a, s31, 2, b, ref_pow, 1e-6);
  c.b_dims = NULL; /* a scalar exponent, the common x ** 2 */
  c.b_rank = 0;
  const float two = 2.0f;
  bt_check_float(&c, s234, 3, a, NULL, 0, &two, ref_pow, 1e-6);
}

static void test_float_special(void** state) {
  (void)state;
  const int64_t s24[2] = {2, 4}, s4[1] = {4};
  const float a[8] = {-2.0f, -2.0f, -2.0f, -2.0f, 0.0f, 0.0f, 4.0f, 4.0f};
  const float e[4] = {2.0f, 3.0f, 0.5f, 0.0f}; /* 4, -8, NaN, 1 | 0, 0, 2, 1 */
  bt_case c = {"Pow", s24, NULL, 2, s4, NULL, 1, e, 0};
  bt_check_float(&c, s24, 2, a, s4, 1, e, ref_pow, 1e-6);
}

/* An s64 / s32 exponent (exported x.pow(2) with an integer 2). */
static void test_integer_exponent(void** state) {
  (void)state;
  for (int wide = 0; wide <= 1; ++wide) {
    qk_model* m = NULL;
    GT_OK(qk_model_create_graph(&m));
    const int64_t s3[1] = {3}, s1[1] = {1};
    gt_add_input(m, "x", s3, 1);
    const int64_t e64[1] = {3};
    const int32_t e32[1] = {3};
    GT_OK(qk_model_add_constant(m, "e", wide ? QK_DTYPE_S64 : QK_DTYPE_S32, s1, 1, wide ? (const void*)e64 : (const void*)e32,
                                wide ? 8 : 4));
    const char* ins[] = {"x", "e"};
    const char* outs[] = {"y"};
    GT_OK(qk_model_add_node(m, "Pow", "n", ins, 2, outs, 1, NULL));
    GT_OK(qk_model_add_output(m, "y"));
    const float x[3] = {-2.0f, 0.5f, 3.0f};
    float y[3];
    gt_tensor in = {"x", s3, 1, x};
    gt_run(m, &in, 1, "y", y, 3, NULL, NULL);
    assert_true(y[0] == -8.0f);
    assert_true(y[1] == 0.125f);
    assert_true(y[2] == 27.0f);
    qk_model_destroy(m);
  }
}

static void test_symbolic(void** state) {
  (void)state;
  bt_check_symbolic("Pow");
}

/* kFloatOnly: a converted model keeps Pow in float (no quantize step). */
static void test_float_only(void** state) {
  (void)state;
  const int64_t s23[2] = {2, 3};
  float a[6], b[6];
  gt_fill(a, 6, 0.5f, 2.0f, 70);
  gt_fill(b, 6, -1.0f, 2.0f, 71);
  bt_case c = {"Pow", s23, NULL, 2, s23, NULL, 2, NULL, 0};
  gt_tensor in[2] = {{"a", s23, 2, a}, {"b", s23, 2, b}};
  qk_model* q = bt_build(&c);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, in, 2);
  GT_OK(qk_model_convert(q));
  size_t n = 0;
  GT_OK(qk_model_node_count(q, &n));
  for (size_t i = 0; i < n; ++i) {
    const char *name, *type;
    GT_OK(qk_model_node_info(q, i, &name, &type));
    assert_string_not_equal(type, "qk.Quantize");
  }
  float y[6];
  gt_run(q, in, 2, "y", y, 6, NULL, NULL);
  for (int i = 0; i < 6; ++i) assert_true(fabs(y[i] - pow(a[i], b[i])) <= 1e-6 * (1.0 + fabs(pow(a[i], b[i]))));
  qk_model_destroy(q);
}

static void test_bad_input(void** state) {
  (void)state;
  const int64_t s23[2] = {2, 3}, s2[1] = {2};
  GT_FAILS(bt_try_add("Pow", QK_DTYPE_F32, s23, 2, QK_DTYPE_F32, s2, 1), QK_ERR_INVALID_ARGUMENT, "do not broadcast");
  GT_FAILS(bt_try_add("Pow", QK_DTYPE_S32, s23, 2, QK_DTYPE_F32, s23, 2), QK_ERR_INVALID_ARGUMENT,
           "input 0 is s32, expected f32");
  GT_FAILS(bt_try_add("Pow", QK_DTYPE_F32, s23, 2, QK_DTYPE_BOOL, s23, 2), QK_ERR_INVALID_ARGUMENT,
           "input 1 (the exponent) is bool, expected f32, s32 or s64");
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  gt_add_input(m, "a", s23, 2);
  const char* ins[] = {"a"};
  const char* outs[] = {"y"};
  GT_FAILS(qk_model_add_node(m, "Pow", "n", ins, 1, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "takes 2..2 inputs");
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_broadcast), cmocka_unit_test(test_float_special),
      cmocka_unit_test(test_integer_exponent), cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_float_only),       cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
