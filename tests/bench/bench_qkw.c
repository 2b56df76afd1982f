/* SPDX-License-Identifier: Apache-2.0 */
/* The .qkw weight file on the digits CNN fixture: file bytes, ratio to the seed tutorial's pickled
 * 8-bit encoding, weight SQNR, test accuracy of the float network run with the decoded weights,
 * and the speed of decoding, verifying and opening. Prints markdown for README.md.
 *
 *   bench_qkw [weights.qktb] [images.qktb] [reps]
 *
 * Defaults: the examples/data bundles of the source tree (paths compiled in). Nothing here is a
 * test: no figure is asserted. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "quantkit/quantkit.h"
#include "tensor_bundle.h"

/* The tutorial's encode8 (per-tensor min/max uint8, pickled numpy arrays) on this same model,
 * measured by the fixture's authors (../shared/fixtures/README.md). */
#define SEED_ENCODE8_BYTES 264243.0

#define CHECK(call)                                                                           \
  do {                                                                                        \
    qk_status s_ = (call);                                                                    \
    if (s_ != QK_OK) {                                                                        \
      fprintf(stderr, "bench_qkw: %s failed: %s (%s)\n", #call, qk_status_string(s_), qk_last_error()); \
      exit(1);                                                                                \
    }                                                                                         \
  } while (0)

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- The float network (fixture README: conv-bn-relu x3 with two 2x2 max pools, fc-bn-relu, fc) ---- */

typedef struct weights {
  tensor_bundle b;
} weights;

static const float* W(const tensor_bundle* b, const char* name) {
  const bundle_tensor* t = bundle_find(b, name);
  if (!t) {
    fprintf(stderr, "bench_qkw: tensor %s missing\n", name);
    exit(1);
  }
  return t->data;
}

/* 3x3 convolution, padding 1, NCHW single image, then batch norm (eps 1e-5) and ReLU. */
static void conv_bn_relu(const tensor_bundle* b, int layer, const float* in, int cin, int cout, int hw, float* out) {
  char n[64];
  snprintf(n, sizeof n, "conv%d.weight", layer);
  const float* w = W(b, n);
  snprintf(n, sizeof n, "conv%d.bias", layer);
  const float* bias = W(b, n);
  snprintf(n, sizeof n, "bn%d.weight", layer);
  const float* g = W(b, n);
  snprintf(n, sizeof n, "bn%d.bias", layer);
  const float* be = W(b, n);
  snprintf(n, sizeof n, "bn%d.running_mean", layer);
  const float* mu = W(b, n);
  snprintf(n, sizeof n, "bn%d.running_var", layer);
  const float* var = W(b, n);
  for (int o = 0; o < cout; ++o) {
    const float k = g[o] / sqrtf(var[o] + 1e-5f);
    for (int y = 0; y < hw; ++y)
      for (int x = 0; x < hw; ++x) {
        float acc = bias[o];
        for (int c = 0; c < cin; ++c)
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
              const int yy = y + dy, xx = x + dx;
              if (yy < 0 || yy >= hw || xx < 0 || xx >= hw) continue;
              acc += w[((o * cin + c) * 3 + (dy + 1)) * 3 + (dx + 1)] * in[(c * hw + yy) * hw + xx];
            }
        const float v = (acc - mu[o]) * k + be[o];
        out[(o * hw + y) * hw + x] = v > 0 ? v : 0;
      }
  }
}

static void maxpool2(const float* in, int c, int hw, float* out) {
  const int h2 = hw / 2;
  for (int ch = 0; ch < c; ++ch)
    for (int y = 0; y < h2; ++y)
      for (int x = 0; x < h2; ++x) {
        const float* p = in + (ch * hw + 2 * y) * hw + 2 * x;
        float m = p[0];
        if (p[1] > m) m = p[1];
        if (p[hw] > m) m = p[hw];
        if (p[hw + 1] > m) m = p[hw + 1];
        out[(ch * h2 + y) * h2 + x] = m;
      }
}

static int classify(const tensor_bundle* b, const float* image) {
  static float a1[32 * 256], a2[64 * 256], p2[64 * 64], a3[64 * 64], p3[64 * 16], h[198], logits[10];
  conv_bn_relu(b, 1, image, 1, 32, 16, a1);
  conv_bn_relu(b, 2, a1, 32, 64, 16, a2);
  maxpool2(a2, 64, 16, p2);
  conv_bn_relu(b, 3, p2, 64, 64, 8, a3);
  maxpool2(a3, 64, 8, p3);
  const float *w1 = W(b, "fc1.weight"), *b1 = W(b, "fc1.bias"), *g = W(b, "bn4.weight"), *be = W(b, "bn4.bias"),
              *mu = W(b, "bn4.running_mean"), *var = W(b, "bn4.running_var");
  for (int o = 0; o < 198; ++o) {
    float acc = b1[o];
    for (int i = 0; i < 1024; ++i) acc += w1[o * 1024 + i] * p3[i];
    const float v = (acc - mu[o]) * (g[o] / sqrtf(var[o] + 1e-5f)) + be[o];
    h[o] = v > 0 ? v : 0;
  }
  const float *w2 = W(b, "fc2.weight"), *b2 = W(b, "fc2.bias");
  int best = 0;
  for (int o = 0; o < 10; ++o) {
    float acc = b2[o];
    for (int i = 0; i < 198; ++i) acc += w2[o * 198 + i] * h[i];
    logits[o] = acc;
    if (acc > logits[best]) best = o;
  }
  return best;
}

/* ---- Profiles ---- */

typedef enum { P_RAW, P_FIXED, P_BUDGET } profile_kind;
typedef struct profile {
  const char* name;
  const char* description;
  profile_kind kind;
  qk_codec codec;
  qk_dtype dtype;
  int32_t bits;
  double target_db;
  int32_t level;       /* zstd level; 0 = uncompressed */
  qk_dtype small_dtype; /* small tensors (rank < 2 or < small_threshold elements) */
  uint64_t small_threshold;
} profile;

static int is_small(const bundle_tensor* t, uint64_t threshold) { return t->rank < 2 || t->count < threshold; }

static void write_profile(const profile* p, const tensor_bundle* src, const char* path) {
  qk_qkw_writer* w;
  CHECK(qk_qkw_writer_create(path, &w));
  CHECK(qk_qkw_writer_set_zstd_level(w, p->level));
  CHECK(qk_qkw_writer_set_small_tensor_threshold(w, p->small_threshold));
  CHECK(qk_qkw_writer_set_small_tensor_dtype(w, p->small_dtype));
  for (size_t i = 0; i < src->count; ++i) {
    const bundle_tensor* t = &src->tensors[i];
    const int last_ok = t->rank >= 1 && t->shape[t->rank - 1] % 32 == 0;
    if (p->kind == P_BUDGET) {
      CHECK(qk_qkw_writer_add_budget(w, t->name, t->data, t->shape, t->rank, p->target_db, p->bits, NULL, NULL, NULL,
                                     NULL));
    } else if (p->kind == P_RAW || is_small(t, p->small_threshold)) {
      const qk_dtype d = p->kind == P_RAW ? p->dtype : p->small_dtype;
      CHECK(qk_qkw_writer_add_f32(w, t->name, t->data, t->shape, t->rank, QK_CODEC_RAW, d, 0, 0, 0, NULL, NULL));
    } else if ((p->codec == QK_CODEC_GGML_Q4_0 || p->codec == QK_CODEC_GGML_Q8_0) && !last_ok) {
      /* ggml blocks need rows of 32k elements; fc2's rows are 198 long */
      CHECK(qk_qkw_writer_add_f32(w, t->name, t->data, t->shape, t->rank, QK_CODEC_SYMMETRIC, 0,
                                  p->codec == QK_CODEC_GGML_Q4_0 ? 4 : 8, 0, 0, NULL, NULL));
    } else {
      CHECK(qk_qkw_writer_add_f32(w, t->name, t->data, t->shape, t->rank, p->codec, p->dtype, p->bits, 0, 0, NULL,
                                  NULL));
    }
  }
  CHECK(qk_qkw_writer_set_metadata(w, "source.file", "digits_cnn.npz"));
  CHECK(qk_qkw_writer_finish(w));
  qk_qkw_writer_destroy(w);
}

/* Decodes every tensor of `path` into a bundle shaped like `src`. */
static void decode_all(const char* path, const tensor_bundle* src, tensor_bundle* out) {
  qk_qkw_reader* r;
  CHECK(qk_qkw_open_file(path, QK_VERIFY_FULL, 0, &r));
  out->count = src->count;
  out->tensors = calloc(src->count, sizeof(bundle_tensor));
  for (size_t i = 0; i < src->count; ++i) {
    const bundle_tensor* t = &src->tensors[i];
    bundle_tensor* d = &out->tensors[i];
    *d = *t;
    d->data = malloc(t->count * sizeof(float));
    size_t index;
    CHECK(qk_qkw_find(r, t->name, &index));
    CHECK(qk_qkw_decode_f32(r, index, d->data, t->count));
  }
  qk_qkw_close(r);
}

static void free_decoded(tensor_bundle* b) {
  for (size_t i = 0; i < b->count; ++i) free(b->tensors[i].data);
  free(b->tensors);
}

static long file_bytes(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  const long n = ftell(f);
  fclose(f);
  return n;
}

/* SQNR over the four large weight matrices together (conv2/3, fc1, fc2: what quantization
 * changes) and over every tensor. */
static void sqnr(const tensor_bundle* ref, const tensor_bundle* got, double* weights_db, double* all_db) {
  double ws = 0, we = 0, as = 0, ae = 0;
  for (size_t i = 0; i < ref->count; ++i) {
    const bundle_tensor* t = &ref->tensors[i];
    const int weight = strstr(t->name, ".weight") && t->rank >= 2;
    for (uint64_t k = 0; k < t->count; ++k) {
      const double x = t->data[k], e = x - got->tensors[i].data[k];
      as += x * x;
      ae += e * e;
      if (weight) {
        ws += x * x;
        we += e * e;
      }
    }
  }
  *weights_db = we == 0 ? INFINITY : 10 * log10(ws / we);
  *all_db = ae == 0 ? INFINITY : 10 * log10(as / ae);
}

int main(int argc, char** argv) {
  const char* weights_path = argc > 1 ? argv[1] : QK_BENCH_DATA_DIR "/digits_cnn.qktb";
  const char* images_path = argc > 2 ? argv[2] : QK_BENCH_DATA_DIR "/digits_images.qktb";
  const int reps = argc > 3 ? atoi(argv[3]) : 200;
  tensor_bundle src, img;
  if (bundle_load(weights_path, &src) || bundle_load(images_path, &img)) return 1;
  const bundle_tensor* images = bundle_find(&img, "test_images");
  const bundle_tensor* labels = bundle_find(&img, "test_labels");
  if (!images || !labels) {
    fprintf(stderr, "bench_qkw: %s lacks test_images/test_labels\n", images_path);
    return 1;
  }
  const int n_test = (int)images->shape[0];
  int* fp32_pred = malloc(sizeof(int) * n_test);
  int fp32_correct = 0;
  for (int i = 0; i < n_test; ++i) {
    fp32_pred[i] = classify(&src, images->data + (size_t)i * 256);
    fp32_correct += fp32_pred[i] == (int)labels->data[i];
  }

  char dir[] = "/tmp/qk_bench_qkw_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  const profile profiles[] = {
      {"lossless", "RAW f32 + byte-shuffle + zstd-19", P_RAW, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 19, QK_DTYPE_F32, 1024},
      {"half", "RAW f16 + byte-shuffle + zstd-19", P_RAW, QK_CODEC_RAW, QK_DTYPE_F16, 0, 0, 19, QK_DTYPE_F16, 1024},
      {"int8-mmap", "int8 per channel, uncompressed (mappable)", P_FIXED, QK_CODEC_SYMMETRIC, 0, 8, 0, 0, QK_DTYPE_F32, 1024},
      {"int8", "int8 per channel + zstd, small tensors exact", P_FIXED, QK_CODEC_SYMMETRIC, 0, 8, 0, 19, QK_DTYPE_F32, 1024},
      {"int8/f16-small", "int8 per channel + zstd, small tensors f16", P_FIXED, QK_CODEC_SYMMETRIC, 0, 8, 0, 19, QK_DTYPE_F16, 256},
      {"affine-u8", "u8 per tensor (the seed's scheme) + zstd", P_FIXED, QK_CODEC_AFFINE, QK_DTYPE_U8, 0, 0, 19, QK_DTYPE_F32, 1024},
      {"budget-35", "error budget 35 dB, small exact", P_BUDGET, 0, 0, 0, 35, 19, QK_DTYPE_F32, 1024},
      {"budget-30", "error budget 30 dB, small exact", P_BUDGET, 0, 0, 0, 30, 19, QK_DTYPE_F32, 1024},
      {"budget-30/f16-small", "error budget 30 dB, small f16", P_BUDGET, 0, 0, 0, 30, 19, QK_DTYPE_F16, 256},
      {"q4_0", "ggml Q4_0 blocks, uncompressed (mappable)", P_FIXED, QK_CODEC_GGML_Q4_0, 0, 0, 0, 0, QK_DTYPE_F32, 1024},
      {"lut4", "4-bit k-means palette + zstd", P_FIXED, QK_CODEC_LUT, 0, 4, 0, 19, QK_DTYPE_F32, 1024},
      {"budget-20", "error budget 20 dB, small exact", P_BUDGET, 0, 0, 0, 20, 19, QK_DTYPE_F32, 1024},
      {"budget-20/f16-small", "error budget 20 dB, small f16", P_BUDGET, 0, 0, 0, 20, 19, QK_DTYPE_F16, 256},
      {"int4", "4-bit per channel + zstd", P_FIXED, QK_CODEC_SYMMETRIC, 0, 4, 0, 19, QK_DTYPE_F32, 1024},
  };
  const size_t n_profiles = sizeof profiles / sizeof profiles[0];

  printf("## .qkw on the digits CNN (262,116 values; seed-style 8-bit pickle: 264,243 B)\n\n");
  printf("fp32 test accuracy: %.2f%% (%d/%d)\n\n", 100.0 * fp32_correct / n_test, fp32_correct, n_test);
  printf("| profile | encoding | file bytes | ratio to seed pickle | weight SQNR dB | all-tensor SQNR dB | test acc | drop pp | top-1 agree |\n");
  printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  char int8_path[512] = "", lossless_path[512] = "";
  for (size_t p = 0; p < n_profiles; ++p) {
    char path[512];
    snprintf(path, sizeof path, "%s/%zu.qkw", dir, p);
    write_profile(&profiles[p], &src, path);
    if (!strcmp(profiles[p].name, "int8")) snprintf(int8_path, sizeof int8_path, "%s", path);
    if (!strcmp(profiles[p].name, "lossless")) snprintf(lossless_path, sizeof lossless_path, "%s", path);
    tensor_bundle dec;
    decode_all(path, &src, &dec);
    double wdb, adb;
    sqnr(&src, &dec, &wdb, &adb);
    int correct = 0, agree = 0;
    for (int i = 0; i < n_test; ++i) {
      const int pred = classify(&dec, images->data + (size_t)i * 256);
      correct += pred == (int)labels->data[i];
      agree += pred == fp32_pred[i];
    }
    const long bytes = file_bytes(path);
    printf("| %s | %s | %ld | %.3f | %.2f | %.2f | %.2f%% | %+.2f | %.2f%% |\n", profiles[p].name,
           profiles[p].description, bytes, bytes / SEED_ENCODE8_BYTES, wdb, adb, 100.0 * correct / n_test,
           100.0 * (fp32_correct - correct) / n_test, 100.0 * agree / n_test);
    free_decoded(&dec);
  }

  /* Speed: decode (zstd + dequantize, f32 output), verify (XXH64 of every chunk), open. */
  printf("\n## Speed (one thread, %d repetitions, median-free: total time / reps)\n\n", reps);
  printf("| operation | figure |\n|---|---:|\n");
  const char* decode_files[2] = {int8_path, lossless_path};
  const char* decode_names[2] = {"decode int8 file (zstd + dequantize)", "decode lossless file (zstd + unshuffle)"};
  for (int f = 0; f < 2; ++f) {
    qk_qkw_reader* r;
    CHECK(qk_qkw_open_file(decode_files[f], QK_VERIFY_NONE, 0, &r));
    size_t n;
    CHECK(qk_qkw_tensor_count(r, &n));
    float* buf = malloc(300000 * sizeof(float));
    uint64_t elements = 0;
    const double t0 = now_seconds();
    for (int rep = 0; rep < reps; ++rep)
      for (size_t i = 0; i < n; ++i) {
        qk_qkw_tensor_info info;
        CHECK(qk_qkw_tensor_info_get(r, i, &info));
        CHECK(qk_qkw_decode_f32(r, i, buf, info.element_count));
        elements += info.element_count;
      }
    const double dt = now_seconds() - t0;
    printf("| %s | %.2f GB/s of f32 output |\n", decode_names[f], 4.0 * elements / dt / 1e9);
    free(buf);
    qk_qkw_close(r);
  }
  {
    /* Verify speed needs a file larger than the caches' noise: 64 MiB of raw f32 in 8 tensors. */
    char big[512];
    snprintf(big, sizeof big, "%s/big.qkw", dir);
    qk_qkw_writer* w;
    CHECK(qk_qkw_writer_create(big, &w));
    CHECK(qk_qkw_writer_set_zstd_level(w, 0));
    const int64_t shape[2] = {2048, 1024};
    float* data = malloc(sizeof(float) * 2048 * 1024);
    for (size_t i = 0; i < 2048u * 1024u; ++i) data[i] = (float)((i * 2654435761u) % 1000) * 1e-3f;
    for (int t = 0; t < 8; ++t) {
      char name[16];
      snprintf(name, sizeof name, "t%d", t);
      CHECK(qk_qkw_writer_add_f32(w, name, data, shape, 2, QK_CODEC_RAW, QK_DTYPE_F32, 0, 0, 0, NULL, NULL));
    }
    CHECK(qk_qkw_writer_finish(w));
    qk_qkw_writer_destroy(w);
    free(data);
    qk_qkw_reader* r;
    CHECK(qk_qkw_open_file(big, QK_VERIFY_NONE, 0, &r));
    const int vreps = reps / 20 > 2 ? reps / 20 : 2;
    CHECK(qk_qkw_verify(r)); /* fault the pages in once */
    const double t0 = now_seconds();
    for (int rep = 0; rep < vreps; ++rep) CHECK(qk_qkw_verify(r));
    const double dt = now_seconds() - t0;
    uint64_t size;
    CHECK(qk_qkw_file_info(r, NULL, NULL, NULL, &size));
    /* Baseline in the same run: XXH64 alone over the same bytes, read into memory. */
    FILE* f = fopen(big, "rb");
    unsigned char* bytes = malloc(size);
    if (!f || fread(bytes, 1, size, f) != size) return 1;
    fclose(f);
    unsigned long long sink = XXH64(bytes, size, 0);
    const double h0 = now_seconds();
    for (int rep = 0; rep < vreps; ++rep) sink += XXH64(bytes, size, 0);
    const double hdt = now_seconds() - h0;
    free(bytes);
    printf("| verify (XXH64 of every chunk + zero padding), 64 MiB file | %.1f GB/s (%.2fx plain XXH64 over the same bytes: %.1f GB/s; checksum nibble %llx, printed so the loop is kept) |\n",
           (double)size * vreps / dt / 1e9, hdt / dt, (double)size * vreps / hdt / 1e9, sink & 0xF);
    qk_qkw_close(r);
    unlink(big);
  }
  const qk_verify_mode modes[3] = {QK_VERIFY_FULL, QK_VERIFY_LAZY, QK_VERIFY_NONE};
  const char* mode_names[3] = {"full", "lazy", "none"};
  for (int m = 0; m < 3; ++m) {
    const double t0 = now_seconds();
    for (int rep = 0; rep < reps; ++rep) {
      qk_qkw_reader* r;
      CHECK(qk_qkw_open_file(int8_path, modes[m], 0, &r));
      qk_qkw_close(r);
    }
    printf("| open int8 fixture file (%ld B), verify %s | %.1f us |\n", file_bytes(int8_path), mode_names[m],
           (now_seconds() - t0) / reps * 1e6);
  }
  for (size_t p = 0; p < n_profiles; ++p) {
    char path[512];
    snprintf(path, sizeof path, "%s/%zu.qkw", dir, p);
    unlink(path);
  }
  rmdir(dir);
  free(fp32_pred);
  bundle_free(&src);
  bundle_free(&img);
  return 0;
}
