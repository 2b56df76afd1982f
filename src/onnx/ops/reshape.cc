// SPDX-License-Identifier: Apache-2.0
// Reshape: the target shape (constant input 1) becomes the graph op's `shape` attribute. A
// symbolic shape value (the exporters' Shape -> Gather -> Concat of a batch dim) becomes sizes,
// 0 where it repeats the input's own symbolic dim at the same position, a dim expression over
// the graph inputs' symbols (graph Reshape's dim_symbols, "(batch*4)", sized when the model runs)
// where it can be computed from them, and -1 for the one dim left (more than one: unsupported).
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Reshape(ImportContext& ctx) {
  std::vector<int64_t> shape;
  const int64_t allowzero = ctx.attr_int("allowzero", 0);
  std::string dim_symbols;  // Reshape's: dims sized by input symbols at run time
  bool any_symbol = false;
  if (const ShapeValue* s = ctx.shape_value(1)) {
    const graph::TensorType* t = ctx.type(0);
    int inferred = 0;
    for (size_t i = 0; i < s->dims.size(); ++i) {
      const graph::Dim& d = s->dims[i];
      std::string sym;
      if (d.known()) {
        shape.push_back(d.size);
      } else if (t && i < t->dims.size() && t->dims[i] == d && allowzero == 0) {
        shape.push_back(0);
      } else if (ctx.resolvable(d.symbol)) {
        shape.push_back(1);
        sym = d.symbol;
        any_symbol = true;
      } else {
        shape.push_back(-1);
        ++inferred;
      }
      dim_symbols += (i ? ";" : "") + sym;
    }
    QK_FAIL_IF(inferred > 1, kUnsupported,
               "Reshape to a shape with %d dims computed from intermediate shapes (at most one can be inferred)",
               inferred);
  } else {
    shape = ctx.const_ints(1, "shape");
  }
  graph::Attributes a;
  a.set_ints("shape", shape);
  if (allowzero) a.set_int("allowzero", allowzero);
  if (any_symbol) a.set_string("dim_symbols", dim_symbols);
  ctx.emit("Reshape", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
