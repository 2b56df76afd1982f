// SPDX-License-Identifier: Apache-2.0
// qk::graph::Graph: the general model graph behind a qk_model made by qk_model_create_graph()
// (experimental until 1.1). Values (inputs with symbolic dims, constants, node outputs), nodes
// of registered ops, graph outputs; the life cycle FLOAT -> PREPARED -> CONVERTED, or FLOAT ->
// DYNAMIC, with explicit passes (src/graph/passes/). Building validates everything before
// changing anything. Throws qk::Error; the C shim (capi/capi_graph.cc) is the firewall.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/quant_spec.h"
#include "graph/node.h"
#include "graph/op.h"
#include "graph/plan.h"
#include "observers/observer.h"

namespace qk {

class ThreadPool;

namespace graph {

// Values mirror qk_model_state.
enum class GraphState : int { kFloat = 1, kPrepared = 2, kConverted = 3, kDynamic = 4 };

// A node's qconfig: the model default, patched by op type ("type:Conv"), then by node name.
struct NodeConfig {
  bool has_observer = false, has_dtype = false, has_scheme = false, has_skip = false;
  ObserverKind observer = ObserverKind::kHistogram;
  DType act_dtype = DType::kU8;
  QScheme weight_scheme = QScheme::kPerChannelSymmetric;
  bool skip = false;
};

// Named tensors handed to and returned by a run.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// What quantization costs at one node: its (first) output, float graph vs int8 graph.
struct NodeReport {
  std::string node;
  double sqnr_db = 0;        // +Inf exact, NaN when the output is not f32 in both
  double max_abs_error = 0;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = default;  // passes work on a copy: nothing changes on error
  Graph& operator=(const Graph&) = default;

  // ---- Building (FLOAT only) -----------------------------------------------------------
  void add_input(const std::string& name, DType dtype, const Dims& dims);
  void add_constant(const std::string& name, Tensor data);
  // inputs: value names, "" for an absent optional input. Infers the outputs' types.
  // allow_internal: the loader rebuilding a converted graph may add the qk.* ops convert inserts.
  void add_node(const std::string& op_type, const std::string& name, const std::vector<std::string>& inputs,
                const std::vector<std::string>& outputs, const Attributes& attrs, bool allow_internal = false);
  void add_output(const std::string& value);

  // ---- Passes (src/graph/passes/) --------------------------------------------------------
  void fuse();            // fold constants, then conv/linear + bn + relu/clip, add + relu
  void fold_constants();  // nodes whose inputs are all constants become constants

  // ---- Quantization ----------------------------------------------------------------------
  void set_config(const char* node_or_type, const NodeConfig& patch);
  void prepare();
  void calibrate(const NamedTensors& inputs);
  void set_value_qparams(const std::string& value, const QParams& qp);
  void convert();
  void quantize_dynamic();
  // Observer statistics of a PREPARED graph (observers/observer_set.h), saved and merged from a
  // graph with the same values and qconfig (all or nothing).
  std::vector<uint8_t> save_observers() const;
  void merge_observers(const uint8_t* data, size_t size);
  // CONVERTED: per node in node order, float vs int8 on these inputs (NaN for convert's qk.*
  // nodes, which have no float counterpart).
  std::vector<NodeReport> node_report(const NamedTensors& inputs) const;

  // ---- Running (const: thread-safe) ------------------------------------------------------
  // Inputs by name (every graph input, f32 for f32 inputs); returns the graph outputs (f32 for
  // quantized ones) in add_output order.
  NamedTensors run(const NamedTensors& inputs, ThreadPool* pool) const;

  // ---- Introspection ---------------------------------------------------------------------
  GraphState state() const { return state_; }
  const std::vector<Value>& values() const { return values_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<int>& inputs() const { return inputs_; }
  const std::vector<int>& outputs() const { return outputs_; }
  int find_value(const std::string& name) const;  // -1 if absent
  const Value& value(const std::string& name) const;  // throws kNotFound
  NodeConfig config_for(const Node& n) const;
  const NodeConfig& default_config() const { return default_cfg_; }
  const std::map<std::string, NodeConfig>& node_overrides() const { return overrides_; }
  const std::map<std::string, NodeConfig>& type_overrides() const { return type_overrides_; }
  // Built by the layer API (qk_model_create; capi/capi_model_layers.cc): the one input has a
  // leading batch dimension the layer calls do not show, and run/calibrate may take and give
  // NHWC. Saved as the line "layers nhwc=0|1".
  bool layer_api() const { return layer_api_; }
  bool nhwc_io() const { return nhwc_io_; }
  void set_layer_api(bool nhwc_io) {
    layer_api_ = true;
    nhwc_io_ = nhwc_io;
  }

  // ---- Used by passes, the executor and the serializer -----------------------------------
  int new_value(Value v);  // appends; name must be unused
  void rename_value(int id, const std::string& name);  // name must be unused
  std::vector<Value>& mutable_values() { return values_; }
  std::vector<Node>& mutable_nodes() { return nodes_; }
  void set_state(GraphState s) { state_ = s; }
  void set_outputs(std::vector<int> ids) { outputs_ = std::move(ids); }
  std::vector<std::shared_ptr<Observer>>& observers() { return observers_; }
  const std::vector<std::shared_ptr<Observer>>& observers() const { return observers_; }
  // Infers node `n`'s outputs from its inputs' declared types (and constants).
  std::vector<TensorType> infer_node(const Node& n) const;
  void require_state(GraphState s, const char* what) const;
  const PlanCache& plan_cache() const { return plans_; }
  // Drops values no node, input or output refers to, and re-indexes names (after a pass).
  void compact();
  // A fresh value name "<base>", "<base>_1", ... not used yet.
  std::string unique_name(const std::string& base) const;
  void restore_config(NodeConfig dflt, std::map<std::string, NodeConfig> by_node,
                      std::map<std::string, NodeConfig> by_type) {
    default_cfg_ = dflt;
    overrides_ = std::move(by_node);
    type_overrides_ = std::move(by_type);
  }

 private:
  void check_new_value_name(const std::string& name) const;

  std::vector<Value> values_;
  std::map<std::string, int> value_index_;
  std::vector<Node> nodes_;  // topological order: a node's inputs exist when it is added
  std::vector<int> inputs_, outputs_;
  std::map<std::string, int> node_index_;
  NodeConfig default_cfg_;
  std::map<std::string, NodeConfig> overrides_;       // by node name
  std::map<std::string, NodeConfig> type_overrides_;  // by op type
  // PREPARED: per value id (null: none). Shared so the graph stays copyable; copies are only
  // made in FLOAT state (passes), where there are none.
  std::vector<std::shared_ptr<Observer>> observers_;
  GraphState state_ = GraphState::kFloat;
  mutable PlanCache plans_;  // run plans, CONVERTED / DYNAMIC only (graph/plan.h)
  bool layer_api_ = false, nhwc_io_ = false;
};

void validate_value_name(const std::string& name, const char* what);

}  // namespace graph
}  // namespace qk
