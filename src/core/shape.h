// SPDX-License-Identifier: Apache-2.0
// A validated tensor shape: rank <= kMaxRank, non-negative dims, element count <= 2^62.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qk {

constexpr size_t kMaxRank = 8;

struct Shape {
  size_t rank = 0;
  int64_t dims[kMaxRank] = {};
  uint64_t count = 1;  // product of dims (1 for a scalar)

  // Validates and copies a C shape; `what` names the argument in error messages.
  static Shape from(const int64_t* shape, size_t rank, const char* what = "shape");

  // Maps an axis in [-rank, rank) to [0, rank); throws with `what` in the message otherwise.
  size_t normalize_axis(int64_t axis, const char* what = "axis") const;
  // Product of dims before / after `axis`.
  uint64_t outer(size_t axis) const;
  uint64_t inner(size_t axis) const;
};

}  // namespace qk
