/* SPDX-License-Identifier: Apache-2.0 */
/* Slice (ONNX opset 13, starts / ends / axes / steps as attributes): hand-computed slices of a
 * {3, 4} matrix covering negative starts and ends, clamping, INT64_MAX / INT64_MIN ends, negative and
 * huge steps and empty results; a rank-4 slice against a loop over hand-resolved indices; symbolic
 * dims; int8 (codes moved: exact); bad attributes. */
#include "movement_test_util.h"

#define MAXI INT64_MAX
#define MINI INT64_MIN

typedef struct slice_attrs {
  int64_t starts[4], ends[4], axes[4], steps[4];
  size_t n;
  int has_axes, has_steps;
} slice_attrs;

static qk_attrs* attrs_of(const slice_attrs* s) {
  qk_attrs* at = mt_attrs();
  mt_ints(at, "starts", s->starts, s->n);
  mt_ints(at, "ends", s->ends, s->n);
  if (s->has_axes) mt_ints(at, "axes", s->axes, s->n);
  if (s->has_steps) mt_ints(at, "steps", s->steps, s->n);
  return at;
}

/* x = 0..11 as {3, 4}: [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]. */
static void test_matrix(void** state) {
  (void)state;
  const struct {
    slice_attrs s;
    int64_t rows, cols;
    float want[12];
  } cases[] = {
      {{{1, 0}, {2, 3}, {0}, {0}, 2, 0, 0}, 1, 3, {4, 5, 6}},
      /* ONNX's example: ends -1 (= 2) and 1000 (clamped to 4) */
      {{{0, 1}, {-1, 1000}, {0}, {0}, 2, 0, 0}, 2, 3, {1, 2, 3, 5, 6, 7}},
      /* reverse the columns: start -1, end INT64_MIN, step -1 */
      {{{-1}, {MINI}, {1}, {-1}, 1, 1, 1}, 3, 4, {3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8}},
      /* start INT64_MAX clamps to the last row, step -2 */
      {{{MAXI}, {MINI}, {0}, {-2}, 1, 1, 1}, 2, 4, {8, 9, 10, 11, 0, 1, 2, 3}},
      /* every other column, negative axis, to INT64_MAX */
      {{{0}, {MAXI}, {-1}, {2}, 1, 1, 1}, 3, 2, {0, 2, 4, 6, 8, 10}},
      /* out-of-range start and end clamp to the whole axis */
      {{{-100}, {100}, {0}, {0}, 1, 1, 0}, 3, 4, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
      {{{1}, {4}, {1}, {3}, 1, 1, 1}, 3, 1, {1, 5, 9}},
      {{{0}, {4}, {1}, {3}, 1, 1, 1}, 3, 2, {0, 3, 4, 7, 8, 11}},
      {{{3}, {0}, {1}, {-3}, 1, 1, 1}, 3, 1, {3, 7, 11}},
      /* a step larger than the axis: one element (and no overflow) */
      {{{1}, {MAXI}, {1}, {MAXI}, 1, 1, 1}, 3, 1, {1, 5, 9}},
      {{{-1}, {MINI}, {1}, {-MAXI}, 1, 1, 1}, 3, 1, {3, 7, 11}},
      /* both axes listed out of order, negative start */
      {{{1, -2}, {3, 3}, {1, 0}, {2, 1}, 2, 1, 1}, 2, 1, {5, 9}},
  };
  float x[12];
  mt_iota(x, 12, 0.0f, 1.0f);
  const int64_t d[] = {3, 4};
  gt_tensor in[1] = {{"x", d, 2, x}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    qk_attrs* at = attrs_of(&cases[i].s);
    qk_model* m = mt_one("Slice", d, NULL, 2, at);
    const int64_t w[] = {cases[i].rows, cases[i].cols};
    mt_expect_shape(m, "y", 2, w, NULL);
    float y[12];
    int64_t ys[8];
    size_t yr = 0;
    gt_run(m, in, 1, "y", y, 12, ys, &yr);
    assert_int_equal(yr, 2);
    assert_int_equal(ys[0], w[0]);
    assert_int_equal(ys[1], w[1]);
    for (int64_t k = 0; k < w[0] * w[1]; ++k)
      if (y[k] != cases[i].want[k])
        fail_msg("case %zu: y[%lld] = %g, expected %g", i, (long long)k, (double)y[k], (double)cases[i].want[k]);
    qk_model_destroy(m);
  }
  /* empty results: start after end, or a negative step from the first element */
  const slice_attrs e1 = {{2}, {1}, {1}, {1}, 1, 1, 1}, e2 = {{0}, {MINI}, {0}, {1}, 1, 1, 0};
  const int64_t w1[] = {3, 0}, w2[] = {0, 4};
  qk_model* m = mt_one("Slice", d, NULL, 2, attrs_of(&e1));
  mt_expect_shape(m, "y", 2, w1, NULL);
  qk_model_destroy(m);
  m = mt_one("Slice", d, NULL, 2, attrs_of(&e2));
  mt_expect_shape(m, "y", 2, w2, NULL);
  qk_model_destroy(m);
}

/* {2, 3, 4, 5}: axis 1 [1:3], axis 2 from 3 down by 2 with end -100 (clamped to -1), axis 3
 * [0:5:2]. Indices resolved by hand: {0, 1} x {1, 2} x {3, 1} x {0, 2, 4}. */
static const slice_attrs k4 = {{1, -1, 0}, {3, -100, 5}, {1, 2, 3}, {1, -2, 2}, 3, 1, 1};

static void test_rank4(void** state) {
  (void)state;
  static float x[120], y[120];
  gt_fill(x, 120, -2.0f, 2.0f, 17);
  const int64_t d[] = {2, 3, 4, 5};
  qk_model* m = mt_one("Slice", d, NULL, 4, attrs_of(&k4));
  const int64_t w[] = {2, 2, 2, 3};
  mt_expect_shape(m, "y", 4, w, NULL);
  gt_tensor in[1] = {{"x", d, 4, x}};
  gt_run(m, in, 1, "y", y, 120, NULL, NULL);
  const int i1[] = {1, 2}, i2[] = {3, 1}, i3[] = {0, 2, 4};
  size_t k = 0;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 2; ++c)
        for (int e = 0; e < 3; ++e, ++k) assert_true(y[k] == x[((a * 3 + i1[b]) * 4 + i2[c]) * 5 + i3[e]]);
  qk_model_destroy(m);
}

static void test_symbolic(void** state) {
  (void)state;
  const int64_t d[] = {-1, 8};
  const char* n[] = {"batch", NULL};
  const slice_attrs cols = {{2}, {6}, {1}, {1}, 1, 1, 0}, whole = {{0}, {MAXI}, {0}, {1}, 1, 1, 0},
                    tail = {{1}, {MAXI}, {0}, {1}, 1, 1, 0};
  qk_model* m = mt_one("Slice", d, n, 2, attrs_of(&cols));
  const int64_t w[] = {-1, 4};
  const char* wn[] = {"batch", NULL};
  mt_expect_shape(m, "y", 2, w, wn);
  qk_model_destroy(m);
  m = mt_one("Slice", d, n, 2, attrs_of(&whole));
  const int64_t w2[] = {-1, 8};
  mt_expect_shape(m, "y", 2, w2, wn);
  qk_model_destroy(m);
  m = mt_one("Slice", d, n, 2, attrs_of(&tail));
  const char* dn[] = {"*", NULL};
  mt_expect_shape(m, "y", 2, w2, dn);
  static float x[24], y[24];
  mt_iota(x, 24, 0.0f, 1.0f);
  const int64_t xs[] = {3, 8};
  gt_tensor in[1] = {{"x", xs, 2, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 24, ys, &yr);
  assert_int_equal(ys[0], 2);
  assert_int_equal(ys[1], 8);
  for (int i = 0; i < 16; ++i) assert_true(y[i] == x[8 + i]);
  qk_model_destroy(m);
}

static void attrs_k4(qk_attrs* at) {
  GT_OK(qk_attrs_set_ints(at, "starts", k4.starts, 3));
  GT_OK(qk_attrs_set_ints(at, "ends", k4.ends, 3));
  GT_OK(qk_attrs_set_ints(at, "axes", k4.axes, 3));
  GT_OK(qk_attrs_set_ints(at, "steps", k4.steps, 3));
}

static void test_int8(void** state) {
  (void)state;
  static float x[120];
  gt_fill(x, 120, -1.0f, 3.0f, 4);
  const int64_t d[] = {2, 3, 4, 5};
  const mt_case c = {"Slice", d, 4, attrs_k4, 0};
  assert_true(mt_check_int8(&c, x, 0.0) == 0.0);
  int q, r;
  mt_converted_ops(&c, x, &q, &r);
  assert_true(q);
  const mt_case cn = {"Slice", d, 4, attrs_k4, 1};
  mt_check_int8(&cn, x, 1.0); /* the identity conv re-rounds: within 1 step */
}

static void test_bad(void** state) {
  (void)state;
  const int64_t d[] = {3, 4};
  qk_model* m = mt_graph(d, NULL, 2);
  const struct {
    slice_attrs s;
    const char* needle;
  } bad[] = {
      {{{0}, {1}, {0}, {0}, 1, 1, 1}, "steps[0] is 0"},
      {{{0, 0}, {1, 1}, {1, -1}, {1, 1}, 2, 1, 1}, "names dimension 1 twice"},
      {{{0}, {1}, {2}, {1}, 1, 1, 1}, "axes element 2 is outside [-2, 2)"},
      {{{0, 0, 0}, {1, 1, 1}, {0}, {0}, 3, 0, 0}, "3 starts for an input of rank 2"},
      {{{0}, {1}, {0}, {MINI}, 1, 1, 1}, "steps[0] is out of range"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    qk_attrs* at = attrs_of(&bad[i].s);
    GT_FAILS(mt_node(m, "Slice", "x", "y", at), QK_ERR_INVALID_ARGUMENT, bad[i].needle);
    qk_attrs_destroy(at);
  }
  const int64_t z[] = {0}, one[] = {1}, two[] = {1, 1};
  qk_attrs* at = mt_ints(mt_attrs(), "starts", z, 1);
  GT_FAILS(mt_node(m, "Slice", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "needs attribute 'ends'");
  mt_ints(at, "ends", one, 1);
  mt_ints(at, "steps", two, 2);
  GT_FAILS(mt_node(m, "Slice", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "must have the same length");
  mt_ints(at, "ends", two, 2);
  GT_FAILS(mt_node(m, "Slice", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "starts has 1 elements, ends 2");
  qk_attrs_destroy(at);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matrix), cmocka_unit_test(test_rank4), cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_int8),   cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
