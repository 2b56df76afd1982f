// SPDX-License-Identifier: Apache-2.0
// Slice (ONNX opset 13): for each listed axis, the elements start, start + step, ... before end.
// ONNX passes starts / ends / axes / steps as constant inputs; here they are attributes (ints; the
// ONNX importer turns the constant inputs into them): starts and ends required, axes default 0..n-1
// (negative counts from the end, no repeats), steps default 1 (never 0).
// ONNX's rules: negative starts / ends count from the end of the axis, then they are clamped
// to [0, dim] (step > 0) or [0, dim - 1] / [-1, dim - 1] (step < 0), so INT64_MAX means "to the
// end" and INT64_MIN with a negative step "down to the first".
// Symbolic dims: a whole axis (start 0, end >= 2^31, step 1) keeps its symbol; any other slice of a
// symbolic axis is a derived dim resolved at run time.
// int8: keeps the input's qparams (codes moved as bytes, NCHW order for rank 4).
#include <algorithm>

#include "graph/ops/data_movement.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace movement;

const AttrSpec kAttrs[] = {{"starts", AttrType::kInts, true},
                           {"ends", AttrType::kInts, true},
                           {"axes", AttrType::kInts, false},
                           {"steps", AttrType::kInts, false}};

// One sliced axis, in the attribute order.
struct AxisSlice {
  size_t axis;
  int64_t start, end, step;
};

std::vector<AxisSlice> slices_of(const Node& node, size_t rank) {
  const std::vector<int64_t> starts = node.attrs.get_ints("starts");
  const std::vector<int64_t> ends = node.attrs.get_ints("ends");
  const size_t n = starts.size();
  QK_FAIL_IF(ends.size() != n, kInvalidArgument, "starts has %zu elements, ends %zu", n, ends.size());
  std::vector<int64_t> axes = node.attrs.get_ints("axes");
  if (!node.attrs.has("axes")) {
    QK_FAIL_IF(n > rank, kInvalidArgument, "%zu starts for an input of rank %zu", n, rank);
    for (size_t i = 0; i < n; ++i) axes.push_back(int64_t(i));
  }
  const std::vector<int64_t> steps = node.attrs.get_ints("steps", std::vector<int64_t>(n, 1));
  QK_FAIL_IF(axes.size() != n || steps.size() != n, kInvalidArgument,
             "starts, ends, axes and steps must have the same length (%zu, "
             "%zu, %zu, %zu)",
             n, ends.size(), axes.size(), steps.size());
  std::vector<AxisSlice> s;
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < n; ++i) {
    const size_t k = normalize_axis(axes[i], rank, "axes element");
    QK_FAIL_IF(seen[k], kInvalidArgument, "axes %s names dimension %zu twice", ints_string(axes).c_str(), k);
    QK_FAIL_IF(steps[i] == 0, kInvalidArgument, "steps[%zu] is 0", i);
    QK_FAIL_IF(steps[i] == INT64_MIN, kInvalidArgument, "steps[%zu] is out of range", i);
    seen[k] = true;
    s.push_back({k, starts[i], ends[i], steps[i]});
  }
  return s;
}

// ONNX's clamping: the first index and the count along an axis of size dim.
void resolve(const AxisSlice& s, int64_t dim, int64_t* first, int64_t* count) {
  int64_t start = s.start < 0 ? s.start + dim : s.start;  // no overflow: dim >= 0
  int64_t end = s.end < 0 ? s.end + dim : s.end;
  int64_t n = 0;
  if (s.step > 0) {
    start = std::min(std::max(start, int64_t(0)), dim);
    end = std::min(std::max(end, int64_t(0)), dim);
    n = end > start ? 1 + (end - start - 1) / s.step : 0;  // no overflow for huge steps
  } else if (dim > 0) {
    start = std::min(std::max(start, int64_t(0)), dim - 1);
    end = std::min(std::max(end, int64_t(-1)), dim - 1);
    n = start > end ? 1 + (start - end - 1) / -s.step : 0;
  }
  *first = start;
  *count = n;
}

void infer(InferContext& ctx) {
  require_movable(ctx, 0);
  const Dims& in = ctx.inputs[0].dims;
  Dims out = in;
  for (const AxisSlice& s : slices_of(ctx.node, in.size())) {
    const Dim& d = in[s.axis];
    if (d.known()) {
      int64_t first, count;
      resolve(s, d.size, &first, &count);
      out[s.axis] = Dim::of(count);
    } else if (!(s.start == 0 && s.end >= kMaxDimSize && s.step == 1)) {
      out[s.axis] = derived_dim(ctx.node, 0, s.axis, false, 0);
    }
  }
  ctx.outputs[0].dtype = ctx.inputs[0].dtype;
  ctx.outputs[0].dims = std::move(out);
}

// Float and int8: output index o of axis k reads input index first + o * step.
void run(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  QK_FAIL_IF(x.layout != Layout::kNCHW, kInternal, "Slice reads NCHW codes");
  const std::vector<int64_t> stride = strides_of(x.shape);
  std::vector<std::vector<int64_t>> offsets;
  for (size_t k = 0; k < x.shape.size(); ++k) offsets.push_back(identity_offsets(x.shape[k], stride[k]));
  for (const AxisSlice& s : slices_of(ctx.node, x.shape.size())) {
    int64_t first, count;
    resolve(s, x.shape[s.axis], &first, &count);
    QK_FAIL_IF(count != y.shape[s.axis], kInternal, "slice count");
    std::vector<int64_t>& o = offsets[s.axis];
    o.resize(size_t(count));
    for (int64_t i = 0; i < count; ++i) o[size_t(i)] = (first + i * s.step) * stride[s.axis];
  }
  gather_offsets(x.storage.get(), y.storage.get(), element_size(x.dtype), y.shape, offsets, nullptr);
}

}  // namespace

extern const OpDef kSlice = {"Slice", 1, 1, 1, 1, kAttrs, 4, infer, run, QuantRule::kKeepsInputQParams, nullptr,
                             int8_unless_constant, 0, nullptr, nullptr, run, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
