// SPDX-License-Identifier: Apache-2.0
// Unsqueeze: axes from the attribute (opset < 13) or the constant input 1. On a scalar shape
// value (a dim picked by Gather) with axes [0]: the 1-D shape value of that dim.
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Unsqueeze(ImportContext& ctx) {
  const std::vector<int64_t> axes = ctx.opset() < 13 ? ctx.attr_ints("axes") : ctx.const_ints(1, "axes");
  if (const ShapeValue* s = ctx.shape_value(0)) {
    QK_FAIL_IF(!s->scalar || axes.size() != 1 || (axes[0] != 0 && axes[0] != -1), kUnsupported,
               "Unsqueeze of a shape: only a scalar dim to 1-D");
    ctx.set_shape_value(0, ShapeValue{s->dims, false});
    return;
  }
  graph::Attributes a;
  a.set_ints("axes", axes);
  ctx.emit("Unsqueeze", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
