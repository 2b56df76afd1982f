// SPDX-License-Identifier: Apache-2.0
// The scalar GEMM epilogue (zero-point corrections, then s32 / f32 / requantized output) and the
// TFLite fixed-point requantization helpers: the specification SIMD epilogues match bit for bit.
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/gemm/qgemm_kernel.h"

namespace qk {
namespace {

// The accumulator is defined modulo 2^32: unsigned arithmetic gives that without UB.
inline int32_t wrapping_add3(int32_t a, int32_t b, uint32_t c) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b) + c);
}

// gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating the one overflow.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t(1) << 30) : (1 - (int64_t(1) << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t(1) << 31));  // C++ division truncates
}

// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero, exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int64_t mask = (int64_t(1) << exponent) - 1;
  const int64_t remainder = static_cast<int64_t>(x) & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return static_cast<int32_t>((static_cast<int64_t>(x) >> exponent) + (remainder > threshold ? 1 : 0));
}

// Rounds half to even like nearbyintf for |x| < 2^22 in the default rounding mode, without a
// libm call (baseline x86-64 has no roundss): adding 1.5 * 2^23 leaves no fraction bits.
inline float round_half_even_small(float x) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return (x + kMagic) - kMagic;
}

template <typename Out>
void requantize_float(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep, size_t row0,
                      size_t col0, Out* out, size_t ldo) {
  const int32_t* col = ep.col_offset + col0;
  const float* scale = ep.scale + col0;
  // Clamping to the integer bounds (q - zp) before rounding gives the same result as rounding
  // first (rounding is monotonic and the bounds are integers), keeps |x| <= 510 for the magic
  // rounding, and keeps the float -> int conversion in range.
  const float lo = static_cast<float>(ep.q_min - ep.out_zp);
  const float hi = static_cast<float>(ep.q_max - ep.out_zp);
  for (size_t i = 0; i < m; ++i) {
    const uint32_t row = ep.row_offset ? static_cast<uint32_t>(ep.row_offset[row0 + i]) : 0u;
    const int32_t* a = acc + i * ldacc;
    Out* o = out + i * ldo;
    for (size_t j = 0; j < n; ++j) {
      float x = static_cast<float>(wrapping_add3(a[j], col[j], row)) * scale[j];
      x = x < lo ? lo : x;
      x = x > hi ? hi : x;
      o[j] = static_cast<Out>(static_cast<int32_t>(round_half_even_small(x)) + ep.out_zp);
    }
  }
}

template <typename Out>
void requantize_fixed_point(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep,
                            size_t row0, size_t col0, Out* out, size_t ldo) {
  const int32_t* col = ep.col_offset + col0;
  const int32_t* mult = ep.fp_multiplier + col0;
  const int32_t* shift = ep.fp_shift + col0;
  for (size_t i = 0; i < m; ++i) {
    const uint32_t row = ep.row_offset ? static_cast<uint32_t>(ep.row_offset[row0 + i]) : 0u;
    const int32_t* a = acc + i * ldacc;
    Out* o = out + i * ldo;
    for (size_t j = 0; j < n; ++j) {
      // int64: the multiplier saturates at INT32_MAX, to which the zero point is still added.
      int64_t v = int64_t(multiply_by_quantized_multiplier(wrapping_add3(a[j], col[j], row), mult[j], shift[j])) +
                  ep.out_zp;
      v = v < ep.q_min ? ep.q_min : (v > ep.q_max ? ep.q_max : v);
      o[j] = static_cast<Out>(v);
    }
  }
}

void write_s32(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep, size_t row0,
               size_t col0, int32_t* out, size_t ldo) {
  const int32_t* col = ep.col_offset + col0;
  for (size_t i = 0; i < m; ++i) {
    const uint32_t row = ep.row_offset ? static_cast<uint32_t>(ep.row_offset[row0 + i]) : 0u;
    const int32_t* a = acc + i * ldacc;
    int32_t* o = out + i * ldo;
    for (size_t j = 0; j < n; ++j) o[j] = wrapping_add3(a[j], col[j], row);
  }
}

void write_f32(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep, size_t row0,
               size_t col0, float* out, size_t ldo) {
  const int32_t* col = ep.col_offset + col0;
  const float* scale = ep.scale + col0;
  const float* bias = ep.bias ? ep.bias + col0 : nullptr;
  for (size_t i = 0; i < m; ++i) {
    const uint32_t row = ep.row_offset ? static_cast<uint32_t>(ep.row_offset[row0 + i]) : 0u;
    const int32_t* a = acc + i * ldacc;
    float* o = out + i * ldo;
    for (size_t j = 0; j < n; ++j) {
      float v = static_cast<float>(wrapping_add3(a[j], col[j], row)) * scale[j];
      if (bias) v = v + bias[j];  // separate statements: two roundings, never an FMA
      v = v < ep.f32_min ? ep.f32_min : v;
      v = v > ep.f32_max ? ep.f32_max : v;
      o[j] = v;
    }
  }
}

}  // namespace

int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  // TFLite computes x * (1 << left_shift) in int32; we define its overflow as wrapping.
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right_shift);
}

void quantize_multiplier(double m, int32_t* multiplier, int32_t* shift) {
  if (!(m > 0.0) || !std::isfinite(m)) {  // 0 (and, defensively, anything not a positive number)
    *multiplier = 0;
    *shift = 0;
    return;
  }
  int exponent = 0;
  const double q = std::frexp(m, &exponent);  // m = q * 2^exponent, q in [0.5, 1)
  int64_t q_fixed = static_cast<int64_t>(std::round(q * double(int64_t(1) << 31)));
  if (q_fixed == (int64_t(1) << 31)) {
    q_fixed /= 2;
    ++exponent;
  }
  // Below 2^-31 every result would be 0: TFLite flushes such multipliers to zero.
  if (exponent < -31) {
    exponent = 0;
    q_fixed = 0;
  }
  // Above 2^30 the left shift would leave int32 entirely: saturate (TFLite's single-rounding rule).
  if (exponent > 30) {
    exponent = 30;
    q_fixed = std::numeric_limits<int32_t>::max();
  }
  *multiplier = static_cast<int32_t>(q_fixed);
  *shift = exponent;
}

void gemm_epilogue_scalar(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep, size_t row0,
                          size_t col0, void* out, size_t ldo) {
  switch (ep.kind) {
    case GemmOutput::kS32:
      write_s32(acc, ldacc, m, n, ep, row0, col0, static_cast<int32_t*>(out), ldo);
      break;
    case GemmOutput::kF32:
      write_f32(acc, ldacc, m, n, ep, row0, col0, static_cast<float*>(out), ldo);
      break;
    case GemmOutput::kQuantized:
      if (ep.fixed_point) {
        if (ep.out_signed)
          requantize_fixed_point(acc, ldacc, m, n, ep, row0, col0, static_cast<int8_t*>(out), ldo);
        else
          requantize_fixed_point(acc, ldacc, m, n, ep, row0, col0, static_cast<uint8_t*>(out), ldo);
      } else {
        if (ep.out_signed)
          requantize_float(acc, ldacc, m, n, ep, row0, col0, static_cast<int8_t*>(out), ldo);
        else
          requantize_float(acc, ldacc, m, n, ep, row0, col0, static_cast<uint8_t*>(out), ldo);
      }
      break;
  }
}

}  // namespace qk
