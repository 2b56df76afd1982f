// SPDX-License-Identifier: Apache-2.0
// AArch64 NEON quantize / dequantize / cast kernels. They match kernels/reference/quantize_scalar.cc
// bit for bit on every input; tests/cross/run-aarch64.sh checks that under qemu. Without
// QK_BUILD_NEON on aarch64 this file is a stub and dispatch never selects it.
#include "kernels/quantize_kernels.h"

#if defined(QK_BUILD_NEON) && defined(__aarch64__)
#define QK_HAVE_NEON_KERNELS 1
#include <arm_neon.h>
#endif

namespace qk {

#if defined(QK_HAVE_NEON_KERNELS)
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
// The scalar spec step by step: x * inv_scale (a plain FMUL: -ffp-contract=off), FRINTI (round
// in the current mode without raising inexact, i.e. nearbyint), clamp to [qmin - zp, qmax - zp]
// with FMAX/FMIN (which return NaN if either input is NaN), FCVTZS (exact on integers; NaN -> 0),
// + zp. A NaN input therefore comes out as zp with no extra select.
struct QuantizeConsts {
  float32x4_t inv_scale, lo, hi;
  int32x4_t zp;
};

inline int32x4_t quantize4(const float* x, const QuantizeConsts& c) {
  const float32x4_t r = vrndiq_f32(vmulq_f32(vld1q_f32(x), c.inv_scale));
  return vaddq_s32(vcvtq_s32_f32(vminq_f32(vmaxq_f32(r, c.lo), c.hi)), c.zp);
}

// Eight codes as int16 lanes; the clamp keeps them in 8-bit range, so the narrows are exact and
// s8 and u8 codes are the same low bytes.
inline int16x8_t quantize8(const float* x, const QuantizeConsts& c) {
  return vcombine_s16(vmovn_s32(quantize4(x, c)), vmovn_s32(quantize4(x + 4, c)));
}

// NaN lanes in x[0..8): a lane compares unequal to itself only when it is NaN.
inline uint32_t count_nans8(const float* x) {
  const float32x4_t a = vld1q_f32(x), b = vld1q_f32(x + 4);
  const uint32x4_t ordered = vandq_u32(vceqq_f32(a, a), vceqq_f32(b, b));
  if (vminvq_u32(ordered) != 0) return 0;  // the common case: no NaN
  return vaddvq_u32(vshrq_n_u32(vmvnq_u32(vceqq_f32(a, a)), 31)) + vaddvq_u32(vshrq_n_u32(vmvnq_u32(vceqq_f32(b, b)), 31));
}

// Quantizes all whole groups of 8 and returns how many elements it covered.
QK_NOINLINE size_t quantize_body(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax,
                                 uint8_t* q, uint64_t* nans) {
  const QuantizeConsts c{vdupq_n_f32(inv_scale), vdupq_n_f32(static_cast<float>(qmin - zp)),
                         vdupq_n_f32(static_cast<float>(qmax - zp)), vdupq_n_s32(zp)};
  uint64_t count = 0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {  // 16 floats in, one q register of bytes out
    count += count_nans8(x + i) + count_nans8(x + i + 8);
    const int8x16_t b = vcombine_s8(vmovn_s16(quantize8(x + i, c)), vmovn_s16(quantize8(x + i + 8, c)));
    vst1q_u8(q + i, vreinterpretq_u8_s8(b));
  }
  i += for_each8(x + i, n - i, q + i, [&](const float* xs, uint8_t* qs) {
    count += count_nans8(xs);
    vst1_u8(qs, vreinterpret_u8_s8(vmovn_s16(quantize8(xs, c))));
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

// ---- dequantize: float(q - zp) * scale, one rounding ----------------------------------------
inline void dequantize8(int16x8_t w, float32x4_t scale, int32x4_t zp, float* y) {
  vst1q_f32(y, vmulq_f32(vcvtq_f32_s32(vsubq_s32(vmovl_s16(vget_low_s16(w)), zp)), scale));
  vst1q_f32(y + 4, vmulq_f32(vcvtq_f32_s32(vsubq_s32(vmovl_s16(vget_high_s16(w)), zp)), scale));
}

QK_NOINLINE size_t dequantize_s8_body(const int8_t* q, size_t n, float scale, int32_t zp, float* y) {
  const float32x4_t s = vdupq_n_f32(scale);
  const int32x4_t z = vdupq_n_s32(zp);
  return for_each8(q, n, y, [&](const int8_t* qs, float* ys) { dequantize8(vmovl_s8(vld1_s8(qs)), s, z, ys); });
}

void dequantize_s8(const int8_t* q, size_t n, float scale, int32_t zp, float* y) {
  if (n < 8) return spec().dequantize_s8(q, n, scale, zp, y);
  const size_t i = dequantize_s8_body(q, n, scale, zp, y);
  if (i < n) spec().dequantize_s8(q + i, n - i, scale, zp, y + i);
}

QK_NOINLINE size_t dequantize_u8_body(const uint8_t* q, size_t n, float scale, int32_t zp, float* y) {
  const float32x4_t s = vdupq_n_f32(scale);
  const int32x4_t z = vdupq_n_s32(zp);
  return for_each8(q, n, y, [&](const uint8_t* qs, float* ys) {
    dequantize8(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(qs))), s, z, ys);
  });
}

void dequantize_u8(const uint8_t* q, size_t n, float scale, int32_t zp, float* y) {
  if (n < 8) return spec().dequantize_u8(q, n, scale, zp, y);
  const size_t i = dequantize_u8_body(q, n, scale, zp, y);
  if (i < n) spec().dequantize_u8(q + i, n - i, scale, zp, y + i);
}

// ---- float16 --------------------------------------------------------------------------------
// FCVTN rounds in the current mode (nearest-even by default, as half.h always does); NaN becomes
// quiet keeping sign and top payload bits, like half.h.
QK_NOINLINE size_t f32_to_f16_body(const float* x, size_t n, uint16_t* y) {
  return for_each8(x, n, y, [](const float* xs, uint16_t* ys) {
    const float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(xs)), vld1q_f32(xs + 4));
    vst1q_u16(ys, vreinterpretq_u16_f16(h));
  });
}

void f32_to_f16(const float* x, size_t n, uint16_t* y) {
  if (n < 8) return spec().f32_to_f16(x, n, y);
  const size_t i = f32_to_f16_body(x, n, y);
  if (i < n) spec().f32_to_f16(x + i, n - i, y + i);
}

// FCVTL is exact and quiets signalling NaNs keeping the payload, as half.h specifies.
inline float32x4_t f16_to_f32_4(uint16x4_t h) { return vcvt_f32_f16(vreinterpret_f16_u16(h)); }

QK_NOINLINE size_t f16_to_f32_body(const uint16_t* x, size_t n, float* y) {
  return for_each8(x, n, y, [](const uint16_t* xs, float* ys) {
    const uint16x8_t h = vld1q_u16(xs);
    vst1q_f32(ys, f16_to_f32_4(vget_low_u16(h)));
    vst1q_f32(ys + 4, f16_to_f32_4(vget_high_u16(h)));
  });
}

void f16_to_f32(const uint16_t* x, size_t n, float* y) {
  if (n < 8) return spec().f16_to_f32(x, n, y);
  const size_t i = f16_to_f32_body(x, n, y);
  if (i < n) spec().f16_to_f32(x + i, n - i, y + i);
}

// ---- bfloat16: half.h's integer round-to-nearest-even, NaN -> (bits >> 16) | 0x40 -----------
inline uint16x4_t bf16_of(const float* x) {
  const uint32x4_t b = vreinterpretq_u32_f32(vld1q_f32(x));
  const uint32x4_t nan = vcgtq_u32(vandq_u32(b, vdupq_n_u32(0x7FFFFFFFu)), vdupq_n_u32(0x7F800000u));
  const uint32x4_t top = vshrq_n_u32(b, 16);
  const uint32x4_t bias = vaddq_u32(vdupq_n_u32(0x7FFFu), vandq_u32(top, vdupq_n_u32(1u)));
  const uint32x4_t rounded = vshrq_n_u32(vaddq_u32(b, bias), 16);
  const uint32x4_t quiet = vorrq_u32(top, vdupq_n_u32(0x40u));
  return vmovn_u32(vbslq_u32(nan, quiet, rounded));
}

QK_NOINLINE size_t f32_to_bf16_body(const float* x, size_t n, uint16_t* y) {
  return for_each8(x, n, y, [](const float* xs, uint16_t* ys) { vst1q_u16(ys, vcombine_u16(bf16_of(xs), bf16_of(xs + 4))); });
}

void f32_to_bf16(const float* x, size_t n, uint16_t* y) {
  if (n < 8) return spec().f32_to_bf16(x, n, y);
  const size_t i = f32_to_bf16_body(x, n, y);
  if (i < n) spec().f32_to_bf16(x + i, n - i, y + i);
}

QK_NOINLINE size_t bf16_to_f32_body(const uint16_t* x, size_t n, float* y) {
  return for_each8(x, n, y, [](const uint16_t* xs, float* ys) {
    const uint16x8_t h = vld1q_u16(xs);
    vst1q_f32(ys, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)));
    vst1q_f32(ys + 4, vreinterpretq_f32_u32(vshll_n_u16(vget_high_u16(h), 16)));
  });
}

void bf16_to_f32(const uint16_t* x, size_t n, float* y) {
  if (n < 8) return spec().bf16_to_f32(x, n, y);
  const size_t i = bf16_to_f32_body(x, n, y);
  if (i < n) spec().bf16_to_f32(x + i, n - i, y + i);
}

}  // namespace

bool have_built__neon() { return true; }

void fill_quantize_kernels__neon(QuantizeKernels* t) {
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

#else  // not compiled for NEON: a stub dispatch never selects

bool have_built__neon() { return false; }
void fill_quantize_kernels__neon(QuantizeKernels*) {}

#endif

}  // namespace qk
