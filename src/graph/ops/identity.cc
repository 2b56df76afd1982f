// SPDX-License-Identifier: Apache-2.0
// Identity: y = x (ONNX Identity), any dtype; exported models use it to rename a value.
// int8 keeps the input's qparams and copies the codes in whatever layout they are stored.
#include <cstring>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

// Float and int8 alike: the executor allocated y with x's dtype, shape (and, int8, layout).
void copy(RunContext& ctx) {
  QK_FAIL_IF(ctx.out[0]->bytes != ctx.in[0]->bytes, kInternal, "output has %zu bytes, input %zu",
             ctx.out[0]->bytes, ctx.in[0]->bytes);
  if (ctx.in[0]->bytes) std::memcpy(ctx.out[0]->storage.get(), ctx.in[0]->storage.get(), ctx.in[0]->bytes);
}

}  // namespace

extern const OpDef kIdentity = {"Identity", 1, 1, 1, 1, nullptr, 0, infer_same, copy, QuantRule::kKeepsInputQParams,
                         nullptr, int8_always, 0, layout_any, nullptr, copy, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
