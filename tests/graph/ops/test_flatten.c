/* SPDX-License-Identifier: Apache-2.0 */
/* Flatten (ONNX opset 13): every axis in [-rank, rank], rank 0, symbolic dims (a lone symbol kept,
 * other products derived and resolved at run time), int8 (codes copied: exact, and from NHWC codes
 * through a reorder), bad axes and attributes. */
#include "movement_test_util.h"

static qk_model* flatten(const int64_t* dims, const char* const* names, size_t rank, int has_axis, int64_t axis) {
  qk_attrs* at = mt_attrs();
  if (has_axis) mt_int(at, "axis", axis);
  return mt_one("Flatten", dims, names, rank, at);
}

static void test_axes(void** state) {
  (void)state;
  const int64_t d[] = {2, 3, 4, 5};
  static float x[120], y[120];
  mt_iota(x, 120, 5.0f, -0.5f);
  gt_tensor in[1] = {{"x", d, 4, x}};
  /* axis -> {prod(d[:axis]), prod(d[axis:])}, computed by hand */
  const struct {
    int has;
    int64_t axis, rows, cols;
  } cases[] = {{0, 0, 2, 60},  {1, 0, 1, 120}, {1, 1, 2, 60},  {1, 2, 6, 20},  {1, 3, 24, 5},
               {1, 4, 120, 1}, {1, -1, 24, 5}, {1, -3, 2, 60}, {1, -4, 1, 120}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    qk_model* m = flatten(d, NULL, 4, cases[i].has, cases[i].axis);
    const int64_t w[] = {cases[i].rows, cases[i].cols};
    mt_expect_shape(m, "y", 2, w, NULL);
    int64_t ys[8];
    size_t yr = 0;
    gt_run(m, in, 1, "y", y, 120, ys, &yr);
    assert_int_equal(yr, 2);
    assert_int_equal(ys[0], w[0]);
    assert_int_equal(ys[1], w[1]);
    for (int k = 0; k < 120; ++k) assert_true(y[k] == x[k]);
    qk_model_destroy(m);
  }
  /* rank 0: {1, 1} */
  qk_model* m = flatten(NULL, NULL, 0, 1, 0);
  const int64_t w11[] = {1, 1};
  mt_expect_shape(m, "y", 2, w11, NULL);
  qk_model_destroy(m);
}

static void test_symbolic(void** state) {
  (void)state;
  const int64_t d[] = {-1, 3, 4, 5};
  const char* n[] = {"batch", NULL, NULL, NULL};
  qk_model* m = flatten(d, n, 4, 0, 0);
  const int64_t w1[] = {-1, 60};
  const char* n1[] = {"batch", NULL};
  mt_expect_shape(m, "y", 2, w1, n1);
  qk_model_destroy(m);
  /* axis 2: batch * 3 is derived */
  m = flatten(d, n, 4, 1, 2);
  const int64_t w2[] = {-1, 20};
  const char* n2[] = {"*", NULL};
  mt_expect_shape(m, "y", 2, w2, n2);
  static float x[7 * 60], y[7 * 60];
  mt_iota(x, 420, 0.0f, 1.0f);
  const int64_t xs[] = {7, 3, 4, 5};
  gt_tensor in[1] = {{"x", xs, 4, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 420, ys, &yr);
  assert_int_equal(ys[0], 21);
  assert_int_equal(ys[1], 20);
  for (int k = 0; k < 420; ++k) assert_true(y[k] == x[k]);
  qk_model_destroy(m);
  /* axis 0 over a symbolic tensor: {1, derived}; {1, batch} keeps batch on the right */
  m = flatten(d, n, 4, 1, 0);
  const int64_t w3[] = {1, -1};
  const char* n3[] = {NULL, "*"};
  mt_expect_shape(m, "y", 2, w3, n3);
  qk_model_destroy(m);
  const int64_t d2[] = {1, -1};
  const char* nn2[] = {NULL, "seq"};
  m = flatten(d2, nn2, 2, 1, 0);
  const char* n4[] = {NULL, "seq"};
  mt_expect_shape(m, "y", 2, w3, n4);
  qk_model_destroy(m);
}

static void attrs_axis2(qk_attrs* at) { GT_OK(qk_attrs_set_int(at, "axis", 2)); }

static void test_int8(void** state) {
  (void)state;
  static float x[2 * 4 * 3 * 3];
  gt_fill(x, 72, -1.0f, 4.0f, 5);
  const int64_t d[] = {2, 4, 3, 3};
  const mt_case c = {"Flatten", d, 4, NULL, 0};
  assert_true(mt_check_int8(&c, x, 0.0) == 0.0);
  const mt_case c2 = {"Flatten", d, 4, attrs_axis2, 0};
  assert_true(mt_check_int8(&c2, x, 0.0) == 0.0);
  int q, r;
  mt_converted_ops(&c, x, &q, &r);
  assert_true(q); /* (a rank-4 qk.Quantize writes NHWC: a reorder follows) */
  /* NHWC codes from a conv: an explicit reorder, then the NCHW bytes (the identity conv re-rounds
   * to its observed range: within 1 step) */
  const mt_case cn = {"Flatten", d, 4, NULL, 1};
  mt_converted_ops(&cn, x, &q, &r);
  assert_true(q && r);
  mt_check_int8(&cn, x, 1.0);
}

static void test_bad(void** state) {
  (void)state;
  const int64_t d[] = {2, 3, 4, 5};
  qk_model* m = mt_graph(d, NULL, 4);
  qk_attrs* at = mt_int(mt_attrs(), "axis", 5);
  GT_FAILS(mt_node(m, "Flatten", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "axis 5 is outside [-4, 4]");
  qk_attrs_destroy(at);
  at = mt_int(mt_attrs(), "axis", -5);
  GT_FAILS(mt_node(m, "Flatten", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "axis -5 is outside");
  qk_attrs_destroy(at);
  at = mt_attrs();
  GT_OK(qk_attrs_set_float(at, "axis", 1.0f));
  GT_FAILS(mt_node(m, "Flatten", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "'axis' must be a");
  qk_attrs_destroy(at);
  at = mt_int(mt_attrs(), "axes", 1);
  GT_FAILS(mt_node(m, "Flatten", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "no attribute 'axes'");
  qk_attrs_destroy(at);
  const char* two[] = {"x", "x"};
  const char* outs[] = {"y"};
  GT_FAILS(qk_model_add_node(m, "Flatten", "n", two, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_axes),
      cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_int8),
      cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
