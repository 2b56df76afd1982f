/* SPDX-License-Identifier: Apache-2.0 */
/* Mul: numpy broadcasting (same shape, trailing vector, both sides broadcast, rank 0, empty,
 * symbolic dims checked at build and at run time), float against a plain-loop reference, s32 /
 * s64 (wrapping), int8 (u8 and s8: same shape, squeeze-excite broadcast, a constant operand, x * x)
 * within one step of quantize(dequantize(a) * dequantize(b)), and bad input. */
#include "binary_test_util.h"

static double ref_mul(double a, double b) { return (double)((float)a * (float)b); }

static void check_float(const int64_t* as, size_t ar, const int64_t* bs, size_t br, uint32_t seed) {
  float a[512], b[512];
  gt_fill(a, 512, -3.0f, 3.0f, seed);
  gt_fill(b, 512, -3.0f, 3.0f, seed + 100);
  bt_case c = {"Mul", as, NULL, ar, bs, NULL, br, NULL, 0};
  bt_check_float(&c, as, ar, a, bs, br, b, ref_mul, 0.0);
}

static void test_float_broadcast(void** state) {
  (void)state;
  const int64_t s234[3] = {2, 3, 4}, s4[1] = {4}, s214[3] = {2, 1, 4}, s31[2] = {3, 1}, s23[2] = {2, 3};
  const int64_t se_x[4] = {2, 4, 3, 3}, se_s[4] = {2, 4, 1, 1}, s41[2] = {4, 1}, s15[2] = {1, 5};
  check_float(s234, 3, s234, 3, 1);  /* same shape */
  check_float(s234, 3, s4, 1, 2);    /* trailing vector */
  check_float(s4, 1, s234, 3, 3);    /* ... on the left */
  check_float(s214, 3, s31, 2, 4);   /* both sides broadcast: {2, 3, 4} */
  check_float(NULL, 0, s23, 2, 5);   /* rank 0 */
  check_float(s23, 2, NULL, 0, 6);
  check_float(NULL, 0, NULL, 0, 7);  /* rank 0 x rank 0 */
  check_float(se_x, 4, se_s, 4, 8);  /* squeeze-excite: x * scale{N, C, 1, 1} */
  check_float(s41, 2, s15, 2, 9);    /* outer product {4, 5} */
}

static void test_float_constant(void** state) {
  (void)state;
  const int64_t as[2] = {3, 4}, bs[1] = {4};
  float a[12];
  const float b[4] = {0.5f, -2.0f, 0.0f, 10.0f};
  gt_fill(a, 12, -3.0f, 3.0f, 10);
  bt_case c = {"Mul", as, NULL, 2, bs, NULL, 1, b, 0};
  bt_check_float(&c, as, 2, a, bs, 1, b, ref_mul, 0.0);
}

static void test_empty(void** state) {
  (void)state;
  const int64_t as[2] = {0, 3}, bs[2] = {1, 3};
  const float a[1] = {0}, b[3] = {1, 2, 3};
  bt_case c = {"Mul", as, NULL, 2, bs, NULL, 2, NULL, 0};
  bt_check_float(&c, as, 2, a, bs, 2, b, ref_mul, 0.0);
}

static void test_symbolic(void** state) {
  (void)state;
  bt_check_symbolic("Mul");
  /* {seq} against {4}: accepted at build time ({4}), checked when the run knows seq */
  const int64_t ad[1] = {-1}, bd[1] = {4};
  const char* an[1] = {"seq"};
  bt_case c = {"Mul", ad, an, 1, bd, NULL, 1, NULL, 0};
  qk_model* m = bt_build(&c);
  int64_t d[8];
  size_t r = 0;
  GT_OK(qk_model_value_shape(m, "y", d, NULL, 8, &r, NULL));
  assert_int_equal(r, 1);
  assert_int_equal(d[0], 4);
  const int64_t as[1] = {3};
  const float a[3] = {1, 2, 3}, b[4] = {1, 2, 3, 4};
  qk_run* run = NULL;
  GT_OK(qk_run_create(m, &run));
  GT_OK(qk_run_set_input(run, "a", QK_DTYPE_F32, a, sizeof a, as, 1));
  GT_OK(qk_run_set_input(run, "b", QK_DTYPE_F32, b, sizeof b, bd, 1));
  GT_FAILS(qk_run_invoke(run, NULL), QK_ERR_INVALID_ARGUMENT, "do not broadcast");
  qk_run_destroy(run);
  qk_model_destroy(m);
}

static void test_integers(void** state) {
  (void)state;
  const int64_t as[2] = {2, 2}, bs[1] = {2};
  const int64_t a[4] = {3, -4, INT64_MAX, 7}, b[2] = {-2, 5};
  int64_t y[4];
  GT_OK(bt_run_int("Mul", QK_DTYPE_S64, as, 2, a, bs, 1, b, y, 4));
  assert_int_equal(y[0], -6);
  assert_int_equal(y[1], -20);
  assert_int_equal(y[2], 2); /* INT64_MAX * -2 wraps to 2 */
  assert_int_equal(y[3], 35);
  const int32_t a32[4] = {3, -4, 65536, 65537}, b32[2] = {-2, 65536};
  GT_OK(bt_run_int("Mul", QK_DTYPE_S32, as, 2, a32, bs, 1, b32, y, 4));
  assert_int_equal(y[0], -6);
  assert_int_equal(y[1], -262144);
  assert_int_equal(y[2], -131072);
  assert_int_equal(y[3], 65536); /* 65537 * 65536 = 2^32 + 65536 wraps */
}

static void check_int8(const int64_t* as, size_t ar, const int64_t* bs, size_t br, int s8, int constant_b) {
  float a[512], b[512];
  gt_fill(a, 512, -2.0f, 3.0f, 20 + (uint32_t)ar);
  gt_fill(b, 512, -1.5f, 1.0f, 40 + (uint32_t)br);
  bt_case c = {"Mul", as, NULL, ar, bs, NULL, br, constant_b ? b : NULL, s8};
  gt_tensor in[2] = {{"a", as, ar, a}, {"b", bs, br, b}};
  gt_check_int8(bt_build, &c, in, constant_b ? 1 : 2, "y", 1.0);
}

static void test_int8(void** state) {
  (void)state;
  const int64_t s234[3] = {2, 3, 4}, s4[1] = {4}, se_x[4] = {2, 4, 3, 3}, se_s[4] = {2, 4, 1, 1};
  for (int s8 = 0; s8 <= 1; ++s8) {
    check_int8(s234, 3, s234, 3, s8, 0);
    check_int8(se_x, 4, se_s, 4, s8, 0);
    check_int8(s234, 3, s4, 1, s8, 1);
  }
}

/* Runs int8: both operands quantized by one qk.Quantize each. */
static void test_int8_runs_int8(void** state) {
  (void)state;
  const int64_t dims[2] = {4, 8};
  bt_case c = {"Mul", dims, NULL, 2, dims, NULL, 2, NULL, 0};
  float a[32], b[32];
  gt_fill(a, 32, -1.0f, 1.0f, 50);
  gt_fill(b, 32, -1.0f, 1.0f, 51);
  gt_tensor in[2] = {{"a", dims, 2, a}, {"b", dims, 2, b}};
  qk_model* q = bt_build(&c);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, in, 2);
  GT_OK(qk_model_convert(q));
  size_t n = 0, quantize = 0;
  GT_OK(qk_model_node_count(q, &n));
  for (size_t i = 0; i < n; ++i) {
    const char *name, *type;
    GT_OK(qk_model_node_info(q, i, &name, &type));
    if (strcmp(type, "qk.Quantize") == 0) ++quantize;
  }
  assert_int_equal(quantize, 2);
  qk_model_destroy(q);
}

/* x * x: one value read twice. */
static qk_model* build_square(void* ctx) {
  (void)ctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[2] = {4, 16};
  gt_add_input(m, "x", dims, 2);
  const char* ins[] = {"x", "x"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "Mul", "sq", ins, 2, outs, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

static void test_int8_square(void** state) {
  (void)state;
  const int64_t dims[2] = {4, 16};
  float x[64];
  gt_fill(x, 64, -2.0f, 2.0f, 60);
  gt_tensor in = {"x", dims, 2, x};
  gt_check_int8(build_square, NULL, &in, 1, "y", 1.0);
}

static void test_bad_input(void** state) {
  (void)state;
  const int64_t s23[2] = {2, 3}, s4[1] = {4};
  GT_FAILS(bt_try_add("Mul", QK_DTYPE_F32, s23, 2, QK_DTYPE_F32, s4, 1), QK_ERR_INVALID_ARGUMENT, "do not broadcast");
  GT_FAILS(bt_try_add("Mul", QK_DTYPE_F32, s23, 2, QK_DTYPE_S32, s23, 2), QK_ERR_INVALID_ARGUMENT,
           "input 1 is s32, expected f32");
  GT_FAILS(bt_try_add("Mul", QK_DTYPE_BOOL, s23, 2, QK_DTYPE_BOOL, s23, 2), QK_ERR_INVALID_ARGUMENT,
           "input 0 is bool, expected f32, s32 or s64");
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  gt_add_input(m, "a", s23, 2);
  const char* ins[] = {"a"};
  const char* outs[] = {"y"};
  GT_FAILS(qk_model_add_node(m, "Mul", "n", ins, 1, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "takes 2..2 inputs");
  /* ONNX before opset 7 had a "broadcast" attribute; broadcasting is always numpy's here */
  const char* ins2[] = {"a", "a"};
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_int(at, "broadcast", 1));
  GT_FAILS(qk_model_add_node(m, "Mul", "n", ins2, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT, "no attribute 'broadcast'");
  qk_attrs_destroy(at);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_broadcast), cmocka_unit_test(test_float_constant),
      cmocka_unit_test(test_empty),           cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_integers),        cmocka_unit_test(test_int8),
      cmocka_unit_test(test_int8_runs_int8),  cmocka_unit_test(test_int8_square),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
