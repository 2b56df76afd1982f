// SPDX-License-Identifier: Apache-2.0
// A run plan: what the executor works out from the input shapes before running any node, so
// that repeated runs with the same shapes do none of it again. Every node's output shapes
// (inferred once), the storage dtype and size of every computed value, and where each lives in
// one arena per run: values are packed first fit over their lifetimes (a value's block is free
// again after its last reader ran), so a run makes one allocation instead of one per value.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/dtype.h"

namespace qk {
namespace graph {

using Shapes = std::vector<std::vector<int64_t>>;

struct Plan {
  Shapes key;  // the bound input shapes, in graph input order
  // Per value (computed values only; others unused): storage dtype, shape, bytes, arena offset.
  std::vector<DType> dtype;
  std::vector<std::vector<int64_t>> shape;
  std::vector<size_t> bytes, offset;
  std::vector<int> last_use;  // node index of the last reader; INT32_MAX for graph outputs
  size_t arena_bytes = 0;
};

// The plans of an immutable (CONVERTED or DYNAMIC) graph, by input shapes; a few are kept (the
// most recent). Thread-safe. A copy of a graph starts with no plans: copies are made to be changed.
class PlanCache {
 public:
  PlanCache() = default;
  PlanCache(const PlanCache&) {}
  PlanCache& operator=(const PlanCache&) {
    std::lock_guard<std::mutex> lock(mu_);
    plans_.clear();
    return *this;
  }
  std::shared_ptr<const Plan> find(const Shapes& key) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& p : plans_)
      if (p->key == key) return p;
    return nullptr;
  }
  void insert(std::shared_ptr<const Plan> plan) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (plans_.size() >= kCapacity) plans_.erase(plans_.begin());
    plans_.push_back(std::move(plan));
  }

 private:
  static constexpr size_t kCapacity = 8;
  mutable std::mutex mu_;
  mutable std::vector<std::shared_ptr<const Plan>> plans_;
};

}  // namespace graph
}  // namespace qk
