/* SPDX-License-Identifier: Apache-2.0 */
/* GRU (ONNX opset 14, layout 0): float against a double-precision loop of ONNX's equations for
 * both linear_before_reset forms (forward, reverse, bidirectional; with and without bias and
 * initial state), dynamic within a small error of float, and bad input. Exported nn.GRU against
 * torch: tests/bindings/python/test_onnx_models.py. */
#include "graph_test_util.h"

enum { S = 4, N = 2, I = 5, H = 3 };

static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

static void ref_gru(const float* x, const float* w, const float* r, const float* b, const float* h0, int lbr, int dir,
                    int dirs, int reverse, float* y) {
  double h[N][H] = {{0}};
  for (int n = 0; n < N; ++n)
    for (int j = 0; j < H; ++j) h[n][j] = h0 ? h0[(dir * N + n) * H + j] : 0.0;
  const float* W = w + dir * 3 * H * I;
  const float* R = r + dir * 3 * H * H;
  const float* wb = b ? b + dir * 6 * H : NULL;
  for (int step = 0; step < S; ++step) {
    const int t = reverse ? S - 1 - step : step;
    double nh[N][H];
    for (int n = 0; n < N; ++n) {
      double z[H], rr[H];
      for (int j = 0; j < H; ++j) {
        double a[2] = {0, 0};
        for (int k = 0; k < 2; ++k) {
          a[k] = wb ? (double)wb[k * H + j] + wb[3 * H + k * H + j] : 0.0;
          for (int q = 0; q < I; ++q) a[k] += (double)x[(t * N + n) * I + q] * W[(k * H + j) * I + q];
          for (int q = 0; q < H; ++q) a[k] += h[n][q] * R[(k * H + j) * H + q];
        }
        z[j] = sigm(a[0]);
        rr[j] = sigm(a[1]);
      }
      for (int j = 0; j < H; ++j) {
        double xh = wb ? wb[2 * H + j] : 0.0, hh = wb ? wb[5 * H + j] : 0.0;
        for (int q = 0; q < I; ++q) xh += (double)x[(t * N + n) * I + q] * W[(2 * H + j) * I + q];
        double cand;
        if (lbr) {
          for (int q = 0; q < H; ++q) hh += h[n][q] * R[(2 * H + j) * H + q];
          cand = tanh(xh + rr[j] * hh);
        } else {
          for (int q = 0; q < H; ++q) hh += rr[q] * h[n][q] * R[(2 * H + j) * H + q];
          cand = tanh(xh + hh);
        }
        nh[n][j] = (1.0 - z[j]) * cand + z[j] * h[n][j];
      }
    }
    for (int n = 0; n < N; ++n)
      for (int j = 0; j < H; ++j) {
        h[n][j] = nh[n][j];
        y[((t * dirs + dir) * N + n) * H + j] = (float)h[n][j];
      }
  }
}

static float g_w[2 * 3 * H * I], g_r[2 * 3 * H * H], g_b[2 * 6 * H], g_h0[2 * N * H];

static qk_model* build(const char* direction, int dirs, int lbr, int bias, int initial) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t xd[3] = {-1, -1, I};
  const char* names[3] = {"seq", "batch", NULL};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, xd, names, 3));
  const int64_t ws[3] = {dirs, 3 * H, I}, rs[3] = {dirs, 3 * H, H}, bs[2] = {dirs, 6 * H}, hs[3] = {dirs, N, H};
  gt_add_const(m, "W", ws, 3, g_w);
  gt_add_const(m, "R", rs, 3, g_r);
  if (bias) gt_add_const(m, "B", bs, 2, g_b);
  if (initial) gt_add_const(m, "h0", hs, 3, g_h0);
  const char* ins[6] = {"x", "W", "R", bias ? "B" : "", "", "h0"};
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_int(at, "hidden_size", H));
  GT_OK(qk_attrs_set_string(at, "direction", direction));
  GT_OK(qk_attrs_set_int(at, "linear_before_reset", lbr));
  const char* outs[1] = {"y"};
  GT_OK(qk_model_add_node(m, "GRU", "gru", ins, initial ? 6 : (bias ? 4 : 3), outs, 1, at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

static void test_float_and_dynamic(void** state) {
  (void)state;
  gt_fill(g_w, 2 * 3 * H * I, -0.6f, 0.6f, 21);
  gt_fill(g_r, 2 * 3 * H * H, -0.6f, 0.6f, 22);
  gt_fill(g_b, 2 * 6 * H, -0.3f, 0.3f, 23);
  gt_fill(g_h0, 2 * N * H, -0.5f, 0.5f, 24);
  static float x[S * N * I];
  gt_fill(x, S * N * I, -1.0f, 1.0f, 25);
  const char* dirs_names[3] = {"forward", "reverse", "bidirectional"};
  for (int lbr = 0; lbr <= 1; ++lbr)
    for (int di = 0; di < 3; ++di) {
      const int dirs = di == 2 ? 2 : 1, bias = (di + lbr) % 2 == 0, initial = di != 1;
      float want[S * 2 * N * H], y[S * 2 * N * H], yd[S * 2 * N * H];
      for (int d = 0; d < dirs; ++d)
        ref_gru(x, g_w, g_r, bias ? g_b : NULL, initial ? g_h0 : NULL, lbr, d, dirs, di == 1 || d == 1, want);
      qk_model* m = build(dirs_names[di], dirs, lbr, bias, initial);
      const int64_t xs[3] = {S, N, I};
      gt_tensor in[1] = {{"x", xs, 3, x}};
      gt_run(m, in, 1, "y", y, S * 2 * N * H, NULL, NULL);
      for (int i = 0; i < S * dirs * N * H; ++i) assert_true(fabsf(y[i] - want[i]) < 1e-5f);
      GT_OK(qk_model_quantize_dynamic(m));
      gt_run(m, in, 1, "y", yd, S * 2 * N * H, NULL, NULL);
      double err = 0.0;
      for (int i = 0; i < S * dirs * N * H; ++i) err = fmax(err, fabs((double)yd[i] - want[i]));
      assert_true(err < 0.05);
      qk_model_destroy(m);
    }
}

static void test_bad(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t xd[3] = {S, N, I}, ws[3] = {1, 3 * H, I}, lstm_ws[3] = {1, 4 * H, I}, rs[3] = {1, 3 * H, H};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, xd, NULL, 3));
  gt_add_const(m, "W", ws, 3, g_w);
  gt_add_const(m, "W4", lstm_ws, 3, g_w);
  gt_add_const(m, "R", rs, 3, g_r);
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_int(at, "hidden_size", H));
  const char* outs[1] = {"y"};
  const char* lstm_w[3] = {"x", "W4", "R"};
  GT_FAILS(qk_model_add_node(m, "GRU", "g", lstm_w, 3, outs, 1, at), QK_ERR_INVALID_ARGUMENT, "W must be f32");
  GT_OK(qk_attrs_set_int(at, "linear_before_reset", 2));
  const char* ok[3] = {"x", "W", "R"};
  GT_FAILS(qk_model_add_node(m, "GRU", "g", ok, 3, outs, 1, at), QK_ERR_INVALID_ARGUMENT, "linear_before_reset");
  qk_attrs_destroy(at);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_float_and_dynamic), cmocka_unit_test(test_bad)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
