// SPDX-License-Identifier: Apache-2.0
// Exp: e^x element-wise (ONNX Exp).
// int8: none (kFloatOnly). Exp appears in decomposed Softmax (exp(x - max) / sum), where its
// output spans orders of magnitude that one int8 scale cannot hold (the small terms all round to
// zero), and it feeds a division; PyTorch has no quantized exp either.
#include <cmath>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

float exp_f(float x) { return std::exp(x); }

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) { run_unary_float(ctx, exp_f); }

}  // namespace

extern const OpDef kExp = {"Exp", 1, 1, 1, 1, nullptr, 0, infer, run_float, QuantRule::kFloatOnly, nullptr,
                    nullptr, 0, nullptr, nullptr, nullptr, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
