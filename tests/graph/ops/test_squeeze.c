/* SPDX-License-Identifier: Apache-2.0 */
/* Squeeze (ONNX opset 13, axes as an attribute): all size-1 dims or the listed ones (negative
 * axes), symbolic dims (kept; a listed symbolic dim is checked at run time; no axes with a symbolic
 * dim is refused), int8 (codes copied: exact), bad axes. */
#include "movement_test_util.h"

static qk_model* squeeze(const int64_t* dims, const char* const* names, size_t rank, const int64_t* axes, size_t n) {
  qk_attrs* at = mt_attrs();
  if (axes) mt_ints(at, "axes", axes, n);
  return mt_one("Squeeze", dims, names, rank, at);
}

static void check(const int64_t* xs, size_t xr, const int64_t* axes, size_t n, const int64_t* want, size_t wr) {
  static float x[256], y[256];
  const size_t count = gt_count(xs, xr);
  mt_iota(x, count, 2.0f, -0.75f);
  qk_model* m = squeeze(xs, NULL, xr, axes, n);
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
  const int64_t d[] = {1, 3, 1, 4, 1};
  const int64_t w_all[] = {3, 4}, w0[] = {3, 1, 4, 1}, w2m1[] = {1, 3, 4};
  check(d, 5, NULL, 0, w_all, 2);
  const int64_t a0[] = {0}, a2m1[] = {2, -1}, am5[] = {-5};
  check(d, 5, a0, 1, w0, 4);
  check(d, 5, am5, 1, w0, 4);
  check(d, 5, a2m1, 2, w2m1, 3);
  /* an empty list squeezes nothing; {1} -> scalar */
  check(d, 5, a0, 0, d, 5);
  const int64_t one[] = {1};
  check(one, 1, NULL, 0, NULL, 0);
  check(one, 1, a0, 1, NULL, 0);
  /* nothing to squeeze */
  const int64_t d23[] = {2, 3};
  check(d23, 2, NULL, 0, d23, 2);
}

static void test_symbolic(void** state) {
  (void)state;
  const int64_t d[] = {-1, 1, -1};
  const char* n[] = {"batch", NULL, "seq"};
  const int64_t a1[] = {1};
  qk_model* m = squeeze(d, n, 3, a1, 1);
  const int64_t w[] = {-1, -1};
  const char* wn[] = {"batch", "seq"};
  mt_expect_shape(m, "y", 2, w, wn);
  qk_model_destroy(m);
  /* a listed symbolic dim: accepted, then checked when the model runs */
  const int64_t d2[] = {-1, 4};
  const char* n2[] = {"batch", NULL};
  const int64_t a0[] = {0};
  m = squeeze(d2, n2, 2, a0, 1);
  const int64_t w2[] = {4};
  mt_expect_shape(m, "y", 1, w2, NULL);
  float x[4] = {1, 2, 3, 4}, y[4];
  const int64_t xs[] = {1, 4};
  gt_tensor in[1] = {{"x", xs, 2, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 4, ys, &yr);
  assert_int_equal(yr, 1);
  assert_int_equal(ys[0], 4);
  const int64_t bad[] = {3, 4};
  mt_run_fails(m, bad, 2, QK_ERR_INVALID_ARGUMENT, "dimension 0 of {3, 4} is 3, not 1");
  qk_model_destroy(m);
  /* without axes a symbolic dim might or might not be 1: refused */
  m = mt_graph(d, n, 3);
  GT_FAILS(mt_node(m, "Squeeze", "x", "y", NULL), QK_ERR_INVALID_ARGUMENT,
           "dimension 0 of {batch, 1, seq} is symbolic");
  qk_model_destroy(m);
}

static void attrs_a2(qk_attrs* at) {
  const int64_t a[] = {2};
  GT_OK(qk_attrs_set_ints(at, "axes", a, 1));
}

static void test_int8(void** state) {
  (void)state;
  static float x[2 * 3 * 1 * 5];
  gt_fill(x, 30, -1.0f, 2.0f, 21);
  const int64_t d[] = {2, 3, 1, 5};
  const mt_case c = {"Squeeze", d, 4, attrs_a2, 0};
  assert_true(mt_check_int8(&c, x, 0.0) == 0.0);
  const mt_case c2 = {"Squeeze", d, 4, NULL, 0};
  assert_true(mt_check_int8(&c2, x, 0.0) == 0.0);
  int q, r;
  mt_converted_ops(&c, x, &q, &r);
  assert_true(q);
}

static void test_bad(void** state) {
  (void)state;
  const int64_t d[] = {1, 3, 1};
  qk_model* m = mt_graph(d, NULL, 3);
  const struct {
    int64_t axes[3];
    size_t n;
    const char* needle;
  } bad[] = {
      {{1}, 1, "dimension 1 of {1, 3, 1} is 3, not 1"},
      {{0, -3}, 2, "names dimension 0 twice"},
      {{3}, 1, "axes element 3 is outside [-3, 3)"},
      {{-4}, 1, "axes element -4 is outside"},
  };
  for (size_t i = 0; i < 4; ++i) {
    qk_attrs* at = mt_ints(mt_attrs(), "axes", bad[i].axes, bad[i].n);
    GT_FAILS(mt_node(m, "Squeeze", "x", "y", at), QK_ERR_INVALID_ARGUMENT, bad[i].needle);
    qk_attrs_destroy(at);
  }
  qk_attrs* at = mt_int(mt_attrs(), "axes", 0);
  GT_FAILS(mt_node(m, "Squeeze", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "'axes' must be a");
  qk_attrs_destroy(at);
  at = mt_int(mt_attrs(), "axis", 0);
  GT_FAILS(mt_node(m, "Squeeze", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "no attribute 'axis'");
  qk_attrs_destroy(at);
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
