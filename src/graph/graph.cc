// SPDX-License-Identifier: Apache-2.0
// Graph building: every check runs before the graph changes (the house rule), so a failed call
// leaves the model exactly as it was.
#include "graph/graph.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace qk {
namespace graph {

namespace {
constexpr size_t kMaxValues = size_t(1) << 20;
constexpr size_t kMaxNodeIo = 255;  // OpDef arity is a uint8_t
const char* const kStateNames[] = {"", "FLOAT", "PREPARED", "CONVERTED", "DYNAMIC"};

// Re-throws an op's error with the node named, so ops need not repeat it.
[[noreturn]] void rethrow_for(const Node& n, const Error& e) {
  throw Error(e.status(), format("node '%s' (%s): %s", n.name.c_str(), n.op ? n.op->name : "?", e.what()));
}
}  // namespace

void validate_value_name(const std::string& name, const char* what) {
  QK_FAIL_IF(name.empty() || name.size() > 256, kInvalidArgument, "%s must be 1..256 bytes (got %zu)", what,
             name.size());
  for (unsigned char c : name)
    QK_FAIL_IF(c <= 0x20 || c >= 0x7F, kInvalidArgument, "%s '%s' has a byte 0x%02x that is not printable ASCII",
               what, name.c_str(), c);
}

void Graph::require_state(GraphState s, const char* what) const {
  QK_FAIL_IF(state_ != s, kState, "%s needs a %s model (this one is %s)", what, kStateNames[int(s)],
             kStateNames[int(state_)]);
}

int Graph::find_value(const std::string& name) const {
  auto it = value_index_.find(name);
  return it == value_index_.end() ? -1 : it->second;
}

const Value& Graph::value(const std::string& name) const {
  const int id = find_value(name);
  QK_FAIL_IF(id < 0, kNotFound, "unknown value '%s'", name.c_str());
  return values_[size_t(id)];
}

void Graph::check_new_value_name(const std::string& name) const {
  validate_value_name(name, "value name");
  QK_FAIL_IF(value_index_.count(name) != 0, kInvalidArgument, "duplicate value name '%s' (values are named once)",
             name.c_str());
  QK_FAIL_IF(values_.size() >= kMaxValues, kInvalidArgument, "too many values (%zu)", values_.size());
}

int Graph::new_value(Value v) {
  check_new_value_name(v.name);
  const int id = int(values_.size());
  value_index_[v.name] = id;
  values_.push_back(std::move(v));
  return id;
}

void Graph::rename_value(int id, const std::string& name) {
  check_new_value_name(name);
  value_index_.erase(values_[size_t(id)].name);
  values_[size_t(id)].name = name;
  value_index_[name] = id;
}

std::string Graph::unique_name(const std::string& base) const {
  if (!value_index_.count(base) && !node_index_.count(base)) return base;
  for (size_t i = 1;; ++i) {
    std::string s = base + "_" + std::to_string(i);
    if (!value_index_.count(s) && !node_index_.count(s)) return s;
  }
}

void Graph::add_input(const std::string& name, DType dtype, const Dims& dims) {
  require_state(GraphState::kFloat, "adding an input");
  check_new_value_name(name);
  QK_FAIL_IF(dtype != DType::kF32 && dtype != DType::kS64 && dtype != DType::kS32 && dtype != DType::kBool,
             kInvalidArgument, "input '%s': dtype %s (graph inputs are f32, s32, s64 or bool)", name.c_str(),
             dtype_name(dtype));
  QK_FAIL_IF(dims.size() > kMaxGraphRank, kInvalidArgument, "input '%s': rank %zu is above %zu", name.c_str(),
             dims.size(), kMaxGraphRank);
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i].known()) {
      QK_FAIL_IF(dims[i].size >= kMaxDimSize, kInvalidArgument, "input '%s': dimension %zu = %lld is too large",
                 name.c_str(), i, (long long)dims[i].size);
    } else {
      validate_value_name(dims[i].symbol, "dimension name");
    }
  }
  Value v;
  v.name = name;
  v.type.dtype = dtype;
  v.type.dims = dims;
  v.is_input = true;
  inputs_.push_back(new_value(std::move(v)));
}

void Graph::add_constant(const std::string& name, Tensor data) {
  require_state(GraphState::kFloat, "adding a constant");
  check_new_value_name(name);
  QK_FAIL_IF(data.dtype != DType::kF32 && data.dtype != DType::kS64 && data.dtype != DType::kS32 &&
                 data.dtype != DType::kBool && data.dtype != DType::kF16 && data.dtype != DType::kS8 &&
                 data.dtype != DType::kU8,
             kInvalidArgument, "constant '%s': dtype %s is not a graph dtype", name.c_str(), dtype_name(data.dtype));
  checked_count(data.shape, "constant shape");
  if (data.dtype == DType::kF32) {
    const float* p = data.data<float>();
    for (uint64_t i = 0; i < data.count(); ++i)
      QK_FAIL_IF(!std::isfinite(p[i]), kInvalidArgument, "constant '%s'[%llu] is not finite", name.c_str(),
                 (unsigned long long)i);
  }
  Value v;
  v.name = name;
  v.type.dtype = data.dtype;
  v.type.dims = known_dims(data.shape);
  v.constant = std::make_shared<const Tensor>(std::move(data));
  new_value(std::move(v));
}

std::vector<TensorType> Graph::infer_node(const Node& n) const {
  InferContext ctx{n, {}, {}, {}, {}};
  for (int id : n.inputs) {
    ctx.present.push_back(id >= 0);
    TensorType t = id >= 0 ? values_[size_t(id)].type : TensorType{};
    // int8 codes (a converted graph's quantized constants) stand for f32 values, as in a run.
    if (id >= 0 && values_[size_t(id)].has_qp && (t.dtype == DType::kU8 || t.dtype == DType::kS8)) t.dtype = DType::kF32;
    ctx.inputs.push_back(t);
    ctx.constants.push_back(id >= 0 ? values_[size_t(id)].constant.get() : nullptr);
  }
  ctx.outputs.resize(n.outputs.size());
  try {
    n.op->infer(ctx);
  } catch (const Error& e) {
    rethrow_for(n, e);
  }
  for (size_t i = 0; i < ctx.outputs.size(); ++i) {
    const Dims& d = ctx.outputs[i].dims;
    QK_FAIL_IF(d.size() > kMaxGraphRank, kInvalidArgument, "node '%s': output %zu has rank %zu", n.name.c_str(), i,
               d.size());
    uint64_t count = 1;
    for (const Dim& x : d)
      if (x.known()) {
        QK_FAIL_IF(x.size >= kMaxDimSize, kInvalidArgument, "node '%s': output %zu dimension %lld out of range",
                   n.name.c_str(), i, (long long)x.size);
        count *= uint64_t(x.size);
        QK_FAIL_IF(count >= kMaxElements, kInvalidArgument, "node '%s': output %zu is too large", n.name.c_str(), i);
      }
  }
  return ctx.outputs;
}

void Graph::add_node(const std::string& op_type, const std::string& name, const std::vector<std::string>& inputs,
                     const std::vector<std::string>& outputs, const Attributes& attrs, bool allow_internal) {
  require_state(GraphState::kFloat, "adding a node");
  const OpDef* op = find_op(op_type);
  QK_FAIL_IF(op == nullptr, kUnsupported, "unknown op type '%s'", op_type.c_str());
  QK_FAIL_IF(!allow_internal && op_type.compare(0, 3, "qk.") == 0, kInvalidArgument,
             "op '%s' is inserted by convert, it cannot be added by hand", op_type.c_str());
  validate_value_name(name, "node name");
  QK_FAIL_IF(node_index_.count(name) != 0, kInvalidArgument, "duplicate node name '%s'", name.c_str());
  QK_FAIL_IF(name.compare(0, 5, "type:") == 0, kInvalidArgument,
             "node name '%s': names starting with 'type:' are reserved for qconfig by op type", name.c_str());
  QK_FAIL_IF(inputs.size() > kMaxNodeIo || outputs.size() > kMaxNodeIo, kInvalidArgument, "node '%s': too many inputs or outputs",
             name.c_str());
  QK_FAIL_IF(inputs.size() < op->min_inputs || inputs.size() > op->max_inputs, kInvalidArgument,
             "node '%s' (%s) takes %u..%u inputs (got %zu)", name.c_str(), op->name, op->min_inputs, op->max_inputs,
             inputs.size());
  QK_FAIL_IF(outputs.size() < op->min_outputs || outputs.size() > op->max_outputs, kInvalidArgument,
             "node '%s' (%s) has %u..%u outputs (got %zu)", name.c_str(), op->name, op->min_outputs,
             op->max_outputs, outputs.size());
  try {
    attrs.validate(op->name, op->attrs, op->attr_count);
  } catch (const Error& e) {
    throw Error(e.status(), format("node '%s': %s", name.c_str(), e.what()));
  }
  Node n;
  n.name = name;
  n.op = op;
  n.attrs = attrs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) {
      n.inputs.push_back(-1);
      continue;
    }
    const int id = find_value(inputs[i]);
    QK_FAIL_IF(id < 0, kNotFound, "node '%s': unknown input value '%s'", name.c_str(), inputs[i].c_str());
    n.inputs.push_back(id);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    check_new_value_name(outputs[i]);
    for (size_t j = 0; j < i; ++j)
      QK_FAIL_IF(outputs[i] == outputs[j], kInvalidArgument, "node '%s': output '%s' named twice", name.c_str(),
                 outputs[i].c_str());
    n.outputs.push_back(int(values_.size() + i));  // ids the outputs get below
  }
  const std::vector<TensorType> types = infer_node(n);
  // Commit: nothing below throws except allocation failure.
  const int node_id = int(nodes_.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    Value v;
    v.name = outputs[i];
    v.type = types[i];
    v.producer = node_id;
    new_value(std::move(v));
  }
  node_index_[name] = node_id;
  nodes_.push_back(std::move(n));
}

void Graph::add_output(const std::string& value) {
  require_state(GraphState::kFloat, "adding an output");
  const int id = find_value(value);
  QK_FAIL_IF(id < 0, kNotFound, "unknown value '%s'", value.c_str());
  QK_FAIL_IF(std::count(outputs_.begin(), outputs_.end(), id) != 0, kInvalidArgument, "'%s' is already an output",
             value.c_str());
  outputs_.push_back(id);
}

void Graph::compact() {
  std::vector<bool> used(values_.size(), false);
  for (int id : inputs_) used[size_t(id)] = true;
  for (int id : outputs_) used[size_t(id)] = true;
  for (const Node& n : nodes_) {
    for (int id : n.inputs)
      if (id >= 0) used[size_t(id)] = true;
    for (int id : n.outputs) used[size_t(id)] = true;
  }
  // A quantized constant keeps its f32 source (the float view of a converted graph reads it).
  for (size_t i = 0; i < values_.size(); ++i) {
    const int src = used[i] && !values_[i].quantized_from.empty() ? find_value(values_[i].quantized_from) : -1;
    if (src >= 0) used[size_t(src)] = true;
  }
  std::vector<int> remap(values_.size(), -1);
  std::vector<Value> kept;
  std::vector<std::shared_ptr<Observer>> obs;
  for (size_t i = 0; i < values_.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = int(kept.size());
    kept.push_back(std::move(values_[i]));
    if (i < observers_.size()) obs.push_back(observers_[i]);
  }
  auto fix = [&](std::vector<int>& ids) {
    for (int& id : ids)
      if (id >= 0) id = remap[size_t(id)];
  };
  fix(inputs_);
  fix(outputs_);
  node_index_.clear();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    fix(nodes_[i].inputs);
    fix(nodes_[i].outputs);
    for (int id : nodes_[i].outputs) kept[size_t(id)].producer = int(i);
    node_index_[nodes_[i].name] = int(i);
  }
  values_ = std::move(kept);
  if (!observers_.empty()) observers_ = std::move(obs);
  value_index_.clear();
  for (size_t i = 0; i < values_.size(); ++i) value_index_[values_[i].name] = int(i);
}

// ------------------------------------------------------------------------------------------
// qconfig

namespace {
void apply_patch(NodeConfig* cfg, const NodeConfig& patch) {
  if (patch.has_observer) cfg->has_observer = true, cfg->observer = patch.observer;
  if (patch.has_dtype) cfg->has_dtype = true, cfg->act_dtype = patch.act_dtype;
  if (patch.has_scheme) cfg->has_scheme = true, cfg->weight_scheme = patch.weight_scheme;
  if (patch.has_skip) cfg->has_skip = true, cfg->skip = patch.skip;
}
void apply_override(NodeConfig* c, const NodeConfig& o) {
  if (o.has_observer) c->observer = o.observer;
  if (o.has_dtype) c->act_dtype = o.act_dtype;
  if (o.has_scheme) c->weight_scheme = o.weight_scheme;
  if (o.has_skip) c->skip = o.skip;
}
}  // namespace

void Graph::set_config(const char* target, const NodeConfig& patch) {
  require_state(GraphState::kFloat, "qconfig");
  if (!target) {
    apply_patch(&default_cfg_, patch);
    return;
  }
  const std::string name(target);
  validate_value_name(name, "node");
  if (name.compare(0, 5, "type:") == 0) {
    QK_FAIL_IF(find_op(name.substr(5)) == nullptr, kNotFound, "unknown op type '%s' (e.g. type:Conv, type:MatMul)",
               name.c_str() + 5);
    apply_patch(&type_overrides_[name.substr(5)], patch);
    return;
  }
  QK_FAIL_IF(!node_index_.count(name), kNotFound, "unknown node '%s'", target);
  apply_patch(&overrides_[name], patch);
}

NodeConfig Graph::config_for(const Node& n) const {
  NodeConfig c = default_cfg_;
  auto t = type_overrides_.find(n.op->name);
  if (t != type_overrides_.end()) apply_override(&c, t->second);
  auto it = overrides_.find(n.name);
  if (it != overrides_.end()) apply_override(&c, it->second);
  return c;
}

}  // namespace graph
}  // namespace qk
