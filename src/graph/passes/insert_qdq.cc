// SPDX-License-Identifier: Apache-2.0
// Makes the int8 / float boundaries explicit: an int8 node reads codes, a float node reads f32.
// Each value is quantized or dequantized at most once however many nodes read it, and constant
// operands of int8 nodes are quantized here, once, with their own range.
#include <map>

#include "core/quantize.h"
#include "graph/passes/passes.h"

namespace qk {
namespace graph {

bool stored_quantized(const Graph& g, int id) {
  const Value& v = g.values()[size_t(id)];
  if (!v.has_qp) return false;
  if (v.is_constant()) return v.constant->dtype == DType::kU8 || v.constant->dtype == DType::kS8;
  if (v.producer < 0) return false;
  return g.nodes()[size_t(v.producer)].mode == NodeMode::kInt8;
}

namespace {

Node internal_node(const Graph& g, const char* op, const std::string& name, int in, int out) {
  Node n;
  n.op = find_op(op);
  n.name = g.unique_name(name);
  n.inputs = {in};
  n.outputs = {out};
  n.mode = NodeMode::kInt8;
  n.internal = true;
  return n;
}

// Per-tensor qparams of a constant from its own min/max (a constant operand has no observer).
QParams constant_qparams(const Tensor& t, DType dtype) {
  QuantSpec spec = QuantSpec::make(dtype, QScheme::kPerTensorAffine);
  const Shape s = Shape::from(t.shape.data(), t.shape.size(), "constant");
  return qparams_from_tensor(spec, t.data<float>(), s, nullptr);
}

}  // namespace

void insert_qdq_pass(Graph& g) {
  std::vector<Node> old = g.mutable_nodes();
  std::vector<Node> out;
  std::map<int, int> quantized_of, float_of;  // value id -> its quantized / f32 twin
  // The new nodes go into `out`; g.mutable_nodes() keeps the old list for stored_quantized().
  for (Node n : old) {
    const bool int8 = n.mode == NodeMode::kInt8;
    const NodeConfig cfg = g.config_for(n);
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const int id = n.inputs[i];
      if (id < 0) continue;
      const bool q = stored_quantized(g, id);
      if (int8 && !takes_float_input(*n.op, i, g.values()[size_t(id)].is_constant()) && !q) {
        auto it = quantized_of.find(id);
        if (it == quantized_of.end()) {
          Value src = g.values()[size_t(id)];
          Value v;
          v.name = g.unique_name(src.name + ":q");
          v.type = src.type;
          v.has_qp = true;
          if (src.is_constant()) {
            QK_FAIL_IF(src.constant->dtype != DType::kF32, kInvalidArgument,
                       "node '%s': int8 operand '%s' is a %s constant", n.name.c_str(), src.name.c_str(),
                       dtype_name(src.constant->dtype));
            v.qp = src.has_qp ? src.qp : constant_qparams(*src.constant, cfg.act_dtype);
            Tensor codes = Tensor::allocate(v.qp.dtype, src.constant->shape);
            const Shape s = Shape::from(codes.shape.data(), codes.shape.size(), "constant");
            quantize(v.qp, src.constant->data<float>(), s, codes.storage.get(), codes.bytes);
            v.constant = std::make_shared<const Tensor>(std::move(codes));
            v.quantized_from = src.name;
            const int nid = g.new_value(std::move(v));
            quantized_of[id] = nid;
          } else {
            QK_FAIL_IF(!src.has_qp, kInternal, "value '%s' has no qparams", src.name.c_str());
            v.qp = src.qp;
            const int nid = g.new_value(std::move(v));
            out.push_back(internal_node(g, "qk.Quantize", src.name + ":quantize", id, nid));
            g.mutable_values()[size_t(nid)].producer = -2;  // fixed up by compact()
            quantized_of[id] = nid;
          }
        }
        n.inputs[i] = quantized_of[id];
      } else if (!int8 && q) {
        auto it = float_of.find(id);
        if (it == float_of.end()) {
          const Value& src = g.values()[size_t(id)];
          Value v;
          v.name = g.unique_name(src.name + ":f");
          v.type = src.type;
          v.type.dtype = DType::kF32;
          const int nid = g.new_value(std::move(v));
          out.push_back(internal_node(g, "qk.Dequantize", src.name + ":dequantize", id, nid));
          float_of[id] = nid;
        }
        n.inputs[i] = float_of[id];
      }
    }
    out.push_back(std::move(n));
  }
  g.mutable_nodes() = std::move(out);
  g.compact();
}

}  // namespace graph
}  // namespace qk
