// SPDX-License-Identifier: Apache-2.0
// Shared by the data-movement op files (Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Slice,
// Gather, Concat, Pad, Resize). These ops move elements without looking at them, so one routine
// serves the float run (f32, and the s64 / s32 / bool shape arithmetic exporters emit) and the int8
// run (u8 / s8 codes), parameterised by the element size. A header, not an op file: it defines no
// OpDef and is not in the registry.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace movement {

// Bytes per element: every whole-byte dtype; the 4-bit ones pack two per byte and cannot be moved
// element by element.
inline size_t element_size(DType d) {
  switch (d) {
    case DType::kS8:
    case DType::kU8:
    case DType::kBool:
      return 1;
    case DType::kF16:
    case DType::kBF16:
      return 2;
    case DType::kF32:
    case DType::kS32:
      return 4;
    case DType::kS64:
      return 8;
    default:
      fail(Status::kInvalidArgument, "%s elements cannot be moved one by one", dtype_name(d));
  }
}

// Input i is present with a dtype the movement ops take.
inline void require_movable(const InferContext& ctx, size_t i) {
  QK_FAIL_IF(i >= ctx.inputs.size() || !ctx.present[i], kInvalidArgument, "input %zu is missing", i);
  (void)element_size(ctx.inputs[i].dtype);
}

// "[1, -1, 0]" for attribute lists in messages.
inline std::string ints_string(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// a * b, saturating at UINT64_MAX (products of attribute sizes may overflow).
inline uint64_t mul_capped(uint64_t a, uint64_t b) { return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

// Row-major element strides of a concrete shape.
inline std::vector<int64_t> strides_of(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t k = shape.size(); k-- > 1;) s[k - 1] = s[k] * shape[k];
  return s;
}

// dst[o] = src[sum_k offsets[k][o_k]] for every index o of `out` (row-major), or `fill` where some
// offsets[k][o_k] < 0 (padding). offsets[k] holds out[k] element offsets into src. This one routine
// is Transpose, Slice, Pad and nearest Resize: each only builds its offset tables.
template <typename T>
void gather_offsets_t(const T* src, T* dst, const std::vector<int64_t>& out,
                      const std::vector<std::vector<int64_t>>& offsets, T fill) {
  const size_t r = out.size();
  uint64_t total = 1;
  for (int64_t d : out) total *= uint64_t(d);
  if (total == 0) return;
  if (r == 0) {
    dst[0] = src[0];
    return;
  }
  const int64_t inner = out[r - 1];
  const int64_t* last = offsets[r - 1].data();
  // A contiguous, unpadded last axis is a row copy.
  bool contiguous = last[0] >= 0;
  for (int64_t j = 1; j < inner && contiguous; ++j) contiguous = last[j] == last[0] + j;
  std::vector<int64_t> idx(r - 1, 0);
  for (uint64_t row = 0, rows = total / uint64_t(inner); row < rows; ++row, dst += inner) {
    int64_t base = 0;
    bool padded = false;
    for (size_t k = 0; k + 1 < r; ++k) {
      const int64_t o = offsets[k][size_t(idx[k])];
      padded = padded || o < 0;
      base += o;
    }
    if (padded) {
      for (int64_t j = 0; j < inner; ++j) dst[j] = fill;
    } else if (contiguous) {
      std::memcpy(dst, src + base + last[0], size_t(inner) * sizeof(T));
    } else {
      for (int64_t j = 0; j < inner; ++j) dst[j] = last[j] < 0 ? fill : src[base + last[j]];
    }
    for (size_t k = r - 1; k-- > 0;) {
      if (++idx[k] < out[k]) break;
      idx[k] = 0;
    }
  }
}

// The element-size dispatch of gather_offsets_t; `fill` points to one element (null: zeros).
inline void gather_offsets(const void* src, void* dst, size_t esize, const std::vector<int64_t>& out,
                           const std::vector<std::vector<int64_t>>& offsets, const void* fill) {
  auto run = [&](auto zero) {
    using T = decltype(zero);
    T f = 0;
    if (fill) std::memcpy(&f, fill, sizeof(T));
    gather_offsets_t(static_cast<const T*>(src), static_cast<T*>(dst), out, offsets, f);
  };
  switch (esize) {
    case 1:
      run(uint8_t(0));
      break;
    case 2:
      run(uint16_t(0));
      break;
    case 4:
      run(uint32_t(0));
      break;
    case 8:
      run(uint64_t(0));
      break;
    default:
      fail(Status::kInternal, "element size %zu", esize);
  }
}

// Identity offsets of one axis: o * stride.
inline std::vector<int64_t> identity_offsets(int64_t size, int64_t stride) {
  std::vector<int64_t> v(static_cast<size_t>(size));
  for (int64_t o = 0; o < size; ++o) v[size_t(o)] = o * stride;
  return v;
}

// supports_int8 of the ops that keep input 0's qparams: a constant input 0 has no observed qparams
// to keep (constant folding turns such a node into a constant), so it stays float.
inline bool int8_unless_constant(const Node&, const std::vector<TensorType>&, const std::vector<const Tensor*>& c) {
  return c.empty() || c[0] == nullptr;
}

// Reshape, Flatten, Squeeze, Unsqueeze: the bytes do not move (row-major order is kept). Float and
// int8 (NCHW codes) alike.
inline void copy_bytes(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  QK_FAIL_IF(x.bytes != y.bytes || x.layout != Layout::kNCHW, kInternal, "copy of %zu bytes into %zu", x.bytes,
             y.bytes);
  if (x.bytes) std::memcpy(y.storage.get(), x.storage.get(), x.bytes);
}

// The product of dims [begin, end) as one dim: known when all are; the symbol itself when it is the
// only unknown factor and the others multiply to 1 ({batch, 1} -> batch); 0 when a known factor is
// 0; else a symbol derived from the node (resolved at run time).
inline Dim product_dim(const Node& node, size_t output, size_t axis, const Dims& d, size_t begin, size_t end) {
  uint64_t known = 1;
  size_t symbols = 0;
  const Dim* sym = nullptr;
  for (size_t k = begin; k < end; ++k) {
    if (d[k].known()) {
      known = mul_capped(known, uint64_t(d[k].size));
    } else {
      ++symbols;
      sym = &d[k];
    }
  }
  if (symbols == 0 || known == 0) return Dim::of(known >= uint64_t(kMaxDimSize) ? kMaxDimSize : int64_t(known));
  if (symbols == 1 && known == 1) return *sym;
  return derived_dim(node, output, axis, false, 0);
}

}  // namespace movement
}  // namespace ops
}  // namespace graph
}  // namespace qk
