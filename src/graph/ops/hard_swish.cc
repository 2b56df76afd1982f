// SPDX-License-Identifier: Apache-2.0
// HardSwish: x * min(max(x + 3, 0), 6) / 6 (ONNX HardSwish; PyTorch's hardswish formula, the one
// the legacy model's hardswish layer computes, evaluated in that order).
// int8: an exact 256-entry table of quantize(f(dequantize(code))) built at convert time, with the
// output's observed qparams (PyTorch's quantized hardswish takes output qparams too: the output
// range, about [-0.375, max(x)], is not the input's).
#include <algorithm>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

float hard_swish(float x) { return x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f; }

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) { run_unary_float(ctx, hard_swish); }

std::shared_ptr<const void> prepare(const PrepareContext& ctx) { return prepare_table(ctx, hard_swish); }

}  // namespace

extern const OpDef kHardSwish = {"HardSwish", 1, 1, 1, 1, nullptr, 0, infer, run_float, QuantRule::kObservedOutput,
                          nullptr, int8_always, 0, layout_any, prepare, run_table, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
