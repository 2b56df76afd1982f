// SPDX-License-Identifier: Apache-2.0
// Add / Sub / Mul / Div. On shape values (a symbolic batch times the head count, a sequence
// length divided by a stride: what attention exports compute before a Reshape), element-wise on
// the dims: known dims give numbers (ONNX's integer Div truncates), a symbolic one gives a derived
// symbol named by the expression, which a Reshape then infers as its -1. Otherwise the graph op
// of the same name (folded when every input is constant).
#include <algorithm>
#include <string>

#include "onnx/importer.h"

namespace qk {
namespace onnx {

namespace {

using graph::Dim;

// Input i as dims: a shape value, or an integer constant (scalar or 1-D).
bool as_dims(ImportContext& ctx, size_t i, ShapeValue* out) {
  if (const ShapeValue* s = ctx.shape_value(i)) {
    *out = *s;
    return true;
  }
  const graph::Tensor* c = ctx.constant(i);
  if (!c || (c->dtype != DType::kS64 && c->dtype != DType::kS32) || c->shape.size() > 1) return false;
  out->scalar = c->shape.empty();
  out->dims.clear();
  for (int64_t v : ctx.const_ints(i, "operand")) out->dims.push_back(Dim::of(v));
  return true;
}

void arithmetic(ImportContext& ctx, char op) {
  ShapeValue a, b;
  if ((ctx.shape_value(0) || ctx.shape_value(1)) && as_dims(ctx, 0, &a) && as_dims(ctx, 1, &b)) {
    const size_t n = std::max(a.dims.size(), b.dims.size());
    QK_FAIL_IF((a.dims.size() != n && a.dims.size() != 1) || (b.dims.size() != n && b.dims.size() != 1),
               kInvalidArgument, "shapes of %zu and %zu dims do not broadcast", a.dims.size(), b.dims.size());
    ShapeValue out;
    out.scalar = a.scalar && b.scalar;
    for (size_t i = 0; i < n; ++i) {
      const Dim& x = a.dims[a.dims.size() == 1 ? 0 : i];
      const Dim& y = b.dims[b.dims.size() == 1 ? 0 : i];
      if (x.known() && y.known()) {
        int64_t v = 0;
        switch (op) {
          case '+': v = x.size + y.size; break;
          case '-': v = x.size - y.size; break;
          case '*': v = x.size * y.size; break;
          default:
            QK_FAIL_IF(y.size == 0, kInvalidArgument, "division by zero in shape arithmetic");
            v = x.size / y.size;
        }
        out.dims.push_back(Dim::of(v));
      } else {
        auto text = [](const Dim& d) { return d.known() ? std::to_string(d.size) : d.symbol; };
        out.dims.push_back(Dim::sym("(" + text(x) + op + text(y) + ")"));
      }
    }
    ctx.set_shape_value(0, std::move(out));
    return;
  }
  convert_same(ctx);
}

}  // namespace

void convert_Add(ImportContext& ctx) { arithmetic(ctx, '+'); }
void convert_Sub(ImportContext& ctx) { arithmetic(ctx, '-'); }
void convert_Mul(ImportContext& ctx) { arithmetic(ctx, '*'); }
void convert_Div(ImportContext& ctx) { arithmetic(ctx, '/'); }

}  // namespace onnx
}  // namespace qk
