// SPDX-License-Identifier: Apache-2.0
// Relu: max(x, 0). int8 keeps the input's qparams: max(code, zero_point) on the codes.
#include <algorithm>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

float relu(float x) { return x > 0.0f ? x : 0.0f; }

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);  // the float run is f32 only: refuse other types when added
  infer_same(ctx);
}

void run_float(RunContext& ctx) { run_unary_float(ctx, relu); }

void run_int8(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const int32_t zp = ctx.in_qp[0]->zero_points[0];
  for (uint64_t i = 0, n = x.count(); i < n; ++i) set_code(y, i, std::max(code_at(x, i), zp));
}

}  // namespace

extern const OpDef kRelu = {"Relu", 1, 1, 1, 1, nullptr, 0, infer, run_float, QuantRule::kKeepsInputQParams, nullptr,
                     int8_always, 0, layout_any, nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
