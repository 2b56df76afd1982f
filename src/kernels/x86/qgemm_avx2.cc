// SPDX-License-Identifier: Apache-2.0
// AVX2 int8 GEMM family (-mavx2 -mfma -mf16c); mirrors get_qgemm_kernel__scalar / gemm_epilogue_scalar.
//
// Exact for full-range u8 x s8: no vpmaddubsw. Its u8*s8 pair sums saturate int16 (2*255*-128 =
// -65280), which is why FBGEMM / MLAS / oneDNN's AVX2 paths need 7-bit operands (reduce_range);
// QuantKit promises bit-identical results on every path. Both operands are widened to int16 at
// pack time instead and multiplied with vpmaddwd (int16 pairs -> int32; |2 * 255 * 128| < 2^31),
// summed with vpaddd (wrapping, as the spec's int32 arithmetic). Pre-widened operands keep the
// loop at one multiply and one add per 16 MACs, with no widening shuffles (XNNPACK / ruy widen
// B in the loop; measured 85 % vs 57 % of the vpmaddubsw chain in int8-kernels.md §1).
//
// Layouts (kr = 2, k zero-padded to even):
//   A tile  [k/2][mr][2] int16: one dword = the (k, k+1) pair of one row, broadcast with vpbroadcastd.
//   B panel [k/2][nr][2] int16: one ymm = the (k, k+1) pairs of 8 columns.
// Micro-tile 6 x 16: 12 ymm accumulators + 2 B + 1 broadcast A + 1 product = all 16 ymm.
// (4 x 24 needs a 17th register for the vpmaddwd product before vpaddd; spilling costs more.)
#include "kernels/gemm/qgemm_kernel.h"

#if defined(QK_BUILD_X86_SIMD) && defined(__AVX2__)
#define QK_HAVE_QGEMM_AVX2_KERNELS 1
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#endif

namespace qk {

#if defined(QK_HAVE_QGEMM_AVX2_KERNELS)
namespace {

constexpr size_t kMr = 6;
constexpr size_t kNr = 16;
constexpr size_t kKr = 2;

inline size_t k_pairs(size_t k) { return (k + 1) / 2; }

size_t b_panel_stride(size_t k) { return k_pairs(k) * kNr * kKr * sizeof(int16_t); }
size_t a_tile_size(size_t k) { return k_pairs(k) * kMr * kKr * sizeof(int16_t); }

// ---- packing --------------------------------------------------------------------------------
// Runs once per weight matrix, so plain loops: each of a panel's 16 source rows streams forward.
void pack_b(const int8_t* b, size_t n, size_t k, size_t ldb, void* packed_b) {
  const size_t kp = k_pairs(k);
  int16_t* out = static_cast<int16_t*>(packed_b);
  for (size_t j0 = 0; j0 < n; j0 += kNr, out += kp * kNr * kKr) {
    const size_t cols = std::min(kNr, n - j0);
    for (size_t j = 0; j < kNr; ++j) {
      int16_t* o = out + j * kKr;
      if (j >= cols) {  // columns past n are zero
        for (size_t p = 0; p < kp; ++p) o[p * kNr * kKr] = o[p * kNr * kKr + 1] = 0;
        continue;
      }
      const int8_t* row = b + (j0 + j) * ldb;
      for (size_t p = 0; p < k / 2; ++p) {
        o[p * kNr * kKr] = row[2 * p];
        o[p * kNr * kKr + 1] = row[2 * p + 1];
      }
      if (k & 1) {  // odd k: the last pair's second element is padding
        o[(kp - 1) * kNr * kKr] = row[k - 1];
        o[(kp - 1) * kNr * kKr + 1] = 0;
      }
    }
  }
}

// Runs once per A tile per GEMM (the driver reuses a tile across all B panels). 16 bytes of a row
// are XOR-ed and zero-extended to eight (k, k+1) int16 pairs in one step; the pairs go to their
// rows' slots 6 dwords apart.
void pack_a(const uint8_t* a, size_t m, size_t k, size_t lda, uint8_t xor_mask, void* packed_a) {
  const size_t kp = k_pairs(k);
  uint32_t* out = static_cast<uint32_t*>(packed_a);  // one dword per (pair, row)
  const __m128i x = _mm_set1_epi8(static_cast<char>(xor_mask));
  for (size_t i = 0; i < kMr; ++i) {
    uint32_t* o = out + i;
    if (i >= m) {  // rows m..mr-1 are zero
      for (size_t p = 0; p < kp; ++p) o[p * kMr] = 0;
      continue;
    }
    const uint8_t* row = a + i * lda;
    size_t kk = 0;
    for (; kk + 16 <= k; kk += 16) {
      const __m128i v = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + kk)), x);
      const __m256i w = _mm256_cvtepu8_epi16(v);
      uint32_t* d = o + (kk / 2) * kMr;
      d[0 * kMr] = static_cast<uint32_t>(_mm256_extract_epi32(w, 0));
      d[1 * kMr] = static_cast<uint32_t>(_mm256_extract_epi32(w, 1));
      d[2 * kMr] = static_cast<uint32_t>(_mm256_extract_epi32(w, 2));
      d[3 * kMr] = static_cast<uint32_t>(_mm256_extract_epi32(w, 3));
      d[4 * kMr] = static_cast<uint32_t>(_mm256_extract_epi32(w, 4));
      d[5 * kMr] = static_cast<uint32_t>(_mm256_extract_epi32(w, 5));
      d[6 * kMr] = static_cast<uint32_t>(_mm256_extract_epi32(w, 6));
      d[7 * kMr] = static_cast<uint32_t>(_mm256_extract_epi32(w, 7));
    }
    for (; kk < k; kk += 2) {
      const uint32_t lo = static_cast<uint8_t>(row[kk] ^ xor_mask);
      const uint32_t hi = kk + 1 < k ? static_cast<uint8_t>(row[kk + 1] ^ xor_mask) : 0u;
      o[(kk / 2) * kMr] = lo | (hi << 16);
    }
  }
}

// ---- micro-kernel ---------------------------------------------------------------------------
// Per k pair: 2 B loads, 6 broadcasts, 12 vpmaddwd, 12 vpaddd. The whole kernel is one inline
// assembly block with fixed registers: written with intrinsics, GCC re-associates the integer
// adds across k steps into a tree that needs more than 16 ymm and spills most accumulators to
// the stack every iteration (GCC 12); as asm operands, 12 "+x" accumulators exceed GCC's
// 30-operand limit. This loop runs at ~93 % of a register-only vpmaddwd + vpaddd loop on Zen 3.
//   ymm0, ymm1  B: pairs of columns 0-7 and 8-15      ymm2  broadcast A pair, then 2nd product
//   ymm3        1st product                          ymm4 + 2i, ymm5 + 2i  row i, columns 0-7 / 8-15
// The B panel streams one 64-byte line per pair; software prefetch runs 16 pairs (1 KiB) ahead
// (4 instructions per 8 k; within 1 % on Zen 3, whose L2 prefetcher keeps up on its own).
// Byte offsets are assembler expressions: pair p of an unrolled step is at p*24 in A, p*64 in B.
#define QK_AVX2_ROW(pair, i, lo, hi)                            \
  "vpbroadcastd " #pair "*24+" #i "*4(%[a]), %%ymm2\n\t"         \
  "vpmaddwd %%ymm0, %%ymm2, %%ymm3\n\t"                         \
  "vpaddd %%ymm3, %%ymm" #lo ", %%ymm" #lo "\n\t"                \
  "vpmaddwd %%ymm1, %%ymm2, %%ymm2\n\t"                         \
  "vpaddd %%ymm2, %%ymm" #hi ", %%ymm" #hi "\n\t"
#define QK_AVX2_PAIR(pair)                                      \
  "vmovdqu " #pair "*64(%[b]), %%ymm0\n\t"                      \
  "vmovdqu " #pair "*64+32(%[b]), %%ymm1\n\t"                   \
  QK_AVX2_ROW(pair, 0, 4, 5) QK_AVX2_ROW(pair, 1, 6, 7)         \
  QK_AVX2_ROW(pair, 2, 8, 9) QK_AVX2_ROW(pair, 3, 10, 11)       \
  QK_AVX2_ROW(pair, 4, 12, 13) QK_AVX2_ROW(pair, 5, 14, 15)
#define QK_AVX2_STORE_ROW(lo, hi)                               \
  "vmovdqu %%ymm" #lo ", (%[c])\n\t"                            \
  "vmovdqu %%ymm" #hi ", 32(%[c])\n\t"                          \
  "add %[ldc], %[c]\n\t"
static_assert(kMr == 6 && kNr * kKr * sizeof(int16_t) == 64, "the asm offsets assume a 6 x 16 tile");

void ukernel(size_t k, const void* packed_a, const void* packed_b_panel, int32_t* c, size_t ldc) {
  const size_t kp = k_pairs(k);
  size_t quads = kp / 4, rest = kp % 4;
  const void* a = packed_a;
  const void* b = packed_b_panel;
  size_t ldc_bytes = ldc * sizeof(int32_t);
  __asm__ volatile(
      "vpxor %%xmm4, %%xmm4, %%xmm4\n\t"
      "vpxor %%xmm5, %%xmm5, %%xmm5\n\t"
      "vpxor %%xmm6, %%xmm6, %%xmm6\n\t"
      "vpxor %%xmm7, %%xmm7, %%xmm7\n\t"
      "vpxor %%xmm8, %%xmm8, %%xmm8\n\t"
      "vpxor %%xmm9, %%xmm9, %%xmm9\n\t"
      "vpxor %%xmm10, %%xmm10, %%xmm10\n\t"
      "vpxor %%xmm11, %%xmm11, %%xmm11\n\t"
      "vpxor %%xmm12, %%xmm12, %%xmm12\n\t"
      "vpxor %%xmm13, %%xmm13, %%xmm13\n\t"
      "vpxor %%xmm14, %%xmm14, %%xmm14\n\t"
      "vpxor %%xmm15, %%xmm15, %%xmm15\n\t"
      "test %[quads], %[quads]\n\t"
      "jz 3f\n\t"
      // Four pairs (8 k) per iteration keep the loop overhead off the front end.
      ".p2align 5\n\t"
      "1:\n\t"
      "prefetcht0 1024(%[b])\n\t"
      "prefetcht0 1088(%[b])\n\t"
      "prefetcht0 1152(%[b])\n\t"
      "prefetcht0 1216(%[b])\n\t"
      QK_AVX2_PAIR(0) QK_AVX2_PAIR(1) QK_AVX2_PAIR(2) QK_AVX2_PAIR(3)
      "add $96, %[a]\n\t"
      "add $256, %[b]\n\t"
      "dec %[quads]\n\t"
      "jnz 1b\n\t"
      "3:\n\t"
      "test %[rest], %[rest]\n\t"
      "jz 4f\n\t"
      "2:\n\t"
      QK_AVX2_PAIR(0)
      "add $24, %[a]\n\t"
      "add $64, %[b]\n\t"
      "dec %[rest]\n\t"
      "jnz 2b\n\t"
      "4:\n\t"
      QK_AVX2_STORE_ROW(4, 5) QK_AVX2_STORE_ROW(6, 7) QK_AVX2_STORE_ROW(8, 9)
      QK_AVX2_STORE_ROW(10, 11) QK_AVX2_STORE_ROW(12, 13) QK_AVX2_STORE_ROW(14, 15)
      // All 16 ymm are clobbered anyway; callers may be SSE code.
      "vzeroupper\n\t"
      : [a] "+r"(a), [b] "+r"(b), [c] "+r"(c), [quads] "+r"(quads), [rest] "+r"(rest)
      : [ldc] "r"(ldc_bytes)
      : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

#undef QK_AVX2_STORE_ROW
#undef QK_AVX2_PAIR
#undef QK_AVX2_ROW

// ---- one-row micro-kernel (contract note 8) ------------------------------------------------
// Row 0 of the tile only, for GEMV (m = 1) row blocks: per k pair one dword broadcast from A (row
// 0's slot, 24 bytes apart), the panel's two B ymm, 2 vpmaddwd + 2 vpaddd. Bound by streaming B
// (64 bytes per pair), so 4 pairs per iteration with four independent accumulator pairs (8 ymm)
// hide vpmaddwd / vpaddd latency and keep the loads flowing; the sets are summed at the end
// (vpaddd wraps, so any order is bit-identical to the spec). 8 accumulators + 2 B + 2 products
// stay within 16 ymm, so GCC's re-association does not spill here.
void ukernel_1row(size_t k, const void* packed_a, const void* packed_b_panel, int32_t* c) {
  const size_t kp = k_pairs(k);
  const uint8_t* a = static_cast<const uint8_t*>(packed_a);
  const uint8_t* b = static_cast<const uint8_t*>(packed_b_panel);
  constexpr size_t kAStep = kMr * kKr * sizeof(int16_t);   // 24 bytes per pair
  constexpr size_t kBStep = kNr * kKr * sizeof(int16_t);   // 64 bytes per pair
  auto bcast = [](const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
  };
  auto ld = [](const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  __m256i lo0 = _mm256_setzero_si256(), hi0 = _mm256_setzero_si256();
  __m256i lo1 = _mm256_setzero_si256(), hi1 = _mm256_setzero_si256();
  __m256i lo2 = _mm256_setzero_si256(), hi2 = _mm256_setzero_si256();
  __m256i lo3 = _mm256_setzero_si256(), hi3 = _mm256_setzero_si256();
  size_t p = 0;
  for (; p + 4 <= kp; p += 4, a += 4 * kAStep, b += 4 * kBStep) {
    const __m256i a0 = bcast(a), a1 = bcast(a + kAStep), a2 = bcast(a + 2 * kAStep), a3 = bcast(a + 3 * kAStep);
    lo0 = _mm256_add_epi32(lo0, _mm256_madd_epi16(a0, ld(b)));
    hi0 = _mm256_add_epi32(hi0, _mm256_madd_epi16(a0, ld(b + 32)));
    lo1 = _mm256_add_epi32(lo1, _mm256_madd_epi16(a1, ld(b + kBStep)));
    hi1 = _mm256_add_epi32(hi1, _mm256_madd_epi16(a1, ld(b + kBStep + 32)));
    lo2 = _mm256_add_epi32(lo2, _mm256_madd_epi16(a2, ld(b + 2 * kBStep)));
    hi2 = _mm256_add_epi32(hi2, _mm256_madd_epi16(a2, ld(b + 2 * kBStep + 32)));
    lo3 = _mm256_add_epi32(lo3, _mm256_madd_epi16(a3, ld(b + 3 * kBStep)));
    hi3 = _mm256_add_epi32(hi3, _mm256_madd_epi16(a3, ld(b + 3 * kBStep + 32)));
  }
  for (; p < kp; ++p, a += kAStep, b += kBStep) {
    const __m256i a0 = bcast(a);
    lo0 = _mm256_add_epi32(lo0, _mm256_madd_epi16(a0, ld(b)));
    hi0 = _mm256_add_epi32(hi0, _mm256_madd_epi16(a0, ld(b + 32)));
  }
  lo0 = _mm256_add_epi32(_mm256_add_epi32(lo0, lo1), _mm256_add_epi32(lo2, lo3));
  hi0 = _mm256_add_epi32(_mm256_add_epi32(hi0, hi1), _mm256_add_epi32(hi2, hi3));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(c), lo0);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + 8), hi0);
}

// ---- epilogue -------------------------------------------------------------------------------
// Whole groups of 8 columns are vectorised; the last n % 8 columns go to gemm_epilogue_scalar
// itself, so there is no second formula to keep in sync. Each step follows the spec literally:
//   acc: vpaddd wraps exactly like the spec's unsigned int32 sums.
//   float(acc): cvtdq2ps rounds with MXCSR (nearest even), as the int -> float conversion does.
//   product, sum: plain vmulps / vaddps (the build's -ffp-contract=off and no fmadd: no FMA).
//   clamps: in the spec's order, so NaN and even a degenerate q_min > q_max give its bytes.
//   vmaxps(lo, y) is exactly "y < lo ? lo : y" and vminps(hi, y) exactly "y > hi ? hi : y" (they
//   return the second operand unless the compare holds, NaN included).
//   rounding: the spec's (x + 1.5 * 2^23) - 1.5 * 2^23 as the same two float operations, then
//   cvttps2dq as its int32 cast (truncation; NaN -> INT32_MIN like cvttss2si).
//   8-bit store: the spec's cast to u8 / s8 keeps the low byte; mask it, then exact packs.

// Rows 0..m-1, columns [0, n8) (n8 a multiple of 8): body(i, j, v) gets the 8 corrected
// accumulators acc + col_offset + row_offset of row i, columns j..j+7.
template <typename Body>
inline void for_each_row8(const int32_t* acc, size_t ldacc, size_t m, size_t n8, const GemmEpilogue& ep, size_t row0,
                          size_t col0, Body body) {
  for (size_t i = 0; i < m; ++i) {
    const int32_t* ar = acc + i * ldacc;
    const __m256i roff = _mm256_set1_epi32(ep.row_offset != nullptr ? ep.row_offset[row0 + i] : 0);
    for (size_t j = 0; j < n8; j += 8) {
      const __m256i col = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ep.col_offset + col0 + j));
      const __m256i dot = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + j));
      body(i, j, _mm256_add_epi32(_mm256_add_epi32(dot, col), roff));
    }
  }
}

// Eight int32 codes -> their low bytes at p.
inline void store_low_bytes8(uint8_t* p, __m256i q) {
  q = _mm256_and_si256(q, _mm256_set1_epi32(0xFF));
  const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(w, w));
}

__attribute__((noinline)) void epilogue_s32(const int32_t* acc, size_t ldacc, size_t m, size_t n8,
                                            const GemmEpilogue& ep, size_t row0, size_t col0, int32_t* out,
                                            size_t ldo) {
  for_each_row8(acc, ldacc, m, n8, ep, row0, col0, [&](size_t i, size_t j, __m256i v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i * ldo + j), v);
  });
}

__attribute__((noinline)) void epilogue_f32(const int32_t* acc, size_t ldacc, size_t m, size_t n8,
                                            const GemmEpilogue& ep, size_t row0, size_t col0, float* out,
                                            size_t ldo) {
  const __m256 lo = _mm256_set1_ps(ep.f32_min), hi = _mm256_set1_ps(ep.f32_max);
  const float* scale = ep.scale + col0;
  const float* bias = ep.bias != nullptr ? ep.bias + col0 : nullptr;
  for_each_row8(acc, ldacc, m, n8, ep, row0, col0, [&](size_t i, size_t j, __m256i v) {
    __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_loadu_ps(scale + j));
    if (bias != nullptr) y = _mm256_add_ps(y, _mm256_loadu_ps(bias + j));
    y = _mm256_max_ps(lo, y);  // v = v < f32_min ? f32_min : v
    y = _mm256_min_ps(hi, y);  // v = v > f32_max ? f32_max : v
    _mm256_storeu_ps(out + i * ldo + j, y);
  });
}

__attribute__((noinline)) void epilogue_q8_float(const int32_t* acc, size_t ldacc, size_t m, size_t n8,
                                                 const GemmEpilogue& ep, size_t row0, size_t col0, uint8_t* out,
                                                 size_t ldo) {
  const __m256 lo = _mm256_set1_ps(static_cast<float>(ep.q_min - ep.out_zp));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(ep.q_max - ep.out_zp));
  const __m256i zp = _mm256_set1_epi32(ep.out_zp);
  const __m256 magic = _mm256_set1_ps(12582912.0f);  // 1.5 * 2^23
  const float* scale = ep.scale + col0;
  for_each_row8(acc, ldacc, m, n8, ep, row0, col0, [&](size_t i, size_t j, __m256i v) {
    __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_loadu_ps(scale + j));
    x = _mm256_max_ps(lo, x);  // x = x < lo ? lo : x
    x = _mm256_min_ps(hi, x);  // x = x > hi ? hi : x
    const __m256 r = _mm256_sub_ps(_mm256_add_ps(x, magic), magic);
    store_low_bytes8(out + i * ldo + j, _mm256_add_epi32(_mm256_cvttps_epi32(r), zp));
  });
}

// TFLite's MultiplyByQuantizedMultiplier on 8 lanes, per-column multiplier and shift (shift in
// [-31, 30], checked by the caller), as multiply_by_quantized_multiplier computes it:
//   x' = x << max(shift, 0) (wrapping);
//   SaturatingRoundingDoublingHighMul(x', m) = trunc((p + nudge) / 2^31), p = x' * m in int64,
//     nudge = p >= 0 ? 2^30 : 1 - 2^30. For p < 0, trunc(v / 2^31) = floor((v + 2^31 - 1) / 2^31),
//     so both signs reduce to floor((p + 2^30) / 2^31): bits 31..62 of p + 2^30, which a
//     logical 64-bit shift extracts as well as an arithmetic one (AVX2 has no vpsraq). The one
//     overflow (x' == m == INT32_MIN) gives INT32_MIN here and must give INT32_MAX: flip it.
//   RoundingDivideByPOT(h, e), e = max(-shift, 0): (h >> e) + (h & mask > (mask >> 1) + (h < 0)),
//     mask = 2^e - 1; every term fits int32 for e <= 31.
inline __m256i multiply_by_quantized_multiplier8(__m256i x, __m256i mult, __m256i shift) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i left = _mm256_max_epi32(shift, zero);
  const __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
  const __m256i a = _mm256_sllv_epi32(x, left);
  const __m256i half = _mm256_set1_epi64x(int64_t(1) << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, mult), half);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(mult, 32)), half);
  __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
  const __m256i int_min = _mm256_set1_epi32(INT32_MIN);
  h = _mm256_xor_si256(h, _mm256_and_si256(_mm256_cmpeq_epi32(a, int_min), _mm256_cmpeq_epi32(mult, int_min)));
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
  const __m256i remainder = _mm256_and_si256(h, mask);
  // (mask >> 1) + (h < 0): cmpgt yields -1 where h < 0.
  const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(zero, h));
  return _mm256_sub_epi32(_mm256_srav_epi32(h, right), _mm256_cmpgt_epi32(remainder, threshold));
}

// v = int64(mbqm) + out_zp; v = v < q_min ? q_min : (v > q_max ? q_max : v), evaluated as
// mbqm against q_min - out_zp and q_max - out_zp (the caller checks they fit int32), so that
// nothing overflows; the result plus out_zp then lies between the bounds.
__attribute__((noinline)) void epilogue_q8_fixed(const int32_t* acc, size_t ldacc, size_t m, size_t n8,
                                                 const GemmEpilogue& ep, size_t row0, size_t col0, uint8_t* out,
                                                 size_t ldo) {
  const __m256i lo = _mm256_set1_epi32(static_cast<int32_t>(int64_t(ep.q_min) - ep.out_zp));
  const __m256i hi = _mm256_set1_epi32(static_cast<int32_t>(int64_t(ep.q_max) - ep.out_zp));
  const __m256i zp = _mm256_set1_epi32(ep.out_zp);
  const int32_t* mult = ep.fp_multiplier + col0;
  const int32_t* shift = ep.fp_shift + col0;
  for_each_row8(acc, ldacc, m, n8, ep, row0, col0, [&](size_t i, size_t j, __m256i v) {
    const __m256i r = multiply_by_quantized_multiplier8(
        v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mult + j)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(shift + j)));
    const __m256i c = _mm256_blendv_epi8(_mm256_min_epi32(hi, r), lo, _mm256_cmpgt_epi32(lo, r));
    store_low_bytes8(out + i * ldo + j, _mm256_add_epi32(c, zp));
  });
}

// The vector fixed-point path covers what quantize_multiplier produces (shift in [-31, 30]) and
// bounds minus the zero point that fit int32; anything else is left to the spec.
bool fixed_point_vectorizable(const GemmEpilogue& ep, size_t col0, size_t n8) {
  const int64_t lo = int64_t(ep.q_min) - ep.out_zp, hi = int64_t(ep.q_max) - ep.out_zp;
  if (lo < INT32_MIN || lo > INT32_MAX || hi < INT32_MIN || hi > INT32_MAX) return false;
  for (size_t j = 0; j < n8; ++j)
    if (ep.fp_shift[col0 + j] < -31 || ep.fp_shift[col0 + j] > 30) return false;
  return true;
}

void epilogue(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep, size_t row0, size_t col0,
              void* out, size_t ldo) {
  size_t n8 = n & ~static_cast<size_t>(7);
  size_t elem = 4;
  if (n8 != 0) {
    switch (ep.kind) {
      case GemmOutput::kS32:
        epilogue_s32(acc, ldacc, m, n8, ep, row0, col0, static_cast<int32_t*>(out), ldo);
        break;
      case GemmOutput::kF32:
        epilogue_f32(acc, ldacc, m, n8, ep, row0, col0, static_cast<float*>(out), ldo);
        break;
      case GemmOutput::kQuantized:
        elem = 1;
        if (!ep.fixed_point)
          epilogue_q8_float(acc, ldacc, m, n8, ep, row0, col0, static_cast<uint8_t*>(out), ldo);
        else if (fixed_point_vectorizable(ep, col0, n8))
          epilogue_q8_fixed(acc, ldacc, m, n8, ep, row0, col0, static_cast<uint8_t*>(out), ldo);
        else
          n8 = 0;  // all columns to the spec
        break;
    }
  }
  if (n8 < n)
    gemm_epilogue_scalar(acc + n8, ldacc, m, n - n8, ep, row0, col0 + n8, static_cast<uint8_t*>(out) + n8 * elem,
                         ldo);
}

}  // namespace

// The dispatcher may call these on any CPU (also one without AVX2), so they are compiled for
// baseline x86-64 rather than with this file's -m flags: GCC would otherwise merge the pointer
// stores below into wide vector stores, which fault there.
#define QK_BASELINE_X86 __attribute__((target("no-sse3")))

QK_BASELINE_X86 bool have_built_qgemm__avx2() { return true; }

QK_BASELINE_X86 void get_qgemm_kernel__avx2(QGemmKernel* k) {
  k->isa = "avx2";
  k->mr = kMr;
  k->nr = kNr;
  k->kr = kKr;
  k->b_panel_stride = b_panel_stride;
  k->pack_b = pack_b;
  k->a_tile_size = a_tile_size;
  k->pack_a = pack_a;
  k->ukernel = ukernel;
  k->ukernel_1row = ukernel_1row;
  k->epilogue = epilogue;
}

#else  // not compiled for AVX2: a stub the dispatcher never selects

bool have_built_qgemm__avx2() { return false; }
void get_qgemm_kernel__avx2(QGemmKernel* k) { *k = QGemmKernel{}; }

#endif

}  // namespace qk
