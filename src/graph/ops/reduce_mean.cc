// SPDX-License-Identifier: Apache-2.0
// ReduceMean (ONNX opset 13 attributes; opset 18 passes `axes` as a constant input, which the
// importer turns into this attribute): the mean over `axes` (ints, negative counts from the end,
// each at most once; absent or empty: all axes, unless noop_with_empty_axes = 1, which makes
// an empty list the identity, as opset 18). keepdims (default 1) keeps the reduced axes as 1s.
// Reducing an axis of size 0 is an error (the mean of nothing). Sums are accumulated in double.
//
// int8: kFloatOnly. kKeepsInputQParams would be wrong twice over: the mean of codes is not a
// code (it needs a rounding, so it is not data movement), and the mean's range is usually far
// narrower than the input's (global pooling of activations), so the input's qparams would waste
// most of the output's steps. The right int8 rule is an observed output with an averaging
// requantization (what the int8 global average pool kernel in ops/pooling.h does for NCHW's
// spatial axes); until then ReduceMean stays float and its output is observed.
#include <algorithm>

#include "graph/op.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"axes", AttrType::kInts, false},
                           {"keepdims", AttrType::kInt, false},
                           {"noop_with_empty_axes", AttrType::kInt, false}};

// reduced[d]: is axis d reduced? (validated: range, duplicates, 0/1 flags)
std::vector<bool> reduced_axes(const Node& node, size_t rank) {
  const int64_t keep = node.attrs.get_int("keepdims", 1);
  const int64_t noop = node.attrs.get_int("noop_with_empty_axes", 0);
  QK_FAIL_IF(keep != 0 && keep != 1, kInvalidArgument, "keepdims must be 0 or 1 (got %lld)", (long long)keep);
  QK_FAIL_IF(noop != 0 && noop != 1, kInvalidArgument, "noop_with_empty_axes must be 0 or 1 (got %lld)",
             (long long)noop);
  const std::vector<int64_t> axes = node.attrs.get_ints("axes");
  std::vector<bool> reduced(rank, axes.empty() && noop == 0);
  for (int64_t a : axes) {
    const size_t d = normalize_axis(a, rank, "axes element");
    QK_FAIL_IF(reduced[d], kInvalidArgument, "axis %zu appears twice in axes", d);
    reduced[d] = true;
  }
  return reduced;
}

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  const Dims& x = ctx.inputs[0].dims;
  const std::vector<bool> reduced = reduced_axes(ctx.node, x.size());
  const bool keep = ctx.node.attrs.get_int("keepdims", 1) != 0;
  Dims out;
  for (size_t d = 0; d < x.size(); ++d) {
    if (!reduced[d]) {
      out.push_back(x[d]);
      continue;
    }
    QK_FAIL_IF(x[d].known() && x[d].size == 0, kInvalidArgument, "cannot average over axis %zu of size 0 (input %s)",
               d, dims_string(x).c_str());
    if (keep) out.push_back(Dim::of(1));
  }
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = std::move(out);
}

void run_float(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const std::vector<bool> reduced = reduced_axes(ctx.node, x.shape.size());
  // The output as a broadcastable shape of x's rank (reduced axes are 1): every input element
  // adds into the output element it broadcasts from.
  std::vector<int64_t> kept(x.shape);
  uint64_t n = 1;
  for (size_t d = 0; d < kept.size(); ++d)
    if (reduced[d]) {
      n *= uint64_t(kept[d]);
      kept[d] = 1;
    }
  std::vector<double> sum(size_t(y.count()), 0.0);
  const float* px = x.data<float>();
  for_each_broadcast(x.shape, x.shape, kept, [&](uint64_t i, uint64_t, uint64_t io) { sum[size_t(io)] += px[i]; });
  float* py = y.data<float>();
  for (size_t i = 0; i < sum.size(); ++i) py[i] = float(sum[i] / double(n));
}

}  // namespace

extern const OpDef kReduceMean = {"ReduceMean", 1, 1, 1, 1, kAttrs, 3, infer, run_float, QuantRule::kFloatOnly, nullptr,
                           nullptr, 0, nullptr, nullptr, nullptr, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
