// SPDX-License-Identifier: Apache-2.0
// Reshape: the target shape (constant input 1) becomes the graph op's `shape` attribute. A
// symbolic shape value (the exporters' Shape -> Gather -> Concat of a batch dim) becomes sizes,
// 0 where it repeats the input's own symbolic dim at the same position, and -1 for the one
// symbolic dim left (more than one: unsupported).
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Reshape(ImportContext& ctx) {
  std::vector<int64_t> shape;
  const int64_t allowzero = ctx.attr_int("allowzero", 0);
  if (const ShapeValue* s = ctx.shape_value(1)) {
    const graph::TensorType* t = ctx.type(0);
    int inferred = 0;
    for (size_t i = 0; i < s->dims.size(); ++i) {
      const graph::Dim& d = s->dims[i];
      if (d.known()) {
        shape.push_back(d.size);
      } else if (t && i < t->dims.size() && t->dims[i] == d && allowzero == 0) {
        shape.push_back(0);
      } else {
        shape.push_back(-1);
        ++inferred;
      }
    }
    QK_FAIL_IF(inferred > 1, kUnsupported, "Reshape to a shape with %d symbolic dims that are not copied in place",
               inferred);
  } else {
    shape = ctx.const_ints(1, "shape");
  }
  graph::Attributes a;
  a.set_ints("shape", shape);
  if (allowzero) a.set_int("allowzero", allowzero);
  ctx.emit("Reshape", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
