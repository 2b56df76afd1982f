/* SPDX-License-Identifier: Apache-2.0 */
/* Unsqueeze (ONNX opset 13, axes as an attribute): positions in the output, negative ones relative
 * to the output rank, any order; symbolic dims kept; int8 (codes copied: exact); bad axes (missing,
 * empty, repeated, out of range, rank > 8). */
#include "movement_test_util.h"

static void check(const int64_t* xs, size_t xr, const int64_t* axes, size_t n, const int64_t* want, size_t wr) {
  static float x[256], y[256];
  const size_t count = gt_count(xs, xr);
  mt_iota(x, count, -1.0f, 0.5f);
  qk_model* m = mt_one("Unsqueeze", xs, NULL, xr, mt_ints(mt_attrs(), "axes", axes, n));
  mt_expect_shape(m, "y", wr, want, NULL);
  gt_tensor in[1] = {{"x", xs, xr, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 256, ys, &yr);
  assert_int_equal(yr, wr);
  for (size_t i = 0; i < wr; ++i) assert_int_equal(ys[i], want[i]);
  for (size_t i = 0; i < count; ++i) assert_true(y[i] == x[i]);
  qk_model_destroy(m);
}

static void test_shapes(void** state) {
  (void)state;
  const int64_t d[] = {3, 4, 5};
  /* ONNX's examples: axes [2, 0] on {3, 4, 5} -> {1, 3, 1, 4, 5}; [-1] -> {3, 4, 5, 1} */
  const int64_t a20[] = {2, 0}, w20[] = {1, 3, 1, 4, 5};
  check(d, 3, a20, 2, w20, 5);
  const int64_t am1[] = {-1}, wm1[] = {3, 4, 5, 1};
  check(d, 3, am1, 1, wm1, 4);
  const int64_t a1m1[] = {1, -1}, w1m1[] = {3, 1, 4, 5, 1};
  check(d, 3, a1m1, 2, w1m1, 5);
  const int64_t am5[] = {-5, 4}, wm5[] = {1, 3, 4, 5, 1};
  check(d, 3, am5, 2, wm5, 5);
  /* scalar -> {1}, {1, 1} */
  const int64_t a0[] = {0}, w1[] = {1}, a01[] = {0, 1}, w11[] = {1, 1};
  check(NULL, 0, a0, 1, w1, 1);
  check(NULL, 0, a01, 2, w11, 2);
}

static void test_symbolic(void** state) {
  (void)state;
  const int64_t d[] = {-1, 8};
  const char* n[] = {"batch", NULL};
  const int64_t a[] = {1, 3};
  qk_model* m = mt_one("Unsqueeze", d, n, 2, mt_ints(mt_attrs(), "axes", a, 2));
  const int64_t w[] = {-1, 1, 8, 1};
  const char* wn[] = {"batch", NULL, NULL, NULL};
  mt_expect_shape(m, "y", 4, w, wn);
  static float x[24], y[24];
  mt_iota(x, 24, 0.0f, 1.0f);
  const int64_t xs[] = {3, 8};
  gt_tensor in[1] = {{"x", xs, 2, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 24, ys, &yr);
  assert_int_equal(yr, 4);
  assert_int_equal(ys[0], 3);
  for (int i = 0; i < 24; ++i) assert_true(y[i] == x[i]);
  qk_model_destroy(m);
}

static void attrs_a2(qk_attrs* at) {
  const int64_t a[] = {2, 3};
  GT_OK(qk_attrs_set_ints(at, "axes", a, 2));
}

/* {N, C} -> {N, C, 1, 1}: int8 rank-4 output codes in NCHW order; exact. */
static void test_int8(void** state) {
  (void)state;
  static float x[4 * 6];
  gt_fill(x, 24, -3.0f, 3.0f, 2);
  const int64_t d[] = {4, 6};
  const mt_case c = {"Unsqueeze", d, 2, attrs_a2, 0};
  assert_true(mt_check_int8(&c, x, 0.0) == 0.0);
  int q, r;
  mt_converted_ops(&c, x, &q, &r);
  assert_true(q && !r);
}

static void test_bad(void** state) {
  (void)state;
  const int64_t d[] = {2, 3};
  qk_model* m = mt_graph(d, NULL, 2);
  GT_FAILS(mt_node(m, "Unsqueeze", "x", "y", NULL), QK_ERR_INVALID_ARGUMENT, "needs attribute 'axes'");
  qk_attrs* at = mt_ints(mt_attrs(), "axes", NULL, 0);
  GT_FAILS(mt_node(m, "Unsqueeze", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "axes is empty");
  qk_attrs_destroy(at);
  const struct {
    int64_t axes[8];
    size_t n;
    const char* needle;
  } bad[] = {
      {{0, -4}, 2, "names output dimension 0 twice"},
      {{3}, 1, "axes element 3 is outside [-3, 3)"},
      {{-4}, 1, "axes element -4 is outside"},
      {{0, 1, 2, 3, 4, 5, 6}, 7, "rank 9"},
  };
  for (size_t i = 0; i < 4; ++i) {
    at = mt_ints(mt_attrs(), "axes", bad[i].axes, bad[i].n);
    GT_FAILS(mt_node(m, "Unsqueeze", "x", "y", at), QK_ERR_INVALID_ARGUMENT, bad[i].needle);
    qk_attrs_destroy(at);
  }
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_int8),
      cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
