// SPDX-License-Identifier: Apache-2.0
// Observer: collects statistics of the tensors it is shown and turns them into qparams.
// One class per kind family; all are mergeable and serializable.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/bytes.h"
#include "core/qparams.h"
#include "core/shape.h"

namespace qk {

// Values mirror qk_observer_kind.
enum class ObserverKind : int {
  kMinMax = 1,
  kMovingAverageMinMax = 2,
  kPerChannelMinMax = 3,
  kMovingAveragePerChannelMinMax = 4,
  kHistogram = 5,
  kPercentile = 6,
  kEntropy = 7,
  kMse = 8,
};

// Values mirror qk_observer_param.
enum class ObserverParam : int { kAveragingConstant = 1, kBins = 2, kUpsampleRate = 3, kPercentile = 4 };

bool is_valid_observer_kind(int value);
bool is_valid_observer_param(int value);
const char* observer_kind_name(ObserverKind kind);

class Observer {
 public:
  Observer(ObserverKind kind, const QuantSpec& spec) : kind_(kind), spec_(spec) {}
  virtual ~Observer() = default;

  ObserverKind kind() const { return kind_; }
  const QuantSpec& spec() const { return spec_; }
  uint64_t nonfinite_count() const { return nonfinite_; }
  bool has_data() const { return updated_; }

  // Options: throws kInvalidArgument for a parameter this kind lacks, kState after data was seen.
  void set_param(ObserverParam param, double value);
  virtual double get_param(ObserverParam param) const;

  // Validates, then records a batch. Never changes state when it throws.
  virtual void update(const float* data, const Shape& shape) = 0;
  virtual QParams compute_qparams() const = 0;
  // Observed (or chosen clipping) range per channel; kState before any finite value.
  virtual void range(std::vector<float>* lo, std::vector<float>* hi) const = 0;
  virtual size_t channel_count() const = 0;
  virtual void reset() = 0;
  // Folds `other` (same kind, spec, options; checked by the caller via compatible_with) into this.
  virtual void merge(const Observer& other) = 0;
  virtual bool options_equal(const Observer& other) const = 0;
  virtual void save_state(ByteWriter& out) const = 0;
  virtual void load_state(ByteReader& in) = 0;

 protected:
  virtual void set_param_impl(ObserverParam param, double value);
  void count_nonfinite(uint64_t n) { nonfinite_ += n; }
  void mark_updated() { updated_ = true; }
  void reset_base() { nonfinite_ = 0; updated_ = false; }
  void merge_base(const Observer& other) {
    nonfinite_ += other.nonfinite_;
    updated_ = updated_ || other.updated_;
  }
  void save_base(ByteWriter& out) const { out.u64(nonfinite_); out.u8(updated_ ? 1 : 0); }
  void load_base(ByteReader& in) { nonfinite_ = in.u64(); updated_ = in.u8() != 0; }

 private:
  ObserverKind kind_;
  QuantSpec spec_;
  uint64_t nonfinite_ = 0;
  bool updated_ = false;
};

// Factory: validates that the spec's scheme fits the kind.
std::unique_ptr<Observer> make_observer(ObserverKind kind, const QuantSpec& spec);
// Merge with full compatibility checks; dst is untouched when it throws.
void merge_observers(Observer* dst, const Observer& src);
// Versioned, checksummed serialization (docs/OBSERVER_STATE.md).
std::vector<uint8_t> save_observer(const Observer& observer);
std::unique_ptr<Observer> load_observer(const uint8_t* data, size_t size);

// Implemented by the kind families.
std::unique_ptr<Observer> make_minmax_observer(ObserverKind kind, const QuantSpec& spec);
std::unique_ptr<Observer> make_histogram_observer(ObserverKind kind, const QuantSpec& spec);

}  // namespace qk
