// SPDX-License-Identifier: Apache-2.0
// Div: a / b with numpy broadcasting (ONNX Div). f32 (IEEE: x / 0 is +-Inf or NaN, as PyTorch),
// and s32 / s64 for the shape arithmetic of exported models (truncating toward zero, as ONNX
// Runtime; a zero divisor is an error; INT_MIN / -1 wraps).
// int8: none (kFloatOnly). The quotient of two int8 values has no exact integer form: 1 / (b - zb)
// is unbounded near b's zero point, so no fixed multiplier or 256-entry table covers it, and
// PyTorch has no quantized div either. A division by a constant is a Mul by its reciprocal,
// which the importer can emit when it wants the int8 path.
#include <cmath>
#include <type_traits>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {


template <typename T>
void int_div(RunContext& ctx) {
  const Tensor& a = *ctx.in[0];
  const Tensor& b = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* py = y.data<T>();
  for_each_broadcast(y.shape, a.shape, b.shape, [&](uint64_t i, uint64_t ia, uint64_t ib) {
    const T x = pa[ia], d = pb[ib];
    QK_FAIL_IF(d == 0, kInvalidArgument, "integer division by zero (element %llu of input 1)",
               (unsigned long long)ib);
    py[i] = d == T(-1) ? T(T(0) - typename std::make_unsigned<T>::type(x)) : T(x / d);
  });
}

void run_float(RunContext& ctx) {
  switch (ctx.in[0]->dtype) {
    case DType::kS32: return int_div<int32_t>(ctx);
    case DType::kS64: return int_div<int64_t>(ctx);
    default: break;
  }
  const Tensor& a = *ctx.in[0];
  const Tensor& b = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* py = y.data<float>();
  for_each_broadcast(y.shape, a.shape, b.shape,
                     [&](uint64_t i, uint64_t ia, uint64_t ib) { py[i] = pa[ia] / pb[ib]; });
}

}  // namespace

extern const OpDef kDiv = {"Div", 2, 2, 1, 1, nullptr, 0, infer_numeric_binary, run_float, QuantRule::kFloatOnly, nullptr,
                    nullptr, 0, nullptr, nullptr, nullptr, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
