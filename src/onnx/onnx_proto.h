// SPDX-License-Identifier: Apache-2.0
// ONNX protobufs through protobuf-c (code generated from Debian's onnx.proto at build time), with
// the guards a hostile file needs before and around the library's unpack:
//   - nesting: protobuf-c unpacks nested messages recursively, so the bytes are first walked
//     with an explicit bound on message depth (the generated descriptors say which fields are
//     messages); a file nested deeper than kMaxNesting is rejected without recursion;
//   - memory: every allocation of the unpack is charged to a budget proportional to the input
//     size (a claimed size allocates nothing: protobuf-c allocates what the bytes hold);
//   - tensors: dims, element counts and data lengths are checked against each other before a
//     QuantKit tensor is made, and external data only from files inside the model's folder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "graph/tensor.h"
#include "onnx.pb-c.h"

namespace qk {
namespace onnx {

constexpr int kMaxNesting = 64;

struct ModelDeleter {
  void operator()(Onnx__ModelProto* m) const;
};
using ModelPtr = std::unique_ptr<Onnx__ModelProto, ModelDeleter>;
struct TensorDeleter {
  void operator()(Onnx__TensorProto* t) const;
};
using TensorProtoPtr = std::unique_ptr<Onnx__TensorProto, TensorDeleter>;

// Unpacks a ModelProto (kCorrupt: not a valid protobuf, nested too deep, over the budget).
ModelPtr parse_model(const uint8_t* data, size_t size);
// Unpacks a lone TensorProto (the backend test suite's input_0.pb files).
TensorProtoPtr parse_tensor(const uint8_t* data, size_t size);

// Where external tensor data may come from: files inside `folder` (empty: external data is
// rejected, e.g. a model loaded from memory).
struct ExternalData {
  std::string folder;
};

// A QuantKit tensor from an ONNX TensorProto: float, double (to f32), float16, int8, uint8,
// int32, int64 and bool, from raw_data, the typed fields or external data. kCorrupt for
// inconsistent sizes, kUnsupported for other element types.
graph::Tensor tensor_from_proto(const Onnx__TensorProto& t, const ExternalData& ext);

// An enum field of a message as the integer the file holds: protobuf-c stores whatever int32 the
// bytes say, and reading a value outside the enum through the enum type is undefined behaviour.
template <typename Enum>
int32_t enum_value(const Enum& e) {
  static_assert(sizeof(Enum) == sizeof(int32_t), "protobuf-c enums are 32-bit");
  int32_t v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

// The graph dtype of an ONNX element type (kUnsupported otherwise).
DType dtype_from_onnx(int32_t elem_type);

}  // namespace onnx
}  // namespace qk
