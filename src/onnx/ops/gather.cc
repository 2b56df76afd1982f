// SPDX-License-Identifier: Apache-2.0
// Gather: on a shape value with constant indices, picks its dims (a scalar index gives a scalar);
// otherwise the graph's Gather (constant indices), folded when the data is constant too.
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Gather(ImportContext& ctx) {
  if (const ShapeValue* s = ctx.shape_value(0)) {
    const graph::Tensor* idx = ctx.constant(1);
    QK_FAIL_IF(!idx || ctx.attr_int("axis", 0) != 0 || idx->shape.size() > 1, kUnsupported,
               "Gather on a shape needs constant scalar or 1-D indices on axis 0");
    const std::vector<int64_t> ids = ctx.const_ints(1, "indices");
    ShapeValue out;
    out.scalar = idx->shape.empty();
    const int64_t n = int64_t(s->dims.size());
    for (int64_t i : ids) {
      const int64_t k = i < 0 ? i + n : i;
      QK_FAIL_IF(k < 0 || k >= n, kInvalidArgument, "index %lld outside a shape of rank %lld", (long long)i,
                 (long long)n);
      out.dims.push_back(s->dims[size_t(k)]);
    }
    ctx.set_shape_value(0, std::move(out));
    return;
  }
  ctx.emit("Gather", {ctx.input(0), ctx.input(1)}, {0}, ctx.copy_attrs());
}

}  // namespace onnx
}  // namespace qk
