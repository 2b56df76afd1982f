// SPDX-License-Identifier: Apache-2.0
// GlobalAveragePool (ONNX): the mean over all spatial axes, {N, C, d1, ..., dk} -> {N, C, 1, ..., 1}
// (rank >= 3).
// Float: the legacy layer's loop (sum of each plane in order, one division).
// int8 (kKeepsInputQParams, as the legacy global_avg_pool2d layer and PyTorch's quantized
// adaptive_avg_pool2d: a mean stays inside its input's range): ops/pooling.h's
// global_avg_pool2d. Rank 4 reads NHWC codes (the conv path's layout, so a CNN head needs no
// reorder); other ranks keep plain {N, C, S...} codes, which are the NHWC shape {N*C, 1, S, 1}.
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
    float s = 0.0f;
    for (size_t i = 0; i < hw; ++i) s += x[p * hw + i];
    y[p] = s / float(hw);
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
    QK_FAIL_IF(x.layout != Layout::kNHWC, kInternal, "int8 GlobalAveragePool needs NHWC codes");
    nhwc[0] = N;
    nhwc[1] = x.shape[2];
    nhwc[2] = x.shape[3];
    nhwc[3] = C;
  }
  global_avg_pool2d(*ctx.in_qp[0], *ctx.out_qp[0], x.storage.get(), x.bytes, nhwc, y.storage.get(), y.bytes);
}

Int8Layout layout(const Node&, const std::vector<TensorType>& in) {
  return in[0].dims.size() == 4 ? Int8Layout::kNHWC : Int8Layout::kNCHW;
}

}  // namespace

extern const OpDef kGlobalAveragePool = {"GlobalAveragePool", 1, 1, 1, 1, nullptr, 0, infer_global_pool, run_float,
                                         QuantRule::kKeepsInputQParams, nullptr, int8_always, 0, layout, nullptr,
                                         run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
