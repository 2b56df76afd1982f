// SPDX-License-Identifier: Apache-2.0
// Add: a + b with numpy broadcasting, then the optional fused clamp [clip_min, clip_max] (set by
// the fusion pass for Add + Relu). int8: PyTorch's quantized::add rule (ops/qadd.h) with the
// output's observed qparams; broadcast operands are expanded to the output shape first so every
// element goes through the same arithmetic.
#include <cmath>
#include <limits>

#include "graph/op.h"
#include "ops/qadd.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"clip_min", AttrType::kFloat, false}, {"clip_max", AttrType::kFloat, false}};

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  require_dtype(ctx, 1, DType::kF32);
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = broadcast_dims(ctx.inputs[0].dims, ctx.inputs[1].dims);
  QK_FAIL_IF(ctx.node.attrs.get_float("clip_min", -INFINITY) > ctx.node.attrs.get_float("clip_max", INFINITY),
             kInvalidArgument, "clip_min > clip_max");
}

void run_float(RunContext& ctx) {
  const Tensor& a = *ctx.in[0];
  const Tensor& b = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  const float lo = ctx.node.attrs.get_float("clip_min", -INFINITY);
  const float hi = ctx.node.attrs.get_float("clip_max", INFINITY);
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* py = y.data<float>();
  for_each_broadcast(y.shape, a.shape, b.shape, [&](uint64_t i, uint64_t ia, uint64_t ib) {
    py[i] = std::min(std::max(pa[ia] + pb[ib], lo), hi);
  });
}

// The codes of `x` repeated to `shape` (a copy only when broadcasting).
Tensor expanded(const Tensor& x, const std::vector<int64_t>& shape) {
  if (x.shape == shape) return x;
  Tensor t = Tensor::allocate(x.dtype, shape);
  t.layout = x.layout;
  const uint8_t* px = x.data<uint8_t>();
  uint8_t* pt = t.data<uint8_t>();
  for_each_broadcast(shape, x.shape, shape, [&](uint64_t i, uint64_t ix, uint64_t) { pt[i] = px[ix]; });
  return t;
}

void run_int8(RunContext& ctx) {
  Tensor& y = *ctx.out[0];
  const Tensor a = expanded(*ctx.in[0], y.shape);
  const Tensor b = expanded(*ctx.in[1], y.shape);
  qadd(*ctx.in_qp[0], a.storage.get(), *ctx.in_qp[1], b.storage.get(), *ctx.out_qp[0], size_t(y.count()),
       ctx.node.attrs.get_float("clip_min", -INFINITY), ctx.node.attrs.get_float("clip_max", INFINITY),
       y.storage.get());
}

// Equal shapes read codes element by element in any layout; broadcasting indexes NCHW.
Int8Layout layout(const Node&, const std::vector<TensorType>& in) {
  return in[0].dims == in[1].dims ? Int8Layout::kAny : Int8Layout::kNCHW;
}

}  // namespace

extern const OpDef kAdd = {"Add", 2, 2, 1, 1, kAttrs, 2, infer, run_float, QuantRule::kObservedOutput, nullptr,
                    int8_always, 0, layout, nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
