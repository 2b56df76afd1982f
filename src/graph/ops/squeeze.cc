// SPDX-License-Identifier: Apache-2.0
// Squeeze (ONNX opset 13): removes size-1 dimensions. ONNX passes axes as a constant input; here it
// is the optional attribute `axes` (ints, negative counts from the end; the ONNX importer turns the
// constant input into it). Without axes every size-1 dimension goes, which needs all dims known (a
// symbolic dim might be 1 in one run and not in another: give axes). A listed dim must be 1 (a
// symbolic one is checked when the model runs).
// int8: keeps the input's qparams (same bytes, NCHW order for rank 4).
#include "graph/ops/data_movement.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace movement;

const AttrSpec kAttrs[] = {{"axes", AttrType::kInts, false}};

void infer(InferContext& ctx) {
  require_movable(ctx, 0);
  const Dims& in = ctx.inputs[0].dims;
  std::vector<bool> drop(in.size(), false);
  if (ctx.node.attrs.has("axes")) {
    for (int64_t a : ctx.node.attrs.get_ints("axes")) {
      const size_t k = normalize_axis(a, in.size(), "axes element");
      QK_FAIL_IF(drop[k], kInvalidArgument, "axes names dimension %zu twice", k);
      QK_FAIL_IF(in[k].known() && in[k].size != 1, kInvalidArgument, "dimension %zu of %s is %lld, not 1", k,
                 dims_string(in).c_str(), (long long)in[k].size);
      drop[k] = true;
    }
  } else {
    for (size_t k = 0; k < in.size(); ++k) {
      QK_FAIL_IF(!in[k].known(), kInvalidArgument,
                 "without 'axes', every dimension must be known: dimension %zu "
                 "of %s is symbolic (give axes)",
                 k, dims_string(in).c_str());
      drop[k] = in[k].size == 1;
    }
  }
  ctx.outputs[0].dtype = ctx.inputs[0].dtype;
  ctx.outputs[0].dims.clear();
  for (size_t k = 0; k < in.size(); ++k)
    if (!drop[k]) ctx.outputs[0].dims.push_back(in[k]);
}

}  // namespace

extern const OpDef kSqueeze = {"Squeeze", 1, 1, 1, 1, kAttrs, 1, infer, copy_bytes, QuantRule::kKeepsInputQParams,
                               nullptr, int8_unless_constant, 0, nullptr, nullptr, copy_bytes, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
