// SPDX-License-Identifier: Apache-2.0
// Weight-side validation for the int8 operators, then packing through the GEMM driver.
#include "ops/packed_weights.h"

#include <cmath>

#include "core/error.h"

namespace qk {

void check_weight_qparams(const QParams& qp, size_t n, const char* what) {
  QK_FAIL_IF(qp.dtype != DType::kS8, kInvalidArgument, "%s: weights must be s8, not %s", what,
             dtype_name(qp.dtype));
  if (is_per_tensor(qp.scheme)) return;  // count 1, zero point checked against the range already
  QK_FAIL_IF(qp.scheme != QScheme::kPerChannelAffine && qp.scheme != QScheme::kPerChannelSymmetric, kInvalidArgument,
             "%s: scheme %s is not supported for weights (per-tensor or per-channel symmetric)", what,
             qscheme_name(qp.scheme));
  QK_FAIL_IF(qp.axis != 0 && qp.axis != -2, kInvalidArgument,
             "%s: per-channel axis %d must be 0, the output-channel axis of weights[n][k]", what, qp.axis);
  QK_FAIL_IF(qp.count() != n, kInvalidArgument, "%s: %zu per-channel scales for n = %zu output channels", what,
             qp.count(), n);
  for (size_t j = 0; j < n; ++j)
    QK_FAIL_IF(qp.zero_points[j] != 0, kInvalidArgument,
               "%s: per-channel weights must be symmetric, channel %zu has zero point %d", what, j,
               qp.zero_points[j]);
}

std::shared_ptr<const PackedWeights> make_packed_weights(const int8_t* weights, size_t n, size_t k, size_t ldw,
                                                         const QParams& qp, const void* bias, DType bias_dtype) {
  QK_FAIL_IF(bias_dtype != DType::kF32 && bias_dtype != DType::kS32, kInvalidArgument,
             "bias_dtype %s is not f32 or s32", dtype_name(bias_dtype));
  check_weight_qparams(qp, n, "weight_qparams");
  const float* bias_f32 = nullptr;
  const int32_t* bias_s32 = nullptr;
  if (bias != nullptr && bias_dtype == DType::kF32) {
    bias_f32 = static_cast<const float*>(bias);
    for (size_t j = 0; j < n; ++j)
      QK_FAIL_IF(!std::isfinite(bias_f32[j]), kInvalidArgument, "bias[%zu] = %g is not finite", j,
                 double(bias_f32[j]));
  } else if (bias != nullptr) {
    bias_s32 = static_cast<const int32_t*>(bias);
  }
  const bool per_tensor = is_per_tensor(qp.scheme);
  return pack_weights(weights, n, k, ldw, qp.scales.data(), per_tensor ? 1 : n, per_tensor ? qp.zero_points[0] : 0,
                      bias_f32, bias_s32);
}

}  // namespace qk
