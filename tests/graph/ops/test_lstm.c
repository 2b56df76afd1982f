/* SPDX-License-Identifier: Apache-2.0 */
/* LSTM (ONNX opset 14, layout 0): output shapes with symbolic seq / batch, float against a
 * double-precision loop of ONNX's equations (forward, reverse, bidirectional; with and without
 * bias and initial states), the dynamic mode (int8 weights per channel, activations quantized
 * per call) within a small error of float, and bad input. Real exported LSTMs against torch:
 * tests/bindings/python/test_onnx_models.py. */
#include "graph_test_util.h"

enum { S = 4, N = 2, I = 5, H = 3 };

static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

/* ONNX's LSTM for one direction d (gates i, o, f, c), in double. */
static void ref_lstm(const float* x, const float* w, const float* r, const float* b, const float* h0, const float* c0,
                     int dir, int dirs, int reverse, float* y, float* yh, float* yc) {
  double h[N][H] = {{0}}, c[N][H] = {{0}};
  for (int n = 0; n < N; ++n)
    for (int j = 0; j < H; ++j) {
      if (h0) h[n][j] = h0[(dir * N + n) * H + j];
      if (c0) c[n][j] = c0[(dir * N + n) * H + j];
    }
  const float* W = w + dir * 4 * H * I;
  const float* R = r + dir * 4 * H * H;
  for (int step = 0; step < S; ++step) {
    const int t = reverse ? S - 1 - step : step;
    double nh[N][H];
    for (int n = 0; n < N; ++n)
      for (int j = 0; j < H; ++j) {
        double g[4];
        for (int k = 0; k < 4; ++k) {
          double a = b ? (double)b[dir * 8 * H + k * H + j] + b[dir * 8 * H + 4 * H + k * H + j] : 0.0;
          for (int q = 0; q < I; ++q) a += (double)x[(t * N + n) * I + q] * W[(k * H + j) * I + q];
          for (int q = 0; q < H; ++q) a += h[n][q] * R[(k * H + j) * H + q];
          g[k] = a;
        }
        c[n][j] = sigm(g[2]) * c[n][j] + sigm(g[0]) * tanh(g[3]);
        nh[n][j] = sigm(g[1]) * tanh(c[n][j]);
      }
    for (int n = 0; n < N; ++n)
      for (int j = 0; j < H; ++j) {
        h[n][j] = nh[n][j];
        y[((t * dirs + dir) * N + n) * H + j] = (float)h[n][j];
      }
  }
  for (int n = 0; n < N; ++n)
    for (int j = 0; j < H; ++j) {
      yh[(dir * N + n) * H + j] = (float)h[n][j];
      yc[(dir * N + n) * H + j] = (float)c[n][j];
    }
}

typedef struct lstm_case {
  const char* direction;
  int bias, initial;
} lstm_case;

static float g_w[2 * 4 * H * I], g_r[2 * 4 * H * H], g_b[2 * 8 * H], g_h0[2 * N * H], g_c0[2 * N * H];

static qk_model* build(const lstm_case* c, int dirs, int symbolic) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t xd[3] = {symbolic ? -1 : S, symbolic ? -1 : N, I};
  const char* names[3] = {"seq", "batch", NULL};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, xd, symbolic ? names : NULL, 3));
  const int64_t ws[3] = {dirs, 4 * H, I}, rs[3] = {dirs, 4 * H, H}, bs[2] = {dirs, 8 * H};
  gt_add_const(m, "W", ws, 3, g_w);
  gt_add_const(m, "R", rs, 3, g_r);
  if (c->bias) gt_add_const(m, "B", bs, 2, g_b);
  const char* ins[7] = {"x", "W", "R", c->bias ? "B" : "", "", "h0", "c0"};
  size_t n_in = 3 + (c->bias ? 1 : 0);
  if (c->initial) {
    const int64_t hs[3] = {dirs, N, H};
    gt_add_const(m, "h0", hs, 3, g_h0);
    gt_add_const(m, "c0", hs, 3, g_c0);
    n_in = 7;
  }
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_int(at, "hidden_size", H));
  GT_OK(qk_attrs_set_string(at, "direction", c->direction));
  const char* outs[3] = {"y", "yh", "yc"};
  GT_OK(qk_model_add_node(m, "LSTM", "lstm", ins, n_in, outs, 3, at));
  qk_attrs_destroy(at);
  for (int i = 0; i < 3; ++i) GT_OK(qk_model_add_output(m, outs[i]));
  return m;
}

static void test_float_and_dynamic(void** state) {
  (void)state;
  gt_fill(g_w, 2 * 4 * H * I, -0.6f, 0.6f, 1);
  gt_fill(g_r, 2 * 4 * H * H, -0.6f, 0.6f, 2);
  gt_fill(g_b, 2 * 8 * H, -0.3f, 0.3f, 3);
  gt_fill(g_h0, 2 * N * H, -0.5f, 0.5f, 4);
  gt_fill(g_c0, 2 * N * H, -0.5f, 0.5f, 5);
  static float x[S * N * I];
  gt_fill(x, S * N * I, -1.0f, 1.0f, 6);
  const lstm_case cases[] = {{"forward", 1, 1}, {"forward", 0, 0}, {"reverse", 1, 0}, {"bidirectional", 1, 1}};
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ++ci) {
    const lstm_case* c = &cases[ci];
    const int dirs = strcmp(c->direction, "bidirectional") == 0 ? 2 : 1;
    float want_y[S * 2 * N * H], want_h[2 * N * H], want_c[2 * N * H];
    for (int d = 0; d < dirs; ++d)
      ref_lstm(x, g_w, g_r, c->bias ? g_b : NULL, c->initial ? g_h0 : NULL, c->initial ? g_c0 : NULL, d, dirs,
               strcmp(c->direction, "reverse") == 0 || d == 1, want_y, want_h, want_c);
    qk_model* m = build(c, dirs, 1);
    int64_t dims[8];
    const char* dn[8];
    size_t rank = 0;
    qk_dtype dt;
    GT_OK(qk_model_value_shape(m, "y", dims, dn, 8, &rank, &dt));
    assert_int_equal(rank, 4);
    assert_string_equal(dn[0], "seq");
    assert_int_equal(dims[1], dirs);
    assert_string_equal(dn[2], "batch");
    assert_int_equal(dims[3], H);
    const int64_t xs[3] = {S, N, I};
    gt_tensor in[1] = {{"x", xs, 3, x}};
    float y[S * 2 * N * H], yh[2 * N * H], yc[2 * N * H];
    gt_run(m, in, 1, "y", y, sizeof y / sizeof y[0], NULL, NULL);
    gt_run(m, in, 1, "yh", yh, sizeof yh / sizeof yh[0], NULL, NULL);
    gt_run(m, in, 1, "yc", yc, sizeof yc / sizeof yc[0], NULL, NULL);
    for (int i = 0; i < S * dirs * N * H; ++i) assert_true(fabsf(y[i] - want_y[i]) < 1e-5f);
    for (int i = 0; i < dirs * N * H; ++i) assert_true(fabsf(yh[i] - want_h[i]) < 1e-5f && fabsf(yc[i] - want_c[i]) < 1e-5f);
    /* dynamic: int8 weights, activations per call; close to float, not equal */
    GT_OK(qk_model_quantize_dynamic(m));
    float yd[S * 2 * N * H];
    gt_run(m, in, 1, "y", yd, sizeof yd / sizeof yd[0], NULL, NULL);
    double err = 0.0;
    int differ = 0;
    for (int i = 0; i < S * dirs * N * H; ++i) {
      err = fmax(err, fabs((double)yd[i] - want_y[i]));
      differ |= yd[i] != y[i];
    }
    assert_true(err < 0.05);
    assert_true(differ);
    qk_model_destroy(m);
  }
}

static void test_bad(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t xd[3] = {S, N, I}, ws[3] = {1, 4 * H, I}, bad_ws[3] = {1, 3 * H, I}, rs[3] = {1, 4 * H, H};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, xd, NULL, 3));
  gt_add_const(m, "W", ws, 3, g_w);
  gt_add_const(m, "Wbad", bad_ws, 3, g_w);
  gt_add_const(m, "R", rs, 3, g_r);
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_int(at, "hidden_size", H));
  const char* outs[1] = {"y"};
  const char* bad_w[3] = {"x", "Wbad", "R"};
  GT_FAILS(qk_model_add_node(m, "LSTM", "l", bad_w, 3, outs, 1, at), QK_ERR_INVALID_ARGUMENT, "W must be f32");
  const char* seq_lens[5] = {"x", "W", "R", "", "x"};
  GT_FAILS(qk_model_add_node(m, "LSTM", "l", seq_lens, 5, outs, 1, at), QK_ERR_UNSUPPORTED, "sequence_lens");
  GT_OK(qk_attrs_set_string(at, "direction", "sideways"));
  const char* ok[3] = {"x", "W", "R"};
  GT_FAILS(qk_model_add_node(m, "LSTM", "l", ok, 3, outs, 1, at), QK_ERR_INVALID_ARGUMENT, "direction");
  qk_attrs_destroy(at);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_float_and_dynamic), cmocka_unit_test(test_bad)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
