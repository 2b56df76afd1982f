// SPDX-License-Identifier: Apache-2.0
// The data types of graph v2: dimensions that may be symbolic, tensor types, and dense tensors
// whose storage is shared (a constant is held once, however many runs or copies read it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/qparams.h"

namespace qk {
namespace graph {

// Bounds for hostile inputs: far above real networks, far below overflow.
constexpr size_t kMaxGraphRank = 8;
constexpr int64_t kMaxDimSize = int64_t(1) << 31;
constexpr uint64_t kMaxElements = uint64_t(1) << 40;

// One dimension of a value's declared shape: a size, or a symbol ("batch", "seq") resolved when
// the model runs. Two dims with the same symbol are the same size in one run.
struct Dim {
  int64_t size = -1;   // >= 0 when known
  std::string symbol;  // non-empty when size < 0
  bool known() const { return size >= 0; }
  static Dim of(int64_t n) { return Dim{n, {}}; }
  static Dim sym(std::string s) { return Dim{-1, std::move(s)}; }
  bool operator==(const Dim& o) const { return size == o.size && symbol == o.symbol; }
  bool operator!=(const Dim& o) const { return !(*this == o); }
};
using Dims = std::vector<Dim>;

// "{batch, 3, 224, 224}" for messages and reports.
std::string dims_string(const Dims& dims);
std::string shape_string(const std::vector<int64_t>& shape);
Dims known_dims(const std::vector<int64_t>& shape);
// All dims known: the sizes; otherwise throws kInternal (callers check first).
std::vector<int64_t> concrete(const Dims& dims);
bool all_known(const Dims& dims);

struct TensorType {
  DType dtype = DType::kF32;
  Dims dims;
};

// Where an int8 rank-4 tensor keeps its channels (the logical shape stays N, C, H, W).
enum class Layout : int { kNCHW = 0, kNHWC = 1 };

// A dense row-major tensor. Storage is shared and immutable once published as a constant.
struct Tensor {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  Layout layout = Layout::kNCHW;  // kNHWC only for rank-4 int8 codes
  std::shared_ptr<uint8_t> storage;
  size_t bytes = 0;

  uint64_t count() const;
  // Fresh storage for dtype/shape (validated: rank, dims, element count), zero-filled unless
  // `zero` is false (the executor's outputs: every op writes all of its output).
  static Tensor allocate(DType dtype, std::vector<int64_t> shape, bool zero = true);
  // A copy of `bytes` bytes of `data`, checked against dtype/shape.
  static Tensor copy_of(DType dtype, std::vector<int64_t> shape, const void* data, size_t bytes);
  template <typename T>
  T* data() {
    return reinterpret_cast<T*>(storage.get());
  }
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(storage.get());
  }
};

// Validates a concrete shape (rank <= 8, dims in [0, 2^31), count < 2^40); `what` names it.
uint64_t checked_count(const std::vector<int64_t>& shape, const char* what);

}  // namespace graph
}  // namespace qk
