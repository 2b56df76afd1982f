// SPDX-License-Identifier: Apache-2.0
// Identity: the output is the input under another name.
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Identity(ImportContext& ctx) { ctx.alias(0, 0); }

}  // namespace onnx
}  // namespace qk
