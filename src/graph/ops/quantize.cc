// SPDX-License-Identifier: Apache-2.0
// qk.Quantize (inserted by convert): f32 NCHW -> int8 codes with the output value's qparams,
// written in the output's layout (NHWC for rank 4: the int8 conv path's input).
#include "core/quantize.h"
#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

void run_int8(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const QParams& qp = *ctx.out_qp[0];
  const Shape s = Shape::from(x.shape.data(), x.shape.size(), "shape");
  if (y.layout != Layout::kNHWC) {
    quantize(qp, x.data<float>(), s, y.storage.get(), y.bytes);
    return;
  }
  Tensor tmp = Tensor::allocate(y.dtype, y.shape);
  quantize(qp, x.data<float>(), s, tmp.storage.get(), tmp.bytes);
  const size_t N = size_t(x.shape[0]), C = size_t(x.shape[1]), HW = size_t(x.shape[2] * x.shape[3]);
  const uint8_t* src = tmp.data<uint8_t>();
  uint8_t* dst = y.data<uint8_t>();
  for (size_t b = 0; b < N; ++b, src += C * HW, dst += C * HW)
    for (size_t c = 0; c < C; ++c)
      for (size_t p = 0; p < HW; ++p) dst[p * C + c] = src[c * HW + p];
}

void run_float(RunContext&) { fail(Status::kInternal, "qk.Quantize runs int8 only"); }

}  // namespace

extern const OpDef kQuantize = {"qk.Quantize", 1, 1, 1, 1, nullptr, 0, infer_same, run_float, QuantRule::kObservedOutput,
                         nullptr, int8_always, 0, layout_nhwc, nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
