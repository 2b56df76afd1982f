// SPDX-License-Identifier: Apache-2.0
// Quantile, KL-divergence (TensorRT entropy) and expected-MSE range selection on a histogram.
// The exact definitions are in calibration_search.h and docs/OBSERVER_STATE.md.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/qparams.h"
#include "observers/calibration_search.h"

namespace qk {
namespace hist {

double histogram_quantile(const Histogram& h, double fraction) {
  if (!(h.lo < h.hi)) return h.lo;
  const double target = fraction * h.total();
  double below = 0.0;
  for (uint32_t k = 0; k < h.bins(); ++k) {
    const double c = h.counts[k];
    if (c <= 0.0) continue;
    if (below + c >= target) {
      const double t = std::min(std::max((target - below) / c, 0.0), 1.0);
      const double lo = h.edge(k), hi = h.edge(k + 1);
      return lo + t * (hi - lo);
    }
    below += c;
  }
  return h.hi;
}

// ---------------------------------------------------------------------------------------------
// KL(P||Q) per candidate in O(quant_bins) with prefix sums over the bins: S (mass), NZ (non-empty
// bins) and L (sum of b*ln b). For candidate i, with Pt the total mass and Qt = S[i]:
//   KL = (1/Pt) * sum_{j<i, P_j>0} P_j (ln P_j - ln Q_j) + ln Qt - ln Pt,
// where Q_j is the mean of the non-empty bins of j's group, and P_j = b_j except the last bin.
double entropy_amax(const Histogram& h, int64_t quant_bins) {
  const int64_t bins = h.bins();
  if (!(h.lo < h.hi) || quant_bins < 1 || bins < quant_bins) return h.hi;
  std::vector<double> b(h.counts);
  if (bins >= 2) b[0] = b[1];  // TensorRT: the zero bin would dominate (ReLU outputs)
  std::vector<double> S(bins + 1, 0.0), L(bins + 1, 0.0);
  std::vector<int64_t> NZ(bins + 1, 0);
  for (int64_t j = 0; j < bins; ++j) {
    S[j + 1] = S[j] + b[j];
    NZ[j + 1] = NZ[j] + (b[j] > 0.0 ? 1 : 0);
    L[j + 1] = L[j] + (b[j] > 0.0 ? b[j] * std::log(b[j]) : 0.0);
  }
  const double total = S[bins];
  if (!(total > 0.0)) return h.hi;
  double best = std::numeric_limits<double>::infinity();
  int64_t best_i = -1;
  for (int64_t i = quant_bins; i <= bins; ++i) {
    const double q_total = S[i];
    const double last_bin = b[i - 1], last_p = last_bin + (total - S[i]);
    if (!(q_total > 0.0)) continue;                 // Q is all zero
    if (last_p > 0.0 && last_bin == 0.0) continue;  // outliers folded into a bin Q leaves empty
    double cross = 0.0, last_mean = 0.0;
    for (int64_t g = 0; g < quant_bins; ++g) {
      const int64_t lo = (g * i + quant_bins - 1) / quant_bins;
      const int64_t hi = ((g + 1) * i + quant_bins - 1) / quant_bins;
      const int64_t nonempty = NZ[hi] - NZ[lo];
      if (nonempty == 0) continue;
      const double sum = S[hi] - S[lo], mean = sum / static_cast<double>(nonempty);
      if (hi == i) {
        cross += (sum - last_bin) * std::log(mean);
        last_mean = mean;
      } else {
        cross += sum * std::log(mean);
      }
    }
    double acc = L[i - 1] - cross;
    if (last_p > 0.0) acc += last_p * (std::log(last_p) - std::log(last_mean));
    const double kl = acc / total + std::log(q_total) - std::log(total);
    if (kl <= best) {  // `<=`: the last candidate among equals wins
      best = kl;
      best_i = i;
    }
  }
  if (best_i < 0) return h.hi;
  return h.edge(static_cast<uint32_t>(best_i));
}

// ---------------------------------------------------------------------------------------------
namespace {

constexpr uint32_t kMseMaxBins = 4096;

// The representable values of one set of qparams: (q - zp) * scale for q in [qmin, qmax].
struct Grid {
  double gmin, gmax, s;
};

// Integral of t^2 over [u, v].
inline double square_integral(double u, double v) { return (v - u) * (u * u + u * v + v * v) / 3.0; }

// Integral of (x - Q(x))^2 over [a, b], Q = nearest representable value. Below gmin + s/2 the
// nearest value is gmin, above gmax - s/2 it is gmax, in between the error is a sawtooth whose
// every full period contributes s^3/12.
double error_integral(const Grid& g, double a, double b) {
  const double c1 = g.gmin + g.s / 2, c2 = g.gmax - g.s / 2;
  double total = 0.0;
  if (a < c1) {
    const double e = std::min(b, c1);
    total += square_integral(a - g.gmin, e - g.gmin);
    a = e;
  }
  if (b > c2 && b > a) {
    const double s = std::max(a, c2);
    total += square_integral(s - g.gmax, b - g.gmax);
    b = s;
  }
  if (b > a) {
    const double cell = g.s * g.s * g.s / 12.0;
    const auto from_c1 = [&](double x) {
      const double t = x - c1, n = std::floor(t / g.s), r = std::min(std::max(t - n * g.s, 0.0), g.s);
      const double d = r - g.s / 2;
      return n * cell + (d * d * d + g.s * g.s * g.s / 8.0) / 3.0;
    };
    total += from_c1(b) - from_c1(a);
  }
  return total;
}

class MseEvaluator {
 public:
  MseEvaluator(const Histogram& h, const QuantSpec& spec) : spec_(spec) {
    const uint32_t group = (h.bins() + kMseMaxBins - 1) / kMseMaxBins;
    for (uint32_t k = 0; k < h.bins(); k += group) {
      double c = 0.0;
      const uint32_t end = std::min(h.bins(), k + group);
      for (uint32_t j = k; j < end; ++j) c += h.counts[j];
      if (c > 0.0) bins_.push_back({h.edge(k), h.edge(end), c});
    }
  }

  double operator()(float lo, float hi) const {
    QParams qp;
    try {
      qp = compute_qparams(spec_, &lo, &hi, 1);
    } catch (const Error&) {
      return std::numeric_limits<double>::infinity();  // no qparams for this range (scale overflows)
    }
    const double s = qp.scales[0], zp = qp.zero_points[0];
    const Grid g{(qp.quant_min - zp) * s, (qp.quant_max - zp) * s, s};
    double sum = 0.0;
    for (const Bin& bin : bins_) sum += bin.count * error_integral(g, bin.lo, bin.hi) / (bin.hi - bin.lo);
    return sum;
  }

 private:
  struct Bin {
    double lo, hi, count;
  };
  const QuantSpec& spec_;
  std::vector<Bin> bins_;
};

// Improves (*best_t, *best_val) over t in {center + k*step : k = -half..half} ∩ [lo, hi],
// widest first, so among equal errors the wider range is kept.
template <typename F>
void scan_1d(F f, double center, double step, int half, double lo, double hi, double* best_t, double* best_val) {
  for (int k = half; k >= -half; --k) {
    const double t = center + k * step;
    if (t < lo || t > hi) continue;
    const double v = f(t);
    if (v < *best_val) {
      *best_val = v;
      *best_t = t;
    }
  }
}

}  // namespace

ClipRange mse_search(const Histogram& h, const QuantSpec& spec) {
  if (!(h.lo < h.hi)) return is_symmetric(spec.scheme) ? ClipRange{-std::fabs(h.lo), std::fabs(h.lo)}
                                                       : ClipRange{h.lo, h.hi};
  const MseEvaluator mse(h, spec);
  if (is_symmetric(spec.scheme)) {
    const double amax = std::max(std::fabs(double(h.lo)), std::fabs(double(h.hi)));
    const auto f = [&](double a) {
      const float v = static_cast<float>(a);
      return mse(-v, v);
    };
    double best = f(amax), t = amax, step = amax / 256;
    scan_1d(f, 128 * step, step, 128, step, amax, &t, &best);  // amax * k/256, k = 1..256
    for (int level = 0; level < 2; ++level) {
      step /= 16;
      scan_1d(f, t, step, 16, step, amax, &t, &best);
    }
    const float a = static_cast<float>(t);
    return {-a, a};
  }
  const double m = std::min(double(h.lo), 0.0), M = std::max(double(h.hi), 0.0);
  const auto f = [&](double u, double v) { return mse(static_cast<float>(m * u), static_cast<float>(M * v)); };
  // Fractions (u, v) of (m, M); a zero side has a single candidate.
  const int nu = m < 0.0 ? 32 : 0, nv = M > 0.0 ? 32 : 0;
  double best = f(1.0, 1.0), bu = 1.0, bv = 1.0;
  for (int i = nu; i >= 0; --i)
    for (int j = nv; j >= 0; --j) {
      const double u = nu ? double(i) / nu : 0.0, v = nv ? double(j) / nv : 0.0;
      const double val = f(u, v);
      if (val < best) {
        best = val;
        bu = u;
        bv = v;
      }
    }
  double step = 1.0 / 32;
  for (int level = 0; level < 2; ++level) {
    step /= 8;
    const double cu = bu, cv = bv;
    const int iu = nu ? 8 : 0, iv = nv ? 8 : 0;
    for (int i = iu; i >= -iu; --i)
      for (int j = iv; j >= -iv; --j) {
        const double u = cu + i * step, v = cv + j * step;
        if (u < 0.0 || u > 1.0 || v < 0.0 || v > 1.0) continue;
        const double val = f(u, v);
        if (val < best) {
          best = val;
          bu = u;
          bv = v;
        }
      }
  }
  return {static_cast<float>(m * bu), static_cast<float>(M * bv)};
}

}  // namespace hist
}  // namespace qk
