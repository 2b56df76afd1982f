// SPDX-License-Identifier: Apache-2.0
// Scalar quantize / dequantize / cast: plain C++, the specification of every SIMD path.
// Rounding relies on the default floating-point environment (round to nearest even), as
// PyTorch's std::nearbyint does.
#include <cmath>

#include "core/half.h"
#include "kernels/quantize_kernels.h"

namespace qk {
namespace {

template <typename T>
uint64_t quantize_scalar(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax, T* q) {
  uint64_t nans = 0;
  // Clamping the rounded value to [qmin - zp, qmax - zp] in float before converting equals
  // clamping after adding zp (rounding is monotonic and the bounds are integers) and keeps
  // huge values and Inf from overflowing the integer conversion.
  const float lo = static_cast<float>(qmin - zp);
  const float hi = static_cast<float>(qmax - zp);
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (std::isnan(v)) {
      ++nans;
      q[i] = static_cast<T>(zp);
      continue;
    }
    float r = std::nearbyint(v * inv_scale);
    r = r < lo ? lo : (r > hi ? hi : r);
    q[i] = static_cast<T>(static_cast<int32_t>(r) + zp);
  }
  return nans;
}

uint64_t quantize_s8(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax, int8_t* q) {
  return quantize_scalar<int8_t>(x, n, inv_scale, zp, qmin, qmax, q);
}
uint64_t quantize_u8(const float* x, size_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax, uint8_t* q) {
  return quantize_scalar<uint8_t>(x, n, inv_scale, zp, qmin, qmax, q);
}

template <typename T>
void dequantize_scalar(const T* q, size_t n, float scale, int32_t zp, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(static_cast<int32_t>(q[i]) - zp) * scale;
}
void dequantize_s8(const int8_t* q, size_t n, float scale, int32_t zp, float* y) { dequantize_scalar(q, n, scale, zp, y); }
void dequantize_u8(const uint8_t* q, size_t n, float scale, int32_t zp, float* y) { dequantize_scalar(q, n, scale, zp, y); }

void f32_to_f16(const float* x, size_t n, uint16_t* y) {
  for (size_t i = 0; i < n; ++i) y[i] = f32_to_f16_bits(x[i]);
}
void f16_to_f32(const uint16_t* x, size_t n, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = f16_bits_to_f32(x[i]);
}
void f32_to_bf16(const float* x, size_t n, uint16_t* y) {
  for (size_t i = 0; i < n; ++i) y[i] = f32_to_bf16_bits(x[i]);
}
void bf16_to_f32(const uint16_t* x, size_t n, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = bf16_bits_to_f32(x[i]);
}

}  // namespace

void fill_quantize_kernels__scalar(QuantizeKernels* t) {
  t->quantize_s8 = quantize_s8;
  t->quantize_u8 = quantize_u8;
  t->dequantize_s8 = dequantize_s8;
  t->dequantize_u8 = dequantize_u8;
  t->f32_to_f16 = f32_to_f16;
  t->f16_to_f32 = f16_to_f32;
  t->f32_to_bf16 = f32_to_bf16;
  t->bf16_to_f32 = bf16_to_f32;
}

}  // namespace qk
