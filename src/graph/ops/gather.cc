// SPDX-License-Identifier: Apache-2.0
// Gather (ONNX opset 13): out[i..., j..., k...] = data[i..., indices[j...], k...] along `axis`
// (default 0, negative counts from the end); the output shape is data[:axis] + indices.shape +
// data[axis+1:]. The indices (input 1) must be a CONSTANT s64 or s32 tensor (an embedding table
// lookup with fixed ids, the shape arithmetic of exported models); negative indices count from the
// end and every index is bounds-checked when the node is added (when the axis is symbolic: when the
// model runs).
// int8: keeps the data's qparams (codes moved as bytes, NCHW order for rank 4). The indices are
// marked a float-side input (float_inputs bit 1): the convert pass neither quantizes them nor
// rejects the node for their s64 dtype, it only requires them constant, which they are.
#include "graph/ops/data_movement.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace movement;

const AttrSpec kAttrs[] = {{"axis", AttrType::kInt, false}};

int64_t index_at(const Tensor& t, uint64_t i) {
  return t.dtype == DType::kS64 ? t.data<int64_t>()[i] : int64_t(t.data<int32_t>()[i]);
}

// Every index in [-dim, dim).
void check_indices(const Tensor& idx, int64_t dim) {
  for (uint64_t i = 0, n = idx.count(); i < n; ++i) {
    const int64_t v = index_at(idx, i);
    QK_FAIL_IF(v < -dim || v >= dim, kInvalidArgument, "indices[%llu] = %lld is outside [-%lld, %lld)",
               (unsigned long long)i, (long long)v, (long long)dim, (long long)dim);
  }
}

void infer(InferContext& ctx) {
  require_movable(ctx, 0);
  const Tensor& idx = require_constant(ctx, 1, "indices");
  QK_FAIL_IF(idx.dtype != DType::kS64 && idx.dtype != DType::kS32, kInvalidArgument,
             "indices must be s64 or s32 (got %s)", dtype_name(idx.dtype));
  const Dims& in = ctx.inputs[0].dims;
  QK_FAIL_IF(in.empty(), kInvalidArgument, "data must have rank >= 1");
  const size_t axis = normalize_axis(ctx.node.attrs.get_int("axis", 0), in.size(), "axis");
  QK_FAIL_IF(in.size() - 1 + idx.shape.size() > kMaxGraphRank, kInvalidArgument,
             "the output would have rank %zu (at most %zu)", in.size() - 1 + idx.shape.size(), kMaxGraphRank);
  if (in[axis].known()) check_indices(idx, in[axis].size);
  Dims out(in.begin(), in.begin() + std::ptrdiff_t(axis));
  for (int64_t d : idx.shape) out.push_back(Dim::of(d));
  out.insert(out.end(), in.begin() + std::ptrdiff_t(axis) + 1, in.end());
  ctx.outputs[0].dtype = ctx.inputs[0].dtype;
  ctx.outputs[0].dims = std::move(out);
}

// Float and int8: for each outer index, one block of `inner` elements per index.
void run(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  const Tensor& idx = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  QK_FAIL_IF(x.layout != Layout::kNCHW, kInternal, "Gather reads NCHW codes");
  const size_t axis = normalize_axis(ctx.node.attrs.get_int("axis", 0), x.shape.size(), "axis");
  const int64_t dim = x.shape[axis];
  check_indices(idx, dim);
  uint64_t outer = 1, inner = 1;
  for (size_t k = 0; k < axis; ++k) outer *= uint64_t(x.shape[k]);
  for (size_t k = axis + 1; k < x.shape.size(); ++k) inner *= uint64_t(x.shape[k]);
  const size_t block = size_t(inner) * element_size(x.dtype);
  const uint8_t* src = x.data<uint8_t>();
  uint8_t* dst = y.data<uint8_t>();
  const uint64_t n = idx.count();
  if (block == 0) return;
  for (uint64_t o = 0; o < outer; ++o)
    for (uint64_t j = 0; j < n; ++j, dst += block) {
      int64_t i = index_at(idx, j);
      if (i < 0) i += dim;
      std::memcpy(dst, src + (o * uint64_t(dim) + uint64_t(i)) * block, block);
    }
}

}  // namespace

// Input 1 (indices) is a constant the int8 run reads as it is.
extern const OpDef kGather = {"Gather", 2, 2, 1, 1, kAttrs, 1, infer, run, QuantRule::kKeepsInputQParams, nullptr,
                              int8_unless_constant, 0x2, nullptr, nullptr, run, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
