// SPDX-License-Identifier: Apache-2.0
// Tanh: tanh(x) element-wise (ONNX Tanh).
// int8: fixed output qparams, PyTorch's FixedQParams for tanh: scale 2/256 over [-1, 1), zero
// point 128 (u8) or 0 (s8), since the output range is known whatever the input; the codes go
// through an exact 256-entry table of quantize(tanh(dequantize(code))) built at convert time.
#include <cmath>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

float tanh_f(float x) { return std::tanh(x); }

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) { run_unary_float(ctx, tanh_f); }

QParams fixed_qparams(const QParams& input) {
  QParams qp;
  qp.dtype = input.dtype;
  qp.scheme = QScheme::kPerTensorAffine;
  qp.quant_min = input.dtype == DType::kS8 ? -128 : 0;
  qp.quant_max = input.dtype == DType::kS8 ? 127 : 255;
  qp.scales = {2.0f / 256.0f};
  qp.zero_points = {input.dtype == DType::kS8 ? 0 : 128};
  return qp;
}

std::shared_ptr<const void> prepare(const PrepareContext& ctx) { return prepare_table(ctx, tanh_f); }

}  // namespace

extern const OpDef kTanh = {"Tanh", 1, 1, 1, 1, nullptr, 0, infer, run_float, QuantRule::kFixedQParams, fixed_qparams,
                     int8_always, 0, layout_any, prepare, run_table, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
