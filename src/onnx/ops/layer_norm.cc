// SPDX-License-Identifier: Apache-2.0
// LayerNormalization (opset 17): the graph op; the optional Mean / InvStdDev outputs may not be
// read (they are training outputs).
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_LayerNormalization(ImportContext& ctx) {
  QK_FAIL_IF(ctx.output_used(1) || ctx.output_used(2), kUnsupported, "the Mean / InvStdDev outputs are read");
  std::vector<std::string> in;
  for (size_t i = 0; i < ctx.input_count(); ++i) in.push_back(ctx.input(i));
  ctx.emit("LayerNormalization", in, {0}, ctx.copy_attrs());
}

}  // namespace onnx
}  // namespace qk
