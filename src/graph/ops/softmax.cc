// SPDX-License-Identifier: Apache-2.0
// Softmax (ONNX opset 13): y = exp(x - max) / sum(exp(x - max)) along one axis (attribute `axis`,
// default -1, negative counts from the end), input of any rank >= 1. Subtracting the slice's max
// first keeps exp() in (0, 1]: no overflow for large logits, and the sum is >= 1.
//
// int8: kFloatOnly, as the legacy softmax layer (quant=0). Softmax is not element-wise (each
// output depends on its whole slice), so no 256-entry table applies; an int8 softmax needs an
// exp table plus an integer normalisation (TFLite's), and attention is sensitive to it: the
// small probabilities a fixed 1/256 output step rounds to zero are most of the attention mass on
// long sequences. Its output is still observed, so an int8 consumer (attention's P V MatMul)
// gets quantized probabilities.
#include <algorithm>
#include <cmath>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"axis", AttrType::kInt, false}};

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  const Dims& x = ctx.inputs[0].dims;
  QK_FAIL_IF(x.empty(), kInvalidArgument, "input must have rank >= 1 (got a scalar)");
  normalize_axis(ctx.node.attrs.get_int("axis", -1), x.size(), "axis");
  ctx.outputs[0] = ctx.inputs[0];
}

void run_float(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const size_t axis = normalize_axis(ctx.node.attrs.get_int("axis", -1), x.shape.size(), "axis");
  uint64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= uint64_t(x.shape[d]);
  for (size_t d = axis + 1; d < x.shape.size(); ++d) inner *= uint64_t(x.shape[d]);
  const uint64_t n = uint64_t(x.shape[axis]);
  const float* px = x.data<float>();
  float* py = y.data<float>();
  // Slice (o, i) is px[(o * n + k) * inner + i], k in [0, n).
  for (uint64_t o = 0; o < outer; ++o)
    for (uint64_t i = 0; i < inner; ++i) {
      const float* sx = px + o * n * inner + i;
      float* sy = py + o * n * inner + i;
      float m = -INFINITY;
      for (uint64_t k = 0; k < n; ++k) m = std::max(m, sx[k * inner]);
      float s = 0.0f;
      for (uint64_t k = 0; k < n; ++k) s += (sy[k * inner] = std::exp(sx[k * inner] - m));
      for (uint64_t k = 0; k < n; ++k) sy[k * inner] /= s;
    }
}

}  // namespace

extern const OpDef kSoftmax = {"Softmax", 1, 1, 1, 1, kAttrs, 1, infer, run_float, QuantRule::kFloatOnly, nullptr,
                        nullptr, 0, nullptr, nullptr, nullptr, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
