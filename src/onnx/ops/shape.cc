// SPDX-License-Identifier: Apache-2.0
// Shape (opset 1..18, with opset 15's start / end): the input's dims. All known: an int64
// constant; otherwise a symbolic shape value that Gather / Concat / Slice / Reshape carry on.
#include <algorithm>

#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Shape(ImportContext& ctx) {
  QK_FAIL_IF(!ctx.has_input(0), kCorrupt, "the input is missing");
  graph::Dims dims;
  if (const graph::Tensor* c = ctx.constant(0)) {
    dims = graph::known_dims(c->shape);
  } else if (const ShapeValue* s = ctx.shape_value(0)) {
    dims = {graph::Dim::of(s->scalar ? 0 : int64_t(s->dims.size()))};
    if (s->scalar) dims.clear();
  } else {
    const graph::TensorType* t = ctx.type(0);
    QK_FAIL_IF(!t, kUnsupported, "Shape of '%s', which has no shape here (zeros of a symbolic shape?)",
               ctx.node().input[0]);
    dims = t->dims;
  }
  const int64_t rank = int64_t(dims.size());
  int64_t start = ctx.attr_int("start", 0), end = ctx.attr_int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::min(std::max<int64_t>(start, 0), rank);
  end = std::min(std::max<int64_t>(end, start), rank);
  ShapeValue v;
  v.dims.assign(dims.begin() + start, dims.begin() + end);
  ctx.set_shape_value(0, std::move(v));
}

}  // namespace onnx
}  // namespace qk
