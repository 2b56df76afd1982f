// SPDX-License-Identifier: Apache-2.0
// AveragePool (ONNX): the mean over each window of a 1-D ({N, C, L}) or 2-D ({N, C, H, W})
// input; attributes kernel_shape (required), strides, pads (begins then ends), dilations (opset
// 19), auto_pad, count_include_pad (ONNX's default 0: padded taps are not counted; PyTorch's
// AvgPool2d default is 1, so the legacy qk_model_add_avg_pool2d port passes it explicitly) and
// ceil_mode (0 only: floor mode, as the int8 kernel and the legacy layer).
// Float: the legacy model's pool_float (sum of the taps inside the input, in window order, then
// one division by the count).
// int8 (kKeepsInputQParams): the output keeps the input's qparams, as the legacy layer and
// PyTorch's quantized avg_pool2d do (an average stays inside its input's range); ops/pooling.h's
// avg_pool2d sums the codes and requantizes once per output.
#include <algorithm>

#include "graph/op.h"
#include "graph/ops/window.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"kernel_shape", AttrType::kInts, true}, {"strides", AttrType::kInts, false},
                           {"pads", AttrType::kInts, false},        {"dilations", AttrType::kInts, false},
                           {"auto_pad", AttrType::kString, false},  {"ceil_mode", AttrType::kInt, false},
                           {"count_include_pad", AttrType::kInt, false}};

bool include_pad(const Node& n) { return n.attrs.get_int("count_include_pad", 0) != 0; }

void infer(InferContext& ctx) {
  const int64_t cip = ctx.node.attrs.get_int("count_include_pad", 0);
  QK_FAIL_IF(cip != 0 && cip != 1, kInvalidArgument, "count_include_pad %lld must be 0 or 1", (long long)cip);
  (void)window::infer_pool(ctx, true);
}

window::Spec spec_of(const RunContext& ctx) {
  return window::parse(ctx.node, ctx.in[0]->shape.size() - 2, {}, true);
}

// The legacy pool_float's average branch, with H = 1 for 1-D.
void run_float(RunContext& ctx) {
  const Tensor& xt = *ctx.in[0];
  Tensor& yt = *ctx.out[0];
  const window::Spec w = spec_of(ctx);
  const bool cip = include_pad(ctx.node);
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
        float acc = 0.0f;
        int64_t valid = 0;
        for (int64_t i = 0; i < w.k[0]; ++i)
          for (int64_t j = 0; j < w.k[1]; ++j) {
            const int64_t iy = oy * w.s[0] - pad[0] + i * w.d[0];
            const int64_t ix = ox * w.s[1] - pad[1] + j * w.d[1];
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            acc += plane[iy * W + ix];
            ++valid;
          }
        int64_t div = valid;
        if (cip) {
          // PyTorch's divisor: the window clipped to the padded input (in floor mode always the
          // full kernel, as the int8 kernel counts it).
          const int64_t y0 = oy * w.s[0] - pad[0], x0 = ox * w.s[1] - pad[1];
          const int64_t y1 = std::min(y0 + w.k[0], H + pad[2]), x1 = std::min(x0 + w.k[1], W + pad[3]);
          div = (y1 - y0) * (x1 - x0);
        }
        out[oy * OW + ox] = acc / float(div);
      }
  }
}

void run_int8(RunContext& ctx) {
  const QParams& in_qp = *ctx.in_qp[0];
  const QParams& out_qp = *ctx.out_qp[0];
  const bool cip = include_pad(ctx.node);
  window::run_pool_int8(ctx, spec_of(ctx),
                        [&](const void* in, size_t in_bytes, const PoolGeometry& g, void* out, size_t out_bytes) {
                          avg_pool2d(in_qp, out_qp, in, in_bytes, g, cip, out, out_bytes);
                        });
}

}  // namespace

extern const OpDef kAveragePool = {"AveragePool", 1, 1, 1, 1, kAttrs, 7, infer, run_float,
                                   QuantRule::kKeepsInputQParams, nullptr, int8_always, 0, window::pool_layout,
                                   nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
