// SPDX-License-Identifier: Apache-2.0
// ONNX -> graph v2. The importer walks the ONNX graph in order and hands each node to its
// converter (src/onnx/op_table.cc: one row per ONNX op type; converters with logic of their own
// live in src/onnx/ops/<op>.cc). Converters see a node through ImportContext: inputs by
// position, the import-time constant of an input (initializers, Constant nodes and everything
// folded from them), symbolic shape values (Shape of an input with a symbolic batch), the
// node's attributes; they emit graph nodes, constants or shape values for the outputs.
//
// Constants are folded while importing: a node whose inputs are all constants runs once (its
// graph op's float reference) and never becomes a graph node. That is how the shape arithmetic
// exporters emit (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) disappears, with a symbolic
// batch carried as a symbolic dim through "shape values" until it reaches a Reshape.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "onnx/onnx_proto.h"

namespace qk {
namespace onnx {

// A 1-D int64 value computed from shapes with at least one symbolic dim (Shape of an input with
// a symbolic batch, then Gather / Concat / Slice ...): kept as dims until a Reshape takes it.
// `scalar`: a rank-0 value (one dim, from a Gather with a scalar index).
struct ShapeValue {
  graph::Dims dims;
  bool scalar = false;
};

struct ImportOptions {
  ExternalData external;
};

// The graph of an ONNX model (FLOAT state). kCorrupt for malformed files, kUnsupported listing
// every unsupported op type (one node name each).
std::unique_ptr<graph::Graph> import_model(const uint8_t* data, size_t size, const ImportOptions& options);

class Importer;

// One ONNX node as its converter sees it.
class ImportContext {
 public:
  ImportContext(Importer& imp, const Onnx__NodeProto& node, int64_t opset) : imp_(imp), node_(node), opset_(opset) {}
  const Onnx__NodeProto& node() const { return node_; }
  std::string node_name() const;
  int64_t opset() const { return opset_; }
  const ExternalData& external() const;  // where a Constant's external data may come from

  size_t input_count() const { return node_.n_input; }
  size_t output_count() const { return node_.n_output; }
  bool has_input(size_t i) const { return i < node_.n_input && node_.input[i][0] != '\0'; }
  // Graph value name of input i ("" when absent); the value is added to the graph if it was an
  // import-time constant only.
  std::string input(size_t i);
  const graph::Tensor* constant(size_t i) const;   // import-time constant of input i, or null
  const ShapeValue* shape_value(size_t i) const;  // symbolic shape value of input i, or null
  const graph::TensorType* type(size_t i) const;   // declared type of input i, or null
  // Zeros of a symbolic shape (ConstantOfShape of a shape value with value 0: the initial states
  // exporters build for a recurrent layer), or null. Only Slice and the recurrent ops take them.
  const graph::Dims* zeros(size_t i) const;
  void set_zeros(size_t out, graph::Dims dims);
  // Can a dim expression be evaluated from the graph inputs' symbolic dims alone (names of
  // graph-input dims and integers under + - * /)? Graph ops then size dims by it at run time.
  bool resolvable(const std::string& expr) const;
  // Output i is read by a later node or is a graph output.
  bool output_used(size_t i) const;
  std::string output(size_t i);
  // The ONNX name of output i (kCorrupt when the node has fewer outputs).
  const char* out_name(size_t i) const;

  // Attributes (ONNX defaults when absent; a present attribute of another type is kCorrupt).
  const Onnx__AttributeProto* attr(const char* name) const;
  int64_t attr_int(const char* name, int64_t dflt) const;
  float attr_float(const char* name, float dflt) const;
  std::string attr_string(const char* name, const std::string& dflt) const;
  std::vector<int64_t> attr_ints(const char* name) const;
  std::vector<float> attr_floats(const char* name) const;
  const Onnx__TensorProto* attr_tensor(const char* name) const;
  // The ints of input i, which must be an import-time constant of an integer type ("what" in
  // the error); absent input: empty with *present false.
  std::vector<int64_t> const_ints(size_t i, const char* what, bool* present = nullptr) const;
  std::vector<float> const_floats(size_t i, const char* what, bool* present = nullptr) const;

  // Emits graph op `op` (inputs as graph value names, "" absent) for outputs `outs` (ONNX
  // output positions). When every present input is an import-time constant, the op runs now
  // and its outputs become constants instead.
  void emit(const char* op, const std::vector<std::string>& inputs, const std::vector<size_t>& outs,
            const graph::Attributes& attrs);
  // Every ONNX attribute of the node copied as a graph attribute, minus `drop`.
  graph::Attributes copy_attrs(const std::set<std::string>& drop = {}) const;
  void set_constant(size_t out, graph::Tensor t);
  void set_shape_value(size_t out, ShapeValue v);
  // Output `out` is input `in` under another name (Identity, Dropout at inference).
  void alias(size_t out, size_t in);
  // Emits a single-output graph op whose output is an intermediate (no ONNX name): returns its
  // graph value name (constant folding as emit()).
  std::string emit_temp(const char* op, const std::vector<std::string>& inputs, const graph::Attributes& attrs);
  // An intermediate constant added to the graph: returns its value name.
  std::string add_constant(graph::Tensor t);

 private:
  Importer& imp_;
  const Onnx__NodeProto& node_;
  int64_t opset_;
};

// A converter: turns one ONNX node into graph nodes / constants / shape values.
using Converter = void (*)(ImportContext& ctx);
struct ConverterRow {
  const char* onnx_op;
  Converter convert;
};
// op_table.cc: the converter of an ONNX op type (default domain), or null.
Converter find_converter(const std::string& op_type);
const ConverterRow* all_converters(size_t* count);

// Converter helpers shared by op files.
// The op of the same name and attributes in the graph registry (Relu, Conv, MatMul, ...): all
// inputs passed through, every attribute copied.
void convert_same(ImportContext& ctx);

}  // namespace onnx
}  // namespace qk
