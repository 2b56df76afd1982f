// SPDX-License-Identifier: Apache-2.0
// AArch64 NEON depthwise kernel, bit-identical to kernels/reference/depthwise_scalar.cc. Without
// QK_BUILD_NEON on aarch64 this file is a stub and dispatch never selects it.
//
// Vectorized across channels, 16 per step: inputs widened to int16 (s8 sign-, u8 zero-extended),
// multiplied by the int16 weights (w - w_zp) with SMLAL/SMLAL2 into four int32 accumulators (exact products, wrapping
// adds as the spec's uint32 sums). 8-channel remainders use half the registers; fewer than 8
// channels go to the scalar spec (sums here, epilogue gemm_epilogue_scalar).
//
// Epilogue (kQuantized only), per 4 lanes, matching gemm_epilogue_scalar:
//   float mode: SCVTF and FCVTNS round to nearest even like the spec's conversion and nearbyintf
//   (FCVTNS on the clamped value: clamping first is equivalent, the bounds are integers); FMUL is
//   a plain multiply (-ffp-contract=off).
//   fixed point: SSHL by the left shift (wrapping, as the spec's uint32 shift), SQRDMULH, which is
//   floor((x*m + 2^30) / 2^31) saturated, exactly the spec's SaturatingRoundingDoublingHighMul,
//   then RoundingDivideByPOT with the spec's mask/threshold, and the clamp relative to out_zp.
//   Codes are narrowed by truncation (XTN), as the spec's cast to the 8-bit type.
#include "ops/depthwise.h"

#if defined(QK_BUILD_NEON) && defined(__aarch64__)
#define QK_HAVE_DEPTHWISE_NEON 1
#include <arm_neon.h>
#endif

namespace qk {

#if defined(QK_HAVE_DEPTHWISE_NEON)
namespace {

// Packed layout: 16-channel blocks [block][tap][16] int16, then one 8-channel block [tap][8] if
// channels % 16 >= 8, then the last channels % 8 channels as [channel][tap] for the scalar tail.
struct Layout {
  size_t blocks16, has8, tail, tail_begin;
  Layout(size_t channels)
      : blocks16(channels / 16),
        has8((channels % 16) >= 8 ? 1 : 0),
        tail(channels % 8),
        tail_begin(channels - channels % 8) {}
};

size_t packed_size(size_t taps, size_t channels) {
  const Layout l(channels);
  return (l.blocks16 * 16 + l.has8 * 8 + l.tail) * taps * sizeof(int16_t);
}

void pack(const int16_t* w, size_t taps, size_t channels, void* packed) {
  const Layout l(channels);
  int16_t* p = static_cast<int16_t*>(packed);
  for (size_t b = 0; b < l.blocks16; ++b)
    for (size_t t = 0; t < taps; ++t)
      for (size_t i = 0; i < 16; ++i) *p++ = w[(b * 16 + i) * taps + t];
  if (l.has8)
    for (size_t t = 0; t < taps; ++t)
      for (size_t i = 0; i < 8; ++i) *p++ = w[(l.blocks16 * 16 + i) * taps + t];
  for (size_t c = 0; c < l.tail; ++c)
    for (size_t t = 0; t < taps; ++t) *p++ = w[(l.tail_begin + c) * taps + t];
}

struct Requant {
  int32x4_t zp, rel_min, rel_max;
  float32x4_t lo, hi;
};

inline Requant make_requant(const GemmEpilogue& ep) {
  Requant r;
  r.zp = vdupq_n_s32(ep.out_zp);
  r.rel_min = vdupq_n_s32(ep.q_min - ep.out_zp);
  r.rel_max = vdupq_n_s32(ep.q_max - ep.out_zp);
  r.lo = vdupq_n_f32(static_cast<float>(ep.q_min - ep.out_zp));
  r.hi = vdupq_n_f32(static_cast<float>(ep.q_max - ep.out_zp));
  return r;
}

// 4 accumulators (channels c .. c+3) -> 4 int32 codes.
template <bool kFixedPoint>
inline int32x4_t requant4(int32x4_t acc, const GemmEpilogue& ep, size_t c, const Requant& r) {
  const int32x4_t v = vaddq_s32(acc, vld1q_s32(ep.col_offset + c));
  int32x4_t q;
  if (!kFixedPoint) {
    const float32x4_t y = vmulq_f32(vcvtq_f32_s32(v), vld1q_f32(ep.scale + c));
    q = vcvtnq_s32_f32(vminq_f32(r.hi, vmaxq_f32(r.lo, y)));
  } else {
    const int32x4_t zero = vdupq_n_s32(0), one = vdupq_n_s32(1);
    const int32x4_t shift = vld1q_s32(ep.fp_shift + c);
    const int32x4_t left = vmaxq_s32(shift, zero), right = vmaxq_s32(vnegq_s32(shift), zero);
    const int32x4_t high = vqrdmulhq_s32(vshlq_s32(v, left), vld1q_s32(ep.fp_multiplier + c));
    const int32x4_t mask = vsubq_s32(vshlq_s32(one, right), one);
    const int32x4_t remainder = vandq_s32(high, mask);
    // threshold = (mask >> 1) + (high < 0); x >> 31 is -1 for negatives.
    const int32x4_t threshold = vsubq_s32(vshrq_n_s32(mask, 1), vshrq_n_s32(high, 31));
    const int32x4_t above = vreinterpretq_s32_u32(vcgtq_s32(remainder, threshold));
    const int32x4_t rounded = vsubq_s32(vshlq_s32(high, vnegq_s32(right)), above);
    q = vminq_s32(r.rel_max, vmaxq_s32(r.rel_min, rounded));
  }
  return vaddq_s32(q, r.zp);
}

inline uint8x8_t narrow8(int32x4_t a, int32x4_t b) {
  return vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))));
}

// 16 input bytes as two int16x8 halves (s8 sign-extended, u8 zero-extended).
template <bool kSigned>
inline void widen16(const uint8_t* p, int16x8_t* lo, int16x8_t* hi) {
  if (kSigned) {
    const int8x16_t v = vld1q_s8(reinterpret_cast<const int8_t*>(p));
    *lo = vmovl_s8(vget_low_s8(v));
    *hi = vmovl_high_s8(v);
  } else {
    const uint8x16_t v = vld1q_u8(p);
    *lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
    *hi = vreinterpretq_s16_u16(vmovl_high_u8(v));
  }
}

template <bool kSigned>
inline int16x8_t widen8(const uint8_t* p) {
  if (kSigned) return vmovl_s8(vld1_s8(reinterpret_cast<const int8_t*>(p)));
  return vreinterpretq_s16_u16(vmovl_u8(vld1_u8(p)));
}

template <bool kSigned, bool kFixedPoint>
__attribute__((noinline)) void run_impl(size_t pixels, size_t taps, size_t channels, const uint8_t* const* x,
                                        size_t in_stride, const void* packed, const GemmEpilogue& ep, uint8_t* out,
                                        size_t out_stride) {
  const Layout l(channels);
  const int16_t* wp = static_cast<const int16_t*>(packed);
  const Requant r = make_requant(ep);
  for (size_t p = 0; p < pixels; ++p) {
    const size_t off = p * in_stride;
    uint8_t* o = out + p * out_stride;
    for (size_t b = 0; b < l.blocks16; ++b) {
      const size_t c = b * 16;
      const int16_t* w = wp + b * 16 * taps;
      int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
      for (size_t t = 0; t < taps; ++t, w += 16) {
        int16x8_t xl, xh;
        widen16<kSigned>(x[t] + off + c, &xl, &xh);
        const int16x8_t wl = vld1q_s16(w), wh = vld1q_s16(w + 8);
        a0 = vmlal_s16(a0, vget_low_s16(xl), vget_low_s16(wl));
        a1 = vmlal_high_s16(a1, xl, wl);
        a2 = vmlal_s16(a2, vget_low_s16(xh), vget_low_s16(wh));
        a3 = vmlal_high_s16(a3, xh, wh);
      }
      const uint8x8_t lo = narrow8(requant4<kFixedPoint>(a0, ep, c, r), requant4<kFixedPoint>(a1, ep, c + 4, r));
      const uint8x8_t hi = narrow8(requant4<kFixedPoint>(a2, ep, c + 8, r), requant4<kFixedPoint>(a3, ep, c + 12, r));
      vst1q_u8(o + c, vcombine_u8(lo, hi));
    }
    if (l.has8) {
      const size_t c = l.blocks16 * 16;
      const int16_t* w = wp + l.blocks16 * 16 * taps;
      int32x4_t a0 = vdupq_n_s32(0), a1 = a0;
      for (size_t t = 0; t < taps; ++t, w += 8) {
        const int16x8_t xl = widen8<kSigned>(x[t] + off + c);
        const int16x8_t wl = vld1q_s16(w);
        a0 = vmlal_s16(a0, vget_low_s16(xl), vget_low_s16(wl));
        a1 = vmlal_high_s16(a1, xl, wl);
      }
      vst1_u8(o + c, narrow8(requant4<kFixedPoint>(a0, ep, c, r), requant4<kFixedPoint>(a1, ep, c + 4, r)));
    }
    if (l.tail != 0) {
      const int16_t* w = wp + (l.blocks16 * 16 + l.has8 * 8) * taps;
      uint32_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (size_t t = 0; t < taps; ++t) {
        const uint8_t* xt = x[t] + off + l.tail_begin;
        for (size_t c = 0; c < l.tail; ++c) {
          const int32_t v = kSigned ? int32_t(int8_t(xt[c])) : int32_t(xt[c]);
          acc[c] += static_cast<uint32_t>(v * int32_t(w[c * taps + t]));
        }
      }
      int32_t dot[8];
      for (size_t c = 0; c < l.tail; ++c) dot[c] = static_cast<int32_t>(acc[c]);
      gemm_epilogue_scalar(dot, 8, 1, l.tail, ep, 0, l.tail_begin, o + l.tail_begin, out_stride);
    }
  }
}

void run(size_t pixels, size_t taps, size_t channels, const uint8_t* const* in, size_t in_stride, bool in_signed,
         const void* packed, const GemmEpilogue& ep, uint8_t* out, size_t out_stride) {
  if (in_signed) {
    if (ep.fixed_point)
      run_impl<true, true>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
    else
      run_impl<true, false>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
  } else {
    if (ep.fixed_point)
      run_impl<false, true>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
    else
      run_impl<false, false>(pixels, taps, channels, in, in_stride, packed, ep, out, out_stride);
  }
}

}  // namespace

bool have_built_depthwise__neon() { return true; }

void get_depthwise_kernel__neon(DepthwiseKernel* k) {
  k->isa = "neon";
  k->packed_size = packed_size;
  k->pack = pack;
  k->run = run;
}

#else  // not compiled for NEON: a stub dispatch never selects

bool have_built_depthwise__neon() { return false; }
void get_depthwise_kernel__neon(DepthwiseKernel*) {}

#endif

}  // namespace qk
