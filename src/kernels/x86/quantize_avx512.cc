// SPDX-License-Identifier: Apache-2.0
// AVX-512 (F/BW/DQ/VL) quantize / dequantize / cast kernels. They match
// kernels/reference/quantize_scalar.cc bit for bit on every input (tests/unit/test_kernels_isa.c);
// tails use masked loads and stores. Without QK_BUILD_X86_SIMD and the AVX-512 flags this file is
// a stub and dispatch never selects it. The reasoning behind each formula is spelled out in
// quantize_avx2.cc; only what differs is commented here.
#include "kernels/quantize_kernels.h"

#if defined(QK_BUILD_X86_SIMD) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__)
#define QK_HAVE_AVX512_KERNELS 1
// GCC 12's AVX-512 headers seed results with a self-initialised "undefined" vector, which
// -Wmaybe-uninitialized misreports (GCC PR 105593, fixed in 12.3/13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
#endif

namespace qk {

#if defined(QK_HAVE_AVX512_KERNELS)
namespace {

constexpr size_t kLanes = 16;

// Calls step(i, mask) for each group of 16 elements; the last group gets a partial mask. The
// bodies use masked (fault-suppressing) loads and stores, so tails need no copy.
template <typename Step>
inline void for_each_group(size_t n, Step step) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) step(i, static_cast<__mmask16>(0xFFFF));
  if (i < n) step(i, static_cast<__mmask16>((1u << (n - i)) - 1u));
}

// ---- quantize -------------------------------------------------------------------------------
// clamp(product) in float with the product as second operand (NaN survives), cvtps2dq (MXCSR
// nearest-even, NaN -> 0x80000000), + zp, then vpmovdb keeps the low byte: NaN lanes give zp.
uint64_t quantize_bytes(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax,
                        uint8_t* q) {
  const __m512 inv = _mm512_set1_ps(inv_scale);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(qmin - zp));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(qmax - zp));
  const __m512i z = _mm512_set1_epi32(zp);
  uint64_t nans = 0;
  for_each_group(n, [&](size_t i, __mmask16 m) {
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);  // masked-off lanes load 0
    if (nan) nans += static_cast<uint64_t>(__builtin_popcount(nan));
    const __m512 r = _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_mul_ps(v, inv)));
    const __m512i codes = _mm512_add_epi32(_mm512_cvtps_epi32(r), z);
    _mm_mask_storeu_epi8(q + i, m, _mm512_cvtepi32_epi8(codes));
  });
  return nans;
}

uint64_t quantize_s8(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax, int8_t* q) {
  return quantize_bytes(x, n, inv_scale, zp, qmin, qmax, reinterpret_cast<uint8_t*>(q));
}
uint64_t quantize_u8(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax, uint8_t* q) {
  return quantize_bytes(x, n, inv_scale, zp, qmin, qmax, q);
}

// ---- dequantize: float(q - zp) * scale, one rounding ----------------------------------------
template <bool kSigned, typename T>
void dequantize_bytes(const T* q, size_t n, float scale, int32_t zp, float* y) {
  const __m512 s = _mm512_set1_ps(scale);
  const __m512i z = _mm512_set1_epi32(zp);
  for_each_group(n, [&](size_t i, __mmask16 m) {
    const __m128i b = _mm_maskz_loadu_epi8(m, q + i);
    const __m512i w = kSigned ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(w, z)), s));
  });
}

void dequantize_s8(const int8_t* q, size_t n, float scale, int32_t zp, float* y) {
  dequantize_bytes<true>(q, n, scale, zp, y);
}
void dequantize_u8(const uint8_t* q, size_t n, float scale, int32_t zp, float* y) {
  dequantize_bytes<false>(q, n, scale, zp, y);
}

// ---- float16 --------------------------------------------------------------------------------
void f32_to_f16(const float* x, size_t n, uint16_t* y) {
  for_each_group(n, [&](size_t i, __mmask16 m) {
    const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_mask_storeu_epi16(y + i, m, h);
  });
}

// vcvtph2ps is exact and quiets signalling NaNs keeping the payload, as half.h specifies.
void f16_to_f32(const uint16_t* x, size_t n, float* y) {
  for_each_group(n, [&](size_t i, __mmask16 m) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, x + i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_cvtph_ps(h));
  });
}

// ---- bfloat16: half.h's integer round-to-nearest-even, NaN -> quiet ---------------------------
void f32_to_bf16(const float* x, size_t n, uint16_t* y) {
  const __m512i abs_mask = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
  const __m512i half_ulp = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1), quiet = _mm512_set1_epi32(0x40);
  for_each_group(n, [&](size_t i, __mmask16 m) {
    const __m512i b = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, x + i));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(b, abs_mask), inf);
    const __m512i top = _mm512_srli_epi32(b, 16);
    const __m512i bias = _mm512_add_epi32(half_ulp, _mm512_and_si512(top, one));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(b, bias), 16);
    r = _mm512_mask_or_epi32(r, nan, top, quiet);
    _mm256_mask_storeu_epi16(y + i, m, _mm512_cvtepi32_epi16(r));
  });
}

void bf16_to_f32(const uint16_t* x, size_t n, float* y) {
  for_each_group(n, [&](size_t i, __mmask16 m) {
    const __m512i h = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, x + i));
    _mm512_mask_storeu_epi32(y + i, m, _mm512_slli_epi32(h, 16));
  });
}

}  // namespace

// isa.cc calls these on every CPU, also one without this ISA, so they are compiled for baseline
// x86-64 (SSE2) rather than with this file's -m flags: GCC would otherwise merge the eight pointer
// stores below into one wide vector store, which faults there.
#define QK_BASELINE_X86 __attribute__((target("no-sse3")))

QK_BASELINE_X86 bool have_built__avx512() { return true; }

QK_BASELINE_X86 void fill_quantize_kernels__avx512(QuantizeKernels* t) {
  t->quantize_s8 = quantize_s8;
  t->quantize_u8 = quantize_u8;
  t->dequantize_s8 = dequantize_s8;
  t->dequantize_u8 = dequantize_u8;
  t->f32_to_f16 = f32_to_f16;
  t->f16_to_f32 = f16_to_f32;
  t->f32_to_bf16 = f32_to_bf16;
  t->bf16_to_f32 = bf16_to_f32;
}

#else  // not compiled for AVX-512: a stub dispatch never selects

bool have_built__avx512() { return false; }
void fill_quantize_kernels__avx512(QuantizeKernels*) {}

#endif

}  // namespace qk
