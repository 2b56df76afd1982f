// SPDX-License-Identifier: Apache-2.0
// Flatten (ONNX opset 13): a 2-D view {prod(d[:axis]), prod(d[axis:])} of the same row-major
// elements; attribute axis in [-rank, rank] (default 1; negative counts from the end, rank means
// {N, 1}).
// Symbolic dims: a factor that is one symbol alone ({batch, C, H, W} -> {batch, C*H*W}) keeps it;
// other products with symbols are derived dims resolved at run time.
// int8: keeps the input's qparams (same bytes); rank-4 codes are read in NCHW order, so the layout
// pass puts an explicit reorder before a Flatten of NHWC codes.
#include "graph/ops/data_movement.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace movement;

const AttrSpec kAttrs[] = {{"axis", AttrType::kInt, false}};

void infer(InferContext& ctx) {
  require_movable(ctx, 0);
  const Dims& in = ctx.inputs[0].dims;
  const int64_t r = int64_t(in.size());
  int64_t axis = ctx.node.attrs.get_int("axis", 1);
  QK_FAIL_IF(axis < -r || axis > r, kInvalidArgument, "axis %lld is outside [-%lld, %lld]", (long long)axis,
             (long long)r, (long long)r);
  if (axis < 0) axis += r;
  ctx.outputs[0].dtype = ctx.inputs[0].dtype;
  ctx.outputs[0].dims = {product_dim(ctx.node, 0, 0, in, 0, size_t(axis)),
                         product_dim(ctx.node, 0, 1, in, size_t(axis), in.size())};
}

}  // namespace

extern const OpDef kFlatten = {"Flatten", 1, 1, 1, 1, kAttrs, 1, infer, copy_bytes, QuantRule::kKeepsInputQParams,
                               nullptr, int8_unless_constant, 0, nullptr, nullptr, copy_bytes, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
