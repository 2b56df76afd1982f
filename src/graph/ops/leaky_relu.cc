// SPDX-License-Identifier: Apache-2.0
// LeakyRelu: x >= 0 ? x : alpha * x (ONNX LeakyRelu, PyTorch's leaky_relu; attribute "alpha",
// default 0.01). int8: an exact 256-entry table of quantize(f(dequantize(code))) built at convert
// time, with the output's observed qparams (the negative slope shrinks the range below zero, so
// the input's qparams would waste codes; a table costs the same whatever f is).
#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"alpha", AttrType::kFloat, false}};

float alpha_of(const Node& n) { return n.attrs.get_float("alpha", 0.01f); }
// The one definition shared by the float run and the int8 table.
float leaky_relu(float x, float alpha) { return x >= 0.0f ? x : alpha * x; }

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) {
  const float alpha = alpha_of(ctx.node);
  const float* px = ctx.in[0]->data<float>();
  float* py = ctx.out[0]->data<float>();
  for (uint64_t i = 0, n = ctx.in[0]->count(); i < n; ++i) py[i] = leaky_relu(px[i], alpha);
}

std::shared_ptr<const void> prepare(const PrepareContext& ctx) {
  const float alpha = alpha_of(ctx.node);
  return prepare_table_with(ctx, [alpha](float x) { return leaky_relu(x, alpha); });
}

}  // namespace

extern const OpDef kLeakyRelu = {"LeakyRelu", 1, 1, 1, 1, kAttrs, 1, infer, run_float, QuantRule::kObservedOutput,
                          nullptr, int8_always, 0, layout_any, prepare, run_table, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
