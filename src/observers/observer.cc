// SPDX-License-Identifier: Apache-2.0
// Observer factory, option handling, merge checks and the serialized-state container.
#include "observers/observer.h"

#include <xxhash.h>

#include "core/error.h"

namespace qk {

bool is_valid_observer_kind(int value) { return value >= 1 && value <= 8; }
bool is_valid_observer_param(int value) { return value >= 1 && value <= 4; }

const char* observer_kind_name(ObserverKind kind) {
  switch (kind) {
    case ObserverKind::kMinMax: return "minmax";
    case ObserverKind::kMovingAverageMinMax: return "moving_average_minmax";
    case ObserverKind::kPerChannelMinMax: return "per_channel_minmax";
    case ObserverKind::kMovingAveragePerChannelMinMax: return "moving_average_per_channel_minmax";
    case ObserverKind::kHistogram: return "histogram";
    case ObserverKind::kPercentile: return "percentile";
    case ObserverKind::kEntropy: return "entropy";
    case ObserverKind::kMse: return "mse";
  }
  return "unknown";
}

void Observer::set_param(ObserverParam param, double value) {
  QK_FAIL_IF(updated_, kState, "observer options cannot change after it has seen data (reset it first)");
  set_param_impl(param, value);
}

double Observer::get_param(ObserverParam param) const {
  fail(Status::kInvalidArgument, "observer kind %s has no parameter %d", observer_kind_name(kind_),
       static_cast<int>(param));
}

void Observer::set_param_impl(ObserverParam param, double) {
  fail(Status::kInvalidArgument, "observer kind %s has no parameter %d", observer_kind_name(kind_),
       static_cast<int>(param));
}

std::unique_ptr<Observer> make_observer(ObserverKind kind, const QuantSpec& spec) {
  const bool per_channel_kind =
      kind == ObserverKind::kPerChannelMinMax || kind == ObserverKind::kMovingAveragePerChannelMinMax;
  if (per_channel_kind) {
    QK_FAIL_IF(!is_per_channel(spec.scheme), kInvalidArgument, "observer %s needs a per-channel scheme, got %s",
               observer_kind_name(kind), qscheme_name(spec.scheme));
  } else {
    QK_FAIL_IF(!is_per_tensor(spec.scheme), kInvalidArgument, "observer %s needs a per-tensor scheme, got %s",
               observer_kind_name(kind), qscheme_name(spec.scheme));
  }
  // Fail early for ranges the convention cannot produce (e.g. TFLite unsigned symmetric).
  int32_t qmin, qmax;
  spec.effective_range(&qmin, &qmax);
  if (kind <= ObserverKind::kMovingAveragePerChannelMinMax) return make_minmax_observer(kind, spec);
  return make_histogram_observer(kind, spec);
}

void merge_observers(Observer* dst, const Observer& src) {
  QK_FAIL_IF(dst == &src, kInvalidArgument, "cannot merge an observer into itself");
  QK_FAIL_IF(dst->kind() != src.kind(), kInvalidArgument, "cannot merge a %s observer into a %s observer",
             observer_kind_name(src.kind()), observer_kind_name(dst->kind()));
  QK_FAIL_IF(!(dst->spec() == src.spec()), kInvalidArgument, "cannot merge observers with different specs");
  QK_FAIL_IF(!dst->options_equal(src), kInvalidArgument, "cannot merge observers with different options");
  dst->merge(src);
}

// Container: "QKOBSV01" magic, u32 format version, u32 kind, spec fields, u64 payload size,
// payload (kind-specific), u64 XXH64 of everything before it (seed 0).
namespace {
const uint8_t kMagic[8] = {'Q', 'K', 'O', 'B', 'S', 'V', '0', '1'};
constexpr uint32_t kFormatVersion = 1;

void write_spec(ByteWriter& w, const QuantSpec& s) {
  w.u32(static_cast<uint32_t>(s.dtype));
  w.u32(static_cast<uint32_t>(s.scheme));
  w.u8(s.has_custom_range ? 1 : 0);
  w.i32(s.custom_min);
  w.i32(s.custom_max);
  w.u8(s.reduce_range ? 1 : 0);
  w.f32(s.eps);
  w.i32(s.axis);
  w.i64(s.group_size);
  w.u32(static_cast<uint32_t>(s.convention));
}

QuantSpec read_spec(ByteReader& r) {
  const uint32_t dtype = r.u32(), scheme = r.u32();
  QK_FAIL_IF(!is_valid_dtype(static_cast<int>(dtype)) || !is_valid_qscheme(static_cast<int>(scheme)), kCorrupt,
             "serialized spec has an unknown dtype %u or scheme %u", dtype, scheme);
  QuantSpec s;
  try {
    s = QuantSpec::make(static_cast<DType>(dtype), static_cast<QScheme>(scheme));
    const bool custom = r.u8() != 0;
    const int32_t lo = r.i32(), hi = r.i32();
    if (custom) s.set_range(lo, hi);
    s.reduce_range = r.u8() != 0;
    s.set_eps(r.f32());
    s.axis = r.i32();
    s.set_group_size(r.i64());
    const uint32_t conv = r.u32();
    QK_FAIL_IF(!is_valid_convention(static_cast<int>(conv)), kCorrupt, "unknown convention %u", conv);
    s.convention = static_cast<Convention>(conv);
  } catch (const Error& e) {
    if (e.status() == Status::kCorrupt) throw;
    fail(Status::kCorrupt, "serialized spec is invalid: %s", e.what());
  }
  return s;
}
}  // namespace

std::vector<uint8_t> save_observer(const Observer& observer) {
  ByteWriter w;
  w.raw(kMagic, sizeof kMagic);
  w.u32(kFormatVersion);
  w.u32(static_cast<uint32_t>(observer.kind()));
  write_spec(w, observer.spec());
  ByteWriter payload;
  observer.save_state(payload);
  w.u64(payload.bytes().size());
  w.raw(payload.bytes().data(), payload.bytes().size());
  const uint64_t hash = XXH64(w.bytes().data(), w.bytes().size(), 0);
  w.u64(hash);
  return std::move(w.bytes());
}

std::unique_ptr<Observer> load_observer(const uint8_t* data, size_t size) {
  QK_FAIL_IF(size < sizeof kMagic + 8 + 8, kCorrupt, "observer state is too short (%zu bytes)", size);
  QK_FAIL_IF(std::memcmp(data, kMagic, sizeof kMagic) != 0, kCorrupt, "not a QuantKit observer state (bad magic)");
  ByteReader tail(data + size - 8, 8);
  const uint64_t stored = tail.u64();
  QK_FAIL_IF(XXH64(data, size - 8, 0) != stored, kCorrupt, "observer state checksum mismatch (damaged data)");
  ByteReader r(data + sizeof kMagic, size - 8 - sizeof kMagic);
  const uint32_t version = r.u32();
  QK_FAIL_IF(version != kFormatVersion, kCorrupt, "observer state version %u is not supported (expected %u)",
             version, kFormatVersion);
  const uint32_t kind = r.u32();
  QK_FAIL_IF(!is_valid_observer_kind(static_cast<int>(kind)), kCorrupt, "unknown observer kind %u", kind);
  const QuantSpec spec = read_spec(r);
  std::unique_ptr<Observer> obs;
  try {
    obs = make_observer(static_cast<ObserverKind>(kind), spec);
  } catch (const Error& e) {
    fail(Status::kCorrupt, "serialized observer is invalid: %s", e.what());
  }
  const uint64_t payload_size = r.u64();
  QK_FAIL_IF(payload_size != r.remaining(), kCorrupt, "observer payload size %llu does not match the data (%zu)",
             (unsigned long long)payload_size, r.remaining());
  ByteReader payload(data + sizeof kMagic + r.position(), r.remaining());
  try {
    obs->load_state(payload);
  } catch (const Error& e) {
    if (e.status() == Status::kCorrupt || e.status() == Status::kOutOfMemory) throw;
    fail(Status::kCorrupt, "serialized observer state is invalid: %s", e.what());
  }
  QK_FAIL_IF(payload.remaining() != 0, kCorrupt, "observer state has %zu trailing bytes", payload.remaining());
  return obs;
}

}  // namespace qk
