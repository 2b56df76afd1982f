/* SPDX-License-Identifier: Apache-2.0 */
/* Softmax (opset 13, one axis): shapes (any axis, negative axes, symbolic dims), float against a
 * double-precision loop and hand-computed values, stability on large logits, bad input, and the
 * int8 rule (kFloatOnly: a converted model runs it in float, bit-identical to the float model). */
#include "graph_test_util.h"

/* |a - b| <= tol, failing on NaN (cmocka's assert_float_equal lets a NaN through). */
#define near(a, b, tol)                                                                                   \
  do {                                                                                                    \
    const double near_a_ = (double)(a), near_b_ = (double)(b);                                            \
    if (!(fabs(near_a_ - near_b_) <= (double)(tol))) fail_msg("%s = %.9g, expected %.9g", #a, near_a_, near_b_); \
  } while (0)

/* softmax of x {shape} along axis, in double. */
static void ref_softmax(const float* x, const int64_t* shape, size_t rank, size_t axis, float* y) {
  size_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= (size_t)shape[d];
  for (size_t d = axis + 1; d < rank; ++d) inner *= (size_t)shape[d];
  const size_t n = (size_t)shape[axis];
  for (size_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < inner; ++i) {
      double m = -INFINITY, s = 0.0;
      for (size_t k = 0; k < n; ++k) m = fmax(m, x[(o * n + k) * inner + i]);
      for (size_t k = 0; k < n; ++k) s += exp(x[(o * n + k) * inner + i] - m);
      for (size_t k = 0; k < n; ++k) y[(o * n + k) * inner + i] = (float)(exp(x[(o * n + k) * inner + i] - m) / s);
    }
}

typedef struct sm_case {
  int64_t shape[8];
  size_t rank;
  int has_axis;
  int64_t axis;
} sm_case;

static qk_model* build_sm(void* vctx) {
  const sm_case* c = (const sm_case*)vctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  gt_add_input(m, "x", c->shape, c->rank);
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  if (c->has_axis) GT_OK(qk_attrs_set_int(at, "axis", c->axis));
  const char* ins[] = {"x"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "Softmax", "sm", ins, 1, outs, 1, at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

static void test_float_every_axis(void** state) {
  (void)state;
  static float x[2 * 3 * 4 * 5], y[120], r[120];
  gt_fill(x, 120, -4.0f, 4.0f, 1);
  const int64_t shape[] = {2, 3, 4, 5};
  for (int64_t axis = -4; axis < 4; ++axis) {
    sm_case c = {{2, 3, 4, 5}, 4, 1, axis};
    qk_model* m = build_sm(&c);
    gt_tensor in[1] = {{"x", shape, 4, x}};
    int64_t ys[8];
    size_t yr = 0;
    gt_run(m, in, 1, "y", y, 120, ys, &yr);
    assert_int_equal(yr, 4);
    for (size_t d = 0; d < 4; ++d) assert_int_equal(ys[d], shape[d]);
    ref_softmax(x, shape, 4, (size_t)(axis < 0 ? axis + 4 : axis), r);
    for (size_t i = 0; i < 120; ++i)
      if (!(fabsf(y[i] - r[i]) <= 2e-7f + 1e-6f * r[i])) fail_msg("axis %lld: y[%zu] = %.9g, reference %.9g", (long long)axis, i, (double)y[i], (double)r[i]);
    qk_model_destroy(m);
  }
}

/* Default axis -1; softmax([1, 2, 3]) by hand; huge logits (exp would overflow without the max
 * subtraction) and a row of equal values. */
static void test_float_hand_computed(void** state) {
  (void)state;
  const float x[] = {1, 2, 3, 1000, 1001, 1000, -5, -5, -5};
  const float want[] = {0.09003057f, 0.24472847f, 0.66524096f, 0.21194156f, 0.57611688f, 0.21194156f,
                        1.0f / 3, 1.0f / 3, 1.0f / 3};
  sm_case c = {{3, 3}, 2, 0, 0};
  qk_model* m = build_sm(&c);
  gt_tensor in[1] = {{"x", c.shape, 2, x}};
  float y[9];
  gt_run(m, in, 1, "y", y, 9, NULL, NULL);
  for (int i = 0; i < 9; ++i) near(y[i], want[i], 1e-6);
  qk_model_destroy(m);
  /* rank 1 */
  sm_case c1 = {{3}, 1, 1, 0};
  m = build_sm(&c1);
  gt_tensor in1[1] = {{"x", c1.shape, 1, x}};
  gt_run(m, in1, 1, "y", y, 9, NULL, NULL);
  for (int i = 0; i < 3; ++i) near(y[i], want[i], 1e-6);
  qk_model_destroy(m);
}

static void test_symbolic(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[] = {-1, 4, -1};
  const char* names[] = {"batch", NULL, "seq"};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, names, 3));
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_int(at, "axis", -1));
  const char* ins[] = {"x"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "Softmax", "sm", ins, 1, outs, 1, at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  int64_t d[8];
  const char* n[8];
  size_t rank = 0;
  qk_dtype dt;
  GT_OK(qk_model_value_shape(m, "y", d, n, 8, &rank, &dt));
  assert_int_equal(rank, 3);
  assert_true(d[0] < 0 && d[2] < 0);
  assert_int_equal(d[1], 4);
  assert_string_equal(n[0], "batch");
  assert_string_equal(n[2], "seq");
  static float x[2 * 4 * 7], y[56], r[56];
  gt_fill(x, 56, -2.0f, 2.0f, 3);
  const int64_t shape[] = {2, 4, 7};
  gt_tensor in[1] = {{"x", shape, 3, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 56, ys, &yr);
  assert_int_equal(yr, 3);
  assert_int_equal(ys[0], 2);
  assert_int_equal(ys[2], 7);
  ref_softmax(x, shape, 3, 2, r);
  for (int i = 0; i < 56; ++i) near(y[i], r[i], 1e-6);
  qk_model_destroy(m);
}

static void test_bad_input(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t s[] = {2, 3, 4};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, s, NULL, 3));
  GT_OK(qk_model_add_input(m, "scalar", QK_DTYPE_F32, NULL, NULL, 0));
  GT_OK(qk_model_add_input(m, "idx", QK_DTYPE_S64, s, NULL, 3));
  const char* ins[] = {"x"};
  const char* outs[] = {"y"};
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_int(at, "axis", 3));
  GT_FAILS(qk_model_add_node(m, "Softmax", "sm", ins, 1, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
           "axis 3 is outside [-3, 3)");
  GT_OK(qk_attrs_set_int(at, "axis", -4));
  GT_FAILS(qk_model_add_node(m, "Softmax", "sm", ins, 1, outs, 1, at), QK_ERR_INVALID_ARGUMENT, "axis -4 is outside");
  GT_OK(qk_attrs_set_float(at, "axis", 1.0f));
  GT_FAILS(qk_model_add_node(m, "Softmax", "sm", ins, 1, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
           "attribute 'axis' must be a");
  qk_attrs_destroy(at);
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_int(at, "dim", 1));
  GT_FAILS(qk_model_add_node(m, "Softmax", "sm", ins, 1, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
           "has no attribute 'dim'");
  qk_attrs_destroy(at);
  const char* sc[] = {"scalar"};
  GT_FAILS(qk_model_add_node(m, "Softmax", "sm", sc, 1, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "rank >= 1");
  const char* ix[] = {"idx"};
  GT_FAILS(qk_model_add_node(m, "Softmax", "sm", ix, 1, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "expected f32");
  const char* two[] = {"x", "x"};
  GT_FAILS(qk_model_add_node(m, "Softmax", "sm", two, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "inputs");
  GT_OK(qk_model_add_node(m, "Softmax", "sm", ins, 1, outs, 1, NULL)); /* nothing was added before */
  qk_model_destroy(m);
}

/* kFloatOnly: converted, Softmax still runs f32 (no Q node; bit-identical to the float model) and
 * its output is observed (it has qparams, for an int8 consumer). */
static void test_int8_stays_float(void** state) {
  (void)state;
  static float x[2 * 6], yq[12], yf[12];
  gt_fill(x, 12, -3.0f, 3.0f, 5);
  sm_case c = {{2, 6}, 2, 0, 0};
  qk_model* q = build_sm(&c);
  gt_tensor in[1] = {{"x", c.shape, 2, x}};
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, in, 1);
  GT_OK(qk_model_convert(q));
  size_t n = 0;
  GT_OK(qk_model_node_count(q, &n));
  assert_int_equal(n, 1);
  float s;
  int32_t zp, lo, hi;
  gt_value_qparams(q, "y", &s, &zp, &lo, &hi);
  assert_true(s > 0.0f);
  gt_run(q, in, 1, "y", yq, 12, NULL, NULL);
  qk_model* f = build_sm(&c);
  gt_run(f, in, 1, "y", yf, 12, NULL, NULL);
  assert_memory_equal(yq, yf, sizeof yq);
  qk_model_destroy(q);
  qk_model_destroy(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_every_axis), cmocka_unit_test(test_float_hand_computed),
      cmocka_unit_test(test_symbolic),         cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_int8_stays_float),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
