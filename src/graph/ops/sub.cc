// SPDX-License-Identifier: Apache-2.0
// Sub: a - b with numpy broadcasting (ONNX Sub). f32, and s32 / s64 for the shape arithmetic of
// exported models (Shape -> Gather -> Sub -> Reshape; integers wrap as two's complement).
// int8: Add's rule (PyTorch's quantized::add, ops/qadd.h) with b's term subtracted:
//   out = clamp(round_half_even((a - za) * (sa / so) - (b - zb) * (sb / so)) + zo)
// with the output's observed qparams. ops/qadd.h cannot be reused by negating b's scale (qparams
// scales must be > 0), so the loop is here, in qadd's shape: each product rounded, then the
// difference (no FMA), rounding and clamping through round_clamped.
#include <cmath>

#include "graph/op.h"
#include "ops/layout.h"

namespace qk {
namespace graph {
namespace ops {
namespace {


// U: the unsigned twin for integers (wrapping instead of signed overflow), T itself for f32.
template <typename T, typename U>
void sub_loop(RunContext& ctx) {
  binary_broadcast<T>(ctx, [](T x, T y) { return T(U(x) - U(y)); });
}

void run_float(RunContext& ctx) {
  switch (ctx.in[0]->dtype) {
    case DType::kS32: return sub_loop<int32_t, uint32_t>(ctx);
    case DType::kS64: return sub_loop<int64_t, uint64_t>(ctx);
    default: return sub_loop<float, float>(ctx);
  }
}

void run_int8(RunContext& ctx) {
  const Tensor& a = *ctx.in[0];
  const Tensor& b = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  const ActivationQuant qa = activation_quant(*ctx.in_qp[0], "input 0 qparams");
  const ActivationQuant qb = activation_quant(*ctx.in_qp[1], "input 1 qparams");
  const ActivationQuant qo = activation_quant(*ctx.out_qp[0], "output qparams");
  const float a_mul = qa.scale / qo.scale, b_mul = qb.scale / qo.scale;
  // |code - zp| <= 255: both terms stay finite, so the difference is never Inf - Inf = NaN.
  QK_FAIL_IF(!std::isfinite(a_mul * 256.0f) || !std::isfinite(b_mul * 256.0f), kInvalidArgument,
             "input scale / output scale is too large (a %g, b %g, output %g)", (double)qa.scale, (double)qb.scale,
             (double)qo.scale);
  const float lo = float(qo.type_min - qo.zero_point), hi = float(qo.type_max - qo.zero_point);
  for_each_broadcast(y.shape, a.shape, b.shape, [&](uint64_t i, uint64_t ia, uint64_t ib) {
    const float va = float(code_at(a, ia) - qa.zero_point) * a_mul;
    const float vb = float(code_at(b, ib) - qb.zero_point) * b_mul;
    set_code(y, i, int32_t(round_clamped(va - vb, lo, hi)) + qo.zero_point);
  });
}

// Equal shapes read codes element by element in any layout; broadcasting indexes NCHW.
Int8Layout layout(const Node&, const std::vector<TensorType>& in) {
  return in[0].dims == in[1].dims ? Int8Layout::kAny : Int8Layout::kNCHW;
}

}  // namespace

extern const OpDef kSub = {"Sub", 2, 2, 1, 1, nullptr, 0, infer_numeric_binary, run_float, QuantRule::kObservedOutput, nullptr,
                    int8_always, 0, layout, nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
