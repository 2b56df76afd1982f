// SPDX-License-Identifier: Apache-2.0
// The ONNX op types the importer takes (default domain), one row each. Ops whose graph op has
// the same name, inputs and attributes (graph ops follow ONNX) use convert_same; the others have
// a converter in src/onnx/ops/<op>.cc. Adding an op: its converter file (if it needs one), its
// row here, its test.
#include <cstring>

#include "onnx/importer.h"

namespace qk {
namespace onnx {

#define QK_ONNX_CONVERTERS(X)                                                                          \
  X(Add) X(BatchNormalization) X(Cast) X(Clip) X(Concat) X(Constant) X(ConstantOfShape) X(Div) X(Dropout) X(Gather) \
  X(Gemm) X(GRU) X(Identity) X(LayerNormalization) X(LSTM) X(MaxPool) X(Pad) X(ReduceMean) X(Reshape) X(Resize)      \
  X(Mul) X(Shape) X(Slice) X(Softmax) X(Squeeze) X(Sub) X(Unsqueeze) X(Upsample)

#define QK_DECLARE(name) void convert_##name(ImportContext& ctx);
QK_ONNX_CONVERTERS(QK_DECLARE)
#undef QK_DECLARE

namespace {

const ConverterRow kRows[] = {
#define QK_ROW(name) {#name, convert_##name},
    QK_ONNX_CONVERTERS(QK_ROW)
#undef QK_ROW
    // Same name, inputs and attributes as the graph op.
    {"AveragePool", convert_same},
    {"Conv", convert_same},
    {"ConvTranspose", convert_same},
    {"Erf", convert_same},
    {"Exp", convert_same},
    {"Flatten", convert_same},
    {"Gelu", convert_same},
    {"GlobalAveragePool", convert_same},
    {"GlobalMaxPool", convert_same},
    {"HardSigmoid", convert_same},
    {"HardSwish", convert_same},
    {"LeakyRelu", convert_same},
    {"MatMul", convert_same},
    {"Pow", convert_same},
    {"Relu", convert_same},
    {"Sigmoid", convert_same},
    {"Sqrt", convert_same},
    {"Tanh", convert_same},
    {"Transpose", convert_same},
};

}  // namespace

Converter find_converter(const std::string& op_type) {
  for (const ConverterRow& r : kRows)
    if (op_type == r.onnx_op) return r.convert;
  return nullptr;
}

const ConverterRow* all_converters(size_t* count) {
  *count = sizeof kRows / sizeof kRows[0];
  return kRows;
}

}  // namespace onnx
}  // namespace qk
