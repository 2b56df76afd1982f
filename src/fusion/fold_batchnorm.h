// SPDX-License-Identifier: Apache-2.0
// Exact folding of an inference batch norm into the preceding conv / transposed conv / linear.
#pragma once

#include <cstddef>

#include "core/shape.h"

namespace qk {

enum class FoldTarget : int { kConv = 1, kConvTransposed = 2, kLinear = 3 };

struct BatchNormParams {
  const float* mean = nullptr;
  const float* var = nullptr;
  const float* gamma = nullptr;  // NULL: 1
  const float* beta = nullptr;   // NULL: 0
  float eps = 1e-5f;
  size_t channels = 0;
};

// Validates everything first, then writes weight_out (same shape) and bias_out (channels).
// weight_out may alias weight, bias_out may alias bias.
void fold_batchnorm(FoldTarget target, const float* weight, const Shape& weight_shape, const float* bias,
                    const BatchNormParams& bn, float* weight_out, float* bias_out);

}  // namespace qk
