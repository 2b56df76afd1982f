// SPDX-License-Identifier: Apache-2.0
// Values and nodes of graph v2 (XNNPACK's subgraph shape: nodes over values). A value is any
// tensor of the graph: a graph input, a constant, or a node output. A node applies one op
// (src/graph/ops/<op>.cc, found through the registry) to input values and defines its outputs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/qparams.h"
#include "graph/attributes.h"
#include "graph/tensor.h"

namespace qk {
namespace graph {

struct OpDef;

struct Value {
  std::string name;
  TensorType type;      // declared (inputs) or inferred (node outputs) at build time
  int producer = -1;    // node index; -1 for graph inputs and constants
  bool is_input = false;
  std::shared_ptr<const Tensor> constant;  // constant data (weights are constants, not node fields)
  // Quantization (CONVERTED models): per-tensor activation qparams, the storage layout of int8
  // rank-4 codes.
  bool has_qp = false;
  QParams qp;
  bool user_qp = false;  // set by qk_model_set_tensor_qparams (QAT), wins over the observer
  Layout layout = Layout::kNCHW;
  std::string quantized_from;  // a constant operand's int8 codes: the f32 constant they quantize
  bool is_constant() const { return constant != nullptr; }
};

// How a CONVERTED / DYNAMIC model runs a node.
enum class NodeMode : int { kFloat = 0, kInt8 = 1, kDynamic = 2 };

struct Node {
  std::string name;
  const OpDef* op = nullptr;
  std::vector<int> inputs;   // value ids; -1 for an absent optional input
  std::vector<int> outputs;  // value ids
  Attributes attrs;
  NodeMode mode = NodeMode::kFloat;
  std::shared_ptr<const void> prepared;  // int8 / dynamic state built once at convert time
  std::string fused;                     // "conv1+bn1+relu1" after fusion
  bool internal = false;                 // inserted by a pass (Quantize, Dequantize, Reorder)
};

}  // namespace graph
}  // namespace qk
