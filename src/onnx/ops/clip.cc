// SPDX-License-Identifier: Apache-2.0
// Clip: min / max as attributes (opset < 11) or optional constant scalar inputs 1, 2 (opset 11+),
// both becoming the graph op's optional float attributes.
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Clip(ImportContext& ctx) {
  graph::Attributes a;
  if (ctx.opset() < 11) {
    if (ctx.attr("min")) a.set_float("min", ctx.attr_float("min", 0.0f));
    if (ctx.attr("max")) a.set_float("max", ctx.attr_float("max", 0.0f));
  } else {
    const char* names[2] = {"min", "max"};
    for (size_t i = 1; i <= 2; ++i) {
      bool present = false;
      const std::vector<float> v = ctx.const_floats(i, names[i - 1], &present);
      if (!present) continue;
      QK_FAIL_IF(v.size() != 1, kInvalidArgument, "%s must be a scalar", names[i - 1]);
      a.set_float(names[i - 1], v[0]);
    }
  }
  ctx.emit("Clip", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
