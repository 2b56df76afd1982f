/* SPDX-License-Identifier: Apache-2.0 */
/* ReduceMean: shapes (axes subsets, negative axes, keepdims 0/1, all axes, noop_with_empty_axes,
 * symbolic dims, rank 0), float against a double loop and hand-computed means, bad input, and
 * the int8 rule (kFloatOnly: unchanged by convert). */
#include "graph_test_util.h"

/* |a - b| <= tol, failing on NaN (cmocka's assert_float_equal lets a NaN through). */
#define near(a, b, tol)                                                                                   \
  do {                                                                                                    \
    const double near_a_ = (double)(a), near_b_ = (double)(b);                                            \
    if (!(fabs(near_a_ - near_b_) <= (double)(tol))) fail_msg("%s = %.9g, expected %.9g", #a, near_a_, near_b_); \
  } while (0)

/* Mean of x {shape} over the axes with mask bit set; y in x's order of the kept axes. */
static void ref_reduce_mean(const float* x, const int64_t* shape, size_t rank, unsigned mask, float* y) {
  size_t out_count = 1, n = 1;
  for (size_t d = 0; d < rank; ++d) *(mask >> d & 1 ? &n : &out_count) *= (size_t)shape[d];
  static double acc[4096];
  for (size_t i = 0; i < out_count; ++i) acc[i] = 0.0;
  const size_t total = gt_count(shape, rank);
  for (size_t i = 0; i < total; ++i) {
    /* i -> multi-index -> index among the kept axes */
    size_t rem = i, o = 0, stride = 1;
    for (size_t d = rank; d-- > 0;) {
      const size_t idx = rem % (size_t)shape[d];
      rem /= (size_t)shape[d];
      if (!(mask >> d & 1)) {
        o += idx * stride;
        stride *= (size_t)shape[d];
      }
    }
    acc[o] += x[i];
  }
  for (size_t i = 0; i < out_count; ++i) y[i] = (float)(acc[i] / (double)n);
}

typedef struct rm_case {
  int64_t shape[8];
  size_t rank;
  int has_axes;
  int64_t axes[8];
  size_t n_axes;
  int keepdims; /* -1: absent (default 1) */
  int noop;     /* -1: absent */
} rm_case;

static qk_attrs* attrs_of(const rm_case* c) {
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  if (c->has_axes) GT_OK(qk_attrs_set_ints(at, "axes", c->axes, c->n_axes));
  if (c->keepdims >= 0) GT_OK(qk_attrs_set_int(at, "keepdims", c->keepdims));
  if (c->noop >= 0) GT_OK(qk_attrs_set_int(at, "noop_with_empty_axes", c->noop));
  return at;
}

static qk_model* build_rm(void* vctx) {
  const rm_case* c = (const rm_case*)vctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  gt_add_input(m, "x", c->shape, c->rank);
  qk_attrs* at = attrs_of(c);
  const char* ins[] = {"x"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "ReduceMean", "rm", ins, 1, outs, 1, at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

/* Declared shape, run shape and values of each case against the reference. */
static void test_shapes_and_values(void** state) {
  (void)state;
  static const struct {
    rm_case c;
    unsigned mask;
    int64_t y[8];
    size_t yr;
  } cases[] = {
      {{{2, 3, 4}, 3, 1, {1}, 1, -1, -1}, 2u, {2, 1, 4}, 3},
      {{{2, 3, 4}, 3, 1, {1}, 1, 0, -1}, 2u, {2, 4}, 2},
      {{{2, 3, 4}, 3, 1, {-1, 0}, 2, 1, -1}, 5u, {1, 3, 1}, 3},
      {{{2, 3, 4}, 3, 1, {-1, 0}, 2, 0, -1}, 5u, {3}, 1},
      {{{2, 3, 4}, 3, 0, {0}, 0, -1, -1}, 7u, {1, 1, 1}, 3}, /* axes absent: all */
      {{{2, 3, 4}, 3, 0, {0}, 0, 0, -1}, 7u, {0}, 0},        /* all, keepdims 0: a scalar */
      {{{2, 3, 4}, 3, 1, {0}, 0, 0, -1}, 7u, {0}, 0},        /* empty list: all */
      {{{2, 3, 4}, 3, 1, {0}, 0, 0, 1}, 0u, {2, 3, 4}, 3},   /* empty list + noop: identity */
      {{{2, 3, 4, 5}, 4, 1, {2, 3}, 2, 1, -1}, 12u, {2, 3, 1, 1}, 4}, /* global average pool */
      {{{2, 3, 4}, 3, 1, {2, 0, 1}, 3, 0, 0}, 7u, {0}, 0},
      {{{7}, 1, 1, {-1}, 1, 1, -1}, 1u, {1}, 1},
      {{{0}, 0, 0, {0}, 0, 1, -1}, 0u, {0}, 0}, /* rank 0: the mean of one value */
  };
  static float x[256], y[256], r[256];
  gt_fill(x, 256, -2.0f, 6.0f, 1);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    const rm_case* c = &cases[i].c;
    qk_model* m = build_rm((void*)c);
    int64_t dims[8];
    size_t rank = 99;
    qk_dtype dt;
    GT_OK(qk_model_value_shape(m, "y", dims, NULL, 8, &rank, &dt));
    assert_int_equal(rank, cases[i].yr);
    for (size_t d = 0; d < rank; ++d) assert_int_equal(dims[d], cases[i].y[d]);
    gt_tensor in[1] = {{"x", c->shape, c->rank, x}};
    int64_t ys[8];
    size_t yr = 0;
    gt_run(m, in, 1, "y", y, 256, ys, &yr);
    assert_int_equal(yr, cases[i].yr);
    for (size_t d = 0; d < yr; ++d) assert_int_equal(ys[d], cases[i].y[d]);
    ref_reduce_mean(x, c->shape, c->rank, cases[i].mask, r);
    for (size_t k = 0, n = gt_count(ys, yr); k < n; ++k)
      if (!(fabsf(y[k] - r[k]) <= 1e-6f * (1.0f + fabsf(r[k]))))
        fail_msg("case %zu: y[%zu] = %.8g, reference %.8g", i, k, (double)y[k], (double)r[k]);
    qk_model_destroy(m);
  }
}

static void test_hand_computed(void** state) {
  (void)state;
  const float x[] = {1, 2, 3, 4, 5, 6}; /* {2, 3} */
  const rm_case rows = {{2, 3}, 2, 1, {1}, 1, 0, -1};
  const rm_case cols = {{2, 3}, 2, 1, {-2}, 1, 1, -1};
  float y[3];
  qk_model* m = build_rm((void*)&rows);
  gt_tensor in[1] = {{"x", rows.shape, 2, x}};
  gt_run(m, in, 1, "y", y, 3, NULL, NULL);
  near(y[0], 2.0f, 0.0);
  near(y[1], 5.0f, 0.0);
  qk_model_destroy(m);
  m = build_rm((void*)&cols);
  gt_run(m, in, 1, "y", y, 3, NULL, NULL);
  near(y[0], 2.5f, 0.0);
  near(y[1], 3.5f, 0.0);
  near(y[2], 4.5f, 0.0);
  qk_model_destroy(m);
}

/* Symbolic dims that are kept pass through; reduced ones become 1 or disappear. */
static void test_symbolic(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[] = {-1, -1, 6};
  const char* names[] = {"batch", "seq", NULL};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, names, 3));
  const rm_case seq = {{0}, 0, 1, {1}, 1, 1, -1};
  const rm_case last = {{0}, 0, 1, {-1}, 1, 0, -1};
  qk_attrs* a1 = attrs_of(&seq);
  qk_attrs* a2 = attrs_of(&last);
  const char* ins[] = {"x"};
  const char* o1[] = {"pooled"};
  const char* o2[] = {"feat"};
  GT_OK(qk_model_add_node(m, "ReduceMean", "pool", ins, 1, o1, 1, a1));
  GT_OK(qk_model_add_node(m, "ReduceMean", "feat", ins, 1, o2, 1, a2));
  qk_attrs_destroy(a1);
  qk_attrs_destroy(a2);
  GT_OK(qk_model_add_output(m, "pooled"));
  GT_OK(qk_model_add_output(m, "feat"));
  int64_t d[8];
  const char* n[8];
  size_t rank = 0;
  qk_dtype dt;
  GT_OK(qk_model_value_shape(m, "pooled", d, n, 8, &rank, &dt));
  assert_int_equal(rank, 3);
  assert_string_equal(n[0], "batch");
  assert_int_equal(d[1], 1);
  assert_int_equal(d[2], 6);
  GT_OK(qk_model_value_shape(m, "feat", d, n, 8, &rank, &dt));
  assert_int_equal(rank, 2);
  assert_string_equal(n[0], "batch");
  assert_string_equal(n[1], "seq");
  static float x[2 * 5 * 6], y[64], r[64];
  gt_fill(x, 60, -1.0f, 1.0f, 2);
  const int64_t shape[] = {2, 5, 6};
  gt_tensor in[1] = {{"x", shape, 3, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "pooled", y, 64, ys, &yr);
  assert_int_equal(yr, 3);
  assert_int_equal(ys[0], 2);
  assert_int_equal(ys[1], 1);
  ref_reduce_mean(x, shape, 3, 2u, r);
  for (int i = 0; i < 12; ++i) near(y[i], r[i], 1e-6);
  gt_run(m, in, 1, "feat", y, 64, ys, &yr);
  assert_int_equal(yr, 2);
  assert_int_equal(ys[1], 5);
  ref_reduce_mean(x, shape, 3, 4u, r);
  for (int i = 0; i < 10; ++i) near(y[i], r[i], 1e-6);
  qk_model_destroy(m);
}

static void test_bad_input(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t s[] = {2, 3, 4}, s0[] = {2, 0, 4};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, s, NULL, 3));
  GT_OK(qk_model_add_input(m, "empty", QK_DTYPE_F32, s0, NULL, 3));
  GT_OK(qk_model_add_input(m, "idx", QK_DTYPE_S64, s, NULL, 3));
  const char* ins[] = {"x"};
  const char* outs[] = {"y"};
  const struct {
    rm_case c;
    const char* needle;
  } bad[] = {
      {{{0}, 0, 1, {1, -2}, 2, -1, -1}, "axis 1 appears twice"},
      {{{0}, 0, 1, {3}, 1, -1, -1}, "axes element 3 is outside [-3, 3)"},
      {{{0}, 0, 1, {-4}, 1, -1, -1}, "axes element -4 is outside"},
      {{{0}, 0, 1, {1}, 1, 2, -1}, "keepdims must be 0 or 1"},
      {{{0}, 0, 1, {1}, 1, 1, 5}, "noop_with_empty_axes must be 0 or 1"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
    qk_attrs* at = attrs_of(&bad[i].c);
    GT_FAILS(qk_model_add_node(m, "ReduceMean", "rm", ins, 1, outs, 1, at), QK_ERR_INVALID_ARGUMENT, bad[i].needle);
    qk_attrs_destroy(at);
  }
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_int(at, "axes", 1));
  GT_FAILS(qk_model_add_node(m, "ReduceMean", "rm", ins, 1, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
           "attribute 'axes' must be a");
  qk_attrs_destroy(at);
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_int(at, "axis", 1));
  GT_FAILS(qk_model_add_node(m, "ReduceMean", "rm", ins, 1, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
           "has no attribute 'axis'");
  qk_attrs_destroy(at);
  const int64_t one = 1;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_ints(at, "axes", &one, 1));
  const char* em[] = {"empty"};
  GT_FAILS(qk_model_add_node(m, "ReduceMean", "rm", em, 1, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
           "cannot average over axis 1 of size 0");
  const char* ix[] = {"idx"};
  GT_FAILS(qk_model_add_node(m, "ReduceMean", "rm", ix, 1, outs, 1, at), QK_ERR_INVALID_ARGUMENT, "expected f32");
  GT_OK(qk_model_add_node(m, "ReduceMean", "rm", ins, 1, outs, 1, at)); /* nothing was added before */
  qk_attrs_destroy(at);
  qk_model_destroy(m);
}

/* A symbolic axis that turns out to be 0 when the model runs: the run reports it. */
static void test_bad_runtime_empty_axis(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[] = {2, -1};
  const char* names[] = {NULL, "seq"};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, names, 2));
  const rm_case c = {{0}, 0, 1, {1}, 1, 0, -1};
  qk_attrs* at = attrs_of(&c);
  const char* ins[] = {"x"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "ReduceMean", "rm", ins, 1, outs, 1, at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  qk_run* r = NULL;
  GT_OK(qk_run_create(m, &r));
  const int64_t s0[] = {2, 0};
  float dummy = 0.0f;
  GT_OK(qk_run_set_input(r, "x", QK_DTYPE_F32, &dummy, 0, s0, 2));
  GT_FAILS(qk_run_invoke(r, NULL), QK_ERR_INVALID_ARGUMENT, "cannot average over axis 1 of size 0");
  qk_run_destroy(r);
  qk_model_destroy(m);
}

/* kFloatOnly: converted, ReduceMean runs f32 (no Q node), bit-identical to float. */
static void test_int8_stays_float(void** state) {
  (void)state;
  static float x[2 * 3 * 4], yq[8], yf[8];
  gt_fill(x, 24, -3.0f, 3.0f, 3);
  const rm_case c = {{2, 3, 4}, 3, 1, {1}, 1, 0, -1};
  qk_model* q = build_rm((void*)&c);
  gt_tensor in[1] = {{"x", c.shape, 3, x}};
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, in, 1);
  GT_OK(qk_model_convert(q));
  size_t n = 0;
  GT_OK(qk_model_node_count(q, &n));
  assert_int_equal(n, 1);
  gt_run(q, in, 1, "y", yq, 8, NULL, NULL);
  qk_model* f = build_rm((void*)&c);
  gt_run(f, in, 1, "y", yf, 8, NULL, NULL);
  assert_memory_equal(yq, yf, sizeof yq);
  qk_model_destroy(q);
  qk_model_destroy(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shapes_and_values), cmocka_unit_test(test_hand_computed),
      cmocka_unit_test(test_symbolic),          cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_bad_runtime_empty_axis), cmocka_unit_test(test_int8_stays_float),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
