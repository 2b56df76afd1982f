// SPDX-License-Identifier: Apache-2.0
// Resize: scales / sizes from constant inputs (opset 10: input 1 = scales; 11+: roi, scales,
// sizes; opset 18's axes must be absent or [2, 3]) into the graph op's attributes, with mode,
// coordinate_transformation_mode and nearest_mode. Opset 10 had no transformation attribute: its
// nearest was asymmetric with floor (as Upsample). Cubic and the crop-and-resize mode are not
// supported.
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Resize(ImportContext& ctx) {
  graph::Attributes a;
  const std::string mode = ctx.attr_string("mode", "nearest");
  QK_FAIL_IF(mode != "nearest" && mode != "linear", kUnsupported, "mode '%s'", mode.c_str());
  a.set_string("mode", mode);
  QK_FAIL_IF(ctx.attr_int("exclude_outside", 0) != 0, kUnsupported, "exclude_outside = 1");
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  bool has_scales = false, has_sizes = false;
  if (ctx.opset() < 11) {
    scales = ctx.const_floats(1, "scales", &has_scales);
    a.set_string("coordinate_transformation_mode", "asymmetric");
    if (mode == "nearest") a.set_string("nearest_mode", "floor");
  } else {
    scales = ctx.const_floats(2, "scales", &has_scales);
    has_scales = has_scales && !scales.empty();
    sizes = ctx.const_ints(3, "sizes", &has_sizes);
    has_sizes = has_sizes && !sizes.empty();
    a.set_string("coordinate_transformation_mode", ctx.attr_string("coordinate_transformation_mode", "half_pixel"));
    if (mode == "nearest") a.set_string("nearest_mode", ctx.attr_string("nearest_mode", "round_prefer_floor"));
    const std::vector<int64_t> axes = ctx.attr_ints("axes");
    QK_FAIL_IF((!axes.empty() && axes != std::vector<int64_t>({2, 3})), kUnsupported, "axes other than [2, 3]");
  }
  QK_FAIL_IF(has_scales == has_sizes, kInvalidArgument, "exactly one of scales and sizes must be given");
  if (has_scales) a.set_floats("scales", scales);
  if (has_sizes) a.set_ints("sizes", sizes);
  ctx.emit("Resize", {ctx.input(0)}, {0}, a);
}

// Upsample (opset 7..9): scales as the attribute (7, 8) or the constant input 1 (9); nearest is
// asymmetric with floor, linear is asymmetric.
void convert_Upsample(ImportContext& ctx) {
  graph::Attributes a;
  const std::string mode = ctx.attr_string("mode", "nearest");
  QK_FAIL_IF(mode != "nearest" && mode != "linear" && mode != "bilinear", kUnsupported, "mode '%s'", mode.c_str());
  a.set_string("mode", mode == "nearest" ? "nearest" : "linear");
  a.set_string("coordinate_transformation_mode", "asymmetric");
  if (mode == "nearest") a.set_string("nearest_mode", "floor");
  a.set_floats("scales", ctx.opset() < 9 ? ctx.attr_floats("scales") : ctx.const_floats(1, "scales"));
  ctx.emit("Resize", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
