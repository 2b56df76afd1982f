// SPDX-License-Identifier: Apache-2.0
// Unsqueeze (ONNX opset 13): inserts size-1 dimensions. ONNX passes axes as a constant input; here
// it is the required attribute `axes` (ints; the ONNX importer turns the constant input into it),
// positions in the OUTPUT, negative ones relative to the output rank, no repeats.
// int8: keeps the input's qparams (same bytes, NCHW order for rank 4).
#include "graph/ops/data_movement.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace movement;

const AttrSpec kAttrs[] = {{"axes", AttrType::kInts, true}};

void infer(InferContext& ctx) {
  require_movable(ctx, 0);
  const Dims& in = ctx.inputs[0].dims;
  const std::vector<int64_t> axes = ctx.node.attrs.get_ints("axes");
  QK_FAIL_IF(axes.empty(), kInvalidArgument, "axes is empty");
  const size_t rank = in.size() + axes.size();
  QK_FAIL_IF(rank > kMaxGraphRank, kInvalidArgument, "the output would have rank %zu (at most %zu)", rank,
             kMaxGraphRank);
  std::vector<bool> inserted(rank, false);
  for (int64_t a : axes) {
    const size_t k = normalize_axis(a, rank, "axes element");
    QK_FAIL_IF(inserted[k], kInvalidArgument, "axes %s names output dimension %zu twice", ints_string(axes).c_str(), k);
    inserted[k] = true;
  }
  Dims out;
  for (size_t k = 0, i = 0; k < rank; ++k) out.push_back(inserted[k] ? Dim::of(1) : in[i++]);
  ctx.outputs[0].dtype = ctx.inputs[0].dtype;
  ctx.outputs[0].dims = std::move(out);
}

}  // namespace

extern const OpDef kUnsqueeze = {"Unsqueeze", 1, 1, 1, 1, kAttrs, 1, infer, copy_bytes, QuantRule::kKeepsInputQParams,
                                 nullptr, int8_unless_constant, 0, nullptr, nullptr, copy_bytes, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
