// SPDX-License-Identifier: Apache-2.0
// Pad: pads / value as attributes (opset < 11: pads, value) or constant inputs (pads, optional
// constant_value, opset 18's optional axes, which the pads are then spread over).
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Pad(ImportContext& ctx) {
  graph::Attributes a;
  a.set_string("mode", ctx.attr_string("mode", "constant"));
  std::vector<int64_t> pads;
  if (ctx.opset() < 11) {
    pads = ctx.attr_ints(ctx.attr("paddings") ? "paddings" : "pads");
    a.set_float("value", ctx.attr_float("value", 0.0f));
  } else {
    pads = ctx.const_ints(1, "pads");
    bool present = false;
    const std::vector<float> v = ctx.const_floats(2, "constant_value", &present);
    if (present) {
      QK_FAIL_IF(v.size() != 1, kInvalidArgument, "constant_value must be a scalar");
      a.set_float("value", v[0]);
    }
    bool has_axes = false;
    const std::vector<int64_t> axes = ctx.const_ints(3, "axes", &has_axes);
    if (has_axes) {
      const graph::TensorType* t = ctx.type(0);
      QK_FAIL_IF(!t, kUnsupported, "Pad with axes of a constant");
      const int64_t rank = int64_t(t->dims.size());
      QK_FAIL_IF(pads.size() != 2 * axes.size(), kInvalidArgument, "%zu pads for %zu axes", pads.size(), axes.size());
      std::vector<int64_t> full(size_t(2 * rank), 0);
      for (size_t i = 0; i < axes.size(); ++i) {
        const int64_t ax = axes[i] < 0 ? axes[i] + rank : axes[i];
        QK_FAIL_IF(ax < 0 || ax >= rank, kInvalidArgument, "axis %lld", (long long)axes[i]);
        full[size_t(ax)] = pads[i];
        full[size_t(ax + rank)] = pads[i + axes.size()];
      }
      pads = full;
    }
  }
  a.set_ints("pads", pads);
  ctx.emit("Pad", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
