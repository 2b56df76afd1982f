// SPDX-License-Identifier: Apache-2.0
// AVX2 (+F16C) quantize / dequantize / cast kernels. They match kernels/reference/quantize_scalar.cc
// bit for bit on every input; tests/unit/test_kernels_isa.c checks that. Without QK_BUILD_X86_SIMD
// and -mavx2 -mf16c this file is a stub and dispatch never selects it.
#include "kernels/quantize_kernels.h"

#if defined(QK_BUILD_X86_SIMD) && defined(__AVX2__) && defined(__F16C__)
#define QK_HAVE_AVX2_KERNELS 1
#include <immintrin.h>
#endif

namespace qk {

#if defined(QK_HAVE_AVX2_KERNELS)
namespace {

// The last n % 8 elements, and runs shorter than 8, go to the scalar spec itself: no second
// formula to keep in sync, and the one-element runs that per-channel (last axis) and per-group
// layouts produce cost about what they cost on the scalar path. The filler below writes this
// table before any kernel here can be reached (a plain global: no guard on the hot path).
QuantizeKernels g_spec;
inline const QuantizeKernels& spec() { return g_spec; }

// Vector bodies stay out of line, so a run shorter than 8 reaches the spec without their set-up.
#define QK_NOINLINE __attribute__((noinline))

// Calls step8(x + i, y + i) for every whole group of 8 elements and returns how many it covered.
template <typename In, typename Out, typename Step8>
inline size_t for_each8(const In* x, size_t n, Out* y, Step8 step8) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) step8(x + i, y + i);
  return i;
}

// ---- quantize -------------------------------------------------------------------------------
// Scalar spec: r = clamp(nearbyint(x * inv_scale), qmin - zp, qmax - zp); q = T(int(r) + zp).
// Clamping before rounding gives the same r (the bounds are integers and rounding is monotonic)
// and keeps cvtps2dq in range. cvtps2dq rounds with MXCSR (nearest-even by default), exactly as
// nearbyint does. max_ps/min_ps return their second operand when either is NaN, so with the
// product second a NaN survives the clamp; cvtps2dq turns it into 0x80000000, whose low byte is
// 0, and truncating (int + zp) to 8 bits then yields zp, which is what the spec stores for NaN.
// The product is a plain multiply: the build's -ffp-contract=off keeps it from becoming an FMA.
struct QuantizeConsts {
  __m256 inv_scale, lo, hi;
  __m256i zp, low_byte;
};

// Eight codes as int32 lanes holding only their low byte (so unsigned packs are truncations).
inline __m256i quantize8(const float* x, const QuantizeConsts& c) {
  const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(x), c.inv_scale);
  const __m256 r = _mm256_min_ps(c.hi, _mm256_max_ps(c.lo, p));
  return _mm256_and_si256(_mm256_add_epi32(_mm256_cvtps_epi32(r), c.zp), c.low_byte);
}

inline __m256 nan_mask(const float* x) {
  const __m256 v = _mm256_loadu_ps(x);
  return _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
}

inline uint64_t popcount8(__m256 mask) {
  return static_cast<uint64_t>(__builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(mask))));
}

// Quantizes all whole groups of 8 (s8 and u8 codes are the same low bytes of int + zp) and
// returns how many elements it covered; the caller's spec function finishes the rest.
QK_NOINLINE size_t quantize_body(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax,
                                 uint8_t* q, uint64_t* nans) {
  const QuantizeConsts c{_mm256_set1_ps(inv_scale), _mm256_set1_ps(static_cast<float>(qmin - zp)),
                         _mm256_set1_ps(static_cast<float>(qmax - zp)), _mm256_set1_epi32(zp),
                         _mm256_set1_epi32(0xFF)};
  // packus interleaves 128-bit lanes; this puts the groups of 4 bytes back in order.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  uint64_t count = 0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {  // 32 floats in, one ymm of bytes out
    const __m256 m[4] = {nan_mask(x + i), nan_mask(x + i + 8), nan_mask(x + i + 16), nan_mask(x + i + 24)};
    const __m256 any = _mm256_or_ps(_mm256_or_ps(m[0], m[1]), _mm256_or_ps(m[2], m[3]));
    if (!_mm256_testz_ps(any, any))  // rare: most blocks hold no NaN
      count += popcount8(m[0]) + popcount8(m[1]) + popcount8(m[2]) + popcount8(m[3]);
    const __m256i ab = _mm256_packus_epi32(quantize8(x + i, c), quantize8(x + i + 8, c));
    const __m256i cd = _mm256_packus_epi32(quantize8(x + i + 16, c), quantize8(x + i + 24, c));
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd), order);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), bytes);
  }
  i += for_each8(x + i, n - i, q + i, [&](const float* xs, uint8_t* qs) {
    count += popcount8(nan_mask(xs));
    const __m256i w = _mm256_packus_epi32(quantize8(xs, c), _mm256_setzero_si256());
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(w, w), order);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(qs), _mm256_castsi256_si128(bytes));
  });
  *nans = count;
  return i;
}

uint64_t quantize_s8(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax, int8_t* q) {
  if (n < 8) return spec().quantize_s8(x, n, inv_scale, zp, qmin, qmax, q);
  uint64_t nans;
  const size_t i = quantize_body(x, n, inv_scale, zp, qmin, qmax, reinterpret_cast<uint8_t*>(q), &nans);
  if (i < n) nans += spec().quantize_s8(x + i, n - i, inv_scale, zp, qmin, qmax, q + i);
  return nans;
}
uint64_t quantize_u8(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax, uint8_t* q) {
  if (n < 8) return spec().quantize_u8(x, n, inv_scale, zp, qmin, qmax, q);
  uint64_t nans;
  const size_t i = quantize_body(x, n, inv_scale, zp, qmin, qmax, q, &nans);
  if (i < n) nans += spec().quantize_u8(x + i, n - i, inv_scale, zp, qmin, qmax, q + i);
  return nans;
}

// ---- dequantize -----------------------------------------------------------------------------
// y = float(q - zp) * scale: exact integer subtract, exact int -> float, one rounding (no FMA
// with a premultiplied zp * scale, which would round differently).
QK_NOINLINE size_t dequantize_s8_body(const int8_t* q, size_t n, float scale, int32_t zp, float* y) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i z = _mm256_set1_epi32(zp);
  return for_each8(q, n, y, [&](const int8_t* qs, float* ys) {
    const __m256i w = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs)));
    _mm256_storeu_ps(ys, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(w, z)), s));
  });
}

void dequantize_s8(const int8_t* q, size_t n, float scale, int32_t zp, float* y) {
  if (n < 8) return spec().dequantize_s8(q, n, scale, zp, y);
  const size_t i = dequantize_s8_body(q, n, scale, zp, y);
  if (i < n) spec().dequantize_s8(q + i, n - i, scale, zp, y + i);
}

QK_NOINLINE size_t dequantize_u8_body(const uint8_t* q, size_t n, float scale, int32_t zp, float* y) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i z = _mm256_set1_epi32(zp);
  return for_each8(q, n, y, [&](const uint8_t* qs, float* ys) {
    const __m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs)));
    _mm256_storeu_ps(ys, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(w, z)), s));
  });
}

void dequantize_u8(const uint8_t* q, size_t n, float scale, int32_t zp, float* y) {
  if (n < 8) return spec().dequantize_u8(q, n, scale, zp, y);
  const size_t i = dequantize_u8_body(q, n, scale, zp, y);
  if (i < n) spec().dequantize_u8(q + i, n - i, scale, zp, y + i);
}

// ---- float16 --------------------------------------------------------------------------------
// vcvtps2ph with an explicit round-to-nearest-even immediate (not MXCSR) equals half.h's
// f32_to_f16_bits on all 2^32 inputs, NaN payloads included (checked exhaustively).
QK_NOINLINE size_t f32_to_f16_body(const float* x, size_t n, uint16_t* y) {
  return for_each8(x, n, y, [](const float* xs, uint16_t* ys) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(xs), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(ys), h);
  });
}

void f32_to_f16(const float* x, size_t n, uint16_t* y) {
  if (n < 8) return spec().f32_to_f16(x, n, y);
  const size_t i = f32_to_f16_body(x, n, y);
  if (i < n) spec().f32_to_f16(x + i, n - i, y + i);
}

// vcvtph2ps is exact and quiets signalling NaNs keeping the payload, as half.h specifies.
QK_NOINLINE size_t f16_to_f32_body(const uint16_t* x, size_t n, float* y) {
  return for_each8(x, n, y, [&](const uint16_t* xs, float* ys) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(xs));
    _mm256_storeu_ps(ys, _mm256_cvtph_ps(h));
  });
}

void f16_to_f32(const uint16_t* x, size_t n, float* y) {
  if (n < 8) return spec().f16_to_f32(x, n, y);
  const size_t i = f16_to_f32_body(x, n, y);
  if (i < n) spec().f16_to_f32(x + i, n - i, y + i);
}

// ---- bfloat16 -------------------------------------------------------------------------------
// half.h's integer rule: NaN -> (bits >> 16) | 0x40 (quiet, sign and top payload kept); else
// (bits + 0x7FFF + lsb) >> 16, round to nearest even, overflowing to Inf naturally.
QK_NOINLINE size_t f32_to_bf16_body(const float* x, size_t n, uint16_t* y) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF), inf = _mm256_set1_epi32(0x7F800000);
  const __m256i half_ulp = _mm256_set1_epi32(0x7FFF), one = _mm256_set1_epi32(1), quiet = _mm256_set1_epi32(0x40);
  return for_each8(x, n, y, [&](const float* xs, uint16_t* ys) {
    const __m256i b = _mm256_castps_si256(_mm256_loadu_ps(xs));
    const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(b, abs_mask), inf);
    const __m256i top = _mm256_srli_epi32(b, 16);
    const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(b, _mm256_add_epi32(half_ulp, _mm256_and_si256(top, one))), 16);
    const __m256i r = _mm256_blendv_epi8(rounded, _mm256_or_si256(top, quiet), is_nan);
    // Values are <= 0xFFFF, so the unsigned-saturating pack is exact.
    const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(ys), packed);
  });
}

void f32_to_bf16(const float* x, size_t n, uint16_t* y) {
  if (n < 8) return spec().f32_to_bf16(x, n, y);
  const size_t i = f32_to_bf16_body(x, n, y);
  if (i < n) spec().f32_to_bf16(x + i, n - i, y + i);
}

QK_NOINLINE size_t bf16_to_f32_body(const uint16_t* x, size_t n, float* y) {
  return for_each8(x, n, y, [](const uint16_t* xs, float* ys) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(xs)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(ys), _mm256_slli_epi32(h, 16));
  });
}

void bf16_to_f32(const uint16_t* x, size_t n, float* y) {
  if (n < 8) return spec().bf16_to_f32(x, n, y);
  const size_t i = bf16_to_f32_body(x, n, y);
  if (i < n) spec().bf16_to_f32(x + i, n - i, y + i);
}

}  // namespace

// isa.cc calls these on every CPU, also one without this ISA, so they are compiled for baseline
// x86-64 (SSE2) rather than with this file's -m flags: GCC would otherwise merge the eight pointer
// stores below into one wide vector store, which faults there.
#define QK_BASELINE_X86 __attribute__((target("no-sse3")))

QK_BASELINE_X86 bool have_built__avx2() { return true; }

QK_BASELINE_X86 void fill_quantize_kernels__avx2(QuantizeKernels* t) {
  fill_quantize_kernels__scalar(&g_spec);
  t->quantize_s8 = quantize_s8;
  t->quantize_u8 = quantize_u8;
  t->dequantize_s8 = dequantize_s8;
  t->dequantize_u8 = dequantize_u8;
  t->f32_to_f16 = f32_to_f16;
  t->f16_to_f32 = f16_to_f32;
  t->f32_to_bf16 = f32_to_bf16;
  t->bf16_to_f32 = bf16_to_f32;
}

#else  // not compiled for AVX2: a stub dispatch never selects

bool have_built__avx2() { return false; }
void fill_quantize_kernels__avx2(QuantizeKernels*) {}

#endif

}  // namespace qk
