// SPDX-License-Identifier: Apache-2.0
// Constant: its value (a tensor, or value_float(s) / value_int(s)) becomes an import-time
// constant; it enters the graph only if a graph node reads it.
#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Constant(ImportContext& ctx) {
  using graph::Tensor;
  if (const Onnx__TensorProto* t = ctx.attr_tensor("value")) {
    ctx.set_constant(0, tensor_from_proto(*t, ctx.external()));
  } else if (ctx.attr("value_float")) {
    Tensor t = Tensor::allocate(DType::kF32, {});
    t.data<float>()[0] = ctx.attr_float("value_float", 0.0f);
    ctx.set_constant(0, std::move(t));
  } else if (ctx.attr("value_floats")) {
    const std::vector<float> v = ctx.attr_floats("value_floats");
    ctx.set_constant(0, Tensor::copy_of(DType::kF32, {int64_t(v.size())}, v.data(), v.size() * sizeof(float)));
  } else if (ctx.attr("value_int")) {
    Tensor t = Tensor::allocate(DType::kS64, {});
    t.data<int64_t>()[0] = ctx.attr_int("value_int", 0);
    ctx.set_constant(0, std::move(t));
  } else if (ctx.attr("value_ints")) {
    const std::vector<int64_t> v = ctx.attr_ints("value_ints");
    ctx.set_constant(0, Tensor::copy_of(DType::kS64, {int64_t(v.size())}, v.data(), v.size() * sizeof(int64_t)));
  } else {
    fail(Status::kUnsupported, "a Constant must have value, value_float(s) or value_int(s) (strings and sparse "
                               "tensors are not supported)");
  }
}

}  // namespace onnx
}  // namespace qk
