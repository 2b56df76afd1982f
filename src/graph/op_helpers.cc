// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the op files (see graph/op.h).
#include <cmath>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "core/quantize.h"
#include "graph/op.h"

namespace qk {
namespace graph {

Dims broadcast_dims(const Dims& a, const Dims& b) {
  const size_t rank = std::max(a.size(), b.size());
  Dims out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const Dim one = Dim::of(1);
    const Dim& x = i < rank - a.size() ? one : a[i - (rank - a.size())];
    const Dim& y = i < rank - b.size() ? one : b[i - (rank - b.size())];
    if (x == y) {
      out[i] = x;
    } else if (x.known() && x.size == 1) {
      out[i] = y;
    } else if (y.known() && y.size == 1) {
      out[i] = x;
    } else if (!x.known() || !y.known()) {
      // A symbol against a size other than 1, or two symbols: only the run can tell. Keep the
      // known size (the run checks the symbol against it).
      out[i] = x.known() ? x : y;
    } else {
      fail(Status::kInvalidArgument, "shapes %s and %s do not broadcast (dimension %zu: %lld vs %lld)",
           dims_string(a).c_str(), dims_string(b).c_str(), i, (long long)x.size, (long long)y.size);
    }
  }
  return out;
}

size_t normalize_axis(int64_t axis, size_t rank, const char* what) {
  const int64_t r = int64_t(rank);
  QK_FAIL_IF(axis < -r || axis >= r, kInvalidArgument, "%s %lld is outside [-%lld, %lld)", what, (long long)axis,
             (long long)r, (long long)r);
  return size_t(axis < 0 ? axis + r : axis);
}

void require_dtype(const InferContext& ctx, size_t i, DType dtype) {
  QK_FAIL_IF(i >= ctx.inputs.size() || !ctx.present[i], kInvalidArgument, "input %zu is missing", i);
  QK_FAIL_IF(ctx.inputs[i].dtype != dtype, kInvalidArgument, "input %zu is %s, expected %s", i,
             dtype_name(ctx.inputs[i].dtype), dtype_name(dtype));
}

void require_rank(const InferContext& ctx, size_t i, size_t rank) {
  QK_FAIL_IF(i >= ctx.inputs.size() || !ctx.present[i], kInvalidArgument, "input %zu is missing", i);
  QK_FAIL_IF(ctx.inputs[i].dims.size() != rank, kInvalidArgument, "input %zu has rank %zu %s, expected rank %zu", i,
             ctx.inputs[i].dims.size(), dims_string(ctx.inputs[i].dims).c_str(), rank);
}

const Tensor& require_constant(const InferContext& ctx, size_t i, const char* what) {
  QK_FAIL_IF(i >= ctx.inputs.size() || !ctx.present[i], kInvalidArgument, "%s (input %zu) is missing", what, i);
  QK_FAIL_IF(ctx.constants[i] == nullptr, kInvalidArgument, "%s (input %zu) must be a constant", what, i);
  return *ctx.constants[i];
}

Dim derived_dim(const Node& node, size_t output, size_t axis, bool known, int64_t size) {
  if (known) return Dim::of(size);
  return Dim::sym(node.name + ":" + std::to_string(output) + ":" + std::to_string(axis));
}

void infer_same(InferContext& ctx) {
  QK_FAIL_IF(!ctx.present[0], kInvalidArgument, "input 0 is missing");
  ctx.outputs[0] = ctx.inputs[0];
}

void infer_numeric_binary(InferContext& ctx) {
  for (size_t i = 0; i < 2; ++i) QK_FAIL_IF(!ctx.present[i], kInvalidArgument, "input %zu is missing", i);
  const DType t = ctx.inputs[0].dtype;
  QK_FAIL_IF(t != DType::kF32 && t != DType::kS32 && t != DType::kS64, kInvalidArgument,
             "input 0 is %s, expected f32, s32 or s64", dtype_name(t));
  require_dtype(ctx, 1, t);
  ctx.outputs[0].dtype = t;
  ctx.outputs[0].dims = broadcast_dims(ctx.inputs[0].dims, ctx.inputs[1].dims);
}

void infer_global_pool(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  const Dims& x = ctx.inputs[0].dims;
  QK_FAIL_IF(x.size() < 3, kInvalidArgument, "input %s must be {N, C, spatial...} (rank >= 3)",
             dims_string(x).c_str());
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = x;
  for (size_t i = 2; i < x.size(); ++i) {
    QK_FAIL_IF(x[i].known() && x[i].size < 1, kInvalidArgument, "input %s has an empty spatial axis",
               dims_string(x).c_str());
    ctx.outputs[0].dims[i] = Dim::of(1);
  }
}

void run_unary_float(RunContext& ctx, float (*f)(float)) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  QK_FAIL_IF(x.dtype != DType::kF32, kInvalidArgument, "input is %s, expected f32", dtype_name(x.dtype));
  const float* px = x.data<float>();
  float* py = y.data<float>();
  for (uint64_t i = 0, n = x.count(); i < n; ++i) py[i] = f(px[i]);
}

namespace {
struct Table {
  uint8_t map[256];
};
}  // namespace

int32_t quantize_value(const QParams& qp, float x) {
  uint8_t code[1];
  const int64_t one = 1;
  const Shape s = Shape::from(&one, 1, "shape");
  quantize(qp, &x, s, code, 1);
  return qp.dtype == DType::kS8 ? int32_t(int8_t(code[0])) : int32_t(code[0]);
}

std::shared_ptr<const void> prepare_table(const PrepareContext& ctx, float (*f)(float)) {
  return prepare_table_with(ctx, std::function<float(float)>(f));
}

std::shared_ptr<const void> prepare_table_with(const PrepareContext& ctx, const std::function<float(float)>& f) {
  const QParams& in = *ctx.in_qp[0];
  const QParams& out = *ctx.out_qp[0];
  auto t = std::make_shared<Table>();
  for (int b = 0; b < 256; ++b) {
    // Byte b holds code b (u8) or int8_t(b) (s8).
    const int32_t code = in.dtype == DType::kS8 ? int32_t(int8_t(uint8_t(b))) : b;
    const int32_t q = quantize_value(out, f(dequantize_value(in, code)));
    t->map[b] = uint8_t(out.dtype == DType::kS8 ? uint8_t(int8_t(q)) : uint8_t(q));
  }
  return t;
}

void run_table(RunContext& ctx) {
  const Table& t = *static_cast<const Table*>(ctx.prepared);
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const uint8_t* px = x.data<uint8_t>();
  uint8_t* py = y.data<uint8_t>();
  for (size_t i = 0; i < x.bytes; ++i) py[i] = t.map[px[i]];
}

Int8Layout layout_any(const Node&, const std::vector<TensorType>&) { return Int8Layout::kAny; }
Int8Layout layout_nhwc(const Node&, const std::vector<TensorType>&) { return Int8Layout::kNHWC; }
bool int8_always(const Node&, const std::vector<TensorType>&, const std::vector<const Tensor*>&) { return true; }

namespace {

int64_t parse_dim_expression(const std::string& e, size_t* pos, const std::map<std::string, int64_t>& symbols,
                             int depth) {
  QK_FAIL_IF(depth > 64 || *pos >= e.size(), kInvalidArgument, "malformed dim expression '%s'", e.c_str());
  if (e[*pos] == '(') {
    ++*pos;
    const int64_t a = parse_dim_expression(e, pos, symbols, depth + 1);
    QK_FAIL_IF(*pos >= e.size(), kInvalidArgument, "malformed dim expression '%s'", e.c_str());
    const char op = e[(*pos)++];
    const int64_t b = parse_dim_expression(e, pos, symbols, depth + 1);
    QK_FAIL_IF(*pos >= e.size() || e[*pos] != ')', kInvalidArgument, "malformed dim expression '%s'", e.c_str());
    ++*pos;
    // Sizes are below 2^31 (inputs are checked), so products of two fit in int64.
    switch (op) {
      case '+': return a + b;
      case '-': return a - b;
      case '*': return a * b;
      case '/':
        QK_FAIL_IF(b == 0, kInvalidArgument, "dim expression '%s' divides by zero", e.c_str());
        return a / b;
      default: fail(Status::kInvalidArgument, "malformed dim expression '%s'", e.c_str());
    }
  }
  const size_t start = *pos;
  while (*pos < e.size() && std::strchr("()+-*/", e[*pos]) == nullptr) ++*pos;
  // A leading '-' of a negative literal.
  if (*pos == start && e[*pos] == '-') {
    ++*pos;
    while (*pos < e.size() && std::isdigit(static_cast<unsigned char>(e[*pos]))) ++*pos;
  }
  const std::string tok = e.substr(start, *pos - start);
  QK_FAIL_IF(tok.empty(), kInvalidArgument, "malformed dim expression '%s'", e.c_str());
  if (std::isdigit(static_cast<unsigned char>(tok[0])) || tok[0] == '-') {
    char* end = nullptr;
    const long long v = std::strtoll(tok.c_str(), &end, 10);
    QK_FAIL_IF(*end != '\0', kInvalidArgument, "malformed number '%s' in dim expression '%s'", tok.c_str(), e.c_str());
    return v;
  }
  auto it = symbols.find(tok);
  QK_FAIL_IF(it == symbols.end(), kInvalidArgument, "dim expression '%s': no input has a dimension named '%s'",
             e.c_str(), tok.c_str());
  return it->second;
}

// The per-tensor form of a weight scheme (a rank-1 weight is a single channel).
QScheme per_tensor_form(QScheme s) {
  if (s == QScheme::kPerChannelSymmetric) return QScheme::kPerTensorSymmetric;
  if (s == QScheme::kPerChannelAffine) return QScheme::kPerTensorAffine;
  return s;
}

}  // namespace

int64_t evaluate_dim_expression(const std::string& expr, const std::map<std::string, int64_t>& symbols) {
  QK_FAIL_IF(expr.size() > 4096, kInvalidArgument, "dim expression of %zu bytes", expr.size());
  size_t pos = 0;
  const int64_t v = parse_dim_expression(expr, &pos, symbols, 0);
  QK_FAIL_IF(pos != expr.size(), kInvalidArgument, "malformed dim expression '%s'", expr.c_str());
  return v;
}

QParams quantize_weight(const Tensor& w, QScheme scheme, int axis, Tensor* codes) {
  QK_FAIL_IF(w.dtype != DType::kF32 || w.shape.empty() || w.count() == 0, kInvalidArgument,
             "a weight must be a non-empty f32 tensor of rank >= 1 (got %s %s)", dtype_name(w.dtype),
             shape_string(w.shape).c_str());
  QuantSpec spec = QuantSpec::make(DType::kS8, w.shape.size() == 1 ? per_tensor_form(scheme) : scheme);
  const size_t channel_axis = normalize_axis(axis, w.shape.size(), "weight axis");
  spec.axis = is_per_tensor(spec.scheme) ? 0 : int32_t(channel_axis);  // per tensor: axis 0 by convention
  const Shape s = Shape::from(w.shape.data(), w.shape.size(), "weight");
  const QParams qp = qparams_from_tensor(spec, w.data<float>(), s, nullptr);
  *codes = Tensor::allocate(DType::kS8, w.shape);
  quantize(qp, w.data<float>(), s, codes->storage.get(), codes->bytes);
  return qp;
}

WeightCodes weight_codes(const PrepareContext& ctx) {
  const size_t i = ctx.node.op->weight_input;
  QK_FAIL_IF(i == 0 || i >= ctx.constants.size() || !ctx.constants[i], kInvalidArgument, "the weight is not a constant");
  const Tensor& w = *ctx.constants[i];
  const QParams* qp = i < ctx.in_qp.size() ? ctx.in_qp[i] : nullptr;
  QK_FAIL_IF(w.dtype != DType::kS8 || !qp || qp->dtype != DType::kS8, kInvalidArgument,
             "the weight is not s8 codes with qparams (the weight pass did not run)");
  QK_FAIL_IF(w.shape.empty() || w.count() == 0, kInvalidArgument, "the weight is empty");
  const Shape s = Shape::from(w.shape.data(), w.shape.size(), "weight");
  if (!is_per_tensor(qp->scheme)) {
    QK_FAIL_IF(!is_per_channel(qp->scheme) || qp->scheme == QScheme::kPerChannelAffineFloatQParams, kInvalidArgument,
               "weight qparams must be per tensor or per channel");
    QK_FAIL_IF(qp->axis != int32_t(normalize_axis(ctx.node.op->weight_axis, w.shape.size(), "weight axis")),
               kInvalidArgument, "weight qparams are per channel along axis %d, the op quantizes axis %d", qp->axis,
               int(ctx.node.op->weight_axis));
  }
  QK_FAIL_IF(qp->count() != qp->expected_count(s) || qp->zero_points.size() != qp->count(), kInvalidArgument,
             "the weight %s has %zu scales, expected %llu", shape_string(w.shape).c_str(), qp->count(),
             (unsigned long long)qp->expected_count(s));
  qp->validate();
  WeightCodes c;
  c.codes = w.data<int8_t>();
  c.shape = w.shape;
  c.qp = *qp;
  return c;
}

}  // namespace graph
}  // namespace qk
