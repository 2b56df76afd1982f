// SPDX-License-Identifier: Apache-2.0
// Softmax: opset 13's semantics are the graph op's. Before 13, the input was coerced to 2-D at
// `axis` (default 1); that equals a softmax over the last axis when axis is the last one, the
// only case taken here (what exporters emit).
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Softmax(ImportContext& ctx) {
  if (ctx.opset() >= 13) {
    convert_same(ctx);
    return;
  }
  const graph::TensorType* t = ctx.type(0);
  const graph::Tensor* c = ctx.constant(0);
  const int64_t rank = t ? int64_t(t->dims.size()) : c ? int64_t(c->shape.size()) : -1;
  int64_t axis = ctx.attr_int("axis", 1);
  if (axis < 0) axis += rank;
  QK_FAIL_IF(rank < 1 || axis != rank - 1, kUnsupported,
             "Softmax before opset 13 over axis %lld of a rank-%lld input (only the last axis is supported)",
             (long long)ctx.attr_int("axis", 1), (long long)rank);
  graph::Attributes a;
  a.set_int("axis", -1);
  ctx.emit("Softmax", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
