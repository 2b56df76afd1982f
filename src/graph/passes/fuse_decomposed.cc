// SPDX-License-Identifier: Apache-2.0
// Recomposes what exporters decompose (torch 1.13's ONNX export writes these ops out), so that a
// block runs as one op (one int8 table for GELU, one pass over the row for LayerNorm):
//   GELU       Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)          -> Gelu(x)
//   LayerNorm  d = Sub(x, ReduceMean(x)); Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps)))
//              [* gamma] [+ beta], both means over the last axis       -> LayerNormalization
//   HardSwish  Mul(x, HardSigmoid(x; alpha 1/6, beta 1/2))             -> HardSwish(x)
// Operands may come in either order where the op commutes. Every intermediate must be read only
// inside the pattern (and not be a graph output); otherwise the ops stay as they are.
#include <cmath>

#include "graph/passes/passes.h"

namespace qk {
namespace graph {

namespace {

class Matcher {
 public:
  explicit Matcher(Graph& g) : g_(g), removed_(g.nodes().size(), false), readers_(g.values().size(), 0) {
    for (const Node& n : g.nodes())
      for (int id : n.inputs)
        if (id >= 0) ++readers_[size_t(id)];
    for (int id : g.outputs()) readers_[size_t(id)] += 1000;  // never an intermediate
  }

  // The live node producing value `id` with op `op`, read `readers` times, or null.
  const Node* producer(int id, const char* op, int readers = 1) const {
    if (id < 0) return nullptr;
    const Value& v = g_.values()[size_t(id)];
    if (v.producer < 0 || removed_[size_t(v.producer)] || readers_[size_t(id)] != readers) return nullptr;
    const Node& n = g_.nodes()[size_t(v.producer)];
    return std::string(n.op->name) == op ? &n : nullptr;
  }
  // Value `id` is a constant holding the single float `want` (within tol).
  bool scalar(int id, float want, float tol = 0.0f) const {
    const Tensor* t = constant(id);
    return t && t->count() == 1 && std::fabs(t->data<float>()[0] - want) <= tol;
  }
  const Tensor* constant(int id) const {
    if (id < 0) return nullptr;
    const Tensor* t = g_.values()[size_t(id)].constant.get();
    return t && t->dtype == DType::kF32 ? t : nullptr;
  }
  // Of the two inputs of binary node n, the one that is not `id` (-1 when neither is `id`).
  static int other(const Node& n, int id) {
    if (n.inputs.size() != 2) return -1;
    return n.inputs[0] == id ? n.inputs[1] : n.inputs[1] == id ? n.inputs[0] : -1;
  }
  void remove(const Node* n) { removed_[size_t(n - g_.nodes().data())] = true; }
  // Replaces node `anchor` by op `op` on `inputs` with `attrs` (its outputs kept).
  void replace(size_t anchor, const char* op, std::vector<int> inputs, Attributes attrs, const std::string& desc) {
    Node& n = g_.mutable_nodes()[anchor];
    n.op = find_op(op);
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    n.fused = desc;
  }
  void commit() {
    std::vector<Node> kept;
    for (size_t i = 0; i < g_.nodes().size(); ++i)
      if (!removed_[i]) kept.push_back(std::move(g_.mutable_nodes()[i]));
    g_.mutable_nodes() = std::move(kept);
    g_.compact();
  }
  bool removed(size_t i) const { return removed_[i]; }
  Graph& graph() { return g_; }

 private:
  Graph& g_;
  std::vector<bool> removed_;
  std::vector<int> readers_;
};

bool is(const Node& n, const char* op) { return std::string(n.op->name) == op; }

// Mul(Mul(x, Add(Erf(Div(x, sqrt2)), 1)), 0.5) anchored at the outer Mul.
bool gelu(Matcher& m, size_t i) {
  const Node& outer = m.graph().nodes()[i];
  if (!is(outer, "Mul") || outer.inputs.size() != 2) return false;
  for (int k = 0; k < 2; ++k) {
    if (!m.scalar(outer.inputs[size_t(1 - k)], 0.5f)) continue;
    const Node* inner = m.producer(outer.inputs[size_t(k)], "Mul");
    if (!inner) continue;
    for (int j = 0; j < 2; ++j) {
      const int x = inner->inputs[size_t(j)];
      const Node* add = m.producer(inner->inputs[size_t(1 - j)], "Add");
      if (!add) continue;
      for (int a = 0; a < 2; ++a) {
        if (!m.scalar(add->inputs[size_t(1 - a)], 1.0f)) continue;
        const Node* erf = m.producer(add->inputs[size_t(a)], "Erf");
        const Node* div = erf ? m.producer(erf->inputs[0], "Div") : nullptr;
        if (!div || div->inputs[0] != x || !m.scalar(div->inputs[1], float(M_SQRT2), 1e-6f)) continue;
        const std::string desc = div->name + "+" + erf->name + "+" + add->name + "+" + inner->name + "+" + outer.name;
        m.remove(div), m.remove(erf), m.remove(add), m.remove(inner);
        m.replace(i, "Gelu", {x}, {}, desc);
        return true;
      }
    }
  }
  return false;
}

// The reduction of ReduceMean node r is over the last axis only (keepdims 1).
bool last_axis_mean(const Graph& g, const Node& r) {
  const std::vector<int64_t> axes = r.attrs.get_ints("axes");
  const size_t rank = g.values()[size_t(r.inputs[0])].type.dims.size();
  return r.attrs.get_int("keepdims", 1) == 1 && axes.size() == 1 && rank > 0 &&
         (axes[0] == -1 || axes[0] == int64_t(rank) - 1);
}

// LayerNorm anchored at the Div: Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps))), d = Sub(x, mean(x)).
bool layer_norm(Matcher& m, size_t i) {
  Graph& g = m.graph();
  const Node& div = g.nodes()[i];
  if (!is(div, "Div")) return false;
  const int d = div.inputs[0];
  const Node* sub = m.producer(d, "Sub", 2);  // read by Pow and by this Div
  const Node* sqrt = m.producer(div.inputs[1], "Sqrt");
  const Node* add = sqrt ? m.producer(sqrt->inputs[0], "Add") : nullptr;
  if (!sub || !add) return false;
  const int x = sub->inputs[0];
  const Node* mean = m.producer(sub->inputs[1], "ReduceMean");
  if (!mean || mean->inputs[0] != x || !last_axis_mean(g, *mean)) return false;
  int var_id = -1;
  const Tensor* eps = nullptr;
  for (int k = 0; k < 2; ++k)
    if (const Tensor* t = m.constant(add->inputs[size_t(1 - k)]); t && t->count() == 1) {
      eps = t;
      var_id = add->inputs[size_t(k)];
    }
  const Node* var = eps ? m.producer(var_id, "ReduceMean") : nullptr;
  const Node* pow = var ? m.producer(var->inputs[0], "Pow") : nullptr;
  if (!pow || pow->inputs[0] != d || !m.scalar(pow->inputs[1], 2.0f) || !last_axis_mean(g, *var)) return false;
  const float epsilon = eps->data<float>()[0];
  if (!(epsilon >= 0.0f) || !std::isfinite(epsilon)) return false;
  // The optional affine: Mul by a constant gamma, then Add of a constant beta (last axis only).
  const Dims& xd = g.values()[size_t(x)].type.dims;
  if (xd.empty() || !xd.back().known()) return false;
  const int64_t width = xd.back().size;
  auto per_last_axis = [&](int id) {
    const Tensor* t = m.constant(id);
    return t && !t->shape.empty() && t->shape.back() == width && int64_t(t->count()) == width ? id : -1;
  };
  size_t anchor = i;
  std::string desc = mean->name + "+" + sub->name + "+" + pow->name + "+" + var->name + "+" + add->name + "+" +
                     sqrt->name + "+" + div.name;
  int gamma = -1, beta = -1;
  std::vector<const Node*> gone = {mean, sub, pow, var, add, sqrt};
  if (const Node* mul = [&]() -> const Node* {
        for (size_t k = 0; k < g.nodes().size(); ++k)
          if (!m.removed(k) && is(g.nodes()[k], "Mul") && Matcher::other(g.nodes()[k], div.outputs[0]) >= 0)
            return &g.nodes()[k];
        return nullptr;
      }();
      mul && m.producer(div.outputs[0], "Div") && (gamma = per_last_axis(Matcher::other(*mul, div.outputs[0]))) >= 0) {
    gone.push_back(&div);
    anchor = size_t(mul - g.nodes().data());
    desc += "+" + mul->name;
    for (size_t k = 0; k < g.nodes().size(); ++k) {
      const Node& n = g.nodes()[k];
      if (m.removed(k) || !is(n, "Add") || Matcher::other(n, mul->outputs[0]) < 0 || !m.producer(mul->outputs[0], "Mul"))
        continue;
      if ((beta = per_last_axis(Matcher::other(n, mul->outputs[0]))) >= 0) {
        gone.push_back(mul);
        anchor = k;
        desc += "+" + n.name;
      }
      break;
    }
  }
  if (gamma < 0) {  // no affine: scale of ones
    Value ones;
    ones.name = g.unique_name(div.name + ".scale");
    ones.type.dims = {Dim::of(width)};
    Tensor t = Tensor::allocate(DType::kF32, {width});
    for (int64_t k = 0; k < width; ++k) t.data<float>()[k] = 1.0f;
    ones.constant = std::make_shared<const Tensor>(std::move(t));
    gamma = g.new_value(std::move(ones));
  }
  // Gamma / beta as {width} (a {1, width} constant keeps its data).
  auto flat = [&](int id) {
    const Tensor& t = *g.values()[size_t(id)].constant;
    if (t.shape.size() == 1) return id;
    Value v;
    v.name = g.unique_name(g.values()[size_t(id)].name + ".flat");
    v.type.dims = {Dim::of(width)};
    v.constant = std::make_shared<const Tensor>(Tensor::copy_of(DType::kF32, {width}, t.storage.get(), t.bytes));
    return g.new_value(std::move(v));
  };
  gamma = flat(gamma);
  if (beta >= 0) beta = flat(beta);
  for (const Node* n : gone) m.remove(n);
  Attributes a;
  a.set_int("axis", -1);
  a.set_float("epsilon", epsilon);
  std::vector<int> in = {x, gamma};
  if (beta >= 0) in.push_back(beta);
  m.replace(anchor, "LayerNormalization", std::move(in), std::move(a), desc);
  return true;
}

// Mul(x, HardSigmoid(x; 1/6, 1/2)) anchored at the Mul.
bool hard_swish(Matcher& m, size_t i) {
  const Node& mul = m.graph().nodes()[i];
  if (!is(mul, "Mul") || mul.inputs.size() != 2) return false;
  for (int k = 0; k < 2; ++k) {
    const Node* hs = m.producer(mul.inputs[size_t(k)], "HardSigmoid");
    if (!hs || hs->inputs[0] != mul.inputs[size_t(1 - k)]) continue;
    if (std::fabs(hs->attrs.get_float("alpha", 0.2f) - 1.0f / 6.0f) > 1e-7f || hs->attrs.get_float("beta", 0.5f) != 0.5f)
      continue;
    const int x = hs->inputs[0];
    const std::string desc = hs->name + "+" + mul.name;
    m.remove(hs);
    m.replace(i, "HardSwish", {x}, {}, desc);
    return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> fuse_decomposed_pass(Graph& g) {
  std::vector<std::string> fused;
  Matcher m(g);
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    if (m.removed(i)) continue;
    if (gelu(m, i) || layer_norm(m, i) || hard_swish(m, i)) fused.push_back(g.nodes()[i].fused);
  }
  m.commit();
  return fused;
}

}  // namespace graph
}  // namespace qk
