// SPDX-License-Identifier: Apache-2.0
// QParams: scales and zero points of one tensor, and how they are derived from ranges.
#pragma once

#include <cstdint>
#include <vector>

#include "core/quant_spec.h"
#include "core/shape.h"

namespace qk {

struct QParams {
  DType dtype = DType::kU8;
  QScheme scheme = QScheme::kPerTensorAffine;
  int32_t axis = 0;          // channel axis (per-channel) or grouped axis (per-group)
  int64_t group_size = 1;    // per-group only
  int32_t quant_min = 0;
  int32_t quant_max = 255;
  std::vector<float> scales;
  std::vector<int32_t> zero_points;     // integer schemes
  std::vector<float> float_zero_points; // float-qparams scheme only

  size_t count() const { return scales.size(); }
  // Validates scales (finite, > 0), zero points (inside the range) and the range.
  void validate() const;
  // Number of scales the qparams must have for `shape` (1, channels, or groups).
  uint64_t expected_count(const Shape& shape) const;
};

// Qparams for `count` (min, max) pairs under the spec's convention. min/max must be finite, min <= max.
QParams compute_qparams(const QuantSpec& spec, const float* min_vals, const float* max_vals, size_t count);

// Symmetric per-group qparams from per-group max |x| values.
QParams compute_group_qparams(const QuantSpec& spec, const float* absmax, size_t count);

// One-shot min/max (or per-group absmax) of a tensor, then compute_qparams. Non-finite values
// are skipped and counted; a slice with no finite value is a kState error.
QParams qparams_from_tensor(const QuantSpec& spec, const float* data, const Shape& shape, uint64_t* nonfinite);

}  // namespace qk
