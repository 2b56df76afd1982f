/* SPDX-License-Identifier: Apache-2.0 */
/* The int8 linear operators (qk_packed_weights, qk_qlinear, qk_dynamic_linear, qk_threadpool)
 * against the naive oracle (qgemm_oracle.c), bit for bit, on whichever kernel path is active:
 * CTest runs this program once per QK_ISA value and once unforced. Paths this CPU lacks make
 * qk_packed_weights_create return QK_ERR_UNSUPPORTED and the comparisons skip. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "qgemm_oracle.h"
#include "qk_test_util.h"

/* ---- path detection ------------------------------------------------------------------------ */

static int g_usable = -1;

/* 1 if operators can be created on the active path, 0 if it is unsupported (the test skips). */
static int path_usable(void) {
  if (g_usable < 0) {
    const int8_t w = 1;
    const float scale = 1.0f;
    const int32_t zp = 0;
    qk_qparams* qp = NULL;
    qk_packed_weights* pw = NULL;
    qk_status st;
    if (qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp, NULL, 1, -128, 127, &qp) !=
        QK_OK)
      fail_msg("qparams: %s", qk_last_error());
    st = qk_packed_weights_create(&w, 1, 1, 1, qp, NULL, QK_DTYPE_F32, &pw);
    if (st != QK_OK && st != QK_ERR_UNSUPPORTED) fail_msg("probe: %s", qk_last_error());
    /* only a forced path this CPU or build lacks may refuse, and it must say so */
    if (st == QK_ERR_UNSUPPORTED && (strcmp(qk_isa_name(), "invalid") != 0 || !strstr(qk_last_error(), "QK_ISA")))
      fail_msg("unexpected QK_ERR_UNSUPPORTED on path %s: %s", qk_isa_name(), qk_last_error());
    g_usable = st == QK_OK;
    if (pw) {
      const char* isa = NULL;
      assert_ok(qk_packed_weights_get_isa(pw, &isa));
      print_message("qk_isa_name() = %s, GEMM family = %s\n", qk_isa_name(), isa);
    }
    qk_packed_weights_destroy(pw);
    qk_qparams_destroy(qp);
  }
  return g_usable;
}

#define REQUIRE_PATH() \
  do {                 \
    if (!path_usable()) skip(); \
  } while (0)

/* ---- one configuration ------------------------------------------------------------------- */

enum { FILL_RANDOM, FILL_HIGH, FILL_LOW, FILL_ALTERNATE };
enum { BIAS_NONE, BIAS_F32, BIAS_S32 };

typedef struct gemm_case {
  int64_t m, n, k, lda, ldw, ldo;
  qk_dtype a_dtype;
  int32_t a_zp;
  float a_scale;
  int per_channel;
  int32_t w_zp; /* per-tensor only */
  float w_scale;
  int bias;
  qk_output_kind kind;
  qk_dtype out_dtype; /* quantized only */
  int32_t out_zp;
  float out_scale; /* 0: chosen from the shape so outputs span the range */
  float out_min, out_max;
  qk_requant_mode mode;
  int a_fill, w_fill;
} gemm_case;

static gemm_case base_case(int64_t m, int64_t n, int64_t k) {
  gemm_case c;
  memset(&c, 0, sizeof c);
  c.m = m;
  c.n = n;
  c.k = k;
  c.lda = k;
  c.ldw = k;
  c.ldo = n;
  c.a_dtype = QK_DTYPE_U8;
  c.a_zp = 128;
  c.a_scale = 0.02f;
  c.w_scale = 0.01f;
  c.kind = QK_OUTPUT_S32;
  c.out_dtype = QK_DTYPE_U8;
  c.out_zp = 100;
  c.out_min = -INFINITY;
  c.out_max = INFINITY;
  c.mode = QK_REQUANT_FLOAT;
  return c;
}

static qk_qparams* per_tensor_qparams(qk_dtype dtype, float scale, int32_t zp) {
  qk_qparams* qp = NULL;
  const int32_t lo = dtype == QK_DTYPE_S8 ? -128 : 0, hi = dtype == QK_DTYPE_S8 ? 127 : 255;
  if (qk_qparams_create(dtype, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp, NULL, 1, lo, hi, &qp) != QK_OK)
    fail_msg("per-tensor qparams: %s", qk_last_error());
  return qp;
}

static qk_qparams* per_channel_qparams(const float* scales, int64_t n) {
  qk_qparams* qp = NULL;
  int32_t* zps = calloc((size_t)n, sizeof(int32_t));
  assert_non_null(zps);
  if (qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 0, 1, scales, zps, NULL, (size_t)n, -128, 127,
                        &qp) != QK_OK)
    fail_msg("per-channel qparams: %s", qk_last_error());
  free(zps);
  return qp;
}

static size_t out_esize(const gemm_case* c) { return c->kind == QK_OUTPUT_QUANTIZED ? 1 : 4; }

static void fill_bytes(qk_test_rng* rng, uint8_t* p, size_t count, int fill, int is_signed, size_t row_len) {
  size_t i;
  const uint8_t high = is_signed ? 0x7F : 0xFF, low = is_signed ? 0x80 : 0x00;
  for (i = 0; i < count; ++i) {
    switch (fill) {
      case FILL_HIGH: p[i] = high; break;
      case FILL_LOW: p[i] = low; break;
      case FILL_ALTERNATE: p[i] = ((i % row_len) & 1) ? low : high; break;
      default: p[i] = (uint8_t)qk_test_next(rng); break;
    }
  }
}

/* Builds the operator for `c`, runs it and the oracle on the same inputs, and compares every byte
 * of the output buffers, including the stride gaps (which must stay untouched). Returns 0 on a
 * match; prints the case and the first difference otherwise. */
static int run_case(const gemm_case* c, qk_test_rng* rng, qk_threadpool* pool) {
  const size_t es = out_esize(c);
  const size_t a_bytes = (size_t)((c->m - 1) * c->lda + c->k);
  const size_t w_bytes = (size_t)((c->n - 1) * c->ldw + c->k);
  const size_t o_bytes = (size_t)((c->m - 1) * c->ldo + c->n) * es;
  uint8_t* a = malloc(a_bytes);
  int8_t* w = malloc(w_bytes);
  float* w_scale = malloc((size_t)c->n * sizeof(float));
  float* bias_f = malloc((size_t)c->n * sizeof(float));
  int32_t* bias_i = malloc((size_t)c->n * sizeof(int32_t));
  uint8_t* got = malloc(o_bytes + 16);
  uint8_t* want = malloc(o_bytes + 16);
  qk_qparams *wqp, *aqp, *oqp = NULL;
  qk_packed_weights* pw = NULL;
  qk_qlinear* op = NULL;
  qk_oracle_linear o;
  const int a_signed = c->a_dtype == QK_DTYPE_S8;
  const void* bias = NULL;
  float out_scale = c->out_scale;
  int64_t j;
  int bad = 0;
  size_t i;

  assert_non_null(a);
  assert_non_null(w);
  assert_non_null(w_scale);
  assert_non_null(bias_f);
  assert_non_null(bias_i);
  assert_non_null(got);
  assert_non_null(want);
  fill_bytes(rng, a, a_bytes, c->a_fill, a_signed, (size_t)c->lda);
  fill_bytes(rng, (uint8_t*)w, w_bytes, c->w_fill, 1, (size_t)c->ldw);
  for (j = 0; j < c->n; ++j) {
    w_scale[j] = c->per_channel ? c->w_scale * qk_test_uniform(rng, 0.25f, 4.0f) : c->w_scale;
    bias_f[j] = qk_test_uniform(rng, -1.0f, 1.0f) * c->a_scale * c->w_scale * 60000.0f;
    bias_i[j] = (int32_t)(qk_test_next(rng) % 200001) - 100000;
  }
  if (out_scale == 0.0f) /* about +-80 output steps for random data */
    out_scale = c->a_scale * c->w_scale * 5500.0f * sqrtf((float)c->k) / 80.0f;

  wqp = c->per_channel ? per_channel_qparams(w_scale, c->n) : per_tensor_qparams(QK_DTYPE_S8, c->w_scale, c->w_zp);
  aqp = per_tensor_qparams(c->a_dtype, c->a_scale, c->a_zp);
  if (c->kind == QK_OUTPUT_QUANTIZED) oqp = per_tensor_qparams(c->out_dtype, out_scale, c->out_zp);
  if (c->bias == BIAS_F32) bias = bias_f;
  if (c->bias == BIAS_S32) bias = bias_i;

  assert_ok(qk_packed_weights_create(w, c->n, c->k, c->ldw, wqp, bias, c->bias == BIAS_S32 ? QK_DTYPE_S32 : QK_DTYPE_F32,
                                     &pw));
  assert_ok(qk_qlinear_create(pw, aqp, c->kind, oqp, c->out_min, c->out_max, c->mode, &op));
  qk_packed_weights_destroy(pw); /* the operator keeps its own reference */

  memset(got, 0xA5, o_bytes + 16);
  memset(want, 0xA5, o_bytes + 16);
  assert_ok(qk_qlinear_run(op, c->m, a, c->lda, a_bytes, got, c->ldo, o_bytes, pool));

  memset(&o, 0, sizeof o);
  o.m = c->m;
  o.n = c->n;
  o.k = c->k;
  o.a = a;
  o.lda = c->lda;
  o.a_signed = a_signed;
  o.a_zp = c->a_zp;
  o.a_scale = c->a_scale;
  o.w = w;
  o.ldw = c->ldw;
  o.w_scale = w_scale;
  o.w_zp = c->per_channel ? 0 : c->w_zp;
  o.bias_f32 = c->bias == BIAS_F32 ? bias_f : NULL;
  o.bias_s32 = c->bias == BIAS_S32 ? bias_i : NULL;
  o.kind = c->kind;
  o.out_signed = c->out_dtype == QK_DTYPE_S8;
  o.out_scale = out_scale;
  o.out_zp = c->out_zp;
  o.mode = c->mode;
  o.out_min = c->out_min;
  o.out_max = c->out_max;
  qk_oracle_linear_run(&o, want, c->ldo);

  if (memcmp(got, want, o_bytes + 16) != 0) {
    for (i = 0; i < o_bytes + 16 && got[i] == want[i]; ++i) {
    }
    print_error("mismatch: m=%lld n=%lld k=%lld lda=%lld ldw=%lld ldo=%lld a=%s zp=%d w_zp=%d per_channel=%d "
                "bias=%d kind=%d out=%s out_zp=%d mode=%d clamp=[%g,%g] fills=%d/%d; first byte %zu (row %zu, "
                "col %zu): got 0x%02x want 0x%02x\n",
                (long long)c->m, (long long)c->n, (long long)c->k, (long long)c->lda, (long long)c->ldw,
                (long long)c->ldo, qk_dtype_name(c->a_dtype), c->a_zp, c->w_zp, c->per_channel, c->bias, c->kind,
                qk_dtype_name(c->out_dtype), c->out_zp, c->mode, (double)c->out_min, (double)c->out_max, c->a_fill,
                c->w_fill, i, i / es / (size_t)c->ldo, i / es % (size_t)c->ldo, got[i], want[i]);
    bad = 1;
  }
  qk_qlinear_destroy(op);
  qk_qparams_destroy(wqp);
  qk_qparams_destroy(aqp);
  qk_qparams_destroy(oqp);
  free(a);
  free(w);
  free(w_scale);
  free(bias_f);
  free(bias_i);
  free(got);
  free(want);
  return bad;
}

/* Picks random activation/weight zero points, dtypes and bias for `c`. */
static void randomize_params(gemm_case* c, qk_test_rng* rng) {
  c->a_dtype = (qk_test_next(rng) & 1) ? QK_DTYPE_S8 : QK_DTYPE_U8;
  c->a_zp = (int32_t)(qk_test_next(rng) % 256) - (c->a_dtype == QK_DTYPE_S8 ? 128 : 0);
  c->per_channel = (qk_test_next(rng) % 3) == 0;
  c->w_zp = c->per_channel ? 0 : (int32_t)(qk_test_next(rng) % 256) - 128;
  if (!c->per_channel && qk_test_next(rng) % 3 == 0) c->w_zp = 0; /* the common symmetric case */
  c->bias = (int)(qk_test_next(rng) % 3);
  c->a_scale = qk_test_uniform(rng, 0.001f, 0.1f);
  c->w_scale = qk_test_uniform(rng, 0.001f, 0.1f);
}

/* One of the output modes, selected by `which` (0..5), with a random clamp. */
static void set_output_mode(gemm_case* c, int which, qk_test_rng* rng) {
  const int clamp = (int)(qk_test_next(rng) % 4);
  c->out_min = -INFINITY;
  c->out_max = INFINITY;
  c->mode = QK_REQUANT_FLOAT;
  switch (which) {
    case 0: c->kind = QK_OUTPUT_S32; return;
    case 1: c->kind = QK_OUTPUT_F32; break;
    default:
      c->kind = QK_OUTPUT_QUANTIZED;
      c->out_dtype = (which == 2 || which == 4) ? QK_DTYPE_U8 : QK_DTYPE_S8;
      c->mode = which >= 4 ? QK_REQUANT_FIXED_POINT : QK_REQUANT_FLOAT;
      c->out_zp = (int32_t)(qk_test_next(rng) % 256) - (c->out_dtype == QK_DTYPE_S8 ? 128 : 0);
      break;
  }
  if (clamp == 1) c->out_min = 0.0f; /* ReLU */
  if (clamp == 2) {                  /* ReLU6 */
    c->out_min = 0.0f;
    c->out_max = 6.0f;
  }
  if (clamp == 3) { /* arbitrary, in units of the typical output magnitude */
    const float unit = c->a_scale * c->w_scale * 5500.0f * sqrtf((float)c->k) / 80.0f;
    c->out_min = qk_test_uniform(rng, -60.0f, 10.0f) * unit;
    c->out_max = c->out_min + qk_test_uniform(rng, 0.0f, 90.0f) * unit;
  }
}

/* ---- tests --------------------------------------------------------------------------------- */

/* A 2x2x3 product worked by hand: zero points, bias and every output kind give the exact values. */
static void test_qgemm_known_values(void** state) {
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  /* a (u8, zp 2) = [[3, 4, 5], [2, 2, 10]]  -> a - zp = [[1, 2, 3], [0, 0, 8]]
   * w (s8, zp -1) = [[0, 1, -2], [4, -1, -1]] -> w - zp = [[1, 2, -1], [5, 0, 0]]
   * dot = [[1+4-3, 5], [-8, 0]] = [[2, 5], [-8, 0]]; s32 bias [10, -20] -> [[12, -15], [2, -20]] */
  const uint8_t a[6] = {3, 4, 5, 2, 2, 10};
  const int8_t w[6] = {0, 1, -2, 4, -1, -1};
  const int32_t bias[2] = {10, -20};
  const int32_t expected_s32[4] = {12, -15, 2, -20};
  int32_t out[4] = {0};
  float outf[4] = {0};
  uint8_t outq[4] = {0};
  qk_qparams* wqp = per_tensor_qparams(QK_DTYPE_S8, 0.5f, -1);
  qk_qparams* aqp = per_tensor_qparams(QK_DTYPE_U8, 0.25f, 2);
  qk_qparams* oqp = per_tensor_qparams(QK_DTYPE_U8, 0.5f, 10);
  qk_packed_weights* pw = NULL;
  qk_qlinear* op = NULL;
  int64_t n = 0, k = 0;
  (void)state;
  assert_ok(qk_packed_weights_create(w, 2, 3, 3, wqp, bias, QK_DTYPE_S32, &pw));
  assert_ok(qk_packed_weights_get_shape(pw, &n, &k));
  assert_int_equal(n, 2);
  assert_int_equal(k, 3);
  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_S32, NULL, -INFINITY, INFINITY, QK_REQUANT_FLOAT, &op));
  assert_ok(qk_qlinear_run(op, 2, a, 3, sizeof a, out, 2, sizeof out, NULL));
  assert_memory_equal(out, expected_s32, sizeof out);
  qk_qlinear_destroy(op);
  /* f32: acc * (0.25 * 0.5) = [[1.5, -1.875], [0.25, -2.5]] (s32 bias is part of acc) */
  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_F32, NULL, -INFINITY, INFINITY, QK_REQUANT_FLOAT, &op));
  assert_ok(qk_qlinear_run(op, 2, a, 3, sizeof a, outf, 2, sizeof outf, NULL));
  assert_true(outf[0] == 1.5f && outf[1] == -1.875f && outf[2] == 0.25f && outf[3] == -2.5f);
  qk_qlinear_destroy(op);
  /* quantized, M = 0.125 / 0.5 = 0.25: round_half_even([[3, -3.75], [0.5, -5]]) + 10, ReLU
   * clamps at quantize(0) = 10 -> [[13, 10], [10, 10]] */
  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_QUANTIZED, oqp, 0.0f, INFINITY, QK_REQUANT_FLOAT, &op));
  assert_ok(qk_qlinear_run(op, 2, a, 3, sizeof a, outq, 2, sizeof outq, NULL));
  assert_int_equal(outq[0], 13);
  assert_int_equal(outq[1], 10);
  assert_int_equal(outq[2], 10);
  assert_int_equal(outq[3], 10);
  qk_qlinear_destroy(op);
  /* without the clamp: [[13, 6], [10, 5]] (-3.75 -> -4, 0.5 -> 0 half to even) */
  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_QUANTIZED, oqp, -INFINITY, INFINITY, QK_REQUANT_FLOAT, &op));
  assert_ok(qk_qlinear_run(op, 2, a, 3, sizeof a, outq, 2, sizeof outq, NULL));
  assert_int_equal(outq[0], 13);
  assert_int_equal(outq[1], 6);
  assert_int_equal(outq[2], 10);
  assert_int_equal(outq[3], 5);
  qk_qlinear_destroy(op);
  qk_packed_weights_destroy(pw);
  qk_qparams_destroy(wqp);
  qk_qparams_destroy(aqp);
  qk_qparams_destroy(oqp);
}

/* Every m, n in 1..17 and k in 1..33 (all tile/panel/k-group remainders of any family up to
 * 16x16 tiles and k groups of 32): s32 with random zero points, plus one rotating output mode. */
static void test_qgemm_exhaustive_small_shapes(void** state) {
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  qk_test_rng rng = {0x5EED0001u};
  int64_t m, n, k;
  int failures = 0, which = 1;
  (void)state;
  for (m = 1; m <= 17; ++m)
    for (n = 1; n <= 17; ++n)
      for (k = 1; k <= 33; ++k) {
        gemm_case c = base_case(m, n, k);
        randomize_params(&c, &rng);
        c.lda = k + (int64_t)(qk_test_next(&rng) % 3);
        failures += run_case(&c, &rng, NULL);
        set_output_mode(&c, which, &rng);
        which = which == 5 ? 1 : which + 1;
        c.ldo = n + (int64_t)(qk_test_next(&rng) % 2);
        failures += run_case(&c, &rng, NULL);
        if (failures > 5) fail_msg("too many mismatches");
      }
  assert_int_equal(failures, 0);
}

/* Sizes around the usual block edges (15/16/17, 31/32/33, 63/64/65) in every dimension. */
static void test_qgemm_block_edge_sizes(void** state) {
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  static const int64_t sizes[] = {15, 16, 17, 31, 32, 33, 63, 64, 65};
  qk_test_rng rng = {0x5EED0002u};
  size_t i, j, l;
  int failures = 0, which = 0;
  (void)state;
  for (i = 0; i < 9; ++i)
    for (j = 0; j < 9; ++j)
      for (l = 0; l < 9; ++l) {
        gemm_case c = base_case(sizes[i], sizes[j], sizes[l]);
        randomize_params(&c, &rng);
        set_output_mode(&c, which, &rng);
        which = (which + 1) % 6;
        failures += run_case(&c, &rng, NULL);
        if (failures > 5) fail_msg("too many mismatches");
      }
  assert_int_equal(failures, 0);
}

/* 600 random shapes up to 256 in each dimension (most much smaller, to keep the oracle's int64
 * triple loop within a few seconds), random strides, parameters, output modes and clamps; every
 * third one on a 3-thread pool. */
static void test_qgemm_random_shapes(void** state) {
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  qk_test_rng rng = {0x5EED0003u};
  qk_threadpool* pool = NULL;
  int t, failures = 0;
  (void)state;
  assert_ok(qk_threadpool_create(3, &pool));
  for (t = 0; t < 600; ++t) {
    /* One dimension up to 256, the others up to 256 only with probability 1/4 (else <= 48). */
    int64_t dims[3];
    int d;
    gemm_case c;
    for (d = 0; d < 3; ++d) {
      const int big = (int)(qk_test_next(&rng) % 3) == d || qk_test_next(&rng) % 4 == 0;
      dims[d] = 1 + (int64_t)(qk_test_next(&rng) % (big ? 256 : 48));
    }
    c = base_case(dims[0], dims[1], dims[2]);
    randomize_params(&c, &rng);
    set_output_mode(&c, (int)(qk_test_next(&rng) % 6), &rng);
    c.lda = c.k + (int64_t)(qk_test_next(&rng) % 40);
    c.ldw = c.k + (int64_t)(qk_test_next(&rng) % 40);
    c.ldo = c.n + (int64_t)(qk_test_next(&rng) % 40);
    failures += run_case(&c, &rng, t % 3 == 0 ? pool : NULL);
    if (failures > 5) fail_msg("too many mismatches");
  }
  qk_threadpool_destroy(pool);
  assert_int_equal(failures, 0);
}

/* Extreme fills: all-max x all-min, alternating max/min, zero points at both ends of their
 * ranges, up to k = 65536 where the raw dot product reaches -2^31 + 2^23 and the zero-point
 * corrections wrap int32; every output mode. */
static void test_qgemm_extreme_fills(void** state) {
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  static const int64_t depths[] = {1, 7, 255, 4099, 65536};
  static const int fills[][2] = {{FILL_HIGH, FILL_LOW},       {FILL_HIGH, FILL_HIGH}, {FILL_LOW, FILL_LOW},
                                 {FILL_LOW, FILL_HIGH},       {FILL_ALTERNATE, FILL_LOW},
                                 {FILL_ALTERNATE, FILL_ALTERNATE}};
  qk_test_rng rng = {0x5EED0004u};
  size_t d, f;
  int a_signed, zp_end, which, failures = 0;
  (void)state;
  for (d = 0; d < 5; ++d)
    for (f = 0; f < 6; ++f)
      for (a_signed = 0; a_signed < 2; ++a_signed)
        for (zp_end = 0; zp_end < 3; ++zp_end)
          for (which = 0; which < 6; ++which) {
            gemm_case c = base_case(5, 9, depths[d]);
            c.a_dtype = a_signed ? QK_DTYPE_S8 : QK_DTYPE_U8;
            c.a_fill = fills[f][0];
            c.w_fill = fills[f][1];
            /* zero points: both at the low end, both at the high end, or 0 */
            c.a_zp = zp_end == 0 ? (a_signed ? -128 : 0) : zp_end == 1 ? (a_signed ? 127 : 255) : 0;
            c.w_zp = zp_end == 0 ? -128 : zp_end == 1 ? 127 : 0;
            c.bias = (int)((d + f) % 3);
            set_output_mode(&c, which, &rng);
            c.out_scale = qk_test_uniform(&rng, 0.5f, 2.0f) * c.a_scale * c.w_scale * 128.0f * (float)c.k;
            failures += run_case(&c, &rng, NULL);
            if (failures > 5) fail_msg("too many mismatches");
          }
  assert_int_equal(failures, 0);
}

/* Accumulators at the ends of int32 (s32 biases of +-2^31) with a multiplier just below 1 and
 * output zero points at the ends of the range: the fixed-point result plus the zero point leaves
 * int32 and must saturate, never wrap; float requantization saturates too. */
static void test_qgemm_requant_saturation(void** state) {
  enum { M = 3, N = 19, K = 5 };
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  static const int32_t zps[2][2] = {{0, 255}, {-128, 127}};
  uint8_t a[M * K];
  int8_t w[N * K];
  int32_t bias[N];
  float w_scale[N];
  uint8_t got[M * N], want[M * N];
  qk_test_rng rng = {0x5EED000Bu};
  /* M just below 1; M = 1e12 (fixed point saturates at 2^30 * (2^31-1)/2^31); M = 1e-12 (below
   * 2^-32: a zero fixed-point multiplier) */
  static const float out_scales[3] = {1.0000001f, 1e-12f, 1e12f};
  int out_signed, z, mode, j, s;
  (void)state;
  fill_bytes(&rng, a, sizeof a, FILL_RANDOM, 0, K);
  fill_bytes(&rng, (uint8_t*)w, sizeof w, FILL_RANDOM, 1, K);
  memset(w, 0, K); /* column 0: dot product 0, accumulator exactly INT32_MAX */
  for (j = 0; j < N; ++j) {
    bias[j] = j % 3 == 0 ? INT32_MAX : j % 3 == 1 ? INT32_MIN : INT32_MAX - 3000 * j;
    w_scale[j] = 1.0f;
  }
  for (s = 0; s < 3; ++s)
  for (out_signed = 0; out_signed < 2; ++out_signed)
    for (z = 0; z < 2; ++z)
      for (mode = 0; mode < 2; ++mode) {
        const qk_dtype odt = out_signed ? QK_DTYPE_S8 : QK_DTYPE_U8;
        qk_qparams* wqp = per_tensor_qparams(QK_DTYPE_S8, 1.0f, 0);
        qk_qparams* aqp = per_tensor_qparams(QK_DTYPE_U8, 1.0f, 7);
        qk_qparams* oqp = per_tensor_qparams(odt, out_scales[s], zps[out_signed][z]);
        qk_packed_weights* pw = NULL;
        qk_qlinear* op = NULL;
        qk_oracle_linear o;
        assert_ok(qk_packed_weights_create(w, N, K, K, wqp, bias, QK_DTYPE_S32, &pw));
        assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_QUANTIZED, oqp, -INFINITY, INFINITY, (qk_requant_mode)mode, &op));
        assert_ok(qk_qlinear_run(op, M, a, K, sizeof a, got, N, sizeof got, NULL));
        memset(&o, 0, sizeof o);
        o.m = M;
        o.n = N;
        o.k = K;
        o.a = a;
        o.lda = K;
        o.a_zp = 7;
        o.a_scale = 1.0f;
        o.w = w;
        o.ldw = K;
        o.w_scale = w_scale;
        o.bias_s32 = bias;
        o.kind = QK_OUTPUT_QUANTIZED;
        o.out_signed = out_signed;
        o.out_scale = out_scales[s];
        o.out_zp = zps[out_signed][z];
        o.mode = (qk_requant_mode)mode;
        o.out_min = -INFINITY;
        o.out_max = INFINITY;
        qk_oracle_linear_run(&o, want, N);
        assert_memory_equal(got, want, sizeof got);
        /* column 0 holds INT32_MAX: the top of the output range (except for a tiny M, and for a
         * huge fixed-point M, where x * 2^30 wraps as documented in qgemm_kernel.h) */
        if (s == 0 || (s == 1 && mode == QK_REQUANT_FLOAT))
          assert_int_equal(out_signed ? (int)((int8_t*)got)[0] : (int)got[0], out_signed ? 127 : 255);
        qk_qlinear_destroy(op);
        qk_packed_weights_destroy(pw);
        qk_qparams_destroy(wqp);
        qk_qparams_destroy(aqp);
        qk_qparams_destroy(oqp);
      }
}

/* Every output kind x dtype x requant mode x clamp x weight kind x activation dtype on one shape. */
static void test_qgemm_all_output_modes(void** state) {
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  qk_test_rng rng = {0x5EED0005u};
  int which, clamp_try, per_channel, a_signed, failures = 0;
  (void)state;
  for (which = 0; which < 6; ++which)
    for (clamp_try = 0; clamp_try < 8; ++clamp_try)
      for (per_channel = 0; per_channel < 2; ++per_channel)
        for (a_signed = 0; a_signed < 2; ++a_signed) {
          gemm_case c = base_case(13, 37, 71);
          randomize_params(&c, &rng);
          c.per_channel = per_channel;
          c.w_zp = per_channel ? 0 : -37;
          c.a_dtype = a_signed ? QK_DTYPE_S8 : QK_DTYPE_U8;
          c.a_zp = a_signed ? -5 : 131;
          set_output_mode(&c, which, &rng);
          failures += run_case(&c, &rng, NULL);
        }
  assert_int_equal(failures, 0);
}

/* Clamps hold as real values: ReLU6 f32 outputs stay in [0, 6], ReLU u8 outputs >= zero point. */
static void test_qgemm_clamp_values(void** state) {
  enum { M = 8, N = 16, K = 32 };
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  uint8_t a[M * K];
  int8_t w[N * K];
  float outf[M * N];
  uint8_t outq[M * N];
  qk_test_rng rng = {0x5EED0006u};
  qk_qparams* wqp = per_tensor_qparams(QK_DTYPE_S8, 0.05f, 0);
  qk_qparams* aqp = per_tensor_qparams(QK_DTYPE_U8, 0.05f, 128);
  qk_qparams* oqp = per_tensor_qparams(QK_DTYPE_U8, 0.1f, 120);
  qk_packed_weights* pw = NULL;
  qk_qlinear* op = NULL;
  int i, below = 0, above = 0;
  (void)state;
  fill_bytes(&rng, a, sizeof a, FILL_RANDOM, 0, K);
  fill_bytes(&rng, (uint8_t*)w, sizeof w, FILL_RANDOM, 1, K);
  assert_ok(qk_packed_weights_create(w, N, K, K, wqp, NULL, QK_DTYPE_F32, &pw));
  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_F32, NULL, 0.0f, 6.0f, QK_REQUANT_FLOAT, &op));
  assert_ok(qk_qlinear_run(op, M, a, K, sizeof a, outf, N, sizeof outf, NULL));
  for (i = 0; i < M * N; ++i) {
    assert_true(outf[i] >= 0.0f && outf[i] <= 6.0f);
    below += outf[i] == 0.0f;
    above += outf[i] == 6.0f;
  }
  assert_true(below > 0 && above > 0); /* the data reaches both bounds, so the clamp did work */
  qk_qlinear_destroy(op);
  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_QUANTIZED, oqp, 0.0f, INFINITY, QK_REQUANT_FIXED_POINT, &op));
  assert_ok(qk_qlinear_run(op, M, a, K, sizeof a, outq, N, sizeof outq, NULL));
  below = 0;
  for (i = 0; i < M * N; ++i) {
    assert_true(outq[i] >= 120);
    below += outq[i] == 120;
  }
  assert_true(below > 0);
  qk_qlinear_destroy(op);
  qk_packed_weights_destroy(pw);
  qk_qparams_destroy(wqp);
  qk_qparams_destroy(aqp);
  qk_qparams_destroy(oqp);
}

/* No pool and pools of 1, 2 and 3 threads write identical bytes, for every output kind and for
 * GEMV-like, square and tall shapes (each split differently across tasks). */
static void test_qgemm_thread_counts_identical(void** state) {
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  static const int64_t shapes[][3] = {{1, 300, 77}, {130, 45, 300}, {257, 129, 64}, {3, 1000, 5}};
  qk_test_rng rng = {0x5EED0007u};
  qk_threadpool* pools[4] = {NULL, NULL, NULL, NULL};
  size_t s, p, count;
  int which;
  (void)state;
  for (p = 1; p < 4; ++p) {
    assert_ok(qk_threadpool_create(p, &pools[p]));
    assert_ok(qk_threadpool_get_thread_count(pools[p], &count));
    assert_int_equal(count, p);
  }
  for (s = 0; s < 4; ++s)
    for (which = 0; which < 6; ++which) {
      const int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
      const size_t es = which >= 2 ? 1 : 4;
      uint8_t* a = malloc((size_t)(m * k));
      int8_t* w = malloc((size_t)(n * k));
      uint8_t* outs[4];
      qk_qparams* wqp = per_tensor_qparams(QK_DTYPE_S8, 0.01f, 3);
      qk_qparams* aqp = per_tensor_qparams(QK_DTYPE_S8, 0.02f, -7);
      qk_qparams* oqp = which >= 2 ? per_tensor_qparams(which % 2 ? QK_DTYPE_S8 : QK_DTYPE_U8, 0.3f, 1) : NULL;
      qk_packed_weights* pw = NULL;
      qk_qlinear* op = NULL;
      assert_non_null(a);
      assert_non_null(w);
      fill_bytes(&rng, a, (size_t)(m * k), FILL_RANDOM, 1, (size_t)k);
      fill_bytes(&rng, (uint8_t*)w, (size_t)(n * k), FILL_RANDOM, 1, (size_t)k);
      assert_ok(qk_packed_weights_create(w, n, k, k, wqp, NULL, QK_DTYPE_F32, &pw));
      assert_ok(qk_qlinear_create(pw, aqp, which == 0 ? QK_OUTPUT_S32 : which == 1 ? QK_OUTPUT_F32 : QK_OUTPUT_QUANTIZED,
                                  oqp, -INFINITY, INFINITY, which >= 4 ? QK_REQUANT_FIXED_POINT : QK_REQUANT_FLOAT, &op));
      for (p = 0; p < 4; ++p) {
        outs[p] = malloc((size_t)(m * n) * es);
        assert_non_null(outs[p]);
        assert_ok(qk_qlinear_run(op, m, a, k, (size_t)(m * k), outs[p], n, (size_t)(m * n) * es, pools[p]));
        if (p > 0) assert_memory_equal(outs[p], outs[0], (size_t)(m * n) * es);
      }
      for (p = 0; p < 4; ++p) free(outs[p]);
      qk_qlinear_destroy(op);
      qk_packed_weights_destroy(pw);
      qk_qparams_destroy(wqp);
      qk_qparams_destroy(aqp);
      qk_qparams_destroy(oqp);
      free(a);
      free(w);
    }
  for (p = 1; p < 4; ++p) qk_threadpool_destroy(pools[p]);
}

/* What each thread of the concurrency test runs. */
typedef struct concurrent_job {
  const qk_qlinear* op;
  qk_threadpool* pool;
  const uint8_t* a;
  const uint8_t* expected;
  int64_t m, n, k;
  int mismatches;
} concurrent_job;

static void* concurrent_worker(void* arg) {
  concurrent_job* job = (concurrent_job*)arg;
  uint8_t* out = malloc((size_t)(job->m * job->n));
  int r;
  if (!out) {
    job->mismatches = -1;
    return NULL;
  }
  for (r = 0; r < 20; ++r) {
    if (qk_qlinear_run(job->op, job->m, job->a, job->k, (size_t)(job->m * job->k), out, job->n,
                       (size_t)(job->m * job->n), job->pool) != QK_OK ||
        memcmp(out, job->expected, (size_t)(job->m * job->n)) != 0)
      ++job->mismatches;
  }
  free(out);
  return NULL;
}

/* One operator run from four threads at once, two sharing a 2-thread pool (their runs are
 * serialized) and two without a pool: every run gives the single-threaded bytes. */
static void test_qlinear_concurrent_runs(void** state) {
  enum { M = 70, N = 90, K = 110, THREADS = 4 };
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  qk_test_rng rng = {0x5EED000Au};
  uint8_t* a = malloc(M * K);
  int8_t* w = malloc(N * K);
  uint8_t* expected = malloc(M * N);
  qk_qparams* wqp = per_tensor_qparams(QK_DTYPE_S8, 0.01f, 0);
  qk_qparams* aqp = per_tensor_qparams(QK_DTYPE_U8, 0.02f, 120);
  qk_qparams* oqp = per_tensor_qparams(QK_DTYPE_U8, 0.2f, 128);
  qk_packed_weights* pw = NULL;
  qk_qlinear* op = NULL;
  qk_threadpool* pool = NULL;
  pthread_t threads[THREADS];
  concurrent_job jobs[THREADS];
  int t;
  (void)state;
  assert_non_null(a);
  assert_non_null(w);
  assert_non_null(expected);
  fill_bytes(&rng, a, M * K, FILL_RANDOM, 0, K);
  fill_bytes(&rng, (uint8_t*)w, N * K, FILL_RANDOM, 1, K);
  assert_ok(qk_packed_weights_create(w, N, K, K, wqp, NULL, QK_DTYPE_F32, &pw));
  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_QUANTIZED, oqp, -INFINITY, INFINITY, QK_REQUANT_FLOAT, &op));
  assert_ok(qk_qlinear_run(op, M, a, K, M * K, expected, N, M * N, NULL));
  assert_ok(qk_threadpool_create(2, &pool));
  for (t = 0; t < THREADS; ++t) {
    concurrent_job job = {op, t < 2 ? pool : NULL, a, expected, M, N, K, 0};
    jobs[t] = job;
    assert_int_equal(pthread_create(&threads[t], NULL, concurrent_worker, &jobs[t]), 0);
  }
  for (t = 0; t < THREADS; ++t) {
    assert_int_equal(pthread_join(threads[t], NULL), 0);
    assert_int_equal(jobs[t].mismatches, 0);
  }
  qk_threadpool_destroy(pool);
  qk_qlinear_destroy(op);
  qk_packed_weights_destroy(pw);
  qk_qparams_destroy(wqp);
  qk_qparams_destroy(aqp);
  qk_qparams_destroy(oqp);
  free(a);
  free(w);
  free(expected);
}

/* Dynamic linear (u8/s8, per tensor/per row, with and without bias, per-tensor weights with a
 * zero point and per-channel weights) equals qk_qparams_from_tensor + qk_quantize + the oracle's
 * f32 path, bit for bit, with strided input and output. */
static void test_dynamic_linear_matches_reference(void** state) {
  enum { M = 11, N = 19, K = 45, LDX = 50, LDY = 23 };
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  qk_test_rng rng = {0x5EED0008u};
  float x[M * LDX], bias[N], w_scale[N], got[M * LDY], want[M * LDY], dense[M * K];
  int8_t w[N * K];
  int act, per_row, with_bias, per_channel;
  qk_threadpool* pool = NULL;
  (void)state;
  assert_ok(qk_threadpool_create(2, &pool));
  for (act = 0; act < 2; ++act)
    for (per_row = 0; per_row < 2; ++per_row)
      for (with_bias = 0; with_bias < 2; ++with_bias)
        for (per_channel = 0; per_channel < 2; ++per_channel) {
          const qk_dtype dtype = act ? QK_DTYPE_S8 : QK_DTYPE_U8;
          const int64_t shape[2] = {M, K};
          const int32_t w_zp = per_channel ? 0 : 9;
          qk_quant_spec* spec = qk_test_spec(dtype, per_row ? QK_QSCHEME_PER_CHANNEL_AFFINE : QK_QSCHEME_PER_TENSOR_AFFINE);
          qk_qparams *xqp = NULL, *wqp;
          qk_packed_weights* pw = NULL;
          qk_dynamic_linear* op = NULL;
          uint8_t q[M * K];
          float scales[M];
          int32_t zps[M];
          int i, j;
          for (i = 0; i < M * LDX; ++i) x[i] = qk_test_uniform(&rng, -3.0f, 5.0f) * (1.0f + (float)(i / LDX));
          for (i = 0; i < M; ++i)
            for (j = 0; j < K; ++j) dense[i * K + j] = x[i * LDX + j];
          fill_bytes(&rng, (uint8_t*)w, sizeof w, FILL_RANDOM, 1, K);
          for (j = 0; j < N; ++j) {
            bias[j] = qk_test_uniform(&rng, -2.0f, 2.0f);
            w_scale[j] = per_channel ? qk_test_uniform(&rng, 0.005f, 0.05f) : 0.02f;
          }
          wqp = per_channel ? per_channel_qparams(w_scale, N) : per_tensor_qparams(QK_DTYPE_S8, 0.02f, w_zp);
          assert_ok(qk_packed_weights_create(w, N, K, K, wqp, with_bias ? bias : NULL, QK_DTYPE_F32, &pw));
          assert_ok(qk_dynamic_linear_create(pw, dtype, per_row, &op));
          memset(got, 0x5A, sizeof got);
          memset(want, 0x5A, sizeof want);
          assert_ok(qk_dynamic_linear_run(op, M, x, LDX, M * LDX, got, LDY, M * LDY, (per_channel ? pool : NULL)));

          /* the reference: documented public calls, then the oracle row by row */
          if (per_row) assert_ok(qk_quant_spec_set_axis(spec, 0));
          assert_ok(qk_qparams_from_tensor(spec, dense, shape, 2, &xqp, NULL));
          assert_ok(qk_quantize(xqp, dense, shape, 2, q, sizeof q, NULL));
          assert_ok(qk_qparams_get_scales(xqp, scales, M));
          assert_ok(qk_qparams_get_zero_points(xqp, zps, M));
          for (i = 0; i < M; ++i) {
            qk_oracle_linear o;
            memset(&o, 0, sizeof o);
            o.m = 1;
            o.n = N;
            o.k = K;
            o.a = q + i * K;
            o.lda = K;
            o.a_signed = act;
            o.a_zp = zps[per_row ? i : 0];
            o.a_scale = scales[per_row ? i : 0];
            o.w = w;
            o.ldw = K;
            o.w_scale = w_scale;
            o.w_zp = w_zp;
            o.bias_f32 = with_bias ? bias : NULL;
            o.kind = QK_OUTPUT_F32;
            o.out_min = -INFINITY;
            o.out_max = INFINITY;
            qk_oracle_linear_run(&o, want + i * LDY, LDY);
          }
          assert_memory_equal(got, want, sizeof got);
          qk_dynamic_linear_destroy(op);
          qk_packed_weights_destroy(pw);
          qk_qparams_destroy(wqp);
          qk_qparams_destroy(xqp);
          qk_quant_spec_destroy(spec);
        }
  qk_threadpool_destroy(pool);
}

/* Dynamic linear rejects NaN and +-Inf inputs without touching the output, and s32 biases. */
static void test_dynamic_linear_rejects_nonfinite(void** state) {
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  float x[2 * 4] = {1, 2, 3, 4, 5, 6, 7, 8}, y[2 * 3], y0[2 * 3];
  const int8_t w[3 * 4] = {1, 2, 3, 4, -1, -2, -3, -4, 0, 0, 0, 127};
  const int32_t bias_s32[3] = {1, 2, 3};
  const float bad[3] = {NAN, INFINITY, -INFINITY};
  qk_qparams* wqp = per_tensor_qparams(QK_DTYPE_S8, 0.1f, 0);
  qk_packed_weights *pw = NULL, *pw32 = NULL;
  qk_dynamic_linear* op = NULL;
  int i;
  (void)state;
  assert_ok(qk_packed_weights_create(w, 3, 4, 4, wqp, NULL, QK_DTYPE_F32, &pw));
  assert_ok(qk_dynamic_linear_create(pw, QK_DTYPE_U8, 0, &op));
  for (i = 0; i < 3; ++i) {
    x[6] = bad[i];
    memset(y, 0x77, sizeof y);
    memcpy(y0, y, sizeof y);
    assert_status(qk_dynamic_linear_run(op, 2, x, 4, 8, y, 3, 6, NULL), QK_ERR_INVALID_ARGUMENT);
    assert_error_mentions("not finite");
    assert_memory_equal(y, y0, sizeof y);
  }
  x[6] = 7.0f;
  assert_ok(qk_dynamic_linear_run(op, 2, x, 4, 8, y, 3, 6, NULL));
  /* row 1 is [5,6,7,8], weight row 0 is [1,2,3,4]*0.1: 7.0 in float, within a quantization step */
  assert_true(fabsf(y[3] - 7.0f) < 0.1f);
  qk_dynamic_linear_destroy(op);
  assert_ok(qk_packed_weights_create(w, 3, 4, 4, wqp, bias_s32, QK_DTYPE_S32, &pw32));
  op = (qk_dynamic_linear*)&i; /* must stay untouched on error */
  assert_status(qk_dynamic_linear_create(pw32, QK_DTYPE_U8, 0, &op), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("f32 bias");
  assert_ptr_equal(op, &i);
  assert_status(qk_dynamic_linear_create(pw, QK_DTYPE_F32, 0, &op), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("activation_dtype");
  qk_packed_weights_destroy(pw);
  qk_packed_weights_destroy(pw32);
  qk_qparams_destroy(wqp);
}

/* Thread pools: 0 means one thread per online core; counts are reported; absurd counts and NULLs
 * are rejected with a message. */
static void test_threadpool_create_and_count(void** state) {
  qk_threadpool* pool = NULL;
  size_t count = 0;
  (void)state;
  assert_ok(qk_threadpool_create(0, &pool));
  assert_ok(qk_threadpool_get_thread_count(pool, &count));
  assert_true(count >= 1);
  qk_threadpool_destroy(pool);
  assert_ok(qk_threadpool_create(1, &pool));
  assert_ok(qk_threadpool_get_thread_count(pool, &count));
  assert_int_equal(count, 1);
  assert_status(qk_threadpool_get_thread_count(pool, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("count_out");
  qk_threadpool_destroy(pool);
  pool = NULL;
  assert_status(qk_threadpool_create(1000000, &pool), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("thread_count");
  assert_null(pool);
  assert_status(qk_threadpool_create(2, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_threadpool_get_thread_count(NULL, &count), QK_ERR_INVALID_ARGUMENT);
  qk_threadpool_destroy(NULL);
}

/* Packed-weight creation rejects every malformed argument with a precise status and message and
 * leaves the out-pointer untouched. */
static void test_packed_weights_errors(void** state) {
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  int8_t w[4 * 8] = {0};
  const float scales4[4] = {0.1f, 0.2f, 0.3f, 0.4f};
  const float nan_bias[4] = {0, NAN, 0, 0};
  const int32_t zps_asym[4] = {0, 1, 0, 0};
  const int32_t zps4[4] = {0, 0, 0, 0};
  qk_qparams* wqp = per_tensor_qparams(QK_DTYPE_S8, 0.1f, 0);
  qk_qparams* u8qp = per_tensor_qparams(QK_DTYPE_U8, 0.1f, 0);
  qk_qparams *pc_axis1 = NULL, *pc_asym = NULL, *pc_count = NULL;
  qk_packed_weights* sentinel = (qk_packed_weights*)&w[0];
  qk_packed_weights* pw = sentinel;
  int8_t* big;
  (void)state;
  assert_ok(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 1, 1, scales4, zps4, NULL, 4, -128, 127,
                              &pc_axis1));
  assert_ok(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_AFFINE, 0, 1, scales4, zps_asym, NULL, 4, -128, 127,
                              &pc_asym));
  assert_ok(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 0, 1, scales4, zps4, NULL, 3, -128, 127,
                              &pc_count));
#define EXPECT_FAIL(call, status, needle) \
  do {                                    \
    assert_status(call, status);          \
    assert_error_mentions(needle);        \
    assert_ptr_equal(pw, sentinel);       \
  } while (0)
  EXPECT_FAIL(qk_packed_weights_create(NULL, 4, 8, 8, wqp, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT, "weights");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 8, 8, NULL, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT,
              "weight_qparams");
  assert_status(qk_packed_weights_create(w, 4, 8, 8, wqp, NULL, QK_DTYPE_F32, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("weights_out");
  EXPECT_FAIL(qk_packed_weights_create(w, 0, 8, 8, wqp, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT, "n 0");
  EXPECT_FAIL(qk_packed_weights_create(w, -1, 8, 8, wqp, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT, "n -1");
  EXPECT_FAIL(qk_packed_weights_create(w, (int64_t)1 << 31, 8, 8, wqp, NULL, QK_DTYPE_F32, &pw),
              QK_ERR_INVALID_ARGUMENT, "2^31");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 0, 8, wqp, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT, "k 0");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 65537, 65537, wqp, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT,
              "65536");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 8, 7, wqp, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT, "ldw");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 8, 8, u8qp, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT, "s8");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 8, 8, pc_axis1, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT,
              "axis 1");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 8, 8, pc_asym, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT,
              "symmetric");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 8, 8, pc_count, NULL, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT,
              "3 per-channel scales");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 8, 8, wqp, nan_bias, QK_DTYPE_F32, &pw), QK_ERR_INVALID_ARGUMENT,
              "bias[1]");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 8, 8, wqp, NULL, QK_DTYPE_S8, &pw), QK_ERR_INVALID_ARGUMENT,
              "bias_dtype");
  EXPECT_FAIL(qk_packed_weights_create(w, 4, 8, 8, wqp, NULL, (qk_dtype)12345, &pw), QK_ERR_INVALID_ARGUMENT,
              "bias_dtype");
  /* k = 65536 exactly is allowed */
  big = calloc(65536, 1);
  assert_non_null(big);
  assert_ok(qk_packed_weights_create(big, 1, 65536, 65536, wqp, NULL, QK_DTYPE_F32, &pw));
  qk_packed_weights_destroy(pw);
  free(big);
  qk_packed_weights_destroy(NULL);
  pw = sentinel;
  assert_status(qk_packed_weights_get_shape(NULL, NULL, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_packed_weights_get_isa(NULL, NULL), QK_ERR_INVALID_ARGUMENT);
#undef EXPECT_FAIL
  qk_qparams_destroy(wqp);
  qk_qparams_destroy(u8qp);
  qk_qparams_destroy(pc_axis1);
  qk_qparams_destroy(pc_asym);
  qk_qparams_destroy(pc_count);
}

/* Operator creation and run reject malformed arguments precisely; outputs stay untouched. */
static void test_qlinear_errors(void** state) {
  enum { M = 3, N = 4, K = 8 };
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  uint8_t a[M * K] = {0};
  int8_t w[N * K] = {0};
  uint8_t out[M * N * 4], out0[M * N * 4];
  qk_qparams* wqp = per_tensor_qparams(QK_DTYPE_S8, 0.1f, 0);
  qk_qparams* aqp = per_tensor_qparams(QK_DTYPE_U8, 0.1f, 3);
  qk_qparams* oqp = per_tensor_qparams(QK_DTYPE_S8, 0.1f, 0);
  qk_qparams* tiny = per_tensor_qparams(QK_DTYPE_U8, 1e-30f, 0);
  qk_qparams* tiny_w = per_tensor_qparams(QK_DTYPE_S8, 1e-20f, 0);
  qk_qparams* s32qp = NULL;
  qk_qparams* pc_out = NULL;
  const float one = 1.0f;
  const int32_t zero = 0;
  const float two[2] = {1.0f, 1.0f};
  const int32_t zeros2[2] = {0, 0};
  qk_packed_weights* pw = NULL;
  qk_packed_weights* pw_tiny = NULL;
  qk_qlinear* sentinel = (qk_qlinear*)&a[0];
  qk_qlinear* op = sentinel;
  qk_qlinear* good = NULL;
  qk_qlinear* good_q = NULL;
  (void)state;
  assert_ok(qk_qparams_create(QK_DTYPE_S32, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &one, &zero, NULL, 1, INT32_MIN,
                              INT32_MAX, &s32qp));
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE, 0, 1, two, zeros2, NULL, 2, 0, 255, &pc_out));
  assert_ok(qk_packed_weights_create(w, N, K, K, wqp, NULL, QK_DTYPE_F32, &pw));
  assert_ok(qk_packed_weights_create(w, N, K, K, tiny_w, NULL, QK_DTYPE_F32, &pw_tiny));
#define EXPECT_CREATE_FAIL(call, needle)      \
  do {                                        \
    assert_status(call, QK_ERR_INVALID_ARGUMENT); \
    assert_error_mentions(needle);            \
    assert_ptr_equal(op, sentinel);           \
  } while (0)
  EXPECT_CREATE_FAIL(qk_qlinear_create(NULL, aqp, QK_OUTPUT_S32, NULL, -INFINITY, INFINITY, 0, &op), "weights");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, NULL, QK_OUTPUT_S32, NULL, -INFINITY, INFINITY, 0, &op), "input_qparams");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, s32qp, QK_OUTPUT_S32, NULL, -INFINITY, INFINITY, 0, &op),
                     "input_qparams");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, aqp, (qk_output_kind)0, NULL, -INFINITY, INFINITY, 0, &op), "output_kind");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, aqp, QK_OUTPUT_S32, NULL, -INFINITY, INFINITY, (qk_requant_mode)2, &op),
                     "mode");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, aqp, QK_OUTPUT_F32, oqp, -INFINITY, INFINITY, 0, &op), "output_qparams");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, aqp, QK_OUTPUT_S32, oqp, -INFINITY, INFINITY, 0, &op), "output_qparams");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, aqp, QK_OUTPUT_QUANTIZED, NULL, -INFINITY, INFINITY, 0, &op),
                     "output_qparams");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, aqp, QK_OUTPUT_QUANTIZED, s32qp, -INFINITY, INFINITY, 0, &op),
                     "output_qparams");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, aqp, QK_OUTPUT_QUANTIZED, pc_out, -INFINITY, INFINITY, 0, &op),
                     "per-tensor");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, aqp, QK_OUTPUT_S32, NULL, 0.0f, INFINITY, 0, &op), "s32");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, aqp, QK_OUTPUT_F32, NULL, NAN, INFINITY, 0, &op), "NaN");
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw, aqp, QK_OUTPUT_F32, NULL, 1.0f, 0.0f, 0, &op), "greater");
  /* 1e-30 * 1e-20 underflows to 0 in float: no usable accumulator scale */
  EXPECT_CREATE_FAIL(qk_qlinear_create(pw_tiny, tiny, QK_OUTPUT_F32, NULL, -INFINITY, INFINITY, 0, &op), "non-zero");
  assert_status(qk_qlinear_create(pw, aqp, QK_OUTPUT_S32, NULL, -INFINITY, INFINITY, 0, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("op_out");
#undef EXPECT_CREATE_FAIL

  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_S32, NULL, -INFINITY, INFINITY, 0, &good));
  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_QUANTIZED, oqp, -INFINITY, INFINITY, 0, &good_q));
  memset(out, 0x3C, sizeof out);
  memcpy(out0, out, sizeof out);
#define EXPECT_RUN_FAIL(call, needle)         \
  do {                                        \
    assert_status(call, QK_ERR_INVALID_ARGUMENT); \
    assert_error_mentions(needle);            \
    assert_memory_equal(out, out0, sizeof out); \
  } while (0)
  EXPECT_RUN_FAIL(qk_qlinear_run(NULL, M, a, K, sizeof a, out, N, sizeof out, NULL), "op");
  EXPECT_RUN_FAIL(qk_qlinear_run(good, -1, a, K, sizeof a, out, N, sizeof out, NULL), "m -1");
  EXPECT_RUN_FAIL(qk_qlinear_run(good, M, NULL, K, sizeof a, out, N, sizeof out, NULL), "input");
  EXPECT_RUN_FAIL(qk_qlinear_run(good, M, a, K, sizeof a, NULL, N, sizeof out, NULL), "output");
  EXPECT_RUN_FAIL(qk_qlinear_run(good, M, a, K - 1, sizeof a, out, N, sizeof out, NULL), "input_stride");
  EXPECT_RUN_FAIL(qk_qlinear_run(good, M, a, -5, sizeof a, out, N, sizeof out, NULL), "input_stride");
  EXPECT_RUN_FAIL(qk_qlinear_run(good, M, a, K, sizeof a, out, N - 1, sizeof out, NULL), "output_stride");
  EXPECT_RUN_FAIL(qk_qlinear_run(good, M, a, K, sizeof a - 1, out, N, sizeof out, NULL), "input_bytes");
  /* s32 needs 4 bytes per element: M*N bytes are not enough */
  EXPECT_RUN_FAIL(qk_qlinear_run(good, M, a, K, sizeof a, out, N, M * N, NULL), "output_bytes");
  EXPECT_RUN_FAIL(qk_qlinear_run(good, M, a, K, sizeof a, out, N, M * N * 4 - 1, NULL), "output_bytes");
  EXPECT_RUN_FAIL(qk_qlinear_run(good, M, a, INT64_MAX, SIZE_MAX, out, N, sizeof out, NULL), "input_stride");
  EXPECT_RUN_FAIL(qk_qlinear_run(good, INT64_MAX, a, (int64_t)1 << 40, SIZE_MAX, out, N, SIZE_MAX, NULL),
                  "too large");
  EXPECT_RUN_FAIL(qk_qlinear_run(good_q, 2, out, K, 2 * K, out + 4, N, 2 * N, NULL), "overlap");
#undef EXPECT_RUN_FAIL
  /* quantized output needs only 1 byte per element; m = 0 writes nothing and needs no buffers */
  assert_ok(qk_qlinear_run(good_q, M, a, K, sizeof a, out, N, M * N, NULL));
  assert_ok(qk_qlinear_run(good, 0, NULL, K, 0, NULL, N, 0, NULL));
  qk_qlinear_destroy(NULL);
  qk_qlinear_destroy(good);
  qk_qlinear_destroy(good_q);
  qk_packed_weights_destroy(pw);
  qk_packed_weights_destroy(pw_tiny);
  qk_qparams_destroy(wqp);
  qk_qparams_destroy(aqp);
  qk_qparams_destroy(oqp);
  qk_qparams_destroy(tiny);
  qk_qparams_destroy(tiny_w);
  qk_qparams_destroy(s32qp);
  qk_qparams_destroy(pc_out);
}

/* Dynamic linear run validates strides and element counts like qk_qlinear_run. */
static void test_dynamic_linear_errors(void** state) {
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  float x[2 * 4] = {0}, y[2 * 3], y0[2 * 3];
  const int8_t w[3 * 4] = {0};
  qk_qparams* wqp = per_tensor_qparams(QK_DTYPE_S8, 0.1f, 0);
  qk_packed_weights* pw = NULL;
  qk_dynamic_linear* op = NULL;
  (void)state;
  assert_ok(qk_packed_weights_create(w, 3, 4, 4, wqp, NULL, QK_DTYPE_F32, &pw));
  assert_status(qk_dynamic_linear_create(NULL, QK_DTYPE_U8, 0, &op), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_dynamic_linear_create(pw, QK_DTYPE_U8, 0, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_dynamic_linear_create(pw, (qk_dtype)99, 0, &op), QK_ERR_INVALID_ARGUMENT);
  assert_ok(qk_dynamic_linear_create(pw, QK_DTYPE_S8, 1, &op));
  memset(y, 0x11, sizeof y);
  memcpy(y0, y, sizeof y);
  assert_status(qk_dynamic_linear_run(op, 2, x, 3, 8, y, 3, 6, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("input_stride");
  assert_status(qk_dynamic_linear_run(op, 2, x, 4, 7, y, 3, 6, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("input_count");
  assert_status(qk_dynamic_linear_run(op, 2, x, 4, 8, y, 3, 5, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("output_count");
  assert_status(qk_dynamic_linear_run(op, 2, x, 4, 8, y, 2, 6, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("output_stride");
  assert_status(qk_dynamic_linear_run(op, 2, x, 4, 8, NULL, 3, 6, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_dynamic_linear_run(op, 2, x, 4, 8, x, 3, 6, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_error_mentions("overlap");
  assert_memory_equal(y, y0, sizeof y);
  /* an all-zero input is fine (scale eps, zero point at 0): outputs are exactly 0 */
  assert_ok(qk_dynamic_linear_run(op, 2, x, 4, 8, y, 3, 6, NULL));
  assert_true(y[0] == 0.0f && y[5] == 0.0f);
  qk_dynamic_linear_destroy(op);
  qk_dynamic_linear_destroy(NULL);
  qk_packed_weights_destroy(pw);
  qk_qparams_destroy(wqp);
}

/* Operators outlive the packed-weights handle and are shared: two operators from one weights
 * handle, the handle destroyed, both still run and agree. */
static void test_qlinear_shares_weights(void** state) {
  enum { M = 5, N = 7, K = 9 };
  REQUIRE_PATH(); /* first: skip() does not return, so nothing may be allocated yet */
  uint8_t a[M * K];
  int8_t w[N * K];
  int32_t out1[M * N], out2[M * N];
  qk_test_rng rng = {0x5EED0009u};
  qk_qparams* wqp = per_tensor_qparams(QK_DTYPE_S8, 0.1f, -3);
  qk_qparams* aqp = per_tensor_qparams(QK_DTYPE_U8, 0.1f, 77);
  qk_packed_weights* pw = NULL;
  qk_qlinear *op1 = NULL, *op2 = NULL;
  (void)state;
  fill_bytes(&rng, a, sizeof a, FILL_RANDOM, 0, K);
  fill_bytes(&rng, (uint8_t*)w, sizeof w, FILL_RANDOM, 1, K);
  assert_ok(qk_packed_weights_create(w, N, K, K, wqp, NULL, QK_DTYPE_F32, &pw));
  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_S32, NULL, -INFINITY, INFINITY, 0, &op1));
  assert_ok(qk_qlinear_create(pw, aqp, QK_OUTPUT_S32, NULL, -INFINITY, INFINITY, 1, &op2));
  qk_packed_weights_destroy(pw);
  assert_ok(qk_qlinear_run(op1, M, a, K, sizeof a, out1, N, sizeof out1, NULL));
  assert_ok(qk_qlinear_run(op2, M, a, K, sizeof a, out2, N, sizeof out2, NULL));
  assert_memory_equal(out1, out2, sizeof out1);
  qk_qlinear_destroy(op1);
  qk_qlinear_destroy(op2);
  qk_qparams_destroy(wqp);
  qk_qparams_destroy(aqp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threadpool_create_and_count),
      cmocka_unit_test(test_qgemm_known_values),
      cmocka_unit_test(test_qgemm_exhaustive_small_shapes),
      cmocka_unit_test(test_qgemm_block_edge_sizes),
      cmocka_unit_test(test_qgemm_random_shapes),
      cmocka_unit_test(test_qgemm_extreme_fills),
      cmocka_unit_test(test_qgemm_all_output_modes),
      cmocka_unit_test(test_qgemm_requant_saturation),
      cmocka_unit_test(test_qgemm_clamp_values),
      cmocka_unit_test(test_qgemm_thread_counts_identical),
      cmocka_unit_test(test_qlinear_shares_weights),
      cmocka_unit_test(test_qlinear_concurrent_runs),
      cmocka_unit_test(test_dynamic_linear_matches_reference),
      cmocka_unit_test(test_dynamic_linear_rejects_nonfinite),
      cmocka_unit_test(test_packed_weights_errors),
      cmocka_unit_test(test_qlinear_errors),
      cmocka_unit_test(test_dynamic_linear_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
