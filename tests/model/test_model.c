/* SPDX-License-Identifier: Apache-2.0 */
/* Model graphs (qk_model_*), written from the header:
 *  - graph building errors (unknown input, shape mismatch, duplicates, states) and "nothing
 *    written on error";
 *  - every fusion pattern equals the unfused float model within float rounding (1e-5 relative);
 *  - convert + run of a small conv+relu+pool+linear net equals the step-by-step composition of
 *    the kernel API (quantize_nchw_to_nhwc, qconv2d, max_pool2d, qlinear, dequantize) bit for bit;
 *  - save -> load -> run is bit-identical (float, converted, dynamic);
 *  - two threads running one converted model get identical results;
 *  - hostile / inconsistent graphs in a .qkw file are rejected with QK_ERR_CORRUPT;
 *  - the digits CNN: int8 accuracy within 0.5 pp of fp32, QAT qparams override, dynamic mode,
 *    per-layer SQNR report, a residual (add + global average pool) net. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "digits_model.h"
#include "qk_test_util.h"
#include "tensor_bundle.h"

static const int64_t kStride1[2] = {1, 1}, kPad1[4] = {1, 1, 1, 1}, kPad0[4] = {0, 0, 0, 0}, kDil1[2] = {1, 1},
                     kK2[2] = {2, 2};

static void fill(qk_test_rng* r, float* p, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; ++i) p[i] = qk_test_uniform(r, lo, hi);
}

static char tmp_path[256];
static const char* temp_file(const char* name) {
  snprintf(tmp_path, sizeof tmp_path, "/tmp/qk_model_test_%d_%s", (int)getpid(), name);
  return tmp_path;
}

/* ---------------------------------------------------------------------------------------- */

static void test_build_errors(void** state) {
  (void)state;
  const int64_t in_shape[3] = {2, 6, 6};
  qk_model* m = (qk_model*)0x1;
  assert_status(qk_model_create("x", in_shape, 2, &m), QK_ERR_INVALID_ARGUMENT);
  assert_true(m == (qk_model*)0x1); /* nothing written on error */
  assert_status(qk_model_create(NULL, in_shape, 3, &m), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_create("bad name", in_shape, 3, &m), QK_ERR_INVALID_ARGUMENT);
  assert_ok(qk_model_create("x", in_shape, 3, &m));

  float w[4 * 2 * 9] = {0}, bias[4] = {0};
  const int64_t ws[4] = {4, 2, 3, 3}, ws_bad[4] = {4, 3, 3, 3};
  assert_status(qk_model_add_conv2d(m, "c", "nope", "y", w, ws, bias, kStride1, kPad1, kDil1, 1), QK_ERR_NOT_FOUND);
  assert_error_mentions("nope");
  assert_status(qk_model_add_conv2d(m, "c", "x", "y", w, ws_bad, bias, kStride1, kPad1, kDil1, 1),
                QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("shape mismatch");
  assert_status(qk_model_add_conv2d(m, "c", "x", "y", NULL, ws, bias, kStride1, kPad1, kDil1, 1),
                QK_ERR_INVALID_ARGUMENT);
  assert_ok(qk_model_add_conv2d(m, "c", "x", "y", w, ws, bias, kStride1, kPad1, kDil1, 1));
  assert_status(qk_model_add_relu(m, "c", "y", "z"), QK_ERR_INVALID_ARGUMENT); /* duplicate layer */
  assert_error_mentions("duplicate layer");
  assert_status(qk_model_add_relu(m, "r", "y", "x"), QK_ERR_INVALID_ARGUMENT); /* duplicate tensor */
  assert_error_mentions("duplicate tensor");
  assert_status(qk_model_add_relu(m, "r", "y", "y"), QK_ERR_INVALID_ARGUMENT);
  float lw[10 * 36] = {0};
  assert_status(qk_model_add_linear(m, "fc", "y", "o", lw, 10, 36, NULL), QK_ERR_INVALID_ARGUMENT); /* rank 3 */
  assert_ok(qk_model_add_flatten(m, "flat", "y", "f"));
  assert_status(qk_model_add_linear(m, "fc", "f", "o", lw, 10, 36, NULL), QK_ERR_INVALID_ARGUMENT); /* 144 != 36 */
  assert_error_mentions("shape mismatch");
  assert_status(qk_model_add_add(m, "add", "x", "y", "s"), QK_ERR_INVALID_ARGUMENT); /* {2,6,6} vs {4,6,6} */
  assert_status(qk_model_add_hardtanh(m, "h", "y", "h", 6.0f, 0.0f), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_add_max_pool2d(m, "p", "y", "p", kK2, kK2, kPad0, NULL), QK_ERR_INVALID_ARGUMENT);
  const int64_t k9[2] = {9, 9};
  assert_status(qk_model_add_max_pool2d(m, "p", "y", "p", k9, kK2, kPad0, kDil1), QK_ERR_INVALID_ARGUMENT);
  float var_bad[4] = {1, 1, -2, 1}, mean[4] = {0};
  assert_status(qk_model_add_batchnorm(m, "bn", "y", "b", 4, mean, var_bad, NULL, NULL, 1e-5f),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_add_batchnorm(m, "bn", "y", "b", 3, mean, mean, NULL, NULL, 1e-5f), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_set_output(m, "zzz"), QK_ERR_NOT_FOUND);
  assert_status(qk_model_set_layer_skip(m, "zzz", 1), QK_ERR_NOT_FOUND);
  assert_status(qk_model_set_activation_dtype(m, NULL, QK_DTYPE_S4), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_set_activation_observer(m, NULL, QK_OBSERVER_PER_CHANNEL_MINMAX), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_set_weight_scheme(m, NULL, QK_QSCHEME_PER_GROUP_SYMMETRIC), QK_ERR_INVALID_ARGUMENT);

  size_t count = 99, rank = 0;
  assert_ok(qk_model_layer_count(m, &count));
  assert_int_equal(count, 2);
  int64_t shape[8];
  assert_ok(qk_model_output_shape(m, shape, 8, &rank));
  assert_int_equal(rank, 1);
  assert_int_equal(shape[0], 144);
  assert_status(qk_model_tensor_shape(m, "y", shape, 2, &rank), QK_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(rank, 3);

  /* running: shape checks; convert before prepare is a state error */
  float x[2 * 72], out[2 * 144];
  memset(x, 0, sizeof x);
  const int64_t xs[4] = {2, 2, 6, 6}, xs_bad[4] = {2, 3, 6, 6};
  assert_status(qk_model_run(m, x, xs_bad, 4, out, 288, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_run(m, x, xs, 4, out, 287, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_ok(qk_model_run(m, x, xs, 4, out, 288, NULL));
  assert_status(qk_model_convert(m), QK_ERR_STATE);
  assert_status(qk_model_calibrate(m, x, xs, 4), QK_ERR_STATE);
  assert_ok(qk_model_prepare(m));
  assert_status(qk_model_convert(m), QK_ERR_STATE); /* no calibration data */
  assert_error_mentions("calibration");
  assert_status(qk_model_add_relu(m, "r", "y", "z"), QK_ERR_STATE);
  assert_status(qk_model_save(m, temp_file("prepared.qkw")), QK_ERR_STATE);
  x[0] = NAN;
  assert_status(qk_model_calibrate(m, x, xs, 4), QK_ERR_INVALID_ARGUMENT);
  x[0] = 0.5f;
  assert_ok(qk_model_calibrate(m, x, xs, 4));
  assert_ok(qk_model_convert(m));
  assert_status(qk_model_fuse(m), QK_ERR_STATE);
  assert_status(qk_model_prepare(m), QK_ERR_STATE);
  qk_model_state st;
  assert_ok(qk_model_get_state(m, &st));
  assert_int_equal(st, QK_MODEL_CONVERTED);
  assert_status(qk_model_get_state(NULL, &st), QK_ERR_INVALID_ARGUMENT);
  qk_model_destroy(m);
  qk_model_destroy(NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Fusion equivalence */

typedef enum { P_CONV_BN, P_CONV_BN_RELU, P_CONV_RELU, P_CONV_RELU6, P_LINEAR_BN, P_LINEAR_RELU, P_ADD_RELU,
               P_SHARED } pattern;

static qk_model* build_pattern(pattern p, uint64_t seed) {
  qk_test_rng r = {seed};
  float w[6 * 3 * 9], b[6], mean[6], var[6], gamma[6], beta[6], lw[6 * 12], lb[6];
  fill(&r, w, 6 * 3 * 9, -0.5f, 0.5f);
  fill(&r, b, 6, -0.2f, 0.2f);
  fill(&r, mean, 6, -0.3f, 0.3f);
  fill(&r, var, 6, 0.2f, 2.0f);
  fill(&r, gamma, 6, 0.5f, 1.5f);
  fill(&r, beta, 6, -0.3f, 0.3f);
  fill(&r, lw, 6 * 12, -0.5f, 0.5f);
  fill(&r, lb, 6, -0.2f, 0.2f);
  qk_model* m = NULL;
  if (p == P_LINEAR_BN || p == P_LINEAR_RELU) {
    const int64_t s[1] = {12};
    assert_ok(qk_model_create("x", s, 1, &m));
    assert_ok(qk_model_add_linear(m, "fc", "x", "f", lw, 6, 12, lb));
    if (p == P_LINEAR_BN)
      assert_ok(qk_model_add_batchnorm(m, "bn", "f", "y", 6, mean, var, gamma, beta, 1e-5f));
    else
      assert_ok(qk_model_add_relu(m, "relu", "f", "y"));
    return m;
  }
  const int64_t s[3] = {3, 5, 5}, ws[4] = {6, 3, 3, 3}, ws3[4] = {3, 3, 3, 3};
  assert_ok(qk_model_create("x", s, 3, &m));
  if (p == P_ADD_RELU) {
    assert_ok(qk_model_add_conv2d(m, "conv", "x", "c", w, ws3, b, kStride1, kPad1, kDil1, 1));
    assert_ok(qk_model_add_add(m, "add", "c", "x", "a"));
    assert_ok(qk_model_add_relu(m, "relu", "a", "y"));
    return m;
  }
  assert_ok(qk_model_add_conv2d(m, "conv", "x", "c", w, ws, b, kStride1, kPad1, kDil1, 1));
  switch (p) {
    case P_CONV_BN:
      assert_ok(qk_model_add_batchnorm(m, "bn", "c", "y", 6, mean, var, gamma, beta, 1e-5f));
      break;
    case P_CONV_BN_RELU:
      assert_ok(qk_model_add_batchnorm(m, "bn", "c", "n", 6, mean, var, gamma, beta, 1e-5f));
      assert_ok(qk_model_add_relu(m, "relu", "n", "y"));
      break;
    case P_CONV_RELU:
      assert_ok(qk_model_add_relu(m, "relu", "c", "y"));
      break;
    case P_CONV_RELU6:
      assert_ok(qk_model_add_hardtanh(m, "relu6", "c", "y", 0.0f, 6.0f));
      break;
    case P_SHARED: /* c feeds two layers: nothing may fuse */
      assert_ok(qk_model_add_batchnorm(m, "bn", "c", "n", 6, mean, var, gamma, beta, 1e-5f));
      assert_ok(qk_model_add_relu(m, "relu", "c", "q"));
      assert_ok(qk_model_add_add(m, "add", "n", "q", "y"));
      break;
    default:
      break;
  }
  return m;
}

static void test_fusion_patterns(void** state) {
  (void)state;
  static const struct {
    pattern p;
    const char* fused;
  } cases[] = {{P_CONV_BN, "conv+bn"},     {P_CONV_BN_RELU, "conv+bn+relu"}, {P_CONV_RELU, "conv+relu"},
               {P_CONV_RELU6, "conv+relu6"}, {P_LINEAR_BN, "fc+bn"},         {P_LINEAR_RELU, "fc+relu"},
               {P_ADD_RELU, "add+relu"},   {P_SHARED, NULL}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    qk_model* ref = build_pattern(cases[c].p, 7 + c);
    qk_model* fused = build_pattern(cases[c].p, 7 + c);
    assert_ok(qk_model_fuse(fused));
    size_t n = 0, layers_ref = 0, layers_fused = 0;
    assert_ok(qk_model_fused_count(fused, &n));
    assert_ok(qk_model_layer_count(ref, &layers_ref));
    assert_ok(qk_model_layer_count(fused, &layers_fused));
    if (cases[c].fused) {
      const char* name;
      assert_int_equal(n, 1);
      assert_ok(qk_model_fused_name(fused, 0, &name));
      assert_string_equal(name, cases[c].fused);
      size_t plus = 0;
      for (const char* q = cases[c].fused; *q; ++q) plus += *q == '+';
      assert_int_equal(layers_fused, layers_ref - plus);
    } else {
      assert_int_equal(n, 0);
      assert_int_equal(layers_fused, layers_ref);
    }
    assert_ok(qk_model_fuse(fused)); /* idempotent */
    assert_ok(qk_model_fused_count(fused, &n));
    assert_int_equal(n, cases[c].fused ? 1 : 0);

    int64_t os[8];
    size_t orank;
    assert_ok(qk_model_output_shape(ref, os, 8, &orank));
    const int linear = cases[c].p == P_LINEAR_BN || cases[c].p == P_LINEAR_RELU;
    const size_t in_count = linear ? 12 : 75, out_count = linear ? 6 : (cases[c].p == P_ADD_RELU ? 75 : 150);
    float x[4 * 75], a[4 * 150], b[4 * 150];
    qk_test_rng r = {99 + c};
    fill(&r, x, 4 * in_count, -2.0f, 2.0f);
    const int64_t xs_img[4] = {4, 3, 5, 5}, xs_vec[2] = {4, 12};
    assert_ok(qk_model_run(ref, x, linear ? xs_vec : xs_img, linear ? 2 : 4, a, 4 * out_count, NULL));
    assert_ok(qk_model_run(fused, x, linear ? xs_vec : xs_img, linear ? 2 : 4, b, 4 * out_count, NULL));
    float amax = 0;
    for (size_t i = 0; i < 4 * out_count; ++i) amax = fmaxf(amax, fabsf(a[i]));
    for (size_t i = 0; i < 4 * out_count; ++i)
      if (fabsf(a[i] - b[i]) > 1e-5f * fmaxf(amax, 1e-3f)) fail_msg("case %zu, element %zu: %g vs %g", c, i, a[i], b[i]);
    qk_model_destroy(ref);
    qk_model_destroy(fused);
  }
}

/* ---------------------------------------------------------------------------------------- */
/* convert + run == the kernel API step by step */

#define N_IMG 3
static void test_convert_matches_kernels(void** state) {
  (void)state;
  qk_test_rng r = {1234};
  float w[4 * 2 * 9], b[4], lw[5 * 36], lb[5], calib[16 * 72], x[N_IMG * 72];
  fill(&r, w, sizeof w / 4, -0.6f, 0.6f);
  fill(&r, b, 4, -0.1f, 0.1f);
  fill(&r, lw, sizeof lw / 4, -0.4f, 0.4f);
  fill(&r, lb, 5, -0.1f, 0.1f);
  fill(&r, calib, sizeof calib / 4, -1.0f, 1.0f);
  fill(&r, x, sizeof x / 4, -1.2f, 1.2f);
  const int64_t in_shape[3] = {2, 6, 6}, ws[4] = {4, 2, 3, 3};
  qk_model* m = NULL;
  assert_ok(qk_model_create("x", in_shape, 3, &m));
  assert_ok(qk_model_add_conv2d(m, "conv", "x", "c", w, ws, b, kStride1, kPad1, kDil1, 1));
  assert_ok(qk_model_add_relu(m, "relu", "c", "r"));
  assert_ok(qk_model_add_max_pool2d(m, "pool", "r", "p", kK2, kK2, kPad0, kDil1));
  assert_ok(qk_model_add_flatten(m, "flat", "p", "f"));
  assert_ok(qk_model_add_linear(m, "fc", "f", "y", lw, 5, 36, lb));
  assert_ok(qk_model_fuse(m));
  assert_ok(qk_model_prepare(m));
  const int64_t cs[4] = {16, 2, 6, 6}, xs[4] = {N_IMG, 2, 6, 6};
  assert_ok(qk_model_calibrate(m, calib, cs, 4));
  assert_status(qk_model_get_tensor_qparams(m, "x", &(qk_qparams*){NULL}), QK_ERR_STATE);
  assert_ok(qk_model_convert(m));
  float got[N_IMG * 5];
  assert_ok(qk_model_run(m, x, xs, 4, got, N_IMG * 5, NULL));

  qk_qparams *qx, *qr, *qy, *qp_pool, *wq1, *wq2;
  assert_ok(qk_model_get_tensor_qparams(m, "x", &qx));
  assert_ok(qk_model_get_tensor_qparams(m, "r", &qr));
  assert_ok(qk_model_get_tensor_qparams(m, "p", &qp_pool));
  assert_ok(qk_model_get_tensor_qparams(m, "y", &qy));
  assert_status(qk_model_get_tensor_qparams(m, "c", &wq1), QK_ERR_NOT_FOUND); /* fused away */
  float s1, s2;
  assert_ok(qk_qparams_get_scales(qr, &s1, 1));
  assert_ok(qk_qparams_get_scales(qp_pool, &s2, 1));
  assert_true(s1 == s2); /* max pool keeps its input's qparams */

  qk_quant_spec* spec = qk_test_spec(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
  int8_t w8[4 * 2 * 9], lw8[5 * 36];
  assert_ok(qk_qparams_from_tensor(spec, w, ws, 4, &wq1, NULL));
  assert_ok(qk_quantize(wq1, w, ws, 4, w8, sizeof w8, NULL));
  const int64_t lws[2] = {5, 36};
  assert_ok(qk_qparams_from_tensor(spec, lw, lws, 2, &wq2, NULL));
  assert_ok(qk_quantize(wq2, lw, lws, 2, lw8, sizeof lw8, NULL));

  uint8_t qin[N_IMG * 72], qc[N_IMG * 144], qpool[N_IMG * 36], flat[N_IMG * 36], qout[N_IMG * 5];
  assert_ok(qk_quantize_nchw_to_nhwc(qx, x, xs, qin, sizeof qin, NULL));
  qk_qconv2d* conv;
  assert_ok(qk_qconv2d_create(w8, ws, wq1, b, kStride1, kPad1, kDil1, 1, qx, qr, 0.0f, INFINITY, QK_REQUANT_FLOAT,
                              &conv));
  assert_ok(qk_qconv2d_run(conv, N_IMG, 6, 6, qin, sizeof qin, qc, sizeof qc, NULL));
  const int64_t nhwc[4] = {N_IMG, 6, 6, 4};
  assert_ok(qk_max_pool2d(QK_DTYPE_U8, qc, sizeof qc, nhwc, kK2, kK2, kPad0, kDil1, qpool, sizeof qpool));
  for (int n = 0; n < N_IMG; ++n)
    for (int p = 0; p < 9; ++p)
      for (int c = 0; c < 4; ++c) flat[n * 36 + c * 9 + p] = qpool[n * 36 + p * 4 + c];
  qk_packed_weights* pw;
  assert_ok(qk_packed_weights_create(lw8, 5, 36, 36, wq2, lb, QK_DTYPE_F32, &pw));
  qk_qlinear* lin;
  assert_ok(qk_qlinear_create(pw, qp_pool, QK_OUTPUT_QUANTIZED, qy, -INFINITY, INFINITY, QK_REQUANT_FLOAT, &lin));
  assert_ok(qk_qlinear_run(lin, N_IMG, flat, 36, sizeof flat, qout, 5, sizeof qout, NULL));
  float want[N_IMG * 5];
  const int64_t ys[2] = {N_IMG, 5};
  assert_ok(qk_dequantize(qy, qout, sizeof qout, ys, 2, want));
  for (int i = 0; i < N_IMG * 5; ++i) assert_int_equal(qk_test_f32_bits(got[i]), qk_test_f32_bits(want[i]));

  /* save -> load -> run: bit-identical, and the loaded model has no float weights for a report */
  const char* path = temp_file("small.qkw");
  assert_ok(qk_model_save(m, path));
  qk_model* l = NULL;
  assert_ok(qk_model_load(path, &l));
  float again[N_IMG * 5];
  assert_ok(qk_model_run(l, x, xs, 4, again, N_IMG * 5, NULL));
  assert_memory_equal(got, again, sizeof got);
  double sq[8];
  assert_ok(qk_model_layer_sqnr(m, x, xs, 4, sq, 8));
  assert_status(qk_model_layer_sqnr(m, x, xs, 4, sq, 1), QK_ERR_BUFFER_TOO_SMALL);
  assert_status(qk_model_layer_sqnr(l, x, xs, 4, sq, 8), QK_ERR_STATE);
  unlink(path);

  qk_qlinear_destroy(lin);
  qk_packed_weights_destroy(pw);
  qk_qconv2d_destroy(conv);
  qk_qparams_destroy(qx);
  qk_qparams_destroy(qr);
  qk_qparams_destroy(qp_pool);
  qk_qparams_destroy(qy);
  qk_qparams_destroy(wq1);
  qk_qparams_destroy(wq2);
  qk_quant_spec_destroy(spec);
  qk_model_destroy(l);
  qk_model_destroy(m);
}

/* ---------------------------------------------------------------------------------------- */
/* Hostile graphs */

static qk_status load_graph(const char* text, int with_weight, int64_t wrows) {
  const char* path = temp_file("hostile.qkw");
  qk_qkw_writer* w;
  assert_ok(qk_qkw_writer_create(path, &w));
  float data[8 * 4] = {0};
  const int64_t s[2] = {wrows, 4};
  if (with_weight) assert_ok(qk_qkw_writer_add_raw(w, "fc.weight", data, (size_t)(wrows * 4) * 4, QK_DTYPE_F32, s, 2));
  if (text) assert_ok(qk_qkw_writer_set_metadata(w, "model.graph", text));
  assert_ok(qk_qkw_writer_finish(w));
  qk_qkw_writer_destroy(w);
  qk_model* m = (qk_model*)0x1;
  const qk_status st = qk_model_load(path, &m);
  if (st == QK_OK)
    qk_model_destroy(m);
  else
    assert_true(m == (qk_model*)0x1);
  unlink(path);
  return st;
}

static void test_hostile_graphs(void** state) {
  (void)state;
  const char* ok = "qkmodel 1\nstate float\ninput x 1 4\nlayer op=linear name=fc in=x out=y quant=0 wshape=2,4 bias=0\n"
                   "output y\n";
  assert_ok(load_graph(ok, 1, 2));
  assert_status(load_graph(NULL, 1, 2), QK_ERR_CORRUPT);
  assert_error_mentions("model.graph");
  assert_status(load_graph("qkmodel 1\nstate float\ninput x 1 4\nlayer op=relu name=r in=nope out=y quant=0\n", 0, 2),
                QK_ERR_CORRUPT);
  assert_error_mentions("line 4");
  assert_error_mentions("nope");
  /* weight tensor with another shape than the graph says */
  assert_status(load_graph(ok, 1, 3), QK_ERR_CORRUPT);
  assert_error_mentions("shape");
  /* missing weight */
  assert_status(load_graph(ok, 0, 2), QK_ERR_CORRUPT);
  assert_error_mentions("missing");
  assert_status(load_graph("qkmodel 1\nstate float\ninput x 1 4\nlayer op=bogus name=r in=x out=y quant=0\n", 0, 2),
                QK_ERR_CORRUPT);
  assert_status(load_graph("qkmodel 2\nstate float\ninput x 1 4\n", 0, 2), QK_ERR_UNSUPPORTED);
  assert_status(load_graph("qkmodel 1\nstate float\n", 0, 2), QK_ERR_CORRUPT);
  assert_status(load_graph("qkmodel 1\nstate float\ninput x 3 1 -5 2\n", 0, 2), QK_ERR_CORRUPT);
  assert_status(load_graph("qkmodel 1\nstate float\ninput x 1 4\nlayer op=relu name=r in=x out=x quant=0\n", 0, 2),
                QK_ERR_CORRUPT);
  assert_status(load_graph("qkmodel 1\nstate float\ninput x 1 4\nlayer op=relu name=r in=x out=y quant=1\n", 0, 2),
                QK_ERR_CORRUPT);
  assert_status(load_graph("qkmodel 1\nstate float\ninput x 1 4\nlayer op=linear name=fc in=x out=y quant=0 "
                           "wshape=99999999999,4 bias=0\n",
                           1, 2),
                QK_ERR_CORRUPT);
  /* converted: int8 relu without qparams for its tensors */
  assert_status(load_graph("qkmodel 1\nstate converted\ninput x 1 4\nlayer op=relu name=r in=x out=y quant=1\n"
                           "output y\n",
                           0, 2),
                QK_ERR_CORRUPT);
  assert_error_mentions("qparams");
  /* converted: a relu whose output qparams differ from its input's */
  assert_status(load_graph("qkmodel 1\nstate converted\ninput x 1 4\nlayer op=relu name=r in=x out=y quant=1\n"
                           "tensor name=x dtype=5 scale=0x1p-4 zp=3 qmin=0 qmax=255\n"
                           "tensor name=y dtype=5 scale=0x1p-3 zp=3 qmin=0 qmax=255\noutput y\n",
                           0, 2),
                QK_ERR_CORRUPT);
  assert_status(load_graph("qkmodel 1\nstate converted\ninput x 1 4\nlayer op=relu name=r in=x out=y quant=1\n"
                           "tensor name=x dtype=5 scale=0x1p-4 zp=300 qmin=0 qmax=255\n",
                           0, 2),
                QK_ERR_CORRUPT);
  assert_status(qk_model_load(temp_file("does-not-exist.qkw"), &(qk_model*){NULL}), QK_ERR_IO);
}

/* ---------------------------------------------------------------------------------------- */
/* The digits CNN */

static tensor_bundle g_weights, g_images;
static const bundle_tensor *g_calib, *g_test, *g_labels;

static int digits_setup(void** state) {
  (void)state;
  if (bundle_load(QK_EXAMPLES_DATA_DIR "/digits_cnn.qktb", &g_weights) != 0) return -1;
  if (bundle_load(QK_EXAMPLES_DATA_DIR "/digits_images.qktb", &g_images) != 0) return -1;
  g_calib = bundle_find(&g_images, "calibration");
  g_test = bundle_find(&g_images, "test_images");
  g_labels = bundle_find(&g_images, "test_labels");
  return g_calib && g_test && g_labels ? 0 : -1;
}
static int digits_teardown(void** state) {
  (void)state;
  bundle_free(&g_weights);
  bundle_free(&g_images);
  return 0;
}

static qk_model* digits_converted(int calibrate) {
  qk_model* m = NULL;
  assert_ok(digits_model_build(&g_weights, &m));
  assert_ok(qk_model_fuse(m));
  assert_ok(qk_model_prepare(m));
  if (calibrate) {
    const int64_t cs[4] = {g_calib->shape[0], 1, 16, 16};
    assert_ok(qk_model_calibrate(m, g_calib->data, cs, 4));
    assert_ok(qk_model_convert(m));
  }
  return m;
}

static int correct_count(const qk_model* m) {
  const int64_t n = g_test->shape[0];
  const int64_t s[4] = {n, 1, 16, 16};
  float* logits = malloc(sizeof(float) * (size_t)n * 10);
  assert_ok(qk_model_run(m, g_test->data, s, 4, logits, (size_t)n * 10, NULL));
  int correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    int best = 0;
    for (int c = 1; c < 10; ++c)
      if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
    correct += best == (int)g_labels->data[i];
  }
  free(logits);
  return correct;
}

static void test_digits_accuracy(void** state) {
  (void)state;
  qk_model* fp32 = NULL;
  assert_ok(digits_model_build(&g_weights, &fp32));
  const int c32 = correct_count(fp32);
  assert_int_equal(c32, 448); /* 99.56 %, the fixture's figure */
  assert_ok(qk_model_fuse(fp32));
  assert_int_equal(correct_count(fp32), 448);
  qk_model* q = digits_converted(1);
  const int c8 = correct_count(q);
  assert_true(abs(c8 - c32) <= 2); /* 2 of 450 images = 0.44 pp */
  size_t layers;
  assert_ok(qk_model_layer_count(q, &layers));
  assert_int_equal(layers, 9);
  double sq[9];
  const int64_t s[4] = {32, 1, 16, 16};
  assert_ok(qk_model_layer_sqnr(q, g_test->data, s, 4, sq, 9));
  for (int i = 0; i < 9; ++i) assert_true(sq[i] > 25.0);

  /* save / load: bit-identical; the int8 file is much smaller */
  const char* path = temp_file("digits.qkw");
  assert_ok(qk_model_save(q, path));
  qk_model* l = NULL;
  assert_ok(qk_model_load(path, &l));
  float a[32 * 10], b[32 * 10];
  assert_ok(qk_model_run(q, g_test->data, s, 4, a, 320, NULL));
  assert_ok(qk_model_run(l, g_test->data, s, 4, b, 320, NULL));
  assert_memory_equal(a, b, sizeof a);
  assert_status(qk_model_set_layer_skip(l, "fc2", 1), QK_ERR_STATE);
  unlink(path);
  /* float round trip */
  assert_ok(qk_model_save(fp32, path));
  qk_model* lf = NULL;
  assert_ok(qk_model_load(path, &lf));
  assert_ok(qk_model_run(fp32, g_test->data, s, 4, a, 320, NULL));
  assert_ok(qk_model_run(lf, g_test->data, s, 4, b, 320, NULL));
  assert_memory_equal(a, b, sizeof a);
  unlink(path);
  qk_model_destroy(lf);
  qk_model_destroy(l);
  qk_model_destroy(q);
  qk_model_destroy(fp32);
}

static void test_digits_qconfig_and_qat(void** state) {
  (void)state;
  /* QAT-style override of the input qparams + s8 activations for fc2 + fc2 kept in float */
  qk_model* m = NULL;
  assert_ok(digits_model_build(&g_weights, &m));
  assert_ok(qk_model_fuse(m));
  assert_ok(qk_model_set_activation_observer(m, NULL, QK_OBSERVER_MINMAX));
  assert_ok(qk_model_set_activation_dtype(m, "conv2", QK_DTYPE_S8));
  assert_ok(qk_model_set_weight_scheme(m, "conv3", QK_QSCHEME_PER_TENSOR_SYMMETRIC));
  assert_ok(qk_model_set_layer_skip(m, "fc2", 1));
  qk_qparams* in_qp = NULL;
  const float scale = 1.0f / 255.0f;
  const int32_t zp = 0;
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp, NULL, 1, 0, 255, &in_qp));
  assert_ok(qk_model_set_tensor_qparams(m, "image", in_qp));
  assert_status(qk_model_set_tensor_qparams(m, "p2", in_qp), QK_ERR_INVALID_ARGUMENT); /* pool output */
  assert_status(qk_model_set_tensor_qparams(m, "nope", in_qp), QK_ERR_NOT_FOUND);
  assert_ok(qk_model_prepare(m));
  const int64_t cs[4] = {g_calib->shape[0], 1, 16, 16};
  for (int64_t i = 0; i < cs[0]; i += 64) {
    const int64_t bs[4] = {64, 1, 16, 16};
    assert_ok(qk_model_calibrate(m, g_calib->data + i * 256, bs, 4));
  }
  assert_ok(qk_model_convert(m));
  qk_qparams* got = NULL;
  assert_ok(qk_model_get_tensor_qparams(m, "image", &got));
  float s;
  int32_t z;
  assert_ok(qk_qparams_get_scales(got, &s, 1));
  assert_ok(qk_qparams_get_zero_points(got, &z, 1));
  assert_true(s == scale && z == 0);
  qk_qparams_destroy(got);
  qk_dtype dt;
  assert_ok(qk_model_get_tensor_qparams(m, "r2", &got));
  assert_ok(qk_qparams_get_dtype(got, &dt));
  assert_int_equal(dt, QK_DTYPE_S8);
  qk_qparams_destroy(got);
  assert_true(correct_count(m) >= 446);
  /* the mixed model round-trips too */
  const char* path = temp_file("mixed.qkw");
  assert_ok(qk_model_save(m, path));
  qk_model* l = NULL;
  assert_ok(qk_model_load(path, &l));
  const int64_t ts[4] = {16, 1, 16, 16};
  float a[160], b[160];
  assert_ok(qk_model_run(m, g_test->data, ts, 4, a, 160, NULL));
  assert_ok(qk_model_run(l, g_test->data, ts, 4, b, 160, NULL));
  assert_memory_equal(a, b, sizeof a);
  unlink(path);
  qk_model_destroy(l);
  qk_qparams_destroy(in_qp);
  qk_model_destroy(m);
}

static void test_digits_dynamic(void** state) {
  (void)state;
  qk_model* m = NULL;
  assert_ok(digits_model_build(&g_weights, &m));
  assert_ok(qk_model_fuse(m));
  assert_ok(qk_model_quantize_dynamic(m));
  qk_model_state st;
  assert_ok(qk_model_get_state(m, &st));
  assert_int_equal(st, QK_MODEL_DYNAMIC);
  assert_status(qk_model_prepare(m), QK_ERR_STATE);
  assert_true(correct_count(m) >= 446);
  const char* path = temp_file("dynamic.qkw");
  assert_ok(qk_model_save(m, path));
  qk_model* l = NULL;
  assert_ok(qk_model_load(path, &l));
  const int64_t ts[4] = {16, 1, 16, 16};
  float a[160], b[160];
  assert_ok(qk_model_run(m, g_test->data, ts, 4, a, 160, NULL));
  assert_ok(qk_model_run(l, g_test->data, ts, 4, b, 160, NULL));
  assert_memory_equal(a, b, sizeof a);
  unlink(path);
  qk_model_destroy(l);
  qk_model_destroy(m);
}

typedef struct {
  const qk_model* m;
  float out[64 * 10];
  qk_status status;
} run_job;

static void* run_thread(void* arg) {
  run_job* j = arg;
  const int64_t s[4] = {64, 1, 16, 16};
  j->status = QK_OK;
  for (int rep = 0; rep < 5 && j->status == QK_OK; ++rep)
    j->status = qk_model_run(j->m, g_test->data, s, 4, j->out, 640, NULL);
  return NULL;
}

static void test_digits_threads(void** state) {
  (void)state;
  qk_model* m = digits_converted(1);
  static run_job jobs[2];
  float ref[640];
  const int64_t s[4] = {64, 1, 16, 16};
  assert_ok(qk_model_run(m, g_test->data, s, 4, ref, 640, NULL));
  pthread_t t[2];
  for (int i = 0; i < 2; ++i) {
    jobs[i].m = m;
    assert_int_equal(pthread_create(&t[i], NULL, run_thread, &jobs[i]), 0);
  }
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  for (int i = 0; i < 2; ++i) {
    assert_int_equal(jobs[i].status, QK_OK);
    assert_memory_equal(jobs[i].out, ref, sizeof ref);
  }
  /* a thread pool gives the same bytes */
  qk_threadpool* pool;
  assert_ok(qk_threadpool_create(2, &pool));
  float pooled[640];
  assert_ok(qk_model_run(m, g_test->data, s, 4, pooled, 640, pool));
  assert_memory_equal(pooled, ref, sizeof ref);
  qk_threadpool_destroy(pool);
  qk_model_destroy(m);
}

/* Residual block: conv -> add(skip) -> relu -> global avg pool -> flatten -> linear -> softmax. */
static void test_residual_net(void** state) {
  (void)state;
  qk_test_rng r = {77};
  float w[4 * 4 * 9], b[4], w2[4 * 9], lw[3 * 4], calib[32 * 4 * 8 * 8];
  fill(&r, w, sizeof w / 4, -0.3f, 0.3f);
  fill(&r, b, 4, -0.1f, 0.1f);
  fill(&r, w2, sizeof w2 / 4, -0.3f, 0.3f);
  fill(&r, lw, sizeof lw / 4, -0.5f, 0.5f);
  fill(&r, calib, sizeof calib / 4, 0.0f, 1.0f);
  const int64_t in_shape[3] = {4, 8, 8}, ws[4] = {4, 4, 3, 3}, dws[4] = {4, 1, 3, 3};
  qk_model* m = NULL;
  assert_ok(qk_model_create("x", in_shape, 3, &m));
  assert_ok(qk_model_add_conv2d(m, "conv", "x", "c", w, ws, b, kStride1, kPad1, kDil1, 1));
  assert_ok(qk_model_add_hardtanh(m, "relu6", "c", "c6", 0.0f, 6.0f));
  assert_ok(qk_model_add_conv2d(m, "dw", "c6", "d", w2, dws, NULL, kStride1, kPad1, kDil1, 4)); /* depthwise */
  assert_ok(qk_model_add_add(m, "add", "d", "x", "a"));
  assert_ok(qk_model_add_relu(m, "relu", "a", "ar"));
  const int64_t k3[2] = {3, 3};
  assert_ok(qk_model_add_avg_pool2d(m, "avg", "ar", "av", k3, kStride1, kPad1, 1));
  assert_ok(qk_model_add_global_avg_pool2d(m, "gap", "av", "g"));
  assert_ok(qk_model_add_flatten(m, "flat", "g", "f"));
  assert_ok(qk_model_add_linear(m, "fc", "f", "l", lw, 3, 4, NULL));
  assert_ok(qk_model_add_softmax(m, "softmax", "l", "y"));
  const int64_t cs[4] = {32, 4, 8, 8};
  float ref[32 * 3], got[32 * 3];
  assert_ok(qk_model_run(m, calib, cs, 4, ref, 96, NULL));
  assert_ok(qk_model_fuse(m));
  size_t n;
  assert_ok(qk_model_fused_count(m, &n));
  assert_int_equal(n, 2); /* conv+relu6, add+relu */
  assert_ok(qk_model_prepare(m));
  assert_ok(qk_model_calibrate(m, calib, cs, 4));
  assert_ok(qk_model_convert(m));
  assert_ok(qk_model_run(m, calib, cs, 4, got, 96, NULL));
  double sqnr;
  assert_ok(qk_error_stats(ref, got, 96, &sqnr, NULL, NULL));
  assert_true(sqnr > 25.0);
  double per_layer[16];
  assert_ok(qk_model_layer_sqnr(m, calib, cs, 4, per_layer, 16));
  const char* path = temp_file("residual.qkw");
  assert_ok(qk_model_save(m, path));
  qk_model* l = NULL;
  assert_ok(qk_model_load(path, &l));
  float again[96];
  assert_ok(qk_model_run(l, calib, cs, 4, again, 96, NULL));
  assert_memory_equal(got, again, sizeof got);
  unlink(path);
  qk_model_destroy(l);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_build_errors),
      cmocka_unit_test(test_fusion_patterns),
      cmocka_unit_test(test_convert_matches_kernels),
      cmocka_unit_test(test_hostile_graphs),
      cmocka_unit_test(test_residual_net),
      cmocka_unit_test(test_digits_accuracy),
      cmocka_unit_test(test_digits_qconfig_and_qat),
      cmocka_unit_test(test_digits_dynamic),
      cmocka_unit_test(test_digits_threads),
  };
  return cmocka_run_group_tests(tests, digits_setup, digits_teardown);
}
