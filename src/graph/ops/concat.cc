// SPDX-License-Identifier: Apache-2.0
// Concat (ONNX): 1..64 inputs of one dtype and rank joined along `axis` (required, negative counts
// from the end); every other dimension must match (a symbolic one against a size is checked when
// the model runs). The output's axis is the sum, or a derived dim when an input's axis is symbolic.
// int8: the output's qparams are observed (the inputs' ranges differ), and each input is
// requantized to them as PyTorch's quantized cat and the legacy model (src/model/model.cc,
// Op::kConcat) do: quantize(out_qp, dequantize(in_qp, code)) with the library's own quantize /
// dequantize. A code has 256 values, so that is a 256-byte table per input built once at convert
// time (a plain copy when the table is the identity, i.e. the input already has the output's
// qparams).
// Layout: channel concatenation of rank-4 codes (axis 1) reads either storage — in NHWC the
// channels are the last physical axis — anything else indexes NCHW.
#include <array>

#include "core/quantize.h"
#include "graph/ops/data_movement.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace movement;

const AttrSpec kAttrs[] = {{"axis", AttrType::kInt, true}};

void infer(InferContext& ctx) {
  const size_t n = ctx.inputs.size();
  for (size_t i = 0; i < n; ++i) {
    require_movable(ctx, i);
    QK_FAIL_IF(ctx.inputs[i].dtype != ctx.inputs[0].dtype, kInvalidArgument, "input %zu is %s, input 0 is %s", i,
               dtype_name(ctx.inputs[i].dtype), dtype_name(ctx.inputs[0].dtype));
  }
  const Dims& d0 = ctx.inputs[0].dims;
  QK_FAIL_IF(d0.empty(), kInvalidArgument, "inputs must have rank >= 1");
  const size_t axis = normalize_axis(ctx.node.attrs.get_int("axis", 0), d0.size(), "axis");
  Dims out = d0;
  uint64_t sum = 0;
  bool known = true;
  for (size_t i = 0; i < n; ++i) {
    const Dims& d = ctx.inputs[i].dims;
    QK_FAIL_IF(d.size() != d0.size(), kInvalidArgument, "input %zu %s has rank %zu, input 0 %s has rank %zu", i,
               dims_string(d).c_str(), d.size(), dims_string(d0).c_str(), d0.size());
    for (size_t k = 0; k < d.size(); ++k) {
      if (k == axis) continue;
      QK_FAIL_IF(d[k].known() && out[k].known() && d[k].size != out[k].size, kInvalidArgument,
                 "input %zu %s and input 0 %s differ in dimension %zu (only "
                 "axis %zu may differ)",
                 i, dims_string(d).c_str(), dims_string(d0).c_str(), k, axis);
      if (!out[k].known() && d[k].known()) out[k] = d[k];
    }
    if (d[axis].known())
      sum += uint64_t(d[axis].size);
    else
      known = false;
  }
  out[axis] = n == 1 ? d0[axis] : derived_dim(ctx.node, 0, axis, known, int64_t(sum));
  ctx.outputs[0].dtype = ctx.inputs[0].dtype;
  ctx.outputs[0].dims = std::move(out);
}

// int8 state: per input, the 256-byte requantization table (raw code byte in -> out).
struct Prepared {
  std::vector<std::array<uint8_t, 256>> table;
  std::vector<bool> identity;
};

// Copies (or, with p, requantizes) the inputs block by block: `outer` rows, input i adding blocks
// of `block[i]` elements. NHWC codes (channel concat of rank 4): rows are the N*H*W pixels and
// blocks the channels; otherwise rows are the dims before the axis.
void join(RunContext& ctx, const Prepared* p) {
  Tensor& y = *ctx.out[0];
  const size_t esize = element_size(y.dtype);
  const size_t axis = normalize_axis(ctx.node.attrs.get_int("axis", 0), y.shape.size(), "axis");
  const bool nhwc = y.layout == Layout::kNHWC;
  uint64_t outer = 1, tail = 1;
  if (nhwc) {
    outer = uint64_t(y.shape[0] * y.shape[2] * y.shape[3]);
  } else {
    for (size_t k = 0; k < axis; ++k) outer *= uint64_t(y.shape[k]);
    for (size_t k = axis + 1; k < y.shape.size(); ++k) tail *= uint64_t(y.shape[k]);
  }
  std::vector<size_t> block;
  for (const Tensor* x : ctx.in) {
    QK_FAIL_IF(x->layout != y.layout, kInternal, "Concat inputs in mixed layouts");
    block.push_back(size_t(uint64_t(x->shape[axis]) * tail) * esize);
  }
  uint8_t* dst = y.data<uint8_t>();
  for (uint64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < ctx.in.size(); ++i) {
      const size_t b = block[i];
      const uint8_t* src = ctx.in[i]->data<uint8_t>() + o * b;
      if (!p || p->identity[i]) {
        if (b) std::memcpy(dst, src, b);
      } else {
        const uint8_t* t = p->table[i].data();
        for (size_t j = 0; j < b; ++j) dst[j] = t[src[j]];
      }
      dst += b;
    }
}

void run_float(RunContext& ctx) { join(ctx, nullptr); }

void run_int8(RunContext& ctx) { join(ctx, static_cast<const Prepared*>(ctx.prepared)); }

std::shared_ptr<const void> prepare(const PrepareContext& ctx) {
  auto p = std::make_shared<Prepared>();
  const QParams& out = *ctx.out_qp[0];
  uint8_t bytes[256];
  for (int b = 0; b < 256; ++b) bytes[b] = uint8_t(b);
  const int64_t n = 256;
  const Shape shape = Shape::from(&n, 1, "table");
  for (const QParams* in : ctx.in_qp) {
    QK_FAIL_IF(in == nullptr, kInternal, "Concat input without qparams");
    float values[256];
    std::array<uint8_t, 256> t;
    dequantize(*in, bytes, 256, shape,
               values);  // the byte b read as a code of in's dtype
    quantize(out, values, shape, t.data(), t.size());
    bool identity = in->dtype == out.dtype;
    for (int b = 0; b < 256 && identity; ++b) identity = t[size_t(b)] == b;
    p->table.push_back(t);
    p->identity.push_back(identity);
  }
  return p;
}

Int8Layout layout(const Node& node, const std::vector<TensorType>& in) {
  const size_t rank = in[0].dims.size();
  return rank == 4 && normalize_axis(node.attrs.get_int("axis", 0), rank, "axis") == 1 ? Int8Layout::kAny
                                                                                       : Int8Layout::kNCHW;
}

}  // namespace

extern const OpDef kConcat = {"Concat", 1, 64, 1, 1, kAttrs, 1, infer, run_float, QuantRule::kObservedOutput, nullptr,
                              int8_always, 0, layout, prepare, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
