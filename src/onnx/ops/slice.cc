// SPDX-License-Identifier: Apache-2.0
// Slice: starts / ends / axes / steps from attributes (opset < 10) or constant inputs 1..4. On
// a shape value (axis 0): the selected dims.
#include <algorithm>

#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Slice(ImportContext& ctx) {
  std::vector<int64_t> starts, ends, axes, steps;
  bool has_axes = false, has_steps = false;
  if (ctx.opset() < 10) {
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    has_axes = ctx.attr("axes") != nullptr;
    axes = ctx.attr_ints("axes");
  } else {
    starts = ctx.const_ints(1, "starts");
    ends = ctx.const_ints(2, "ends");
    axes = ctx.const_ints(3, "axes", &has_axes);
    steps = ctx.const_ints(4, "steps", &has_steps);
  }
  if (const graph::Dims* z = ctx.zeros(0)) {  // a slice of zeros: zeros of the sliced shape
    graph::Dims out = *z;
    const int64_t rank = int64_t(z->size());
    for (size_t i = 0; i < starts.size(); ++i) {
      int64_t ax = has_axes ? axes[i] : int64_t(i);
      if (ax < 0) ax += rank;
      QK_FAIL_IF(ax < 0 || ax >= rank || (has_steps && steps[i] != 1), kUnsupported, "Slice of zeros: axis / step");
      graph::Dim& d = out[size_t(ax)];
      QK_FAIL_IF(!d.known(), kUnsupported, "Slice of zeros along a symbolic dim");
      auto clamp = [&](int64_t v) { return std::min(std::max<int64_t>(v < 0 ? v + d.size : v, 0), d.size); };
      const int64_t b = clamp(starts[i]), e = std::max(b, clamp(ends[i]));
      d = graph::Dim::of(e - b);
    }
    ctx.set_zeros(0, std::move(out));
    return;
  }
  if (const ShapeValue* s = ctx.shape_value(0)) {
    QK_FAIL_IF(s->scalar || starts.size() != 1 || ends.size() != 1 || (has_axes && axes != std::vector<int64_t>(1, 0)) ||
                   (has_steps && steps != std::vector<int64_t>(1, 1)),
               kUnsupported, "Slice of a shape: one range on axis 0 with step 1");
    const int64_t n = int64_t(s->dims.size());
    auto clamp = [n](int64_t v) { return std::min(std::max<int64_t>(v < 0 ? v + n : v, 0), n); };
    const int64_t b = clamp(starts[0]), e = std::max(b, clamp(ends[0]));
    ctx.set_shape_value(0, ShapeValue{graph::Dims(s->dims.begin() + b, s->dims.begin() + e), false});
    return;
  }
  graph::Attributes a;
  a.set_ints("starts", starts);
  a.set_ints("ends", ends);
  if (has_axes) a.set_ints("axes", axes);
  if (has_steps) a.set_ints("steps", steps);
  ctx.emit("Slice", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
