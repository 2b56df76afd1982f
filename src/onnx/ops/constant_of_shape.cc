// SPDX-License-Identifier: Apache-2.0
// ConstantOfShape: a constant of the (constant) shape filled with `value` (default float 0).
// Bounded: a folded constant larger than 2^26 elements is refused rather than allocated. Of a
// symbolic shape (a batch-sized initial state), zeros only: a "zeros" value for Slice and the
// recurrent ops, which read it as an absent initial state.
#include <cstring>

#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_ConstantOfShape(ImportContext& ctx) {
  graph::Tensor value = graph::Tensor::allocate(DType::kF32, {1});
  if (const Onnx__TensorProto* t = ctx.attr_tensor("value")) value = tensor_from_proto(*t, ctx.external());
  QK_FAIL_IF(value.count() != 1, kInvalidArgument, "value must have one element");
  if (const ShapeValue* s = ctx.shape_value(0)) {
    // Zeros of a symbolic shape: what exporters build as a recurrent layer's initial state.
    bool zero = true;
    for (size_t i = 0; i < value.bytes; ++i) zero = zero && value.storage.get()[i] == 0;
    QK_FAIL_IF(!zero || s->scalar, kUnsupported, "ConstantOfShape of a symbolic shape %s (only zeros are taken)",
               graph::dims_string(s->dims).c_str());
    ctx.set_zeros(0, s->dims);
    return;
  }
  const std::vector<int64_t> shape = ctx.const_ints(0, "shape");
  uint64_t n = 1;
  for (int64_t d : shape) {
    QK_FAIL_IF(d < 0, kInvalidArgument, "negative dimension %lld", (long long)d);
    n *= uint64_t(d);
    QK_FAIL_IF(n > (uint64_t(1) << 26), kUnsupported, "a constant of more than 2^26 elements");
  }
  graph::Tensor out = graph::Tensor::allocate(value.dtype, shape);
  const size_t es = value.bytes;
  for (uint64_t i = 0; i < n; ++i) std::memcpy(out.storage.get() + i * es, value.storage.get(), es);
  ctx.set_constant(0, std::move(out));
}

}  // namespace onnx
}  // namespace qk
