// SPDX-License-Identifier: Apache-2.0
// Every kernel path (scalar, avx2, avxvnni, avx512vnni, neon, neondot) gives byte-identical
// quantize / dequantize / cast results to the scalar path and to a naive oracle written here,
// on random data, every tail length and every edge value; plus QK_ISA forcing. Run without
// QK_ISA it tests every path this CPU supports via qk_set_isa(); with QK_ISA=<name> (one CTest
// registration per path) it tests the path chosen from the environment.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quantkit/quantkit.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char* const kIsas[] = {"scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot"};

// ---- helpers ----------------------------------------------------------------------------------

static uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_u32(void) {  // splitmix64: fixed seed, same data on every run
  uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (uint32_t)((z ^ (z >> 31)) >> 32);
}
static float next_normal(void) {  // Box-Muller
  const double u1 = (next_u32() + 1.0) / 4294967297.0, u2 = next_u32() / 4294967296.0;
  return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

// Makes `isa` the active path; 0 if this build or CPU lacks it (the caller then skips).
static int use_isa(const char* isa) {
  int supported = 0;
  assert_int_equal(qk_isa_supported(isa, &supported), QK_OK);
  if (!supported) return 0;
  if (strcmp(qk_isa_name(), isa) != 0) assert_int_equal(qk_set_isa(isa), QK_OK);
  assert_string_equal(qk_isa_name(), isa);
  return 1;
}

// Random normal data at several magnitudes, then every special value the spec has a rule for:
// +-0, +-Inf, quiet/signalling NaNs with payloads, denormals, FLT_MIN/MAX, powers of two past
// int32, and every exact .5 tie in [-300, 300] with its two neighbours.
#define POOL_LEN 4096
static float g_pool[POOL_LEN];
static void fill_pool(void) {
  static const uint32_t special[] = {
      0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u, 0x7FC00001u, 0x7F800001u,
      0xFFBFFFFFu, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x7FA5A5A5u, 0x00000001u, 0x80000001u, 0x007FFFFFu, 0x807FFFFFu,
      0x00800000u, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x4F000000u, 0xCF000000u, 0x4F800000u, 0x5F000000u};
  size_t n = 0;
  const float mags[] = {1.0f, 30.0f, 300.0f, 1e6f};
  for (size_t m = 0; m < ARRAY_LEN(mags); ++m)
    for (int i = 0; i < 500; ++i) g_pool[n++] = next_normal() * mags[m];
  for (size_t i = 0; i < ARRAY_LEN(special); ++i) g_pool[n++] = float_of(special[i]);
  for (int k = -300; k <= 300; ++k) {
    const float t = (float)k + 0.5f;
    g_pool[n++] = t;
    g_pool[n++] = nextafterf(t, 0.0f);
    g_pool[n++] = nextafterf(t, 1e9f);
  }
  while (n < POOL_LEN) g_pool[n++] = next_normal() * 100.0f;
  for (size_t i = POOL_LEN - 1; i > 0; --i) {  // shuffle so specials land in bodies and tails
    const size_t j = next_u32() % (i + 1);
    const float t = g_pool[i];
    g_pool[i] = g_pool[j];
    g_pool[j] = t;
  }
}

// Only edge values for one (scale, range) case, densely: the pool's specials, then values whose
// product lands on, half a step and one step either side of both clamp bounds (plus neighbours).
static void fill_extremes(float* buf, size_t n, float scale, int32_t lo, int32_t hi) {
  static const uint32_t special[] = {0x7FC00000u, 0xFF800001u, 0x7F800000u, 0xFF800000u, 0x7F7FFFFFu,
                                     0xFF7FFFFFu, 0x00000001u, 0x80000000u, 0x807FFFFFu, 0x7FBFFFFFu};
  float edges[ARRAY_LEN(special) + 30];
  size_t m = 0;
  for (size_t i = 0; i < ARRAY_LEN(special); ++i) edges[m++] = float_of(special[i]);
  const int32_t bounds[2] = {lo, hi};
  for (int b = 0; b < 2; ++b)
    for (int d = -2; d <= 2; ++d) {
      const float v = ((float)bounds[b] + 0.5f * (float)d) * scale;
      edges[m++] = v;
      edges[m++] = nextafterf(v, -INFINITY);
      edges[m++] = nextafterf(v, INFINITY);
    }
  for (size_t i = 0; i < n; ++i) buf[i] = edges[(i * 7 + i / m) % m];
}

// Lengths 0..70 hit every tail of 8/16/32/64-wide loops; 1001 and 1027 are long odd ones.
static size_t g_lengths[73];
static void fill_lengths(void) {
  for (size_t i = 0; i <= 70; ++i) g_lengths[i] = i;
  g_lengths[71] = 1001;
  g_lengths[72] = 1027;
}

// ---- naive oracles (independent of the library's formulas) ------------------------------------

// PyTorch's formula with the clamp after adding zp, in double so nothing can overflow.
static int32_t oracle_quantize(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  if (isnan(x)) return zp;
  const float p = x * (1.0f / scale);  // multiply by the float reciprocal, as PyTorch does
  const double r = (double)nearbyintf(p) + zp;
  return r < qmin ? qmin : (r > qmax ? qmax : (int32_t)r);
}

// The product of an 8-bit integer and a float is exact in double: one rounding to float.
static float oracle_dequantize(int32_t q, float scale, int32_t zp) { return (float)((double)(q - zp) * scale); }

// f32 -> 16-bit float by value: count quanta of the target format in double (exact), round half
// to even with nearbyint, re-encode. mant_bits/min_exp/max_exp describe binary16 or bfloat16.
static uint16_t oracle_narrow(float f, int mant_bits, int min_exp, int max_exp) {
  const uint32_t u = bits_of(f);
  const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  const int exp_bias = max_exp, exp_all_ones = 2 * max_exp + 1;
  if (isnan(f)) {  // quiet, keeping sign and the top payload bits
    const uint32_t payload = (u & 0x7FFFFFu) >> (23 - mant_bits);
    return (uint16_t)(sign | (exp_all_ones << mant_bits) | (1u << (mant_bits - 1)) | payload);
  }
  if (isinf(f)) return (uint16_t)(sign | (exp_all_ones << mant_bits));
  const double a = fabs((double)f);
  int e;
  frexp(a, &e);  // a in [2^(e-1), 2^e)
  int quantum = e - 1 - mant_bits;
  if (quantum < min_exp - mant_bits) quantum = min_exp - mant_bits;  // subnormal spacing
  const double r = ldexp(nearbyint(ldexp(a, -quantum)), quantum);
  const double max_finite = ldexp(2.0 - ldexp(1.0, -mant_bits), max_exp);
  if (r > max_finite) return (uint16_t)(sign | (exp_all_ones << mant_bits));
  if (r < ldexp(1.0, min_exp)) return (uint16_t)(sign | (uint32_t)ldexp(r, mant_bits - min_exp));
  int re;
  frexp(r, &re);
  const uint32_t mant = (uint32_t)ldexp(ldexp(r, -(re - 1)) - 1.0, mant_bits);
  return (uint16_t)(sign | ((uint32_t)(re - 1 + exp_bias) << mant_bits) | mant);
}
static uint16_t oracle_f16(float f) { return oracle_narrow(f, 10, -14, 15); }
static uint16_t oracle_bf16(float f) { return oracle_narrow(f, 7, -126, 127); }

// 16-bit float -> f32 by value; NaN keeps sign and payload (as the spec in half.h does).
static float oracle_widen(uint16_t h, int mant_bits, int min_exp, int max_exp) {
  const int exp_field = (h & 0x7FFF) >> mant_bits, exp_all_ones = 2 * max_exp + 1;
  const uint32_t mant = h & ((1u << mant_bits) - 1u);
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  if (exp_field == exp_all_ones) {
    /* f16 NaNs widen quiet (bit 22 set); bf16 widening is the plain 16-bit shift. */
    const uint32_t quiet = (mant != 0 && mant_bits == 10) ? 0x400000u : 0u;
    return float_of(sign | 0x7F800000u | (mant << (23 - mant_bits)) | quiet);
  }
  const double mag = exp_field == 0 ? ldexp(mant, min_exp - mant_bits)
                                    : ldexp((double)((1u << mant_bits) | mant), exp_field - max_exp - mant_bits);
  return float_of(sign | bits_of((float)mag));
}
static float oracle_f16_to_f32(uint16_t h) { return oracle_widen(h, 10, -14, 15); }
static float oracle_bf16_to_f32(uint16_t h) { return oracle_widen(h, 7, -126, 127); }

// ---- quantize / dequantize -------------------------------------------------------------------

typedef struct {
  qk_dtype dtype;
  int32_t qmin, qmax, zp;
} range_case;

// Full, symmetric-narrowed, reduced, custom and 4-bit ranges with zero points at both ends.
static const range_case kRanges[] = {
    {QK_DTYPE_S8, -128, 127, -128}, {QK_DTYPE_S8, -128, 127, 127}, {QK_DTYPE_S8, -128, 127, 0},
    {QK_DTYPE_S8, -127, 127, 0},    {QK_DTYPE_S8, -64, 63, -64},   {QK_DTYPE_S8, -3, 100, 100},
    {QK_DTYPE_U8, 0, 255, 0},       {QK_DTYPE_U8, 0, 255, 255},    {QK_DTYPE_U8, 0, 255, 128},
    {QK_DTYPE_U8, 0, 127, 127},     {QK_DTYPE_U8, 0, 200, 200},    {QK_DTYPE_S4, -8, 7, -8},
    {QK_DTYPE_S4, -8, 7, 7},        {QK_DTYPE_U4, 0, 15, 0},       {QK_DTYPE_U4, 0, 15, 15}};
static const float kScales[] = {1.0f, 0.5f, 2.0f, 0.0173f, 3.7f, 1e-30f, 1e30f};

static int is_4bit(qk_dtype d) { return d == QK_DTYPE_S4 || d == QK_DTYPE_U4; }
static size_t storage(qk_dtype d, size_t n) { return is_4bit(d) ? (n + 1) / 2 : n; }

// Stores one code the way the library lays it out (4-bit: element 2i in the low nibble).
static void put_code(uint8_t* dst, qk_dtype d, size_t i, int32_t q) {
  if (!is_4bit(d)) {
    dst[i] = (uint8_t)q;
    return;
  }
  const uint8_t nib = (uint8_t)(q & 0xF);
  dst[i / 2] = (i & 1) ? (uint8_t)((dst[i / 2] & 0x0F) | (nib << 4)) : (uint8_t)((dst[i / 2] & 0xF0) | nib);
}
static int32_t get_code(const uint8_t* src, qk_dtype d, size_t i) {
  if (d == QK_DTYPE_S8) return (int8_t)src[i];
  if (d == QK_DTYPE_U8) return src[i];
  const int32_t nib = (src[i / 2] >> ((i & 1) * 4)) & 0xF;
  return (d == QK_DTYPE_S4 && nib >= 8) ? nib - 16 : nib;
}

// Quantizes under `isa` and under scalar; both must equal the oracle byte for byte (zeroed
// buffers, so the unused high nibble of an odd 4-bit tail is compared too) with equal NaN counts.
// param_of(i) gives the (scale, zp) index of element i (0 for per-tensor).
static void check_quantize(const char* isa, const qk_qparams* qp, const range_case* rc, const float* scales,
                           const int32_t* zps, const float* x, const int64_t* shape, size_t rank, size_t n,
                           size_t (*param_of)(size_t i, const int64_t* shape)) {
  static uint8_t got[2048], want[2048], oracle[2048];
  const size_t bytes = storage(rc->dtype, n);
  uint64_t nans_got = 99, nans_want = 98, nans_oracle = 0;
  memset(got, 0, sizeof got);
  memset(want, 0, sizeof want);
  memset(oracle, 0, sizeof oracle);
  assert_true(use_isa(isa));
  assert_int_equal(qk_quantize(qp, x, shape, rank, got, bytes, &nans_got), QK_OK);
  assert_true(use_isa("scalar"));
  assert_int_equal(qk_quantize(qp, x, shape, rank, want, bytes, &nans_want), QK_OK);
  for (size_t i = 0; i < n; ++i) {
    const size_t p = param_of(i, shape);
    nans_oracle += isnan(x[i]) != 0;
    put_code(oracle, rc->dtype, i, oracle_quantize(x[i], scales[p], zps[p], rc->qmin, rc->qmax));
  }
  assert_memory_equal(got, want, sizeof got);
  assert_memory_equal(got, oracle, sizeof got);
  assert_int_equal(nans_got, nans_want);
  assert_int_equal(nans_got, nans_oracle);
}

static size_t per_tensor_param(size_t i, const int64_t* shape) {
  (void)i;
  (void)shape;
  return 0;
}
static size_t axis0_param(size_t i, const int64_t* shape) { return i / (size_t)shape[1]; }
static size_t axis1_param(size_t i, const int64_t* shape) { return i % (size_t)shape[1]; }

// Per-tensor quantize equals scalar and the oracle for every range, zero point, scale, length
// 0..70/1001/1027 and misaligned source, on random and extreme values (NaN counted the same).
static void test_isa_quantize_per_tensor_matches_scalar(void** state) {
  const char* isa = (const char*)*state;
  if (!use_isa(isa)) skip();
  for (size_t r = 0; r < ARRAY_LEN(kRanges); ++r) {
    for (size_t s = 0; s < ARRAY_LEN(kScales); ++s) {
      qk_qparams* qp = NULL;
      assert_int_equal(qk_qparams_create(kRanges[r].dtype, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &kScales[s],
                                         &kRanges[r].zp, NULL, 1, kRanges[r].qmin, kRanges[r].qmax, &qp),
                       QK_OK);
      static float extremes[1100];
      fill_extremes(extremes, ARRAY_LEN(extremes), kScales[s], kRanges[r].qmin - kRanges[r].zp,
                    kRanges[r].qmax - kRanges[r].zp);
      for (size_t l = 0; l < ARRAY_LEN(g_lengths); ++l) {
        const size_t n = g_lengths[l];
        const int64_t shape[1] = {(int64_t)n};
        const float* x = g_pool + (r * 131 + s * 17 + l) % (POOL_LEN - 1100);  // varying alignment and data
        check_quantize(isa, qp, &kRanges[r], &kScales[s], &kRanges[r].zp, x, shape, 1, n, per_tensor_param);
        check_quantize(isa, qp, &kRanges[r], &kScales[s], &kRanges[r].zp, extremes + l % 3, shape, 1, n,
                       per_tensor_param);
      }
      qk_qparams_destroy(qp);
    }
  }
}

// Per-channel quantize (axis 0: one kernel call per row of every length; axis 1: calls of one
// element) equals scalar and the oracle, with zero points at both ends of the range.
static void test_isa_quantize_per_channel_matches_scalar(void** state) {
  const char* isa = (const char*)*state;
  if (!use_isa(isa)) skip();
  const float scales[5] = {0.02f, 1.0f, 0.5f, 7.25f, 1e-3f};
  for (size_t r = 0; r < ARRAY_LEN(kRanges); ++r) {
    const int32_t zps[5] = {kRanges[r].qmin, kRanges[r].qmax, kRanges[r].zp, kRanges[r].qmin, kRanges[r].qmax};
    for (int axis = 0; axis <= 1; ++axis) {
      for (size_t len = 1; len <= 67; len += (len < 40 ? 1 : 27)) {
        const int64_t shape[2] = {axis == 0 ? 5 : (int64_t)len, axis == 0 ? (int64_t)len : 5};
        qk_qparams* qp = NULL;
        assert_int_equal(qk_qparams_create(kRanges[r].dtype, QK_QSCHEME_PER_CHANNEL_AFFINE, axis, 1, scales, zps,
                                           NULL, 5, kRanges[r].qmin, kRanges[r].qmax, &qp),
                         QK_OK);
        const float* x = g_pool + (r * 97 + len * 5 + (size_t)axis) % (POOL_LEN - 400);
        check_quantize(isa, qp, &kRanges[r], scales, zps, x, shape, 2, 5 * len, axis == 0 ? axis0_param : axis1_param);
        qk_qparams_destroy(qp);
      }
    }
  }
}

// Dequantize of every code (all 256 byte values, odd lengths, per-tensor and per-channel,
// 8- and 4-bit) equals scalar and float(q - zp) * scale computed independently.
static void test_isa_dequantize_matches_scalar(void** state) {
  const char* isa = (const char*)*state;
  if (!use_isa(isa)) skip();
  static uint8_t codes[3200];
  static float got[3200], want[3200], oracle[3200];
  for (size_t i = 0; i < sizeof codes; ++i) codes[i] = (uint8_t)(i * 7 + 3);
  const float scales[3] = {0.0173f, 3.0e38f, 2e-38f};  // ordinary, overflowing to Inf, tiny (denormal products)
  for (size_t r = 0; r < ARRAY_LEN(kRanges); ++r) {
    const range_case* rc = &kRanges[r];
    const int32_t zps[3] = {rc->zp, rc->qmin, rc->qmax};
    for (size_t l = 0; l < ARRAY_LEN(g_lengths); ++l) {
      // Layouts 0..2: per-tensor with (scale, zp) pair 0, 1 or 2; layout 3: per-channel, 3 rows.
      for (size_t layout = 0; layout < 4; ++layout) {
        const int per_channel = layout == 3;
        const size_t first = per_channel ? 0 : layout;
        const size_t n = g_lengths[l] * (per_channel ? 3 : 1);
        const int64_t shape[2] = {per_channel ? 3 : 1, (int64_t)g_lengths[l]};
        const uint8_t* src = codes + 1 + l % 5;  // misaligned
        qk_qparams* qp = NULL;
        assert_int_equal(qk_qparams_create(rc->dtype, per_channel ? QK_QSCHEME_PER_CHANNEL_AFFINE : QK_QSCHEME_PER_TENSOR_AFFINE,
                                           0, 1, scales + first, zps + first, NULL, per_channel ? 3 : 1, rc->qmin,
                                           rc->qmax, &qp),
                         QK_OK);
        memset(got, 0, sizeof got);
        memset(want, 0, sizeof want);
        assert_true(use_isa(isa));
        assert_int_equal(qk_dequantize(qp, src, storage(rc->dtype, n), shape, 2, got), QK_OK);
        assert_true(use_isa("scalar"));
        assert_int_equal(qk_dequantize(qp, src, storage(rc->dtype, n), shape, 2, want), QK_OK);
        memset(oracle, 0, sizeof oracle);
        for (size_t i = 0; i < n; ++i) {
          const size_t p = per_channel ? i / (size_t)g_lengths[l] : first;
          oracle[i] = oracle_dequantize(get_code(src, rc->dtype, i), scales[p], zps[p]);
        }
        assert_memory_equal(got, want, sizeof got);
        assert_memory_equal(got, oracle, sizeof got);
        qk_qparams_destroy(qp);
      }
    }
  }
}

// ---- casts ------------------------------------------------------------------------------------

// f32 -> f16 / bf16 on every float whose low bits sit at a rounding boundary (exact tie, one
// either side, truncated, all ones) for all values of the high bits, which covers every tie,
// overflow, subnormal result and NaN payload class; then tails. Equal to scalar and the oracle.
static void check_narrow(const char* isa, qk_dtype dst_dtype) {
  const int drop = dst_dtype == QK_DTYPE_F16 ? 13 : 16;
  const uint32_t half = 1u << (drop - 1), low_mask = (1u << drop) - 1u;
  const uint32_t lows[6] = {0u, 1u, half - 1u, half, half + 1u, low_mask};
  const size_t n = ((size_t)1 << (32 - drop)) * 6;
  float* x = malloc(n * sizeof *x);
  uint16_t* got = malloc((n + 1) * sizeof *got);  // + 1: a guard element past the end
  uint16_t* want = malloc((n + 1) * sizeof *want);
  assert_non_null(x);
  assert_non_null(got);
  assert_non_null(want);
  for (size_t i = 0; i < n; ++i) x[i] = float_of((uint32_t)((i / 6) << drop) | lows[i % 6]);
  for (size_t l = 0; l <= ARRAY_LEN(g_lengths); ++l) {
    // Last round: the whole sweep at once; before it, every tail length on the random pool.
    const float* src = l < ARRAY_LEN(g_lengths) ? g_pool + 3 + l : x;
    const size_t count = l < ARRAY_LEN(g_lengths) ? g_lengths[l] : n;
    memset(got, 0, count * sizeof *got + 2);
    memset(want, 0, count * sizeof *want + 2);
    assert_true(use_isa(isa));
    assert_int_equal(qk_cast(src, QK_DTYPE_F32, got, dst_dtype, count), QK_OK);
    assert_true(use_isa("scalar"));
    assert_int_equal(qk_cast(src, QK_DTYPE_F32, want, dst_dtype, count), QK_OK);
    assert_memory_equal(got, want, count * sizeof *got + 2);  // + 2: nothing written past the end
    for (size_t i = 0; i < count; ++i) {
      const uint16_t expect = dst_dtype == QK_DTYPE_F16 ? oracle_f16(src[i]) : oracle_bf16(src[i]);
      if (got[i] != expect) fail_msg("%s: f32 0x%08x -> 0x%04x, oracle 0x%04x", isa, bits_of(src[i]), got[i], expect);
    }
  }
  free(x);
  free(got);
  free(want);
}

// f16 / bf16 -> f32 for all 65536 codes (signalling NaNs included) and every tail length.
static void check_widen(const char* isa, qk_dtype src_dtype) {
  static uint16_t codes[65536 + 8];
  static float got[65536 + 8], want[65536 + 8];
  for (size_t i = 0; i < ARRAY_LEN(codes); ++i) codes[i] = (uint16_t)(i - 1);
  for (size_t l = 0; l <= ARRAY_LEN(g_lengths); ++l) {
    const size_t count = l < ARRAY_LEN(g_lengths) ? g_lengths[l] : 65536;
    const uint16_t* src = l < ARRAY_LEN(g_lengths) ? codes + 0x7BF0 + l : codes + 1;  // tails cross Inf/NaN codes
    memset(got, 0, sizeof got);
    memset(want, 0, sizeof want);
    assert_true(use_isa(isa));
    assert_int_equal(qk_cast(src, src_dtype, got, QK_DTYPE_F32, count), QK_OK);
    assert_true(use_isa("scalar"));
    assert_int_equal(qk_cast(src, src_dtype, want, QK_DTYPE_F32, count), QK_OK);
    assert_memory_equal(got, want, sizeof got);
    for (size_t i = 0; i < count; ++i) {
      const float expect = src_dtype == QK_DTYPE_F16 ? oracle_f16_to_f32(src[i]) : oracle_bf16_to_f32(src[i]);
      if (bits_of(got[i]) != bits_of(expect))
        fail_msg("%s: 0x%04x -> 0x%08x, oracle 0x%08x", isa, src[i], bits_of(got[i]), bits_of(expect));
    }
  }
}

// f32 -> f16 (F16C / FCVTN round to nearest even) and back equal scalar and the oracle.
static void test_isa_cast_f16_matches_scalar(void** state) {
  const char* isa = (const char*)*state;
  if (!use_isa(isa)) skip();
  check_narrow(isa, QK_DTYPE_F16);
  check_widen(isa, QK_DTYPE_F16);
}

// f32 -> bf16 (integer round to nearest even, NaN quieted) and back equal scalar and the oracle.
static void test_isa_cast_bf16_matches_scalar(void** state) {
  const char* isa = (const char*)*state;
  if (!use_isa(isa)) skip();
  check_narrow(isa, QK_DTYPE_BF16);
  check_widen(isa, QK_DTYPE_BF16);
}

// ---- selection --------------------------------------------------------------------------------

// Unknown names are rejected, unsupported ones leave the current path in place, "auto" works.
static void test_isa_set_rejects_unknown_and_unsupported(void** state) {
  (void)state;
  assert_int_equal(qk_set_isa("auto"), QK_OK);
  const char* best = qk_isa_name();
  assert_string_not_equal(best, "invalid");
  assert_int_equal(qk_set_isa("sse9"), QK_ERR_INVALID_ARGUMENT);
  for (size_t i = 0; i < ARRAY_LEN(kIsas); ++i) {
    int supported = -1;
    assert_int_equal(qk_isa_supported(kIsas[i], &supported), QK_OK);
    assert_int_equal(qk_set_isa(kIsas[i]), supported ? QK_OK : QK_ERR_UNSUPPORTED);
    if (!supported) continue;
    assert_string_equal(qk_isa_name(), kIsas[i]);
    assert_int_equal(qk_set_isa("auto"), QK_OK);
  }
  assert_string_equal(qk_isa_name(), best);
}

// Under QK_ISA=<name>: a supported name is the active path from the start and computes correct
// codes without any qk_set_isa(); an unknown or unsupported name makes qk_isa_name() "invalid" and
// every dispatched call fail with QK_ERR_UNSUPPORTED, outputs untouched (no silent fallback).
static void test_isa_env_forces_path(void** state) {
  const char* forced = (const char*)*state;
  int supported = 0;
  if (qk_isa_supported(forced, &supported) != QK_OK) supported = 0;  // unknown name
  const float x[5] = {0.26f, -1.5f, NAN, 2.5f, 1e9f};
  const int64_t shape[1] = {5};
  const float scale = 0.5f;
  const int32_t zp = 3;
  qk_qparams* qp = NULL;
  assert_int_equal(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp, NULL, 1, -128, 127, &qp), QK_OK);
  int8_t q[5] = {9, 9, 9, 9, 9};
  float y[5] = {9, 9, 9, 9, 9};
  uint16_t h[5] = {9, 9, 9, 9, 9};
  uint64_t nans = 77;
  if (supported) {
    assert_string_equal(qk_isa_name(), forced);
    assert_int_equal(qk_quantize(qp, x, shape, 1, q, sizeof q, &nans), QK_OK);
    const int8_t want[5] = {4, 0, 3, 8, 127};  // 0.52 -> 1, -3, NaN -> zp, 5, saturated
    assert_memory_equal(q, want, sizeof q);
    assert_int_equal(nans, 1);
  } else {
    assert_string_equal(qk_isa_name(), "invalid");
    assert_int_equal(qk_quantize(qp, x, shape, 1, q, sizeof q, &nans), QK_ERR_UNSUPPORTED);
    assert_int_equal(qk_dequantize(qp, q, sizeof q, shape, 1, y), QK_ERR_UNSUPPORTED);
    assert_int_equal(qk_cast(x, QK_DTYPE_F32, h, QK_DTYPE_F16, 5), QK_ERR_UNSUPPORTED);
    assert_int_equal(nans, 77);
    assert_int_equal(q[0], 9);
    assert_true(y[0] == 9.0f);
    assert_int_equal(h[0], 9);
    assert_string_not_equal(qk_last_error(), "");
  }
  qk_qparams_destroy(qp);
}

// ---- main -------------------------------------------------------------------------------------

static int run_isa(const char* isa) {
  print_message("[ PATH     ] %s\n", isa);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_prestate(test_isa_quantize_per_tensor_matches_scalar, (void*)isa),
      cmocka_unit_test_prestate(test_isa_quantize_per_channel_matches_scalar, (void*)isa),
      cmocka_unit_test_prestate(test_isa_dequantize_matches_scalar, (void*)isa),
      cmocka_unit_test_prestate(test_isa_cast_f16_matches_scalar, (void*)isa),
      cmocka_unit_test_prestate(test_isa_cast_bf16_matches_scalar, (void*)isa),
  };
  return _cmocka_run_group_tests(isa, tests, ARRAY_LEN(tests), NULL, NULL);
}

int main(void) {
  fill_pool();
  fill_lengths();
  const char* forced = getenv("QK_ISA");
  if (forced != NULL && forced[0] != '\0' && strcmp(forced, "auto") != 0) {
    // The environment check runs first, before anything calls qk_set_isa().
    const struct CMUnitTest env_tests[] = {cmocka_unit_test_prestate(test_isa_env_forces_path, (void*)forced)};
    int failed = _cmocka_run_group_tests("QK_ISA", env_tests, ARRAY_LEN(env_tests), NULL, NULL);
    for (size_t i = 0; i < ARRAY_LEN(kIsas); ++i)
      if (strcmp(forced, kIsas[i]) == 0) failed += run_isa(kIsas[i]);
    return failed;
  }
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_isa_set_rejects_unknown_and_unsupported)};
  int failed = _cmocka_run_group_tests("selection", tests, ARRAY_LEN(tests), NULL, NULL);
  for (size_t i = 0; i < ARRAY_LEN(kIsas); ++i) failed += run_isa(kIsas[i]);
  return failed;
}
