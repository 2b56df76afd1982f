// SPDX-License-Identifier: Apache-2.0
// ReduceMean: axes as the attribute (opset < 18) or the optional constant input 1 (opset 18).
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_ReduceMean(ImportContext& ctx) {
  graph::Attributes a = ctx.copy_attrs({"axes"});
  bool present = false;
  std::vector<int64_t> axes;
  if (ctx.opset() < 18) {
    present = ctx.attr("axes") != nullptr;
    axes = ctx.attr_ints("axes");
  } else {
    axes = ctx.const_ints(1, "axes", &present);
  }
  if (present) a.set_ints("axes", axes);
  ctx.emit("ReduceMean", {ctx.input(0)}, {0}, a);
}

}  // namespace onnx
}  // namespace qk
