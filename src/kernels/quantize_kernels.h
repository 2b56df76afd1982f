// SPDX-License-Identifier: Apache-2.0
// Element-wise quantize / dequantize / cast micro-kernels. One table per ISA; the scalar table
// (kernels/reference/quantize_scalar.cc) is the specification the others match bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qk {

// q[i] = clamp(round_half_even(x[i] * inv_scale) + zp, qmin, qmax); NaN -> zp.
// qmin <= zp <= qmax, and [qmin, qmax] lies inside the output type. Returns the NaN count.
using QuantizeS8Fn = uint64_t (*)(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin,
                                  int32_t qmax, int8_t* q);
using QuantizeU8Fn = uint64_t (*)(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin,
                                  int32_t qmax, uint8_t* q);
// y[i] = float(q[i] - zp) * scale (one rounding).
using DequantizeS8Fn = void (*)(const int8_t* q, size_t n, float scale, int32_t zp, float* y);
using DequantizeU8Fn = void (*)(const uint8_t* q, size_t n, float scale, int32_t zp, float* y);
using F32ToHalfFn = void (*)(const float* x, size_t n, uint16_t* y);
using HalfToF32Fn = void (*)(const uint16_t* x, size_t n, float* y);

struct QuantizeKernels {
  QuantizeS8Fn quantize_s8 = nullptr;
  QuantizeU8Fn quantize_u8 = nullptr;
  DequantizeS8Fn dequantize_s8 = nullptr;
  DequantizeU8Fn dequantize_u8 = nullptr;
  F32ToHalfFn f32_to_f16 = nullptr;
  HalfToF32Fn f16_to_f32 = nullptr;
  F32ToHalfFn f32_to_bf16 = nullptr;
  HalfToF32Fn bf16_to_f32 = nullptr;
};

// Each ISA file defines its filler; it overrides the entries it accelerates and leaves the rest
// (pre-filled with the scalar table). When the ISA is not compiled in, have_built_* returns false
// and the filler does nothing.
void fill_quantize_kernels__scalar(QuantizeKernels* table);
bool have_built__avx2();
void fill_quantize_kernels__avx2(QuantizeKernels* table);
bool have_built__avx512();
void fill_quantize_kernels__avx512(QuantizeKernels* table);
bool have_built__neon();
void fill_quantize_kernels__neon(QuantizeKernels* table);

}  // namespace qk
