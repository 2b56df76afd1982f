// SPDX-License-Identifier: Apache-2.0
// qk.Reorder (inserted by the layout pass): rank-4 int8 codes NCHW <-> NHWC, qparams unchanged.
#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

void run_int8(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const size_t N = size_t(x.shape[0]), C = size_t(x.shape[1]), HW = size_t(x.shape[2] * x.shape[3]);
  const uint8_t* src = x.data<uint8_t>();
  uint8_t* dst = y.data<uint8_t>();
  const bool to_nhwc = y.layout == Layout::kNHWC;
  QK_FAIL_IF(to_nhwc == (x.layout == Layout::kNHWC), kInternal, "reorder to the same layout");
  for (size_t b = 0; b < N; ++b, src += C * HW, dst += C * HW)
    for (size_t c = 0; c < C; ++c)
      for (size_t p = 0; p < HW; ++p) {
        if (to_nhwc)
          dst[p * C + c] = src[c * HW + p];
        else
          dst[c * HW + p] = src[p * C + c];
      }
}

void run_float(RunContext&) { fail(Status::kInternal, "qk.Reorder runs int8 only"); }

}  // namespace

extern const OpDef kReorder = {"qk.Reorder", 1, 1, 1, 1, nullptr, 0, infer_same, run_float, QuantRule::kKeepsInputQParams,
                        nullptr, int8_always, 0, nullptr, nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
