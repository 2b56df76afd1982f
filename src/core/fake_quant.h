// SPDX-License-Identifier: Apache-2.0
// Fake quantization for QAT, matching PyTorch 1.13's kernels element for element.
#pragma once

#include <cstdint>

#include "core/qparams.h"
#include "core/shape.h"

namespace qk {

// y = (clamp(nearbyint(x * (1/scale)) + zp, qmin, qmax) - zp) * scale; mask (optional) = 1 where
// the unclamped code was inside [qmin, qmax]. Per-tensor or per-channel integer qparams.
void fake_quantize(const QParams& qp, const float* x, const Shape& shape, float* y, uint8_t* mask);

// grad_x = grad_y * mask.
void fake_quantize_backward(const QParams& qp, const float* x, const float* grad_y, const Shape& shape,
                            float* grad_x);

struct LearnableFakeQuantArgs {
  const float* x = nullptr;
  const float* grad_y = nullptr;
  Shape shape;
  int32_t axis = -1;  // < 0: per tensor (count must be 1)
  const float* scales = nullptr;
  const float* zero_points = nullptr;
  size_t count = 0;
  int32_t quant_min = 0;
  int32_t quant_max = 255;
  float grad_factor = 1.0f;
};

// torch._fake_quantize_learnable_per_{tensor,channel}_affine_backward. Validates everything
// (throws before writing), then writes grad_x (numel), grad_scales and grad_zero_points (count).
void fake_quantize_learnable_backward(const LearnableFakeQuantArgs& args, float* grad_x, float* grad_scales,
                                      float* grad_zero_points);

}  // namespace qk
