/* SPDX-License-Identifier: Apache-2.0 */
/* Sub: numpy broadcasting (same shape, trailing vector, both sides broadcast, rank 0, symbolic
 * dims), float against a plain-loop reference, s32 / s64 (wrapping), int8 (u8 and s8: same
 * shape, broadcast, a constant operand, operands with different qparams, x - x) within one step
 * of quantize(dequantize(a) - dequantize(b)), and bad input. */
#include "binary_test_util.h"

static double ref_sub(double a, double b) { return (double)((float)a - (float)b); }

static void check_float(const int64_t* as, size_t ar, const int64_t* bs, size_t br, uint32_t seed) {
  float a[512], b[512];
  gt_fill(a, 512, -3.0f, 3.0f, seed);
  gt_fill(b, 512, -3.0f, 3.0f, seed + 100);
  bt_case c = {"Sub", as, NULL, ar, bs, NULL, br, NULL, 0};
  bt_check_float(&c, as, ar, a, bs, br, b, ref_sub, 0.0);
}

static void test_float_broadcast(void** state) {
  (void)state;
  const int64_t s234[3] = {2, 3, 4}, s4[1] = {4}, s214[3] = {2, 1, 4}, s31[2] = {3, 1}, s23[2] = {2, 3};
  check_float(s234, 3, s234, 3, 1);
  check_float(s234, 3, s4, 1, 2);
  check_float(s4, 1, s234, 3, 3); /* order matters: b's elements are subtracted */
  check_float(s214, 3, s31, 2, 4);
  check_float(NULL, 0, s23, 2, 5);
  check_float(s23, 2, NULL, 0, 6);
}

static void test_float_constant(void** state) {
  (void)state;
  const int64_t as[2] = {3, 4}, bs[2] = {3, 1};
  float a[12];
  const float b[3] = {0.5f, -2.0f, 100.0f};
  gt_fill(a, 12, -3.0f, 3.0f, 10);
  bt_case c = {"Sub", as, NULL, 2, bs, NULL, 2, b, 0};
  bt_check_float(&c, as, 2, a, bs, 2, b, ref_sub, 0.0);
}

static void test_symbolic(void** state) {
  (void)state;
  bt_check_symbolic("Sub");
  /* two symbols that are equal stay symbolic */
  const int64_t d2[2] = {-1, -1};
  const char* names[2] = {"batch", "seq"};
  bt_case c = {"Sub", d2, names, 2, d2, names, 2, NULL, 0};
  qk_model* m = bt_build(&c);
  int64_t d[8];
  const char* dn[8];
  size_t r = 0;
  GT_OK(qk_model_value_shape(m, "y", d, dn, 8, &r, NULL));
  assert_int_equal(r, 2);
  assert_string_equal(dn[0], "batch");
  assert_string_equal(dn[1], "seq");
  qk_model_destroy(m);
  const int64_t run[2] = {3, 5};
  float a[15], b[15];
  gt_fill(a, 15, -1.0f, 1.0f, 11);
  gt_fill(b, 15, -1.0f, 1.0f, 12);
  bt_check_float(&c, run, 2, a, run, 2, b, ref_sub, 0.0);
}

static void test_integers(void** state) {
  (void)state;
  const int64_t as[1] = {3}, bs[1] = {1};
  const int64_t a[3] = {10, INT64_MIN, -7}, b[1] = {3};
  int64_t y[3];
  GT_OK(bt_run_int("Sub", QK_DTYPE_S64, as, 1, a, bs, 1, b, y, 3));
  assert_int_equal(y[0], 7);
  assert_int_equal(y[1], INT64_MAX - 2); /* INT64_MIN - 3 wraps */
  assert_int_equal(y[2], -10);
  const int32_t a32[3] = {10, INT32_MIN, -7}, b32[1] = {3};
  GT_OK(bt_run_int("Sub", QK_DTYPE_S32, as, 1, a32, bs, 1, b32, y, 3));
  assert_int_equal(y[0], 7);
  assert_int_equal(y[1], INT32_MAX - 2);
  assert_int_equal(y[2], -10);
}

static void check_int8(const int64_t* as, size_t ar, const int64_t* bs, size_t br, int s8, int constant_b) {
  float a[512], b[512];
  /* different ranges: different scales and zero points on each side */
  gt_fill(a, 512, -2.0f, 3.0f, 20 + (uint32_t)ar);
  gt_fill(b, 512, -0.5f, 4.0f, 40 + (uint32_t)br);
  bt_case c = {"Sub", as, NULL, ar, bs, NULL, br, constant_b ? b : NULL, s8};
  gt_tensor in[2] = {{"a", as, ar, a}, {"b", bs, br, b}};
  gt_check_int8(bt_build, &c, in, constant_b ? 1 : 2, "y", 1.0);
}

static void test_int8(void** state) {
  (void)state;
  const int64_t s234[3] = {2, 3, 4}, s4[1] = {4}, s2433[4] = {2, 4, 3, 3}, s2411[4] = {2, 4, 1, 1};
  for (int s8 = 0; s8 <= 1; ++s8) {
    check_int8(s234, 3, s234, 3, s8, 0);
    check_int8(s2433, 4, s2411, 4, s8, 0);
    check_int8(s4, 1, s234, 3, s8, 0);
    check_int8(s234, 3, s4, 1, s8, 1);
  }
}

/* x - x: one value read twice, exactly 0 (the output's zero point). */
static qk_model* build_self(void* ctx) {
  (void)ctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[2] = {4, 16};
  gt_add_input(m, "x", dims, 2);
  const char* ins[] = {"x", "x"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "Sub", "n", ins, 2, outs, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

static void test_int8_self(void** state) {
  (void)state;
  const int64_t dims[2] = {4, 16};
  float x[64];
  gt_fill(x, 64, -2.0f, 2.0f, 60);
  gt_tensor in = {"x", dims, 2, x};
  /* The observer sees an all-zero output; the int8 result must still be exactly 0. */
  gt_check_int8(build_self, NULL, &in, 1, "y", 0.0);
}

static void test_bad_input(void** state) {
  (void)state;
  const int64_t s23[2] = {2, 3}, s32[2] = {3, 2};
  GT_FAILS(bt_try_add("Sub", QK_DTYPE_F32, s23, 2, QK_DTYPE_F32, s32, 2), QK_ERR_INVALID_ARGUMENT, "do not broadcast");
  GT_FAILS(bt_try_add("Sub", QK_DTYPE_S64, s23, 2, QK_DTYPE_S32, s23, 2), QK_ERR_INVALID_ARGUMENT,
           "input 1 is s32, expected s64");
  GT_FAILS(bt_try_add("Sub", QK_DTYPE_BOOL, s23, 2, QK_DTYPE_BOOL, s23, 2), QK_ERR_INVALID_ARGUMENT,
           "input 0 is bool, expected f32, s32 or s64");
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  gt_add_input(m, "a", s23, 2);
  const char* ins[] = {"a", "a", "a"};
  const char* outs[] = {"y"};
  GT_FAILS(qk_model_add_node(m, "Sub", "n", ins, 3, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "takes 2..2 inputs");
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_broadcast), cmocka_unit_test(test_float_constant),
      cmocka_unit_test(test_symbolic),        cmocka_unit_test(test_integers),
      cmocka_unit_test(test_int8),            cmocka_unit_test(test_int8_self),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
