// SPDX-License-Identifier: Apache-2.0
// What the recurrent ops (lstm.cc, gru.cc) share: ONNX's direction attribute, the constant
// weight checks, and the two forms of their GEMMs: float (Eigen) and dynamic (int8 weights per
// channel, activations quantized per call: PyTorch's quantize_dynamic for nn.LSTM / nn.GRU).
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/op.h"
#include "ops/dynamic_linear.h"
#include "ops/packed_weights.h"

namespace qk {
namespace graph {
namespace ops {
namespace recurrent {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// y {m, rows} = x {m, cols} W' for W {rows, cols}.
using Gemm = std::function<void(size_t m, const float* x, float* y)>;

inline float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

inline int64_t directions(const Node& n) {
  const std::string d = n.attrs.get_string("direction", "forward");
  QK_FAIL_IF(d != "forward" && d != "reverse" && d != "bidirectional", kInvalidArgument,
             "direction '%s' must be forward, reverse or bidirectional", d.c_str());
  return d == "bidirectional" ? 2 : 1;
}
// Direction d runs backwards in time.
inline bool reversed(const Node& n, int64_t d) { return d == 1 || n.attrs.get_string("direction", "forward") == "reverse"; }

inline void require_weight(const InferContext& ctx, size_t i, const char* what, const std::vector<int64_t>& want) {
  const Tensor& t = require_constant(ctx, i, what);
  QK_FAIL_IF(!weight_present_as_f32(ctx, i) || t.shape != want, kInvalidArgument, "%s must be f32 %s (got %s %s)", what,
             shape_string(want).c_str(), dtype_name(ctx.inputs[i].dtype), shape_string(t.shape).c_str());
}

inline Gemm float_gemm(const float* w, int64_t rows, int64_t cols) {
  return [=](size_t m, const float* x, float* y) {
    Eigen::Map<const RowMat> xm(x, Eigen::Index(m), cols);
    Eigen::Map<const RowMat> wm(w, rows, cols);
    Eigen::Map<RowMat> ym(y, Eigen::Index(m), rows);
    ym.noalias() = xm * wm.transpose();
  };
}

// W {rows, cols} as s8 per channel (the node's weight scheme) for a DynamicLinear.
inline std::shared_ptr<const DynamicLinear> dynamic_linear(const float* w, int64_t rows, int64_t cols, QScheme scheme) {
  Tensor t = Tensor::copy_of(DType::kF32, {rows, cols}, w, size_t(rows * cols) * sizeof(float));
  Tensor codes;
  const QParams qp = quantize_weight(t, scheme, 0, &codes);
  auto pw = make_packed_weights(codes.data<int8_t>(), size_t(rows), size_t(cols), size_t(cols), qp, nullptr, DType::kF32);
  return std::make_shared<DynamicLinear>(pw, DType::kU8, false);
}

// Dynamic mode needs W and R (inputs 1, 2) as f32 constants.
inline bool supports_dynamic(const Node&, const std::vector<TensorType>&, const std::vector<const Tensor*>& consts) {
  return consts[1] && consts[2] && consts[1]->dtype == DType::kF32 && consts[2]->dtype == DType::kF32;
}

inline Gemm dynamic_gemm(const DynamicLinear* d, ThreadPool* pool) {
  return [=](size_t m, const float* x, float* y) { d->run(m, x, d->k(), y, d->n(), pool); };
}

}  // namespace recurrent
}  // namespace ops
}  // namespace graph
}  // namespace qk
