/* SPDX-License-Identifier: Apache-2.0 */
/* LayerNormalization (opset 17): shapes (axis, negative axis, symbolic leading dims, the optional
 * Mean / InvStdDev outputs), float against a double loop and hand-computed values, broadcast
 * Scale / B, bad input, and the int8 rule (kFloatOnly: unchanged by convert). */
#include "graph_test_util.h"

/* |a - b| <= tol, failing on NaN (cmocka's assert_float_equal lets a NaN through). */
#define near(a, b, tol)                                                                                   \
  do {                                                                                                    \
    const double near_a_ = (double)(a), near_b_ = (double)(b);                                            \
    if (!(fabs(near_a_ - near_b_) <= (double)(tol))) fail_msg("%s = %.9g, expected %.9g", #a, near_a_, near_b_); \
  } while (0)

/* y over rows of d = prod(shape[axis:]) elements; scale / bias of d elements (bias may be NULL). */
static void ref_layer_norm(const float* x, size_t rows, size_t d, const float* scale, const float* bias, double eps,
                           float* y, float* mean_out, float* inv_out) {
  for (size_t r = 0; r < rows; ++r) {
    double mean = 0.0, var = 0.0;
    for (size_t i = 0; i < d; ++i) mean += x[r * d + i];
    mean /= (double)d;
    for (size_t i = 0; i < d; ++i) var += (x[r * d + i] - mean) * (x[r * d + i] - mean);
    var /= (double)d;
    const double inv = 1.0 / sqrt(var + eps);
    for (size_t i = 0; i < d; ++i) y[r * d + i] = (float)((x[r * d + i] - mean) * inv * scale[i] + (bias ? bias[i] : 0.0));
    if (mean_out) mean_out[r] = (float)mean;
    if (inv_out) inv_out[r] = (float)inv;
  }
}

typedef struct ln_case {
  int64_t shape[8];
  size_t rank;
  int has_axis;
  int64_t axis;
  int64_t scale_shape[8];
  size_t scale_rank;
  const float* scale;
  const float* bias; /* same shape as scale, or NULL */
  float epsilon;     /* 0: default */
  size_t outputs;    /* 1..3 */
} ln_case;

static qk_model* build_ln(void* vctx) {
  const ln_case* c = (const ln_case*)vctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  gt_add_input(m, "x", c->shape, c->rank);
  gt_add_const(m, "scale", c->scale_shape, c->scale_rank, c->scale);
  if (c->bias) gt_add_const(m, "bias", c->scale_shape, c->scale_rank, c->bias);
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  if (c->has_axis) GT_OK(qk_attrs_set_int(at, "axis", c->axis));
  if (c->epsilon > 0) GT_OK(qk_attrs_set_float(at, "epsilon", c->epsilon));
  const char* ins[] = {"x", "scale", "bias"};
  const char* outs[] = {"y", "mean", "inv_std"};
  const size_t n_out = c->outputs ? c->outputs : 1;
  GT_OK(qk_model_add_node(m, "LayerNormalization", "ln", ins, c->bias ? 3 : 2, outs, n_out, at));
  qk_attrs_destroy(at);
  for (size_t i = 0; i < n_out; ++i) GT_OK(qk_model_add_output(m, outs[i]));
  return m;
}

static void check_case(const ln_case* c, const float* x, const float* full_scale, const float* full_bias) {
  qk_model* m = build_ln((void*)c);
  const size_t axis = (size_t)(!c->has_axis ? (int64_t)c->rank - 1 : c->axis < 0 ? c->axis + (int64_t)c->rank : c->axis);
  size_t d = 1, rows = 1;
  for (size_t i = 0; i < c->rank; ++i) *(i < axis ? &rows : &d) *= (size_t)c->shape[i];
  static float y[512], r[512], mean[64], inv[64], rm[64], ri[64];
  gt_tensor in[1] = {{"x", c->shape, c->rank, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 512, ys, &yr);
  assert_int_equal(yr, c->rank);
  for (size_t i = 0; i < c->rank; ++i) assert_int_equal(ys[i], c->shape[i]);
  ref_layer_norm(x, rows, d, full_scale, full_bias, c->epsilon > 0 ? c->epsilon : 1e-5, r, rm, ri);
  for (size_t i = 0; i < rows * d; ++i)
    if (!(fabsf(y[i] - r[i]) <= 1e-5f * (1.0f + fabsf(r[i])))) fail_msg("y[%zu] = %.8g, reference %.8g", i, (double)y[i], (double)r[i]);
  if (c->outputs == 3) {
    gt_run(m, in, 1, "mean", mean, 64, ys, &yr);
    assert_int_equal(yr, c->rank);
    for (size_t i = 0; i < c->rank; ++i) assert_int_equal(ys[i], i < axis ? c->shape[i] : 1);
    gt_run(m, in, 1, "inv_std", inv, 64, NULL, NULL);
    for (size_t i = 0; i < rows; ++i) {
      near(mean[i], rm[i], 1e-6);
      near(inv[i], ri[i], 1e-5 * ri[i]);
    }
  }
  qk_model_destroy(m);
}

static void test_float(void** state) {
  (void)state;
  static float x[64], scale[24], bias[24], scale8[24], bias8[24];
  gt_fill(x, 64, -3.0f, 5.0f, 1);
  gt_fill(scale, 24, 0.5f, 1.5f, 2);
  gt_fill(bias, 24, -1.0f, 1.0f, 3);
  /* default axis -1 over {8}, with bias, all three outputs */
  const ln_case c1 = {{2, 3, 8}, 3, 0, 0, {8}, 1, scale, bias, 0, 3};
  check_case(&c1, x, scale, bias);
  /* no bias */
  const ln_case c2 = {{2, 3, 8}, 3, 1, -1, {8}, 1, scale, NULL, 0, 1};
  check_case(&c2, x, scale, NULL);
  /* axis 1: over {3, 8}, Scale {3, 8}, epsilon 0.1 */
  const ln_case c3 = {{2, 3, 8}, 3, 1, 1, {3, 8}, 2, scale, bias, 0.1f, 3};
  check_case(&c3, x, scale, bias);
  /* axis -2 with Scale {8} and B {8} broadcast over the 3 rows of each normalized block */
  for (int i = 0; i < 24; ++i) {
    scale8[i] = scale[i % 8];
    bias8[i] = bias[i % 8];
  }
  const ln_case c4 = {{2, 3, 8}, 3, 1, -2, {8}, 1, scale, bias, 0, 1};
  check_case(&c4, x, scale8, bias8);
  /* Scale {3, 1} and B {3, 1}: one value per row of the normalized {3, 8} block */
  for (int i = 0; i < 24; ++i) {
    scale8[i] = scale[i / 8];
    bias8[i] = bias[i / 8];
  }
  const ln_case c7 = {{2, 3, 8}, 3, 1, 1, {3, 1}, 2, scale, bias, 0, 1};
  check_case(&c7, x, scale8, bias8);
  /* axis 0: the whole tensor is one row; rank 1 */
  const ln_case c5 = {{6, 8}, 2, 1, 0, {6, 8}, 2, x, NULL, 0, 3};
  check_case(&c5, x + 1, x, NULL);
  const ln_case c6 = {{8}, 1, 0, 0, {8}, 1, scale, bias, 0, 3};
  check_case(&c6, x, scale, bias);
}

/* [1, 2, 3, 4]: mean 2.5, variance 1.25; y = (x - 2.5) / sqrt(1.25 + 1e-5) * 2 + 1. A constant
 * row normalizes to 0 (epsilon keeps it finite): y = B. */
static void test_hand_computed(void** state) {
  (void)state;
  const float x[] = {1, 2, 3, 4, 7, 7, 7, 7};
  const float scale[] = {2, 2, 2, 2}, bias[] = {1, 1, 1, 1};
  const ln_case c = {{2, 4}, 2, 0, 0, {4}, 1, scale, bias, 0, 3};
  qk_model* m = build_ln((void*)&c);
  gt_tensor in[1] = {{"x", c.shape, 2, x}};
  float y[8], mean[2], inv[2];
  gt_run(m, in, 1, "y", y, 8, NULL, NULL);
  gt_run(m, in, 1, "mean", mean, 2, NULL, NULL);
  gt_run(m, in, 1, "inv_std", inv, 2, NULL, NULL);
  const double s = 1.0 / sqrt(1.25 + 1e-5);
  for (int i = 0; i < 4; ++i) near(y[i], (float)((x[i] - 2.5) * s * 2 + 1), 1e-6);
  for (int i = 4; i < 8; ++i) near(y[i], 1.0f, 0.0);
  near(mean[0], 2.5f, 1e-7);
  near(mean[1], 7.0f, 1e-7);
  near(inv[0], (float)s, 1e-6);
  near(inv[1], (float)(1.0 / sqrt(1e-5)), 1e-2);
  qk_model_destroy(m);
}

static void test_symbolic(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[] = {-1, -1, 4};
  const char* names[] = {"batch", "seq", NULL};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, names, 3));
  const float scale[] = {1, 2, 3, 4};
  const int64_t ss[] = {4};
  gt_add_const(m, "scale", ss, 1, scale);
  const char* ins[] = {"x", "scale"};
  const char* outs[] = {"y", "mean"};
  GT_OK(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 2, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  GT_OK(qk_model_add_output(m, "mean"));
  int64_t d[8];
  const char* n[8];
  size_t rank = 0;
  qk_dtype dt;
  GT_OK(qk_model_value_shape(m, "y", d, n, 8, &rank, &dt));
  assert_int_equal(rank, 3);
  assert_string_equal(n[0], "batch");
  assert_string_equal(n[1], "seq");
  assert_int_equal(d[2], 4);
  GT_OK(qk_model_value_shape(m, "mean", d, n, 8, &rank, &dt));
  assert_int_equal(rank, 3);
  assert_string_equal(n[0], "batch");
  assert_string_equal(n[1], "seq");
  assert_int_equal(d[2], 1);
  static float x[3 * 5 * 4], y[60], r[60];
  gt_fill(x, 60, -1.0f, 1.0f, 7);
  const int64_t shape[] = {3, 5, 4};
  gt_tensor in[1] = {{"x", shape, 3, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "mean", y, 60, ys, &yr);
  assert_int_equal(yr, 3);
  assert_int_equal(ys[0], 3);
  assert_int_equal(ys[1], 5);
  assert_int_equal(ys[2], 1);
  gt_run(m, in, 1, "y", y, 60, ys, &yr);
  ref_layer_norm(x, 15, 4, scale, NULL, 1e-5, r, NULL, NULL);
  for (int i = 0; i < 60; ++i) near(y[i], r[i], 1e-5);
  qk_model_destroy(m);
}

static void test_bad_input(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t xs[] = {2, 3, 4}, s4[] = {4}, s3[] = {3}, s24[] = {2, 4}, s134[] = {1, 3, 4, 1};
  const float ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const int64_t idx[4] = {1, 1, 1, 1};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, xs, NULL, 3));
  GT_OK(qk_model_add_input(m, "xin", QK_DTYPE_F32, s4, NULL, 1));
  GT_OK(qk_model_add_input(m, "scalar", QK_DTYPE_F32, NULL, NULL, 0));
  GT_OK(qk_model_add_input(m, "xi", QK_DTYPE_S64, xs, NULL, 3));
  gt_add_const(m, "s4", s4, 1, ones);
  gt_add_const(m, "s3", s3, 1, ones);
  gt_add_const(m, "s24", s24, 2, ones);
  gt_add_const(m, "s134", s134, 4, ones);
  GT_OK(qk_model_add_constant(m, "si", QK_DTYPE_S64, s4, 1, idx, sizeof idx));
  const char* outs[] = {"y"};
  {
    const char* ins[] = {"x", "xin"};
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "must be a constant");
  }
  {
    const char* ins[] = {"x", "s3"};
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "Scale {3} does not broadcast");
  }
  {
    const char* ins[] = {"x", "s24"}; /* axis 1: normalized dims {3, 4} */
    qk_attrs* at = NULL;
    GT_OK(qk_attrs_create(&at));
    GT_OK(qk_attrs_set_int(at, "axis", 1));
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
             "Scale {2, 4} does not broadcast to the normalized dims {3, 4}");
    qk_attrs_destroy(at);
  }
  {
    const char* ins[] = {"x", "s134"};
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "more dims than the normalized dims");
  }
  {
    const char* ins[] = {"x", "s4", "s3"};
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 3, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "B {3} does not broadcast");
  }
  {
    const char* ins[] = {"x", "si"};
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "Scale must be f32");
  }
  {
    const char* ins[] = {"xi", "s4"};
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "expected f32");
  }
  {
    const char* ins[] = {"scalar", "s4"};
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "rank >= 1");
  }
  {
    const char* ins[] = {"x"};
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 1, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
             "inputs");
  }
  {
    const char* ins[] = {"x", "s4"};
    qk_attrs* at = NULL;
    GT_OK(qk_attrs_create(&at));
    GT_OK(qk_attrs_set_int(at, "axis", 3));
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
             "axis 3 is outside [-3, 3)");
    GT_OK(qk_attrs_set_int(at, "axis", -1));
    GT_OK(qk_attrs_set_float(at, "epsilon", 0.0f));
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
             "epsilon must be > 0");
    GT_OK(qk_attrs_set_float(at, "epsilon", -1e-5f));
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
             "epsilon must be > 0");
    GT_OK(qk_attrs_set_int(at, "epsilon", 1));
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
             "attribute 'epsilon' must be a");
    GT_OK(qk_attrs_set_float(at, "epsilon", 1e-5f));
    GT_OK(qk_attrs_set_int(at, "stash_type", 0));
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
             "stash_type 0 is not supported");
    GT_OK(qk_attrs_set_int(at, "stash_type", 1));
    GT_OK(qk_attrs_set_int(at, "momentum", 1));
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT,
             "has no attribute 'momentum'");
    qk_attrs_destroy(at);
    const char* four[] = {"y", "m", "v", "w"};
    GT_FAILS(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, four, 4, NULL), QK_ERR_INVALID_ARGUMENT,
             "outputs");
    /* nothing was added by the failures */
    GT_OK(qk_model_add_node(m, "LayerNormalization", "ln", ins, 2, outs, 1, NULL));
  }
  qk_model_destroy(m);
}

/* kFloatOnly: converted, LayerNormalization runs f32 (no Q node), bit-identical to float. */
static void test_int8_stays_float(void** state) {
  (void)state;
  static float x[4 * 8], scale[8], bias[8], yq[32], yf[32];
  gt_fill(x, 32, -3.0f, 3.0f, 9);
  gt_fill(scale, 8, 0.5f, 1.5f, 10);
  gt_fill(bias, 8, -1.0f, 1.0f, 11);
  const ln_case c = {{4, 8}, 2, 0, 0, {8}, 1, scale, bias, 0, 1};
  qk_model* q = build_ln((void*)&c);
  gt_tensor in[1] = {{"x", c.shape, 2, x}};
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, in, 1);
  GT_OK(qk_model_convert(q));
  size_t n = 0;
  GT_OK(qk_model_node_count(q, &n));
  assert_int_equal(n, 1);
  gt_run(q, in, 1, "y", yq, 32, NULL, NULL);
  qk_model* f = build_ln((void*)&c);
  gt_run(f, in, 1, "y", yf, 32, NULL, NULL);
  assert_memory_equal(yq, yf, sizeof yq);
  qk_model_destroy(q);
  qk_model_destroy(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),         cmocka_unit_test(test_hand_computed),
      cmocka_unit_test(test_symbolic),      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_int8_stays_float),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
