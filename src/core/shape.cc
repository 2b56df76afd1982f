// SPDX-License-Identifier: Apache-2.0
#include "core/shape.h"

#include "core/error.h"

namespace qk {

Shape Shape::from(const int64_t* shape, size_t rank, const char* what) {
  QK_FAIL_IF(rank > kMaxRank, kInvalidArgument, "%s: rank %zu exceeds the maximum of %zu", what, rank, kMaxRank);
  QK_FAIL_IF(rank > 0 && shape == nullptr, kInvalidArgument, "%s is NULL but rank is %zu", what, rank);
  Shape result;
  result.rank = rank;
  const uint64_t kLimit = uint64_t(1) << 62;
  uint64_t count = 1;
  // Overflow is checked on the product of the non-zero dims, so that outer()/inner() of a
  // shape with a zero dimension cannot overflow either.
  uint64_t nonzero_product = 1;
  for (size_t i = 0; i < rank; ++i) {
    QK_FAIL_IF(shape[i] < 0, kInvalidArgument, "%s[%zu] = %lld is negative", what, i, (long long)shape[i]);
    result.dims[i] = shape[i];
    const uint64_t dim = static_cast<uint64_t>(shape[i]);
    if (dim != 0 && nonzero_product > kLimit / dim) {
      fail(Status::kInvalidArgument, "%s: element count overflows (dimension %zu = %lld)", what, i,
           (long long)shape[i]);
    }
    if (dim != 0) nonzero_product *= dim;
    count *= dim;
  }
  result.count = count;
  return result;
}

size_t Shape::normalize_axis(int64_t axis, const char* what) const {
  const int64_t r = static_cast<int64_t>(rank);
  QK_FAIL_IF(axis < -r || axis >= r, kInvalidArgument, "%s %lld is out of range for a rank-%zu tensor", what,
             (long long)axis, rank);
  return static_cast<size_t>(axis < 0 ? axis + r : axis);
}

uint64_t Shape::outer(size_t axis) const {
  uint64_t n = 1;
  for (size_t i = 0; i < axis; ++i) n *= static_cast<uint64_t>(dims[i]);
  return n;
}

uint64_t Shape::inner(size_t axis) const {
  uint64_t n = 1;
  for (size_t i = axis + 1; i < rank; ++i) n *= static_cast<uint64_t>(dims[i]);
  return n;
}

}  // namespace qk
