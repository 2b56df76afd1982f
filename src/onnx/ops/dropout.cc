// SPDX-License-Identifier: Apache-2.0
// Dropout at inference: the identity. training_mode (opset 12+ input 2) must be absent or
// false; the mask output may not be read.
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Dropout(ImportContext& ctx) {
  bool present = false;
  const std::vector<int64_t> training = ctx.has_input(2) && ctx.constant(2) && ctx.constant(2)->dtype == DType::kBool
                                            ? std::vector<int64_t>{ctx.constant(2)->data<uint8_t>()[0]}
                                            : ctx.const_ints(2, "training_mode", &present);
  QK_FAIL_IF(!training.empty() && training[0] != 0, kUnsupported, "Dropout in training mode");
  QK_FAIL_IF(ctx.output_used(1), kUnsupported, "the Dropout mask output is read");
  ctx.alias(0, 0);
}

}  // namespace onnx
}  // namespace qk
