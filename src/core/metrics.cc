// SPDX-License-Identifier: Apache-2.0
#include "core/metrics.h"

#include <Eigen/Core>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace qk {

ErrorStats error_stats(const float* reference, const float* approx, size_t count) {
  ErrorStats stats;
  if (count == 0) return stats;
  using Vec = Eigen::Map<const Eigen::ArrayXf>;
  const Eigen::Index n = static_cast<Eigen::Index>(count);
  const Eigen::ArrayXd ref = Vec(reference, n).cast<double>();
  const Eigen::ArrayXd app = Vec(approx, n).cast<double>();
  QK_FAIL_IF(!ref.isFinite().all() || !app.isFinite().all(), kInvalidArgument,
             "error statistics need finite inputs");
  const Eigen::ArrayXd diff = ref - app;
  const double signal = ref.square().sum();
  const double noise = diff.square().sum();
  stats.max_abs_error = diff.abs().maxCoeff();
  stats.mse = noise / static_cast<double>(count);
  if (noise == 0.0) stats.sqnr_db = std::numeric_limits<double>::infinity();
  else if (signal == 0.0) stats.sqnr_db = -std::numeric_limits<double>::infinity();
  else stats.sqnr_db = 10.0 * std::log10(signal / noise);
  return stats;
}

}  // namespace qk
