// SPDX-License-Identifier: Apache-2.0
#include "graph/tensor.h"

#include <cstring>

#include "core/error.h"

namespace qk {
namespace graph {

std::string dims_string(const Dims& dims) {
  std::string s = "{";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += dims[i].known() ? std::to_string(dims[i].size) : dims[i].symbol;
  }
  return s + "}";
}

std::string shape_string(const std::vector<int64_t>& shape) { return dims_string(known_dims(shape)); }

Dims known_dims(const std::vector<int64_t>& shape) {
  Dims d;
  for (int64_t n : shape) d.push_back(Dim::of(n));
  return d;
}

bool all_known(const Dims& dims) {
  for (const Dim& d : dims)
    if (!d.known()) return false;
  return true;
}

std::vector<int64_t> concrete(const Dims& dims) {
  std::vector<int64_t> s;
  for (const Dim& d : dims) {
    QK_FAIL_IF(!d.known(), kInternal, "dimension '%s' is not resolved", d.symbol.c_str());
    s.push_back(d.size);
  }
  return s;
}

uint64_t checked_count(const std::vector<int64_t>& shape, const char* what) {
  QK_FAIL_IF(shape.size() > kMaxGraphRank, kInvalidArgument, "%s: rank %zu is above %zu", what, shape.size(),
             kMaxGraphRank);
  uint64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    QK_FAIL_IF(shape[i] < 0 || shape[i] >= kMaxDimSize, kInvalidArgument, "%s: dimension %zu = %lld is outside [0, 2^31)",
               what, i, (long long)shape[i]);
    count *= uint64_t(shape[i]);
    QK_FAIL_IF(count >= kMaxElements, kInvalidArgument, "%s %s has too many elements", what,
               shape_string(shape).c_str());
  }
  return count;
}

uint64_t Tensor::count() const {
  uint64_t c = 1;
  for (int64_t d : shape) c *= uint64_t(d);
  return c;
}

Tensor Tensor::allocate(DType dtype, std::vector<int64_t> shape, bool zero) {
  const uint64_t count = checked_count(shape, "tensor");
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes = storage_size(dtype, count);
  // 64-byte alignment for the SIMD kernels; at least one byte so data() is never null.
  const size_t alloc = (t.bytes + 63) / 64 * 64 + 64;
  uint8_t* p = static_cast<uint8_t*>(::operator new(alloc, std::align_val_t(64)));
  if (zero)
    std::memset(p, 0, alloc);
  else
    std::memset(p + t.bytes, 0, alloc - t.bytes);  // the padding only
  t.storage = std::shared_ptr<uint8_t>(p, [](uint8_t* q) { ::operator delete(q, std::align_val_t(64)); });
  return t;
}

Tensor Tensor::copy_of(DType dtype, std::vector<int64_t> shape, const void* data, size_t bytes) {
  const uint64_t count = checked_count(shape, "tensor");
  const size_t need = storage_size(dtype, count);
  QK_FAIL_IF(bytes != need, kInvalidArgument, "%zu bytes given, %s %s needs %zu", bytes, dtype_name(dtype),
             shape_string(shape).c_str(), need);
  QK_FAIL_IF(data == nullptr && need != 0, kInvalidArgument, "tensor data is NULL");
  Tensor t = allocate(dtype, std::move(shape));
  if (need) std::memcpy(t.storage.get(), data, need);
  return t;
}

}  // namespace graph
}  // namespace qk
