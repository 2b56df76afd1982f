// SPDX-License-Identifier: Apache-2.0
// Pad (ONNX opset 13) of an f32 tensor. ONNX passes pads and the constant value as inputs; here
// they are attributes (the ONNX importer turns the constant inputs into them): pads (ints, 2 *
// rank, ONNX order: all begins, then all ends), mode "constant" (default) | "reflect" | "edge",
// value (float, default 0) for constant mode. Negative pads crop (constant mode only). reflect
// mirrors without repeating the border (pads must be < the dim), edge repeats it.
// Symbolic dims: a dim whose pads sum to 0 keeps its symbol, others are derived dims.
// int8: keeps the input's qparams — padding only copies codes, and constant mode writes the pad
// value quantized with those qparams (saturated if it lies outside their range). NCHW codes.
#include <string>

#include "graph/ops/data_movement.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace movement;

const AttrSpec kAttrs[] = {
    {"pads", AttrType::kInts, true}, {"mode", AttrType::kString, false}, {"value", AttrType::kFloat, false}};

enum class Mode { kConstant, kReflect, kEdge };

Mode mode_of(const Node& node) {
  const std::string m = node.attrs.get_string("mode", "constant");
  if (m == "constant") return Mode::kConstant;
  if (m == "reflect") return Mode::kReflect;
  if (m == "edge") return Mode::kEdge;
  fail(Status::kInvalidArgument, "mode '%s' is not one of constant, reflect, edge", m.c_str());
}

// Checks pads against the dims (symbolic ones are checked when the model runs).
void check_pads(const std::vector<int64_t>& pads, const Dims& in, Mode mode) {
  const size_t r = in.size();
  QK_FAIL_IF(pads.size() != 2 * r, kInvalidArgument, "pads %s must have 2 * rank = %zu elements",
             ints_string(pads).c_str(), 2 * r);
  for (size_t k = 0; k < r; ++k) {
    const int64_t b = pads[k], e = pads[k + r];
    QK_FAIL_IF(b <= -kMaxDimSize || b >= kMaxDimSize || e <= -kMaxDimSize || e >= kMaxDimSize, kInvalidArgument,
               "pads %s: out of range", ints_string(pads).c_str());
    QK_FAIL_IF(mode != Mode::kConstant && (b < 0 || e < 0), kInvalidArgument,
               "pads %s: negative pads (cropping) need mode constant", ints_string(pads).c_str());
    if (!in[k].known()) continue;
    const int64_t d = in[k].size;
    QK_FAIL_IF(d + b + e < 0, kInvalidArgument, "pads %s make dimension %zu (%lld) negative", ints_string(pads).c_str(),
               k, (long long)d);
    QK_FAIL_IF(mode == Mode::kReflect && (b >= d || e >= d) && (b > 0 || e > 0), kInvalidArgument,
               "reflect pads %s must be smaller than dimension %zu (%lld)", ints_string(pads).c_str(), k, (long long)d);
    QK_FAIL_IF(mode == Mode::kEdge && d == 0 && (b > 0 || e > 0), kInvalidArgument,
               "edge pads of the empty dimension %zu", k);
  }
}

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  const Dims& in = ctx.inputs[0].dims;
  const Mode mode = mode_of(ctx.node);
  const std::vector<int64_t> pads = ctx.node.attrs.get_ints("pads");
  check_pads(pads, in, mode);
  const size_t r = in.size();
  Dims out = in;
  for (size_t k = 0; k < r; ++k) {
    const int64_t grow = pads[k] + pads[k + r];
    if (in[k].known())
      out[k] = Dim::of(in[k].size + grow);
    else if (grow != 0)
      out[k] = derived_dim(ctx.node, 0, k, false, 0);
  }
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = std::move(out);
}

// Float and int8: per axis, output index o reads input index o - begin, mirrored (reflect),
// clamped (edge) or padded (constant: offset -1) when that falls outside [0, dim).
void pad(RunContext& ctx, const void* fill) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  QK_FAIL_IF(x.layout != Layout::kNCHW, kInternal, "Pad reads NCHW codes");
  const Mode mode = mode_of(ctx.node);
  const std::vector<int64_t> pads = ctx.node.attrs.get_ints("pads");
  const std::vector<int64_t> stride = strides_of(x.shape);
  std::vector<std::vector<int64_t>> offsets(x.shape.size());
  for (size_t k = 0; k < x.shape.size(); ++k) {
    const int64_t d = x.shape[k];
    for (int64_t o = 0; o < y.shape[k]; ++o) {
      int64_t i = o - pads[k];
      if (i < 0 || i >= d) {
        if (mode == Mode::kConstant)
          i = -1;
        else if (mode == Mode::kEdge)
          i = i < 0 ? 0 : d - 1;
        else
          i = i < 0 ? -i : 2 * (d - 1) - i;  // pads < d keeps it in range
      }
      offsets[k].push_back(i < 0 ? -1 : i * stride[k]);
    }
  }
  gather_offsets(x.storage.get(), y.storage.get(), element_size(x.dtype), y.shape, offsets, fill);
}

void run_float(RunContext& ctx) {
  const float value = ctx.node.attrs.get_float("value", 0.0f);
  pad(ctx, &value);
}

void run_int8(RunContext& ctx) {
  const int32_t code = quantize_value(*ctx.in_qp[0], ctx.node.attrs.get_float("value", 0.0f));
  const uint8_t byte = uint8_t(code);  // s8 codes: the two's complement byte
  pad(ctx, &byte);
}

}  // namespace

extern const OpDef kPad = {"Pad", 1, 1, 1, 1, kAttrs, 3, infer, run_float, QuantRule::kKeepsInputQParams, nullptr,
                           movement::int8_unless_constant, 0, nullptr, nullptr, run_int8, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
