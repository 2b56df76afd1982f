// SPDX-License-Identifier: Apache-2.0
// BatchNormalization (ONNX, inference form): y = (x - mean) / sqrt(var + epsilon) * scale + B per
// channel (axis 1) of an input of rank >= 2, with constant inputs scale, B, input_mean and
// input_var ({C} each), attribute epsilon (default 1e-5; momentum is accepted and ignored, as
// inference does; training_mode must be 0), then the optional fused clamp [clip_min, clip_max]
// (set by the fusion pass for a BatchNormalization + Relu that no conv absorbed: PyTorch's
// BNReLU2d).
// Float: the legacy batchnorm layer's arithmetic exactly (1 / sqrt(var + eps) per channel, then
// (x - mean) * invstd * scale + B).
// int8: kFloatOnly. The fusion pass folds a BatchNormalization that follows a Conv / Linear into
// its weights; one that stays on its own runs in float, as the legacy model keeps it.
#include <algorithm>
#include <cmath>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"epsilon", AttrType::kFloat, false},  {"momentum", AttrType::kFloat, false},
                           {"training_mode", AttrType::kInt, false}, {"clip_min", AttrType::kFloat, false},
                           {"clip_max", AttrType::kFloat, false}};

const char* const kParamNames[] = {"", "scale", "B", "input_mean", "input_var"};

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  const Dims& x = ctx.inputs[0].dims;
  QK_FAIL_IF(x.size() < 2, kInvalidArgument, "input %s must be {N, C, ...} (rank >= 2)", dims_string(x).c_str());
  const int64_t mode = ctx.node.attrs.get_int("training_mode", 0);
  QK_FAIL_IF(mode != 0, kUnsupported, "training_mode %lld is not supported (inference only)", (long long)mode);
  const float eps = ctx.node.attrs.get_float("epsilon", 1e-5f);
  QK_FAIL_IF(eps < 0.0f, kInvalidArgument, "epsilon %g must be >= 0", (double)eps);
  QK_FAIL_IF(ctx.node.attrs.get_float("clip_min", -INFINITY) > ctx.node.attrs.get_float("clip_max", INFINITY),
             kInvalidArgument, "clip_min > clip_max");
  int64_t channels = -1;
  for (size_t i = 1; i <= 4; ++i) {
    const Tensor& p = require_constant(ctx, i, kParamNames[i]);
    QK_FAIL_IF(p.dtype != DType::kF32 || p.shape.size() != 1, kInvalidArgument, "%s must be an f32 {C} vector (got %s %s)",
               kParamNames[i], dtype_name(p.dtype), shape_string(p.shape).c_str());
    QK_FAIL_IF(channels >= 0 && p.shape[0] != channels, kInvalidArgument, "%s has %lld values, scale has %lld",
               kParamNames[i], (long long)p.shape[0], (long long)channels);
    channels = p.shape[0];
  }
  QK_FAIL_IF(x[1].known() && x[1].size != channels, kInvalidArgument,
             "input %s has %lld channels (axis 1), the parameters have %lld", dims_string(x).c_str(),
             (long long)x[1].size, (long long)channels);
  const float* var = ctx.constants[4]->data<float>();
  for (int64_t c = 0; c < channels; ++c)
    QK_FAIL_IF(!(var[c] + eps > 0.0f), kInvalidArgument, "input_var[%lld] + epsilon must be > 0", (long long)c);
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) {
  const Tensor& xt = *ctx.in[0];
  Tensor& yt = *ctx.out[0];
  const float* gamma = ctx.in[1]->data<float>();
  const float* beta = ctx.in[2]->data<float>();
  const float* mean = ctx.in[3]->data<float>();
  const float* var = ctx.in[4]->data<float>();
  const float eps = ctx.node.attrs.get_float("epsilon", 1e-5f);
  const float lo = ctx.node.attrs.get_float("clip_min", -INFINITY);
  const float hi = ctx.node.attrs.get_float("clip_max", INFINITY);
  const size_t N = size_t(xt.shape[0]), C = size_t(xt.shape[1]);
  if (N * C == 0) return;  // an empty tensor
  const size_t inner = size_t(xt.count()) / (N * C);
  const float* x = xt.data<float>();
  float* y = yt.data<float>();
  for (size_t b = 0; b < N; ++b)
    for (size_t c = 0; c < C; ++c) {
      const float invstd = 1.0f / std::sqrt(var[c] + eps);
      const float* px = x + (b * C + c) * inner;
      float* py = y + (b * C + c) * inner;
      for (size_t i = 0; i < inner; ++i)
        py[i] = std::min(std::max((px[i] - mean[c]) * invstd * gamma[c] + beta[c], lo), hi);
    }
}

}  // namespace

extern const OpDef kBatchNormalization = {"BatchNormalization", 5, 5, 1, 1, kAttrs, 5, infer, run_float,
                                          QuantRule::kFloatOnly, nullptr, nullptr, 0, nullptr, nullptr, nullptr,
                                          nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
