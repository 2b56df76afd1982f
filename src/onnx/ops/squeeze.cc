// SPDX-License-Identifier: Apache-2.0
// Squeeze: axes from the attribute (opset < 13) or the optional constant input 1. On a 1-D
// shape value of one dim: that dim as a scalar.
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Squeeze(ImportContext& ctx) {
  bool present = false;
  std::vector<int64_t> axes;
  if (ctx.opset() < 13) {
    present = ctx.attr("axes") != nullptr;
    axes = ctx.attr_ints("axes");
  } else {
    axes = ctx.const_ints(1, "axes", &present);
  }
  if (const ShapeValue* s = ctx.shape_value(0)) {
    QK_FAIL_IF(s->scalar || s->dims.size() != 1, kUnsupported, "Squeeze of a shape: only a 1-D shape of one dim");
    ctx.set_shape_value(0, ShapeValue{s->dims, true});
    return;
  }
  graph::Attributes a;
  if (present) a.set_ints("axes", axes);
  ctx.emit("Squeeze", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
