// SPDX-License-Identifier: Apache-2.0
// Add: a + b with numpy broadcasting (f32; s32 / s64 for the shape arithmetic of exported models,
// wrapping), then the optional fused clamp [clip_min, clip_max] (f32; set by the fusion pass for
// Add + Relu). int8: PyTorch's quantized::add rule (ops/qadd.h) with the
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
  infer_numeric_binary(ctx);
  QK_FAIL_IF(ctx.inputs[0].dtype != DType::kF32 && (ctx.node.attrs.has("clip_min") || ctx.node.attrs.has("clip_max")),
             kInvalidArgument, "a clamp needs f32 inputs");
  QK_FAIL_IF(ctx.node.attrs.get_float("clip_min", -INFINITY) > ctx.node.attrs.get_float("clip_max", INFINITY),
             kInvalidArgument, "clip_min > clip_max");
}

// s32 / s64 (the shape arithmetic of exported models): wrapping, as Sub.
template <typename T, typename U>
void add_integers(RunContext& ctx) {
  binary_broadcast<T>(ctx, [](T x, T y) { return T(U(x) + U(y)); });
}

void run_float(RunContext& ctx) {
  if (ctx.in[0]->dtype == DType::kS32) return add_integers<int32_t, uint32_t>(ctx);
  if (ctx.in[0]->dtype == DType::kS64) return add_integers<int64_t, uint64_t>(ctx);
  const float lo = ctx.node.attrs.get_float("clip_min", -INFINITY);
  const float hi = ctx.node.attrs.get_float("clip_max", INFINITY);
  binary_broadcast<float>(ctx, [lo, hi](float x, float y) { return std::min(std::max(x + y, lo), hi); });
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

// Checks once, at convert (and load) time, that the requantization is computable (qadd rejects
// scale ratios that overflow before touching an element): a model that converts runs.
std::shared_ptr<const void> prepare(const PrepareContext& ctx) {
  qadd(*ctx.in_qp[0], nullptr, *ctx.in_qp[1], nullptr, *ctx.out_qp[0], 0,
       ctx.node.attrs.get_float("clip_min", -INFINITY), ctx.node.attrs.get_float("clip_max", INFINITY), nullptr);
  return nullptr;
}

// Equal shapes read codes element by element in any layout; broadcasting indexes NCHW.
Int8Layout layout(const Node&, const std::vector<TensorType>& in) {
  return in[0].dims == in[1].dims ? Int8Layout::kAny : Int8Layout::kNCHW;
}

}  // namespace

extern const OpDef kAdd = {"Add", 2, 2, 1, 1, kAttrs, 2, infer, run_float, QuantRule::kObservedOutput, nullptr,
                    int8_always, 0, layout, prepare, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
