// SPDX-License-Identifier: Apache-2.0
// Histogram observer kinds: HISTOGRAM (PyTorch 1.13 HistogramObserver without its histc
// truncation bug), PERCENTILE, ENTROPY and MSE. One class; the kinds differ in what they bin,
// how the histogram grows, and how its range is chosen:
//
//   kind        binned  histogram range                     clipping range
//   HISTOGRAM   x       torch's: first batch's [min, max],  torch's L2 search (torch_l2_search)
//                       then _adjust_min_max growth
//   PERCENTILE  |x| (symmetric spec) / x (affine spec)      symmetric: [-a, a], a = quantile p of |x|
//                       tight: [0, max|x|] / [min, max]     affine: [quantile c, quantile 1-c] of x,
//                                                           c = (100 - p) / 200 (each tail loses half)
//   ENTROPY     |x|     tight: [0, max|x|]                  amax = TensorRT KL threshold; symmetric
//                                                           [-amax, amax], affine [max(min,-amax), min(max,amax)]
//   MSE         x       tight: [min, max]                   mse_search (expected quantization MSE)
//
// Quantiles interpolate linearly inside a bin and are clamped to the observed [min, max].
// Tight histograms move onto a wider range by proportional re-binning (histogram.h); HISTOGRAM
// follows torch's upsample/cumsum/downsample combine, and falls back to re-binning where torch's
// float32 grid arithmetic breaks down. Every finite sample is counted: torch 1.13 bins new data
// over [int(min), int(max)] and silently drops what falls outside; we bin over the true range.
// Where that bug drops nothing the HISTOGRAM qparams equal torch's bit for bit.
// Serialized payload: docs/OBSERVER_STATE.md.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "observers/calibration_search.h"
#include "observers/histogram.h"
#include "observers/observer.h"

namespace qk {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr uint32_t kMinBins = 16, kMaxBins = uint32_t(1) << 20, kDefaultBins = 2048;
constexpr uint32_t kMaxUpsample = 1024, kDefaultUpsample = 128;
constexpr double kDefaultPercentile = 99.99;
constexpr double kMaxCount = 0x1p64;  // per bin; far above anything observable, keeps float32 finite

int dtype_bits(DType d) {
  switch (d) {
    case DType::kS4:
    case DType::kU4: return 4;
    case DType::kS32: return 32;
    default: return 8;
  }
}

// torch's grid for folding the old histogram into the combined range (_adjust_min_max), in its
// float32 tensor arithmetic. ok == false where that arithmetic is not finite or the grid would
// not fit in 64-bit cell indices.
struct TorchGrid {
  float lo, hi;
  int64_t downsample, start;
  bool ok;
};

TorchGrid torch_adjust_min_max(float old_lo, float old_hi, float lo, float hi, uint32_t bins, uint32_t upsample) {
  TorchGrid g{lo, hi, 0, 0, false};
  const float cell = (old_hi - old_lo) / static_cast<float>(int64_t(bins) * upsample);
  const float old_bin = static_cast<float>(bins) * cell;
  const float ratio = std::ceil((hi - lo) / old_bin);
  if (!(cell > 0.0f) || !std::isfinite(old_bin) || !(ratio >= 1.0f) || !(ratio <= 0x1p40f)) return g;
  g.downsample = static_cast<int64_t>(ratio);
  // Relax only the max, so a one-sided distribution keeps min at zero.
  const float e = static_cast<float>(g.downsample) * old_bin - (hi - lo);
  g.hi = std::max(hi + e, hi);  // never below the data: torch would drop what lies past hi + e
  const float start = std::nearbyint((old_lo - lo) / cell);
  if (!std::isfinite(g.hi) || !(start >= 0.0f) || !(start <= 0x1p62f)) return g;
  g.start = static_cast<int64_t>(start);
  g.ok = true;
  return g;
}

class HistogramFamilyObserver final : public Observer {
 public:
  HistogramFamilyObserver(ObserverKind kind, const QuantSpec& spec) : Observer(kind, spec) {}

  double get_param(ObserverParam p) const override {
    if (p == ObserverParam::kBins) return bins_;
    if (p == ObserverParam::kUpsampleRate && torch_kind()) return upsample_;
    if (p == ObserverParam::kPercentile && kind() == ObserverKind::kPercentile) return percentile_;
    return Observer::get_param(p);
  }

  void update(const float* data, const Shape& shape) override {
    if (shape.count == 0) return;
    QK_FAIL_IF(data == nullptr, kInvalidArgument, "data is NULL");
    const hist::BatchStats st = hist::scan_batch(data, shape.count);
    if (st.any_finite()) {
      if (torch_kind()) update_torch(data, shape.count, st);
      else update_tight(data, shape.count, st);
      data_min_ = std::min(data_min_, st.min);
      data_max_ = std::max(data_max_, st.max);
    }
    count_nonfinite(st.nonfinite);
    mark_updated();
  }

  QParams compute_qparams() const override {
    const hist::ClipRange r = clip_range();
    return qk::compute_qparams(spec(), &r.lo, &r.hi, 1);
  }

  void range(std::vector<float>* lo, std::vector<float>* hi) const override {
    const hist::ClipRange r = clip_range();
    *lo = {r.lo};
    *hi = {r.hi};
  }

  size_t channel_count() const override { return has_data() ? 1 : 0; }

  void reset() override {
    hist_ = hist::Histogram();
    data_min_ = kInf;
    data_max_ = -kInf;
    plan_.reset();
    reset_base();
  }

  void merge(const Observer& other_base) override {
    const auto& other = static_cast<const HistogramFamilyObserver&>(other_base);
    if (!other.hist_.empty()) {
      if (hist_.empty()) {
        hist_ = other.hist_;
      } else {
        hist::Histogram merged = merged_with(other.hist_);
        hist_ = std::move(merged);
      }
      data_min_ = std::min(data_min_, other.data_min_);
      data_max_ = std::max(data_max_, other.data_max_);
    }
    merge_base(other);
  }

  bool options_equal(const Observer& other_base) const override {
    const auto& o = static_cast<const HistogramFamilyObserver&>(other_base);
    return bins_ == o.bins_ && upsample_ == o.upsample_ && percentile_ == o.percentile_;
  }

  void save_state(ByteWriter& out) const override {
    save_base(out);
    out.u32(bins_);
    out.u32(upsample_);
    out.f64(percentile_);
    out.f32(data_min_);
    out.f32(data_max_);
    out.u8(hist_.empty() ? 0 : 1);
    if (hist_.empty()) return;
    out.f32(hist_.lo);
    out.f32(hist_.hi);
    out.u64(hist_.counts.size());
    for (double c : hist_.counts) out.f64(c);
  }

  void load_state(ByteReader& in) override {
    load_base(in);
    const uint32_t bins = in.u32(), upsample = in.u32();
    const double percentile = in.f64();
    QK_FAIL_IF(bins < kMinBins || bins > kMaxBins, kCorrupt, "bin count %u is out of range", bins);
    QK_FAIL_IF(upsample < 1 || upsample > kMaxUpsample || (!torch_kind() && upsample != kDefaultUpsample),
               kCorrupt, "invalid upsample rate %u", upsample);
    QK_FAIL_IF(!(percentile > 50.0 && percentile <= 100.0) ||
                   (kind() != ObserverKind::kPercentile && percentile != kDefaultPercentile),
               kCorrupt, "invalid percentile");
    const float dmin = in.f32(), dmax = in.f32();
    const uint8_t has_hist = in.u8();
    QK_FAIL_IF(has_hist > 1, kCorrupt, "invalid histogram flag %u", has_hist);
    hist::Histogram h;
    if (has_hist == 0) {
      QK_FAIL_IF(!(dmin == kInf && dmax == -kInf), kCorrupt, "an empty histogram observer has a range");
    } else {
      QK_FAIL_IF(!has_data(), kCorrupt, "histogram present but the observer is marked as unused");
      QK_FAIL_IF(!(std::isfinite(dmin) && std::isfinite(dmax) && dmin <= dmax), kCorrupt, "invalid data range");
      h.lo = in.f32();
      h.hi = in.f32();
      QK_FAIL_IF(!(std::isfinite(h.lo) && std::isfinite(h.hi) && h.lo <= h.hi), kCorrupt, "invalid histogram range");
      check_range_invariants(h, dmin, dmax);
      const uint64_t n = in.count(bins, 8, "histogram bin");
      QK_FAIL_IF(n != bins, kCorrupt, "histogram has %llu bins, the options say %u", (unsigned long long)n, bins);
      h.counts.resize(n);
      double total = 0.0;
      for (uint64_t k = 0; k < n; ++k) {
        const double c = in.f64();
        QK_FAIL_IF(!(c >= 0.0 && c <= kMaxCount), kCorrupt, "histogram bin %llu has an invalid count",
                   (unsigned long long)k);
        QK_FAIL_IF(c != 0.0 && k > 0 && !(h.lo < h.hi), kCorrupt, "a single-value histogram has mass off bin 0");
        h.counts[k] = c;
        total += c;
      }
      QK_FAIL_IF(!(total > 0.0), kCorrupt, "histogram holds no mass");
    }
    bins_ = bins;
    upsample_ = upsample;
    percentile_ = percentile;
    data_min_ = dmin;
    data_max_ = dmax;
    hist_ = std::move(h);
    plan_.reset();
  }

 protected:
  void set_param_impl(ObserverParam p, double value) override {
    if (p == ObserverParam::kBins) {
      QK_FAIL_IF(!(value >= kMinBins && value <= kMaxBins && value == std::floor(value)), kInvalidArgument,
                 "bins must be an integer in [%u, %u], got %g", kMinBins, kMaxBins, value);
      bins_ = static_cast<uint32_t>(value);
      return;
    }
    if (p == ObserverParam::kUpsampleRate && torch_kind()) {
      QK_FAIL_IF(!(value >= 1 && value <= kMaxUpsample && value == std::floor(value)), kInvalidArgument,
                 "upsample rate must be an integer in [1, %u], got %g", kMaxUpsample, value);
      upsample_ = static_cast<uint32_t>(value);
      return;
    }
    if (p == ObserverParam::kPercentile && kind() == ObserverKind::kPercentile) {
      QK_FAIL_IF(!(value > 50.0 && value <= 100.0), kInvalidArgument, "percentile must be in (50, 100], got %g",
                 value);
      percentile_ = value;
      return;
    }
    Observer::set_param_impl(p, value);
  }

 private:
  bool torch_kind() const { return kind() == ObserverKind::kHistogram; }
  // PERCENTILE with a symmetric spec and ENTROPY bin |x| over [0, max|x|].
  bool abs_values() const {
    return kind() == ObserverKind::kEntropy || (kind() == ObserverKind::kPercentile && is_symmetric(spec().scheme));
  }

  hist::Histogram fresh(float lo, float hi) const {
    hist::Histogram h;
    h.lo = lo;
    h.hi = hi;
    h.counts.assign(bins_, 0.0);
    return h;
  }

  // Builds the histogram over [lo, hi] holding `old` and the batch, then swaps it in; if the range
  // did not move, bins the batch in place (add_batch allocates before it writes).
  void grow(float lo, float hi, const float* data, uint64_t n, bool abs, bool nonfinite) {
    if (!hist_.empty() && lo == hist_.lo && hi == hist_.hi) {
      hist::add_batch(&hist_, data, n, abs, nonfinite, &plan_);
      return;
    }
    hist::Histogram next = fresh(lo, hi);
    hist::add_batch(&next, data, n, abs, nonfinite, &plan_);
    hist::add_rebinned(&next, hist_);
    hist_ = std::move(next);
  }

  void update_tight(const float* data, uint64_t n, const hist::BatchStats& st) {
    if (abs_values()) {
      const float amax = std::max(std::fabs(st.min), std::fabs(st.max));
      grow(0.0f, hist_.empty() ? amax : std::max(hist_.hi, amax), data, n, true, st.nonfinite != 0);
    } else {
      grow(hist_.empty() ? st.min : std::min(hist_.lo, st.min), hist_.empty() ? st.max : std::max(hist_.hi, st.max),
           data, n, false, st.nonfinite != 0);
    }
  }

  // HistogramObserver.forward. A single-valued history (torch's `same_values`) restarts from the
  // batch in torch, dropping the earlier samples; we keep them (re-binned as a point mass).
  void update_torch(const float* data, uint64_t n, const hist::BatchStats& st) {
    if (hist_.empty() || !(hist_.lo < hist_.hi)) {
      grow(hist_.empty() ? st.min : std::min(hist_.lo, st.min), hist_.empty() ? st.max : std::max(hist_.hi, st.max),
           data, n, false, st.nonfinite != 0);
      return;
    }
    const float lo = std::min(st.min, hist_.lo), hi = std::max(st.max, hist_.hi);
    const TorchGrid g = torch_adjust_min_max(hist_.lo, hist_.hi, lo, hi, bins_, upsample_);
    if (!g.ok) {
      grow(lo, hi, data, n, false, st.nonfinite != 0);
      return;
    }
    if (g.lo == hist_.lo && g.hi == hist_.hi) {
      hist::add_batch(&hist_, data, n, false, st.nonfinite != 0, &plan_);
      return;
    }
    hist::Histogram next = fresh(g.lo, g.hi);
    hist::add_batch(&next, data, n, false, st.nonfinite != 0, &plan_);
    hist::add_torch_combined(&next, hist_, upsample_, g.downsample, g.start);
    hist_ = std::move(next);
  }

  // dst = this histogram, src = another observer's: the union range is grown from ours the same
  // way an update would grow it; src is re-binned onto the result.
  hist::Histogram merged_with(const hist::Histogram& src) const {
    float lo, hi;
    if (abs_values()) {
      lo = 0.0f;
      hi = std::max(hist_.hi, src.hi);
    } else {
      lo = std::min(hist_.lo, src.lo);
      hi = std::max(hist_.hi, src.hi);
    }
    hist::Histogram next;
    if (torch_kind() && hist_.lo < hist_.hi) {
      const TorchGrid g = torch_adjust_min_max(hist_.lo, hist_.hi, lo, hi, bins_, upsample_);
      if (g.ok) {
        next = fresh(g.lo, g.hi);
        if (g.lo == hist_.lo && g.hi == hist_.hi) hist::add_rebinned(&next, hist_);
        else hist::add_torch_combined(&next, hist_, upsample_, g.downsample, g.start);
        hist::add_rebinned(&next, src);
        return next;
      }
    }
    next = fresh(lo, hi);
    hist::add_rebinned(&next, hist_);
    hist::add_rebinned(&next, src);
    return next;
  }

  hist::ClipRange clip_range() const {
    QK_FAIL_IF(hist_.empty(), kState, "the observer has seen no finite value");
    const bool sym = is_symmetric(spec().scheme);
    const int bits = dtype_bits(spec().dtype);
    switch (kind()) {
      case ObserverKind::kHistogram:
        // dst_nbins = 2^bits of the dtype, whatever the quant range (torch's rule); 16 for 4-bit.
        return hist::torch_l2_search(hist_, std::ldexp(1.0, bits));
      case ObserverKind::kPercentile: {
        if (sym) {
          const float a = clamp_data(hist::histogram_quantile(hist_, percentile_ / 100.0), 0.0f, abs_max());
          return {-a, a};
        }
        const double cut = (100.0 - percentile_) / 200.0;
        const float lo = clamp_data(hist::histogram_quantile(hist_, cut), data_min_, data_max_);
        const float hi = clamp_data(hist::histogram_quantile(hist_, 1.0 - cut), data_min_, data_max_);
        return {std::min(lo, hi), std::max(lo, hi)};
      }
      case ObserverKind::kEntropy: {
        const float a = clamp_data(hist::entropy_amax(hist_, int64_t(1) << (bits - 1)), 0.0f, abs_max());
        if (sym) return {-a, a};
        return {std::max(data_min_, -a), std::min(data_max_, a)};
      }
      default:
        return hist::mse_search(hist_, spec());
    }
  }

  float abs_max() const { return std::max(std::fabs(data_min_), std::fabs(data_max_)); }
  static float clamp_data(double v, float lo, float hi) {
    return std::min(std::max(static_cast<float>(v), lo), hi);
  }

  // What update/merge guarantee about a histogram's range, checked on load.
  void check_range_invariants(const hist::Histogram& h, float dmin, float dmax) const {
    if (abs_values()) {
      QK_FAIL_IF(!(h.lo == 0.0f && h.hi == std::max(std::fabs(dmin), std::fabs(dmax))), kCorrupt,
                 "histogram range does not match the data range");
    } else if (torch_kind()) {
      QK_FAIL_IF(!(h.lo == dmin && h.hi >= dmax), kCorrupt, "histogram range does not cover the data range");
    } else {
      QK_FAIL_IF(!(h.lo == dmin && h.hi == dmax), kCorrupt, "histogram range does not match the data range");
    }
  }

  uint32_t bins_ = kDefaultBins;
  uint32_t upsample_ = kDefaultUpsample;
  double percentile_ = kDefaultPercentile;
  float data_min_ = kInf, data_max_ = -kInf;  // finite extremes seen (kInf/-kInf: none yet)
  hist::Histogram hist_;
  std::shared_ptr<const hist::BinningPlan> plan_;  // bin boundaries of the last grid (a cache)
};

}  // namespace

std::unique_ptr<Observer> make_histogram_observer(ObserverKind kind, const QuantSpec& spec) {
  return std::make_unique<HistogramFamilyObserver>(kind, spec);
}

}  // namespace qk
