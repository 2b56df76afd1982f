// SPDX-License-Identifier: Apache-2.0
// Constant folding: a node whose inputs are all constants (the shape arithmetic exporters emit,
// weight transposes, ...) runs once in float and its outputs become constants.
#include "graph/passes/passes.h"

namespace qk {
namespace graph {

void fold_constants_pass(Graph& g) {
  std::vector<Node> kept;
  std::vector<Node>& nodes = g.mutable_nodes();
  for (size_t ni = 0; ni < nodes.size(); ++ni) {
    Node& n = nodes[ni];
    bool all_const = !n.inputs.empty();
    for (int id : n.inputs)
      if (id >= 0 && !g.values()[size_t(id)].is_constant()) all_const = false;
    bool is_output = false;
    for (int id : n.outputs)
      for (int o : g.outputs()) is_output = is_output || o == id;
    if (!all_const || is_output) {
      kept.push_back(std::move(n));
      continue;
    }
    const std::vector<TensorType> types = g.infer_node(n);
    RunContext ctx{n, {}, {}, {}, {}, nullptr, nullptr};
    for (int id : n.inputs) ctx.in.push_back(id >= 0 ? g.values()[size_t(id)].constant.get() : nullptr);
    std::vector<Tensor> outs;
    outs.reserve(n.outputs.size());
    for (const TensorType& t : types) outs.push_back(Tensor::allocate(t.dtype, concrete(t.dims)));
    for (Tensor& t : outs) ctx.out.push_back(&t);
    n.op->run_float(ctx);
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      Value& v = g.mutable_values()[size_t(n.outputs[i])];
      v.constant = std::make_shared<const Tensor>(std::move(outs[i]));
      v.producer = -1;
    }
  }
  nodes = std::move(kept);
  g.compact();
}

void Graph::fold_constants() {
  require_state(GraphState::kFloat, "fold_constants");
  Graph g = *this;
  fold_constants_pass(g);
  *this = std::move(g);
}

}  // namespace graph
}  // namespace qk
