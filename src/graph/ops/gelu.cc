// SPDX-License-Identifier: Apache-2.0
// Gelu (ONNX Gelu, opset 20; PyTorch's gelu), attribute "approximate":
//   "none" (default): 0.5 x (1 + erf(x / sqrt(2)))
//   "tanh":           0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
// each evaluated in float in PyTorch's order. int8: an exact 256-entry table of
// quantize(f(dequantize(code))) built at convert time, with the output's observed qparams (the
// output range, about [-0.17, max(x)], is not the input's).
#include <cmath>
#include <string>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"approximate", AttrType::kString, false}};

float gelu_erf(float x) { return 0.5f * x * (1.0f + std::erf(x * float(M_SQRT1_2))); }
float gelu_tanh(float x) {
  const float beta = float(M_SQRT2 * M_2_SQRTPI * 0.5), kappa = 0.044715f;
  const float cube = x * x * x;
  return 0.5f * x * (1.0f + std::tanh(beta * (x + kappa * cube)));
}

// The definition the node's "approximate" attribute selects.
float (*gelu_of(const Node& n))(float) {
  const std::string a = n.attrs.get_string("approximate", "none");
  if (a == "none") return gelu_erf;
  if (a == "tanh") return gelu_tanh;
  fail(Status::kInvalidArgument, "approximate '%s' must be \"none\" or \"tanh\"", a.c_str());
}

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  gelu_of(ctx.node);
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) { run_unary_float(ctx, gelu_of(ctx.node)); }

std::shared_ptr<const void> prepare(const PrepareContext& ctx) { return prepare_table(ctx, gelu_of(ctx.node)); }

}  // namespace

extern const OpDef kGelu = {"Gelu", 1, 1, 1, 1, kAttrs, 1, infer, run_float, QuantRule::kObservedOutput, nullptr,
                     int8_always, 0, layout_any, prepare, run_table, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
