// SPDX-License-Identifier: Apache-2.0
// The observers of a PREPARED model as one state: saved, and merged from another copy of the
// same model, so calibration can be split across threads, processes or machines. Shared by the
// layer model and graph v2 (docs/OBSERVER_STATE.md):
//
// Layout (little-endian): "QKMOBS\0\1" magic, u32 version (1), u64 entry count, then per
// observed tensor in the model's order: u64 name length, the name, u64 state length, the
// observer's own qk_observer_save() state (itself versioned and checksummed); then the XXH64
// (seed 0) of every byte before it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "observers/observer.h"

namespace qk {

// (tensor name, its observer) in model order.
using NamedObservers = std::vector<std::pair<std::string, const Observer*>>;

std::vector<uint8_t> save_observer_set(const NamedObservers& observers);

// Parses `data` and merges each entry into a COPY of the observer `find(name)` returns (null:
// the model does not observe that tensor -> kInvalidArgument). The entry count must equal
// `expected`. Returns (name, merged copy) pairs; nothing of the caller's changes, so the caller
// swaps them in all at once.
std::vector<std::pair<std::string, std::unique_ptr<Observer>>> merge_observer_set(
    const uint8_t* data, size_t size, uint64_t expected, const std::function<const Observer*(const std::string&)>& find);

}  // namespace qk
