// SPDX-License-Identifier: Apache-2.0
// AVX2 depthwise kernel (-mavx2 -mfma -mf16c), bit-identical to kernels/reference/depthwise_scalar.cc.
// Without QK_BUILD_X86_SIMD and -mavx2 this file is a stub and dispatch never selects it.
//
// Vectorized across channels. Taps go in pairs: the inputs of taps t and t+1 are widened to
// int16 (vpmovzxbw / vpmovsxbw straight from memory) and interleaved, so one vpmaddwd multiplies
// both by their int16 weights (w - w_zp, |w'| <= 255) and adds them into int32 lanes:
// |255 * 255 * 2| < 2^31, exact, and vpaddd wraps like the spec's uint32 sums. The in-lane
// unpacks put channels {0-3, 8-11} of a 16-channel group in one accumulator and {4-7, 12-15} in
// the other; the weights are packed in that order and two vperm2i128 restore channel order.
// A pass takes up to 64 pixels: each 16-channel group sweeps them with its weights held in
// registers (3x3 and smaller) into a stack buffer of int32 sums, then the whole buffer is
// requantized 32 channels at a time. 8-channel remainders use the 128-bit form; fewer than 8
// channels are summed like the scalar spec and go through gemm_epilogue_scalar itself.
//
// Epilogue (kQuantized only), per 8 lanes, matching gemm_epilogue_scalar:
//   float mode: cvtdq2ps and cvtps2dq round to nearest even like the spec's conversion and
//   nearbyintf; clamping before rounding equals the spec's round-then-clamp (integer bounds);
//   vmulps is a plain multiply (-ffp-contract=off, no fmadd intrinsic).
//   fixed point: x << left (wrapping) then SaturatingRoundingDoublingHighMul, which equals
//   floor((x*m + 2^30) / 2^31) (the spec's nudge-and-truncate, case by case; the saturating case
//   needs m == INT32_MIN, which quantize_multiplier never produces), then RoundingDivideByPOT
//   with the spec's mask/threshold in 32-bit lanes, and the clamp relative to out_zp, which is
//   the spec's int64 clamp(v + zp) without an overflowing add.
#include "ops/depthwise.h"

#if defined(QK_BUILD_X86_SIMD) && defined(__AVX2__)
#define QK_HAVE_DEPTHWISE_AVX2 1
#include <immintrin.h>

#include <algorithm>
#endif

namespace qk {

#if defined(QK_HAVE_DEPTHWISE_AVX2)
namespace {

// Packed layout, for P = ceil(taps / 2) tap pairs:
//   16-channel blocks: [block][pair][lo 16 | hi 16] int16, lo/hi in the vpunpck{l,h}wd order;
//   then one 8-channel block if channels % 16 >= 8: [pair][lo 8 | hi 8] int16;
//   then the last channels % 8 channels: [channel][tap] int16 for the scalar tail.
struct Layout {
  size_t pairs, blocks16, has8, tail, tail_begin;
  Layout(size_t taps, size_t channels)
      : pairs((taps + 1) / 2),
        blocks16(channels / 16),
        has8((channels % 16) >= 8 ? 1 : 0),
        tail(channels % 8),
        tail_begin(channels - channels % 8) {}
  size_t block16_elems() const { return pairs * 32; }
  size_t offset8() const { return blocks16 * block16_elems(); }
  size_t offset_tail() const { return offset8() + has8 * pairs * 16; }
};

size_t packed_size(size_t taps, size_t channels) {
  const Layout l(taps, channels);
  return (l.offset_tail() + l.tail * taps) * sizeof(int16_t);
}

// Element e of a 16-wide interleaved register (lane = e / 8): channel lane * 8 + quarter + pos/2
// and tap 2 * pair + pos % 2, with pos = e % 8; quarter is 0 for "lo", 4 for "hi".
void pack(const int16_t* w, size_t taps, size_t channels, void* packed) {
  const Layout l(taps, channels);
  int16_t* p = static_cast<int16_t*>(packed);
  auto weight = [&](size_t c, size_t t) -> int16_t { return t < taps ? w[c * taps + t] : int16_t(0); };
  for (size_t b = 0; b < l.blocks16; ++b)
    for (size_t q = 0; q < l.pairs; ++q) {
      int16_t* dst = p + b * l.block16_elems() + q * 32;
      for (size_t half = 0; half < 2; ++half)
        for (size_t e = 0; e < 16; ++e) {
          const size_t lane = e / 8, pos = e % 8;
          dst[half * 16 + e] = weight(b * 16 + lane * 8 + half * 4 + pos / 2, 2 * q + pos % 2);
        }
    }
  if (l.has8) {
    for (size_t q = 0; q < l.pairs; ++q) {
      int16_t* dst = p + l.offset8() + q * 16;
      for (size_t half = 0; half < 2; ++half)
        for (size_t e = 0; e < 8; ++e) dst[half * 8 + e] = weight(l.blocks16 * 16 + half * 4 + e / 2, 2 * q + e % 2);
    }
  }
  int16_t* tail = p + l.offset_tail();
  for (size_t c = 0; c < l.tail; ++c)
    for (size_t t = 0; t < taps; ++t) tail[c * taps + t] = w[(l.tail_begin + c) * taps + t];
}

// ---- epilogue: 8 int32 lanes (channels c .. c+7) -> 8 int32 codes holding their low byte ------

struct Requant {
  __m256i zp, rel_min, rel_max;  // fixed point: clamp bounds relative to zp
  __m256 lo, hi;                 // float: same bounds as floats
};

inline Requant make_requant(const GemmEpilogue& ep) {
  Requant r;
  r.zp = _mm256_set1_epi32(ep.out_zp);
  r.rel_min = _mm256_set1_epi32(ep.q_min - ep.out_zp);
  r.rel_max = _mm256_set1_epi32(ep.q_max - ep.out_zp);
  r.lo = _mm256_set1_ps(static_cast<float>(ep.q_min - ep.out_zp));
  r.hi = _mm256_set1_ps(static_cast<float>(ep.q_max - ep.out_zp));
  return r;
}

inline __m256i load8(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

template <bool kFixedPoint>
inline __m256i requant8(__m256i acc, const GemmEpilogue& ep, size_t c, const Requant& r) {
  const __m256i v = _mm256_add_epi32(acc, load8(ep.col_offset + c));
  __m256i q;
  if (!kFixedPoint) {
    const __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_loadu_ps(ep.scale + c));
    q = _mm256_cvtps_epi32(_mm256_min_ps(r.hi, _mm256_max_ps(r.lo, y)));
  } else {
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
    const __m256i shift = load8(ep.fp_shift + c), mult = load8(ep.fp_multiplier + c);
    const __m256i left = _mm256_max_epi32(shift, zero);
    const __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
    const __m256i x = _mm256_sllv_epi32(v, left);
    // floor((x * m + 2^30) / 2^31): even lanes in place, odd lanes moved down and back up.
    const __m256i nudge = _mm256_set1_epi64x(int64_t(1) << 30);
    const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, mult), nudge), 31);
    const __m256i odd = _mm256_slli_epi64(
        _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mult, 32)), nudge), 1);
    const __m256i high = _mm256_blend_epi32(even, odd, 0xAA);
    // RoundingDivideByPOT(high, right).
    const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    const __m256i remainder = _mm256_and_si256(high, mask);
    const __m256i threshold = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_cmpgt_epi32(zero, high));
    const __m256i rounded = _mm256_sub_epi32(_mm256_srav_epi32(high, right), _mm256_cmpgt_epi32(remainder, threshold));
    q = _mm256_min_epi32(r.rel_max, _mm256_max_epi32(r.rel_min, rounded));
  }
  return _mm256_and_si256(_mm256_add_epi32(q, r.zp), _mm256_set1_epi32(0xFF));
}

// Codes 0..255 in int32 lanes (channels in order) -> bytes: the unsigned-saturating packs are
// exact; they interleave 128-bit lanes, which one vpermd undoes.
inline void store32(uint8_t* out, __m256i q0, __m256i q1, __m256i q2, __m256i q3) {
  const __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(q0, q1), _mm256_packus_epi32(q2, q3));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permutevar8x32_epi32(bytes, order));
}

inline void store8(uint8_t* out, __m256i q) {
  const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(w, w));
}

template <bool kSigned>
inline __m256i widen16(const uint8_t* p) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return kSigned ? _mm256_cvtepi8_epi16(x) : _mm256_cvtepu8_epi16(x);
}

template <bool kSigned>
inline __m128i widen8(const uint8_t* p) {
  const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return kSigned ? _mm_cvtepi8_epi16(x) : _mm_cvtepu8_epi16(x);
}

// ---- accumulation: one channel group over a run of pixels, into an int32 buffer -------------

// Accumulators per kernel pass live on the stack: 16 KB, at most kMaxChunk pixels.
constexpr size_t kAccInts = 4096;
constexpr size_t kMaxChunk = 64;

// The 16-channel group at channel c for pixels 0..n-1 (input offsets off0 + i * in_stride):
// sums in channel order at acc + i * ldacc. Up to 3x3 the group's weights (10 vectors) stay in
// registers across all n pixels, which halves the loads of the loop; larger kernels reload them.
template <bool kSigned, size_t kTaps>
inline void macs16(const uint8_t* const* x, size_t off0, size_t in_stride, size_t n, size_t runtime_taps, size_t c,
                   const __m256i* w, int32_t* acc, size_t ldacc) {
  constexpr bool kWeightsInRegisters = kTaps != 0 && kTaps <= 9;
  const size_t taps = kTaps != 0 ? kTaps : runtime_taps;
  const size_t full_pairs = taps / 2;
  __m256i wr[kWeightsInRegisters ? 2 * ((kTaps + 1) / 2) : 1];
  if constexpr (kWeightsInRegisters)
    for (size_t i = 0; i < 2 * ((kTaps + 1) / 2); ++i) wr[i] = _mm256_loadu_si256(w + i);
  auto weight = [&](size_t i) {
    if constexpr (kWeightsInRegisters)
      return wr[i];
    else
      return _mm256_loadu_si256(w + i);
  };
  for (size_t i = 0; i < n; ++i) {
    const size_t off = off0 + i * in_stride + c;
    // The odd last tap pairs with itself: its partner weight is 0 (no zero register needed,
    // which leaves the 3x3 weights 10 of the 16 ymm registers without spills).
    __m256i acc_a, acc_b;
    {
      const __m256i x0 = widen16<kSigned>(x[0] + off), x1 = taps > 1 ? widen16<kSigned>(x[1] + off) : x0;
      acc_a = _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), weight(0));
      acc_b = _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), weight(1));
    }
    for (size_t q = 1; q < full_pairs; ++q) {
      const __m256i x0 = widen16<kSigned>(x[2 * q] + off), x1 = widen16<kSigned>(x[2 * q + 1] + off);
      acc_a = _mm256_add_epi32(acc_a, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), weight(2 * q)));
      acc_b = _mm256_add_epi32(acc_b, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), weight(2 * q + 1)));
    }
    if ((taps & 1) && taps > 1) {
      const __m256i x0 = widen16<kSigned>(x[taps - 1] + off);
      acc_a = _mm256_add_epi32(acc_a, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x0), weight(2 * full_pairs)));
      acc_b = _mm256_add_epi32(acc_b, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x0), weight(2 * full_pairs + 1)));
    }
    int32_t* a = acc + i * ldacc;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a), _mm256_permute2x128_si256(acc_a, acc_b, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + 8), _mm256_permute2x128_si256(acc_a, acc_b, 0x31));
  }
}

// The 8-channel block (128-bit form of macs16).
template <bool kSigned>
inline void macs8(const uint8_t* const* x, size_t off0, size_t in_stride, size_t n, size_t taps, size_t c,
                  const __m128i* w, int32_t* acc, size_t ldacc) {
  const size_t full_pairs = taps / 2;
  const __m128i z = _mm_setzero_si128();
  for (size_t i = 0; i < n; ++i) {
    const size_t off = off0 + i * in_stride + c;
    __m128i acc_a = z, acc_b = z;
    for (size_t q = 0; q < full_pairs; ++q) {
      const __m128i x0 = widen8<kSigned>(x[2 * q] + off), x1 = widen8<kSigned>(x[2 * q + 1] + off);
      acc_a = _mm_add_epi32(acc_a, _mm_madd_epi16(_mm_unpacklo_epi16(x0, x1), _mm_loadu_si128(w + 2 * q)));
      acc_b = _mm_add_epi32(acc_b, _mm_madd_epi16(_mm_unpackhi_epi16(x0, x1), _mm_loadu_si128(w + 2 * q + 1)));
    }
    if (taps & 1) {
      const __m128i x0 = widen8<kSigned>(x[taps - 1] + off);
      acc_a = _mm_add_epi32(acc_a, _mm_madd_epi16(_mm_unpacklo_epi16(x0, z), _mm_loadu_si128(w + 2 * full_pairs)));
      acc_b = _mm_add_epi32(acc_b, _mm_madd_epi16(_mm_unpackhi_epi16(x0, z), _mm_loadu_si128(w + 2 * full_pairs + 1)));
    }
    int32_t* a = acc + i * ldacc;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(a), acc_a);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(a + 4), acc_b);
  }
}

// The last channels % 8 channels ([channel][tap] weights), as the spec sums them.
template <bool kSigned>
inline void macs_tail(const uint8_t* const* x, size_t off0, size_t in_stride, size_t n, size_t taps, size_t c,
                      size_t count, const int16_t* w, int32_t* acc, size_t ldacc) {
  for (size_t i = 0; i < n; ++i) {
    const size_t off = off0 + i * in_stride + c;
    for (size_t j = 0; j < count; ++j) {
      uint32_t sum = 0;
      for (size_t t = 0; t < taps; ++t) {
        const int32_t v = kSigned ? int32_t(int8_t(x[t][off + j])) : int32_t(x[t][off + j]);
        sum += static_cast<uint32_t>(v * int32_t(w[j * taps + t]));
      }
      acc[i * ldacc + j] = static_cast<int32_t>(sum);
    }
  }
}

// ---- requantization of the buffer -----------------------------------------------------------

// Rows 0..n-1 of acc (ldacc apart) hold channels [c_begin, c_end); outputs go to out + i * out_stride
// + channel. 32 and 8 channels at a time; the last c_end % 8 through the scalar epilogue itself.
template <bool kFixedPoint>
inline void requant_rows(const int32_t* acc, size_t ldacc, size_t n, size_t c_begin, size_t c_end,
                         const GemmEpilogue& ep, const Requant& r, uint8_t* out, size_t out_stride) {
  const size_t c32 = c_begin + (c_end - c_begin) / 32 * 32;
  const size_t c8 = c_begin + (c_end - c_begin) / 8 * 8;
  for (size_t i = 0; i < n; ++i) {
    const int32_t* a = acc + i * ldacc - c_begin;  // indexed by channel
    uint8_t* o = out + i * out_stride;
    for (size_t c = c_begin; c < c32; c += 32)
      store32(o + c, requant8<kFixedPoint>(load8(a + c), ep, c, r),
              requant8<kFixedPoint>(load8(a + c + 8), ep, c + 8, r),
              requant8<kFixedPoint>(load8(a + c + 16), ep, c + 16, r),
              requant8<kFixedPoint>(load8(a + c + 24), ep, c + 24, r));
    for (size_t c = c32; c < c8; c += 8) store8(o + c, requant8<kFixedPoint>(load8(a + c), ep, c, r));
  }
  if (c8 < c_end) gemm_epilogue_scalar(acc + (c8 - c_begin), ldacc, n, c_end - c8, ep, 0, c8, out + c8, out_stride);
}

template <bool kSigned, bool kFixedPoint, size_t kTaps>
__attribute__((noinline)) void run_impl(size_t pixels, size_t taps, size_t channels, const uint8_t* const* x,
                                        size_t in_stride, const void* packed, const GemmEpilogue& ep, uint8_t* out,
                                        size_t out_stride) {
  const Layout l(taps, channels);
  const int16_t* wp = static_cast<const int16_t*>(packed);
  const Requant r = make_requant(ep);
  const size_t c16_end = l.blocks16 * 16;
  // Channel slabs of at most kAccInts accumulators per pixel (a multiple of 16 channels, so the
  // 8-channel block and the tail fall in the last slab).
  const size_t slab = channels <= kAccInts ? channels : kAccInts / 2;
  alignas(32) int32_t acc[kAccInts];
  for (size_t cs = 0; cs < channels; cs += slab) {
    const size_t ce = std::min(channels, cs + slab), width = ce - cs;
    const size_t chunk = std::min(kMaxChunk, std::max<size_t>(1, kAccInts / width));
    for (size_t p0 = 0; p0 < pixels; p0 += chunk) {
      const size_t n = std::min(chunk, pixels - p0), off0 = p0 * in_stride;
      for (size_t c = cs; c < std::min(ce, c16_end); c += 16)
        macs16<kSigned, kTaps>(x, off0, in_stride, n, taps, c,
                               reinterpret_cast<const __m256i*>(wp + c / 16 * l.block16_elems()), acc + (c - cs),
                               width);
      if (ce == channels) {
        if (l.has8)
          macs8<kSigned>(x, off0, in_stride, n, taps, c16_end, reinterpret_cast<const __m128i*>(wp + l.offset8()),
                         acc + (c16_end - cs), width);
        if (l.tail != 0)
          macs_tail<kSigned>(x, off0, in_stride, n, taps, l.tail_begin, l.tail, wp + l.offset_tail(),
                             acc + (l.tail_begin - cs), width);
      }
      requant_rows<kFixedPoint>(acc, width, n, cs, ce, ep, r, out + p0 * out_stride, out_stride);
    }
  }
}

template <bool kSigned, bool kFixedPoint>
void run_taps(size_t pixels, size_t taps, size_t channels, const uint8_t* const* in, size_t in_stride,
              const void* packed, const GemmEpilogue& ep, uint8_t* out, size_t out_stride) {
  // 3x3 (and smaller) runs keep the weights in registers; 3x3 and 5x5 get a fully unrolled tap
  // loop; any other size loops.
  switch (taps) {
    case 9:
      return run_impl<kSigned, kFixedPoint, 9>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
    case 25:
      return run_impl<kSigned, kFixedPoint, 25>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
    default:
      return run_impl<kSigned, kFixedPoint, 0>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
  }
}

void run(size_t pixels, size_t taps, size_t channels, const uint8_t* const* in, size_t in_stride, bool in_signed,
         const void* packed, const GemmEpilogue& ep, uint8_t* out, size_t out_stride) {
  if (in_signed) {
    if (ep.fixed_point)
      run_taps<true, true>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
    else
      run_taps<true, false>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
  } else {
    if (ep.fixed_point)
      run_taps<false, true>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
    else
      run_taps<false, false>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
  }
}

}  // namespace

// The dispatcher calls these on any CPU, also one without AVX2: baseline x86-64 code only (as in
// quantize_avx2.cc; GCC would otherwise merge the pointer stores into wide vector stores).
#define QK_BASELINE_X86 __attribute__((target("no-sse3")))

QK_BASELINE_X86 bool have_built_depthwise__avx2() { return true; }

QK_BASELINE_X86 void get_depthwise_kernel__avx2(DepthwiseKernel* k) {
  k->isa = "avx2";
  k->packed_size = packed_size;
  k->pack = pack;
  k->run = run;
}

#else  // not compiled for AVX2: a stub dispatch never selects

bool have_built_depthwise__avx2() { return false; }
void get_depthwise_kernel__avx2(DepthwiseKernel*) {}

#endif

}  // namespace qk
