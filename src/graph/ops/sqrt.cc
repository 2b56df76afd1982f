// SPDX-License-Identifier: Apache-2.0
// Sqrt: sqrt(x) element-wise (ONNX Sqrt; NaN for x < 0, as PyTorch).
// int8: none (kFloatOnly). Sqrt appears in decomposed LayerNorm (sqrt(var + eps)) where the
// value feeds a division and needs float precision; a table would be possible but a lossy step
// in the middle of a float computation, and PyTorch has no quantized sqrt.
#include <cmath>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

float sqrt_f(float x) { return std::sqrt(x); }

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) { run_unary_float(ctx, sqrt_f); }

}  // namespace

extern const OpDef kSqrt = {"Sqrt", 1, 1, 1, 1, nullptr, 0, infer, run_float, QuantRule::kFloatOnly, nullptr,
                     nullptr, 0, nullptr, nullptr, nullptr, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
