// SPDX-License-Identifier: Apache-2.0
// Fusion (PyTorch's fuse_modules patterns): Conv/Linear + BatchNormalization folded exactly into
// new weight and bias constants; then Relu / Clip absorbed into the node's clamp attributes
// (clip_min / clip_max), also after Add and an unabsorbed BatchNormalization (BNReLU2d); MatMul
// with constant weights + Add of a constant bias becomes a Linear. A node is absorbed only when it
// is the sole consumer of the value and that value is not a graph output.
#include <algorithm>
#include <cmath>

#include "fusion/fold_batchnorm.h"
#include "graph/passes/passes.h"

namespace qk {
namespace graph {

namespace {

bool is(const Node& n, const char* op) { return std::string(n.op->name) == op; }

// The only node reading value `id` (and reading it once), or -1.
int sole_consumer(const Graph& g, const std::vector<bool>& removed, int id) {
  for (int o : g.outputs())
    if (o == id) return -1;
  int found = -1;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    if (removed[i]) continue;
    const std::vector<int>& in = g.nodes()[i].inputs;
    const long uses = std::count(in.begin(), in.end(), id);
    if (uses == 0) continue;
    if (found >= 0 || uses > 1) return -1;
    found = int(i);
  }
  return found;
}

const Tensor* constant_input(const Graph& g, const Node& n, size_t i) {
  return i < n.inputs.size() && n.inputs[i] >= 0 ? g.values()[size_t(n.inputs[i])].constant.get() : nullptr;
}

// Folds BatchNormalization `bn` into conv/linear `n`: new weight and bias constants.
bool fold_bn(Graph& g, Node& n, const Node& bn) {
  const Tensor* w = constant_input(g, n, 1);
  const Tensor* scale = constant_input(g, bn, 1);
  const Tensor* shift = constant_input(g, bn, 2);
  const Tensor* mean = constant_input(g, bn, 3);
  const Tensor* var = constant_input(g, bn, 4);
  if (!w || !scale || !shift || !mean || !var || w->dtype != DType::kF32) return false;
  const size_t channels = size_t(w->shape[0]);
  if (mean->count() != channels) return false;
  std::vector<float> bias(channels, 0.0f);
  if (const Tensor* b = constant_input(g, n, 2)) std::copy(b->data<float>(), b->data<float>() + channels, bias.begin());
  Tensor nw = Tensor::allocate(DType::kF32, w->shape);
  BatchNormParams p;
  p.mean = mean->data<float>();
  p.var = var->data<float>();
  p.gamma = scale->data<float>();
  p.beta = shift->data<float>();
  p.eps = bn.attrs.get_float("epsilon", 1e-5f);
  p.channels = channels;
  const Shape ws = Shape::from(w->shape.data(), w->shape.size(), "weight_shape");
  fold_batchnorm(is(n, "Linear") ? FoldTarget::kLinear : FoldTarget::kConv, w->data<float>(), ws, bias.data(), p,
                 nw.data<float>(), bias.data());
  Value wv;
  wv.name = g.unique_name(n.name + ".weight_folded");
  wv.type.dims = known_dims(nw.shape);
  wv.constant = std::make_shared<const Tensor>(std::move(nw));
  Value bv;
  bv.name = g.unique_name(n.name + ".bias_folded");
  bv.type.dims = known_dims({int64_t(channels)});
  bv.constant = std::make_shared<const Tensor>(Tensor::copy_of(DType::kF32, {int64_t(channels)}, bias.data(),
                                                               channels * sizeof(float)));
  n.inputs.resize(3);
  n.inputs[1] = g.new_value(std::move(wv));
  n.inputs[2] = g.new_value(std::move(bv));
  return true;
}

// Narrows n's clamp by a Relu or Clip; false for other ops.
bool absorb_clamp(Node& n, const Node& act) {
  float lo = n.attrs.get_float("clip_min", -INFINITY), hi = n.attrs.get_float("clip_max", INFINITY);
  if (is(act, "Relu")) {
    lo = std::max(lo, 0.0f);
  } else if (is(act, "Clip") && act.inputs.size() == 1) {
    lo = std::max(lo, act.attrs.get_float("min", -INFINITY));
    hi = std::min(hi, act.attrs.get_float("max", INFINITY));
  } else {
    return false;
  }
  if (lo > hi) lo = hi;
  if (std::isfinite(lo)) n.attrs.set_float("clip_min", lo);
  if (std::isfinite(hi)) n.attrs.set_float("clip_max", hi);
  return true;
}

// MatMul with a constant 2-D B {K, N} whose sole reader is an Add of a constant broadcasting
// along the last axis ({N}, {1, N}, ...): a Linear with weights B' and that bias (exporters write
// nn.Linear as MatMul + Add; one Linear is one int8 GEMM with its bias, instead of a GEMM and a
// requantizing Add). Returns the Add's node index, or -1.
int matmul_add_to_linear(Graph& g, const std::vector<bool>& removed, Node& n) {
  const Tensor* b = constant_input(g, n, 1);
  if (!b || b->dtype != DType::kF32 || b->shape.size() != 2) return -1;
  const int64_t k = b->shape[0], cols = b->shape[1];
  const int j = sole_consumer(g, removed, n.outputs[0]);
  if (j < 0) return -1;
  const Node& add = g.nodes()[size_t(j)];
  if (!is(add, "Add") || add.attrs.has("clip_min") || add.attrs.has("clip_max")) return -1;
  const int other = add.inputs[0] == n.outputs[0] ? add.inputs[1] : add.inputs[0];
  const Tensor* bias = other >= 0 ? g.values()[size_t(other)].constant.get() : nullptr;
  if (!bias || bias->dtype != DType::kF32 || bias->shape.empty() || bias->shape.back() != cols ||
      int64_t(bias->count()) != cols)
    return -1;
  // A bias of higher rank than the product would broadcast it up: keep the pattern then.
  const Dims& out = g.values()[size_t(n.outputs[0])].type.dims;
  if (bias->shape.size() > out.size()) return -1;
  Tensor wt = Tensor::allocate(DType::kF32, {cols, k});
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < cols; ++c) wt.data<float>()[c * k + r] = b->data<float>()[r * cols + c];
  Value wv;
  wv.name = g.unique_name(n.name + ".weight");
  wv.type.dims = known_dims(wt.shape);
  wv.constant = std::make_shared<const Tensor>(std::move(wt));
  Value bv;
  bv.name = g.unique_name(n.name + ".bias");
  bv.type.dims = known_dims({cols});
  bv.constant = std::make_shared<const Tensor>(Tensor::copy_of(DType::kF32, {cols}, bias->data<float>(),
                                                               size_t(cols) * sizeof(float)));
  const int x = n.inputs[0];
  n.op = find_op("Linear");
  n.inputs = {x, g.new_value(std::move(wv)), g.new_value(std::move(bv))};
  return j;
}

}  // namespace

std::vector<std::string> fuse_pass(Graph& g) {
  std::vector<std::string> fused;
  std::vector<bool> removed(g.nodes().size(), false);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    if (removed[i]) continue;
    Node n = g.nodes()[i];
    std::string desc = n.name;
    if (is(n, "MatMul")) {
      const int j = matmul_add_to_linear(g, removed, n);
      if (j < 0) continue;
      n.outputs = g.nodes()[size_t(j)].outputs;
      desc += "+" + g.nodes()[size_t(j)].name;
      removed[size_t(j)] = true;
    }
    const bool weighted = is(n, "Conv") || is(n, "Linear");
    if (!weighted && !is(n, "Add") && !is(n, "BatchNormalization")) continue;
    auto absorb = [&](int j) {
      n.outputs = g.nodes()[size_t(j)].outputs;
      desc += "+" + g.nodes()[size_t(j)].name;
      removed[size_t(j)] = true;
    };
    if (weighted && !n.attrs.has("clip_min") && !n.attrs.has("clip_max")) {
      const int j = sole_consumer(g, removed, n.outputs[0]);
      if (j >= 0 && is(g.nodes()[size_t(j)], "BatchNormalization") && fold_bn(g, n, g.nodes()[size_t(j)])) {
        // A BatchNormalization may carry its own clamp (clip_min / clip_max): the conv takes it.
        const Attributes& bn = g.nodes()[size_t(j)].attrs;
        if (bn.has("clip_min")) n.attrs.set_float("clip_min", bn.get_float("clip_min", -INFINITY));
        if (bn.has("clip_max")) n.attrs.set_float("clip_max", bn.get_float("clip_max", INFINITY));
        absorb(j);
      }
    }
    for (;;) {
      const int j = sole_consumer(g, removed, n.outputs[0]);
      if (j < 0 || !absorb_clamp(n, g.nodes()[size_t(j)])) break;
      absorb(j);
    }
    if (desc != n.name) {
      n.fused = n.fused.empty() ? desc : n.fused + "+" + desc.substr(n.name.size() + 1);
      fused.push_back(desc);
      g.mutable_nodes()[i] = std::move(n);
    }
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes().size(); ++i)
    if (!removed[i]) kept.push_back(std::move(g.mutable_nodes()[i]));
  g.mutable_nodes() = std::move(kept);
  g.compact();
  return fused;
}

void Graph::fuse() {
  require_state(GraphState::kFloat, "fuse");
  Graph g = *this;
  fold_constants_pass(g);
  fuse_decomposed_pass(g);
  fuse_pass(g);
  *this = std::move(g);
}

}  // namespace graph
}  // namespace qk
