// SPDX-License-Identifier: Apache-2.0
// MinMax, MovingAverageMinMax and their per-channel variants (torch.ao.quantization.observer).
// One class: a per-tensor observer is a per-channel one with a single channel.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "observers/observer.h"

namespace qk {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr uint64_t kMaxChannels = uint64_t(1) << 32;

class MinMaxFamilyObserver final : public Observer {
 public:
  MinMaxFamilyObserver(ObserverKind kind, const QuantSpec& spec) : Observer(kind, spec) {}

  double get_param(ObserverParam p) const override {
    if (p == ObserverParam::kAveragingConstant && moving()) return averaging_constant_;
    return Observer::get_param(p);
  }

  void update(const float* data, const Shape& shape) override {
    if (shape.count == 0) return;
    QK_FAIL_IF(data == nullptr, kInvalidArgument, "data is NULL");
    uint64_t outer = 1, channels = 1, inner = shape.count;
    if (per_channel()) {
      QK_FAIL_IF(shape.rank == 0, kInvalidArgument, "a per-channel observer needs a tensor of rank >= 1");
      const size_t a = shape.normalize_axis(spec().axis, "observer channel axis");
      outer = shape.outer(a);
      channels = static_cast<uint64_t>(shape.dims[a]);
      inner = shape.inner(a);
      QK_FAIL_IF(!min_.empty() && channels != min_.size(), kInvalidArgument,
                 "batch has %llu channels along axis %zu but the observer has seen %zu",
                 (unsigned long long)channels, a, min_.size());
      QK_FAIL_IF(channels > kMaxChannels, kInvalidArgument, "too many channels (%llu)", (unsigned long long)channels);
    }
    // Batch statistics first (so a failure cannot leave half an update behind).
    std::vector<float> lo(channels, kInf), hi(channels, -kInf);
    uint64_t skipped = 0;
    for (uint64_t o = 0; o < outer; ++o)
      for (uint64_t c = 0; c < channels; ++c) {
        const float* row = data + (o * channels + c) * inner;
        float l = lo[c], h = hi[c];
        for (uint64_t i = 0; i < inner; ++i) {
          const float v = row[i];
          if (!std::isfinite(v)) { ++skipped; continue; }
          l = v < l ? v : l;
          h = v > h ? v : h;
        }
        lo[c] = l;
        hi[c] = h;
      }
    if (min_.empty()) {
      min_.assign(channels, kInf);
      max_.assign(channels, -kInf);
    }
    for (uint64_t c = 0; c < channels; ++c) fold(c, lo[c], hi[c]);
    count_nonfinite(skipped);
    mark_updated();
  }

  QParams compute_qparams() const override {
    std::vector<float> lo, hi;
    range(&lo, &hi);
    return qk::compute_qparams(spec(), lo.data(), hi.data(), lo.size());
  }

  void range(std::vector<float>* lo, std::vector<float>* hi) const override {
    QK_FAIL_IF(min_.empty(), kState, "the observer has seen no data");
    for (size_t c = 0; c < min_.size(); ++c)
      QK_FAIL_IF(min_[c] > max_[c], kState, "channel %zu has seen no finite value", c);
    *lo = min_;
    *hi = max_;
  }

  size_t channel_count() const override { return min_.size(); }

  void reset() override {
    min_.clear();
    max_.clear();
    reset_base();
  }

  void merge(const Observer& other_base) override {
    const auto& other = static_cast<const MinMaxFamilyObserver&>(other_base);
    QK_FAIL_IF(!min_.empty() && !other.min_.empty() && min_.size() != other.min_.size(), kInvalidArgument,
               "cannot merge observers with %zu and %zu channels", min_.size(), other.min_.size());
    if (other.min_.empty()) {
      merge_base(other);
      return;
    }
    if (min_.empty()) {
      min_ = other.min_;
      max_ = other.max_;
    } else {
      // MinMax: exact (min of mins). Moving average: src's averaged range counts as one batch.
      for (size_t c = 0; c < min_.size(); ++c) fold(c, other.min_[c], other.max_[c]);
    }
    merge_base(other);
  }

  bool options_equal(const Observer& other) const override {
    return averaging_constant_ == static_cast<const MinMaxFamilyObserver&>(other).averaging_constant_;
  }

  void save_state(ByteWriter& out) const override {
    save_base(out);
    out.f64(averaging_constant_);
    out.u64(min_.size());
    for (size_t c = 0; c < min_.size(); ++c) {
      out.f32(min_[c]);
      out.f32(max_[c]);
    }
  }

  void load_state(ByteReader& in) override {
    load_base(in);
    const double c = in.f64();
    if (moving()) set_param_impl(ObserverParam::kAveragingConstant, c);
    else QK_FAIL_IF(c != averaging_constant_, kCorrupt, "unexpected averaging constant");
    const uint64_t n = in.count(per_channel() ? kMaxChannels : 1, 8, "channel");
    std::vector<float> lo(n), hi(n);
    for (uint64_t i = 0; i < n; ++i) {
      lo[i] = in.f32();
      hi[i] = in.f32();
      const bool unset = lo[i] == kInf && hi[i] == -kInf;
      QK_FAIL_IF(!unset && !(std::isfinite(lo[i]) && std::isfinite(hi[i]) && lo[i] <= hi[i]), kCorrupt,
                 "channel %llu has an invalid range", (unsigned long long)i);
    }
    min_ = std::move(lo);
    max_ = std::move(hi);
  }

 protected:
  void set_param_impl(ObserverParam p, double value) override {
    if (p == ObserverParam::kAveragingConstant && moving()) {
      QK_FAIL_IF(!(value > 0.0 && value <= 1.0), kInvalidArgument, "averaging constant must be in (0, 1], got %g",
                 value);
      averaging_constant_ = value;
      return;
    }
    Observer::set_param_impl(p, value);
  }

 private:
  bool moving() const {
    return kind() == ObserverKind::kMovingAverageMinMax || kind() == ObserverKind::kMovingAveragePerChannelMinMax;
  }
  bool per_channel() const {
    return kind() == ObserverKind::kPerChannelMinMax || kind() == ObserverKind::kMovingAveragePerChannelMinMax;
  }

  // Folds one batch's channel range (lo > hi: the batch had no finite value there).
  void fold(size_t c, float lo, float hi) {
    if (lo > hi) return;
    if (min_[c] > max_[c] || !moving()) {
      min_[c] = std::min(min_[c], lo);
      max_[c] = std::max(max_[c], hi);
      return;
    }
    // torch: min_val = min_val + averaging_constant * (min_val_cur - min_val), in float32.
    const float a = static_cast<float>(averaging_constant_);
    min_[c] = min_[c] + a * (lo - min_[c]);
    max_[c] = max_[c] + a * (hi - max_[c]);
  }

  double averaging_constant_ = 0.01;
  std::vector<float> min_, max_;
};

}  // namespace

std::unique_ptr<Observer> make_minmax_observer(ObserverKind kind, const QuantSpec& spec) {
  return std::make_unique<MinMaxFamilyObserver>(kind, spec);
}

}  // namespace qk
