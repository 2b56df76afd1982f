// SPDX-License-Identifier: Apache-2.0
// Histogram observer kinds (HISTOGRAM, PERCENTILE, ENTROPY, MSE) through the C API: options,
// edge cases, the ranges each kind picks on distributions with known answers, merge, and the
// serialized state (round trip, hostile payloads, truncation and bit flips).
// Payload offsets below follow docs/OBSERVER_STATE.md; crafted payloads are re-sealed with XXH64.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "quantkit/quantkit.h"

static const qk_observer_kind kKinds[4] = {QK_OBSERVER_HISTOGRAM, QK_OBSERVER_PERCENTILE, QK_OBSERVER_ENTROPY,
                                           QK_OBSERVER_MSE};

// ------------------------------------------------------------------------------------------------
// Helpers

static qk_observer* make_obs(qk_observer_kind kind, qk_dtype dtype, qk_qscheme scheme) {
  qk_quant_spec* spec = NULL;
  assert_int_equal(qk_quant_spec_create(dtype, scheme, &spec), QK_OK);
  qk_observer* obs = NULL;
  assert_int_equal(qk_observer_create(kind, spec, &obs), QK_OK);
  qk_quant_spec_destroy(spec);
  return obs;
}

static void observe(qk_observer* obs, const float* x, size_t n) {
  const int64_t shape[1] = {(int64_t)n};
  assert_int_equal(qk_observer_update(obs, x, shape, 1), QK_OK);
}

static void qparams_of(const qk_observer* obs, float* scale, int32_t* zp) {
  qk_qparams* qp = NULL;
  assert_int_equal(qk_observer_compute_qparams(obs, &qp), QK_OK);
  assert_int_equal(qk_qparams_get_scales(qp, scale, 1), QK_OK);
  assert_int_equal(qk_qparams_get_zero_points(qp, zp, 1), QK_OK);
  qk_qparams_destroy(qp);
}

static void range_of(const qk_observer* obs, float* lo, float* hi) {
  assert_int_equal(qk_observer_get_range(obs, lo, hi, 1), QK_OK);
}

static uint8_t* save(const qk_observer* obs, size_t* size) {
  assert_int_equal(qk_observer_save(obs, NULL, 0, size), QK_OK);
  uint8_t* buf = malloc(*size);
  assert_non_null(buf);
  assert_int_equal(qk_observer_save(obs, buf, *size, size), QK_OK);
  return buf;
}

static void assert_same_state(const qk_observer* a, const qk_observer* b) {
  size_t na, nb;
  uint8_t* sa = save(a, &na);
  uint8_t* sb = save(b, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(sa, sb, na);
  free(sa);
  free(sb);
}

// xorshift64* and Box-Muller: deterministic data without libc's rand().
static uint64_t g_rng;
static double uniform01(void) {
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return ((double)((g_rng * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
}
static float normal01(void) { return (float)(sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01())); }
static float* normal_data(size_t n, uint64_t seed, float sigma) {
  g_rng = seed;
  float* x = malloc(n * sizeof(float));
  assert_non_null(x);
  for (size_t i = 0; i < n; ++i) x[i] = sigma * normal01();
  return x;
}
static float* uniform_data(size_t n, uint64_t seed, float lo, float hi) {
  g_rng = seed;
  float* x = malloc(n * sizeof(float));
  assert_non_null(x);
  for (size_t i = 0; i < n; ++i) x[i] = lo + (float)uniform01() * (hi - lo);
  return x;
}

// Serialized state access (docs/OBSERVER_STATE.md): payload at 62, then the fields below.
enum { kPayload = 62 };
enum { kUpdated = 8, kBins = 9, kUpsample = 13, kDataMin = 25, kDataMax = 29, kHasHist = 33, kLo = 34, kHi = 38,
       kNumBins = 42, kCounts = 50 };
static uint64_t get_le(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= (uint64_t)p[i] << (8 * i);
  return v;
}
static void put_le(uint8_t* p, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_f32(uint8_t* p, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  put_le(p, u, 4);
}
static void put_f64(uint8_t* p, double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  put_le(p, u, 8);
}
static double get_f64(const uint8_t* p) {
  const uint64_t u = get_le(p, 8);
  double d;
  memcpy(&d, &u, 8);
  return d;
}
static void reseal(uint8_t* buf, size_t size) { put_le(buf + size - 8, XXH64(buf, size - 8, 0), 8); }
static double state_total(const uint8_t* buf) {
  const uint8_t* p = buf + kPayload;
  const uint64_t n = get_le(p + kNumBins, 8);
  double total = 0.0;
  for (uint64_t k = 0; k < n; ++k) total += get_f64(p + kCounts + 8 * k);
  return total;
}
static double observer_total(const qk_observer* obs) {
  size_t n;
  uint8_t* s = save(obs, &n);
  const double total = state_total(s);
  free(s);
  return total;
}

static qk_status load_status(const uint8_t* buf, size_t size) {
  qk_observer* obs = NULL;
  const qk_status st = qk_observer_load(buf, size, &obs);
  if (st == QK_OK) {
    // A state that loads must be usable.
    qk_qparams* qp = NULL;
    const qk_status q = qk_observer_compute_qparams(obs, &qp);
    assert_true(q == QK_OK || q == QK_ERR_STATE || q == QK_ERR_UNSUPPORTED);
    qk_qparams_destroy(qp);
    const float batch[3] = {-2.0f, 0.25f, 3.0f};
    const int64_t shape[1] = {3};
    assert_int_equal(qk_observer_update(obs, batch, shape, 1), QK_OK);
  } else {
    assert_null(obs);
  }
  qk_observer_destroy(obs);
  return st;
}

// ------------------------------------------------------------------------------------------------
// Options and edge cases

// Defaults are bins 2048, upsample 128 (HISTOGRAM only), percentile 99.99 (PERCENTILE only), and
// out-of-range, fractional or foreign parameters are refused.
static void test_params_defaults_and_validation(void** state) {
  (void)state;
  for (int k = 0; k < 4; ++k) {
    qk_observer* obs = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    double v = 0.0;
    assert_int_equal(qk_observer_get_param(obs, QK_OBSERVER_PARAM_BINS, &v), QK_OK);
    assert_true(v == 2048.0);
    assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 15), QK_ERR_INVALID_ARGUMENT);
    assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 1048577), QK_ERR_INVALID_ARGUMENT);
    assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 100.5), QK_ERR_INVALID_ARGUMENT);
    assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 16), QK_OK);
    assert_int_equal(qk_observer_get_param(obs, QK_OBSERVER_PARAM_BINS, &v), QK_OK);
    assert_true(v == 16.0);
    assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, 0.5), QK_ERR_INVALID_ARGUMENT);
    const qk_status up = qk_observer_get_param(obs, QK_OBSERVER_PARAM_UPSAMPLE_RATE, &v);
    const qk_status pct = qk_observer_get_param(obs, QK_OBSERVER_PARAM_PERCENTILE, &v);
    assert_int_equal(up, kKinds[k] == QK_OBSERVER_HISTOGRAM ? QK_OK : QK_ERR_INVALID_ARGUMENT);
    assert_int_equal(pct, kKinds[k] == QK_OBSERVER_PERCENTILE ? QK_OK : QK_ERR_INVALID_ARGUMENT);
    qk_observer_destroy(obs);
  }
  qk_observer* h = make_obs(QK_OBSERVER_HISTOGRAM, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  double v = 0.0;
  assert_int_equal(qk_observer_get_param(h, QK_OBSERVER_PARAM_UPSAMPLE_RATE, &v), QK_OK);
  assert_true(v == 128.0);
  assert_int_equal(qk_observer_set_param(h, QK_OBSERVER_PARAM_UPSAMPLE_RATE, 0), QK_ERR_INVALID_ARGUMENT);
  assert_int_equal(qk_observer_set_param(h, QK_OBSERVER_PARAM_UPSAMPLE_RATE, 1025), QK_ERR_INVALID_ARGUMENT);
  assert_int_equal(qk_observer_set_param(h, QK_OBSERVER_PARAM_UPSAMPLE_RATE, 1), QK_OK);
  qk_observer_destroy(h);
  qk_observer* p = make_obs(QK_OBSERVER_PERCENTILE, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  assert_int_equal(qk_observer_get_param(p, QK_OBSERVER_PARAM_PERCENTILE, &v), QK_OK);
  assert_true(v == 99.99);
  assert_int_equal(qk_observer_set_param(p, QK_OBSERVER_PARAM_PERCENTILE, 50.0), QK_ERR_INVALID_ARGUMENT);
  assert_int_equal(qk_observer_set_param(p, QK_OBSERVER_PARAM_PERCENTILE, 100.01), QK_ERR_INVALID_ARGUMENT);
  assert_int_equal(qk_observer_set_param(p, QK_OBSERVER_PARAM_PERCENTILE, 100.0), QK_OK);
  qk_observer_destroy(p);
}

// Options lock once data was seen and unlock after reset, which forgets everything.
static void test_reset_forgets_data_and_unlocks_options(void** state) {
  (void)state;
  for (int k = 0; k < 4; ++k) {
    qk_observer* obs = make_obs(kKinds[k], QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
    qk_observer* fresh = make_obs(kKinds[k], QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
    const float x[4] = {-1.0f, 0.5f, NAN, 2.0f};
    observe(obs, x, 4);
    assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 64), QK_ERR_STATE);
    assert_int_equal(qk_observer_reset(obs), QK_OK);
    assert_same_state(obs, fresh);
    float lo, hi;
    assert_int_equal(qk_observer_get_range(obs, &lo, &hi, 1), QK_ERR_STATE);
    assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 64), QK_OK);
    qk_observer_destroy(obs);
    qk_observer_destroy(fresh);
  }
}

// No data, an empty batch and an all-NaN batch leave nothing to compute from (QK_ERR_STATE);
// the empty batch changes nothing at all, the NaN batch only the non-finite count.
static void test_no_finite_data_is_a_state_error(void** state) {
  (void)state;
  for (int k = 0; k < 4; ++k) {
    qk_observer* obs = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    qk_qparams* qp = NULL;
    assert_int_equal(qk_observer_compute_qparams(obs, &qp), QK_ERR_STATE);
    const int64_t empty_shape[2] = {3, 0};
    assert_int_equal(qk_observer_update(obs, NULL, empty_shape, 2), QK_OK);
    size_t channels = 9;
    assert_int_equal(qk_observer_get_channel_count(obs, &channels), QK_OK);
    assert_int_equal(channels, 0);
    const float nans[3] = {NAN, INFINITY, -INFINITY};
    observe(obs, nans, 3);
    uint64_t nonfinite = 0;
    assert_int_equal(qk_observer_get_nonfinite_count(obs, &nonfinite), QK_OK);
    assert_int_equal(nonfinite, 3);
    assert_int_equal(qk_observer_compute_qparams(obs, &qp), QK_ERR_STATE);
    assert_null(qp);
    qk_observer_destroy(obs);
  }
}

// Non-finite values are skipped and counted: the result equals that of the finite values alone,
// and the histogram holds exactly the finite samples.
static void test_nonfinite_values_are_skipped_and_counted(void** state) {
  (void)state;
  enum { n = 5000 };
  float* clean = normal_data(n, 7, 1.0f);
  float* dirty = malloc(2 * n * sizeof(float));
  assert_non_null(dirty);
  for (size_t i = 0; i < n; ++i) {
    dirty[2 * i] = clean[i];
    dirty[2 * i + 1] = (i % 3 == 0) ? NAN : (i % 3 == 1 ? INFINITY : -INFINITY);
  }
  for (int k = 0; k < 4; ++k) {
    qk_observer* a = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    qk_observer* b = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    observe(a, clean, n);
    observe(b, dirty, 2 * n);
    float sa, sb;
    int32_t za, zb;
    qparams_of(a, &sa, &za);
    qparams_of(b, &sb, &zb);
    assert_true(sa == sb);
    assert_int_equal(za, zb);
    uint64_t nonfinite = 0;
    assert_int_equal(qk_observer_get_nonfinite_count(b, &nonfinite), QK_OK);
    assert_int_equal(nonfinite, n);
    assert_true(observer_total(b) == (double)n);
    qk_observer_destroy(a);
    qk_observer_destroy(b);
  }
  free(clean);
  free(dirty);
}

// All-equal data gives the min/max qparams of [v, v] (torch's special case), and a single-valued
// history is kept as a point mass when wider data arrives (torch 1.13 would discard it).
static void test_all_equal_values(void** state) {
  (void)state;
  float constant[100];
  for (int i = 0; i < 100; ++i) constant[i] = 0.37f;
  for (int k = 0; k < 4; ++k) {
    qk_observer* obs = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    qk_observer* mm = make_obs(QK_OBSERVER_MINMAX, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    observe(obs, constant, 100);
    observe(mm, constant, 100);
    float s, smm, lo, hi;
    int32_t z, zmm;
    qparams_of(obs, &s, &z);
    qparams_of(mm, &smm, &zmm);
    assert_true(s == smm);
    assert_int_equal(z, zmm);
    range_of(obs, &lo, &hi);
    assert_true(hi == 0.37f);
    const float spread[4] = {-1.0f, 0.0f, 0.5f, 2.0f};
    observe(obs, spread, 4);
    assert_true(fabs(observer_total(obs) - 104.0) < 1e-9);
    qk_observer_destroy(obs);
    qk_observer_destroy(mm);
  }
}

// Ranges near FLT_MAX stay finite (no overflow in binning or search), and the search is scale
// invariant where torch's float32 error terms would underflow: 1e-30-scaled data gets the same
// relative range as unscaled data (with an eps small enough not to dominate the scale).
static void test_extreme_ranges(void** state) {
  (void)state;
  const float huge[5] = {-3.0e38f, 3.0e38f, 1.0f, -2.5e38f, 0.0f};
  enum { n = 20000 };
  float* x = normal_data(n, 11, 1.0f);
  float* tiny = malloc(n * sizeof(float));
  assert_non_null(tiny);
  for (size_t i = 0; i < n; ++i) tiny[i] = x[i] * 1e-30f;
  for (int k = 0; k < 4; ++k) {
    for (int s = 0; s < 2; ++s) {  // an affine u8 scale for this range would overflow float
      qk_observer* obs = s ? make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE)
                           : make_obs(kKinds[k], QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
      observe(obs, huge, 5);
      float lo, hi;
      range_of(obs, &lo, &hi);
      assert_true(isfinite(lo) && isfinite(hi) && lo <= hi && lo >= -3.0e38f && hi <= 3.0e38f);
      assert_true(observer_total(obs) == 5.0);
      qk_observer_destroy(obs);
    }

    qk_quant_spec* spec = NULL;
    assert_int_equal(qk_quant_spec_create(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC, &spec), QK_OK);
    assert_int_equal(qk_quant_spec_set_eps(spec, 1e-37f), QK_OK);
    qk_observer *a = NULL, *b = NULL;
    assert_int_equal(qk_observer_create(kKinds[k], spec, &a), QK_OK);
    assert_int_equal(qk_observer_create(kKinds[k], spec, &b), QK_OK);
    qk_quant_spec_destroy(spec);
    observe(a, x, n);
    observe(b, tiny, n);
    float alo, ahi, blo, bhi;
    range_of(a, &alo, &ahi);
    range_of(b, &blo, &bhi);
    assert_true(ahi > 2.0f);
    assert_true(fabs(bhi / 1e-30 / ahi - 1.0) < 1e-3);
    assert_true(fabs(blo / 1e-30 / alo - 1.0) < 1e-3);
    qk_observer_destroy(a);
    qk_observer_destroy(b);
  }
  free(x);
  free(tiny);
}

// The fast binning path (large batches) puts every value, including values one float away from
// bin edges, in the same bin as the exact torch formula (used for small batches): the states match.
static void test_fast_binning_matches_exact_binning(void** state) {
  (void)state;
  enum { chunks = 20, per = 1000, n = chunks * per };
  const qk_observer_kind kinds[3] = {QK_OBSERVER_HISTOGRAM, QK_OBSERVER_ENTROPY, QK_OBSERVER_PERCENTILE};
  const double bins[3] = {2048, 2048, 1000};
  float* x = uniform_data(n, 5, -1.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) {
    if (i % per < 2) x[i] = (i % per == 0) ? -1.0f : 1.0f;  // every chunk holds the range
    else if (i % 3 == 0) {                                   // ideal edges and their neighbours
      float e = -1.0f + 2.0f * (float)((i * 7919) % 2049) / 2048.0f;
      x[i] = (i % 9 == 0) ? nextafterf(e, 2.0f) : (i % 9 == 3 ? nextafterf(e, -2.0f) : e);
      x[i] = fminf(fmaxf(x[i], -1.0f), 1.0f);
    } else if (i % 101 == 50) {
      x[i] = NAN;
    }
  }
  for (int k = 0; k < 3; ++k) {
    qk_observer* whole = make_obs(kinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    qk_observer* parts = make_obs(kinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    assert_int_equal(qk_observer_set_param(whole, QK_OBSERVER_PARAM_BINS, bins[k]), QK_OK);
    assert_int_equal(qk_observer_set_param(parts, QK_OBSERVER_PARAM_BINS, bins[k]), QK_OK);
    observe(whole, x, n);
    for (size_t c = 0; c < chunks; ++c) observe(parts, x + c * per, per);
    assert_same_state(whole, parts);
    qk_observer_destroy(whole);
    qk_observer_destroy(parts);
  }
  free(x);
}

// HISTOGRAM's search grid has 2^bits levels: s32 (2^32 levels) keeps nearly the full range (like
// torch's qint32, it may trim a few bins on float32 noise), 4-bit (16 levels) clips far more than
// 8-bit.
static void test_histogram_levels_follow_dtype_width(void** state) {
  (void)state;
  enum { n = 50000 };
  float* x = normal_data(n, 3, 1.0f);
  const qk_dtype dtypes[3] = {QK_DTYPE_S32, QK_DTYPE_S8, QK_DTYPE_S4};
  float his[3];
  for (int d = 0; d < 3; ++d) {
    qk_observer* obs = make_obs(QK_OBSERVER_HISTOGRAM, dtypes[d], QK_QSCHEME_PER_TENSOR_SYMMETRIC);
    observe(obs, x, n);
    float lo;
    range_of(obs, &lo, &his[d]);
    qk_observer_destroy(obs);
  }
  float mx = x[0];
  for (size_t i = 1; i < n; ++i) mx = fmaxf(mx, x[i]);
  assert_true(his[0] >= mx * 0.98f);
  assert_true(his[1] < his[0]);
  assert_true(his[2] < his[1] * 0.8f);
  free(x);
}

// ------------------------------------------------------------------------------------------------
// Range selection on distributions with known answers

// Uniform(-1, 1): affine p=99 cuts 0.5% per tail (range ~ +-0.99), symmetric p=90 keeps |x| below
// 0.9; both within a bin width (2/2048) plus sampling noise.
static void test_percentile_uniform_quantiles(void** state) {
  (void)state;
  enum { n = 1 << 20 };
  float* x = uniform_data(n, 21, -1.0f, 1.0f);
  qk_observer* aff = make_obs(QK_OBSERVER_PERCENTILE, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  qk_observer* sym = make_obs(QK_OBSERVER_PERCENTILE, QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  assert_int_equal(qk_observer_set_param(aff, QK_OBSERVER_PARAM_PERCENTILE, 99.0), QK_OK);
  assert_int_equal(qk_observer_set_param(sym, QK_OBSERVER_PARAM_PERCENTILE, 90.0), QK_OK);
  observe(aff, x, n);
  observe(sym, x, n);
  float lo, hi;
  range_of(aff, &lo, &hi);
  assert_true(fabsf(lo + 0.99f) < 2e-3f);
  assert_true(fabsf(hi - 0.99f) < 2e-3f);
  range_of(sym, &lo, &hi);
  assert_true(fabsf(hi - 0.90f) < 2e-3f);
  assert_true(lo == -hi);
  qk_observer_destroy(aff);
  qk_observer_destroy(sym);
  // Asymmetric data shows which definition applies: uniform(0, 1) at p=90 gives [0.05, 0.95]
  // for an affine spec and [-0.9, 0.9] for a symmetric one.
  float* y = uniform_data(n, 22, 0.0f, 1.0f);
  aff = make_obs(QK_OBSERVER_PERCENTILE, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  sym = make_obs(QK_OBSERVER_PERCENTILE, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  assert_int_equal(qk_observer_set_param(aff, QK_OBSERVER_PARAM_PERCENTILE, 90.0), QK_OK);
  assert_int_equal(qk_observer_set_param(sym, QK_OBSERVER_PARAM_PERCENTILE, 90.0), QK_OK);
  observe(aff, y, n);
  observe(sym, y, n);
  range_of(aff, &lo, &hi);
  assert_true(fabsf(lo - 0.05f) < 2e-3f && fabsf(hi - 0.95f) < 2e-3f);
  range_of(sym, &lo, &hi);
  assert_true(fabsf(hi - 0.90f) < 2e-3f && lo == -hi);
  qk_observer_destroy(aff);
  qk_observer_destroy(sym);
  free(x);
  free(y);
}

// Percentile 100 keeps the whole observed range: the same qparams as MinMax.
static void test_percentile_100_is_minmax(void** state) {
  (void)state;
  enum { n = 30000 };
  float* x = normal_data(n, 8, 2.0f);
  const qk_qscheme schemes[2] = {QK_QSCHEME_PER_TENSOR_AFFINE, QK_QSCHEME_PER_TENSOR_SYMMETRIC};
  for (int s = 0; s < 2; ++s) {
    qk_observer* p = make_obs(QK_OBSERVER_PERCENTILE, QK_DTYPE_U8, schemes[s]);
    qk_observer* mm = make_obs(QK_OBSERVER_MINMAX, QK_DTYPE_U8, schemes[s]);
    assert_int_equal(qk_observer_set_param(p, QK_OBSERVER_PARAM_PERCENTILE, 100.0), QK_OK);
    observe(p, x, n);
    observe(mm, x, n);
    float sp, smm;
    int32_t zp, zmm;
    qparams_of(p, &sp, &zp);
    qparams_of(mm, &smm, &zmm);
    assert_true(sp == smm);
    assert_int_equal(zp, zmm);
    qk_observer_destroy(p);
    qk_observer_destroy(mm);
  }
  free(x);
}

// N(0,1) with three outliers near +-25: every histogram kind clips well below the outliers
// (HISTOGRAM, PERCENTILE, ENTROPY near 4 sigma; MSE, which weighs their squared error, below
// 10), while MinMax keeps them.
static void test_outliers_are_clipped_unlike_minmax(void** state) {
  (void)state;
  enum { n = 1 << 20 };
  float* x = normal_data(n, 99, 1.0f);
  x[10] = 25.0f;
  x[20] = -22.0f;
  x[30] = 24.0f;
  const float limit[4] = {6.0f, 6.0f, 6.0f, 10.0f};
  for (int k = 0; k < 4; ++k) {
    qk_observer* obs = make_obs(kKinds[k], QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
    observe(obs, x, n);
    float lo, hi;
    range_of(obs, &lo, &hi);
    assert_true(hi > 3.0f && hi < limit[k]);
    assert_true(lo < -3.0f && lo > -limit[k]);
    qk_observer_destroy(obs);
  }
  qk_observer* mm = make_obs(QK_OBSERVER_MINMAX, QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  observe(mm, x, n);
  float lo, hi;
  range_of(mm, &lo, &hi);
  assert_true(lo == -22.0f && hi == 25.0f);
  qk_observer_destroy(mm);
  free(x);
}

// ENTROPY's amax becomes [-amax, amax] for a symmetric spec and [max(min,-amax), min(max,amax)]
// for an affine one: on ReLU-like data the affine range starts at the data's 0.
static void test_entropy_range_follows_spec(void** state) {
  (void)state;
  enum { n = 1 << 18 };
  float* x = normal_data(n, 4, 1.0f);
  for (size_t i = 0; i < n; ++i) x[i] = fmaxf(x[i], 0.0f);
  qk_observer* sym = make_obs(QK_OBSERVER_ENTROPY, QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
  qk_observer* aff = make_obs(QK_OBSERVER_ENTROPY, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  observe(sym, x, n);
  observe(aff, x, n);
  float slo, shi, alo, ahi;
  range_of(sym, &slo, &shi);
  range_of(aff, &alo, &ahi);
  assert_true(slo == -shi && shi > 2.5f && shi < 5.0f);
  assert_true(alo == 0.0f && ahi == shi);
  qk_observer_destroy(sym);
  qk_observer_destroy(aff);
  free(x);
}

// Quantize-dequantize error measured on the data itself: MSE's range beats MinMax's on heavy
// tailed data, for a symmetric s8 and an affine u8 spec.
static void test_mse_range_lowers_measured_error(void** state) {
  (void)state;
  enum { n = 1 << 18 };
  float* x = normal_data(n, 31, 1.0f);
  for (size_t i = 0; i < n; i += 997) x[i] *= 6.0f;  // heavier tails
  x[5] = 30.0f;
  const qk_dtype dtypes[2] = {QK_DTYPE_S8, QK_DTYPE_U8};
  const qk_qscheme schemes[2] = {QK_QSCHEME_PER_TENSOR_SYMMETRIC, QK_QSCHEME_PER_TENSOR_AFFINE};
  uint8_t* q = malloc(n);
  float* y = malloc(n * sizeof(float));
  assert_non_null(q);
  assert_non_null(y);
  const int64_t shape[1] = {n};
  for (int s = 0; s < 2; ++s) {
    double mse[2];
    const qk_observer_kind kinds[2] = {QK_OBSERVER_MSE, QK_OBSERVER_MINMAX};
    for (int k = 0; k < 2; ++k) {
      qk_observer* obs = make_obs(kinds[k], dtypes[s], schemes[s]);
      observe(obs, x, n);
      qk_qparams* qp = NULL;
      assert_int_equal(qk_observer_compute_qparams(obs, &qp), QK_OK);
      assert_int_equal(qk_quantize(qp, x, shape, 1, q, n, NULL), QK_OK);
      assert_int_equal(qk_dequantize(qp, q, n, shape, 1, y), QK_OK);
      assert_int_equal(qk_error_stats(x, y, n, NULL, NULL, &mse[k]), QK_OK);
      qk_qparams_destroy(qp);
      qk_observer_destroy(obs);
    }
    assert_true(mse[0] < 0.8 * mse[1]);
  }
  free(q);
  free(y);
  free(x);
}

// ------------------------------------------------------------------------------------------------
// Merge

// Two halves that share the global min and max merge into exactly the state (and qparams) of
// observing all the data at once.
static void test_merge_aligned_halves_equals_whole(void** state) {
  (void)state;
  enum { n = 1 << 16, half = n / 2 };
  float* x = normal_data(n, 12, 1.5f);
  float mn = x[0], mx = x[0];
  for (size_t i = 0; i < n; ++i) {
    mn = fminf(mn, x[i]);
    mx = fmaxf(mx, x[i]);
  }
  x[0] = x[half] = mn;
  x[1] = x[half + 1] = mx;
  for (int k = 0; k < 4; ++k) {
    qk_observer* whole = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    qk_observer* a = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    qk_observer* b = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    observe(whole, x, n);
    observe(a, x, half);
    observe(b, x + half, half);
    assert_int_equal(qk_observer_merge(a, b), QK_OK);
    assert_same_state(a, whole);
    float sa, sw;
    int32_t za, zw;
    qparams_of(a, &sa, &za);
    qparams_of(whole, &sw, &zw);
    assert_true(sa == sw);
    assert_int_equal(za, zw);
    qk_observer_destroy(whole);
    qk_observer_destroy(a);
    qk_observer_destroy(b);
  }
  free(x);
}

// Halves with different ranges re-bin onto the union range: the merged qparams stay within 2% of
// observing both batches in sequence, and no sample is lost.
static void test_merge_unaligned_halves_is_close(void** state) {
  (void)state;
  enum { n = 1 << 16 };
  float* x = normal_data(n, 13, 1.0f);
  float* y = normal_data(n, 14, 1.7f);
  for (int k = 0; k < 4; ++k) {
    qk_observer* seq = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    qk_observer* a = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    qk_observer* b = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    observe(seq, x, n);
    observe(seq, y, n);
    observe(a, x, n);
    observe(b, y, n);
    assert_int_equal(qk_observer_merge(a, b), QK_OK);
    float sa, ss;
    int32_t za, zs;
    qparams_of(a, &sa, &za);
    qparams_of(seq, &ss, &zs);
    assert_true(fabsf(sa / ss - 1.0f) < 0.02f);
    assert_true(abs(za - zs) <= 3);
    assert_true(fabs(observer_total(a) - 2.0 * n) < 1e-6 * n);
    qk_observer_destroy(seq);
    qk_observer_destroy(a);
    qk_observer_destroy(b);
  }
  free(x);
  free(y);
}

// Merging into a fresh observer yields a copy of the source (same state bytes); merging an empty
// source changes nothing; different options refuse to merge.
static void test_merge_into_empty_is_a_copy(void** state) {
  (void)state;
  enum { n = 4096 };
  float* x = normal_data(n, 15, 1.0f);
  x[3] = NAN;
  for (int k = 0; k < 4; ++k) {
    qk_observer* src = make_obs(kKinds[k], QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
    qk_observer* dst = make_obs(kKinds[k], QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
    qk_observer* empty = make_obs(kKinds[k], QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
    observe(src, x, n);
    assert_int_equal(qk_observer_merge(dst, src), QK_OK);
    assert_same_state(dst, src);
    assert_int_equal(qk_observer_merge(dst, empty), QK_OK);
    assert_same_state(dst, src);
    qk_observer* other = make_obs(kKinds[k], QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
    assert_int_equal(qk_observer_set_param(other, QK_OBSERVER_PARAM_BINS, 1024), QK_OK);
    assert_int_equal(qk_observer_merge(dst, other), QK_ERR_INVALID_ARGUMENT);
    qk_observer_destroy(src);
    qk_observer_destroy(dst);
    qk_observer_destroy(empty);
    qk_observer_destroy(other);
  }
  free(x);
}

// ------------------------------------------------------------------------------------------------
// Serialized state

// save -> load -> save is byte-identical and keeps options, range and qparams, for every kind with
// non-default options and a histogram that was grown (fractional counts).
static void test_state_roundtrip_is_exact(void** state) {
  (void)state;
  enum { n = 3000 };
  float* x = normal_data(n, 16, 1.0f);
  float* y = normal_data(n, 17, 3.0f);
  for (int k = 0; k < 4; ++k) {
    qk_observer* obs = make_obs(kKinds[k], QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
    assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 500), QK_OK);
    if (kKinds[k] == QK_OBSERVER_HISTOGRAM) qk_observer_set_param(obs, QK_OBSERVER_PARAM_UPSAMPLE_RATE, 7);
    if (kKinds[k] == QK_OBSERVER_PERCENTILE) qk_observer_set_param(obs, QK_OBSERVER_PARAM_PERCENTILE, 99.5);
    observe(obs, x, n);
    observe(obs, y, n);
    size_t size;
    uint8_t* bytes = save(obs, &size);
    qk_observer* back = NULL;
    assert_int_equal(qk_observer_load(bytes, size, &back), QK_OK);
    assert_same_state(obs, back);
    float s1, s2, lo1, hi1, lo2, hi2;
    int32_t z1, z2;
    qparams_of(obs, &s1, &z1);
    qparams_of(back, &s2, &z2);
    assert_true(s1 == s2);
    assert_int_equal(z1, z2);
    range_of(obs, &lo1, &hi1);
    range_of(back, &lo2, &hi2);
    assert_true(lo1 == lo2 && hi1 == hi2);
    double v = 0.0;
    assert_int_equal(qk_observer_get_param(back, QK_OBSERVER_PARAM_BINS, &v), QK_OK);
    assert_true(v == 500.0);
    free(bytes);
    qk_observer_destroy(obs);
    qk_observer_destroy(back);
  }
  free(x);
  free(y);
}

// Re-sealed (valid checksum) payloads that break an invariant are refused with QK_ERR_CORRUPT:
// bin count mismatch or absurd, NaN / negative / all-zero counts, min > max, bad options or flags.
static void test_state_rejects_hostile_payloads(void** state) {
  (void)state;
  const float x[6] = {-1.0f, -0.25f, 0.0f, 0.5f, 0.75f, 2.0f};
  qk_observer* obs = make_obs(QK_OBSERVER_HISTOGRAM, QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE);
  assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 16), QK_OK);
  observe(obs, x, 6);
  size_t size;
  uint8_t* good = save(obs, &size);
  uint8_t* bad = malloc(size);
  assert_non_null(bad);
  uint8_t* p = bad + kPayload;
  memcpy(bad, good, size);
  reseal(bad, size);
  assert_int_equal(load_status(bad, size), QK_OK);  // re-sealing alone is harmless
  // One mutation per case, applied to a fresh copy.
  for (int c = 0; c < 13; ++c) {
    memcpy(bad, good, size);
    switch (c) {
      case 0: put_le(p + kNumBins, 15, 8); break;                       // fewer bins than the option
      case 1: put_le(p + kNumBins, (uint64_t)1 << 60, 8); break;        // absurd count, never allocated
      case 2: put_f64(p + kCounts + 8 * 3, NAN); break;                 // NaN count
      case 3: put_f64(p + kCounts + 8 * 4, -1.0); break;                // negative count
      case 4: put_f32(p + kDataMin, 3.0f); break;                       // observed min > max
      case 5: put_f32(p + kLo, 2.5f); put_f32(p + kHi, 1.0f); break;    // histogram lo > hi
      case 6: put_le(p + kBins, 8, 4); break;                           // bins option out of range
      case 7: p[kHasHist] = 2; break;                                   // invalid flag
      case 8: for (int k = 0; k < 16; ++k) put_f64(p + kCounts + 8 * k, 0.0); break;  // no mass
      case 9: p[kUpdated] = 0; break;                                   // histogram but never updated
      case 10: put_f32(p + kLo, -2.0f); break;                          // range does not match data
      case 11: put_le(p + kUpsample, 0, 4); break;                      // upsample out of range
      case 12: put_f64(p + kCounts + 8 * 2, INFINITY); break;           // infinite count
    }
    reseal(bad, size);
    assert_int_equal(load_status(bad, size), QK_ERR_CORRUPT);
  }
  free(good);
  free(bad);
  qk_observer_destroy(obs);
}

// Every truncation and every single-bit flip of a saved state is QK_ERR_CORRUPT; flips re-sealed
// with a valid checksum reach the payload checks and give QK_OK or QK_ERR_CORRUPT, never a crash,
// and whatever loads stays usable.
static void test_state_truncated_or_flipped_is_corrupt(void** state) {
  (void)state;
  const float x[8] = {-3.0f, -1.0f, -0.5f, 0.0f, 0.1f, 0.7f, 1.5f, NAN};
  for (int k = 0; k < 4; ++k) {
    qk_observer* obs = make_obs(kKinds[k], QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC);
    assert_int_equal(qk_observer_set_param(obs, QK_OBSERVER_PARAM_BINS, 16), QK_OK);
    observe(obs, x, 8);
    size_t size;
    uint8_t* good = save(obs, &size);
    uint8_t* buf = malloc(size);
    assert_non_null(buf);
    for (size_t cut = 0; cut < size; ++cut) {
      memcpy(buf, good, cut);
      assert_int_equal(load_status(buf, cut), QK_ERR_CORRUPT);
    }
    for (size_t bit = 0; bit < 8 * size; ++bit) {
      memcpy(buf, good, size);
      buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      assert_int_equal(load_status(buf, size), QK_ERR_CORRUPT);
      if (bit / 8 < size - 8) {
        reseal(buf, size);
        const qk_status st = load_status(buf, size);
        assert_true(st == QK_OK || st == QK_ERR_CORRUPT);
      }
    }
    free(buf);
    free(good);
    qk_observer_destroy(obs);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_params_defaults_and_validation),
      cmocka_unit_test(test_reset_forgets_data_and_unlocks_options),
      cmocka_unit_test(test_no_finite_data_is_a_state_error),
      cmocka_unit_test(test_nonfinite_values_are_skipped_and_counted),
      cmocka_unit_test(test_all_equal_values),
      cmocka_unit_test(test_extreme_ranges),
      cmocka_unit_test(test_fast_binning_matches_exact_binning),
      cmocka_unit_test(test_histogram_levels_follow_dtype_width),
      cmocka_unit_test(test_percentile_uniform_quantiles),
      cmocka_unit_test(test_percentile_100_is_minmax),
      cmocka_unit_test(test_outliers_are_clipped_unlike_minmax),
      cmocka_unit_test(test_entropy_range_follows_spec),
      cmocka_unit_test(test_mse_range_lowers_measured_error),
      cmocka_unit_test(test_merge_aligned_halves_equals_whole),
      cmocka_unit_test(test_merge_unaligned_halves_is_close),
      cmocka_unit_test(test_merge_into_empty_is_a_copy),
      cmocka_unit_test(test_state_roundtrip_is_exact),
      cmocka_unit_test(test_state_rejects_hostile_payloads),
      cmocka_unit_test(test_state_truncated_or_flipped_is_corrupt),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
