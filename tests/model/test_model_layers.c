/* SPDX-License-Identifier: Apache-2.0 */
/* Sigmoid, Hardswish, Concat and Reshape layers of qk_model, written from the header:
 *  - float run equals the formulas computed here (bit for bit: the same f32 expressions);
 *  - converted run equals quantize/dequantize of the C API composed by hand: sigmoid with the
 *    fixed qparams (1/256, zero point 0), hardswish with its observed qparams, concat
 *    requantizing each input to the output's qparams, reshape keeping qparams and C, H, W order
 *    (the int8 codes are NHWC inside, so a wrong reorder shows as a permutation);
 *  - save -> load -> run is bit-identical;
 *  - argument errors leave the model unchanged;
 *  - qconfig by layer kind ("type:linear") and by name, the backend presets, and the numeric
 *    report's max error;
 *  - split calibration: two halves calibrated apart and merged through saved observer states
 *    convert to the same model as one model calibrated on both halves (min/max merge exactly);
 *  - NHWC I/O: a channels-last model given the transposed data returns the transposed result of
 *    the NCHW model bit for bit (float and int8), and keeps its layout through save/load;
 *  - bn+relu fuses into the batch norm's own clamp (a BN with no conv before it);
 *  - dynamic quantization covers 1x1 convs: equal bit for bit to qk_dynamic_linear on the
 *    pixels' channel vectors; a 3x3 conv stays f32. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qk_test_util.h"

enum { kN = 3, kC = 2, kH = 2, kW = 2, kPer = kC * kH * kW };

static float ref_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
static float ref_hardswish(float x) {
  float t = x + 3.0f;
  t = t < 0.0f ? 0.0f : t > 6.0f ? 6.0f : t;
  return x * t / 6.0f;
}

/* m saved to a temporary .qkw file and loaded back (the file is removed). */
static qk_model* reloaded(const qk_model* m) {
  char path[128];
  snprintf(path, sizeof path, "/tmp/qk_model_layers_%d.qkw", (int)getpid());
  assert_ok(qk_model_save(m, path));
  qk_model* l = NULL;
  assert_ok(qk_model_load(path, &l));
  unlink(path);
  return l;
}

/* x {2, 2, 2} -> sigmoid s, hardswish h -> concat c {4, 2, 2} -> reshape r {16}. */
static qk_model* build_branches(void) {
  const int64_t in_shape[3] = {kC, kH, kW}, flat[1] = {-1};
  qk_model* m = NULL;
  assert_ok(qk_model_create("x", in_shape, 3, &m));
  assert_ok(qk_model_add_sigmoid(m, "sig", "x", "s"));
  assert_ok(qk_model_add_hardswish(m, "hsw", "x", "h"));
  const char* parts[2] = {"s", "h"};
  assert_ok(qk_model_add_concat(m, "cat", parts, 2, "c"));
  assert_ok(qk_model_add_reshape(m, "flat", "c", flat, 1, "r"));
  return m;
}

static void inputs(float* x) {
  qk_test_rng r = {2024};
  for (size_t i = 0; i < kN * kPer; ++i) x[i] = qk_test_uniform(&r, -5.0f, 5.0f);
  x[0] = -3.0f; /* hardswish's corners */
  x[1] = 3.0f;
  x[2] = 0.0f;
}

static void test_float_run(void** state) {
  (void)state;
  qk_model* m = build_branches();
  int64_t shape[8];
  size_t rank = 0;
  assert_ok(qk_model_tensor_shape(m, "c", shape, 8, &rank));
  assert_int_equal(rank, 3);
  assert_int_equal(shape[0], 4);
  assert_int_equal(shape[1], 2);
  assert_ok(qk_model_output_shape(m, shape, 8, &rank));
  assert_int_equal(rank, 1);
  assert_int_equal(shape[0], 2 * kPer);
  qk_layer_kind kind;
  assert_ok(qk_model_layer_kind(m, 2, &kind));
  assert_int_equal(kind, QK_LAYER_CONCAT);

  float x[kN * kPer], y[kN * 2 * kPer], want[kN * 2 * kPer];
  inputs(x);
  const int64_t xs[4] = {kN, kC, kH, kW};
  assert_ok(qk_model_run(m, x, xs, 4, y, kN * 2 * kPer, NULL));
  for (size_t b = 0; b < kN; ++b)
    for (size_t i = 0; i < kPer; ++i) {
      want[b * 2 * kPer + i] = ref_sigmoid(x[b * kPer + i]);
      want[b * 2 * kPer + kPer + i] = ref_hardswish(x[b * kPer + i]);
    }
  assert_memory_equal(y, want, sizeof y);
  assert_true(y[kPer] == 0.0f && y[kPer + 1] == 3.0f); /* hardswish(-3) = 0, hardswish(3) = 3 */
  qk_model_destroy(m);
}

/* Per-tensor qparams of a converted model's tensor, as (scale, zero point). */
static qk_qparams* tensor_qp(const qk_model* m, const char* t, float* scale, int32_t* zp) {
  qk_qparams* qp = NULL;
  assert_ok(qk_model_get_tensor_qparams(m, t, &qp));
  assert_ok(qk_qparams_get_scales(qp, scale, 1));
  assert_ok(qk_qparams_get_zero_points(qp, zp, 1));
  return qp;
}

/* dequantize(quantize(v)) in place over n values, with the library's own functions. */
static void fake_quant(const qk_qparams* qp, float* v, size_t n) {
  uint8_t codes[kN * 2 * kPer];
  const int64_t shape[1] = {(int64_t)n};
  assert_ok(qk_quantize(qp, v, shape, 1, codes, n, NULL));
  assert_ok(qk_dequantize(qp, codes, n, shape, 1, v));
}

static void test_converted_run(void** state) {
  (void)state;
  qk_model* m = build_branches();
  float x[kN * kPer];
  inputs(x);
  const int64_t xs[4] = {kN, kC, kH, kW};
  assert_ok(qk_model_prepare(m));
  assert_ok(qk_model_calibrate(m, x, xs, 4));
  /* the sigmoid output is not observed: its qparams are fixed */
  qk_qparams* user = NULL;
  const float one = 0.01f;
  const int32_t zero = 0;
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &one, &zero, NULL, 1, 0, 255, &user));
  assert_status(qk_model_set_tensor_qparams(m, "s", user), QK_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(qk_last_error(), "fixed qparams"));
  qk_qparams_destroy(user);
  assert_ok(qk_model_convert(m));

  float s_scale, h_scale, c_scale, x_scale, r_scale;
  int32_t s_zp, h_zp, c_zp, x_zp, r_zp;
  qk_qparams* xq = tensor_qp(m, "x", &x_scale, &x_zp);
  qk_qparams* sq = tensor_qp(m, "s", &s_scale, &s_zp);
  qk_qparams* hq = tensor_qp(m, "h", &h_scale, &h_zp);
  qk_qparams* cq = tensor_qp(m, "c", &c_scale, &c_zp);
  qk_qparams* rq = tensor_qp(m, "r", &r_scale, &r_zp);
  assert_true(s_scale == 1.0f / 256.0f);
  assert_int_equal(s_zp, 0);
  assert_true(r_scale == c_scale && r_zp == c_zp); /* reshape keeps its input's qparams */
  assert_true(h_scale != s_scale);                 /* hardswish was observed */

  /* The int8 model by hand: quantize x; each branch is quantize(f(dequantize(code))) with its
   * output qparams; concat requantizes both to c's qparams; reshape moves nothing. */
  float xd[kN * kPer], want[kN * 2 * kPer], s[kN * kPer], h[kN * kPer];
  memcpy(xd, x, sizeof x);
  fake_quant(xq, xd, kN * kPer);
  for (size_t i = 0; i < kN * kPer; ++i) {
    s[i] = ref_sigmoid(xd[i]);
    h[i] = ref_hardswish(xd[i]);
  }
  fake_quant(sq, s, kN * kPer);
  fake_quant(hq, h, kN * kPer);
  for (size_t b = 0; b < kN; ++b) {
    memcpy(want + b * 2 * kPer, s + b * kPer, kPer * sizeof(float));
    memcpy(want + b * 2 * kPer + kPer, h + b * kPer, kPer * sizeof(float));
  }
  fake_quant(cq, want, kN * 2 * kPer);

  float y[kN * 2 * kPer];
  assert_ok(qk_model_run(m, x, xs, 4, y, kN * 2 * kPer, NULL));
  assert_memory_equal(y, want, sizeof y);

  qk_model* l = reloaded(m);
  float again[kN * 2 * kPer];
  assert_ok(qk_model_run(l, x, xs, 4, again, kN * 2 * kPer, NULL));
  assert_memory_equal(y, again, sizeof y);
  qk_model_destroy(l);
  qk_qparams_destroy(xq);
  qk_qparams_destroy(sq);
  qk_qparams_destroy(hq);
  qk_qparams_destroy(cq);
  qk_qparams_destroy(rq);
  qk_model_destroy(m);
}

/* x {2, 2, 3} -> relu a -> reshape r {3, 1, 4} -> flatten f: int8 output = relu of the quantized
 * input in x's own C, H, W order (codes are NHWC inside: {2,2,3} and {3,1,4} lay out differently). */
static void test_reshape_order(void** state) {
  (void)state;
  const int64_t in_shape[3] = {2, 2, 3}, target[3] = {3, 1, 4}, xs[4] = {2, 2, 2, 3};
  qk_model* m = NULL;
  assert_ok(qk_model_create("x", in_shape, 3, &m));
  assert_ok(qk_model_add_relu(m, "relu", "x", "a"));
  assert_ok(qk_model_add_reshape(m, "reshape", "a", target, 3, "r"));
  assert_ok(qk_model_add_flatten(m, "flatten", "r", "f"));
  float x[24];
  for (int i = 0; i < 24; ++i) x[i] = (float)(i % 7) - 2.5f + 0.1f * (float)i;
  float fy[24];
  assert_ok(qk_model_run(m, x, xs, 4, fy, 24, NULL));
  for (int i = 0; i < 24; ++i) assert_true(fy[i] == (x[i] > 0.0f ? x[i] : 0.0f));
  assert_ok(qk_model_prepare(m));
  assert_ok(qk_model_calibrate(m, x, xs, 4));
  assert_ok(qk_model_convert(m));
  float scale;
  int32_t zp;
  qk_qparams* xq = tensor_qp(m, "x", &scale, &zp);
  float want[24];
  memcpy(want, x, sizeof x);
  fake_quant(xq, want, 24);
  const float zero_value = 0.0f * scale; /* relu clamps codes at the zero point: exactly 0.0 */
  for (int i = 0; i < 24; ++i) want[i] = want[i] > 0.0f ? want[i] : zero_value;
  float y[24];
  assert_ok(qk_model_run(m, x, xs, 4, y, 24, NULL));
  assert_memory_equal(y, want, sizeof y);
  qk_qparams_destroy(xq);
  qk_model_destroy(m);
}

static void test_errors(void** state) {
  (void)state;
  const int64_t in_shape[3] = {2, 4, 4}, other[3] = {2, 2, 2};
  qk_model* m = NULL;
  assert_ok(qk_model_create("x", in_shape, 3, &m));
  assert_status(qk_model_add_reshape(m, "r", "x", other, 3, "y"), QK_ERR_INVALID_ARGUMENT); /* 32 vs 8 */
  size_t layers = 0;
  const int64_t bad_count[1] = {31}, two_infer[3] = {-1, -1, 2}, zero_dim[3] = {0, 4, 8}, ok3[3] = {8, -1, 2};
  assert_status(qk_model_add_reshape(m, "r", "x", bad_count, 1, "y"), QK_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(qk_last_error(), "32 elements"));
  assert_status(qk_model_add_reshape(m, "r", "x", two_infer, 3, "y"), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_add_reshape(m, "r", "x", zero_dim, 3, "y"), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_add_reshape(m, "r", "x", ok3, 2, "y"), QK_ERR_INVALID_ARGUMENT); /* rank 2 */
  assert_status(qk_model_add_reshape(m, "r", "x", NULL, 1, "y"), QK_ERR_INVALID_ARGUMENT);
  assert_ok(qk_model_layer_count(m, &layers));
  assert_int_equal(layers, 0);
  assert_ok(qk_model_add_reshape(m, "r", "x", ok3, 3, "y"));
  int64_t shape[8];
  size_t rank;
  assert_ok(qk_model_tensor_shape(m, "y", shape, 8, &rank));
  assert_int_equal(rank, 3);
  assert_int_equal(shape[1], 2); /* 32 / (8 * 2) */

  const int64_t k2[2] = {2, 2}, s2[2] = {2, 2}, p0[4] = {0, 0, 0, 0}, d1[2] = {1, 1};
  assert_ok(qk_model_add_max_pool2d(m, "pool", "x", "p", k2, s2, p0, d1)); /* {2, 2, 2} */
  const char* mismatch[2] = {"x", "p"};
  assert_status(qk_model_add_concat(m, "cat", mismatch, 2, "c"), QK_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(qk_last_error(), "only dimension 1 may differ"));
  const char* one[1] = {"x"};
  assert_status(qk_model_add_concat(m, "cat", one, 1, "c"), QK_ERR_INVALID_ARGUMENT);
  const char* with_null[2] = {"x", NULL};
  assert_status(qk_model_add_concat(m, "cat", with_null, 2, "c"), QK_ERR_INVALID_ARGUMENT);
  const char* unknown[2] = {"x", "nope"};
  assert_status(qk_model_add_concat(m, "cat", unknown, 2, "c"), QK_ERR_NOT_FOUND);
  assert_status(qk_model_add_concat(m, "cat", NULL, 2, "c"), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_add_sigmoid(m, "s", "nope", "c"), QK_ERR_NOT_FOUND);
  assert_ok(qk_model_layer_count(m, &layers));
  assert_int_equal(layers, 2);
  const char* three[3] = {"x", "x", "x"};
  assert_ok(qk_model_add_concat(m, "cat", three, 3, "c"));
  assert_ok(qk_model_tensor_shape(m, "c", shape, 8, &rank));
  assert_int_equal(shape[0], 6);
  qk_model_destroy(m);
}

/* in {8} -> fc1 (linear) -> relu -> fc2 (linear) -> fc3 (linear) */
static qk_model* three_linears(float* x, int64_t* xs) {
  qk_test_rng r = {99};
  float w1[6 * 8], w2[5 * 6], w3[4 * 5];
  for (size_t i = 0; i < 48; ++i) w1[i] = qk_test_uniform(&r, -0.5f, 0.5f);
  for (size_t i = 0; i < 30; ++i) w2[i] = qk_test_uniform(&r, -0.5f, 0.5f);
  for (size_t i = 0; i < 20; ++i) w3[i] = qk_test_uniform(&r, -0.5f, 0.5f);
  for (size_t i = 0; i < 16 * 8; ++i) x[i] = qk_test_uniform(&r, -1.0f, 1.0f);
  xs[0] = 16;
  xs[1] = 8;
  const int64_t in_shape[1] = {8};
  qk_model* m = NULL;
  assert_ok(qk_model_create("x", in_shape, 1, &m));
  assert_ok(qk_model_add_linear(m, "fc1", "x", "a", w1, 6, 8, NULL));
  assert_ok(qk_model_add_relu(m, "relu", "a", "ar"));
  assert_ok(qk_model_add_linear(m, "fc2", "ar", "b", w2, 5, 6, NULL));
  assert_ok(qk_model_add_linear(m, "fc3", "b", "c", w3, 4, 5, NULL));
  return m;
}

static qk_dtype tensor_dtype(const qk_model* m, const char* t) {
  qk_qparams* qp = NULL;
  assert_ok(qk_model_get_tensor_qparams(m, t, &qp));
  qk_dtype d;
  assert_ok(qk_qparams_get_dtype(qp, &d));
  qk_qparams_destroy(qp);
  return d;
}

static qk_qscheme saved_weight_scheme(const char* path, const char* tensor) {
  qk_qkw_reader* r = NULL;
  assert_ok(qk_qkw_open_file(path, QK_VERIFY_FULL, 0, &r));
  size_t i;
  assert_ok(qk_qkw_find(r, tensor, &i));
  qk_qparams* qp = NULL;
  assert_ok(qk_qkw_tensor_qparams(r, i, &qp));
  qk_qscheme s;
  assert_ok(qk_qparams_get_scheme(qp, &s));
  qk_qparams_destroy(qp);
  qk_qkw_close(r);
  return s;
}

static void test_qconfig_kinds_presets_report(void** state) {
  (void)state;
  float x[16 * 8];
  int64_t xs[2];
  qk_model* m = three_linears(x, xs);
  float ref[16 * 4];
  assert_ok(qk_model_run(m, x, xs, 2, ref, 64, NULL));
  /* preset for all, then every linear s8 activations, then fc3 back to u8 by name */
  assert_ok(qk_model_set_qconfig_preset(m, NULL, "qnnpack"));
  assert_ok(qk_model_set_activation_dtype(m, "type:linear", QK_DTYPE_S8));
  assert_ok(qk_model_set_activation_dtype(m, "fc3", QK_DTYPE_U8));
  assert_ok(qk_model_set_weight_scheme(m, "type:linear", QK_QSCHEME_PER_CHANNEL_SYMMETRIC));
  assert_ok(qk_model_set_qconfig_preset(m, "fc2", "qnnpack")); /* back to per-tensor for fc2 */
  assert_status(qk_model_set_activation_dtype(m, "type:lstm", QK_DTYPE_S8), QK_ERR_NOT_FOUND);
  assert_non_null(strstr(qk_last_error(), "unknown layer kind 'lstm'"));
  assert_status(qk_model_set_qconfig_preset(m, NULL, "tensorrt"), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_set_qconfig_preset(m, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_model_add_relu(m, "type:relu", "c", "cr"), QK_ERR_INVALID_ARGUMENT);
  assert_ok(qk_model_prepare(m));
  assert_ok(qk_model_calibrate(m, x, xs, 2));
  assert_ok(qk_model_convert(m));
  assert_int_equal(tensor_dtype(m, "x"), QK_DTYPE_U8); /* the model default (from the preset) */
  assert_int_equal(tensor_dtype(m, "a"), QK_DTYPE_S8); /* kind override */
  assert_int_equal(tensor_dtype(m, "ar"), QK_DTYPE_S8); /* relu keeps its input's qparams */
  assert_int_equal(tensor_dtype(m, "b"), QK_DTYPE_U8);  /* fc2's preset (U8) is its own override */
  assert_int_equal(tensor_dtype(m, "c"), QK_DTYPE_U8);  /* name override wins over kind */
  char path[128];
  snprintf(path, sizeof path, "/tmp/qk_model_qconfig_%d.qkw", (int)getpid());
  assert_ok(qk_model_save(m, path));
  /* The weights are stored as int8 codes with the scheme each layer's qconfig chose (graph v2
     names constants "const/<name>"), and the model reports the same qparams. */
  assert_int_equal(saved_weight_scheme(path, "const/fc1.weight"), QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
  assert_int_equal(saved_weight_scheme(path, "const/fc2.weight"), QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  assert_int_equal(saved_weight_scheme(path, "const/fc3.weight"), QK_QSCHEME_PER_CHANNEL_SYMMETRIC);
  qk_qparams* wqp = NULL;
  assert_ok(qk_model_get_tensor_qparams(m, "fc2.weight", &wqp));
  qk_qscheme ws;
  assert_ok(qk_qparams_get_scheme(wqp, &ws));
  assert_int_equal(ws, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  qk_qparams_destroy(wqp);
  unlink(path);

  /* the report's max error of the last layer is max |float - int8| of the model output */
  float y[16 * 4];
  assert_ok(qk_model_run(m, x, xs, 2, y, 64, NULL));
  double sqnr[4], max_err[4], sqnr_only[4];
  assert_ok(qk_model_layer_report(m, x, xs, 2, sqnr, max_err, 4));
  assert_ok(qk_model_layer_sqnr(m, x, xs, 2, sqnr_only, 4));
  assert_memory_equal(sqnr, sqnr_only, sizeof sqnr);
  double want = 0;
  /* (an if, not fmax: aarch64 GCC 12 has an internal compiler error vectorizing that reduction) */
  for (size_t i = 0; i < 64; ++i) {
    const double d = fabs((double)ref[i] - (double)y[i]);
    if (d > want) want = d;
  }
  assert_true(want > 0.0);
  assert_true(max_err[3] == want);
  for (int i = 0; i < 4; ++i) assert_true(max_err[i] > 0.0 && max_err[i] < 0.5 && sqnr[i] > 15.0);
  double small[3];
  assert_status(qk_model_layer_report(m, x, xs, 2, small, NULL, 3), QK_ERR_BUFFER_TOO_SMALL);
  assert_status(qk_model_layer_report(m, x, xs, 2, NULL, NULL, 4), QK_ERR_INVALID_ARGUMENT);
  qk_model_destroy(m);
}

static qk_model* prepared_minmax(float* x, int64_t* xs) {
  qk_model* m = three_linears(x, xs);
  assert_ok(qk_model_set_activation_observer(m, NULL, QK_OBSERVER_MINMAX));
  assert_ok(qk_model_prepare(m));
  return m;
}

static void test_split_calibration(void** state) {
  (void)state;
  float x[16 * 8];
  int64_t xs[2], half[2] = {8, 8};
  qk_model* whole = prepared_minmax(x, xs);
  qk_model* a = prepared_minmax(x, xs);
  qk_model* b = prepared_minmax(x, xs);
  /* "whole" sees the same two batches one after the other: the float activations of a batch
   * depend on its size (GEMM blocking; on aarch64 the last bits differ), so the claim is that
   * merging equals calibrating the same batches in one model, not one batch of 16. */
  assert_ok(qk_model_calibrate(whole, x, half, 2));
  assert_ok(qk_model_calibrate(whole, x + 8 * 8, half, 2));
  assert_ok(qk_model_calibrate(a, x, half, 2));
  assert_ok(qk_model_calibrate(b, x + 8 * 8, half, 2));

  size_t size = 0;
  assert_ok(qk_model_save_observers(b, NULL, 0, &size));
  assert_true(size > 64);
  unsigned char* buf = malloc(size);
  size_t got = 0;
  assert_status(qk_model_save_observers(b, buf, size - 1, &got), QK_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(got, size);
  assert_ok(qk_model_save_observers(b, buf, size, &got));

  /* damaged or foreign states change nothing */
  buf[size / 2] ^= 0x40;
  assert_status(qk_model_merge_observers(a, buf, size), QK_ERR_CORRUPT);
  buf[size / 2] ^= 0x40;
  assert_status(qk_model_merge_observers(a, buf, size - 3), QK_ERR_CORRUPT);
  const int64_t other_shape[1] = {8};
  float w[3 * 8] = {0.5f};
  qk_model* other = NULL;
  assert_ok(qk_model_create("x", other_shape, 1, &other));
  assert_ok(qk_model_add_linear(other, "fc1", "x", "a", w, 3, 8, NULL));
  assert_ok(qk_model_prepare(other));
  assert_status(qk_model_merge_observers(other, buf, size), QK_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(qk_last_error(), "not the same graph"));
  qk_model_destroy(other);

  assert_ok(qk_model_merge_observers(a, buf, size));
  free(buf);
  assert_ok(qk_model_convert(a));
  assert_ok(qk_model_convert(whole));
  assert_status(qk_model_save_observers(a, NULL, 0, &size), QK_ERR_STATE); /* converted */
  const char* tensors[5] = {"x", "a", "ar", "b", "c"};
  for (int t = 0; t < 5; ++t) {
    float sa, sw;
    int32_t za, zw;
    qk_qparams* qa = tensor_qp(a, tensors[t], &sa, &za);
    qk_qparams* qw = tensor_qp(whole, tensors[t], &sw, &zw);
    assert_true(sa == sw);
    assert_int_equal(za, zw);
    qk_qparams_destroy(qa);
    qk_qparams_destroy(qw);
  }
  float ya[64], yw[64];
  assert_ok(qk_model_run(a, x, xs, 2, ya, 64, NULL));
  assert_ok(qk_model_run(whole, x, xs, 2, yw, 64, NULL));
  assert_memory_equal(ya, yw, sizeof ya);
  /* and b alone (half the data) is a different model: the merge did something */
  assert_ok(qk_model_convert(b));
  float yb[64];
  assert_ok(qk_model_run(b, x, xs, 2, yb, 64, NULL));
  assert_true(memcmp(ya, yb, sizeof ya) != 0);
  qk_model_destroy(a);
  qk_model_destroy(b);
  qk_model_destroy(whole);
}

enum { kLC = 2, kLH = 3, kLW = 4, kLO = 3, kLN = 5 };

/* x {2, 3, 4} -> conv 3x3 pad 1 (3 out channels) -> relu: a {3, 3, 4} output */
static qk_model* conv_model(int nhwc) {
  qk_test_rng r = {5};
  float w[kLO * kLC * 9], b[kLO];
  for (size_t i = 0; i < sizeof w / sizeof w[0]; ++i) w[i] = qk_test_uniform(&r, -0.4f, 0.4f);
  for (size_t i = 0; i < kLO; ++i) b[i] = qk_test_uniform(&r, -0.1f, 0.1f);
  const int64_t in_shape[3] = {kLC, kLH, kLW}, ws[4] = {kLO, kLC, 3, 3}, st[2] = {1, 1}, pad[4] = {1, 1, 1, 1},
                dil[2] = {1, 1};
  qk_model* m = NULL;
  assert_ok(qk_model_create("x", in_shape, 3, &m));
  if (nhwc) assert_ok(qk_model_set_io_layout(m, QK_LAYOUT_NHWC));
  assert_ok(qk_model_add_conv2d(m, "conv", "x", "c", w, ws, b, st, pad, dil, 1));
  assert_ok(qk_model_add_relu(m, "relu", "c", "y"));
  return m;
}

/* {n, c, hw} <-> {n, hw, c} */
static void to_nhwc(const float* src, size_t n, size_t c, size_t hw, float* dst) {
  for (size_t b = 0; b < n; ++b)
    for (size_t p = 0; p < hw; ++p)
      for (size_t k = 0; k < c; ++k) dst[(b * hw + p) * c + k] = src[(b * c + k) * hw + p];
}

static void test_nhwc_io(void** state) {
  (void)state;
  float x[kLN * kLC * kLH * kLW], xt[kLN * kLC * kLH * kLW];
  qk_test_rng r = {6};
  for (size_t i = 0; i < sizeof x / sizeof x[0]; ++i) x[i] = qk_test_uniform(&r, -1.0f, 1.0f);
  to_nhwc(x, kLN, kLC, kLH * kLW, xt);
  const int64_t xs[4] = {kLN, kLC, kLH, kLW}, xts[4] = {kLN, kLH, kLW, kLC};
  enum { kOut = kLN * kLO * kLH * kLW };
  qk_model* a = conv_model(0);
  qk_model* b = conv_model(1);
  qk_layout layout;
  assert_ok(qk_model_get_io_layout(b, &layout));
  assert_int_equal(layout, QK_LAYOUT_NHWC);
  float ya[kOut], yb[kOut], ya_t[kOut];
  assert_ok(qk_model_run(a, x, xs, 4, ya, kOut, NULL));
  assert_ok(qk_model_run(b, xt, xts, 4, yb, kOut, NULL));
  to_nhwc(ya, kLN, kLO, kLH * kLW, ya_t);
  assert_memory_equal(yb, ya_t, sizeof yb);
  assert_status(qk_model_run(b, x, xs, 4, yb, kOut, NULL), QK_ERR_INVALID_ARGUMENT); /* NCHW shape */
  assert_non_null(strstr(qk_last_error(), "NHWC"));
  int64_t shape[8];
  size_t rank;
  assert_ok(qk_model_output_shape(b, shape, 8, &rank));
  assert_true(rank == 3 && shape[0] == kLO); /* shapes stay {C, H, W} */

  assert_ok(qk_model_prepare(a));
  assert_ok(qk_model_prepare(b));
  assert_ok(qk_model_calibrate(a, x, xs, 4));
  assert_ok(qk_model_calibrate(b, xt, xts, 4));
  assert_ok(qk_model_convert(a));
  assert_ok(qk_model_convert(b));
  assert_status(qk_model_set_io_layout(b, QK_LAYOUT_NCHW), QK_ERR_STATE);
  assert_ok(qk_model_run(a, x, xs, 4, ya, kOut, NULL));
  assert_ok(qk_model_run(b, xt, xts, 4, yb, kOut, NULL));
  to_nhwc(ya, kLN, kLO, kLH * kLW, ya_t);
  assert_memory_equal(yb, ya_t, sizeof yb);

  qk_model* l = reloaded(b);
  assert_ok(qk_model_get_io_layout(l, &layout));
  assert_int_equal(layout, QK_LAYOUT_NHWC);
  float yl[kOut];
  assert_ok(qk_model_run(l, xt, xts, 4, yl, kOut, NULL));
  assert_memory_equal(yl, yb, sizeof yl);

  qk_model* c = conv_model(0);
  qk_layout bogus;
  const int v = 7;
  memcpy(&bogus, &v, sizeof v);
  assert_status(qk_model_set_io_layout(c, bogus), QK_ERR_INVALID_ARGUMENT);
  assert_ok(qk_model_get_io_layout(c, &layout));
  assert_int_equal(layout, QK_LAYOUT_NCHW);
  qk_model_destroy(c);
  qk_model_destroy(l);
  qk_model_destroy(a);
  qk_model_destroy(b);
}

static void test_bn_relu_fusion(void** state) {
  (void)state;
  const int64_t in_shape[3] = {3, 2, 2}, xs[4] = {4, 3, 2, 2};
  const float mean[3] = {0.1f, -0.2f, 0.0f}, var[3] = {1.0f, 0.5f, 2.0f}, gamma[3] = {1.5f, -1.0f, 0.7f},
              beta[3] = {0.0f, 0.3f, -0.2f};
  qk_model* m = NULL;
  assert_ok(qk_model_create("x", in_shape, 3, &m));
  assert_ok(qk_model_add_batchnorm(m, "bn", "x", "b", 3, mean, var, gamma, beta, 1e-5f));
  assert_ok(qk_model_add_hardtanh(m, "relu6", "b", "y", 0.0f, 6.0f));
  float x[48], before[48], after[48];
  qk_test_rng r = {8};
  for (int i = 0; i < 48; ++i) x[i] = qk_test_uniform(&r, -8.0f, 8.0f);
  assert_ok(qk_model_run(m, x, xs, 4, before, 48, NULL));
  assert_ok(qk_model_fuse(m));
  size_t n = 0, layers = 0;
  const char* desc = NULL;
  assert_ok(qk_model_fused_count(m, &n));
  assert_int_equal(n, 1);
  assert_ok(qk_model_fused_name(m, 0, &desc));
  assert_string_equal(desc, "bn+relu6");
  assert_ok(qk_model_layer_count(m, &layers));
  assert_int_equal(layers, 1);
  assert_ok(qk_model_run(m, x, xs, 4, after, 48, NULL));
  int clamped_low = 0, clamped_high = 0;
  for (int i = 0; i < 48; ++i) {
    assert_true(after[i] == before[i]); /* == so that -0 and +0 compare equal */
    clamped_low += after[i] == 0.0f;
    clamped_high += after[i] == 6.0f;
  }
  assert_true(clamped_low > 0 && clamped_high > 0); /* both ends of the clamp were exercised */
  /* converted: the batch norm stays f32 (with its clamp), its output requantized */
  assert_ok(qk_model_prepare(m));
  assert_ok(qk_model_calibrate(m, x, xs, 4));
  assert_ok(qk_model_convert(m));
  float y[48], again[48];
  assert_ok(qk_model_run(m, x, xs, 4, y, 48, NULL));
  /* error bound: one input step (16/255) through the largest |gamma|/sqrt(var) (1.5) plus one
   * output step (6/255) */
  const float tol = 16.0f / 255.0f * 1.5f + 6.0f / 255.0f;
  for (int i = 0; i < 48; ++i) assert_true(y[i] >= 0.0f && y[i] <= 6.0f + 1e-6f && fabsf(y[i] - before[i]) <= tol);
  qk_model* l = reloaded(m);
  assert_ok(qk_model_run(l, x, xs, 4, again, 48, NULL));
  assert_memory_equal(y, again, sizeof y);
  qk_model_destroy(l);
  qk_model_destroy(m);
}

static void test_dynamic_pointwise_conv(void** state) {
  (void)state;
  enum { CI = 3, CO = 5, HW = 6, NB = 2 };
  const int64_t in_shape[3] = {CI, 2, 3}, xs[4] = {NB, CI, 2, 3}, ws1[4] = {CO, CI, 1, 1}, ws3[4] = {CO, CI, 3, 3};
  const int64_t st[2] = {1, 1}, p0[4] = {0, 0, 0, 0}, p1[4] = {1, 1, 1, 1}, dil[2] = {1, 1};
  qk_test_rng r = {31};
  float w1[CO * CI], b1[CO], w3[CO * CI * 9], x[NB * CI * HW];
  for (int i = 0; i < CO * CI; ++i) w1[i] = qk_test_uniform(&r, -1.0f, 1.0f);
  for (int i = 0; i < CO; ++i) b1[i] = qk_test_uniform(&r, -0.2f, 0.2f);
  for (int i = 0; i < CO * CI * 9; ++i) w3[i] = qk_test_uniform(&r, -0.3f, 0.3f);
  for (int i = 0; i < NB * CI * HW; ++i) x[i] = qk_test_uniform(&r, -2.0f, 2.0f);

  qk_model* m = NULL;
  assert_ok(qk_model_create("x", in_shape, 3, &m));
  assert_ok(qk_model_add_conv2d(m, "pw", "x", "y", w1, ws1, b1, st, p0, dil, 1));
  assert_ok(qk_model_quantize_dynamic(m));
  float y[NB * CO * HW];
  assert_ok(qk_model_run(m, x, xs, 4, y, NB * CO * HW, NULL));

  /* by hand: per-channel symmetric s8 weights, qk_dynamic_linear over one row per pixel */
  qk_quant_spec* spec = NULL;
  qk_qparams* wqp = NULL;
  qk_packed_weights* pw = NULL;
  qk_dynamic_linear* dl = NULL;
  int8_t wq[CO * CI];
  const int64_t w2d[2] = {CO, CI};
  assert_ok(qk_quant_spec_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, &spec));
  assert_ok(qk_qparams_from_tensor(spec, w1, w2d, 2, &wqp, NULL));
  assert_ok(qk_quantize(wqp, w1, w2d, 2, wq, sizeof wq, NULL));
  assert_ok(qk_packed_weights_create(wq, CO, CI, CI, wqp, b1, QK_DTYPE_F32, &pw));
  assert_ok(qk_dynamic_linear_create(pw, QK_DTYPE_U8, 0, &dl));
  float rows[NB * HW * CI], res[NB * HW * CO], want[NB * CO * HW];
  for (int b = 0; b < NB; ++b)
    for (int c = 0; c < CI; ++c)
      for (int p = 0; p < HW; ++p) rows[(b * HW + p) * CI + c] = x[(b * CI + c) * HW + p];
  assert_ok(qk_dynamic_linear_run(dl, NB * HW, rows, CI, NB * HW * CI, res, CO, NB * HW * CO, NULL));
  for (int b = 0; b < NB; ++b)
    for (int c = 0; c < CO; ++c)
      for (int p = 0; p < HW; ++p) want[(b * CO + c) * HW + p] = res[(b * HW + p) * CO + c];
  assert_memory_equal(y, want, sizeof y);
  qk_dynamic_linear_destroy(dl);
  qk_packed_weights_destroy(pw);
  qk_qparams_destroy(wqp);
  qk_quant_spec_destroy(spec);

  qk_model* l = reloaded(m);
  float again[NB * CO * HW];
  assert_ok(qk_model_run(l, x, xs, 4, again, NB * CO * HW, NULL));
  assert_memory_equal(y, again, sizeof y);
  qk_model_destroy(l);
  qk_model_destroy(m);

  /* a 3x3 conv is not a linear: it stays f32 under dynamic quantization */
  float f[NB * CO * HW], d[NB * CO * HW];
  assert_ok(qk_model_create("x", in_shape, 3, &m));
  assert_ok(qk_model_add_conv2d(m, "conv", "x", "y", w3, ws3, NULL, st, p1, dil, 1));
  assert_ok(qk_model_run(m, x, xs, 4, f, NB * CO * HW, NULL));
  assert_ok(qk_model_quantize_dynamic(m));
  assert_ok(qk_model_run(m, x, xs, 4, d, NB * CO * HW, NULL));
  assert_memory_equal(f, d, sizeof f);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_run),
      cmocka_unit_test(test_converted_run),
      cmocka_unit_test(test_reshape_order),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_qconfig_kinds_presets_report),
      cmocka_unit_test(test_split_calibration),
      cmocka_unit_test(test_nhwc_io),
      cmocka_unit_test(test_bn_relu_fusion),
      cmocka_unit_test(test_dynamic_pointwise_conv),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
