/* SPDX-License-Identifier: Apache-2.0 */
/* `make demo`: the digits CNN as a qk_model, end to end: build, fuse, calibrate (the caller's
 * own loop over batches), convert to int8, evaluate fp32 vs int8 accuracy on the test split,
 * per-layer SQNR report, file sizes, latency at batch 1 and 64, and the int8 model file
 * (digits_cnn_int8.qkw in the build's examples folder, or argv[2]). Usage: qk_demo [data_dir [out.qkw]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "digits_model.h"
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

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const bundle_tensor* need(const tensor_bundle* b, const char* name) {
  const bundle_tensor* t = bundle_find(b, name);
  if (!t) {
    fprintf(stderr, "tensor %s missing from the bundle\n", name);
    exit(1);
  }
  return t;
}

static long file_size(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Top-1 class of each of the n images (run in batches of 64). */
static void predict(const qk_model* m, const float* images, int64_t n, int* classes) {
  float* logits = malloc(sizeof(float) * 64 * 10);
  if (!logits) exit(1);
  for (int64_t i = 0; i < n; i += 64) {
    const int64_t bn = n - i < 64 ? n - i : 64;
    const int64_t shape[4] = {bn, 1, 16, 16};
    CHECK(qk_model_run(m, images + i * 256, shape, 4, logits, (size_t)(bn * 10), NULL));
    for (int64_t j = 0; j < bn; ++j) {
      int best = 0;
      for (int c = 1; c < 10; ++c)
        if (logits[j * 10 + c] > logits[j * 10 + best]) best = c;
      classes[i + j] = best;
    }
  }
  free(logits);
}

/* Accuracy in % over the test images. */
static double accuracy(const qk_model* m, const bundle_tensor* images, const bundle_tensor* labels) {
  const int64_t n = images->shape[0];
  int* classes = malloc(sizeof(int) * (size_t)n);
  if (!classes) exit(1);
  predict(m, images->data, n, classes);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) correct += classes[i] == (int)labels->data[i];
  free(classes);
  return 100.0 * (double)correct / (double)n;
}

/* Share of images (in %) on which both models pick the same class. */
static double agreement(const qk_model* a, const qk_model* b, const bundle_tensor* images) {
  const int64_t n = images->shape[0];
  int* ca = malloc(sizeof(int) * (size_t)n);
  int* cb = malloc(sizeof(int) * (size_t)n);
  if (!ca || !cb) exit(1);
  predict(a, images->data, n, ca);
  predict(b, images->data, n, cb);
  int64_t same = 0;
  for (int64_t i = 0; i < n; ++i) same += ca[i] == cb[i];
  free(ca);
  free(cb);
  return 100.0 * (double)same / (double)n;
}

/* Writes every weight of the bundle through the error-budget encoder (at most `max_bits` bits
 * per weight, small tensors exact), then rebuilds the float model from the decoded file: the
 * accuracy a 4-bit weight file keeps. Returns the file size; *accuracy_out gets the accuracy. */
static long budget_file(const tensor_bundle* weights, const char* path, int32_t max_bits,
                        const bundle_tensor* test, const bundle_tensor* labels, double* accuracy_out) {
  qk_qkw_writer* w;
  CHECK(qk_qkw_writer_create(path, &w));
  for (size_t i = 0; i < weights->count; ++i) {
    const bundle_tensor* t = &weights->tensors[i];
    CHECK(qk_qkw_writer_add_budget(w, t->name, t->data, t->shape, t->rank, 0.0, max_bits, NULL, NULL, NULL,
                                   NULL));
  }
  CHECK(qk_qkw_writer_finish(w));
  qk_qkw_writer_destroy(w);

  /* Decode into a copy of the bundle (same names and shapes). */
  qk_qkw_reader* r;
  CHECK(qk_qkw_open_file(path, QK_VERIFY_FULL, 0, &r));
  tensor_bundle decoded = {weights->count, malloc(sizeof(bundle_tensor) * weights->count)};
  if (!decoded.tensors) exit(1);
  for (size_t i = 0; i < weights->count; ++i) {
    decoded.tensors[i] = weights->tensors[i];
    decoded.tensors[i].data = malloc(sizeof(float) * weights->tensors[i].count);
    if (!decoded.tensors[i].data) exit(1);
    size_t index;
    CHECK(qk_qkw_find(r, weights->tensors[i].name, &index));
    CHECK(qk_qkw_decode_f32(r, index, decoded.tensors[i].data, (size_t)weights->tensors[i].count));
  }
  qk_qkw_close(r);
  qk_model* m;
  CHECK(digits_model_build(&decoded, &m));
  CHECK(qk_model_fuse(m));
  *accuracy_out = accuracy(m, test, labels);
  qk_model_destroy(m);
  bundle_free(&decoded);
  return file_size(path);
}

/* Median-free simple timing: best of 5 rounds of `reps` runs; returns microseconds per run. */
static double latency_us(const qk_model* m, const float* data, int64_t batch, int reps) {
  const int64_t shape[4] = {batch, 1, 16, 16};
  float* out = malloc(sizeof(float) * (size_t)batch * 10);
  double best = 1e30;
  CHECK(qk_model_run(m, data, shape, 4, out, (size_t)batch * 10, NULL));
  for (int round = 0; round < 5; ++round) {
    const double t0 = now_s();
    for (int r = 0; r < reps; ++r) CHECK(qk_model_run(m, data, shape, 4, out, (size_t)batch * 10, NULL));
    const double us = (now_s() - t0) * 1e6 / reps;
    if (us < best) best = us;
  }
  free(out);
  return best;
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : QK_EXAMPLES_DATA_DIR;
#ifndef QK_DEMO_OUTPUT
#define QK_DEMO_OUTPUT "digits_cnn_int8.qkw"
#endif
  const char* out_path = argc > 2 ? argv[2] : QK_DEMO_OUTPUT;
  char path[1024], fp32_path[1100];
  tensor_bundle weights, images;
  snprintf(path, sizeof path, "%s/digits_cnn.qktb", dir);
  if (bundle_load(path, &weights) != 0) return 1;
  snprintf(path, sizeof path, "%s/digits_images.qktb", dir);
  if (bundle_load(path, &images) != 0) return 1;
  const bundle_tensor* calib = need(&images, "calibration");
  const bundle_tensor* test = need(&images, "test_images");
  const bundle_tensor* labels = need(&images, "test_labels");
  const bundle_tensor* all = need(&images, "all_images");

  printf("QuantKit %s model demo (kernel path: %s)\n\n", qk_version_string(), qk_isa_name());

  qk_model *fp32 = NULL, *int8 = NULL;
  CHECK(digits_model_build(&weights, &fp32));
  CHECK(digits_model_build(&weights, &int8));
  size_t layers;
  CHECK(qk_model_layer_count(fp32, &layers));
  printf("Graph: %zu layers (conv, batch norm, relu, max pool, flatten, linear, dropout)\n", layers);

  /* Fuse both (the fp32 reference runs the fused float graph: same numbers within rounding). */
  CHECK(qk_model_fuse(fp32));
  CHECK(qk_model_fuse(int8));
  size_t fused;
  CHECK(qk_model_fused_count(int8, &fused));
  printf("Fused %zu patterns:", fused);
  for (size_t i = 0; i < fused; ++i) {
    const char* name;
    CHECK(qk_model_fused_name(int8, i, &name));
    printf(" %s", name);
  }
  printf("\n");

  /* Calibrate: prepare attaches histogram observers; the loop over batches is ours. */
  CHECK(qk_model_prepare(int8));
  const int64_t ncal = calib->shape[0];
  for (int64_t i = 0; i < ncal; i += 32) {
    const int64_t bn = ncal - i < 32 ? ncal - i : 32;
    const int64_t shape[4] = {bn, 1, 16, 16};
    CHECK(qk_model_calibrate(int8, calib->data + i * 256, shape, 4));
    printf("\rCalibrating: %lld/%lld images", (long long)(i + bn), (long long)ncal);
    fflush(stdout);
  }
  printf("\n");
  CHECK(qk_model_convert(int8));

  const double acc32 = accuracy(fp32, test, labels), acc8 = accuracy(int8, test, labels);
  printf("\nAccuracy on the %lld test images: fp32 %.2f%%, int8 %.2f%% (delta %+.2f pp)\n",
         (long long)test->shape[0], acc32, acc8, acc8 - acc32);
  printf("Top-1 agreement int8 vs fp32 over all %lld images: %.2f%%\n", (long long)all->shape[0],
         agreement(fp32, int8, all));

  /* Per-layer SQNR of the int8 activations against fp32, on 64 test images. */
  size_t qlayers;
  CHECK(qk_model_layer_count(int8, &qlayers));
  double* sqnr = malloc(sizeof(double) * qlayers);
  const int64_t rshape[4] = {64, 1, 16, 16};
  CHECK(qk_model_layer_sqnr(int8, test->data, rshape, 4, sqnr, qlayers));
  printf("\nPer-layer SQNR, int8 vs fp32 activations (64 test images):\n");
  for (size_t i = 0; i < qlayers; ++i) {
    const char* name;
    CHECK(qk_model_layer_name(int8, i, &name));
    printf("  %-24s %6.2f dB\n", name, sqnr[i]);
  }
  free(sqnr);

  snprintf(fp32_path, sizeof fp32_path, "%s.fp32.qkw", out_path);
  CHECK(qk_model_save(fp32, fp32_path));
  CHECK(qk_model_save(int8, out_path));
  printf("\nModel files: fp32 %ld bytes, int8 %ld bytes (%.2fx smaller) -> %s\n", file_size(fp32_path),
         file_size(out_path), (double)file_size(fp32_path) / (double)file_size(out_path), out_path);
  remove(fp32_path);
  {
    char int4_path[1100];
    double acc4;
    snprintf(int4_path, sizeof int4_path, "%s.int4.qkw", out_path);
    const long bytes4 = budget_file(&weights, int4_path, 4, test, labels, &acc4);
    printf("4-bit weight file (error budget, max 4 bits): %ld bytes; its decoded weights score %.2f%%\n",
           bytes4, acc4);
    remove(int4_path);
  }

  /* The saved int8 model runs bit-identically after loading. */
  qk_model* loaded = NULL;
  CHECK(qk_model_load(out_path, &loaded));
  {
    float a[64 * 10], b[64 * 10];
    CHECK(qk_model_run(int8, test->data, rshape, 4, a, 640, NULL));
    CHECK(qk_model_run(loaded, test->data, rshape, 4, b, 640, NULL));
    printf("Reloaded int8 model: outputs %s\n", memcmp(a, b, sizeof a) == 0 ? "bit-identical" : "DIFFER");
  }

  printf("\nLatency (1 thread, best of 5 rounds):\n");
  const double l32_1 = latency_us(fp32, test->data, 1, 200), l8_1 = latency_us(int8, test->data, 1, 200);
  const double l32_64 = latency_us(fp32, test->data, 64, 10), l8_64 = latency_us(int8, test->data, 64, 10);
  printf("  batch  1: fp32 %8.1f us, int8 %8.1f us (%.2fx)\n", l32_1, l8_1, l32_1 / l8_1);
  printf("  batch 64: fp32 %8.1f us, int8 %8.1f us (%.2fx; %.0f vs %.0f images/s)\n", l32_64, l8_64,
         l32_64 / l8_64, 64e6 / l32_64, 64e6 / l8_64);

  qk_model_destroy(loaded);
  qk_model_destroy(fp32);
  qk_model_destroy(int8);
  bundle_free(&weights);
  bundle_free(&images);
  return 0;
}
