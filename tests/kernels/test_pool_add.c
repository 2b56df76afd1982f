/* SPDX-License-Identifier: Apache-2.0 */
/* int8 max / average / global-average pooling, quantized add and the NCHW <-> NHWC converters:
 * hand-computed values (padding, dilation, count_include_pad, ties rounding to even, clamps),
 * random shapes against naive oracles written here, and argument errors that leave outputs
 * untouched. The layout converters dispatch to the active kernel path, so under a QK_ISA this
 * CPU lacks they must fail with QK_ERR_UNSUPPORTED. */
#include <math.h>
#include <stdlib.h>

#include "qk_test_util.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int32_t rand_int(qk_test_rng* rng, int32_t lo, int32_t hi) { /* inclusive */
  return lo + (int32_t)(qk_test_next(rng) % (uint64_t)(hi - lo + 1));
}

static qk_qparams* act_qparams(qk_dtype dtype, float scale, int32_t zp) {
  qk_qparams* qp = NULL;
  const int s = dtype == QK_DTYPE_S8;
  assert_ok(qk_qparams_create(dtype, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp, NULL, 1, s ? -128 : 0,
                              s ? 127 : 255, &qp));
  return qp;
}

static int32_t code_at(const void* p, size_t i, int is_signed) {
  return is_signed ? (int32_t)((const int8_t*)p)[i] : (int32_t)((const uint8_t*)p)[i];
}

static int32_t clamp_code(float r, int32_t lo, int32_t hi) {
  return r < (float)lo ? lo : (r > (float)hi ? hi : (int32_t)r);
}

/* ---- pooling oracles ------------------------------------------------------------------------- */

typedef struct pool_geom {
  int64_t n, h, w, c, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
} pool_geom;

static int pool_out(const pool_geom* g, int64_t* oh, int64_t* ow) {
  const int64_t eh = (g->kh - 1) * g->dh + 1, ew = (g->kw - 1) * g->dw + 1;
  if (g->h + g->pt + g->pb < eh || g->w + g->pl + g->pr < ew) return 0;
  *oh = (g->h + g->pt + g->pb - eh) / g->sh + 1;
  *ow = (g->w + g->pl + g->pr - ew) / g->sw + 1;
  return 1;
}

/* Walks every window; *valid_out receives the number of real taps (0: all padding). */
static void max_pool_oracle(const pool_geom* g, const void* in, int is_signed, void* out, int* all_windows_valid) {
  int64_t oh, ow;
  assert_true(pool_out(g, &oh, &ow));
  *all_windows_valid = 1;
  for (int64_t b = 0; b < g->n; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t c = 0; c < g->c; ++c) {
          int32_t best = INT32_MIN;
          for (int64_t ky = 0; ky < g->kh; ++ky)
            for (int64_t kx = 0; kx < g->kw; ++kx) {
              const int64_t iy = oy * g->sh - g->pt + ky * g->dh, ix = ox * g->sw - g->pl + kx * g->dw;
              if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
              const int32_t v = code_at(in, (size_t)(((b * g->h + iy) * g->w + ix) * g->c + c), is_signed);
              if (v > best) best = v;
            }
          if (best == INT32_MIN) *all_windows_valid = 0;
          const size_t o = (size_t)(((b * oh + oy) * ow + ox) * g->c + c);
          if (is_signed)
            ((int8_t*)out)[o] = (int8_t)best;
          else
            ((uint8_t*)out)[o] = (uint8_t)best;
        }
}

static void avg_pool_oracle(const pool_geom* g, const void* in, int is_signed, float in_scale, int32_t in_zp,
                            float out_scale, int32_t out_zp, int include_pad, void* out) {
  int64_t oh, ow;
  assert_true(pool_out(g, &oh, &ow));
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  for (int64_t b = 0; b < g->n; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t c = 0; c < g->c; ++c) {
          int64_t sum = 0, valid = 0;
          for (int64_t ky = 0; ky < g->kh; ++ky)
            for (int64_t kx = 0; kx < g->kw; ++kx) {
              const int64_t iy = oy * g->sh - g->pt + ky, ix = ox * g->sw - g->pl + kx;
              if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) {
                sum += in_zp; /* a padded tap is a real zero */
                continue;
              }
              sum += code_at(in, (size_t)(((b * g->h + iy) * g->w + ix) * g->c + c), is_signed);
              ++valid;
            }
          const int64_t count = include_pad ? g->kh * g->kw : valid;
          if (!include_pad) sum -= (g->kh * g->kw - valid) * in_zp;
          const float r = nearbyintf((float)(sum - count * in_zp) * (in_scale / (out_scale * (float)count)));
          const int32_t v = clamp_code(r + (float)out_zp, lo, hi);
          const size_t o = (size_t)(((b * oh + oy) * ow + ox) * g->c + c);
          if (is_signed)
            ((int8_t*)out)[o] = (int8_t)v;
          else
            ((uint8_t*)out)[o] = (uint8_t)v;
        }
}

/* ---- max pooling ----------------------------------------------------------------------------- */

/* 2x2 stride-2 max pooling of a 4x4 two-channel s8 image, checked value by value. */
static void test_max_pool_hand_computed(void** state) {
  (void)state;
  int8_t in[4 * 4 * 2];
  for (int i = 0; i < 16; ++i) {
    in[2 * i] = (int8_t)(i * 7 % 16);   /* channel 0: a permutation of 0..15 */
    in[2 * i + 1] = (int8_t)(-100 + i); /* channel 1: negative, increasing */
  }
  /* channel 0 rows: [0 7 14 5] [12 3 10 1] [8 15 6 13] [4 11 2 9] */
  const int64_t shape[4] = {1, 4, 4, 2}, kernel[2] = {2, 2}, stride[2] = {2, 2}, pad[4] = {0, 0, 0, 0}, dil[2] = {1, 1};
  int8_t out[2 * 2 * 2];
  assert_ok(qk_max_pool2d(QK_DTYPE_S8, in, sizeof in, shape, kernel, stride, pad, dil, out, sizeof out));
  const int8_t want[8] = {12, -95, 14, -93, 15, -87, 13, -85};
  assert_memory_equal(out, want, sizeof want);
}

/* With padding 1 around an all-negative s8 image, padded taps never win (they would give 0). */
static void test_max_pool_padding_never_wins(void** state) {
  (void)state;
  int8_t in[3 * 3];
  for (int i = 0; i < 9; ++i) in[i] = (int8_t)(-90 + 10 * i); /* -90 .. -10 */
  const int64_t shape[4] = {1, 3, 3, 1}, kernel[2] = {3, 3}, stride[2] = {2, 2}, pad[4] = {1, 1, 1, 1}, dil[2] = {1, 1};
  int8_t out[4];
  assert_ok(qk_max_pool2d(QK_DTYPE_S8, in, sizeof in, shape, kernel, stride, pad, dil, out, sizeof out));
  /* windows centred on the corners: max of the 2x2 corner blocks */
  const int8_t want[4] = {-50, -40, -20, -10};
  assert_memory_equal(out, want, sizeof want);
}

/* A dilated 2x2 window (dilation 2) on 0..24 picks in[y][x], in[y][x+2], in[y+2][x], in[y+2][x+2]. */
static void test_max_pool_dilation(void** state) {
  (void)state;
  uint8_t in[25];
  for (int i = 0; i < 25; ++i) in[i] = (uint8_t)((i * 11) % 25); /* not monotonic */
  const int64_t shape[4] = {1, 5, 5, 1}, kernel[2] = {2, 2}, stride[2] = {1, 1}, pad[4] = {0, 0, 0, 0}, dil[2] = {2, 2};
  uint8_t out[9];
  assert_ok(qk_max_pool2d(QK_DTYPE_U8, in, sizeof in, shape, kernel, stride, pad, dil, out, sizeof out));
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x) {
      uint8_t m = in[y * 5 + x];
      const uint8_t others[3] = {in[y * 5 + x + 2], in[(y + 2) * 5 + x], in[(y + 2) * 5 + x + 2]};
      for (int k = 0; k < 3; ++k) m = others[k] > m ? others[k] : m;
      assert_int_equal(out[y * 3 + x], m);
    }
}

/* Random max-pool geometries match the oracle; those with a window entirely in padding are rejected. */
static void test_max_pool_random_matches_oracle(void** state) {
  (void)state;
  qk_test_rng rng = {0xA11CEull};
  int checked = 0, rejected = 0;
  for (int it = 0; it < 300; ++it) {
    pool_geom g;
    g.n = rand_int(&rng, 1, 2);
    g.h = rand_int(&rng, 1, 9);
    g.w = rand_int(&rng, 1, 9);
    g.c = rand_int(&rng, 1, 19);
    g.kh = rand_int(&rng, 1, 3);
    g.kw = rand_int(&rng, 1, 3);
    g.sh = rand_int(&rng, 1, 3);
    g.sw = rand_int(&rng, 1, 3);
    g.dh = rand_int(&rng, 1, 2);
    g.dw = rand_int(&rng, 1, 2);
    /* up to the kernel size: a pad equal to it puts a whole window in the padding */
    g.pt = rand_int(&rng, 0, (int32_t)g.kh);
    g.pl = rand_int(&rng, 0, (int32_t)g.kw);
    g.pb = rand_int(&rng, 0, (int32_t)g.kh);
    g.pr = rand_int(&rng, 0, (int32_t)g.kw);
    int64_t oh, ow;
    if (!pool_out(&g, &oh, &ow)) continue;
    const int is_signed = rand_int(&rng, 0, 1);
    const size_t in_n = (size_t)(g.n * g.h * g.w * g.c), out_n = (size_t)(g.n * oh * ow * g.c);
    uint8_t* in = malloc(in_n);
    uint8_t* want = malloc(out_n);
    uint8_t* got = malloc(out_n + 1);
    for (size_t i = 0; i < in_n; ++i) in[i] = (uint8_t)qk_test_next(&rng);
    int all_valid;
    max_pool_oracle(&g, in, is_signed, want, &all_valid);
    const int64_t shape[4] = {g.n, g.h, g.w, g.c}, kernel[2] = {g.kh, g.kw}, stride[2] = {g.sh, g.sw},
                  pad[4] = {g.pt, g.pl, g.pb, g.pr}, dil[2] = {g.dh, g.dw};
    memset(got, 0x77, out_n + 1);
    const qk_status s =
        qk_max_pool2d(is_signed ? QK_DTYPE_S8 : QK_DTYPE_U8, in, in_n, shape, kernel, stride, pad, dil, got, out_n);
    if (all_valid) {
      assert_ok(s);
      assert_memory_equal(got, want, out_n);
      ++checked;
    } else {
      assert_int_equal(s, QK_ERR_INVALID_ARGUMENT);
      for (size_t i = 0; i < out_n; ++i) assert_int_equal(got[i], 0x77);
      ++rejected;
    }
    assert_int_equal(got[out_n], 0x77);
    free(in);
    free(want);
    free(got);
  }
  assert_true(checked > 80);
  assert_true(rejected > 10);
}

/* ---- average pooling ------------------------------------------------------------------------- */

/* count_include_pad divides by the whole window, otherwise by the real taps; ties round to even. */
static void test_avg_pool_count_include_pad(void** state) {
  (void)state;
  const uint8_t in[4] = {1, 2, 3, 4};
  qk_qparams* qp = act_qparams(QK_DTYPE_U8, 1.0f, 0);
  const int64_t shape[4] = {1, 2, 2, 1}, kernel[2] = {2, 2}, stride[2] = {1, 1}, pad[4] = {1, 1, 0, 0};
  uint8_t out[4];
  assert_ok(qk_avg_pool2d(qp, qp, in, 4, shape, kernel, stride, pad, 1, out, 4));
  /* sums 1, 3, 4, 10 over 4 taps: 0.25, 0.75, 1, 2.5 */
  const uint8_t with_pad[4] = {0, 1, 1, 2};
  assert_memory_equal(out, with_pad, 4);
  assert_ok(qk_avg_pool2d(qp, qp, in, 4, shape, kernel, stride, pad, 0, out, 4));
  /* over 1, 2, 2, 4 real taps: 1, 1.5, 2, 2.5 */
  const uint8_t without_pad[4] = {1, 2, 2, 2};
  assert_memory_equal(out, without_pad, 4);
  qk_qparams_destroy(qp);

  /* zero points and scales: out = round((sum - count*10) * 0.5 / (0.25 * count)) + 3 */
  qk_qparams* in_qp = act_qparams(QK_DTYPE_S8, 0.5f, 10);
  qk_qparams* out_qp = act_qparams(QK_DTYPE_S8, 0.25f, 3);
  const int8_t sin[4] = {12, 13, 9, 127};
  const int64_t one[2] = {2, 2}, none[4] = {0, 0, 0, 0};
  int8_t sout[1];
  assert_ok(qk_avg_pool2d(in_qp, out_qp, sin, 4, shape, one, stride, none, 1, sout, 1));
  /* sum - 40 = 121, * 0.5 = 60.5 -> 60 (even), + 3 = 63 */
  assert_int_equal(sout[0], 63);
  qk_qparams_destroy(in_qp);
  qk_qparams_destroy(out_qp);
}

/* Random shapes / padding / both count_include_pad modes / zero points against the oracle. */
static void test_avg_pool_random_matches_oracle(void** state) {
  (void)state;
  qk_test_rng rng = {0xA5E7ull};
  int checked = 0;
  for (int it = 0; it < 200; ++it) {
    pool_geom g = {rand_int(&rng, 1, 2),
                   rand_int(&rng, 1, 8),
                   rand_int(&rng, 1, 8),
                   rand_int(&rng, 1, 17),
                   rand_int(&rng, 1, 3),
                   rand_int(&rng, 1, 3),
                   rand_int(&rng, 1, 2),
                   rand_int(&rng, 1, 2),
                   rand_int(&rng, 0, 1),
                   rand_int(&rng, 0, 1),
                   rand_int(&rng, 0, 1),
                   rand_int(&rng, 0, 1),
                   1,
                   1};
    int64_t oh, ow;
    if (!pool_out(&g, &oh, &ow)) continue;
    /* PyTorch's rule pad <= kernel / 2 keeps every window on the input */
    if (g.pt * 2 > g.kh || g.pb * 2 > g.kh || g.pl * 2 > g.kw || g.pr * 2 > g.kw) continue;
    const int is_signed = rand_int(&rng, 0, 1);
    const qk_dtype dt = is_signed ? QK_DTYPE_S8 : QK_DTYPE_U8;
    const float in_scale = qk_test_uniform(&rng, 0.01f, 0.1f), out_scale = qk_test_uniform(&rng, 0.01f, 0.1f);
    const int32_t in_zp = is_signed ? rand_int(&rng, -20, 20) : rand_int(&rng, 100, 150);
    const int32_t out_zp = is_signed ? rand_int(&rng, -20, 20) : rand_int(&rng, 100, 150);
    qk_qparams* in_qp = act_qparams(dt, in_scale, in_zp);
    qk_qparams* out_qp = act_qparams(dt, out_scale, out_zp);
    const size_t in_n = (size_t)(g.n * g.h * g.w * g.c), out_n = (size_t)(g.n * oh * ow * g.c);
    uint8_t* in = malloc(in_n);
    uint8_t* want = malloc(out_n);
    uint8_t* got = malloc(out_n);
    for (size_t i = 0; i < in_n; ++i) in[i] = (uint8_t)qk_test_next(&rng);
    const int include = rand_int(&rng, 0, 1);
    avg_pool_oracle(&g, in, is_signed, in_scale, in_zp, out_scale, out_zp, include, want);
    const int64_t shape[4] = {g.n, g.h, g.w, g.c}, kernel[2] = {g.kh, g.kw}, stride[2] = {g.sh, g.sw},
                  pad[4] = {g.pt, g.pl, g.pb, g.pr};
    assert_ok(qk_avg_pool2d(in_qp, out_qp, in, in_n, shape, kernel, stride, pad, include, got, out_n));
    assert_memory_equal(got, want, out_n);
    ++checked;
    free(in);
    free(want);
    free(got);
    qk_qparams_destroy(in_qp);
    qk_qparams_destroy(out_qp);
  }
  assert_true(checked > 50);
}

/* Global average: per-channel means of a 2x2 image (2.5 rounds to 2), then random shapes. */
static void test_global_avg_pool(void** state) {
  (void)state;
  const uint8_t in[8] = {1, 10, 2, 20, 3, 30, 4, 41};
  qk_qparams* qp = act_qparams(QK_DTYPE_U8, 1.0f, 0);
  const int64_t shape[4] = {1, 2, 2, 2};
  uint8_t out[2];
  assert_ok(qk_global_avg_pool2d(qp, qp, in, 8, shape, out, 2));
  assert_int_equal(out[0], 2);  /* 10 / 4 = 2.5 -> 2 */
  assert_int_equal(out[1], 25); /* 101 / 4 = 25.25 */
  qk_qparams_destroy(qp);

  qk_test_rng rng = {0x61088ull};
  for (int it = 0; it < 40; ++it) {
    const int64_t n = rand_int(&rng, 1, 3), h = rand_int(&rng, 1, 12), w = rand_int(&rng, 1, 12),
                  c = rand_int(&rng, 1, 21);
    const int is_signed = rand_int(&rng, 0, 1);
    const qk_dtype dt = is_signed ? QK_DTYPE_S8 : QK_DTYPE_U8;
    const float in_scale = qk_test_uniform(&rng, 0.01f, 0.1f), out_scale = qk_test_uniform(&rng, 0.005f, 0.05f);
    const int32_t in_zp = is_signed ? rand_int(&rng, -30, 30) : rand_int(&rng, 90, 160);
    const int32_t out_zp = is_signed ? rand_int(&rng, -30, 30) : rand_int(&rng, 90, 160);
    qk_qparams* in_qp = act_qparams(dt, in_scale, in_zp);
    qk_qparams* out_qp = act_qparams(dt, out_scale, out_zp);
    const size_t in_n = (size_t)(n * h * w * c);
    uint8_t* x = malloc(in_n);
    uint8_t got[3 * 21], want[3 * 21];
    for (size_t i = 0; i < in_n; ++i) x[i] = (uint8_t)qk_test_next(&rng);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        int64_t sum = 0;
        for (int64_t p = 0; p < h * w; ++p) sum += code_at(x, (size_t)((b * h * w + p) * c + ch), is_signed);
        const float r = nearbyintf((float)(sum - h * w * in_zp) * (in_scale / (out_scale * (float)(h * w))));
        const int32_t v = clamp_code(r + (float)out_zp, is_signed ? -128 : 0, is_signed ? 127 : 255);
        want[b * c + ch] = (uint8_t)v;
      }
    const int64_t s[4] = {n, h, w, c};
    assert_ok(qk_global_avg_pool2d(in_qp, out_qp, x, in_n, s, got, (size_t)(n * c)));
    assert_memory_equal(got, want, (size_t)(n * c));
    free(x);
    qk_qparams_destroy(in_qp);
    qk_qparams_destroy(out_qp);
  }
}

/* Bad pooling geometry, buffers, dtypes, qparams or overlap: QK_ERR_INVALID_ARGUMENT, output untouched. */
static void test_pool_argument_errors(void** state) {
  (void)state;
  uint8_t in[4 * 4 * 2] = {0};
  uint8_t out[64];
  memset(out, 0x3C, sizeof out);
  const int64_t shape[4] = {1, 4, 4, 2}, k2[2] = {2, 2}, k5[2] = {5, 5}, s1[2] = {1, 1}, s0[2] = {1, 0};
  const int64_t p0[4] = {0, 0, 0, 0}, p2[4] = {2, 0, 0, 0}, pneg[4] = {0, 0, -1, 0}, d1[2] = {1, 1};
  /* the first 2-row window lies entirely in the 2-row top padding */
  assert_status(qk_max_pool2d(QK_DTYPE_U8, in, sizeof in, shape, k2, s1, p2, d1, out, sizeof out),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_max_pool2d(QK_DTYPE_U8, in, sizeof in, shape, k2, s0, p0, d1, out, sizeof out),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_max_pool2d(QK_DTYPE_U8, in, sizeof in, shape, k5, s1, p0, d1, out, sizeof out),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_max_pool2d(QK_DTYPE_U8, in, sizeof in, shape, k2, s1, pneg, d1, out, sizeof out),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_max_pool2d(QK_DTYPE_U8, in, sizeof in - 1, shape, k2, s1, p0, d1, out, sizeof out),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_max_pool2d(QK_DTYPE_U8, in, sizeof in, shape, k2, s1, p0, d1, out, 3 * 3 * 2 - 1),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_max_pool2d(QK_DTYPE_F32, in, sizeof in, shape, k2, s1, p0, d1, out, sizeof out),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_max_pool2d((qk_dtype)99, in, sizeof in, shape, k2, s1, p0, d1, out, sizeof out),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_max_pool2d(QK_DTYPE_U8, in, sizeof in, shape, k2, s1, p0, NULL, out, sizeof out),
                QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_max_pool2d(QK_DTYPE_U8, NULL, sizeof in, shape, k2, s1, p0, d1, out, sizeof out),
                QK_ERR_INVALID_ARGUMENT);
  /* output overlapping the input */
  assert_status(qk_max_pool2d(QK_DTYPE_U8, in, sizeof in, shape, k2, s1, p0, d1, in + 4, 18), QK_ERR_INVALID_ARGUMENT);

  qk_qparams* u8 = act_qparams(QK_DTYPE_U8, 0.1f, 3);
  qk_qparams* s8 = act_qparams(QK_DTYPE_S8, 0.1f, 3);
  qk_qparams* pc = NULL;
  const float sc[2] = {0.1f, 0.2f};
  const int32_t zp[2] = {0, 0};
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE, 3, 1, sc, zp, NULL, 2, 0, 255, &pc));
  assert_status(qk_avg_pool2d(u8, s8, in, sizeof in, shape, k2, s1, p0, 1, out, sizeof out), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_avg_pool2d(pc, u8, in, sizeof in, shape, k2, s1, p0, 1, out, sizeof out), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_avg_pool2d(u8, u8, in, sizeof in, shape, k5, s1, p0, 1, out, sizeof out), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_avg_pool2d(u8, u8, in, sizeof in, shape, k2, s1, p2, 0, out, sizeof out), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_avg_pool2d(NULL, u8, in, sizeof in, shape, k2, s1, p0, 1, out, sizeof out), QK_ERR_INVALID_ARGUMENT);
  const int64_t empty_hw[4] = {1, 0, 4, 2};
  assert_status(qk_global_avg_pool2d(u8, u8, in, sizeof in, empty_hw, out, sizeof out), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_global_avg_pool2d(u8, u8, in, sizeof in, shape, out, 1), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_global_avg_pool2d(u8, s8, in, sizeof in, shape, out, sizeof out), QK_ERR_INVALID_ARGUMENT);
  for (size_t i = 0; i < sizeof out; ++i) assert_int_equal(out[i], 0x3C);
  /* batch 0 is an empty call */
  const int64_t no_batch[4] = {0, 4, 4, 2};
  assert_ok(qk_max_pool2d(QK_DTYPE_U8, NULL, 0, no_batch, k2, s1, p0, d1, NULL, 0));
  assert_ok(qk_global_avg_pool2d(u8, u8, NULL, 0, no_batch, NULL, 0));
  qk_qparams_destroy(u8);
  qk_qparams_destroy(s8);
  qk_qparams_destroy(pc);
}

/* ---- add ------------------------------------------------------------------------------------- */

/* u8 + s8 -> u8 worked by hand: ties to even, the dtype clamp, a ReLU clamp and an upper clamp. */
static void test_qadd_hand_computed(void** state) {
  (void)state;
  qk_qparams* qa = act_qparams(QK_DTYPE_U8, 0.5f, 128);
  qk_qparams* qb = act_qparams(QK_DTYPE_S8, 0.25f, 0);
  qk_qparams* qo = act_qparams(QK_DTYPE_U8, 1.0f, 10);
  const uint8_t a[6] = {130, 129, 131, 133, 255, 0};
  const int8_t b[6] = {2, -2, 0, 0, 127, -128};
  uint8_t out[6];
  assert_ok(qk_qadd(qa, a, qb, b, qo, 6, -INFINITY, INFINITY, out));
  /* 1 + 0.5 = 1.5 -> 2; 0.5 - 0.5 = 0; 1.5 -> 2; 2.5 -> 2; 63.5 + 31.75 = 95.25 -> 95; -96 */
  const uint8_t want[6] = {12, 10, 12, 12, 105, 0};
  assert_memory_equal(out, want, 6);
  assert_ok(qk_qadd(qa, a, qb, b, qo, 6, 0.0f, INFINITY, out));
  const uint8_t relu[6] = {12, 10, 12, 12, 105, 10};
  assert_memory_equal(out, relu, 6);
  assert_ok(qk_qadd(qa, a, qb, b, qo, 6, 0.0f, 50.0f, out));
  assert_int_equal(out[4], 60); /* quantize(50) = 60 */
  qk_qparams_destroy(qa);
  qk_qparams_destroy(qb);
  qk_qparams_destroy(qo);
}

/* Random dtypes, scales and zero points match the formula, out of place and in place. */
static void test_qadd_random_matches_oracle(void** state) {
  (void)state;
  qk_test_rng rng = {0xADDull};
  enum { N = 517 };
  for (int it = 0; it < 24; ++it) {
    const int sa = it & 1, sb = (it >> 1) & 1, so = (it >> 2) & 1;
    const float as = qk_test_uniform(&rng, 0.01f, 0.2f), bs = qk_test_uniform(&rng, 0.01f, 0.2f),
                os = qk_test_uniform(&rng, 0.01f, 0.2f);
    const int32_t az = sa ? rand_int(&rng, -128, 127) : rand_int(&rng, 0, 255);
    const int32_t bz = sb ? rand_int(&rng, -128, 127) : rand_int(&rng, 0, 255);
    const int32_t oz = so ? rand_int(&rng, -128, 127) : rand_int(&rng, 0, 255);
    qk_qparams* qa = act_qparams(sa ? QK_DTYPE_S8 : QK_DTYPE_U8, as, az);
    qk_qparams* qb = act_qparams(sb ? QK_DTYPE_S8 : QK_DTYPE_U8, bs, bz);
    qk_qparams* qo = act_qparams(so ? QK_DTYPE_S8 : QK_DTYPE_U8, os, oz);
    uint8_t a[N], b[N], got[N], want[N];
    for (int i = 0; i < N; ++i) {
      a[i] = (uint8_t)qk_test_next(&rng);
      b[i] = (uint8_t)qk_test_next(&rng);
    }
    const int32_t lo = so ? -128 : 0, hi = so ? 127 : 255;
    for (int i = 0; i < N; ++i) {
      const float va = (float)(code_at(a, (size_t)i, sa) - az) * (as / os);
      const float vb = (float)(code_at(b, (size_t)i, sb) - bz) * (bs / os);
      const float sum = va + vb;
      want[i] = (uint8_t)clamp_code(nearbyintf(sum) + (float)oz, lo, hi);
    }
    assert_ok(qk_qadd(qa, a, qb, b, qo, N, -INFINITY, INFINITY, got));
    assert_memory_equal(got, want, N);
    if (sa == so) { /* in place over a */
      uint8_t c[N];
      memcpy(c, a, N);
      assert_ok(qk_qadd(qa, c, qb, b, qo, N, -INFINITY, INFINITY, c));
      assert_memory_equal(c, want, N);
    }
    if (sb == so) { /* in place over b */
      uint8_t c[N];
      memcpy(c, b, N);
      assert_ok(qk_qadd(qa, a, qb, c, qo, N, -INFINITY, INFINITY, c));
      assert_memory_equal(c, want, N);
    }
    qk_qparams_destroy(qa);
    qk_qparams_destroy(qb);
    qk_qparams_destroy(qo);
  }
}

/* NULLs, non-per-tensor or non-8-bit qparams, NaN or inverted clamps, partial overlap. */
static void test_qadd_argument_errors(void** state) {
  (void)state;
  qk_qparams* u8 = act_qparams(QK_DTYPE_U8, 0.1f, 3);
  qk_qparams *s32 = NULL, *pc = NULL;
  const float sc = 0.1f, sc2[2] = {0.1f, 0.2f};
  const int32_t zp = 0, zp2[2] = {0, 0};
  assert_ok(qk_qparams_create(QK_DTYPE_S32, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &sc, &zp, NULL, 1, INT32_MIN, INT32_MAX,
                              &s32));
  assert_ok(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_CHANNEL_AFFINE, 0, 1, sc2, zp2, NULL, 2, 0, 255, &pc));
  uint8_t buf[16] = {0};
  uint8_t out[8];
  memset(out, 0x42, sizeof out);
  assert_status(qk_qadd(u8, buf, u8, buf + 8, s32, 8, -INFINITY, INFINITY, out), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qadd(pc, buf, u8, buf + 8, u8, 8, -INFINITY, INFINITY, out), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qadd(u8, buf, u8, buf + 8, u8, 8, NAN, INFINITY, out), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qadd(u8, buf, u8, buf + 8, u8, 8, 1.0f, -1.0f, out), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qadd(u8, NULL, u8, buf + 8, u8, 8, -INFINITY, INFINITY, out), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qadd(u8, buf, u8, buf + 8, u8, 8, -INFINITY, INFINITY, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_qadd(NULL, buf, u8, buf + 8, u8, 8, -INFINITY, INFINITY, out), QK_ERR_INVALID_ARGUMENT);
  for (size_t i = 0; i < sizeof out; ++i) assert_int_equal(out[i], 0x42);
  /* output shifted by one byte against a */
  uint8_t before[16];
  memcpy(before, buf, 16);
  assert_status(qk_qadd(u8, buf, u8, buf + 8, u8, 8, -INFINITY, INFINITY, buf + 1), QK_ERR_INVALID_ARGUMENT);
  assert_memory_equal(buf, before, 16);
  assert_ok(qk_qadd(u8, NULL, u8, NULL, u8, 0, -INFINITY, INFINITY, NULL)); /* empty */
  qk_qparams_destroy(u8);
  qk_qparams_destroy(s32);
  qk_qparams_destroy(pc);
}

/* ---- layout ---------------------------------------------------------------------------------- */

static int isa_invalid(void) { return strcmp(qk_isa_name(), "invalid") == 0; }

/* The converters equal qk_quantize / qk_dequantize plus a transpose (per-tensor, per-channel, NaN). */
static void test_layout_matches_quantize(void** state) {
  (void)state;
  if (isa_invalid()) skip();
  qk_test_rng rng = {0x1A7ull};
  const int64_t nchw[4] = {2, 5, 9, 11}; /* 99 pixels: more than one 64-pixel tile */
  const size_t n = 2 * 5 * 9 * 11, hw = 99, c = 5;
  float* x = malloc(sizeof(float) * n);
  for (size_t i = 0; i < n; ++i) x[i] = qk_test_uniform(&rng, -3.0f, 3.0f);
  x[7] = NAN;
  x[400] = NAN;
  qk_qparams* per_tensor = act_qparams(QK_DTYPE_U8, 0.02f, 120);
  qk_qparams* per_channel = NULL;
  const float scales[5] = {0.01f, 0.02f, 0.03f, 0.025f, 0.015f};
  const int32_t zps[5] = {0, 0, 0, 0, 0};
  assert_ok(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 1, 1, scales, zps, NULL, 5, -128, 127,
                              &per_channel));
  qk_qparams* qps[2] = {per_tensor, per_channel};
  uint8_t* planar = malloc(n);
  uint8_t* nhwc = malloc(n);
  float* back = malloc(sizeof(float) * n);
  float* back_ref = malloc(sizeof(float) * n);
  for (int k = 0; k < 2; ++k) {
    uint64_t nans = 0, nans_ref = 0;
    assert_ok(qk_quantize(qps[k], x, nchw, 4, planar, n, &nans_ref));
    assert_ok(qk_quantize_nchw_to_nhwc(qps[k], x, nchw, nhwc, n, &nans));
    assert_int_equal(nans, 2);
    assert_int_equal(nans_ref, 2);
    for (size_t b = 0; b < 2; ++b)
      for (size_t ch = 0; ch < c; ++ch)
        for (size_t p = 0; p < hw; ++p) assert_int_equal(nhwc[(b * hw + p) * c + ch], planar[(b * c + ch) * hw + p]);
    assert_ok(qk_dequantize(qps[k], planar, n, nchw, 4, back_ref));
    assert_ok(qk_dequantize_nhwc_to_nchw(qps[k], nhwc, n, nchw, back));
    assert_memory_equal(back, back_ref, sizeof(float) * n);
  }
  /* dst one byte short: QK_ERR_BUFFER_TOO_SMALL as qk_quantize, nothing written */
  memset(nhwc, 0x11, n);
  assert_status(qk_quantize_nchw_to_nhwc(per_tensor, x, nchw, nhwc, n - 1, NULL), QK_ERR_BUFFER_TOO_SMALL);
  assert_status(qk_dequantize_nhwc_to_nchw(per_tensor, nhwc, n - 1, nchw, back), QK_ERR_INVALID_ARGUMENT);
  for (size_t i = 0; i < n; ++i) assert_int_equal(nhwc[i], 0x11);
  free(x);
  free(planar);
  free(nhwc);
  free(back);
  free(back_ref);
  qk_qparams_destroy(per_tensor);
  qk_qparams_destroy(per_channel);
}

/* Per-channel qparams off axis 1 or miscounted, non-8-bit dtypes, NULLs: QK_ERR_INVALID_ARGUMENT. */
static void test_layout_argument_errors(void** state) {
  (void)state;
  if (isa_invalid()) skip();
  const int64_t nchw[4] = {1, 2, 2, 2};
  float x[8] = {0};
  uint8_t q[8];
  const float sc[2] = {0.1f, 0.1f};
  const int32_t zp[2] = {0, 0};
  qk_qparams *axis0 = NULL, *s32 = NULL, *three = NULL;
  const float sc3[3] = {0.1f, 0.1f, 0.1f};
  const int32_t zp3[3] = {0, 0, 0};
  assert_ok(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 0, 1, sc, zp, NULL, 2, -128, 127, &axis0));
  assert_ok(
      qk_qparams_create(QK_DTYPE_S32, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, sc, zp, NULL, 1, INT32_MIN, INT32_MAX, &s32));
  assert_ok(
      qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 1, 1, sc3, zp3, NULL, 3, -128, 127, &three));
  assert_status(qk_quantize_nchw_to_nhwc(axis0, x, nchw, q, 8, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_quantize_nchw_to_nhwc(s32, x, nchw, q, 32, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_quantize_nchw_to_nhwc(three, x, nchw, q, 8, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_quantize_nchw_to_nhwc(three, x, NULL, q, 8, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_quantize_nchw_to_nhwc(NULL, x, nchw, q, 8, NULL), QK_ERR_INVALID_ARGUMENT);
  assert_status(qk_dequantize_nhwc_to_nchw(axis0, q, 8, nchw, x), QK_ERR_INVALID_ARGUMENT);
  qk_qparams_destroy(axis0);
  qk_qparams_destroy(s32);
  qk_qparams_destroy(three);
}

/* Under a QK_ISA this CPU lacks, the converters (which dispatch) fail with QK_ERR_UNSUPPORTED. */
static void test_layout_invalid_isa_is_unsupported(void** state) {
  (void)state;
  if (!isa_invalid()) skip();
  qk_qparams* qp = act_qparams(QK_DTYPE_U8, 0.1f, 0);
  const int64_t nchw[4] = {1, 1, 1, 2};
  const float x[2] = {1, 2};
  uint8_t q[2] = {7, 7};
  assert_status(qk_quantize_nchw_to_nhwc(qp, x, nchw, q, 2, NULL), QK_ERR_UNSUPPORTED);
  assert_int_equal(q[0], 7);
  qk_qparams_destroy(qp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_max_pool_hand_computed),
      cmocka_unit_test(test_max_pool_padding_never_wins),
      cmocka_unit_test(test_max_pool_dilation),
      cmocka_unit_test(test_max_pool_random_matches_oracle),
      cmocka_unit_test(test_avg_pool_count_include_pad),
      cmocka_unit_test(test_avg_pool_random_matches_oracle),
      cmocka_unit_test(test_global_avg_pool),
      cmocka_unit_test(test_pool_argument_errors),
      cmocka_unit_test(test_qadd_hand_computed),
      cmocka_unit_test(test_qadd_random_matches_oracle),
      cmocka_unit_test(test_qadd_argument_errors),
      cmocka_unit_test(test_layout_matches_quantize),
      cmocka_unit_test(test_layout_argument_errors),
      cmocka_unit_test(test_layout_invalid_isa_is_unsupported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
