// SPDX-License-Identifier: Apache-2.0
// Clip: min(max(x, min), max) element-wise (ONNX Clip; PyTorch's clamp / Hardtanh, which the
// legacy model's hardtanh layer maps to). ONNX passes min and max as optional constant INPUTS;
// here they are optional float ATTRIBUTES "min" and "max" (absent: no bound), which the ONNX
// importer fills from those constants. min > max is rejected (ONNX would output max everywhere;
// no real model asks for that, and the fused clamps reject it too).
// int8 keeps the input's qparams (PyTorch's quantized hardtanh): the codes are clamped to
// [quantize(min), quantize(max)] intersected with the code range. This is exactly the float op
// on the dequantized codes: quantize is monotonic and maps each dequantized code back to itself.
#include <algorithm>
#include <cmath>

#include "graph/op.h"
#include "ops/layout.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"min", AttrType::kFloat, false}, {"max", AttrType::kFloat, false}};

float lower(const Node& n) { return n.attrs.get_float("min", -INFINITY); }
float upper(const Node& n) { return n.attrs.get_float("max", INFINITY); }

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  QK_FAIL_IF(lower(ctx.node) > upper(ctx.node), kInvalidArgument, "min %g is greater than max %g",
             (double)lower(ctx.node), (double)upper(ctx.node));
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) {
  const float lo = lower(ctx.node), hi = upper(ctx.node);
  const float* px = ctx.in[0]->data<float>();
  float* py = ctx.out[0]->data<float>();
  for (uint64_t i = 0, n = ctx.in[0]->count(); i < n; ++i) py[i] = std::min(std::max(px[i], lo), hi);
}

void run_int8(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  int32_t lo = 0, hi = 0;
  output_clamp(activation_quant(*ctx.in_qp[0], "input qparams"), lower(ctx.node), upper(ctx.node), &lo, &hi);
  for (uint64_t i = 0, n = x.count(); i < n; ++i) set_code(y, i, std::min(std::max(code_at(x, i), lo), hi));
}

}  // namespace

extern const OpDef kClip = {"Clip", 1, 1, 1, 1, kAttrs, 2, infer, run_float, QuantRule::kKeepsInputQParams, nullptr,
                     int8_always, 0, layout_any, nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
