/* SPDX-License-Identifier: Apache-2.0 */
/* A transformer encoder block built through the C API (two heads, d_model 8, FFN 16):
 *   q, k, v = x Wq, x Wk, x Wv            (MatMul, activation x constant)
 *   heads: Reshape {0, 0, 2, 4} + Transpose (K transposed to {b, h, 4, seq})
 *   p = Softmax(q k^T * 0.5)              (MatMul activation x activation, Mul, Softmax)
 *   ctx = p v -> Transpose -> Reshape {0, 0, 8}
 *   l1 = LayerNorm(x + (ctx Wo + bo));  y = LayerNorm(l1 + (Gelu(l1 W1 + b1) W2 + b2))
 * with symbolic batch and seq. Float against a plain C reference of the block; static int8 (u8
 * and s8) and dynamic against the float result with measured bounds; the converted graph's Q/DQ
 * boundaries show which nodes ran int8; save/load of the converted model is bit-identical. */
#include "graph_test_util.h"

enum { D = 8, H = 2, DH = 4, F = 16 };

static float Wq[D * D], Wk[D * D], Wv[D * D], Wo[D * D], bo[D], g1[D], be1[D], W1[D * F], b1[F], W2[F * D], b2[D],
    g2[D], be2[D];

static void init_params(void) {
  static int done = 0;
  if (done) return;
  done = 1;
  const float s = 0.35f; /* ~ 1/sqrt(d_model): activations of order 1 */
  gt_fill(Wq, D * D, -s, s, 101);
  gt_fill(Wk, D * D, -s, s, 102);
  gt_fill(Wv, D * D, -s, s, 103);
  gt_fill(Wo, D * D, -s, s, 104);
  gt_fill(bo, D, -0.1f, 0.1f, 105);
  gt_fill(g1, D, 0.8f, 1.2f, 106);
  gt_fill(be1, D, -0.1f, 0.1f, 107);
  gt_fill(W1, D * F, -s, s, 108);
  gt_fill(b1, F, -0.1f, 0.1f, 109);
  gt_fill(W2, F * D, -0.25f, 0.25f, 110);
  gt_fill(b2, D, -0.1f, 0.1f, 111);
  gt_fill(g2, D, 0.8f, 1.2f, 112);
  gt_fill(be2, D, -0.1f, 0.1f, 113);
}

/* ---- The reference (double) ---------------------------------------------------------------------- */

static void ref_linear(const double* x, size_t rows, size_t in, const float* w, const float* b, size_t out, double* y) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t o = 0; o < out; ++o) {
      double s = b ? b[o] : 0.0;
      for (size_t i = 0; i < in; ++i) s += x[r * in + i] * w[i * out + o];
      y[r * out + o] = s;
    }
}

static void ref_layer_norm(double* x, size_t rows, const float* g, const float* b) {
  for (size_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (size_t i = 0; i < D; ++i) m += x[r * D + i];
    m /= D;
    for (size_t i = 0; i < D; ++i) v += (x[r * D + i] - m) * (x[r * D + i] - m);
    v /= D;
    for (size_t i = 0; i < D; ++i) x[r * D + i] = (x[r * D + i] - m) / sqrt(v + 1e-5) * g[i] + b[i];
  }
}

static void ref_block_bias(const float* xf, size_t batch, size_t seq, float* out, int bias) {
  const size_t rows = batch * seq;
  double* x = malloc(rows * D * sizeof(double));
  double* q = malloc(rows * D * sizeof(double));
  double* k = malloc(rows * D * sizeof(double));
  double* v = malloc(rows * D * sizeof(double));
  double* c = malloc(rows * D * sizeof(double));
  double* o = malloc(rows * D * sizeof(double));
  double* h = malloc(rows * F * sizeof(double));
  double* p = malloc(seq * sizeof(double));
  for (size_t i = 0; i < rows * D; ++i) x[i] = xf[i];
  ref_linear(x, rows, D, Wq, NULL, D, q);
  ref_linear(x, rows, D, Wk, NULL, D, k);
  ref_linear(x, rows, D, Wv, NULL, D, v);
  for (size_t b = 0; b < batch; ++b)
    for (size_t hd = 0; hd < H; ++hd)
      for (size_t i = 0; i < seq; ++i) {
        double mx = -INFINITY, sum = 0.0;
        for (size_t j = 0; j < seq; ++j) {
          double s = 0.0;
          for (size_t d = 0; d < DH; ++d) s += q[(b * seq + i) * D + hd * DH + d] * k[(b * seq + j) * D + hd * DH + d];
          p[j] = s * 0.5;
          mx = fmax(mx, p[j]);
        }
        for (size_t j = 0; j < seq; ++j) sum += (p[j] = exp(p[j] - mx));
        for (size_t d = 0; d < DH; ++d) {
          double s = 0.0;
          for (size_t j = 0; j < seq; ++j) s += p[j] / sum * v[(b * seq + j) * D + hd * DH + d];
          c[(b * seq + i) * D + hd * DH + d] = s;
        }
      }
  ref_linear(c, rows, D, Wo, bias ? bo : NULL, D, o);
  for (size_t i = 0; i < rows * D; ++i) o[i] += x[i];
  ref_layer_norm(o, rows, g1, be1); /* o = l1 */
  ref_linear(o, rows, D, W1, bias ? b1 : NULL, F, h);
  for (size_t i = 0; i < rows * F; ++i) h[i] = 0.5 * h[i] * (1.0 + erf(h[i] / sqrt(2.0)));
  ref_linear(h, rows, F, W2, bias ? b2 : NULL, D, c); /* c = ffn */
  for (size_t i = 0; i < rows * D; ++i) c[i] += o[i];
  ref_layer_norm(c, rows, g2, be2);
  for (size_t i = 0; i < rows * D; ++i) out[i] = (float)c[i];
  free(x);
  free(q);
  free(k);
  free(v);
  free(c);
  free(o);
  free(h);
  free(p);
}

static void ref_block(const float* xf, size_t batch, size_t seq, float* out) { ref_block_bias(xf, batch, seq, out, 1); }

/* ---- The graph -------------------------------------------------------------------------------------- */

static void node(qk_model* m, const char* op, const char* name, const char* const* ins, size_t n_in, const char* out,
                 qk_attrs* at) {
  const char* outs[1] = {out};
  GT_OK(qk_model_add_node(m, op, name, ins, n_in, outs, 1, at));
  if (at) qk_attrs_destroy(at);
}

static qk_attrs* ints_attr(const char* name, const int64_t* v, size_t n) {
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  GT_OK(qk_attrs_set_ints(at, name, v, n));
  return at;
}

static void c2(qk_model* m, const char* name, int64_t r, int64_t c, const float* data) {
  const int64_t s[2] = {r, c};
  gt_add_const(m, name, s, 2, data);
}
static void c1(qk_model* m, const char* name, int64_t n, const float* data) {
  const int64_t s[1] = {n};
  gt_add_const(m, name, s, 1, data);
}

typedef struct block_cfg {
  int s8;
  int fold_scale; /* 1/sqrt(head dim) folded into Wq instead of a Mul by a constant */
  int no_bias;    /* no bias Adds (no constant operand on any int8 node) */
} block_cfg;

static qk_model* build_block(void* vctx) {
  const block_cfg* cfg = (const block_cfg*)vctx;
  init_params();
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[3] = {-1, -1, D};
  const char* names[3] = {"batch", "seq", NULL};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, names, 3));
  static float Wq_scaled[D * D];
  for (size_t i = 0; i < D * D; ++i) Wq_scaled[i] = Wq[i] * 0.5f; /* exact: a power of two */
  c2(m, "Wq", D, D, cfg && cfg->fold_scale ? Wq_scaled : Wq);
  c2(m, "Wk", D, D, Wk);
  c2(m, "Wv", D, D, Wv);
  c2(m, "Wo", D, D, Wo);
  c1(m, "bo", D, bo);
  c1(m, "g1", D, g1);
  c1(m, "be1", D, be1);
  c2(m, "W1", D, F, W1);
  c1(m, "b1", F, b1);
  c2(m, "W2", F, D, W2);
  c1(m, "b2", D, b2);
  c1(m, "g2", D, g2);
  c1(m, "be2", D, be2);
  const float half = 0.5f; /* 1 / sqrt(head dim) */
  c1(m, "scale", 1, &half);
  const int64_t split[4] = {0, 0, H, DH}, merge[3] = {0, 0, D}, heads[4] = {0, 2, 1, 3}, keys[4] = {0, 2, 3, 1};

  node(m, "MatMul", "q_proj", (const char*[]){"x", "Wq"}, 2, "q", NULL);
  node(m, "MatMul", "k_proj", (const char*[]){"x", "Wk"}, 2, "k", NULL);
  node(m, "MatMul", "v_proj", (const char*[]){"x", "Wv"}, 2, "v", NULL);
  node(m, "Reshape", "q_split", (const char*[]){"q"}, 1, "q4", ints_attr("shape", split, 4));
  node(m, "Reshape", "k_split", (const char*[]){"k"}, 1, "k4", ints_attr("shape", split, 4));
  node(m, "Reshape", "v_split", (const char*[]){"v"}, 1, "v4", ints_attr("shape", split, 4));
  node(m, "Transpose", "q_heads", (const char*[]){"q4"}, 1, "qh", ints_attr("perm", heads, 4));
  node(m, "Transpose", "k_heads", (const char*[]){"k4"}, 1, "kt", ints_attr("perm", keys, 4));
  node(m, "Transpose", "v_heads", (const char*[]){"v4"}, 1, "vh", ints_attr("perm", heads, 4));
  node(m, "MatMul", "scores", (const char*[]){"qh", "kt"}, 2, "s", NULL);
  if (cfg && cfg->fold_scale) {
    node(m, "Softmax", "attn", (const char*[]){"s"}, 1, "p", NULL);
  } else {
    node(m, "Mul", "scale_scores", (const char*[]){"s", "scale"}, 2, "ss", NULL);
    node(m, "Softmax", "attn", (const char*[]){"ss"}, 1, "p", NULL);
  }
  node(m, "MatMul", "context", (const char*[]){"p", "vh"}, 2, "cx", NULL);
  node(m, "Transpose", "merge_heads", (const char*[]){"cx"}, 1, "cxt", ints_attr("perm", heads, 4));
  node(m, "Reshape", "merge", (const char*[]){"cxt"}, 1, "cxr", ints_attr("shape", merge, 3));
  node(m, "MatMul", "o_proj", (const char*[]){"cxr", "Wo"}, 2, "o", NULL);
  const int nb = cfg && cfg->no_bias;
  if (!nb) node(m, "Add", "o_bias", (const char*[]){"o", "bo"}, 2, "ob", NULL);
  node(m, "Add", "residual1", (const char*[]){"x", nb ? "o" : "ob"}, 2, "r1", NULL);
  node(m, "LayerNormalization", "ln1", (const char*[]){"r1", "g1", "be1"}, 3, "l1", NULL);
  node(m, "MatMul", "ffn1", (const char*[]){"l1", "W1"}, 2, "f1", NULL);
  if (!nb) node(m, "Add", "ffn1_bias", (const char*[]){"f1", "b1"}, 2, "f1b", NULL);
  node(m, "Gelu", "gelu", (const char*[]){nb ? "f1" : "f1b"}, 1, "g", NULL);
  node(m, "MatMul", "ffn2", (const char*[]){"g", "W2"}, 2, "f2", NULL);
  if (!nb) node(m, "Add", "ffn2_bias", (const char*[]){"f2", "b2"}, 2, "f2b", NULL);
  node(m, "Add", "residual2", (const char*[]){"l1", nb ? "f2" : "f2b"}, 2, "r2", NULL);
  node(m, "LayerNormalization", "ln2", (const char*[]){"r2", "g2", "be2"}, 3, "y", NULL);
  GT_OK(qk_model_add_output(m, "y"));
  if (cfg && cfg->s8) GT_OK(qk_model_set_activation_dtype(m, NULL, QK_DTYPE_S8));
  return m;
}

static void run_block(const qk_model* m, const float* x, size_t batch, size_t seq, float* y) {
  const int64_t shape[3] = {(int64_t)batch, (int64_t)seq, D};
  gt_tensor in[1] = {{"x", shape, 3, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, batch * seq * D, ys, &yr);
  assert_int_equal(yr, 3);
  assert_int_equal(ys[0], (int64_t)batch);
  assert_int_equal(ys[1], (int64_t)seq);
  assert_int_equal(ys[2], D);
}

static size_t count_nodes(const qk_model* m, const char* op) {
  size_t n = 0, c = 0;
  GT_OK(qk_model_node_count(m, &n));
  for (size_t i = 0; i < n; ++i) {
    const char *name, *type;
    GT_OK(qk_model_node_info(m, i, &name, &type));
    if (strcmp(type, op) == 0) ++c;
  }
  return c;
}

/* max |a - b| and mean |a - b| */
static void errors(const float* a, const float* b, size_t n, double* max_err, double* mean_err) {
  double mx = 0.0, sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double e = fabs((double)a[i] - b[i]);
    if (!(e == e)) fail_msg("element %zu is NaN", i);
    mx = fmax(mx, e);
    sum += e;
  }
  *max_err = mx;
  *mean_err = sum / (double)n;
}

/* ---- Tests ------------------------------------------------------------------------------------------ */

static void test_float_symbolic(void** state) {
  (void)state;
  qk_model* m = build_block(NULL);
  int64_t dims[8];
  const char* names[8];
  size_t rank = 0;
  qk_dtype dt;
  GT_OK(qk_model_value_shape(m, "s", dims, names, 8, &rank, &dt)); /* {batch, 2, seq, seq} */
  assert_int_equal(rank, 4);
  assert_string_equal(names[0], "batch");
  assert_int_equal(dims[1], H);
  assert_string_equal(names[2], "seq");
  assert_string_equal(names[3], "seq");
  GT_OK(qk_model_value_shape(m, "y", dims, names, 8, &rank, &dt));
  assert_int_equal(rank, 3);
  assert_string_equal(names[0], "batch");
  assert_string_equal(names[1], "seq");
  assert_int_equal(dims[2], D);
  static const size_t shapes[][2] = {{2, 5}, {1, 1}, {3, 7}};
  static float x[3 * 7 * D], y[3 * 7 * D], r[3 * 7 * D];
  for (size_t i = 0; i < 3; ++i) {
    const size_t n = shapes[i][0] * shapes[i][1] * D;
    gt_fill(x, n, -2.0f, 2.0f, (uint32_t)(200 + i));
    run_block(m, x, shapes[i][0], shapes[i][1], y);
    ref_block(x, shapes[i][0], shapes[i][1], r);
    double mx, mean;
    errors(y, r, n, &mx, &mean);
    if (mx > 1e-4) fail_msg("batch %zu seq %zu: float differs from the reference by %g", shapes[i][0], shapes[i][1], mx);
  }
  qk_model_destroy(m);
}

/* Calibrates on 4 batches, converts, and checks a held-out input against the float reference.
 * Returns the converted model. */
static qk_model* converted(const block_cfg* cfg) {
  qk_model* q = build_block((void*)cfg);
  GT_OK(qk_model_prepare(q));
  static float x[2 * 6 * D];
  const int64_t shape[3] = {2, 6, D};
  for (uint32_t s = 0; s < 4; ++s) {
    gt_fill(x, 2 * 6 * D, -2.0f, 2.0f, 300 + s);
    gt_tensor in[1] = {{"x", shape, 3, x}};
    gt_calibrate(q, in, 1);
  }
  GT_OK(qk_model_convert(q));
  return q;
}

/* Which nodes ran int8: with both attention MatMuls int8 x int8, the only float islands are
 * Softmax and the two LayerNorms, so the converted graph quantizes exactly 3 values (x, p, l1)
 * and dequantizes exactly 3 (before Softmax, ln1, ln2). A float Q K^T or P V would add
 * Dequantize nodes for its operands. Accuracy: the output is LayerNorm'd (|y| ~ 1..2); 8-bit
 * activations through 8 quantized MatMuls, a table GELU and requantized Adds measured a max
 * error of 0.039 and a mean of 0.009 here (u8 and s8 alike: affine s8 is the u8 grid shifted by
 * 128): the bounds (0.1, 0.025) leave ~2.5x margin without letting a broken kernel (errors of
 * order 0.1..1) through. */
static void check_static(const block_cfg* cfg) {
  qk_model* q = converted(cfg);
  if (count_nodes(q, "qk.Quantize") != 3 || count_nodes(q, "qk.Dequantize") != 3) {
    size_t n = 0;
    GT_OK(qk_model_node_count(q, &n));
    for (size_t i = 0; i < n; ++i) {
      const char *name, *type;
      GT_OK(qk_model_node_info(q, i, &name, &type));
      print_message("  %s (%s)\n", name, type);
    }
    fail_msg("expected 3 Quantize and 3 Dequantize nodes, got %zu and %zu", count_nodes(q, "qk.Quantize"),
             count_nodes(q, "qk.Dequantize"));
  }
  float s;
  int32_t zp, lo, hi;
  gt_value_qparams(q, "s", &s, &zp, &lo, &hi); /* the scores are int8 codes of the chosen dtype */
  assert_int_equal(lo, cfg->s8 ? -128 : 0);
  static float x[2 * 6 * D], y[2 * 6 * D], r[2 * 6 * D];
  gt_fill(x, 2 * 6 * D, -2.0f, 2.0f, 400);
  run_block(q, x, 2, 6, y);
  ref_block(x, 2, 6, r);
  double mx, mean;
  errors(y, r, 2 * 6 * D, &mx, &mean);
  print_message("int8 (%s): max error %.4f, mean %.4f\n", cfg->s8 ? "s8" : "u8", mx, mean);
  if (mx > 0.1 || mean > 0.025) fail_msg("int8 block: max error %g, mean %g", mx, mean);
  assert_true(mx > 0.0); /* it did run quantized */
  /* another sequence length through the same converted model */
  gt_fill(x, 2 * 3 * D, -2.0f, 2.0f, 401);
  run_block(q, x, 1, 6, y);
  ref_block(x, 1, 6, r);
  errors(y, r, 6 * D, &mx, &mean);
  if (mx > 0.1 || mean > 0.025) fail_msg("int8 block, seq 6 batch 1: max error %g, mean %g", mx, mean);
  qk_model_destroy(q);
}

static void test_int8_u8(void** state) {
  (void)state;
  const block_cfg cfg = {0, 0, 0};
  check_static(&cfg);
}

static void test_int8_s8(void** state) {
  (void)state;
  const block_cfg cfg = {1, 0, 0};
  check_static(&cfg);
  const block_cfg folded = {1, 1, 0};
  check_static(&folded);
}

/* Dynamic: the six constant-weight MatMuls run int8 with per-run u8 activations; everything
 * else stays float (no Q/DQ nodes). Measured max error 0.0076, mean 0.0016: bounds 0.025 and
 * 0.005 (~3x). */
static void test_dynamic(void** state) {
  (void)state;
  qk_model* m = build_block(NULL);
  GT_OK(qk_model_quantize_dynamic(m));
  assert_int_equal(count_nodes(m, "qk.Quantize"), 0);
  static float x[3 * 5 * D], y[3 * 5 * D], r[3 * 5 * D];
  gt_fill(x, 3 * 5 * D, -2.0f, 2.0f, 500);
  run_block(m, x, 3, 5, y);
  ref_block(x, 3, 5, r);
  double mx, mean;
  errors(y, r, 3 * 5 * D, &mx, &mean);
  print_message("dynamic: max error %.4f, mean %.4f\n", mx, mean);
  if (mx > 0.025 || mean > 0.005) fail_msg("dynamic block: max error %g, mean %g", mx, mean);
  assert_true(mx > 0.0);
  qk_model_destroy(m);
}

/* The converted model saves and loads (graph text v2) and runs bit-identically. */
static void save_load(const block_cfg* cfg) {
  qk_model* q = converted(cfg);
  const char* path = "graph_attention_tmp.qkw";
  GT_OK(qk_model_save(q, path));
  qk_model* back = NULL;
  const qk_status st = qk_model_load(path, &back);
  remove(path);
  if (st != QK_OK) fail_msg("qk_model_load -> %d: %s", (int)st, qk_last_error());
  static float x[2 * 4 * D], y1[2 * 4 * D], y2[2 * 4 * D];
  gt_fill(x, 2 * 4 * D, -2.0f, 2.0f, 600);
  run_block(q, x, 2, 4, y1);
  run_block(back, x, 2, 4, y2);
  assert_memory_equal(y1, y2, sizeof y1);
  qk_model_destroy(back);
  qk_model_destroy(q);
}

/* Scale folded into Wq and no biases: no int8 node reads a constant operand. */
static void test_save_load_converted(void** state) {
  (void)state;
  const block_cfg cfg = {0, 1, 1};
  save_load(&cfg);
}

/* A converted block whose int8 nodes read QUANTIZED CONSTANTS (the bias Adds' and the scale
 * Mul's constants, quantized once by the Q/DQ pass) saves and loads bit-identically. */
static void test_save_load_converted_quantized_constants(void** state) {
  (void)state;
  const block_cfg cfg = {0, 0, 0};
  save_load(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_symbolic), cmocka_unit_test(test_int8_u8),
      cmocka_unit_test(test_int8_s8),        cmocka_unit_test(test_dynamic),
      cmocka_unit_test(test_save_load_converted), cmocka_unit_test(test_save_load_converted_quantized_constants),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
