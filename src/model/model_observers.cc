// SPDX-License-Identifier: Apache-2.0
// Observer state of a PREPARED model, saved and merged so calibration can be split across
// threads or processes: every part calibrates its own copy of the model, one merges the others.
// The format is observers/observer_set.h's (docs/OBSERVER_STATE.md).
#include "core/error.h"
#include "model/model.h"
#include "observers/observer_set.h"

namespace qk {
namespace model {

uint64_t Model::observed_count() const {
  uint64_t count = 0;
  for (size_t t = 0; t < observers_.size(); ++t) count += observers_[t] && tensors_[t].alive ? 1 : 0;
  return count;
}

std::vector<uint8_t> Model::save_observers() const {
  require_state(State::kPrepared, "save_observers");
  NamedObservers set;
  for (size_t t = 0; t < observers_.size(); ++t)
    if (observers_[t] && tensors_[t].alive) set.emplace_back(tensors_[t].name, observers_[t].get());
  return save_observer_set(set);
}

void Model::merge_observers(const uint8_t* data, size_t size) {
  require_state(State::kPrepared, "merge_observers");
  auto merged = merge_observer_set(data, size, observed_count(), [&](const std::string& name) -> const Observer* {
    const int id = find_tensor(name);
    return id < 0 ? nullptr : observers_[size_t(id)].get();
  });
  for (auto& m : merged) observers_[size_t(find_tensor(m.first))] = std::move(m.second);
}

}  // namespace model
}  // namespace qk
