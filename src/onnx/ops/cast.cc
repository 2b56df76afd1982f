// SPDX-License-Identifier: Apache-2.0
// Cast: of a constant, converted now (float <-> integer types, bool); of a shape value, the
// same value (shapes are integers whatever their type); of a computed f32 tensor to float, the
// identity. A Cast of a computed tensor to another type is not supported.
#include <cmath>

#include "onnx/importer.h"

namespace qk {
namespace onnx {

void convert_Cast(ImportContext& ctx) {
  const int64_t to = ctx.attr_int("to", 0);
  const DType dt = dtype_from_onnx(int32_t(to));
  if (const ShapeValue* s = ctx.shape_value(0)) {
    ctx.set_shape_value(0, *s);
    return;
  }
  if (const graph::Tensor* c = ctx.constant(0)) {
    graph::Tensor t = graph::Tensor::allocate(dt, c->shape);
    for (uint64_t i = 0, n = c->count(); i < n; ++i) {
      double v = 0;
      switch (c->dtype) {
        case DType::kF32: v = c->data<float>()[i]; break;
        case DType::kS64: v = double(c->data<int64_t>()[i]); break;
        case DType::kS32: v = c->data<int32_t>()[i]; break;
        case DType::kS8: v = c->data<int8_t>()[i]; break;
        case DType::kU8: case DType::kBool: v = c->data<uint8_t>()[i]; break;
        default: fail(Status::kUnsupported, "Cast from %s", dtype_name(c->dtype));
      }
      QK_FAIL_IF(dt != DType::kF32 && !std::isfinite(v), kInvalidArgument, "Cast of a non-finite value to an integer");
      // Out of the target's range a C++ cast is undefined: refuse (ONNX leaves it undefined too).
      const double t_lo = dt == DType::kS64 ? -9.2233720368547758e18 : dt == DType::kS32 ? -2147483648.0
                          : dt == DType::kS8 ? -128.0 : 0.0;
      const double t_hi = dt == DType::kS64 ? 9.2233720368547758e18 : dt == DType::kS32 ? 2147483647.0
                          : dt == DType::kS8 ? 127.0 : dt == DType::kU8 ? 255.0 : 1.0;
      QK_FAIL_IF(dt != DType::kF32 && dt != DType::kBool && (std::trunc(v) < t_lo || std::trunc(v) >= t_hi + 1.0),
                 kInvalidArgument, "Cast of %g out of the range of %s", v, dtype_name(dt));
      switch (dt) {
        case DType::kF32: t.data<float>()[i] = float(v); break;
        case DType::kS64: t.data<int64_t>()[i] = int64_t(std::trunc(v)); break;
        case DType::kS32: t.data<int32_t>()[i] = int32_t(std::trunc(v)); break;
        case DType::kS8: t.data<int8_t>()[i] = int8_t(std::trunc(v)); break;
        case DType::kU8: t.data<uint8_t>()[i] = uint8_t(std::trunc(v)); break;
        case DType::kBool: t.data<uint8_t>()[i] = v != 0; break;
        default: fail(Status::kUnsupported, "Cast to %s", dtype_name(dt));
      }
    }
    ctx.set_constant(0, std::move(t));
    return;
  }
  const graph::TensorType* t = ctx.type(0);
  QK_FAIL_IF(!t || t->dtype != dt, kUnsupported, "Cast of a computed %s tensor to %s", t ? dtype_name(t->dtype) : "?",
             dtype_name(dt));
  ctx.alias(0, 0);
}

}  // namespace onnx
}  // namespace qk
