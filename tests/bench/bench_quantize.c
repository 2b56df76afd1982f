// SPDX-License-Identifier: Apache-2.0
// Single-thread throughput of the element-wise kernels on every kernel path this CPU supports,
// next to memcpy of the same byte count measured in the same run. Prints markdown tables.
// Usage: bench_quantize [MiB of f32, default 64] [repetitions, default 7]
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quantkit/quantkit.h"

#define MAX_REPS 51

static const char* const kIsas[] = {"scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot"};
#define ISA_COUNT (sizeof(kIsas) / sizeof(kIsas[0]))

enum op {
  OP_MEMCPY, OP_QUANT_S8, OP_QUANT_U8, OP_DEQUANT_S8, OP_F32_F16, OP_F16_F32, OP_F32_BF16, OP_HISTOGRAM, OP_COUNT
};
static const char* const kOpNames[OP_COUNT] = {
    "memcpy (same bytes)", "quantize f32->s8", "quantize f32->u8", "dequantize s8->f32 (output)",
    "cast f32->f16",       "cast f16->f32 (output)", "cast f32->bf16", "histogram observer update"};

typedef struct {
  size_t n;  // elements; every op moves n floats on its f32 side
  float *f32, *f32_out;
  int8_t* s8;
  uint8_t* u8;
  uint16_t* h16;
  qk_qparams *qp_s8, *qp_u8;
  qk_quant_spec* hist_spec;
} buffers;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void check(qk_status s, const char* what) {
  if (s != QK_OK) {
    fprintf(stderr, "%s failed: %s (%s)\n", what, qk_status_string(s), qk_last_error());
    exit(1);
  }
}

// Runs one op once; returns its time in seconds, or a negative value when it is unavailable.
static double run_op(enum op op, buffers* b) {
  const int64_t shape[1] = {(int64_t)b->n};
  qk_observer* obs = NULL;
  if (op == OP_HISTOGRAM) {  // a fresh observer each time: the first update sets the range
    const qk_status s = qk_observer_create(QK_OBSERVER_HISTOGRAM, b->hist_spec, &obs);
    if (s == QK_ERR_UNSUPPORTED) return -1.0;  // not in this build yet: the table says n/a
    check(s, "qk_observer_create");
  }
  const double t0 = now_seconds();
  switch (op) {
    case OP_MEMCPY: memcpy(b->f32_out, b->f32, b->n * sizeof(float)); break;
    case OP_QUANT_S8: check(qk_quantize(b->qp_s8, b->f32, shape, 1, b->s8, b->n, NULL), "qk_quantize s8"); break;
    case OP_QUANT_U8: check(qk_quantize(b->qp_u8, b->f32, shape, 1, b->u8, b->n, NULL), "qk_quantize u8"); break;
    case OP_DEQUANT_S8: check(qk_dequantize(b->qp_s8, b->s8, b->n, shape, 1, b->f32_out), "qk_dequantize"); break;
    case OP_F32_F16: check(qk_cast(b->f32, QK_DTYPE_F32, b->h16, QK_DTYPE_F16, b->n), "qk_cast f16"); break;
    case OP_F16_F32: check(qk_cast(b->h16, QK_DTYPE_F16, b->f32_out, QK_DTYPE_F32, b->n), "qk_cast f16->f32"); break;
    case OP_F32_BF16: check(qk_cast(b->f32, QK_DTYPE_F32, b->h16, QK_DTYPE_BF16, b->n), "qk_cast bf16"); break;
    case OP_HISTOGRAM: check(qk_observer_update(obs, b->f32, shape, 1), "qk_observer_update"); break;
    default: break;
  }
  const double t = now_seconds() - t0;
  qk_observer_destroy(obs);
  return t;
}

static int compare_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

// Best and median time of `reps` runs after one warm-up run (page faults, caches, frequency).
static int time_op(enum op op, buffers* b, int reps, double* best, double* median) {
  double t[MAX_REPS];
  if (run_op(op, b) < 0.0) return 0;
  for (int r = 0; r < reps; ++r) t[r] = run_op(op, b);
  qsort(t, (size_t)reps, sizeof t[0], compare_double);
  *best = t[0];
  *median = t[reps / 2];
  return 1;
}

int main(int argc, char** argv) {
  const long mib = argc > 1 ? atol(argv[1]) : 64;
  int reps = argc > 2 ? atoi(argv[2]) : 7;
  if (mib < 1 || reps < 1) {
    fprintf(stderr, "usage: %s [MiB of f32 >= 1] [repetitions >= 1]\n", argv[0]);
    return 2;
  }
  if (reps > MAX_REPS) reps = MAX_REPS;
  buffers b;
  memset(&b, 0, sizeof b);
  b.n = (size_t)mib * 1024 * 1024 / sizeof(float);
  b.f32 = malloc(b.n * sizeof(float));
  b.f32_out = malloc(b.n * sizeof(float));
  b.s8 = malloc(b.n);
  b.u8 = malloc(b.n);
  b.h16 = malloc(b.n * sizeof(uint16_t));
  if (!b.f32 || !b.f32_out || !b.s8 || !b.u8 || !b.h16) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  // Activation-like data: normal(0, 1) from a fixed-seed generator; outputs pre-faulted.
  uint64_t state = 42;
  for (size_t i = 0; i < b.n; i += 2) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double u1 = ((state >> 11) + 1.0) / 9007199254740993.0;
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double u2 = (state >> 11) / 9007199254740992.0, r = sqrt(-2.0 * log(u1));
    b.f32[i] = (float)(r * cos(6.283185307179586 * u2));
    if (i + 1 < b.n) b.f32[i + 1] = (float)(r * sin(6.283185307179586 * u2));
  }
  memset(b.f32_out, 0, b.n * sizeof(float));
  memset(b.s8, 0, b.n);
  memset(b.u8, 0, b.n);
  memset(b.h16, 0, b.n * sizeof(uint16_t));
  const float scale = 8.0f / 255.0f;
  const int32_t zp_s8 = 0, zp_u8 = 128;
  check(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp_s8, NULL, 1, -128, 127, &b.qp_s8),
        "qk_qparams_create s8");
  check(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp_u8, NULL, 1, 0, 255, &b.qp_u8),
        "qk_qparams_create u8");
  check(qk_quant_spec_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, &b.hist_spec), "qk_quant_spec_create");

  const char* isas[ISA_COUNT];
  size_t isa_count = 0;
  for (size_t i = 0; i < ISA_COUNT; ++i) {
    int supported = 0;
    if (qk_isa_supported(kIsas[i], &supported) == QK_OK && supported) isas[isa_count++] = kIsas[i];
  }
  double best[ISA_COUNT][OP_COUNT], median[ISA_COUNT][OP_COUNT];
  int ok[ISA_COUNT][OP_COUNT];
  for (size_t k = 0; k < isa_count; ++k) {
    check(qk_set_isa(isas[k]), "qk_set_isa");
    // In this order dequantize and f16->f32 read the codes quantize and f32->f16 just wrote.
    for (int op = 0; op < OP_COUNT; ++op) ok[k][op] = time_op((enum op)op, &b, reps, &best[k][op], &median[k][op]);
  }

  const double bytes = (double)b.n * sizeof(float);
  printf("QuantKit %s, %ld MiB of f32 (%zu elements), single thread, %d runs after a warm-up.\n",
         qk_version_string(), mib, b.n, reps);
  printf("GB/s (1e9 bytes/s) of the f32 side: input for quantize, f32->f16/bf16 and the observer,\n"
         "output for dequantize and f16->f32; the observer also in M elements/s. (x memcpy) = memcpy\n"
         "time of the same byte count / op time, same run, same statistic.\n");
  for (int stat = 0; stat < 2; ++stat) {
    double (*t)[OP_COUNT] = stat == 0 ? best : median;
    printf("\n%s of %d runs\n\n| op |", stat == 0 ? "Best" : "Median", reps);
    for (size_t k = 0; k < isa_count; ++k) printf(" %s |", isas[k]);
    printf("\n|---|");
    for (size_t k = 0; k < isa_count; ++k) printf("---|");
    printf("\n");
    for (int op = 0; op < OP_COUNT; ++op) {
      printf("| %s |", kOpNames[op]);
      for (size_t k = 0; k < isa_count; ++k) {
        if (!ok[k][op]) {
          printf(" n/a |");
          continue;
        }
        const double gbps = bytes / t[k][op] / 1e9, ratio = t[k][OP_MEMCPY] / t[k][op];
        if (op == OP_MEMCPY) printf(" %.1f GB/s |", gbps);
        else if (op == OP_HISTOGRAM) printf(" %.0f M/s, %.2f GB/s (%.2fx) |", (double)b.n / t[k][op] / 1e6, gbps, ratio);
        else printf(" %.1f GB/s (%.2fx) |", gbps, ratio);
      }
      printf("\n");
    }
  }
  qk_qparams_destroy(b.qp_s8);
  qk_qparams_destroy(b.qp_u8);
  qk_quant_spec_destroy(b.hist_spec);
  free(b.f32);
  free(b.f32_out);
  free(b.s8);
  free(b.u8);
  free(b.h16);
  return 0;
}
