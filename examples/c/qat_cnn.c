/* SPDX-License-Identifier: Apache-2.0 */
/* The QAT tutorial's CNN architecture, in C:
 *   conv 1->32 3x3 pad 1, ReLU, maxpool 2   28x28 -> 14x14
 *   conv 32->64 3x3 pad 1, ReLU, maxpool 2  -> 7x7
 *   conv 64->64 3x3 pad 1, ReLU, maxpool 2  -> 3x3 (floor)
 *   flatten 576, linear 576->128, ReLU, linear 128->10
 * built as a qk_model, fused, calibrated and converted to int8. The weights are RANDOM
 * (He-scaled, a fixed seed) and the images random noise: this program shows the workflow and the
 * numerics on the real architecture, not accuracy (train it elsewhere, e.g. with
 * examples/python/qat_digits.py, and load the result). It also shows the QAT export step: scales
 * learnt by fake-quant training replace an observer's result through qk_model_set_tensor_qparams().
 * Prints the fused layers, the per-layer SQNR / max error report, top-1 agreement between fp32 and
 * int8 and the model file size; exits 1 if the int8 output falls below 20 dB SQNR.
 * Usage: qk_example_qat_cnn [OUT.qkw] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantkit/quantkit.h"

#define CHECK(call)                                                                                 \
  do {                                                                                              \
    qk_status status_ = (call);                                                                     \
    if (status_ != QK_OK) {                                                                         \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, qk_status_string(status_), qk_last_error()); \
      exit(1);                                                                                      \
    }                                                                                               \
  } while (0)

enum { IMG = 28, CALIB = 64, TEST = 64, CLASSES = 10 };

static uint32_t rng = 2024u;
static float uniform(float lo, float hi) {
  rng = rng * 1664525u + 1013904223u;
  return lo + (hi - lo) * ((float)(rng >> 8) / 16777216.0f);
}
/* He-uniform weights for fan_in inputs, small biases. */
static float* he(size_t count, size_t fan_in) {
  float* w = malloc(count * sizeof *w);
  const float a = sqrtf(6.0f / (float)fan_in);
  size_t i;
  if (!w) exit(1);
  for (i = 0; i < count; ++i) w[i] = uniform(-a, a);
  return w;
}
static float* small(size_t count) {
  float* b = malloc(count * sizeof *b);
  size_t i;
  if (!b) exit(1);
  for (i = 0; i < count; ++i) b[i] = uniform(-0.05f, 0.05f);
  return b;
}

static void add_conv_block(qk_model* m, int index, const char* in, int64_t cin, int64_t cout) {
  const int64_t ws[4] = {cout, cin, 3, 3}, st[2] = {1, 1}, pad[4] = {1, 1, 1, 1}, dil[2] = {1, 1};
  const int64_t k2[2] = {2, 2}, p0[4] = {0, 0, 0, 0};
  char conv[16], relu[16], pool[16], c[16], r[16], p[16];
  snprintf(conv, sizeof conv, "conv%d", index);
  snprintf(relu, sizeof relu, "relu%d", index);
  snprintf(pool, sizeof pool, "pool%d", index);
  snprintf(c, sizeof c, "c%d", index);
  snprintf(r, sizeof r, "r%d", index);
  snprintf(p, sizeof p, "p%d", index);
  float* w = he((size_t)(cout * cin * 9), (size_t)(cin * 9));
  float* b = small((size_t)cout);
  CHECK(qk_model_add_conv2d(m, conv, in, c, w, ws, b, st, pad, dil, 1));
  CHECK(qk_model_add_relu(m, relu, c, r));
  CHECK(qk_model_add_max_pool2d(m, pool, r, p, k2, k2, p0, dil));
  free(w);
  free(b);
}

static const char* kind_name(qk_layer_kind k) {
  switch (k) {
    case QK_LAYER_CONV2D: return "conv2d";
    case QK_LAYER_LINEAR: return "linear";
    case QK_LAYER_MAX_POOL2D: return "max_pool2d";
    case QK_LAYER_FLATTEN: return "flatten";
    case QK_LAYER_RELU: return "relu";
    default: return "other";
  }
}

static int argmax(const float* v) {
  int best = 0, i;
  for (i = 1; i < CLASSES; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

int main(int argc, char** argv) {
  const char* out_path = argc > 1 ? argv[1] : "qat_cnn_int8.qkw";
  const int64_t sample[3] = {1, IMG, IMG};
  qk_model* m = NULL;
  CHECK(qk_model_create("image", sample, 3, &m));
  add_conv_block(m, 1, "image", 1, 32);
  add_conv_block(m, 2, "p1", 32, 64);
  add_conv_block(m, 3, "p2", 64, 64);
  CHECK(qk_model_add_flatten(m, "flatten", "p3", "f"));
  float* w4 = he(128 * 576, 576);
  float* b4 = small(128);
  float* w5 = he(10 * 128, 128);
  float* b5 = small(10);
  CHECK(qk_model_add_linear(m, "fc1", "f", "h", w4, 128, 576, b4));
  CHECK(qk_model_add_relu(m, "relu4", "h", "hr"));
  CHECK(qk_model_add_linear(m, "fc2", "hr", "logits", w5, 10, 128, b5));
  free(w4);
  free(b4);
  free(w5);
  free(b5);
  int64_t out_shape[8];
  size_t out_rank = 0;
  CHECK(qk_model_output_shape(m, out_shape, 8, &out_rank));
  int64_t flat_shape[8];
  size_t flat_rank = 0;
  CHECK(qk_model_tensor_shape(m, "f", flat_shape, 8, &flat_rank));
  printf("QAT tutorial CNN: 1x28x28 -> ... -> flatten %lld -> 128 -> %lld (random weights)\n",
         (long long)flat_shape[0], (long long)out_shape[0]);

  float* calib = malloc(sizeof(float) * CALIB * IMG * IMG);
  float* test = malloc(sizeof(float) * TEST * IMG * IMG);
  float *ref = malloc(sizeof(float) * TEST * CLASSES), *got = malloc(sizeof(float) * TEST * CLASSES);
  if (!calib || !test || !ref || !got) return 1;
  size_t i;
  for (i = 0; i < (size_t)CALIB * IMG * IMG; ++i) calib[i] = uniform(0.0f, 1.0f);
  for (i = 0; i < (size_t)TEST * IMG * IMG; ++i) test[i] = uniform(0.0f, 1.0f);
  const int64_t calib_shape[4] = {CALIB, 1, IMG, IMG}, test_shape[4] = {TEST, 1, IMG, IMG};
  CHECK(qk_model_run(m, test, test_shape, 4, ref, TEST * CLASSES, NULL));

  CHECK(qk_model_fuse(m));
  size_t fused = 0;
  CHECK(qk_model_fused_count(m, &fused));
  printf("fused %zu:", fused);
  for (i = 0; i < fused; ++i) {
    const char* name = NULL;
    CHECK(qk_model_fused_name(m, i, &name));
    printf(" %s", name);
  }
  printf("\n");
  CHECK(qk_model_set_qconfig_preset(m, NULL, "x86"));
  CHECK(qk_model_prepare(m));
  CHECK(qk_model_calibrate(m, calib, calib_shape, 4)); /* one batch here; call once per batch */

  /* QAT export: a fake-quant-trained network brings its own activation scales. Here the image
   * input's are known exactly (pixels in [0, 1]): scale 1/255, zero point 0, as a QAT run learns. */
  const float in_scale = 1.0f / 255.0f;
  const int32_t in_zp = 0;
  qk_qparams* in_qp = NULL;
  CHECK(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &in_scale, &in_zp, NULL, 1, 0, 255,
                          &in_qp));
  CHECK(qk_model_set_tensor_qparams(m, "image", in_qp));
  qk_qparams_destroy(in_qp);
  CHECK(qk_model_convert(m));
  CHECK(qk_model_run(m, test, test_shape, 4, got, TEST * CLASSES, NULL));

  size_t layers = 0;
  CHECK(qk_model_layer_count(m, &layers));
  double* sqnr = malloc(layers * sizeof *sqnr);
  double* max_err = malloc(layers * sizeof *max_err);
  if (!sqnr || !max_err) return 1;
  CHECK(qk_model_layer_report(m, test, test_shape, 4, sqnr, max_err, layers));
  printf("%-10s %-12s %9s %10s   (int8 output vs fp32, errors accumulating)\n", "layer", "kind", "SQNR dB",
         "max err");
  for (i = 0; i < layers; ++i) {
    const char* name = NULL;
    qk_layer_kind kind;
    CHECK(qk_model_layer_name(m, i, &name));
    CHECK(qk_model_layer_kind(m, i, &kind));
    printf("%-10s %-12s %9.2f %10.5f\n", name, kind_name(kind), sqnr[i], max_err[i]);
  }
  int agree = 0;
  for (i = 0; i < TEST; ++i) agree += argmax(ref + i * CLASSES) == argmax(got + i * CLASSES);
  double out_sqnr = 0.0;
  CHECK(qk_error_stats(ref, got, TEST * CLASSES, &out_sqnr, NULL, NULL));
  printf("output SQNR %.2f dB, top-1 agreement fp32 vs int8 %d/%d\n", out_sqnr, agree, TEST);
  CHECK(qk_model_save(m, out_path));
  FILE* f = fopen(out_path, "rb");
  if (f) {
    fseek(f, 0, SEEK_END);
    printf("int8 model written to %s: %ld bytes\n", out_path, ftell(f));
    fclose(f);
  }
  free(sqnr);
  free(max_err);
  free(calib);
  free(test);
  free(ref);
  free(got);
  qk_model_destroy(m);
  return out_sqnr >= 20.0 ? 0 : 1;
}
