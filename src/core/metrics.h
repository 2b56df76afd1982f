// SPDX-License-Identifier: Apache-2.0
// Quantization error metrics (Eigen reductions in double).
#pragma once

#include <cstddef>

namespace qk {

struct ErrorStats {
  double sqnr_db = 0.0;  // +Inf when approx == reference
  double max_abs_error = 0.0;
  double mse = 0.0;
};

ErrorStats error_stats(const float* reference, const float* approx, size_t count);

}  // namespace qk
