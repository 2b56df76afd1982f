// SPDX-License-Identifier: Apache-2.0
// int8 pooling on NHWC tensors: max (padding never wins), average (PyTorch's count_include_pad)
// and global average. Arguments are validated here; outputs are written only on success.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "core/qparams.h"

namespace qk {

// Window geometry of one pooling call, validated: every window overlaps the input, so a max
// always has a real element and an average without padding never divides by zero.
struct PoolGeometry {
  int64_t n = 0, h = 0, w = 0, c = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0, dh = 1, dw = 1;
  int64_t out_h = 0, out_w = 0;
  uint64_t input_count() const { return uint64_t(n) * uint64_t(h) * uint64_t(w) * uint64_t(c); }
  uint64_t output_count() const { return uint64_t(n) * uint64_t(out_h) * uint64_t(out_w) * uint64_t(c); }
};

// dilation may be NULL (all 1s). Throws kInvalidArgument on any bad or non-fitting value.
PoolGeometry pool_geometry(const int64_t nhwc_shape[4], const int64_t kernel[2], const int64_t stride[2],
                           const int64_t padding[4], const int64_t dilation[2]);

void max_pool2d(DType dtype, const void* input, size_t input_bytes, const PoolGeometry& g, void* output,
                size_t output_bytes);
void avg_pool2d(const QParams& input_qp, const QParams& output_qp, const void* input, size_t input_bytes,
                const PoolGeometry& g, bool count_include_pad, void* output, size_t output_bytes);
void global_avg_pool2d(const QParams& input_qp, const QParams& output_qp, const void* input, size_t input_bytes,
                       const int64_t nhwc_shape[4], void* output, size_t output_bytes);

}  // namespace qk
