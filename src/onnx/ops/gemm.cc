// SPDX-License-Identifier: Apache-2.0
// Gemm: Y = alpha * A' B' + beta * C. With A not transposed and a constant 2-D B it becomes a
// Linear (weights alpha * B' as {N, K}, bias beta * C broadcast to {N} when C is a constant
// that broadcasts along M): what every exported fully connected layer is, and the form that
// quantizes per channel. Otherwise MatMul (with Transposes) and the scaled Add.
#include "onnx/importer.h"

namespace qk {
namespace onnx {

namespace {

using graph::Tensor;

// C as a {N} bias, if it is a constant broadcasting along M ({}, {1}, {N}, {1, N}, {1, 1}).
bool bias_of(const Tensor* c, int64_t n, float beta, std::vector<float>* bias) {
  if (!c || c->dtype != DType::kF32) return false;
  const std::vector<int64_t>& s = c->shape;
  const bool per_n = (s.size() == 1 && s[0] == n) || (s.size() == 2 && s[0] == 1 && s[1] == n);
  const bool scalar = c->count() == 1 && s.size() <= 2;
  if (!per_n && !scalar) return false;
  bias->resize(size_t(n));
  for (int64_t j = 0; j < n; ++j) (*bias)[size_t(j)] = beta * c->data<float>()[scalar ? 0 : j];
  return true;
}

}  // namespace

void convert_Gemm(ImportContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 1.0f), beta = ctx.attr_float("beta", 1.0f);
  const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
  const Tensor* b = ctx.constant(1);
  const Tensor* c = ctx.constant(2);
  if (!ta && b && b->dtype == DType::kF32 && b->shape.size() == 2) {
    const int64_t k = tb ? b->shape[1] : b->shape[0], n = tb ? b->shape[0] : b->shape[1];
    std::vector<float> bias;
    const bool has_c = ctx.has_input(2);
    if (!has_c || bias_of(c, n, beta, &bias)) {
      Tensor w = Tensor::allocate(DType::kF32, {n, k});
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < k; ++j)
          w.data<float>()[i * k + j] = alpha * b->data<float>()[tb ? i * k + j : j * n + i];
      std::vector<std::string> in = {ctx.input(0), ctx.add_constant(std::move(w))};
      if (has_c) in.push_back(ctx.add_constant(Tensor::copy_of(DType::kF32, {n}, bias.data(), bias.size() * 4)));
      ctx.emit("Linear", in, {0}, {});
      return;
    }
  }
  graph::Attributes perm;
  perm.set_ints("perm", {1, 0});
  const std::string a_in = ta ? ctx.emit_temp("Transpose", {ctx.input(0)}, perm) : ctx.input(0);
  const std::string b_in = tb ? ctx.emit_temp("Transpose", {ctx.input(1)}, perm) : ctx.input(1);
  std::string y = ctx.emit_temp("MatMul", {a_in, b_in}, {});
  auto scalar = [&](float v) {
    Tensor t = Tensor::allocate(DType::kF32, {});
    t.data<float>()[0] = v;
    return ctx.add_constant(std::move(t));
  };
  if (alpha != 1.0f) y = ctx.emit_temp("Mul", {y, scalar(alpha)}, {});
  if (!ctx.has_input(2)) {
    ctx.emit("Identity", {y}, {0}, {});
    return;
  }
  std::string cin = ctx.input(2);
  if (beta != 1.0f) cin = ctx.emit_temp("Mul", {cin, scalar(beta)}, {});
  ctx.emit("Add", {y, cin}, {0}, {});
}

}  // namespace onnx
}  // namespace qk
