// SPDX-License-Identifier: Apache-2.0
// BatchNormalization in inference form: the graph op. Older opsets' is_test / spatial = 1 are
// the inference defaults and dropped; the training outputs (running mean / var, saved stats)
// may not be read.
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_BatchNormalization(ImportContext& ctx) {
  for (size_t i = 1; i < ctx.output_count(); ++i)
    QK_FAIL_IF(ctx.output_used(i), kUnsupported, "training output %zu is read", i);
  QK_FAIL_IF(ctx.attr_int("spatial", 1) != 1, kUnsupported, "spatial = 0");
  std::vector<std::string> in;
  for (size_t i = 0; i < ctx.input_count(); ++i) in.push_back(ctx.input(i));
  ctx.emit("BatchNormalization", in, {0}, ctx.copy_attrs({"spatial", "is_test", "consumed_inputs"}));
}

}  // namespace onnx
}  // namespace qk
