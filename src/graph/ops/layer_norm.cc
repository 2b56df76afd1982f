// SPDX-License-Identifier: Apache-2.0
// LayerNormalization (ONNX opset 17): X is normalized over the axes [axis, rank) (attribute
// `axis`, default -1, negative counts from the end):
//   mean = E[x], var = E[(x - mean)^2], y = (x - mean) / sqrt(var + epsilon) * Scale + B
// with Scale (input 1) and the optional B (input 2) constants whose shapes broadcast
// unidirectionally to X's normalized dims (usually exactly those dims). Attributes: epsilon
// (default 1e-5, must be > 0 so a constant slice gives 0, not NaN) and stash_type (ONNX's
// precision of mean / variance: only 1, f32, is accepted). The optional outputs Mean and
// InvStdDev (ONNX's training outputs) have X's shape with the normalized dims set to 1.
// The statistics are accumulated in double: a long row (d_model 4096) of large activations
// otherwise loses digits in the variance's cancellation.
//
// int8: kFloatOnly this round. The normalization divides by a per-row statistic, so it is no
// table and no code movement; an int8 LayerNorm (integer mean / variance, an rsqrt table) is a
// kernel of its own. Its output is observed for int8 consumers.
#include <cmath>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"axis", AttrType::kInt, false},
                           {"epsilon", AttrType::kFloat, false},
                           {"stash_type", AttrType::kInt, false}};

// Scale / B (input i) must broadcast to the normalized dims `norm` without growing them.
void check_param(const InferContext& ctx, size_t i, const Dims& norm, const char* what) {
  const Tensor& t = require_constant(ctx, i, what);
  QK_FAIL_IF(t.dtype != DType::kF32, kInvalidArgument, "%s must be f32 (got %s)", what, dtype_name(t.dtype));
  QK_FAIL_IF(t.shape.size() > norm.size(), kInvalidArgument, "%s %s has more dims than the normalized dims %s", what,
             shape_string(t.shape).c_str(), dims_string(norm).c_str());
  for (size_t d = 0; d < t.shape.size(); ++d) {
    const Dim& n = norm[norm.size() - t.shape.size() + d];
    QK_FAIL_IF(t.shape[d] != 1 && n.known() && n.size != t.shape[d], kInvalidArgument,
               "%s %s does not broadcast to the normalized dims %s", what, shape_string(t.shape).c_str(),
               dims_string(norm).c_str());
  }
}

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  const Dims& x = ctx.inputs[0].dims;
  QK_FAIL_IF(x.empty(), kInvalidArgument, "input must have rank >= 1 (got a scalar)");
  const size_t axis = normalize_axis(ctx.node.attrs.get_int("axis", -1), x.size(), "axis");
  const float eps = ctx.node.attrs.get_float("epsilon", 1e-5f);
  QK_FAIL_IF(!(eps > 0.0f), kInvalidArgument, "epsilon must be > 0 (got %g)", double(eps));
  const int64_t stash = ctx.node.attrs.get_int("stash_type", 1);
  QK_FAIL_IF(stash != 1, kInvalidArgument, "stash_type %lld is not supported (only 1: f32)", (long long)stash);
  const Dims norm(x.begin() + std::ptrdiff_t(axis), x.end());
  check_param(ctx, 1, norm, "Scale");
  if (ctx.inputs.size() > 2 && ctx.present[2]) check_param(ctx, 2, norm, "B");
  ctx.outputs[0] = ctx.inputs[0];
  for (size_t o = 1; o < ctx.outputs.size(); ++o) {  // Mean, InvStdDev
    ctx.outputs[o].dtype = DType::kF32;
    ctx.outputs[o].dims = x;
    for (size_t d = axis; d < x.size(); ++d) ctx.outputs[o].dims[d] = Dim::of(1);
  }
}

// Input i (Scale / B) repeated to the normalized dims `norm` (count d).
std::vector<float> expanded(const Tensor& t, const std::vector<int64_t>& norm) {
  uint64_t d = 1;
  for (int64_t n : norm) d *= uint64_t(n);
  std::vector<float> e(size_t(d), 0.0f);
  const float* p = t.data<float>();
  for_each_broadcast(norm, t.shape, norm, [&](uint64_t i, uint64_t it, uint64_t) { e[size_t(i)] = p[it]; });
  return e;
}

void run_float(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const size_t axis = normalize_axis(ctx.node.attrs.get_int("axis", -1), x.shape.size(), "axis");
  const double eps = double(ctx.node.attrs.get_float("epsilon", 1e-5f));
  const std::vector<int64_t> norm(x.shape.begin() + std::ptrdiff_t(axis), x.shape.end());
  const std::vector<float> scale = expanded(*ctx.in[1], norm);
  const std::vector<float> bias = ctx.in.size() > 2 && ctx.in[2] ? expanded(*ctx.in[2], norm) : std::vector<float>();
  const uint64_t d = uint64_t(scale.size());
  if (d == 0) return;  // nothing to normalize (Mean / InvStdDev of empty rows stay 0)
  const uint64_t rows = x.count() / d;
  float* mean_out = ctx.out.size() > 1 ? ctx.out[1]->data<float>() : nullptr;
  float* inv_out = ctx.out.size() > 2 ? ctx.out[2]->data<float>() : nullptr;
  for (uint64_t r = 0; r < rows; ++r) {
    const float* px = x.data<float>() + r * d;
    float* py = y.data<float>() + r * d;
    double sum = 0.0;
    for (uint64_t i = 0; i < d; ++i) sum += px[i];
    const double mean = sum / double(d);
    double sq = 0.0;
    for (uint64_t i = 0; i < d; ++i) sq += (px[i] - mean) * (px[i] - mean);
    const double inv = 1.0 / std::sqrt(sq / double(d) + eps);
    for (uint64_t i = 0; i < d; ++i)
      py[i] = float((px[i] - mean) * inv) * scale[i] + (bias.empty() ? 0.0f : bias[i]);
    if (mean_out) mean_out[r] = float(mean);
    if (inv_out) inv_out[r] = float(inv);
  }
}

}  // namespace

extern const OpDef kLayerNormalization = {"LayerNormalization", 2, 3, 1, 3, kAttrs, 3, infer, run_float,
                                   QuantRule::kFloatOnly, nullptr, nullptr, 0, nullptr, nullptr, nullptr, nullptr,
                                   nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
