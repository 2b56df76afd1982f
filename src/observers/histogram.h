// SPDX-License-Identifier: Apache-2.0
// The binned histogram behind the histogram observer kinds: exact torch.histc bin placement,
// a fast batch binning pass, and the two ways an existing histogram is moved onto a wider
// range (PyTorch's upsample/downsample combine and a proportional re-binning).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace qk {
namespace hist {

// Finite extremes of a batch and how many values were NaN/Inf. min > max: no finite value.
struct BatchStats {
  float min;
  float max;
  uint64_t nonfinite;
  bool any_finite() const { return min <= max; }
};
BatchStats scan_batch(const float* data, uint64_t count);

// Maps values to bins exactly like torch.histc(x, bins, min=lo, max=hi) in PyTorch 1.13 on CPU:
//   bin = trunc(((x - lo) * float(bins)) / (hi - lo))      every operation in float32,
// and x == hi (or anything the rounding pushes to `bins`) goes to the last bin. Values outside
// [lo, hi] are clamped into the first/last bin instead of being dropped (callers always pick a
// range that contains the data; the clamp only absorbs rounding at the edges). When hi - lo or
// (hi - lo) * bins overflows float32, where torch's formula breaks down, the same formula is
// evaluated in double. lo == hi (a point mass): every value goes to bin 0.
class BinLocator {
 public:
  BinLocator(float lo, float hi, uint32_t bins);
  uint32_t operator()(float x) const;
  float lo() const { return lo_; }
  float hi() const { return hi_; }
  uint32_t bins() const { return bins_; }

 private:
  float lo_, hi_;
  uint32_t bins_;
  bool point_;
  bool use_f32_;  // torch's float32 formula is finite over the whole range
  float range_f_, bins_f_;
  double lo_d_, range_d_;
};

// The bins of a histogram over [lo, hi]. Empty `counts`: nothing observed yet. lo == hi: every
// observation had the same value and all counts sit in bin 0. Counts are doubles: exact
// integers for plain binning, fractional after a re-binning.
struct Histogram {
  float lo = 0.0f;
  float hi = 0.0f;
  std::vector<double> counts;

  bool empty() const { return counts.empty(); }
  uint32_t bins() const { return static_cast<uint32_t>(counts.size()); }
  double total() const;
  // Lower edge of bin k (k == bins gives hi), in double.
  double edge(uint32_t k) const;
};

// How one (lo, hi, bins) grid bins a batch fast: a multiply per value gives an estimate that is
// provably torch's bin except within a narrow band around bin edges, where the value is placed
// exactly (see histogram.cc). Reused while the range stays.
class BinningPlan {
 public:
  BinningPlan(float lo, float hi, uint32_t bins);
  bool matches(float lo, float hi, uint32_t bins) const;
  const BinLocator& locator() const { return loc_; }
  // Adds the finite values of data (|x| when `abs`) to counts[0..bins). has_nonfinite: the data
  // may hold NaN/Inf (they are skipped; without it they must not occur).
  void add(const float* data, uint64_t count, bool abs, bool has_nonfinite, double* counts) const;

 private:
  BinLocator loc_;
  std::vector<float> lower_;  // many bins only: smallest float in bin >= k; [0] -Inf, [bins] +Inf
  float est_lo_, est_scale_, est_offset_, est_band_;
  bool est_direct_;  // estimate as (x - lo) * scale, else x * scale - offset (huge ranges)
};

// Adds the batch's finite values (|x| when `abs`) to h, whose range must contain them. Small
// batches are binned directly; large ones through a BinningPlan, cached in *plan across calls
// while the grid does not change. Allocates before touching h, so h is unchanged if it throws.
void add_batch(Histogram* h, const float* data, uint64_t count, bool abs, bool has_nonfinite,
               std::shared_ptr<const BinningPlan>* plan);

// Adds `src` onto dst's grid assuming each source bin's mass is spread uniformly over the bin;
// mass is split in proportion to the overlap with each destination bin (a source point mass goes
// to the bin its value falls in). dst's range must contain src's; anything outside is clamped.
void add_rebinned(Histogram* dst, const Histogram& src);

// PyTorch's _combine_histograms: src's bins are split into `upsample` equal cells placed from
// cell `start` on a grid of `downsample` cells per dst bin, and each dst bin receives the mass of
// its cells. Computed interval by interval instead of materialising bins*downsample cells.
void add_torch_combined(Histogram* dst, const Histogram& src, int64_t upsample, int64_t downsample, int64_t start);

}  // namespace hist
}  // namespace qk
