/* SPDX-License-Identifier: Apache-2.0 */
/* qk_model_fuse recomposes what exporters decompose (src/graph/passes/fuse_decomposed.cc): the
 * Erf GELU, the ReduceMean / Sub / Pow / Sqrt / Div LayerNorm (with and without its affine) and
 * x * HardSigmoid(x; 1/6, 1/2) each become one op, with the same outputs within float rounding;
 * a pattern whose intermediate is read elsewhere (or is a graph output) stays decomposed. */
#include "graph_test_util.h"

static void node(qk_model* m, const char* op, const char* name, const char* a, const char* b, const char* out,
                 qk_attrs* at) {
  const char* ins[2] = {a, b};
  const char* outs[1] = {out};
  GT_OK(qk_model_add_node(m, op, name, ins, b ? 2 : 1, outs, 1, at));
}

static void scalar(qk_model* m, const char* name, float v) {
  GT_OK(qk_model_add_constant(m, name, QK_DTYPE_F32, NULL, 0, &v, sizeof v));
}

static qk_model* input_graph(void) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t d[3] = {-1, 3, 8};
  const char* n[3] = {"batch", NULL, NULL};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, d, n, 3));
  return m;
}

/* Runs m before and after fuse: same outputs (1e-5), and the op list after fuse is `want`. */
static void check_fuse(qk_model* m, const char* const* want, size_t n_want) {
  static float x[2 * 3 * 8], y0[48], y1[48];
  gt_fill(x, 48, -3.0f, 3.0f, 7);
  const int64_t xs[3] = {2, 3, 8};
  gt_tensor in[1] = {{"x", xs, 3, x}};
  gt_run(m, in, 1, "y", y0, 48, NULL, NULL);
  GT_OK(qk_model_fuse(m));
  size_t count = 0;
  GT_OK(qk_model_node_count(m, &count));
  assert_int_equal(count, n_want);
  for (size_t i = 0; i < count; ++i) {
    const char *name, *op;
    GT_OK(qk_model_node_info(m, i, &name, &op));
    assert_string_equal(op, want[i]);
  }
  gt_run(m, in, 1, "y", y1, 48, NULL, NULL);
  for (int i = 0; i < 48; ++i) assert_true(fabsf(y0[i] - y1[i]) <= 1e-5f * (1.0f + fabsf(y0[i])));
}

static void test_gelu(void** state) {
  (void)state;
  qk_model* m = input_graph();
  scalar(m, "sqrt2", 1.41421354f);
  scalar(m, "one", 1.0f);
  scalar(m, "half", 0.5f);
  node(m, "Div", "div", "x", "sqrt2", "d", NULL);
  node(m, "Erf", "erf", "d", NULL, "e", NULL);
  node(m, "Add", "add", "one", "e", "s", NULL); /* the constant first */
  node(m, "Mul", "mul", "s", "x", "p", NULL);
  node(m, "Mul", "mul2", "p", "half", "y", NULL);
  GT_OK(qk_model_add_output(m, "y"));
  const char* want[1] = {"Gelu"};
  check_fuse(m, want, 1);
  qk_model_destroy(m);
}

static void layer_norm_graph(qk_model* m, int affine) {
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  const int64_t axes[1] = {-1};
  GT_OK(qk_attrs_set_ints(at, "axes", axes, 1));
  scalar(m, "two", 2.0f);
  scalar(m, "eps", 1e-5f);
  node(m, "ReduceMean", "mean", "x", NULL, "mu", at);
  node(m, "Sub", "sub", "x", "mu", "dx", NULL);
  node(m, "Pow", "pow", "dx", "two", "sq", NULL);
  node(m, "ReduceMean", "var", "sq", NULL, "v", at);
  node(m, "Add", "addeps", "v", "eps", "ve", NULL);
  node(m, "Sqrt", "sqrt", "ve", NULL, "sd", NULL);
  node(m, "Div", "div", "dx", "sd", affine ? "nrm" : "y", NULL);
  qk_attrs_destroy(at);
  if (affine) {
    static float gamma[8], beta[8];
    gt_fill(gamma, 8, 0.5f, 1.5f, 8);
    gt_fill(beta, 8, -0.5f, 0.5f, 9);
    const int64_t s[1] = {8};
    gt_add_const(m, "gamma", s, 1, gamma);
    gt_add_const(m, "beta", s, 1, beta);
    node(m, "Mul", "scale", "nrm", "gamma", "sc", NULL);
    node(m, "Add", "shift", "beta", "sc", "y", NULL);
  }
  GT_OK(qk_model_add_output(m, "y"));
}

static void test_layer_norm(void** state) {
  (void)state;
  const char* want[1] = {"LayerNormalization"};
  for (int affine = 0; affine <= 1; ++affine) {
    qk_model* m = input_graph();
    layer_norm_graph(m, affine);
    check_fuse(m, want, 1);
    qk_model_destroy(m);
  }
}

static void test_hard_swish(void** state) {
  (void)state;
  qk_model* m = input_graph();
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_float(at, "alpha", 1.0f / 6.0f));
  GT_OK(qk_attrs_set_float(at, "beta", 0.5f));
  node(m, "HardSigmoid", "hs", "x", NULL, "h", at);
  qk_attrs_destroy(at);
  node(m, "Mul", "mul", "x", "h", "y", NULL);
  GT_OK(qk_model_add_output(m, "y"));
  const char* want[1] = {"HardSwish"};
  check_fuse(m, want, 1);
  qk_model_destroy(m);
}

/* An intermediate read outside the pattern (or a graph output) keeps the pattern decomposed. */
static void test_shared_intermediate_stays(void** state) {
  (void)state;
  qk_model* m = input_graph();
  scalar(m, "sqrt2", 1.41421354f);
  scalar(m, "one", 1.0f);
  scalar(m, "half", 0.5f);
  node(m, "Div", "div", "x", "sqrt2", "d", NULL);
  node(m, "Erf", "erf", "d", NULL, "e", NULL);
  node(m, "Add", "add", "e", "one", "s", NULL);
  node(m, "Mul", "mul", "x", "s", "p", NULL);
  node(m, "Mul", "mul2", "p", "half", "y", NULL);
  GT_OK(qk_model_add_output(m, "y"));
  GT_OK(qk_model_add_output(m, "e")); /* the Erf's output is also a model output */
  GT_OK(qk_model_fuse(m));
  size_t count = 0;
  GT_OK(qk_model_node_count(m, &count));
  assert_int_equal(count, 5);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_gelu), cmocka_unit_test(test_layer_norm),
                                     cmocka_unit_test(test_hard_swish),
                                     cmocka_unit_test(test_shared_intermediate_stays)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
