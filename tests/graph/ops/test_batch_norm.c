/* SPDX-License-Identifier: Apache-2.0 */
/* BatchNormalization (inference): float against (x - mean) / sqrt(var + eps) * scale + B written
 * here in double, for ranks 2, 3 and 4, the default and a given epsilon, the fused clamp and a
 * symbolic batch; kFloatOnly: a converted model keeps it float (bit-identical to the float run,
 * no Quantize); BatchNormalization + Relu fused into the clamp (bit-identical); bad input. */
#include "window_test_util.h"

static float g_x[4096], g_p[4][8]; /* scale, B, mean, var */

static wt_case bn(const int64_t* xs, size_t xr, int64_t channels) {
  wt_case c;
  memset(&c, 0, sizeof c);
  c.op = "BatchNormalization";
  memcpy(c.x_shape, xs, xr * sizeof(int64_t));
  c.x_rank = xr;
  static const char* const names[4] = {"scale", "B", "mean", "var"};
  for (int i = 0; i < 4; ++i) {
    c.consts[i].name = names[i];
    c.consts[i].shape[0] = channels;
    c.consts[i].rank = 1;
    c.consts[i].data = g_p[i];
  }
  c.n_consts = 4;
  return c;
}

static void check_float(const wt_case* c) {
  const size_t N = (size_t)c->x_shape[0], C = (size_t)c->x_shape[1];
  const size_t inner = gt_count(c->x_shape, c->x_rank) / (N * C);
  const double eps = c->attrs.has_eps ? c->attrs.epsilon : 1e-5;
  const double lo = c->attrs.has_clip_min ? c->attrs.clip_min : -INFINITY;
  const double hi = c->attrs.has_clip_max ? c->attrs.clip_max : INFINITY;
  static float y[4096], r[4096];
  for (size_t n = 0; n < N; ++n)
    for (size_t ch = 0; ch < C; ++ch)
      for (size_t i = 0; i < inner; ++i) {
        const size_t k = (n * C + ch) * inner + i;
        double v = ((double)g_x[k] - g_p[2][ch]) / sqrt((double)g_p[3][ch] + eps) * g_p[0][ch] + g_p[1][ch];
        v = v < lo ? lo : v > hi ? hi : v;
        r[k] = (float)v;
      }
  qk_model* m = wt_build((void*)c);
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, &in, 1, "y", y, 4096, ys, &yr);
  wt_expect_shape(ys, yr, c->x_shape, c->x_rank);
  wt_expect_close(y, r, NULL, N * C * inner, 1e-6, 1e-6); /* a few float operations per element */
  qk_model_destroy(m);
}

static void test_float(void** state) {
  (void)state;
  const int64_t x4[4] = {2, 3, 4, 5}, x2[2] = {4, 6}, x3[3] = {2, 5, 7};
  wt_case c = bn(x4, 4, 3);
  check_float(&c);
  c.attrs.has_eps = 1;
  c.attrs.epsilon = 0.1f;
  check_float(&c);
  c.attrs.has_clip_min = 1; /* BatchNormalization + Relu (BNReLU2d) */
  c.attrs.clip_min = 0.0f;
  check_float(&c);
  c.attrs.has_clip_max = 1;
  c.attrs.clip_max = 0.5f;
  check_float(&c);
  c = bn(x2, 2, 6); /* {N, C}: BatchNorm1d */
  check_float(&c);
  c = bn(x3, 3, 5);
  check_float(&c);
}

static void test_shapes(void** state) {
  (void)state;
  const int64_t xs[4] = {-1, 3, -1, 5};
  wt_case c = bn(xs, 4, 3);
  c.x_names[0] = "batch";
  c.x_names[2] = "h";
  qk_model* m = wt_build(&c);
  int64_t dims[8];
  const char* names[8];
  assert_int_equal(wt_declared(m, "y", dims, names), 4);
  assert_true(dims[0] < 0 && strcmp(names[0], "batch") == 0);
  assert_true(dims[2] < 0 && strcmp(names[2], "h") == 0); /* the same shape */
  qk_model_destroy(m);
  const int64_t run_shape[4] = {3, 3, 2, 5};
  wt_case r = bn(run_shape, 4, 3);
  check_float(&r);
}

/* kFloatOnly: converting keeps the node float, so the converted model's output equals the float
 * model's bit for bit and no Quantize is inserted. */
static void test_stays_float(void** state) {
  (void)state;
  const int64_t xs[4] = {2, 3, 4, 5};
  wt_case c = bn(xs, 4, 3);
  gt_tensor in = {"x", xs, 4, g_x};
  static float yf[256], yq[256];
  qk_model* f = wt_build(&c);
  gt_run(f, &in, 1, "y", yf, 256, NULL, NULL);
  qk_model* q = wt_build(&c);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, &in, 1);
  GT_OK(qk_model_convert(q));
  assert_int_equal(wt_count_nodes(q, "qk.Quantize"), 0);
  gt_run(q, &in, 1, "y", yq, 256, NULL, NULL);
  assert_memory_equal(yf, yq, 120 * sizeof(float));
  qk_model_destroy(q);
  q = wt_build(&c);
  GT_OK(qk_model_quantize_dynamic(q));
  gt_run(q, &in, 1, "y", yq, 256, NULL, NULL);
  assert_memory_equal(yf, yq, 120 * sizeof(float));
  qk_model_destroy(q);
  qk_model_destroy(f);
}

/* BatchNormalization + Relu with no conv before it: the relu becomes the node's clamp. */
static qk_model* build_bn_relu(int fuse) {
  const int64_t xs[4] = {2, 3, 4, 5};
  wt_case c = bn(xs, 4, 3);
  qk_model* m = wt_build_inputs(&c);
  GT_OK(wt_add_node(m, &c));
  const char* ri[] = {"y"};
  const char* ro[] = {"z"};
  GT_OK(qk_model_add_node(m, "Relu", "relu", ri, 1, ro, 1, NULL));
  GT_OK(qk_model_add_output(m, "z"));
  if (fuse) GT_OK(qk_model_fuse(m));
  return m;
}

static void test_fuse_relu(void** state) {
  (void)state;
  const int64_t xs[4] = {2, 3, 4, 5};
  gt_tensor in = {"x", xs, 4, g_x};
  static float yu[256], yf[256];
  qk_model* u = build_bn_relu(0);
  qk_model* f = build_bn_relu(1);
  size_t count = 0;
  const char* name = NULL;
  GT_OK(qk_model_fused_count(f, &count));
  assert_int_equal(count, 1);
  GT_OK(qk_model_fused_name(f, 0, &name));
  assert_string_equal(name, "n+relu");
  assert_int_equal(wt_count_nodes(f, "Relu"), 0);
  gt_run(u, &in, 1, "z", yu, 256, NULL, NULL);
  gt_run(f, &in, 1, "z", yf, 256, NULL, NULL);
  assert_memory_equal(yu, yf, 120 * sizeof(float)); /* the same arithmetic, then the same clamp */
  qk_model_destroy(u);
  qk_model_destroy(f);
}

static void test_bad_input(void** state) {
  (void)state;
  const qk_status E = QK_ERR_INVALID_ARGUMENT;
  const int64_t xs[4] = {1, 3, 2, 2};
  {
    const int64_t x1[1] = {3};
    wt_case c = bn(x1, 1, 3);
    GT_FAILS(wt_try_build(&c), E, "must be {N, C, ...} (rank >= 2)");
  }
  {
    wt_case c = bn(xs, 4, 4);
    GT_FAILS(wt_try_build(&c), E, "has 3 channels (axis 1), the parameters have 4");
  }
  {
    wt_case c = bn(xs, 4, 3);
    c.consts[2].shape[0] = 2;
    GT_FAILS(wt_try_build(&c), E, "input_mean has 2 values, scale has 3");
    c.consts[2].shape[0] = 1;
    c.consts[2].shape[1] = 3;
    c.consts[2].rank = 2;
    GT_FAILS(wt_try_build(&c), E, "input_mean must be an f32 {C} vector");
  }
  {
    wt_case c = bn(xs, 4, 3);
    const float saved = g_p[3][1];
    g_p[3][1] = -1.0f;
    GT_FAILS(wt_try_build(&c), E, "input_var[1] + epsilon must be > 0");
    g_p[3][1] = 0.0f; /* var 0 with epsilon 0: division by zero */
    c.attrs.has_eps = 1;
    c.attrs.epsilon = 0.0f;
    GT_FAILS(wt_try_build(&c), E, "input_var[1] + epsilon must be > 0");
    g_p[3][1] = saved;
    c.attrs.epsilon = -1e-3f;
    GT_FAILS(wt_try_build(&c), E, "epsilon -0.001 must be >= 0");
    c.attrs.has_eps = 0;
    c.attrs.has_clip_min = c.attrs.has_clip_max = 1;
    c.attrs.clip_min = 1.0f;
    c.attrs.clip_max = -1.0f;
    GT_FAILS(wt_try_build(&c), E, "clip_min > clip_max");
  }
  {
    wt_case c = bn(xs, 4, 3);
    qk_model* m = wt_build_inputs(&c);
    const char* outs[] = {"y"};
    const char* four[] = {"x", "scale", "B", "mean"};
    GT_FAILS(qk_model_add_node(m, "BatchNormalization", "n", four, 4, outs, 1, NULL), E, "takes 5..5 inputs");
    const int64_t cs[1] = {3};
    gt_add_input(m, "mean_in", cs, 1);
    const char* var_in[] = {"x", "scale", "B", "mean_in", "var"};
    GT_FAILS(qk_model_add_node(m, "BatchNormalization", "n", var_in, 5, outs, 1, NULL), E,
             "input_mean (input 3) must be a constant");
    const char* ok[] = {"x", "scale", "B", "mean", "var"};
    qk_attrs* a = NULL;
    GT_OK(qk_attrs_create(&a));
    GT_OK(qk_attrs_set_int(a, "training_mode", 1));
    GT_FAILS(qk_model_add_node(m, "BatchNormalization", "n", ok, 5, outs, 1, a), QK_ERR_UNSUPPORTED,
             "training_mode 1 is not supported");
    qk_attrs_destroy(a);
    GT_OK(qk_attrs_create(&a));
    GT_OK(qk_attrs_set_float(a, "momentum", 0.9f)); /* accepted, ignored */
    GT_OK(qk_attrs_set_int(a, "epsilon", 1));
    GT_FAILS(qk_model_add_node(m, "BatchNormalization", "n", ok, 5, outs, 1, a), E, "attribute 'epsilon' must be a");
    qk_attrs_destroy(a);
    GT_OK(qk_attrs_create(&a));
    GT_OK(qk_attrs_set_float(a, "momentum", 0.9f));
    GT_OK(qk_model_add_node(m, "BatchNormalization", "n", ok, 5, outs, 1, a));
    qk_attrs_destroy(a);
    qk_model_destroy(m);
  }
}

static int setup(void** state) {
  (void)state;
  gt_fill(g_x, 4096, -2.0f, 2.0f, 601);
  gt_fill(g_p[0], 8, 0.5f, 2.0f, 602);
  gt_fill(g_p[1], 8, -0.5f, 0.5f, 603);
  gt_fill(g_p[2], 8, -0.3f, 0.3f, 604);
  gt_fill(g_p[3], 8, 0.2f, 1.5f, 605);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),       cmocka_unit_test(test_shapes),    cmocka_unit_test(test_stays_float),
      cmocka_unit_test(test_fuse_relu),   cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
