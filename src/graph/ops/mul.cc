// SPDX-License-Identifier: Apache-2.0
// Mul: a * b with numpy broadcasting (ONNX Mul). f32, and s32 / s64 for the shape arithmetic of
// exported models (integers wrap as two's complement).
// int8 (PyTorch's quantized::mul) with the output's observed qparams, exact per element:
//   out = clamp(round_half_even(float((a - za) * (b - zb)) * (sa * sb / so)) + zo)
// The code product is an exact int32 (|.| <= 255 * 255), so the only rounding before the final
// one is the single float multiply by the precomputed multiplier.
#include <cmath>

#include "graph/op.h"
#include "ops/layout.h"

namespace qk {
namespace graph {
namespace ops {
namespace {


// U: the unsigned twin for integers (wrapping instead of signed overflow), T itself for f32.
template <typename T, typename U>
void mul_loop(RunContext& ctx) {
  binary_broadcast<T>(ctx, [](T x, T y) { return T(U(x) * U(y)); });
}

void run_float(RunContext& ctx) {
  switch (ctx.in[0]->dtype) {
    case DType::kS32: return mul_loop<int32_t, uint32_t>(ctx);
    case DType::kS64: return mul_loop<int64_t, uint64_t>(ctx);
    default: return mul_loop<float, float>(ctx);
  }
}

void run_int8(RunContext& ctx) {
  const Tensor& a = *ctx.in[0];
  const Tensor& b = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  const ActivationQuant qa = activation_quant(*ctx.in_qp[0], "input 0 qparams");
  const ActivationQuant qb = activation_quant(*ctx.in_qp[1], "input 1 qparams");
  const ActivationQuant qo = activation_quant(*ctx.out_qp[0], "output qparams");
  const float mul = qa.scale * qb.scale / qo.scale;
  // A finite multiplier times the largest product stays finite: no Inf, and no 0 * Inf = NaN.
  QK_FAIL_IF(!std::isfinite(mul * 65536.0f), kInvalidArgument,
             "input scales / output scale is too large (a %g, b %g, output %g)", (double)qa.scale, (double)qb.scale,
             (double)qo.scale);
  const float lo = float(qo.type_min - qo.zero_point), hi = float(qo.type_max - qo.zero_point);
  for_each_broadcast(y.shape, a.shape, b.shape, [&](uint64_t i, uint64_t ia, uint64_t ib) {
    const int32_t prod = (code_at(a, ia) - qa.zero_point) * (code_at(b, ib) - qb.zero_point);
    set_code(y, i, int32_t(round_clamped(float(prod) * mul, lo, hi)) + qo.zero_point);
  });
}

// Equal shapes read codes element by element in any layout; broadcasting indexes NCHW.
Int8Layout layout(const Node&, const std::vector<TensorType>& in) {
  return in[0].dims == in[1].dims ? Int8Layout::kAny : Int8Layout::kNCHW;
}

}  // namespace

extern const OpDef kMul = {"Mul", 2, 2, 1, 1, nullptr, 0, infer_numeric_binary, run_float, QuantRule::kObservedOutput, nullptr,
                    int8_always, 0, layout, nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
