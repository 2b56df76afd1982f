// SPDX-License-Identifier: Apache-2.0
// Batch-norm folding with the operation order of torch.nn.utils.fusion (v1.13):
//   conv:   inv = rsqrt(var + eps); W' = W * (gamma * inv); b' = (b - mean) * inv * gamma + beta
//   linear: s = gamma * rsqrt(var + eps); W' = W * s;      b' = (b - mean) * s + beta
// rsqrt is 1/sqrt in float (what ATen's CPU rsqrt computes), so results match to float rounding.
#include "fusion/fold_batchnorm.h"

#include <Eigen/Core>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace qk {

void fold_batchnorm(FoldTarget target, const float* weight, const Shape& shape, const float* bias,
                    const BatchNormParams& bn, float* weight_out, float* bias_out) {
  QK_FAIL_IF(bn.channels == 0, kInvalidArgument, "batch norm has 0 channels");
  QK_FAIL_IF(!std::isfinite(bn.eps) || bn.eps < 0.0f, kInvalidArgument, "bn_eps must be finite and >= 0");
  size_t channel_axis = 0;
  switch (target) {
    case FoldTarget::kConv:
      QK_FAIL_IF(shape.rank < 2, kInvalidArgument, "conv weight needs rank >= 2, got %zu", shape.rank);
      break;
    case FoldTarget::kConvTransposed:
      QK_FAIL_IF(shape.rank < 2, kInvalidArgument, "transposed conv weight needs rank >= 2, got %zu", shape.rank);
      channel_axis = 1;
      break;
    case FoldTarget::kLinear:
      QK_FAIL_IF(shape.rank != 2, kInvalidArgument, "linear weight needs rank 2, got %zu", shape.rank);
      break;
  }
  QK_FAIL_IF(static_cast<uint64_t>(shape.dims[channel_axis]) != bn.channels, kInvalidArgument,
             "weight dimension %zu is %lld but the batch norm has %zu channels", channel_axis,
             (long long)shape.dims[channel_axis], bn.channels);
  std::vector<float> inv(bn.channels), w_scale(bn.channels), new_bias(bn.channels);
  for (size_t c = 0; c < bn.channels; ++c) {
    const float denom = bn.var[c] + bn.eps;
    QK_FAIL_IF(!(denom > 0.0f) || !std::isfinite(denom), kInvalidArgument,
               "bn_var[%zu] + eps = %g must be finite and > 0", c, (double)denom);
    const float gamma = bn.gamma ? bn.gamma[c] : 1.0f;
    const float beta = bn.beta ? bn.beta[c] : 0.0f;
    const float b = bias ? bias[c] : 0.0f;
    inv[c] = 1.0f / std::sqrt(denom);
    w_scale[c] = gamma * inv[c];
    if (target == FoldTarget::kLinear) new_bias[c] = (b - bn.mean[c]) * w_scale[c] + beta;
    else new_bias[c] = (b - bn.mean[c]) * inv[c] * gamma + beta;
  }
  // Scale the weight along its channel axis: [outer, channels, inner] with Eigen row views.
  const uint64_t outer = shape.outer(channel_axis), inner = shape.inner(channel_axis);
  using RowMap = Eigen::Map<Eigen::ArrayXf>;
  using ConstRowMap = Eigen::Map<const Eigen::ArrayXf>;
  for (uint64_t o = 0; o < outer; ++o)
    for (size_t c = 0; c < bn.channels; ++c) {
      const uint64_t base = (o * bn.channels + c) * inner;
      RowMap(weight_out + base, static_cast<Eigen::Index>(inner)) =
          ConstRowMap(weight + base, static_cast<Eigen::Index>(inner)) * w_scale[c];
    }
  for (size_t c = 0; c < bn.channels; ++c) bias_out[c] = new_bias[c];
}

}  // namespace qk
