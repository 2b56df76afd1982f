// SPDX-License-Identifier: Apache-2.0
// Static and dynamic quantization of a graph: prepare (observers where the plan needs qparams),
// calibrate (float runs shown to the observers), convert (qparams, node modes, then the
// explicit passes: Q/DQ boundaries, int8 layouts; each int8 node prepared once), and dynamic.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "graph/executor.h"
#include "graph/passes/passes.h"
#include "graph/serialize.h"

namespace qk {
namespace graph {

namespace {

std::vector<TensorType> input_types(const Graph& g, const Node& n) {
  std::vector<TensorType> t;
  for (int id : n.inputs) t.push_back(id >= 0 ? g.values()[size_t(id)].type : TensorType{});
  return t;
}
std::vector<const Tensor*> input_constants(const Graph& g, const Node& n) {
  std::vector<const Tensor*> c;
  for (int id : n.inputs) c.push_back(id >= 0 ? g.values()[size_t(id)].constant.get() : nullptr);
  return c;
}

// The mode a node will have once converted. Weighted ops need their float inputs constant.
NodeMode planned_mode(const Graph& g, const Node& n) {
  if (g.config_for(n).skip || n.op->quant == QuantRule::kFloatOnly || !n.op->supports_int8 || !n.op->run_int8)
    return NodeMode::kFloat;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const int id = n.inputs[i];
    if (id < 0) continue;
    const Value& v = g.values()[size_t(id)];
    if (takes_float_input(*n.op, i, v.is_constant())) {
      if (!v.is_constant()) return NodeMode::kFloat;
    } else if (v.type.dtype != DType::kF32) {
      return NodeMode::kFloat;  // index / shape inputs: no int8 meaning
    }
  }
  // Output qparams derived from input 0 need input 0 to be an activation (a constant has none).
  if ((n.op->quant == QuantRule::kKeepsInputQParams || n.op->quant == QuantRule::kFixedQParams) &&
      (n.inputs.empty() || n.inputs[0] < 0 || g.values()[size_t(n.inputs[0])].is_constant()))
    return NodeMode::kFloat;
  return n.op->supports_int8(n, input_types(g, n), input_constants(g, n)) ? NodeMode::kInt8 : NodeMode::kFloat;
}

// Does value `id` (an output of node n under mode m) get its qparams from an observer?
bool observed_output(const Graph& g, const Node& n, NodeMode m, int id) {
  if (g.values()[size_t(id)].type.dtype != DType::kF32) return false;
  if (m == NodeMode::kFloat) return true;
  return n.op->quant == QuantRule::kObservedOutput || n.op->quant == QuantRule::kWeighted;
}

}  // namespace

void prepare_nodes(Graph& g) {
  for (Node& n : g.mutable_nodes()) {
    if (n.mode == NodeMode::kFloat || !n.op->prepare) continue;
    const std::vector<Value>& values = g.values();
    PrepareContext ctx{n, input_types(g, n), input_constants(g, n), {}, {}, {}, {}};
    for (int id : n.inputs) {
      ctx.in_qp.push_back(id >= 0 && values[size_t(id)].has_qp ? &values[size_t(id)].qp : nullptr);
      ctx.in_layout.push_back(id >= 0 ? values[size_t(id)].layout : Layout::kNCHW);
    }
    for (int id : n.outputs) {
      ctx.out_qp.push_back(values[size_t(id)].has_qp ? &values[size_t(id)].qp : nullptr);
      ctx.out_layout.push_back(values[size_t(id)].layout);
    }
    const NodeConfig c = g.config_for(n);
    ctx.weight_scheme = c.weight_scheme;
    ctx.dynamic = n.mode == NodeMode::kDynamic;
    // Static: the node's activation dtype; dynamic: PyTorch's quantize_dynamic (u8 activations).
    ctx.activation_dtype = ctx.dynamic ? DType::kU8 : c.act_dtype;
    // Dynamic: activations have no qparams (quantized per run); constants keep theirs (weights).
    if (ctx.dynamic)
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (n.inputs[i] < 0 || !values[size_t(n.inputs[i])].is_constant()) ctx.in_qp[i] = nullptr;
    try {
      n.prepared = n.op->prepare(ctx);
    } catch (const Error& e) {
      throw Error(e.status(), format("node '%s' (%s): %s", n.name.c_str(), n.op->name, e.what()));
    }
  }
}

void Graph::prepare() {
  require_state(GraphState::kFloat, "prepare");
  QK_FAIL_IF(outputs_.empty(), kState, "the model has no outputs (qk_model_add_output)");
  std::vector<std::shared_ptr<Observer>> obs(values_.size());
  auto make = [](const NodeConfig& c) {
    return std::shared_ptr<Observer>(make_observer(c.observer, QuantSpec::make(c.act_dtype, QScheme::kPerTensorAffine)));
  };
  for (int id : inputs_)
    if (values_[size_t(id)].type.dtype == DType::kF32) obs[size_t(id)] = make(default_cfg_);
  for (const Node& n : nodes_) {
    const NodeMode m = planned_mode(*this, n);
    for (int id : n.outputs)
      if (observed_output(*this, n, m, id)) obs[size_t(id)] = make(config_for(n));
  }
  observers_ = std::move(obs);
  state_ = GraphState::kPrepared;
}

void Graph::calibrate(const NamedTensors& inputs) {
  require_state(GraphState::kPrepared, "calibrate");
  // Collect first, update after the whole run succeeded: observers change all or not at all.
  std::vector<std::pair<int, std::shared_ptr<const Tensor>>> seen;
  execute(*this, inputs, nullptr, [&](int id, const std::shared_ptr<const Tensor>& t) {
    if (observers_[size_t(id)] && t->dtype == DType::kF32) seen.emplace_back(id, t);
  });
  for (auto& s : seen) {
    const Shape shape = Shape::from(s.second->shape.data(), s.second->shape.size(), "shape");
    observers_[size_t(s.first)]->update(s.second->data<float>(), shape);
  }
}

void Graph::set_value_qparams(const std::string& name, const QParams& qp) {
  QK_FAIL_IF(state_ != GraphState::kFloat && state_ != GraphState::kPrepared, kState,
             "set_tensor_qparams needs a FLOAT or PREPARED model");
  const int id = find_value(name);
  QK_FAIL_IF(id < 0, kNotFound, "unknown value '%s'", name.c_str());
  QK_FAIL_IF(!is_per_tensor(qp.scheme) || (qp.dtype != DType::kU8 && qp.dtype != DType::kS8), kInvalidArgument,
             "value '%s': activation qparams must be per-tensor u8 or s8", name.c_str());
  Value& v = values_[size_t(id)];
  QK_FAIL_IF(v.type.dtype != DType::kF32, kInvalidArgument, "value '%s' is %s, not f32", name.c_str(),
             dtype_name(v.type.dtype));
  if (v.producer >= 0) {
    const Node& n = nodes_[size_t(v.producer)];
    QK_FAIL_IF(!observed_output(*this, n, planned_mode(*this, n), id), kInvalidArgument,
               "value '%s' is the output of %s '%s', which %s", name.c_str(), n.op->name, n.name.c_str(),
               n.op->quant == QuantRule::kFixedQParams ? "has fixed qparams" : "keeps its input's qparams");
  }
  qp.validate();
  v.qp = qp;
  v.has_qp = true;
  v.user_qp = true;
}

void Graph::convert() {
  require_state(GraphState::kPrepared, "convert");
  Graph g = *this;
  auto observed = [&](int id) {
    Value& v = g.values_[size_t(id)];
    if (v.user_qp) return;
    const std::shared_ptr<Observer>& o = g.observers_[size_t(id)];
    QK_FAIL_IF(!o || !o->has_data(), kState, "value '%s' saw no calibration data (call qk_model_calibrate)",
               v.name.c_str());
    v.qp = o->compute_qparams();
    v.has_qp = true;
  };
  for (int id : g.inputs_)
    if (g.values_[size_t(id)].type.dtype == DType::kF32) observed(id);
  for (Node& n : g.nodes_) {
    n.mode = planned_mode(g, n);
    for (int id : n.outputs) {
      if (observed_output(g, n, n.mode, id)) {
        observed(id);
        continue;
      }
      if (n.mode != NodeMode::kInt8) continue;
      const Value& in = g.values_[size_t(n.inputs[0])];
      QK_FAIL_IF(!in.has_qp, kInternal, "node '%s': input '%s' has no qparams", n.name.c_str(), in.name.c_str());
      Value& v = g.values_[size_t(id)];
      v.qp = n.op->quant == QuantRule::kFixedQParams ? n.op->fixed_qparams(in.qp) : in.qp;
      v.has_qp = true;
    }
  }
  g.observers_.clear();
  insert_qdq_pass(g);
  layout_pass(g);
  quantize_weights_pass(g);
  prepare_nodes(g);
  g.state_ = GraphState::kConverted;
  *this = std::move(g);
}

void Graph::quantize_dynamic() {
  require_state(GraphState::kFloat, "quantize_dynamic");
  Graph g = *this;
  for (Node& n : g.nodes_) {
    const NodeConfig c = g.config_for(n);
    if (c.skip || !n.op->supports_dynamic || !n.op->run_dynamic || !n.op->prepare) continue;
    const std::vector<const Tensor*> consts = input_constants(g, n);
    bool weights_constant = true;
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if ((n.op->float_inputs & (1u << i)) && n.inputs[i] >= 0 && !consts[i]) weights_constant = false;
    if (!weights_constant || !n.op->supports_dynamic(n, input_types(g, n), consts)) continue;
    n.mode = NodeMode::kDynamic;
  }
  quantize_weights_pass(g);
  prepare_nodes(g);
  g.state_ = GraphState::kDynamic;
  *this = std::move(g);
}

}  // namespace graph
}  // namespace qk
