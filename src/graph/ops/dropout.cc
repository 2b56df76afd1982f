// SPDX-License-Identifier: Apache-2.0
// Dropout at inference: y = x (ONNX Dropout with training_mode false). ONNX (opset 12+) passes
// ratio and training_mode as optional constant INPUTS; here they are optional ATTRIBUTES "ratio"
// (float in [0, 1), checked and otherwise unused) and "training_mode" (int, must be 0: this is an
// inference library), plus ONNX's "seed" (unused). Only the first output: ONNX's optional second
// output, the mask, is not supported (a graph that reads it is rejected by the builder's arity
// check, at most 1 output); at inference it would be all true, which the importer can fold.
// int8 keeps the input's qparams and copies the codes in whatever layout they are stored.
#include <cstring>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {
    {"ratio", AttrType::kFloat, false}, {"training_mode", AttrType::kInt, false}, {"seed", AttrType::kInt, false}};

void infer(InferContext& ctx) {
  QK_FAIL_IF(!ctx.present[0], kInvalidArgument, "input 0 is missing");
  const float ratio = ctx.node.attrs.get_float("ratio", 0.5f);
  QK_FAIL_IF(!(ratio >= 0.0f && ratio < 1.0f), kInvalidArgument, "ratio %g is outside [0, 1)", (double)ratio);
  QK_FAIL_IF(ctx.node.attrs.get_int("training_mode", 0) != 0, kInvalidArgument,
             "training_mode must be 0 (inference only)");
  ctx.outputs[0] = ctx.inputs[0];
}

// Float and int8 alike: the executor allocated y with x's dtype, shape (and, int8, layout).
void copy(RunContext& ctx) {
  QK_FAIL_IF(ctx.out[0]->bytes != ctx.in[0]->bytes, kInternal, "output has %zu bytes, input %zu",
             ctx.out[0]->bytes, ctx.in[0]->bytes);
  if (ctx.in[0]->bytes) std::memcpy(ctx.out[0]->storage.get(), ctx.in[0]->storage.get(), ctx.in[0]->bytes);
}

}  // namespace

extern const OpDef kDropout = {"Dropout", 1, 1, 1, 1, kAttrs, 3, infer, copy, QuantRule::kKeepsInputQParams,
                        nullptr, int8_always, 0, layout_any, nullptr, copy, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
