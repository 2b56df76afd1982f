// SPDX-License-Identifier: Apache-2.0
// MaxPool (ONNX): the maximum over each window of a 1-D ({N, C, L}) or 2-D ({N, C, H, W}) input;
// attributes kernel_shape (required), strides, pads (begins then ends), dilations, auto_pad, and
// ceil_mode (0 only: floor mode, as the int8 kernel and the legacy layer) and storage_order (0
// only: it only matters for the Indices output, which is not supported). Padding never wins.
// Float: the legacy model's pool_float (max over the taps inside the input).
// int8 (kKeepsInputQParams): max is monotonic, so the max of the codes is the code of the max;
// the output keeps the input's qparams and ops/pooling.h's max_pool2d runs on NHWC codes (rank 3:
// plain {N, C, L} codes moved to {N, L, C} and back).
#include <algorithm>
#include <cmath>

#include "graph/op.h"
#include "graph/ops/window.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"kernel_shape", AttrType::kInts, true}, {"strides", AttrType::kInts, false},
                           {"pads", AttrType::kInts, false},        {"dilations", AttrType::kInts, false},
                           {"auto_pad", AttrType::kString, false},  {"ceil_mode", AttrType::kInt, false},
                           {"storage_order", AttrType::kInt, false}};

void infer(InferContext& ctx) {
  const int64_t order = ctx.node.attrs.get_int("storage_order", 0);
  QK_FAIL_IF(order != 0, kUnsupported, "storage_order %lld is not supported (0 only; no Indices output)",
             (long long)order);
  (void)window::infer_pool(ctx, true);
}

window::Spec spec_of(const RunContext& ctx) {
  return window::parse(ctx.node, ctx.in[0]->shape.size() - 2, {}, true);
}

// The legacy pool_float's max branch, with H = 1 for 1-D.
void run_float(RunContext& ctx) {
  const Tensor& xt = *ctx.in[0];
  Tensor& yt = *ctx.out[0];
  const window::Spec w = spec_of(ctx);
  const bool one_d = xt.shape.size() == 3;
  const int64_t N = xt.shape[0], C = xt.shape[1], H = one_d ? 1 : xt.shape[2], W = xt.shape.back();
  const int64_t OH = one_d ? 1 : yt.shape[2], OW = yt.shape.back();
  const int64_t in[2] = {H, W};
  int64_t pad[4];
  window::resolve_pads(w, in, pad);
  const float* x = xt.data<float>();
  float* y = yt.data<float>();
  for (int64_t p = 0; p < N * C; ++p) {
    const float* plane = x + p * H * W;
    float* out = y + p * OH * OW;
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        float acc = -INFINITY;
        for (int64_t i = 0; i < w.k[0]; ++i)
          for (int64_t j = 0; j < w.k[1]; ++j) {
            const int64_t iy = oy * w.s[0] - pad[0] + i * w.d[0];
            const int64_t ix = ox * w.s[1] - pad[1] + j * w.d[1];
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            acc = std::max(acc, plane[iy * W + ix]);
          }
        out[oy * OW + ox] = acc;
      }
  }
}

void run_int8(RunContext& ctx) {
  const DType dtype = ctx.in[0]->dtype;
  window::run_pool_int8(ctx, spec_of(ctx),
                        [&](const void* in, size_t in_bytes, const PoolGeometry& g, void* out, size_t out_bytes) {
                          max_pool2d(dtype, in, in_bytes, g, out, out_bytes);
                        });
}

}  // namespace

extern const OpDef kMaxPool = {"MaxPool", 1, 1, 1, 1, kAttrs, 7, infer, run_float, QuantRule::kKeepsInputQParams,
                               nullptr, int8_always, 0, window::pool_layout, nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
