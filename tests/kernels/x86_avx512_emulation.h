// SPDX-License-Identifier: Apache-2.0
// Test-only scalar model of the AVX-512 (F, VNNI) intrinsics that src/kernels/x86/qgemm_avx512vnni.cc
// uses, each written from the instruction's definition in Intel's SDM, so that file's packing,
// tiling, masks and tails can run on CPUs without AVX-512 (tests/kernels/x86.cmake compiles it
// with QK_EMULATE_AVX512VNNI against this header instead of <immintrin.h>). It models results,
// not speed. Never include it together with <immintrin.h>.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

struct __m512i {
  uint8_t b[64];
};
struct __m512 {
  float f[16];
};
typedef uint16_t __mmask16;

#define _MM_HINT_T0 3
#define _mm_prefetch(p, hint) __builtin_prefetch((p), 0, (hint))

namespace qk_emu512 {
inline int32_t lane(const __m512i& v, int l) {
  int32_t x;
  std::memcpy(&x, v.b + 4 * l, 4);
  return x;
}
inline void set_lane(__m512i& v, int l, int32_t x) { std::memcpy(v.b + 4 * l, &x, 4); }
inline int32_t wrap(int64_t x) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(x))); }
}  // namespace qk_emu512

inline __m512i _mm512_setzero_si512() { return __m512i{}; }
inline __m512i _mm512_set1_epi32(int32_t x) {
  __m512i r;
  for (int l = 0; l < 16; ++l) qk_emu512::set_lane(r, l, x);
  return r;
}
inline __m512 _mm512_set1_ps(float x) {
  __m512 r;
  for (int l = 0; l < 16; ++l) r.f[l] = x;
  return r;
}
inline __m512i _mm512_loadu_si512(const void* p) {
  __m512i r;
  std::memcpy(r.b, p, 64);
  return r;
}
inline void _mm512_storeu_si512(void* p, __m512i v) { std::memcpy(p, v.b, 64); }

// Masked loads read only the selected elements (the instruction suppresses faults elsewhere)
// and zero the others; masked stores write only the selected elements.
inline __m512i _mm512_maskz_loadu_epi32(__mmask16 k, const void* p) {
  __m512i r{};
  for (int l = 0; l < 16; ++l)
    if (k >> l & 1) std::memcpy(r.b + 4 * l, static_cast<const uint8_t*>(p) + 4 * l, 4);
  return r;
}
inline __m512 _mm512_maskz_loadu_ps(__mmask16 k, const void* p) {
  __m512 r{};
  for (int l = 0; l < 16; ++l)
    if (k >> l & 1) std::memcpy(&r.f[l], static_cast<const uint8_t*>(p) + 4 * l, 4);
  return r;
}
inline void _mm512_mask_storeu_epi32(void* p, __mmask16 k, __m512i v) {
  for (int l = 0; l < 16; ++l)
    if (k >> l & 1) std::memcpy(static_cast<uint8_t*>(p) + 4 * l, v.b + 4 * l, 4);
}
inline void _mm512_mask_storeu_ps(void* p, __mmask16 k, __m512 v) {
  for (int l = 0; l < 16; ++l)
    if (k >> l & 1) std::memcpy(static_cast<uint8_t*>(p) + 4 * l, &v.f[l], 4);
}
// vpmovdb: each int32 lane truncated to its low byte.
inline void _mm512_mask_cvtepi32_storeu_epi8(void* p, __mmask16 k, __m512i v) {
  for (int l = 0; l < 16; ++l)
    if (k >> l & 1) static_cast<uint8_t*>(p)[l] = static_cast<uint8_t>(qk_emu512::lane(v, l));
}

inline __m512i _mm512_add_epi32(__m512i a, __m512i b) {
  __m512i r;
  for (int l = 0; l < 16; ++l)
    qk_emu512::set_lane(r, l, qk_emu512::wrap(int64_t(qk_emu512::lane(a, l)) + qk_emu512::lane(b, l)));
  return r;
}
// vpdpbusd: src + the four products of unsigned bytes of a and signed bytes of b, wrapping.
inline __m512i _mm512_dpbusd_epi32(__m512i src, __m512i a, __m512i b) {
  __m512i r;
  for (int l = 0; l < 16; ++l) {
    int64_t s = qk_emu512::lane(src, l);
    for (int t = 0; t < 4; ++t) s += int64_t(a.b[4 * l + t]) * int64_t(static_cast<int8_t>(b.b[4 * l + t]));
    qk_emu512::set_lane(r, l, qk_emu512::wrap(s));
  }
  return r;
}

// vcvtdq2ps rounds with MXCSR (nearest even), as the C++ conversion does.
inline __m512 _mm512_cvtepi32_ps(__m512i a) {
  __m512 r;
  for (int l = 0; l < 16; ++l) r.f[l] = static_cast<float>(qk_emu512::lane(a, l));
  return r;
}
// vcvttps2dq: truncation; NaN and out-of-range give 0x80000000.
inline __m512i _mm512_cvttps_epi32(__m512 a) {
  __m512i r;
  for (int l = 0; l < 16; ++l) {
    const float x = a.f[l];
    int32_t v = INT32_MIN;
    if (x > -2147483904.0f && x < 2147483648.0f) v = static_cast<int32_t>(x);
    qk_emu512::set_lane(r, l, v);
  }
  return r;
}
inline __m512 _mm512_sub_ps(__m512 a, __m512 b) {
  __m512 r;
  for (int l = 0; l < 16; ++l) r.f[l] = a.f[l] - b.f[l];
  return r;
}
inline __m512 _mm512_mul_ps(__m512 a, __m512 b) {
  __m512 r;
  for (int l = 0; l < 16; ++l) r.f[l] = a.f[l] * b.f[l];
  return r;
}
inline __m512 _mm512_add_ps(__m512 a, __m512 b) {
  __m512 r;
  for (int l = 0; l < 16; ++l) r.f[l] = a.f[l] + b.f[l];
  return r;
}
// vminps / vmaxps: the second operand when the comparison is false (NaN in either operand).
inline __m512 _mm512_min_ps(__m512 a, __m512 b) {
  __m512 r;
  for (int l = 0; l < 16; ++l) r.f[l] = a.f[l] < b.f[l] ? a.f[l] : b.f[l];
  return r;
}
inline __m512 _mm512_max_ps(__m512 a, __m512 b) {
  __m512 r;
  for (int l = 0; l < 16; ++l) r.f[l] = a.f[l] > b.f[l] ? a.f[l] : b.f[l];
  return r;
}
