// SPDX-License-Identifier: Apache-2.0
// for_each_scale_run(): the element-to-scale mapping of SYMMETRIC and AFFINE* tensors, the same
// mapping qk_quantize uses for per-channel and per-group qparams (row-major over the shape with
// the axis replaced by its channel or group count).
#pragma once

#include "format/codec.h"

namespace qk {
namespace qkw {

template <typename Fn>
void for_each_scale_run(const TensorDesc& d, Fn&& fn) {
  const Shape& s = d.shape;
  if (s.count == 0) return;
  if (d.axis < 0) {
    fn(uint64_t(0), s.count, uint64_t(0));
    return;
  }
  const size_t a = static_cast<size_t>(d.axis);
  const uint64_t outer = s.outer(a), dim = static_cast<uint64_t>(s.dims[a]), inner = s.inner(a);
  if (d.group_size == 0) {
    for (uint64_t o = 0; o < outer; ++o)
      for (uint64_t c = 0; c < dim; ++c) fn((o * dim + c) * inner, inner, c);
    return;
  }
  const uint64_t g = static_cast<uint64_t>(d.group_size);
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

}  // namespace qkw
}  // namespace qk
