// SPDX-License-Identifier: Apache-2.0
// Replaces the constant weight of every int8 and dynamic weighted node (Conv, Linear, MatMul with
// a constant B) by s8 codes with their qparams, quantized once here with the node's weight scheme.
// The kernels pack from these codes, and a saved converted model stores them instead of the f32
// weight (4x smaller). The f32 weight stays in memory while something refers to it (the float
// view of the per-node report); a loaded model's report dequantizes the codes instead.
#include <map>
#include <utility>

#include "graph/op.h"
#include "graph/passes/passes.h"

namespace qk {
namespace graph {

void quantize_weights_pass(Graph& g) {
  std::map<std::pair<int, int>, int> codes_of;  // (f32 weight, scheme) -> its codes value
  std::map<int, std::string> renamed;            // f32 weight -> its new name
  for (size_t ni = 0; ni < g.nodes().size(); ++ni) {
    const Node& n = g.nodes()[ni];
    const size_t wi = n.op->weight_input;
    if (n.mode == NodeMode::kFloat || wi == 0 || wi >= n.inputs.size() || n.inputs[wi] < 0) continue;
    const int id = n.inputs[wi];
    const Value& src = g.values()[size_t(id)];
    if (!src.is_constant() || src.constant->dtype != DType::kF32) continue;  // codes already (a loaded model)
    const QScheme scheme = g.config_for(n).weight_scheme;
    const auto key = std::make_pair(id, int(scheme));
    auto it = codes_of.find(key);
    if (it == codes_of.end()) {
      // The codes take the weight's name (qk_model_get_tensor_qparams("conv1.weight") gives the
      // weight qparams, and the file stores "const/conv1.weight" as a quantized tensor); the f32
      // source is renamed "<name>:f32".
      const bool first = !renamed.count(id);
      const std::string name = src.name;
      Value v;
      v.type = src.type;
      Tensor codes;
      try {
        v.qp = quantize_weight(*src.constant, scheme, n.op->weight_axis, &codes);
      } catch (const Error& e) {
        throw Error(e.status(), format("node '%s' (%s): %s", n.name.c_str(), n.op->name, e.what()));
      }
      if (first) {
        renamed[id] = g.unique_name(name + ":f32");
        g.rename_value(id, renamed[id]);
        v.name = name;
      } else {
        v.name = g.unique_name(name + ":q");
      }
      v.has_qp = true;
      v.constant = std::make_shared<const Tensor>(std::move(codes));
      v.quantized_from = renamed[id];
      it = codes_of.emplace(key, g.new_value(std::move(v))).first;
    }
    g.mutable_nodes()[ni].inputs[wi] = it->second;
  }
  g.compact();
}

}  // namespace graph
}  // namespace qk
