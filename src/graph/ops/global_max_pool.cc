// SPDX-License-Identifier: Apache-2.0
// GlobalMaxPool (ONNX): the maximum over all spatial axes, {N, C, d1, ..., dk} -> {N, C, 1, ..., 1}
// (rank >= 3).
// int8 (kKeepsInputQParams): max is monotonic, so the max of the codes is the code of the max.
// ops/pooling.h's max_pool2d with one window covering the plane: rank 4 reads NHWC codes (the
// conv path's layout); other ranks keep plain {N, C, S...} codes, the NHWC shape {N*C, 1, S, 1}.
#include <algorithm>

#include "graph/op.h"
#include "ops/pooling.h"

namespace qk {
namespace graph {
namespace ops {
namespace {


void run_float(RunContext& ctx) {
  const Tensor& xt = *ctx.in[0];
  Tensor& yt = *ctx.out[0];
  const size_t planes = size_t(xt.shape[0] * xt.shape[1]);
  if (planes == 0) return;  // an empty batch
  const size_t hw = size_t(xt.count()) / planes;
  const float* x = xt.data<float>();
  float* y = yt.data<float>();
  for (size_t p = 0; p < planes; ++p) {
    float m = x[p * hw];
    for (size_t i = 1; i < hw; ++i) m = std::max(m, x[p * hw + i]);
    y[p] = m;
  }
}

void run_int8(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const int64_t N = x.shape[0], C = x.shape[1];
  if (N * C == 0) return;  // an empty batch
  const int64_t S = int64_t(x.count()) / (N * C);
  int64_t nhwc[4] = {N * C, 1, S, 1};  // plain codes: one "image" per plane
  if (x.shape.size() == 4) {
    QK_FAIL_IF(x.layout != Layout::kNHWC, kInternal, "int8 GlobalMaxPool needs NHWC codes");
    nhwc[0] = N;
    nhwc[1] = x.shape[2];
    nhwc[2] = x.shape[3];
    nhwc[3] = C;
  }
  const int64_t kernel[2] = {nhwc[1], nhwc[2]}, stride[2] = {1, 1}, pad[4] = {0, 0, 0, 0};
  const PoolGeometry g = pool_geometry(nhwc, kernel, stride, pad, nullptr);
  max_pool2d(x.dtype, x.storage.get(), x.bytes, g, y.storage.get(), y.bytes);
}

Int8Layout layout(const Node&, const std::vector<TensorType>& in) {
  return in[0].dims.size() == 4 ? Int8Layout::kNHWC : Int8Layout::kNCHW;
}

}  // namespace

extern const OpDef kGlobalMaxPool = {"GlobalMaxPool", 1, 1, 1, 1, nullptr, 0, infer_global_pool, run_float,
                                     QuantRule::kKeepsInputQParams, nullptr, int8_always, 0, layout, nullptr,
                                     run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
