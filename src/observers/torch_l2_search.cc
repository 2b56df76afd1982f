// SPDX-License-Identifier: Apache-2.0
// PyTorch 1.13 HistogramObserver._non_linear_param_search, reproduced operation by operation.
// torch evaluates _compute_quantization_error with one float32 tensor op per Python expression,
// sums it with torch.sum's cascade (vectorised, 8 float32 lanes on AVX2/default CPU builds) and
// compares float32 tensors against Python doubles in float32. The greedy walk stops at the first
// error increase, and near the optimum consecutive errors differ by less than float32 rounding,
// so anything short of the same arithmetic can stop one step early or late.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "observers/calibration_search.h"

namespace qk {
namespace hist {
namespace {

constexpr double kStep = 1e-5;  // quantile granularity of the walk (torch's stepsize)

int64_t ceil_log2(int64_t x) {  // c10::utils::CeilLog2
  if (x <= 2) return 1;
  int64_t bits = 0;
  for (uint64_t v = static_cast<uint64_t>(x) - 1; v != 0; v >>= 1) ++bits;
  return bits;
}

// torch.sum of a contiguous float32 CPU tensor (SumKernel.cpp cascade_sum, single thread):
// vectors of 8 lanes, rows of 4 vectors summed into 4 accumulators with a 4-level cascade,
// leftover vectors into accumulator 0, then the accumulators, the scalar tail and the lanes.
float torch_sum_f32(const float* a, int64_t n) {
  constexpr int kLanes = 8, kIlp = 4, kLevels = 4;
  const int64_t vectors = n / kLanes, rows = vectors / kIlp;
  const int64_t level_power = std::max<int64_t>(4, ceil_log2(rows) / kLevels);
  const int64_t level_step = int64_t(1) << level_power, level_mask = level_step - 1;
  float acc[kLevels][kIlp][kLanes] = {};
  auto add_row = [&](int64_t r) {
    for (int k = 0; k < kIlp; ++k)
      for (int l = 0; l < kLanes; ++l) acc[0][k][l] += a[(r * kIlp + k) * kLanes + l];
  };
  int64_t i = 0;
  while (i + level_step <= rows) {
    for (int64_t j = 0; j < level_step; ++j, ++i) add_row(i);
    for (int lev = 1; lev < kLevels; ++lev) {
      for (int k = 0; k < kIlp; ++k)
        for (int l = 0; l < kLanes; ++l) {
          acc[lev][k][l] += acc[lev - 1][k][l];
          acc[lev - 1][k][l] = 0.0f;
        }
      if ((i & (level_mask << (lev * level_power))) != 0) break;
    }
  }
  for (; i < rows; ++i) add_row(i);
  for (int lev = 1; lev < kLevels; ++lev)
    for (int k = 0; k < kIlp; ++k)
      for (int l = 0; l < kLanes; ++l) acc[0][k][l] += acc[lev][k][l];
  for (int64_t v = rows * kIlp; v < vectors; ++v)
    for (int l = 0; l < kLanes; ++l) acc[0][0][l] += a[v * kLanes + l];
  for (int k = 1; k < kIlp; ++k)
    for (int l = 0; l < kLanes; ++l) acc[0][0][l] += acc[0][k][l];
  float total = 0.0f;
  for (int64_t k = vectors * kLanes; k < n; ++k) total += a[k];
  for (int l = 0; l < kLanes; ++l) total += acc[0][0][l];
  return total;
}

// c10::div_floor_floating (torch.div(..., rounding_mode='floor')): the floor of the exact
// quotient, via fmod, rather than the floor of the rounded one.
float div_floor_exact(float a, float b) {
  const float mod = std::fmod(a, b);
  float div = (a - mod) / b;
  if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) div -= 1.0f;
  if (div == 0.0f) return std::copysign(0.0f, a / b);
  float floordiv = std::floor(div);
  if (div - floordiv > 0.5f) floordiv += 1.0f;
  return floordiv;
}

// clamp(div_floor(a, b), 0, top) as torch computes it. When the rounded quotient is small and not
// within 1e-3 of an integer, its floor is the exact floor (the rounding error is below 5e-4), so
// the fmod path only runs near integers.
float clamped_div_floor(float a, float b, float top) {
  const float q = a / b;
  if (std::fabs(q) < 8192.0f) {
    if (q < -1.0f) return 0.0f;
    const float f = std::floor(q), frac = q - f;
    if (frac > 1e-3f && frac < 0.999f) return std::min(std::max(f, 0.0f), top);
  }
  return std::min(std::max(div_floor_exact(a, b), 0.0f), top);
}

class Search {
 public:
  Search(const Histogram& h, double dst_bins) : h_(h), bins_(h.bins()), dst_(dst_bins) {}

  // Returns false when torch's float32 arithmetic leaves the finite range (caller falls back).
  bool run_f32(ClipRange* out) {
    std::vector<float> hist(bins_);
    for (int64_t i = 0; i < bins_; ++i) hist[i] = static_cast<float>(h_.counts[i]);
    const double total = torch_sum_f32(hist.data(), bins_);
    std::vector<float> csum(bins_);  // torch.cumsum: double accumulator, float32 results
    double running = 0.0;
    for (int64_t i = 0; i < bins_; ++i) csum[i] = static_cast<float>(running += hist[i]);
    // _compute_quantization_error takes max_val.item() - min_val.item() in Python floats.
    const double bin_width = (static_cast<double>(h_.hi) - static_cast<double>(h_.lo)) / bins_;
    int64_t start = 0, end = bins_ - 1;
    bool finite = true;
    walk(
        csum.data(), total,
        [&](float target) { return static_cast<float>(target); },
        [&](int64_t s, int64_t e) {
          const double norm = error_f32(hist.data(), bin_width, s, e);
          finite = finite && std::isfinite(norm);
          return norm;
        },
        &start, &end);
    if (!finite) return false;
    // new_min = min_val + bin_width * start_bin with bin_width = (max_val - min_val) / bins: float32.
    const float width = (h_.hi - h_.lo) / static_cast<float>(bins_);
    out->lo = h_.lo + width * static_cast<float>(start);
    out->hi = h_.lo + width * static_cast<float>(end + 1);
    return std::isfinite(out->lo) && std::isfinite(out->hi);
  }

  // Same walk in double with the error measured in bin-width units (it scales as width^2, so the
  // comparisons do not depend on the unit); used where float32 would overflow or underflow.
  ClipRange run_f64() {
    std::vector<double> csum(bins_);
    double running = 0.0;
    for (int64_t i = 0; i < bins_; ++i) csum[i] = running += h_.counts[i];
    int64_t start = 0, end = bins_ - 1;
    walk(
        csum.data(), running, [](double target) { return target; },
        [&](int64_t s, int64_t e) { return error_f64(s, e); }, &start, &end);
    const double lo = h_.lo, width = (static_cast<double>(h_.hi) - lo) / bins_;
    const auto clamp = [&](double v) { return static_cast<float>(std::min(std::max(v, lo), double(h_.hi))); };
    return {clamp(lo + width * start), clamp(lo + width * (end + 1))};
  }

 private:
  // The alpha/beta walk. `cast` turns a Python-float threshold into the precision torch compares
  // in; `error` is _compute_quantization_error(start, end).
  template <typename T, typename Cast, typename Error>
  void walk(const T* csum, double total, Cast cast, Error error, int64_t* start_bin, int64_t* end_bin) const {
    double alpha = 0.0, beta = 1.0, norm_min = std::numeric_limits<double>::infinity();
    int64_t start = 0, end = bins_ - 1;
    while (alpha < beta) {
      const double next_alpha = alpha + kStep, next_beta = beta - kStep;
      const auto lo_target = cast(next_alpha * total), hi_target = cast(next_beta * total);
      // l: first bin in [start, end) with csum >= target (else end); r: last bin in (start, end]
      // with csum <= target (else start). csum is non-decreasing, so bisect.
      const int64_t l = std::lower_bound(csum + start, csum + end, lo_target) - csum;
      const int64_t r = std::upper_bound(csum + start + 1, csum + end + 1, hi_target) - csum - 1;
      int64_t next_start = start, next_end = end;
      if (l - start > end - r) {
        next_start = l;
        alpha = next_alpha;
      } else {
        next_end = r;
        beta = next_beta;
      }
      if (next_start == start && next_end == end) continue;
      const double norm = error(next_start, next_end);
      if (norm > norm_min) break;
      norm_min = norm;
      start = next_start;
      end = next_end;
    }
    *start_bin = start;
    *end_bin = end;
  }

  // _compute_quantization_error in torch's float32 tensor arithmetic.
  double error_f32(const float* hist, double bin_width, int64_t s, int64_t e) {
    const double dst_width = bin_width * static_cast<double>(e - s + 1) / dst_;
    if (dst_width == 0.0) return 0.0;
    const float bw = static_cast<float>(bin_width), dw = static_cast<float>(dst_width);
    const float half = static_cast<float>(dst_width / 2), neg_half = static_cast<float>(-dst_width / 2);
    const float top = static_cast<float>(dst_ - 1);
    const float half_cube = (half * half) * half, neg_half_cube = (neg_half * neg_half) * neg_half;
    const float middle = (half_cube - neg_half_cube) / 3.0f;  // _get_norm(-w/2, w/2): one full dst bin
    norm_.resize(bins_);
    for (int64_t i = 0; i < bins_; ++i) {
      const float begin = static_cast<float>(i - s) * bw;
      const float stop = begin + bw;
      const float dst_begin = clamped_div_floor(begin, dw, top);
      const float dst_begin_center = (dst_begin + 0.5f) * dw;
      const float dst_end = clamped_div_floor(stop, dw, top);
      const float density = hist[i] / bw;
      const float delta_begin = begin - dst_begin_center;
      float norm = 0.0f + density * ((half_cube - (delta_begin * delta_begin) * delta_begin) / 3.0f);
      norm = norm + ((dst_end - dst_begin) - 1.0f) * (density * middle);
      const float dst_end_center = dst_end * dw + half;
      const float delta_end = stop - dst_end_center;
      norm = norm + density * ((((delta_end * delta_end) * delta_end) - neg_half_cube) / 3.0f);
      norm_[i] = norm;
    }
    return torch_sum_f32(norm_.data(), bins_);
  }

  // The same error in double, bin width 1.
  double error_f64(int64_t s, int64_t e) const {
    const double dw = static_cast<double>(e - s + 1) / dst_, half = dw / 2, top = dst_ - 1;
    const auto cube = [](double v) { return v * v * v; };
    double sum = 0.0;
    for (int64_t i = 0; i < bins_; ++i) {
      const double c = h_.counts[i];
      if (c == 0.0) continue;
      const double begin = static_cast<double>(i - s), stop = begin + 1.0;
      const double db = std::min(std::max(std::floor(begin / dw), 0.0), top);
      const double de = std::min(std::max(std::floor(stop / dw), 0.0), top);
      double norm = (cube(half) - cube(begin - (db + 0.5) * dw)) / 3.0;
      norm += (de - db - 1.0) * (2.0 * cube(half)) / 3.0;
      norm += (cube(stop - (de * dw + half)) + cube(half)) / 3.0;
      sum += c * norm;
    }
    return sum;
  }

  const Histogram& h_;
  const int64_t bins_;
  const double dst_;
  std::vector<float> norm_;
};

}  // namespace

ClipRange torch_l2_search(const Histogram& h, double dst_bins) {
  if (!(h.lo < h.hi)) return {h.lo, h.hi};
  Search search(h, dst_bins);
  const float range = h.hi - h.lo;
  const bool f32_safe = std::isfinite(range) && range >= 0x1p-24f && range <= 0x1p24f && h.total() <= 0x1p40;
  ClipRange out;
  if (f32_safe && search.run_f32(&out)) return out;
  return search.run_f64();
}

}  // namespace hist
}  // namespace qk
