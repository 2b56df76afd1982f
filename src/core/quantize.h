// SPDX-License-Identifier: Apache-2.0
// Tensor-level quantize / dequantize / cast: validates, walks the tensor by qparams segment and
// hands contiguous runs to the active ISA's micro-kernels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/qparams.h"
#include "core/shape.h"

namespace qk {

// Returns the number of NaN inputs (quantized to the zero point). `dst` is untouched on error.
uint64_t quantize(const QParams& qp, const float* src, const Shape& shape, void* dst, size_t dst_bytes);
void dequantize(const QParams& qp, const void* src, size_t src_bytes, const Shape& shape, float* dst);
// F32 <-> F16/BF16.
void cast(const void* src, DType src_dtype, void* dst, DType dst_dtype, size_t count);

// Calls fn(start, length, param_index) for each run of elements that share one scale/zero point.
template <typename Fn>
void for_each_param_run(const QParams& qp, const Shape& shape, Fn&& fn) {
  if (shape.count == 0) return;
  if (is_per_tensor(qp.scheme)) {
    fn(uint64_t(0), shape.count, uint64_t(0));
    return;
  }
  const size_t a = shape.normalize_axis(qp.axis, "qparams axis");
  const uint64_t outer = shape.outer(a), dim = static_cast<uint64_t>(shape.dims[a]), inner = shape.inner(a);
  if (is_per_channel(qp.scheme)) {
    for (uint64_t o = 0; o < outer; ++o)
      for (uint64_t c = 0; c < dim; ++c) fn((o * dim + c) * inner, inner, c);
    return;
  }
  const uint64_t g = static_cast<uint64_t>(qp.group_size);
  const uint64_t groups = dim / g + (dim % g != 0);
  if (inner == 1) {
    for (uint64_t o = 0; o < outer; ++o)
      for (uint64_t j = 0; j < groups; ++j) {
        const uint64_t begin = j * g, len = (dim - begin < g) ? dim - begin : g;
        fn(o * dim + begin, len, o * groups + j);
      }
    return;
  }
  for (uint64_t o = 0; o < outer; ++o)
    for (uint64_t c = 0; c < dim; ++c)
      for (uint64_t i = 0; i < inner; ++i) fn((o * dim + c) * inner + i, uint64_t(1), (o * groups + c / g) * inner + i);
}

}  // namespace qk
