// SPDX-License-Identifier: Apache-2.0
// qk.Dequantize (inserted by convert): int8 codes in either layout -> f32 NCHW.
#include "graph/executor.h"
#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

void run_int8(RunContext& ctx) {
  Tensor f = dequantized(*ctx.in[0], *ctx.in_qp[0]);
  ctx.out[0]->storage = f.storage;  // same shape and dtype: adopt the buffer
}

void run_float(RunContext&) { fail(Status::kInternal, "qk.Dequantize runs int8 only"); }

}  // namespace

extern const OpDef kDequantize = {"qk.Dequantize", 1, 1, 1, 1, nullptr, 0, infer_same, run_float, QuantRule::kFloatOnly,
                           nullptr, int8_always, 0, layout_any, nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
