// SPDX-License-Identifier: Apache-2.0
// Per-node numeric report of a CONVERTED graph (what quantization cost, node by node), and the
// observer state of a PREPARED graph for split calibration (observers/observer_set.h).
#include <cmath>
#include <map>

#include "graph/executor.h"
#include "graph/passes/passes.h"
#include "observers/observer_set.h"

namespace qk {
namespace graph {

namespace {

// The float graph a converted graph came from: the qk.* nodes convert inserted are bypassed
// (each reads one value and stands for it), every node runs float, qparams are dropped.
Graph float_view(const Graph& converted) {
  Graph g = converted;
  std::vector<int> alias(g.values().size());
  for (size_t i = 0; i < alias.size(); ++i) alias[i] = int(i);
  for (size_t i = 0; i < alias.size(); ++i) {
    Value& v = g.mutable_values()[i];
    const int src = v.quantized_from.empty() ? -1 : g.find_value(v.quantized_from);
    if (src >= 0) {
      alias[i] = src;
    } else if (v.is_constant() && v.has_qp && v.constant->dtype != DType::kF32) {
      // Codes without their f32 source (a loaded model keeps only the int8 weights): the float
      // view runs on the dequantized codes, so the report shows activation error only.
      v.constant = std::make_shared<const Tensor>(dequantized(*v.constant, v.qp));
    }
  }
  std::vector<Node> kept;
  for (Node& n : g.mutable_nodes()) {
    for (int& id : n.inputs)
      if (id >= 0) id = alias[size_t(id)];
    if (n.internal || std::string(n.op->name).compare(0, 3, "qk.") == 0) {
      alias[size_t(n.outputs[0])] = n.inputs[0];
      continue;
    }
    n.mode = NodeMode::kFloat;
    n.prepared.reset();
    kept.push_back(std::move(n));
  }
  for (Value& v : g.mutable_values()) {
    v.has_qp = false;
    v.layout = Layout::kNCHW;
    // Quantized constant operands (their f32 originals are kept alongside) are never read now.
  }
  std::vector<int> outs;
  for (int id : g.outputs()) outs.push_back(alias[size_t(id)]);
  g.mutable_nodes() = std::move(kept);
  g.set_outputs(outs);
  g.set_state(GraphState::kFloat);
  g.compact();
  return g;
}

}  // namespace

std::vector<NodeReport> Graph::node_report(const NamedTensors& inputs) const {
  require_state(GraphState::kConverted, "node_report");
  const Graph ref = float_view(*this);
  std::map<std::string, std::shared_ptr<const Tensor>> f, q;
  execute(ref, inputs, nullptr, [&](int id, const std::shared_ptr<const Tensor>& t) { f[ref.values()[size_t(id)].name] = t; });
  execute(*this, inputs, nullptr, [&](int id, const std::shared_ptr<const Tensor>& t) {
    const Value& v = values_[size_t(id)];
    q[v.name] = v.has_qp && (t->dtype == DType::kU8 || t->dtype == DType::kS8)
                    ? std::make_shared<const Tensor>(dequantized(*t, v.qp))
                    : t;
  });
  std::vector<NodeReport> out;
  for (const Node& n : nodes_) {
    NodeReport r;
    r.node = n.name;
    const std::string& name = values_[size_t(n.outputs[0])].name;
    auto a = f.find(name), b = q.find(name);
    if (n.internal || a == f.end() || b == q.end() || a->second->dtype != DType::kF32 || b->second->dtype != DType::kF32 ||
        a->second->count() != b->second->count()) {
      r.sqnr_db = NAN;
      r.max_abs_error = NAN;
      out.push_back(r);
      continue;
    }
    double s = 0, e = 0, m = 0;
    const float* x = a->second->data<float>();
    const float* y = b->second->data<float>();
    for (uint64_t k = 0, c = a->second->count(); k < c; ++k) {
      const double d = double(x[k]) - double(y[k]);
      s += double(x[k]) * double(x[k]);
      e += d * d;
      m = std::max(m, std::fabs(d));
    }
    r.sqnr_db = e == 0 ? INFINITY : 10.0 * std::log10(s / e);
    r.max_abs_error = m;
    out.push_back(r);
  }
  return out;
}

std::vector<uint8_t> Graph::save_observers() const {
  require_state(GraphState::kPrepared, "save_observers");
  NamedObservers set;
  for (size_t i = 0; i < observers_.size(); ++i)
    if (observers_[i]) set.emplace_back(values_[i].name, observers_[i].get());
  return save_observer_set(set);
}

void Graph::merge_observers(const uint8_t* data, size_t size) {
  require_state(GraphState::kPrepared, "merge_observers");
  uint64_t count = 0;
  for (const auto& o : observers_) count += o ? 1 : 0;
  auto merged = merge_observer_set(data, size, count, [&](const std::string& name) -> const Observer* {
    const int id = find_value(name);
    return id < 0 ? nullptr : observers_[size_t(id)].get();
  });
  for (auto& m : merged) observers_[size_t(find_value(m.first))] = std::shared_ptr<Observer>(std::move(m.second));
}

}  // namespace graph
}  // namespace qk
