// SPDX-License-Identifier: Apache-2.0
// Chooses the storage of rank-4 int8 codes. The int8 conv and pooling kernels work on NHWC
// (channels contiguous, as XNNPACK and QNNPACK do); data-movement ops that index the logical
// N, C, H, W order (Flatten, Reshape, Transpose, Slice, ...) take NCHW. Instead of special cases
// inside those ops, this pass stores each value in its producer's layout and inserts an explicit
// qk.Reorder where a consumer needs the other one (once per value and layout).
#include <map>

#include "graph/passes/passes.h"

namespace qk {
namespace graph {

namespace {

bool is_int8_rank4(const Graph& g, int id) {
  return id >= 0 && stored_quantized(g, id) && g.values()[size_t(id)].type.dims.size() == 4;
}

Int8Layout wanted(const Node& n, const Graph& g) {
  if (!n.op->layout) return Int8Layout::kNCHW;
  std::vector<TensorType> in;
  for (int id : n.inputs) in.push_back(id >= 0 ? g.values()[size_t(id)].type : TensorType{});
  return n.op->layout(n, in);
}

}  // namespace

void layout_pass(Graph& g) {
  std::vector<Node> old = g.mutable_nodes();
  // A qk.Quantize writes NHWC only when one of its int8 readers wants NHWC (a conv, a pool):
  // an input read only by Reshape or Transpose is quantized straight to NCHW, with no reorder.
  std::vector<bool> nhwc_wanted(g.values().size(), false);
  for (const Node& n : old)
    if (n.mode == NodeMode::kInt8 && wanted(n, g) == Int8Layout::kNHWC)
      for (int id : n.inputs)
        if (id >= 0) nhwc_wanted[size_t(id)] = true;
  std::vector<Node> out;
  std::map<std::pair<int, int>, int> reordered;  // (value, layout) -> value
  for (Node n : old) {
    if (n.mode != NodeMode::kInt8) {
      out.push_back(std::move(n));
      continue;
    }
    const Int8Layout w = wanted(n, g);
    // The layout this node reads (and writes): fixed, or for kAny the inputs' common one.
    Layout target = w == Int8Layout::kNHWC ? Layout::kNHWC : Layout::kNCHW;
    if (std::string(n.op->name) == "qk.Quantize" && !nhwc_wanted[size_t(n.outputs[0])]) target = Layout::kNCHW;
    if (w == Int8Layout::kAny) {
      bool first = true, mixed = false;
      for (int id : n.inputs) {
        if (!is_int8_rank4(g, id)) continue;
        const Layout l = g.values()[size_t(id)].layout;
        if (first) target = l;
        mixed = mixed || (!first && l != target);
        first = false;
      }
      if (mixed) target = Layout::kNHWC;
    }
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const int id = n.inputs[i];
      if (!is_int8_rank4(g, id) || g.values()[size_t(id)].layout == target) continue;
      const auto key = std::make_pair(id, int(target));
      auto it = reordered.find(key);
      if (it == reordered.end()) {
        Value v = g.values()[size_t(id)];
        v.name = g.unique_name(v.name + (target == Layout::kNHWC ? ":nhwc" : ":nchw"));
        v.constant = nullptr;
        v.layout = target;
        v.user_qp = false;
        const int nid = g.new_value(std::move(v));
        Node r;
        r.op = find_op("qk.Reorder");
        r.name = g.unique_name(g.values()[size_t(id)].name + ":reorder");
        r.inputs = {id};
        r.outputs = {nid};
        r.mode = NodeMode::kInt8;
        r.internal = true;
        out.push_back(std::move(r));
        it = reordered.emplace(key, nid).first;
      }
      n.inputs[i] = it->second;
    }
    for (int id : n.outputs)
      if (g.values()[size_t(id)].has_qp && g.values()[size_t(id)].type.dims.size() == 4)
        g.mutable_values()[size_t(id)].layout = target;
    out.push_back(std::move(n));
  }
  g.mutable_nodes() = std::move(out);
  g.compact();
}

}  // namespace graph
}  // namespace qk
