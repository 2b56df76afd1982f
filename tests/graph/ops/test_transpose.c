/* SPDX-License-Identifier: Apache-2.0 */
/* Transpose: default (reversed) perm, explicit perms against a hand-written index loop (rank 1 to
 * 5, scalars), symbolic dims moving with their axis, s64 data, int8 (codes moved: exact, from NHWC
 * codes through a reorder), bad perms. */
#include "movement_test_util.h"

/* Reference: y[o] = x[i] where i_{perm[k]} = o_k, walking o in row-major order. */
static void ref_transpose(const float* x, const int64_t* xs, size_t r, const int64_t* perm, float* y) {
  int64_t ys[8], xstride[8], o[8] = {0};
  size_t n = 1;
  for (size_t k = 0; k < r; ++k) {
    ys[k] = xs[perm[k]];
    n *= (size_t)xs[k];
  }
  for (size_t k = r; k-- > 0;) xstride[k] = k + 1 == r ? 1 : xstride[k + 1] * xs[k + 1];
  for (size_t i = 0; i < n; ++i) {
    int64_t src = 0;
    for (size_t k = 0; k < r; ++k) src += o[k] * xstride[perm[k]];
    y[i] = x[src];
    for (size_t k = r; k-- > 0;) {
      if (++o[k] < ys[k]) break;
      o[k] = 0;
    }
  }
}

static void check(const int64_t* xs, size_t r, const int64_t* perm, int explicit_perm) {
  static float x[1024], y[1024], ref[1024];
  const size_t n = gt_count(xs, r);
  gt_fill(x, n, -5.0f, 5.0f, (uint32_t)(n + r));
  int64_t rev[8];
  for (size_t k = 0; k < r; ++k) rev[k] = (int64_t)(r - 1 - k);
  const int64_t* p = explicit_perm ? perm : rev;
  qk_attrs* at = mt_attrs();
  if (explicit_perm) mt_ints(at, "perm", perm, r);
  qk_model* m = mt_one("Transpose", xs, NULL, r, at);
  int64_t want[8];
  for (size_t k = 0; k < r; ++k) want[k] = xs[p[k]];
  mt_expect_shape(m, "y", r, want, NULL);
  gt_tensor in[1] = {{"x", xs, r, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 1024, ys, &yr);
  assert_int_equal(yr, r);
  ref_transpose(x, xs, r, p, ref);
  for (size_t i = 0; i < n; ++i)
    if (y[i] != ref[i]) fail_msg("y[%zu] = %g, reference %g", i, (double)y[i], (double)ref[i]);
  qk_model_destroy(m);
}

static void test_float(void** state) {
  (void)state;
  const int64_t d234[] = {2, 3, 4};
  check(d234, 3, NULL, 0);
  const int64_t p021[] = {0, 2, 1}, p120[] = {1, 2, 0}, p012[] = {0, 1, 2};
  check(d234, 3, p021, 1);
  check(d234, 3, p120, 1);
  check(d234, 3, p012, 1);
  const int64_t d4[] = {2, 3, 4, 5}, nhwc[] = {0, 2, 3, 1}, heads[] = {0, 2, 1, 3};
  check(d4, 4, nhwc, 1);
  check(d4, 4, heads, 1);
  check(d4, 4, NULL, 0);
  const int64_t d5[] = {2, 1, 3, 2, 4}, p5[] = {4, 0, 3, 1, 2};
  check(d5, 5, p5, 1);
  const int64_t d1[] = {7}, p0[] = {0};
  check(d1, 1, p0, 1);
  check(d1, 1, NULL, 0);
  check(NULL, 0, NULL, 0);
  /* hand-computed: [[1, 2, 3], [4, 5, 6]]^T = [[1, 4], [2, 5], [3, 6]] */
  const int64_t d23[] = {2, 3};
  const float x[] = {1, 2, 3, 4, 5, 6}, want[] = {1, 4, 2, 5, 3, 6};
  qk_model* m = mt_one("Transpose", d23, NULL, 2, mt_attrs());
  float y[6];
  gt_tensor in[1] = {{"x", d23, 2, x}};
  gt_run(m, in, 1, "y", y, 6, NULL, NULL);
  for (int i = 0; i < 6; ++i) assert_true(y[i] == want[i]);
  qk_model_destroy(m);
}

static void test_symbolic(void** state) {
  (void)state;
  const int64_t d[] = {-1, -1, 2, 4}, perm[] = {0, 2, 1, 3};
  const char* n[] = {"batch", "seq", NULL, NULL};
  qk_model* m = mt_one("Transpose", d, n, 4, mt_ints(mt_attrs(), "perm", perm, 4));
  const int64_t w[] = {-1, 2, -1, 4};
  const char* wn[] = {"batch", NULL, "seq", NULL};
  mt_expect_shape(m, "y", 4, w, wn);
  static float x[3 * 5 * 8], y[120], ref[120];
  gt_fill(x, 120, -1.0f, 1.0f, 3);
  const int64_t xs[] = {3, 5, 2, 4};
  gt_tensor in[1] = {{"x", xs, 4, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 120, ys, &yr);
  assert_int_equal(ys[0], 3);
  assert_int_equal(ys[1], 2);
  assert_int_equal(ys[2], 5);
  assert_int_equal(ys[3], 4);
  ref_transpose(x, xs, 4, perm, ref);
  for (int i = 0; i < 120; ++i) assert_true(y[i] == ref[i]);
  qk_model_destroy(m);
}

static void test_s64(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t d[] = {2, 3};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_S64, d, NULL, 2));
  GT_OK(mt_node(m, "Transpose", "x", "y", NULL));
  GT_OK(qk_model_add_output(m, "y"));
  const int64_t x[] = {1, 2, 3, INT64_MAX, INT64_MIN, -6}, want[] = {1, INT64_MAX, 2, INT64_MIN, 3, -6};
  int64_t y[6];
  mt_run_typed(m, QK_DTYPE_S64, 8, x, d, 2, y, 6, NULL, NULL);
  for (int i = 0; i < 6; ++i) assert_true(y[i] == want[i]);
  qk_model_destroy(m);
}

static void attrs_nhwc(qk_attrs* at) {
  const int64_t p[] = {0, 2, 3, 1};
  GT_OK(qk_attrs_set_ints(at, "perm", p, 4));
}

static void test_int8(void** state) {
  (void)state;
  static float x[2 * 3 * 4 * 5];
  gt_fill(x, 120, -3.0f, 1.0f, 9);
  const int64_t d[] = {2, 3, 4, 5};
  const mt_case c = {"Transpose", d, 4, attrs_nhwc, 0};
  assert_true(mt_check_int8(&c, x, 0.0) == 0.0);
  const mt_case c2 = {"Transpose", d, 4, NULL, 0};
  assert_true(mt_check_int8(&c2, x, 0.0) == 0.0);
  int q, r;
  mt_converted_ops(&c, x, &q, &r);
  assert_true(q); /* (a rank-4 qk.Quantize writes NHWC: a reorder follows) */
  const mt_case cn = {"Transpose", d, 4, attrs_nhwc, 1};
  mt_converted_ops(&cn, x, &q, &r);
  assert_true(q && r);
  mt_check_int8(&cn, x, 1.0); /* the identity conv re-rounds: within 1 step */
}

static void test_bad(void** state) {
  (void)state;
  const int64_t d[] = {2, 3, 4};
  qk_model* m = mt_graph(d, NULL, 3);
  const int64_t bad[][4] = {{0, 1}, {0, 1, 1}, {0, 1, 3}, {-1, 0, 1}, {0, 1, 2, 3}};
  const size_t len[] = {2, 3, 3, 3, 4};
  for (size_t i = 0; i < 5; ++i) {
    qk_attrs* at = mt_ints(mt_attrs(), "perm", bad[i], len[i]);
    GT_FAILS(mt_node(m, "Transpose", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "is not a permutation of 0..2");
    qk_attrs_destroy(at);
  }
  qk_attrs* at = mt_int(mt_attrs(), "perm", 1);
  GT_FAILS(mt_node(m, "Transpose", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "'perm' must be a");
  qk_attrs_destroy(at);
  GT_FAILS(mt_node(m, "Transpose", "nope", "y", NULL), QK_ERR_NOT_FOUND, "unknown input value 'nope'");
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float), cmocka_unit_test(test_symbolic), cmocka_unit_test(test_s64),
      cmocka_unit_test(test_int8),  cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
