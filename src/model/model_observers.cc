// SPDX-License-Identifier: Apache-2.0
// Observer state of a PREPARED model, saved and merged so calibration can be split across
// threads or processes: every part calibrates its own copy of the model, one merges the others.
//
// Layout (little-endian): "QKMOBS\0\1" magic, u32 version (1), u64 entry count, then per
// observed tensor in tensor order: u64 name length, the name, u64 state length, the observer's
// own qk_observer_save() state (itself versioned and checksummed); then the XXH64 (seed 0) of
// every byte before it.
#include <xxhash.h>

#include <cstring>

#include "core/bytes.h"
#include "core/error.h"
#include "model/model.h"

namespace qk {
namespace model {

namespace {

constexpr uint8_t kMagic[8] = {'Q', 'K', 'M', 'O', 'B', 'S', 0, 1};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kMaxEntries = uint64_t(1) << 20;
constexpr uint64_t kMaxStateBytes = uint64_t(1) << 32;

}  // namespace

uint64_t Model::observed_count() const {
  uint64_t count = 0;
  for (size_t t = 0; t < observers_.size(); ++t) count += observers_[t] && tensors_[t].alive ? 1 : 0;
  return count;
}

std::vector<uint8_t> Model::save_observers() const {
  require_state(State::kPrepared, "save_observers");
  ByteWriter w;
  w.raw(kMagic, sizeof kMagic);
  w.u32(kVersion);
  w.u64(observed_count());
  for (size_t t = 0; t < observers_.size(); ++t) {
    if (!observers_[t] || !tensors_[t].alive) continue;
    const std::string& name = tensors_[t].name;
    w.u64(name.size());
    w.raw(name.data(), name.size());
    const std::vector<uint8_t> state = save_observer(*observers_[t]);
    w.u64(state.size());
    w.raw(state.data(), state.size());
  }
  w.u64(XXH64(w.bytes().data(), w.bytes().size(), 0));
  return std::move(w.bytes());
}

void Model::merge_observers(const uint8_t* data, size_t size) {
  require_state(State::kPrepared, "merge_observers");
  QK_FAIL_IF(data == nullptr && size != 0, kInvalidArgument, "argument 'state' is NULL");
  QK_FAIL_IF(size < sizeof kMagic + 4 + 8 + 8, kCorrupt, "observer state is too short (%zu bytes)", size);
  QK_FAIL_IF(std::memcmp(data, kMagic, sizeof kMagic) != 0, kCorrupt, "not a QuantKit model observer state (bad magic)");
  ByteReader tail(data + size - 8, 8);
  QK_FAIL_IF(XXH64(data, size - 8, 0) != tail.u64(), kCorrupt, "model observer state checksum mismatch (damaged data)");
  ByteReader r(data + sizeof kMagic, size - 8 - sizeof kMagic);
  const uint32_t version = r.u32();
  QK_FAIL_IF(version != kVersion, kCorrupt, "model observer state version %u is not supported (expected %u)", version,
             kVersion);
  const uint64_t expected = observed_count();
  const uint64_t count = r.count(kMaxEntries, 16, "observer");
  QK_FAIL_IF(count != expected, kInvalidArgument,
             "the state holds %llu observers, this model has %llu (not the same graph and qconfig)",
             (unsigned long long)count, (unsigned long long)expected);
  // Merge into copies first: the model's observers change only if every entry merges.
  std::vector<std::unique_ptr<Observer>> merged(observers_.size());
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t name_len = r.count(256, 1, "name byte");
    std::string name(static_cast<size_t>(name_len), '\0');
    for (char& c : name) c = char(r.u8());
    const int id = find_tensor(name);
    QK_FAIL_IF(id < 0 || !observers_[size_t(id)], kInvalidArgument,
               "the state observes tensor '%s', which this model does not (not the same graph)", name.c_str());
    QK_FAIL_IF(merged[size_t(id)] != nullptr, kCorrupt, "tensor '%s' appears twice in the state", name.c_str());
    const uint64_t state_len = r.count(kMaxStateBytes, 1, "state byte");
    std::vector<uint8_t> state(static_cast<size_t>(state_len));
    for (uint8_t& b : state) b = r.u8();
    std::unique_ptr<Observer> theirs = load_observer(state.data(), state.size());
    const std::vector<uint8_t> copy = save_observer(*observers_[size_t(id)]);  // a deep copy
    std::unique_ptr<Observer> mine = load_observer(copy.data(), copy.size());
    try {
      mine->merge(*theirs);
    } catch (const Error& e) {
      throw Error(Status::kInvalidArgument, format("tensor '%s': %s", name.c_str(), e.what()));
    }
    merged[size_t(id)] = std::move(mine);
  }
  QK_FAIL_IF(r.remaining() != 0, kCorrupt, "%zu unexpected bytes after the observers", r.remaining());
  for (size_t t = 0; t < merged.size(); ++t)
    if (merged[t]) observers_[t] = std::move(merged[t]);
}

}  // namespace model
}  // namespace qk
