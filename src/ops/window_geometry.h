// SPDX-License-Identifier: Apache-2.0
// Sliding-window geometry shared by convolution and pooling: argument range checks and the
// floor-mode output length along one axis.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/error.h"

namespace qk {

// Largest kernel/stride/padding/dilation value accepted (keeps every product in int64).
constexpr int64_t kMaxWindowParam = int64_t(1) << 31;

// Checks `count` values of a geometry argument (non-NULL, each in [min_value, 2^31]).
inline void check_window_params(const int64_t* values, size_t count, int64_t min_value, const char* what) {
  QK_FAIL_IF(values == nullptr, kInvalidArgument, "argument '%s' is NULL", what);
  for (size_t i = 0; i < count; ++i)
    QK_FAIL_IF(values[i] < min_value || values[i] > kMaxWindowParam, kInvalidArgument,
               "%s[%zu] = %lld is outside [%lld, 2^31]", what, i, (long long)values[i], (long long)min_value);
}

// Output length (floor mode) of a window of k taps, dilation d, stride s over `in` elements
// padded by pad_lo/pad_hi; the dilated window must fit the padded input.
inline int64_t window_output_length(int64_t in, int64_t k, int64_t s, int64_t pad_lo, int64_t pad_hi, int64_t d,
                                    const char* axis) {
  const int64_t extent = (k - 1) * d + 1;
  QK_FAIL_IF(in + pad_lo + pad_hi < extent, kInvalidArgument,
             "the %s window (%lld with dilation) is larger than the padded input (%lld)", axis, (long long)extent,
             (long long)(in + pad_lo + pad_hi));
  return (in + pad_lo + pad_hi - extent) / s + 1;
}

}  // namespace qk
