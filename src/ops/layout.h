// SPDX-License-Identifier: Apache-2.0
// How the int8 operators see activations: checks for per-tensor u8/s8 qparams, the quantized
// value of a real-valued clamp bound, and the NCHW f32 <-> NHWC quantized converters.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/qparams.h"

namespace qk {

// The numbers an operator needs from per-tensor u8/s8 activation qparams.
struct ActivationQuant {
  float scale = 1.0f;
  int32_t zero_point = 0;
  int32_t type_min = 0;    // the dtype's range: outputs are clamped to it (as PyTorch's quantized
  int32_t type_max = 255;  // ops do; the qparams' quant range only shaped the scale)
  bool is_signed = false;  // s8 (true) or u8
};

// Throws kInvalidArgument (naming `what`) unless qp is per-tensor u8 or s8.
ActivationQuant activation_quant(const QParams& qp, const char* what);

// The operators' real-valued output clamp in codes, as qlinear computes it (ops/qlinear.cc):
// [lo, hi] = the dtype range intersected with [quantize(output_min), quantize(output_max)], where
// quantize(x) = round_half_even(x * (1/scale)) + zp and -Inf/+Inf mean no bound. Throws
// kInvalidArgument when a bound is NaN or output_min > output_max.
void output_clamp(const ActivationQuant& q, float output_min, float output_max, int32_t* lo, int32_t* hi);

// clamp(round_half_even(v), lo, hi) for integer-valued bounds with |lo|, |hi| < 2^22, without a
// libm call (the int8 loops use it per element): clamping first is equivalent (rounding is
// monotonic and the bounds are integers), and for |v| < 2^22 adding and subtracting 1.5 * 2^23
// rounds to nearest even in the default rounding mode. v must not be NaN.
inline float round_clamped(float v, float lo, float hi) {
  v = v < lo ? lo : (v > hi ? hi : v);
  return (v + 12582912.0f) - 12582912.0f;
}

// True when [a, a + a_bytes) and [b, b + b_bytes) share a byte.
bool bytes_overlap(const void* a, size_t a_bytes, const void* b, size_t b_bytes);

// f32 NCHW -> u8/s8 NHWC with per-tensor qparams or per-channel qparams on axis 1 (NCHW's C).
// Returns the NaN count. dst is untouched on error.
uint64_t quantize_nchw_to_nhwc(const QParams& qp, const float* src, const int64_t nchw_shape[4], void* dst,
                               size_t dst_bytes);
// u8/s8 NHWC (logical shape NCHW) -> f32 NCHW.
void dequantize_nhwc_to_nchw(const QParams& qp, const void* src, size_t src_bytes, const int64_t nchw_shape[4],
                             float* dst);

}  // namespace qk
