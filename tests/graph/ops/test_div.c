/* SPDX-License-Identifier: Apache-2.0 */
/* Div: numpy broadcasting (incl. symbolic dims), float against a plain-loop reference with IEEE
 * division by zero (Inf, NaN), s32 / s64 truncating toward zero (INT_MIN / -1 wraps, a zero
 * divisor is an error at run time), float only after convert (no int8 form, see div.cc), and bad
 * input. */
#include "binary_test_util.h"

static double ref_div(double a, double b) { return (double)((float)a / (float)b); }

static void check_float(const int64_t* as, size_t ar, const int64_t* bs, size_t br, uint32_t seed) {
  float a[512], b[512];
  gt_fill(a, 512, -3.0f, 3.0f, seed);
  gt_fill(b, 512, 0.25f, 3.0f, seed + 100);
  bt_case c = {"Div", as, NULL, ar, bs, NULL, br, NULL, 0};
  bt_check_float(&c, as, ar, a, bs, br, b, ref_div, 0.0);
}

static void test_float_broadcast(void** state) {
  (void)state;
  const int64_t s234[3] = {2, 3, 4}, s4[1] = {4}, s214[3] = {2, 1, 4}, s31[2] = {3, 1}, s23[2] = {2, 3};
  check_float(s234, 3, s234, 3, 1);
  check_float(s234, 3, s4, 1, 2);
  check_float(s4, 1, s234, 3, 3); /* order matters */
  check_float(s214, 3, s31, 2, 4);
  check_float(NULL, 0, s23, 2, 5);
  check_float(s23, 2, NULL, 0, 6);
}

static void test_float_by_zero(void** state) {
  (void)state;
  const int64_t s4[1] = {4}, s1[1] = {1};
  const float a[4] = {1.0f, -2.0f, 0.0f, 3.0f}, zero[1] = {0.0f};
  bt_case c = {"Div", s4, NULL, 1, s1, NULL, 1, NULL, 0};
  bt_check_float(&c, s4, 1, a, s1, 1, zero, ref_div, 0.0); /* Inf, -Inf, NaN, Inf */
}

static void test_symbolic(void** state) {
  (void)state;
  bt_check_symbolic("Div");
}

static void test_integers(void** state) {
  (void)state;
  const int64_t as[1] = {5}, bs[1] = {5};
  const int64_t a[5] = {7, -7, 7, INT64_MIN, 0}, b[5] = {2, 2, -2, -1, 5};
  int64_t y[5];
  GT_OK(bt_run_int("Div", QK_DTYPE_S64, as, 1, a, bs, 1, b, y, 5));
  assert_int_equal(y[0], 3);
  assert_int_equal(y[1], -3); /* truncation toward zero, not floor */
  assert_int_equal(y[2], -3);
  assert_int_equal(y[3], INT64_MIN); /* wraps */
  assert_int_equal(y[4], 0);
  const int32_t a32[5] = {7, -7, 7, INT32_MIN, 0}, b32[5] = {2, 2, -2, -1, 5};
  GT_OK(bt_run_int("Div", QK_DTYPE_S32, as, 1, a32, bs, 1, b32, y, 5));
  assert_int_equal(y[1], -3);
  assert_int_equal(y[3], INT32_MIN);
  /* a zero divisor fails the run */
  const int64_t one[1] = {1}, z[1] = {0};
  GT_FAILS(bt_run_int("Div", QK_DTYPE_S64, as, 1, a, one, 1, z, y, 5), QK_ERR_INVALID_ARGUMENT,
           "integer division by zero");
}

/* kFloatOnly: a converted model keeps Div in float (no quantize step) and matches the float run. */
static void test_float_only(void** state) {
  (void)state;
  const int64_t s23[2] = {2, 3};
  float a[6], b[6];
  gt_fill(a, 6, -2.0f, 2.0f, 70);
  gt_fill(b, 6, 0.5f, 2.0f, 71);
  bt_case c = {"Div", s23, NULL, 2, s23, NULL, 2, NULL, 0};
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
  for (int i = 0; i < 6; ++i) assert_true(y[i] == a[i] / b[i]);
  qk_model_destroy(q);
}

static void test_bad_input(void** state) {
  (void)state;
  const int64_t s23[2] = {2, 3}, s2[1] = {2};
  GT_FAILS(bt_try_add("Div", QK_DTYPE_F32, s23, 2, QK_DTYPE_F32, s2, 1), QK_ERR_INVALID_ARGUMENT, "do not broadcast");
  GT_FAILS(bt_try_add("Div", QK_DTYPE_S32, s23, 2, QK_DTYPE_F32, s23, 2), QK_ERR_INVALID_ARGUMENT,
           "input 1 is f32, expected s32");
  GT_FAILS(bt_try_add("Div", QK_DTYPE_BOOL, s23, 2, QK_DTYPE_BOOL, s23, 2), QK_ERR_INVALID_ARGUMENT,
           "input 0 is bool, expected f32, s32 or s64");
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  gt_add_input(m, "a", s23, 2);
  const char* ins[] = {"a"};
  const char* outs[] = {"y"};
  GT_FAILS(qk_model_add_node(m, "Div", "n", ins, 1, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "takes 2..2 inputs");
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_broadcast), cmocka_unit_test(test_float_by_zero), cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_integers),        cmocka_unit_test(test_float_only),    cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
