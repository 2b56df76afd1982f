/* SPDX-License-Identifier: Apache-2.0 */
/* `make demo`: the quantization workflow at the primitive level on a real network (the digits
 * CNN from the fixtures): fold batch norms, observe, compute qparams, quantize, dequantize, and
 * report the error (SQNR) and the size of each encoding. Later issues grow this into a full
 * int8 model run. Usage: qk_demo [data_dir] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantkit/quantkit.h"
#include "tensor_bundle.h"

#define CHECK(call)                                                                            \
  do {                                                                                         \
    qk_status status_ = (call);                                                                \
    if (status_ != QK_OK) {                                                                    \
      fprintf(stderr, "%s failed: %s (%s)\n", #call, qk_status_string(status_), qk_last_error()); \
      exit(1);                                                                                 \
    }                                                                                          \
  } while (0)

typedef struct layer {
  const char* name;
  const char* bn;
  qk_fold_target target;
} layer;

static const layer kLayers[] = {
    {"conv1", "bn1", QK_FOLD_CONV}, {"conv2", "bn2", QK_FOLD_CONV}, {"conv3", "bn3", QK_FOLD_CONV},
    {"fc1", "bn4", QK_FOLD_LINEAR}, {"fc2", NULL, QK_FOLD_LINEAR},
};
enum { kLayerCount = sizeof kLayers / sizeof kLayers[0] };

static const bundle_tensor* need(const tensor_bundle* b, const char* layer_name, const char* suffix) {
  char key[128];
  snprintf(key, sizeof key, "%s.%s", layer_name, suffix);
  const bundle_tensor* t = bundle_find(b, key);
  if (!t) {
    fprintf(stderr, "tensor %s missing from the bundle\n", key);
    exit(1);
  }
  return t;
}

/* Quantizes `w` with `spec` (qparams from the tensor itself), dequantizes, and returns the
 * SQNR; *bytes_out gets payload + qparams bytes (scales f32, zero points 1 byte if non-zero). */
static double roundtrip(const qk_quant_spec* spec, const float* w, const int64_t* shape, size_t rank,
                        size_t* bytes_out) {
  uint64_t count, nonfinite = 0, nans = 0;
  qk_qparams* qp = NULL;
  qk_dtype dtype;
  qk_qscheme scheme;
  size_t payload, nparams;
  CHECK(qk_shape_element_count(shape, rank, &count));
  CHECK(qk_qparams_from_tensor(spec, w, shape, rank, &qp, &nonfinite));
  CHECK(qk_qparams_get_dtype(qp, &dtype));
  CHECK(qk_qparams_get_scheme(qp, &scheme));
  CHECK(qk_qparams_get_count(qp, &nparams));
  CHECK(qk_dtype_storage_size(dtype, count, &payload));
  void* q = malloc(payload);
  float* back = malloc(count * sizeof(float));
  if (!q || !back) exit(1);
  CHECK(qk_quantize(qp, w, shape, rank, q, payload, &nans));
  CHECK(qk_dequantize(qp, q, payload, shape, rank, back));
  double sqnr;
  CHECK(qk_error_stats(w, back, count, &sqnr, NULL, NULL));
  const int symmetric = scheme == QK_QSCHEME_PER_TENSOR_SYMMETRIC || scheme == QK_QSCHEME_PER_CHANNEL_SYMMETRIC ||
                        scheme == QK_QSCHEME_PER_GROUP_SYMMETRIC;
  *bytes_out = payload + nparams * (4 + (symmetric ? 0 : 1));
  free(q);
  free(back);
  qk_qparams_destroy(qp);
  return sqnr;
}

static qk_quant_spec* make_spec(qk_dtype dtype, qk_qscheme scheme, int32_t axis, int64_t group) {
  qk_quant_spec* spec = NULL;
  CHECK(qk_quant_spec_create(dtype, scheme, &spec));
  CHECK(qk_quant_spec_set_axis(spec, axis));
  if (group > 0) CHECK(qk_quant_spec_set_group_size(spec, group));
  return spec;
}

/* Observes calibration images with one observer kind, then quantizes the test images with the
 * resulting u8 affine qparams and reports scale, zero point and SQNR. */
static void activation_report(qk_observer_kind kind, const char* label, const bundle_tensor* calib,
                              const bundle_tensor* test) {
  qk_quant_spec* spec = make_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0);
  qk_observer* obs = NULL;
  if (qk_observer_create(kind, spec, &obs) == QK_ERR_UNSUPPORTED) {
    printf("  %-10s (not available in this build: %s)\n", label, qk_last_error());
    qk_quant_spec_destroy(spec);
    return;
  }
  /* Calibrate in batches of 16 images, as a data loader would feed them. */
  const int64_t per_image = calib->shape[1] * calib->shape[2] * calib->shape[3];
  for (int64_t first = 0; first < calib->shape[0]; first += 16) {
    const int64_t n = calib->shape[0] - first < 16 ? calib->shape[0] - first : 16;
    const int64_t shape[4] = {n, calib->shape[1], calib->shape[2], calib->shape[3]};
    CHECK(qk_observer_update(obs, calib->data + first * per_image, shape, 4));
  }
  qk_qparams* qp = NULL;
  CHECK(qk_observer_compute_qparams(obs, &qp));
  float scale;
  int32_t zp;
  CHECK(qk_qparams_get_scales(qp, &scale, 1));
  CHECK(qk_qparams_get_zero_points(qp, &zp, 1));
  uint8_t* q = malloc(test->count);
  float* back = malloc(test->count * sizeof(float));
  if (!q || !back) exit(1);
  uint64_t nans = 0;
  double sqnr, max_err;
  CHECK(qk_quantize(qp, test->data, test->shape, test->rank, q, test->count, &nans));
  CHECK(qk_dequantize(qp, q, test->count, test->shape, test->rank, back));
  CHECK(qk_error_stats(test->data, back, test->count, &sqnr, &max_err, NULL));
  printf("  %-10s scale %.6f  zero point %3d  test-image SQNR %5.1f dB  max error %.4f\n", label, scale, zp, sqnr,
         max_err);
  free(q);
  free(back);
  qk_qparams_destroy(qp);
  qk_observer_destroy(obs);
  qk_quant_spec_destroy(spec);
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : QK_EXAMPLES_DATA_DIR;
  char path[1024];
  tensor_bundle model, images;
  snprintf(path, sizeof path, "%s/digits_cnn.qktb", dir);
  if (bundle_load(path, &model) != 0) return 1;
  snprintf(path, sizeof path, "%s/digits_images.qktb", dir);
  if (bundle_load(path, &images) != 0) return 1;

  printf("QuantKit %s demo (kernel path: %s)\n\n", qk_version_string(), qk_isa_name());
  uint64_t params = 0;
  for (size_t i = 0; i < model.count; ++i) params += model.tensors[i].count;
  printf("Model: digits CNN, %llu float parameters = %llu bytes as fp32\n\n", (unsigned long long)params,
         (unsigned long long)params * 4);

  /* 1. Fold each batch norm into its conv / linear layer (exact float math). */
  printf("1. Batch-norm folding (qk_fold_batchnorm)\n");
  float* folded_w[kLayerCount];
  float* folded_b[kLayerCount];
  for (int l = 0; l < kLayerCount; ++l) {
    const bundle_tensor* w = need(&model, kLayers[l].name, "weight");
    const bundle_tensor* b = need(&model, kLayers[l].name, "bias");
    folded_w[l] = malloc(w->count * sizeof(float));
    folded_b[l] = malloc(b->count * sizeof(float));
    if (!folded_w[l] || !folded_b[l]) return 1;
    memcpy(folded_w[l], w->data, w->count * sizeof(float));
    memcpy(folded_b[l], b->data, b->count * sizeof(float));
    if (!kLayers[l].bn) continue;
    const bundle_tensor* mean = need(&model, kLayers[l].bn, "running_mean");
    CHECK(qk_fold_batchnorm(kLayers[l].target, w->data, w->shape, w->rank, b->data, mean->data,
                            need(&model, kLayers[l].bn, "running_var")->data,
                            need(&model, kLayers[l].bn, "weight")->data, need(&model, kLayers[l].bn, "bias")->data,
                            1e-5f, (size_t)mean->count, folded_w[l], folded_b[l]));
    printf("   %s + %s folded\n", kLayers[l].name, kLayers[l].bn);
  }

  /* 2. Weights: three encodings per layer. */
  printf("\n2. Weights (qparams from each tensor, quantize, dequantize, SQNR vs the float weight)\n");
  printf("   %-6s %-16s | %-24s | %-24s | %-24s\n", "layer", "shape", "u8 per-tensor affine", "s8 per-channel symmetric",
         "s4 per-group(32) symmetric");
  size_t fp32_bytes = 0, bias_bytes = 0, u8_bytes = 0, s8_bytes = 0, s4_bytes = 0;
  for (int l = 0; l < kLayerCount; ++l) {
    const bundle_tensor* w = need(&model, kLayers[l].name, "weight");
    char shape_text[64] = "";
    for (size_t d = 0; d < w->rank; ++d)
      snprintf(shape_text + strlen(shape_text), sizeof shape_text - strlen(shape_text), "%s%lld", d ? "x" : "",
               (long long)w->shape[d]);
    qk_quant_spec* u8 = make_spec(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0);
    qk_quant_spec* s8 = make_spec(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 0, 0);
    /* Groups of 32 along the input (last) axis; conv weights are viewed as [out, in*kh*kw]. */
    qk_quant_spec* s4 = make_spec(QK_DTYPE_S4, QK_QSCHEME_PER_GROUP_SYMMETRIC, 1, 32);
    const int64_t flat[2] = {w->shape[0], (int64_t)(w->count / (uint64_t)w->shape[0])};
    size_t b_u8, b_s8, b_s4;
    const double q_u8 = roundtrip(u8, folded_w[l], w->shape, w->rank, &b_u8);
    const double q_s8 = roundtrip(s8, folded_w[l], w->shape, w->rank, &b_s8);
    const double q_s4 = roundtrip(s4, folded_w[l], flat, 2, &b_s4);
    printf("   %-6s %-16s | %5.1f dB %9zu B     | %5.1f dB %9zu B     | %5.1f dB %9zu B\n", kLayers[l].name,
           shape_text, q_u8, b_u8, q_s8, b_s8, q_s4, b_s4);
    fp32_bytes += w->count * 4;
    bias_bytes += need(&model, kLayers[l].name, "bias")->count * 4;
    u8_bytes += b_u8;
    s8_bytes += b_s8;
    s4_bytes += b_s4;
    qk_quant_spec_destroy(u8);
    qk_quant_spec_destroy(s8);
    qk_quant_spec_destroy(s4);
  }

  /* 3. Activations: the network input observed on calibration images. */
  const bundle_tensor* calib = bundle_find(&images, "calibration");
  const bundle_tensor* test = bundle_find(&images, "test_images");
  if (!calib || !test || calib->rank != 4) return 1;
  printf("\n3. Activations: input images, u8 affine, observed on %lld calibration images, applied to %lld test "
         "images\n",
         (long long)calib->shape[0], (long long)test->shape[0]);
  activation_report(QK_OBSERVER_MINMAX, "minmax", calib, test);
  activation_report(QK_OBSERVER_HISTOGRAM, "histogram", calib, test);
  activation_report(QK_OBSERVER_PERCENTILE, "percentile", calib, test);

  /* 4. Half-precision casts of the folded weights. */
  printf("\n4. Half precision (qk_cast, round to nearest even)\n");
  const qk_dtype halves[2] = {QK_DTYPE_F16, QK_DTYPE_BF16};
  for (int h = 0; h < 2; ++h) {
    double worst = INFINITY;
    for (int l = 0; l < kLayerCount; ++l) {
      const uint64_t n = need(&model, kLayers[l].name, "weight")->count;
      uint16_t* half = malloc(n * 2);
      float* back = malloc(n * 4);
      if (!half || !back) return 1;
      double sqnr;
      CHECK(qk_cast(folded_w[l], QK_DTYPE_F32, half, halves[h], n));
      CHECK(qk_cast(half, halves[h], back, QK_DTYPE_F32, n));
      CHECK(qk_error_stats(folded_w[l], back, n, &sqnr, NULL, NULL));
      if (sqnr < worst) worst = sqnr;
      free(half);
      free(back);
    }
    printf("   %-4s weights %9zu B, worst layer SQNR %5.1f dB\n", qk_dtype_name(halves[h]), fp32_bytes / 2, worst);
  }

  /* 5. Sizes: folded weights plus fp32 biases (small tensors stay exact). */
  printf("\n5. Model size (folded weights + qparams + fp32 biases)\n");
  printf("   fp32                      %9zu B  (1.00x)\n", fp32_bytes + bias_bytes);
  printf("   fp16                      %9zu B  (%.2fx)\n", fp32_bytes / 2 + bias_bytes,
         (double)(fp32_bytes + bias_bytes) / (double)(fp32_bytes / 2 + bias_bytes));
  printf("   u8 per-tensor affine      %9zu B  (%.2fx)\n", u8_bytes + bias_bytes,
         (double)(fp32_bytes + bias_bytes) / (double)(u8_bytes + bias_bytes));
  printf("   s8 per-channel symmetric  %9zu B  (%.2fx)\n", s8_bytes + bias_bytes,
         (double)(fp32_bytes + bias_bytes) / (double)(s8_bytes + bias_bytes));
  printf("   s4 per-group(32)          %9zu B  (%.2fx)\n", s4_bytes + bias_bytes,
         (double)(fp32_bytes + bias_bytes) / (double)(s4_bytes + bias_bytes));
  printf("   (the seed's pickled state_dicts: fp32 1,047,430 B, fp16 522,954 B, uint8 per-tensor 268,467 B)\n");

  for (int l = 0; l < kLayerCount; ++l) {
    free(folded_w[l]);
    free(folded_b[l]);
  }
  bundle_free(&model);
  bundle_free(&images);
  return 0;
}
