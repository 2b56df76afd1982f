// SPDX-License-Identifier: Apache-2.0
// HardSigmoid: max(0, min(1, alpha * x + beta)) (ONNX HardSigmoid: attributes "alpha", default
// 0.2, and "beta", default 0.5; PyTorch's hardsigmoid is alpha = 1/6, beta = 0.5).
// int8: fixed output qparams, as PyTorch's quantized hardsigmoid (FixedQParams, the same as
// Sigmoid's: scale 1/256 over [0, 1), zero point 0 for u8 or -128 for s8). The output lies in
// [0, 1] whatever alpha, beta and the input are, so an observer could only pick a range inside
// [0, 1] and would add calibration noise for no gain; the one code lost (1.0 saturates to 255/256)
// is PyTorch's behaviour too. The codes go through an exact 256-entry table built at convert time.
#include <algorithm>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"alpha", AttrType::kFloat, false}, {"beta", AttrType::kFloat, false}};

// The one definition shared by the float run and the int8 table.
float hard_sigmoid(float x, float alpha, float beta) { return std::max(0.0f, std::min(1.0f, alpha * x + beta)); }

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) {
  const float alpha = ctx.node.attrs.get_float("alpha", 0.2f), beta = ctx.node.attrs.get_float("beta", 0.5f);
  const float* px = ctx.in[0]->data<float>();
  float* py = ctx.out[0]->data<float>();
  for (uint64_t i = 0, n = ctx.in[0]->count(); i < n; ++i) py[i] = hard_sigmoid(px[i], alpha, beta);
}

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

std::shared_ptr<const void> prepare(const PrepareContext& ctx) {
  const float alpha = ctx.node.attrs.get_float("alpha", 0.2f), beta = ctx.node.attrs.get_float("beta", 0.5f);
  return prepare_table_with(ctx, [alpha, beta](float x) { return hard_sigmoid(x, alpha, beta); });
}

}  // namespace

extern const OpDef kHardSigmoid = {"HardSigmoid", 1, 1, 1, 1, kAttrs, 2, infer, run_float, QuantRule::kFixedQParams,
                            fixed_qparams, int8_always, 0, layout_any, prepare, run_table, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
