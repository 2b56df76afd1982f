// SPDX-License-Identifier: Apache-2.0
// Transpose (ONNX): output dimension k is input dimension perm[k]; perm (ints) is a permutation of
// 0..rank-1, default reversed. Symbolic dims move with their axis.
// int8: keeps the input's qparams (codes moved as bytes); rank-4 codes are indexed in NCHW order,
// so the layout pass reorders NHWC codes first.
#include "graph/ops/data_movement.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace movement;

const AttrSpec kAttrs[] = {{"perm", AttrType::kInts, false}};

std::vector<size_t> perm_of(const Node& node, size_t rank) {
  std::vector<size_t> perm(rank);
  if (!node.attrs.has("perm")) {
    for (size_t k = 0; k < rank; ++k) perm[k] = rank - 1 - k;
    return perm;
  }
  const std::vector<int64_t> p = node.attrs.get_ints("perm");
  std::vector<bool> seen(rank, false);
  bool ok = p.size() == rank;
  for (size_t k = 0; ok && k < rank; ++k) {
    ok = p[k] >= 0 && p[k] < int64_t(rank) && !seen[size_t(p[k])];
    if (ok) seen[size_t(p[k])] = true;
    if (ok) perm[k] = size_t(p[k]);
  }
  QK_FAIL_IF(!ok, kInvalidArgument, "perm %s is not a permutation of 0..%lld", ints_string(p).c_str(),
             (long long)rank - 1);
  return perm;
}

void infer(InferContext& ctx) {
  require_movable(ctx, 0);
  const Dims& in = ctx.inputs[0].dims;
  const std::vector<size_t> perm = perm_of(ctx.node, in.size());
  ctx.outputs[0].dtype = ctx.inputs[0].dtype;
  ctx.outputs[0].dims.clear();
  for (size_t k : perm) ctx.outputs[0].dims.push_back(in[k]);
}

// Float and int8: output axis k walks input axis perm[k] with that axis's stride.
void run(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  QK_FAIL_IF(x.layout != Layout::kNCHW, kInternal, "Transpose reads NCHW codes");
  const std::vector<size_t> perm = perm_of(ctx.node, x.shape.size());
  const std::vector<int64_t> stride = strides_of(x.shape);
  std::vector<std::vector<int64_t>> offsets;
  for (size_t k = 0; k < perm.size(); ++k) offsets.push_back(identity_offsets(y.shape[k], stride[perm[k]]));
  gather_offsets(x.storage.get(), y.storage.get(), element_size(x.dtype), y.shape, offsets, nullptr);
}

}  // namespace

extern const OpDef kTranspose = {"Transpose", 1, 1, 1, 1, kAttrs, 1, infer, run, QuantRule::kKeepsInputQParams,
                                 nullptr, int8_unless_constant, 0, nullptr, nullptr, run, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
