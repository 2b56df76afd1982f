// SPDX-License-Identifier: Apache-2.0
// Concat: of shape values (and constant 1-D ints) on axis 0, a shape value; otherwise the graph's
// Concat (folded when every input is constant).
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Concat(ImportContext& ctx) {
  bool any_shape = false;
  for (size_t i = 0; i < ctx.input_count(); ++i) any_shape = any_shape || ctx.shape_value(i);
  if (any_shape) {
    ShapeValue out;
    for (size_t i = 0; i < ctx.input_count(); ++i) {
      if (const ShapeValue* s = ctx.shape_value(i)) {
        QK_FAIL_IF(s->scalar, kInvalidArgument, "Concat of a scalar");
        out.dims.insert(out.dims.end(), s->dims.begin(), s->dims.end());
      } else {
        for (int64_t v : ctx.const_ints(i, "a shape part")) out.dims.push_back(graph::Dim::of(v));
      }
    }
    ctx.set_shape_value(0, std::move(out));
    return;
  }
  convert_same(ctx);
}

}  // namespace onnx
}  // namespace qk
