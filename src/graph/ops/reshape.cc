// SPDX-License-Identifier: Apache-2.0
// Reshape (ONNX opset 14): the same elements in row-major order under a new shape. ONNX passes the
// shape as a constant input; here it is the attribute `shape` (ints; the ONNX importer turns the
// constant input into it). shape[i] = 0 copies input dimension i (allowzero = 0, the default;
// allowzero = 1 makes 0 a literal size), one -1 is inferred from the element count.
// Symbolic dims: a 0 keeps the input's symbol; a -1 is computed when the input's symbols all
// reappear in the output (copied by 0s), is the symbol itself when exactly one is left and the
// known sizes match ({batch, 3, 4} -> {-1, 12} gives {batch, 12}), else a derived dim resolved at
// run time. Element counts are checked whenever they are known.
// int8: keeps the input's qparams (the codes are the same bytes), NCHW order for rank 4.
// Any dtype runs in float mode (shape arithmetic on s64 tensors).
// dim_symbols (string, optional; the ONNX importer's, for shapes computed from symbolic dims):
// ';'-separated, one entry per shape entry; a non-empty entry sizes that dim by a dim expression
// over the graph inputs' symbols ("seq", "(batch*4)"), resolved when the model runs, and its shape
// entry must be 1.
#include <algorithm>

#include "graph/ops/data_movement.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace movement;

const AttrSpec kAttrs[] = {{"shape", AttrType::kInts, true},
                           {"allowzero", AttrType::kInt, false},
                           {"dim_symbols", AttrType::kString, false}};

// dim_symbols: one entry per shape entry, ';'-separated; a non-empty entry is a dim expression
// (a graph input's symbolic dim, or "(" a op b ")") that sizes that output dim.
std::vector<std::string> dim_symbols(const Node& n, size_t count) {
  const std::string s = n.attrs.get_string("dim_symbols", "");
  if (!n.attrs.has("dim_symbols")) return std::vector<std::string>(count);
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == ';')
      out.emplace_back();
    else
      out.back() += c;
  }
  QK_FAIL_IF(out.size() != count, kInvalidArgument, "dim_symbols has %zu entries for a shape of %zu", out.size(),
             count);
  return out;
}

void infer(InferContext& ctx) {
  require_movable(ctx, 0);
  const Dims& in = ctx.inputs[0].dims;
  const std::vector<int64_t> shape = ctx.node.attrs.get_ints("shape");
  const int64_t allowzero = ctx.node.attrs.get_int("allowzero", 0);
  QK_FAIL_IF(allowzero != 0 && allowzero != 1, kInvalidArgument, "allowzero must be 0 or 1 (got %lld)",
             (long long)allowzero);
  QK_FAIL_IF(shape.size() > kMaxGraphRank, kInvalidArgument, "shape %s has more than %zu dimensions",
             ints_string(shape).c_str(), kMaxGraphRank);
  Dims out(shape.size());
  const size_t none = shape.size();
  size_t infer_at = none;
  bool literal_zero = false;
  const std::vector<std::string> syms = dim_symbols(ctx.node, shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    const int64_t s = shape[i];
    if (!syms[i].empty()) {
      QK_FAIL_IF(s != 1, kInvalidArgument, "shape %s: entry %zu is sized by '%s' and must be 1",
                 ints_string(shape).c_str(), i, syms[i].c_str());
      if (!ctx.symbols) {
        out[i] = Dim::sym(syms[i]);
      } else {
        const int64_t v = evaluate_dim_expression(syms[i], *ctx.symbols);
        QK_FAIL_IF(v < 0 || v >= kMaxDimSize, kInvalidArgument, "'%s' is %lld, not a size", syms[i].c_str(),
                   (long long)v);
        out[i] = Dim::of(v);
      }
    } else if (s == -1) {
      QK_FAIL_IF(infer_at != none, kInvalidArgument, "shape %s has more than one -1", ints_string(shape).c_str());
      infer_at = i;
    } else if (s == 0 && allowzero == 0) {
      QK_FAIL_IF(i >= in.size(), kInvalidArgument,
                 "shape %s: the 0 at %zu copies input dimension %zu, but the "
                 "input %s has rank %zu",
                 ints_string(shape).c_str(), i, i, dims_string(in).c_str(), in.size());
      out[i] = in[i];
    } else {
      QK_FAIL_IF(s < 0 || s >= kMaxDimSize, kInvalidArgument,
                 "shape %s: %lld at %zu is not a size (-1 infers a dimension, "
                 "0 copies one)",
                 ints_string(shape).c_str(), (long long)s, i);
      literal_zero = literal_zero || s == 0;
      out[i] = Dim::of(s);
    }
  }
  QK_FAIL_IF(literal_zero && infer_at != none, kInvalidArgument, "shape %s: with allowzero=1, 0 and -1 cannot be mixed",
             ints_string(shape).c_str());
  // Known factors on both sides; the input's symbols the output does not copy.
  uint64_t known_in = 1, known_out = 1;
  std::vector<std::string> symbols;
  for (const Dim& d : in) {
    if (d.known())
      known_in *= uint64_t(d.size);
    else
      symbols.push_back(d.symbol);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (i == infer_at) continue;
    if (out[i].known()) {
      known_out = mul_capped(known_out, uint64_t(out[i].size));
    } else {
      auto it = std::find(symbols.begin(), symbols.end(), out[i].symbol);
      if (it != symbols.end()) symbols.erase(it);
    }
  }
  if (symbols.empty()) {
    if (infer_at != none) {
      QK_FAIL_IF(known_out == 0, kInvalidArgument, "shape %s: the -1 cannot be inferred next to a 0-sized dimension",
                 ints_string(shape).c_str());
      QK_FAIL_IF(known_in % known_out != 0, kInvalidArgument,
                 "cannot reshape %s (%llu elements) to %s: %llu is not a "
                 "multiple of %llu",
                 dims_string(in).c_str(), (unsigned long long)known_in, ints_string(shape).c_str(),
                 (unsigned long long)known_in, (unsigned long long)known_out);
      out[infer_at] = Dim::of(int64_t(known_in / known_out));
    } else {
      QK_FAIL_IF(known_in != known_out, kInvalidArgument, "cannot reshape %s (%llu elements) to %s (%llu elements)",
                 dims_string(in).c_str(), (unsigned long long)known_in, dims_string(out).c_str(),
                 (unsigned long long)known_out);
    }
  } else if (infer_at != none) {
    out[infer_at] = symbols.size() == 1 && known_in == known_out && known_out != 0
                        ? Dim::sym(symbols[0])
                        : derived_dim(ctx.node, 0, infer_at, false, 0);
  }
  ctx.outputs[0].dtype = ctx.inputs[0].dtype;
  ctx.outputs[0].dims = std::move(out);
}

}  // namespace

extern const OpDef kReshape = {"Reshape", 1, 1, 1, 1, kAttrs, 3, infer, copy_bytes, QuantRule::kKeepsInputQParams,
                               nullptr, int8_unless_constant, 0, nullptr, nullptr, copy_bytes, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
