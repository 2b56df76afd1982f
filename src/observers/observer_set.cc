// SPDX-License-Identifier: Apache-2.0
#include "observers/observer_set.h"

#include <xxhash.h>

#include <cstring>
#include <set>

#include "core/bytes.h"
#include "core/error.h"

namespace qk {

namespace {
constexpr uint8_t kMagic[8] = {'Q', 'K', 'M', 'O', 'B', 'S', 0, 1};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kMaxEntries = uint64_t(1) << 20;
constexpr uint64_t kMaxStateBytes = uint64_t(1) << 32;
}  // namespace

std::vector<uint8_t> save_observer_set(const NamedObservers& observers) {
  ByteWriter w;
  w.raw(kMagic, sizeof kMagic);
  w.u32(kVersion);
  w.u64(observers.size());
  for (const auto& o : observers) {
    w.u64(o.first.size());
    w.raw(o.first.data(), o.first.size());
    const std::vector<uint8_t> state = save_observer(*o.second);
    w.u64(state.size());
    w.raw(state.data(), state.size());
  }
  w.u64(XXH64(w.bytes().data(), w.bytes().size(), 0));
  return std::move(w.bytes());
}

std::vector<std::pair<std::string, std::unique_ptr<Observer>>> merge_observer_set(
    const uint8_t* data, size_t size, uint64_t expected,
    const std::function<const Observer*(const std::string&)>& find) {
  QK_FAIL_IF(data == nullptr && size != 0, kInvalidArgument, "argument 'state' is NULL");
  QK_FAIL_IF(size < sizeof kMagic + 4 + 8 + 8, kCorrupt, "observer state is too short (%zu bytes)", size);
  QK_FAIL_IF(std::memcmp(data, kMagic, sizeof kMagic) != 0, kCorrupt, "not a QuantKit model observer state (bad magic)");
  ByteReader tail(data + size - 8, 8);
  QK_FAIL_IF(XXH64(data, size - 8, 0) != tail.u64(), kCorrupt, "model observer state checksum mismatch (damaged data)");
  ByteReader r(data + sizeof kMagic, size - 8 - sizeof kMagic);
  const uint32_t version = r.u32();
  QK_FAIL_IF(version != kVersion, kCorrupt, "model observer state version %u is not supported (expected %u)", version,
             kVersion);
  const uint64_t count = r.count(kMaxEntries, 16, "observer");
  QK_FAIL_IF(count != expected, kInvalidArgument,
             "the state holds %llu observers, this model has %llu (not the same graph and qconfig)",
             (unsigned long long)count, (unsigned long long)expected);
  std::vector<std::pair<std::string, std::unique_ptr<Observer>>> merged;
  std::set<std::string> seen;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t name_len = r.count(256, 1, "name byte");
    std::string name(static_cast<size_t>(name_len), '\0');
    for (char& c : name) c = char(r.u8());
    const Observer* ours = find(name);
    QK_FAIL_IF(ours == nullptr, kInvalidArgument,
               "the state observes tensor '%s', which this model does not (not the same graph)", name.c_str());
    QK_FAIL_IF(!seen.insert(name).second, kCorrupt, "tensor '%s' appears twice in the state", name.c_str());
    const uint64_t state_len = r.count(kMaxStateBytes, 1, "state byte");
    std::vector<uint8_t> state(static_cast<size_t>(state_len));
    for (uint8_t& b : state) b = r.u8();
    std::unique_ptr<Observer> theirs = load_observer(state.data(), state.size());
    const std::vector<uint8_t> copy = save_observer(*ours);  // a deep copy
    std::unique_ptr<Observer> mine = load_observer(copy.data(), copy.size());
    try {
      mine->merge(*theirs);
    } catch (const Error& e) {
      throw Error(Status::kInvalidArgument, format("tensor '%s': %s", name.c_str(), e.what()));
    }
    merged.emplace_back(name, std::move(mine));
  }
  QK_FAIL_IF(r.remaining() != 0, kCorrupt, "%zu unexpected bytes after the observers", r.remaining());
  return merged;
}

}  // namespace qk
