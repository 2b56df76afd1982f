// SPDX-License-Identifier: Apache-2.0
// Pow: x ^ y with numpy broadcasting (ONNX Pow): x f32; the exponent y f32, s32 or s64 (exported
// models write x.pow(2) with either), computed as std::pow(float, float) like PyTorch's float pow.
// int8: none (kFloatOnly). Pow shows up inside decomposed LayerNorm / GELU subgraphs, where its
// output (a variance term, a cube) spans a range that int8 with one scale serves badly; the
// two-operand form has no table, and the importer fuses those subgraphs into float-precision
// ops anyway.
#include <cmath>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  QK_FAIL_IF(!ctx.present[1], kInvalidArgument, "input 1 is missing");
  const DType t = ctx.inputs[1].dtype;
  QK_FAIL_IF(t != DType::kF32 && t != DType::kS32 && t != DType::kS64, kInvalidArgument,
             "input 1 (the exponent) is %s, expected f32, s32 or s64", dtype_name(t));
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = broadcast_dims(ctx.inputs[0].dims, ctx.inputs[1].dims);
}

template <typename E>
void pow_loop(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  const Tensor& e = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  const float* px = x.data<float>();
  const E* pe = e.data<E>();
  float* py = y.data<float>();
  for_each_broadcast(y.shape, x.shape, e.shape,
                     [&](uint64_t i, uint64_t ix, uint64_t ie) { py[i] = std::pow(px[ix], float(pe[ie])); });
}

void run_float(RunContext& ctx) {
  switch (ctx.in[1]->dtype) {
    case DType::kS32: return pow_loop<int32_t>(ctx);
    case DType::kS64: return pow_loop<int64_t>(ctx);
    default: return pow_loop<float>(ctx);
  }
}

}  // namespace

extern const OpDef kPow = {"Pow", 2, 2, 1, 1, nullptr, 0, infer, run_float, QuantRule::kFloatOnly, nullptr,
                    nullptr, 0, nullptr, nullptr, nullptr, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
