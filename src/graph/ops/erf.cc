// SPDX-License-Identifier: Apache-2.0
// Erf: the error function element-wise (ONNX Erf).
// int8: none (kFloatOnly). Erf appears in decomposed GELU (0.5 x (1 + erf(x / sqrt 2))), which the
// importer fuses into Gelu (int8 as one table); on its own its output would go straight into a
// Mul whose int8 error compounds the table's, so it stays float. PyTorch has no quantized erf.
#include <cmath>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

float erf_f(float x) { return std::erf(x); }

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) { run_unary_float(ctx, erf_f); }

}  // namespace

extern const OpDef kErf = {"Erf", 1, 1, 1, 1, nullptr, 0, infer, run_float, QuantRule::kFloatOnly, nullptr,
                    nullptr, 0, nullptr, nullptr, nullptr, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
