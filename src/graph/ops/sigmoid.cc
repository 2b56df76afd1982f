// SPDX-License-Identifier: Apache-2.0
// Sigmoid: 1 / (1 + exp(-x)) (ONNX Sigmoid; the formula of the legacy model's sigmoid layer).
// int8: fixed output qparams, PyTorch's FixedQParams for sigmoid: scale 1/256 over [0, 1), zero
// point 0 (u8) or -128 (s8), since the output range is known whatever the input; the codes go
// through an exact 256-entry table of quantize(f(dequantize(code))) built at convert time.
#include <cmath>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) { run_unary_float(ctx, sigmoid); }

QParams fixed_qparams(const QParams& input) {
  QParams qp;
  qp.dtype = input.dtype;
  qp.scheme = QScheme::kPerTensorAffine;
  qp.quant_min = input.dtype == DType::kS8 ? -128 : 0;
  qp.quant_max = input.dtype == DType::kS8 ? 127 : 255;
  qp.scales = {1.0f / 256.0f};
  qp.zero_points = {qp.quant_min};
  return qp;
}

std::shared_ptr<const void> prepare(const PrepareContext& ctx) { return prepare_table(ctx, sigmoid); }

}  // namespace

extern const OpDef kSigmoid = {"Sigmoid", 1, 1, 1, 1, nullptr, 0, infer, run_float, QuantRule::kFixedQParams,
                        fixed_qparams, int8_always, 0, layout_any, prepare, run_table, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
