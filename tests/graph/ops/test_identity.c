/* SPDX-License-Identifier: Apache-2.0 */
/* Identity: f32 and s64 values copied, symbolic and rank-0 shapes, int8 (u8 and s8) keeping the
 * input's qparams with the codes copied (0 steps from the float op on the dequantized input),
 * also between two int8 nodes, and bad arity. */
#include "unary_test_util.h"

static double ref_identity(double x, const void* p) {
  (void)p;
  return x;
}

static void attr_ratio(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "ratio", 0.5f)); }

static void test_float(void** state) {
  (void)state;
  const int64_t dims[3] = {2, 3, 5};
  float x[30];
  gt_fill(x, 30, -100.0f, 100.0f, 15);
  ut_case c = {"Identity", NULL, dims, NULL, 3, 0};
  ut_check_float(&c, dims, 3, x, ref_identity, NULL, 0.0);
}

/* Any dtype: an s64 value (shape arithmetic in exported models) goes through unchanged. */
static void test_s64(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[1] = {-1};
  const char* names[1] = {"n"};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_S64, dims, names, 1));
  const char* ins[] = {"x"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "Identity", "n", ins, 1, outs, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  qk_dtype dt;
  int64_t d[1];
  size_t r = 0;
  GT_OK(qk_model_value_shape(m, "y", d, NULL, 1, &r, &dt));
  assert_int_equal(dt, QK_DTYPE_S64);
  const int64_t x[4] = {-5, 0, 1LL << 40, 7}, shape[1] = {4};
  int64_t y[4] = {0};
  qk_run* run = NULL;
  GT_OK(qk_run_create(m, &run));
  GT_OK(qk_run_set_input(run, "x", QK_DTYPE_S64, x, sizeof x, shape, 1));
  GT_OK(qk_run_invoke(run, NULL));
  GT_OK(qk_run_get_output(run, "y", QK_DTYPE_S64, y, sizeof y));
  for (int i = 0; i < 4; ++i) assert_int_equal(y[i], x[i]);
  qk_run_destroy(run);
  qk_model_destroy(m);
}

static void test_shapes(void** state) {
  (void)state;
  ut_check_symbolic("Identity", NULL);
  ut_case c = {"Identity", NULL, NULL, NULL, 0, 0};
  const float x = -2.0f;
  ut_check_float(&c, NULL, 0, &x, ref_identity, NULL, 0.0);
}

static void check_int8(int s8) {
  const int64_t dims[4] = {2, 3, 4, 4};
  ut_case c = {"Identity", NULL, dims, NULL, 4, s8};
  float x[96];
  gt_fill(x, 96, -3.0f, 5.0f, 16);
  gt_tensor in = {"x", dims, 4, x};
  gt_check_int8(ut_build, &c, &in, 1, "y", 0.0);
  qk_model* q = ut_convert(&c, &in);
  assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 1); /* the node ran int8 */
  float sx;
  int32_t zx, a, b;
  gt_value_qparams(q, "x", &sx, &zx, &a, &b);
  ut_expect_qparams(q, "y", sx, zx); /* kept the input's */
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

/* Relu -> Identity -> Relu: int8 all along, codes unchanged. */
static qk_model* build_chain(void* ctx) {
  (void)ctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[2] = {4, 16};
  gt_add_input(m, "x", dims, 2);
  const char* a[] = {"x"};
  const char* b[] = {"r"};
  const char* c[] = {"i"};
  const char* d[] = {"y"};
  GT_OK(qk_model_add_node(m, "Relu", "relu1", a, 1, b, 1, NULL));
  GT_OK(qk_model_add_node(m, "Identity", "id", b, 1, c, 1, NULL));
  GT_OK(qk_model_add_node(m, "Relu", "relu2", c, 1, d, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

static void test_int8_chain(void** state) {
  (void)state;
  const int64_t dims[2] = {4, 16};
  float x[64];
  gt_fill(x, 64, -2.0f, 2.0f, 17);
  gt_tensor in = {"x", dims, 2, x};
  gt_check_int8(build_chain, NULL, &in, 1, "y", 0.0);
  qk_model* q = build_chain(NULL);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, &in, 1);
  GT_OK(qk_model_convert(q));
  /* one Quantize at the input and no Dequantize between the nodes: a float Identity would
   * need a Dequantize before it and a second Quantize after it */
  assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 1);
  assert_int_equal(ut_count_nodes(q, "qk.Dequantize"), 0);
  qk_model_destroy(q);
}

static void test_bad_input(void** state) {
  (void)state;
  GT_FAILS(ut_try_add("Identity", NULL, QK_DTYPE_F32, 2, 2), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
  GT_FAILS(ut_try_add("Identity", attr_ratio, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT, "no attribute 'ratio'");
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[1] = {3};
  gt_add_input(m, "x", dims, 1);
  const char* ins[] = {"x"};
  const char* outs[] = {"y", "z"};
  GT_FAILS(qk_model_add_node(m, "Identity", "n", ins, 1, outs, 2, NULL), QK_ERR_INVALID_ARGUMENT, "has 1..1 outputs");
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),     cmocka_unit_test(test_s64),     cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_int8_u8),   cmocka_unit_test(test_int8_s8), cmocka_unit_test(test_int8_chain),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
