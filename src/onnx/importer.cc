// SPDX-License-Identifier: Apache-2.0
#include "onnx/importer.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/error.h"

namespace qk {
namespace onnx {

using graph::Attributes;
using graph::Dim;
using graph::Dims;
using graph::Tensor;

class Importer {
 public:
  explicit Importer(const ImportOptions& o) : options_(o), g_(std::make_unique<graph::Graph>()) {}
  std::unique_ptr<graph::Graph> run(const Onnx__ModelProto& m);

  // ---- used by ImportContext ----
  std::string graph_value(const std::string& onnx_name);
  std::string define_output(const std::string& onnx_name);
  std::string fresh_value_name(const std::string& base);
  std::string fresh_node_name(const std::string& base);

  graph::Graph& g() { return *g_; }
  const ImportOptions& options_;
  std::unique_ptr<graph::Graph> g_;
  std::map<std::string, std::shared_ptr<const Tensor>> consts_;  // import-time constants, by ONNX name
  std::map<std::string, ShapeValue> shapes_;                      // symbolic shape values
  std::map<std::string, graph::Dims> zeros_;                       // zeros of a symbolic shape
  std::map<std::string, std::string> in_graph_;                   // ONNX name -> graph value name
  std::map<std::string, int> uses_;                               // readers (+1 for a graph output)
  std::set<std::string> taken_;                                    // graph value / node names used
  std::map<std::string, size_t> next_suffix_;                      // fresh_value_name's next _N per base
  std::set<std::string> input_symbols_;                            // symbolic dims of the graph inputs
  size_t temp_count_ = 0;
};

namespace {

// Graph names are printable ASCII without spaces or commas (the graph text's separators), 1..256
// bytes: anything else becomes '_'.
std::string sanitize(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += (c <= 0x20 || c >= 0x7F || c == ',') ? '_' : char(c);
  if (out.empty()) out = "_";
  if (out.size() > 200) out = out.substr(0, 200);
  return out;
}

// Symbolic dim names also avoid the characters of dim expressions ("(batch*4)") and the ';' of
// Reshape's dim_symbols, and do not start with a digit.
std::string sanitize_symbol(const std::string& s) {
  std::string out = sanitize(s);
  for (char& c : out)
    if (std::strchr("()+-*/;", c)) c = '_';
  if (std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  return out;
}

int64_t default_opset(const Onnx__ModelProto& m) {
  int64_t v = -1;
  for (size_t i = 0; i < m.n_opset_import; ++i) {
    const Onnx__OperatorSetIdProto* o = m.opset_import[i];
    const std::string d = o->domain ? o->domain : "";
    if ((d.empty() || d == "ai.onnx") && o->has_version) v = o->version;
  }
  return v;
}

graph::TensorType input_type(const Onnx__ValueInfoProto& vi, const std::string& name) {
  QK_FAIL_IF(!vi.type || enum_value(vi.type->value_case) != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !vi.type->tensor_type,
             kUnsupported, "input '%s' is not a tensor", name.c_str());
  const Onnx__TypeProto__Tensor& t = *vi.type->tensor_type;
  QK_FAIL_IF(!t.has_elem_type, kCorrupt, "input '%s' has no element type", name.c_str());
  graph::TensorType tt;
  QK_FAIL_IF(t.elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE || t.elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16,
             kUnsupported, "input '%s' is %s: QuantKit models take float32 inputs", name.c_str(),
             t.elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ? "double" : "float16");
  tt.dtype = dtype_from_onnx(t.elem_type);
  QK_FAIL_IF(!t.shape, kUnsupported, "input '%s' has no shape (its rank is needed)", name.c_str());
  QK_FAIL_IF(t.shape->n_dim > graph::kMaxGraphRank, kUnsupported, "input '%s' has rank %zu", name.c_str(),
             t.shape->n_dim);
  for (size_t i = 0; i < t.shape->n_dim; ++i) {
    const Onnx__TensorShapeProto__Dimension* d = t.shape->dim[i];
    const int32_t which = enum_value(d->value_case);
    if (which == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
      QK_FAIL_IF(d->dim_value < 0, kCorrupt, "input '%s': dimension %zu is %lld", name.c_str(), i,
                 (long long)d->dim_value);
      tt.dims.push_back(Dim::of(d->dim_value));
    } else if (which == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param[0] != '\0') {
      tt.dims.push_back(Dim::sym(sanitize_symbol(d->dim_param)));
    } else {
      tt.dims.push_back(Dim::sym(sanitize_symbol(name + "_dim" + std::to_string(i))));
    }
  }
  return tt;
}

}  // namespace

std::string Importer::fresh_value_name(const std::string& base) {
  const std::string clean = sanitize(base);
  std::string name = clean;
  // The next suffix to try per base: n nodes sharing a name (unnamed nodes are named by their
  // op type) cost O(n) lookups in all, not O(n^2).
  size_t& next = next_suffix_[clean];
  while (taken_.count(name)) name = clean + "_" + std::to_string(++next);
  taken_.insert(name);
  return name;
}
std::string Importer::fresh_node_name(const std::string& base) { return fresh_value_name(base); }

std::string Importer::graph_value(const std::string& onnx_name) {
  auto it = in_graph_.find(onnx_name);
  if (it != in_graph_.end()) return it->second;
  auto c = consts_.find(onnx_name);
  if (c == consts_.end()) {
    QK_FAIL_IF(zeros_.count(onnx_name), kUnsupported,
               "'%s' is a tensor of zeros with symbolic dimensions %s; only the initial states of a recurrent "
               "layer may be one",
               onnx_name.c_str(), graph::dims_string(zeros_.at(onnx_name)).c_str());
    auto s = shapes_.find(onnx_name);
    QK_FAIL_IF(s != shapes_.end(), kUnsupported,
               "'%s' is a shape with symbolic dimensions %s used as data (only Reshape, Expand-free shape "
               "arithmetic takes it)",
               onnx_name.c_str(), graph::dims_string(s->second.dims).c_str());
    fail(Status::kCorrupt, "'%s' is read before anything defines it", onnx_name.c_str());
  }
  const std::string name = fresh_value_name(onnx_name);
  Tensor t = *c->second;  // shares the storage
  g_->add_constant(name, std::move(t));
  in_graph_[onnx_name] = name;
  return name;
}

std::string Importer::define_output(const std::string& onnx_name) {
  QK_FAIL_IF(in_graph_.count(onnx_name) || consts_.count(onnx_name) || shapes_.count(onnx_name), kCorrupt,
             "value '%s' is defined twice", onnx_name.c_str());
  const std::string name = fresh_value_name(onnx_name);
  in_graph_[onnx_name] = name;
  return name;
}

// ---- ImportContext ------------------------------------------------------------------------

std::string ImportContext::node_name() const {
  return node_.name && node_.name[0] ? std::string(node_.name) : std::string(node_.op_type);
}

const ExternalData& ImportContext::external() const { return imp_.options_.external; }

std::string ImportContext::input(size_t i) {
  if (!has_input(i)) return "";
  return imp_.graph_value(node_.input[i]);
}

const Tensor* ImportContext::constant(size_t i) const {
  if (!has_input(i)) return nullptr;
  auto it = imp_.consts_.find(node_.input[i]);
  return it == imp_.consts_.end() ? nullptr : it->second.get();
}

const ShapeValue* ImportContext::shape_value(size_t i) const {
  if (!has_input(i)) return nullptr;
  auto it = imp_.shapes_.find(node_.input[i]);
  return it == imp_.shapes_.end() ? nullptr : &it->second;
}

const graph::Dims* ImportContext::zeros(size_t i) const {
  if (!has_input(i)) return nullptr;
  auto it = imp_.zeros_.find(node_.input[i]);
  return it == imp_.zeros_.end() ? nullptr : &it->second;
}

void ImportContext::set_zeros(size_t out, graph::Dims dims) {
  const std::string name = out_name(out);
  if (name.empty()) return;
  QK_FAIL_IF(imp_.in_graph_.count(name) || imp_.consts_.count(name) || imp_.shapes_.count(name) ||
                 imp_.zeros_.count(name),
             kCorrupt, "value '%s' is defined twice", name.c_str());
  imp_.zeros_[name] = std::move(dims);
}

const graph::TensorType* ImportContext::type(size_t i) const {
  if (!has_input(i)) return nullptr;
  auto it = imp_.in_graph_.find(node_.input[i]);
  if (it == imp_.in_graph_.end()) return nullptr;
  return &imp_.g_->value(it->second).type;
}

bool ImportContext::resolvable(const std::string& expr) const {
  std::string tok;
  auto name_ok = [&](const std::string& t) {
    return t.empty() || std::isdigit(static_cast<unsigned char>(t[0])) || imp_.input_symbols_.count(t) != 0;
  };
  for (char c : expr) {
    if (std::strchr("()+-*/", c)) {
      if (!name_ok(tok)) return false;
      tok.clear();
    } else {
      tok += c;
    }
  }
  return name_ok(tok) && !expr.empty();
}

bool ImportContext::output_used(size_t i) const {
  if (i >= node_.n_output || node_.output[i][0] == '\0') return false;
  auto it = imp_.uses_.find(node_.output[i]);
  return it != imp_.uses_.end() && it->second > 0;
}

const char* ImportContext::out_name(size_t i) const {
  QK_FAIL_IF(i >= node_.n_output, kCorrupt, "the node has %zu outputs, output %zu is needed", node_.n_output, i);
  return node_.output[i];
}

std::string ImportContext::output(size_t i) { return imp_.define_output(out_name(i)); }

const Onnx__AttributeProto* ImportContext::attr(const char* name) const {
  for (size_t i = 0; i < node_.n_attribute; ++i)
    if (node_.attribute[i]->name && std::strcmp(node_.attribute[i]->name, name) == 0) return node_.attribute[i];
  return nullptr;
}

namespace {
void want_type(const Onnx__AttributeProto* a, Onnx__AttributeProto__AttributeType t, const char* what) {
  QK_FAIL_IF(a->has_type && enum_value(a->type) != int32_t(t), kCorrupt, "attribute '%s' is not %s", a->name, what);
}
}  // namespace

int64_t ImportContext::attr_int(const char* name, int64_t dflt) const {
  const Onnx__AttributeProto* a = attr(name);
  if (!a) return dflt;
  want_type(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, "an int");
  return a->i;
}
float ImportContext::attr_float(const char* name, float dflt) const {
  const Onnx__AttributeProto* a = attr(name);
  if (!a) return dflt;
  want_type(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, "a float");
  return a->f;
}
std::string ImportContext::attr_string(const char* name, const std::string& dflt) const {
  const Onnx__AttributeProto* a = attr(name);
  if (!a) return dflt;
  want_type(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, "a string");
  return std::string(reinterpret_cast<const char*>(a->s.data), a->s.len);
}
std::vector<int64_t> ImportContext::attr_ints(const char* name) const {
  const Onnx__AttributeProto* a = attr(name);
  if (!a) return {};
  want_type(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, "a list of ints");
  return std::vector<int64_t>(a->ints, a->ints + a->n_ints);
}
std::vector<float> ImportContext::attr_floats(const char* name) const {
  const Onnx__AttributeProto* a = attr(name);
  if (!a) return {};
  want_type(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS, "a list of floats");
  return std::vector<float>(a->floats, a->floats + a->n_floats);
}
const Onnx__TensorProto* ImportContext::attr_tensor(const char* name) const {
  const Onnx__AttributeProto* a = attr(name);
  if (!a) return nullptr;
  want_type(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR, "a tensor");
  QK_FAIL_IF(!a->t, kCorrupt, "attribute '%s' has no tensor", name);
  return a->t;
}

std::vector<int64_t> ImportContext::const_ints(size_t i, const char* what, bool* present) const {
  if (present) *present = has_input(i);
  if (!has_input(i)) return {};
  const Tensor* t = constant(i);
  QK_FAIL_IF(!t, kUnsupported, "%s (input %zu, '%s') must be a constant", what, i, node_.input[i]);
  std::vector<int64_t> v(size_t(t->count()));
  for (size_t k = 0; k < v.size(); ++k) {
    switch (t->dtype) {
      case DType::kS64: v[k] = t->data<int64_t>()[k]; break;
      case DType::kS32: v[k] = t->data<int32_t>()[k]; break;
      default: fail(Status::kInvalidArgument, "%s must be integers (got %s)", what, dtype_name(t->dtype));
    }
  }
  return v;
}

std::vector<float> ImportContext::const_floats(size_t i, const char* what, bool* present) const {
  if (present) *present = has_input(i);
  if (!has_input(i)) return {};
  const Tensor* t = constant(i);
  QK_FAIL_IF(!t, kUnsupported, "%s (input %zu, '%s') must be a constant", what, i, node_.input[i]);
  QK_FAIL_IF(t->dtype != DType::kF32, kInvalidArgument, "%s must be float (got %s)", what, dtype_name(t->dtype));
  return std::vector<float>(t->data<float>(), t->data<float>() + t->count());
}

Attributes ImportContext::copy_attrs(const std::set<std::string>& drop) const {
  Attributes a;
  for (size_t i = 0; i < node_.n_attribute; ++i) {
    const Onnx__AttributeProto* p = node_.attribute[i];
    const std::string name = p->name ? p->name : "";
    if (name.empty() || drop.count(name)) continue;
    switch (enum_value(p->type)) {
      case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: a.set_int(name, p->i); break;
      case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: a.set_float(name, p->f); break;
      case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        a.set_string(name, std::string(reinterpret_cast<const char*>(p->s.data), p->s.len));
        break;
      case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: a.set_ints(name, std::vector<int64_t>(p->ints, p->ints + p->n_ints)); break;
      case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        a.set_floats(name, std::vector<float>(p->floats, p->floats + p->n_floats));
        break;
      default: fail(Status::kUnsupported, "attribute '%s' has a type QuantKit does not take", name.c_str());
    }
  }
  return a;
}

void ImportContext::set_constant(size_t out, Tensor t) {
  const std::string name = out_name(out);
  if (name.empty()) return;
  QK_FAIL_IF(imp_.in_graph_.count(name) || imp_.consts_.count(name) || imp_.shapes_.count(name), kCorrupt,
             "value '%s' is defined twice", name.c_str());
  imp_.consts_[name] = std::make_shared<const Tensor>(std::move(t));
}

void ImportContext::set_shape_value(size_t out, ShapeValue v) {
  const std::string name = out_name(out);
  if (name.empty()) return;
  bool known = true;
  for (const Dim& d : v.dims) known = known && d.known();
  if (known) {  // every dim known: an ordinary constant
    Tensor t = Tensor::allocate(DType::kS64, v.scalar ? std::vector<int64_t>{} : std::vector<int64_t>{int64_t(v.dims.size())});
    for (size_t i = 0; i < v.dims.size(); ++i) t.data<int64_t>()[i] = v.dims[i].size;
    set_constant(out, std::move(t));
    return;
  }
  QK_FAIL_IF(imp_.in_graph_.count(name) || imp_.consts_.count(name) || imp_.shapes_.count(name), kCorrupt,
             "value '%s' is defined twice", name.c_str());
  imp_.shapes_[name] = std::move(v);
}

void ImportContext::alias(size_t out, size_t in) {
  QK_FAIL_IF(!has_input(in), kCorrupt, "input %zu is missing", in);
  const std::string o = out_name(out);
  if (o.empty()) return;
  if (const Tensor* c = constant(in)) {
    set_constant(out, *c);
  } else if (const ShapeValue* s = shape_value(in)) {
    set_shape_value(out, *s);
  } else {
    emit("Identity", {input(in)}, {out}, {});
  }
}

namespace {

// Runs graph op `op` on constant inputs (the import-time fold).
std::vector<Tensor> evaluate(const graph::OpDef& op, const std::string& name, const Attributes& attrs,
                             const std::vector<const Tensor*>& in, size_t n_out) {
  attrs.validate(op.name, op.attrs, op.attr_count);
  QK_FAIL_IF(in.size() < op.min_inputs || in.size() > op.max_inputs || n_out < op.min_outputs || n_out > op.max_outputs,
             kInvalidArgument, "%s takes %u..%u inputs and %u..%u outputs", op.name, op.min_inputs, op.max_inputs,
             op.min_outputs, op.max_outputs);
  graph::Node n;
  n.name = name;
  n.op = &op;
  n.attrs = attrs;
  graph::InferContext ictx{n, {}, {}, {}, {}};
  for (const Tensor* t : in) {
    ictx.present.push_back(t != nullptr);
    graph::TensorType tt;
    if (t) tt = graph::TensorType{t->dtype, graph::known_dims(t->shape)};
    ictx.inputs.push_back(tt);
    ictx.constants.push_back(t);
  }
  ictx.outputs.resize(n_out);
  op.infer(ictx);
  std::vector<Tensor> outs;
  for (const graph::TensorType& t : ictx.outputs) {
    QK_FAIL_IF(!graph::all_known(t.dims), kUnsupported, "a constant folded to a symbolic shape %s",
               graph::dims_string(t.dims).c_str());
    outs.push_back(Tensor::allocate(t.dtype, graph::concrete(t.dims)));
  }
  graph::RunContext rctx{n, in, {}, {}, {}, nullptr, nullptr};
  for (Tensor& t : outs) rctx.out.push_back(&t);
  op.run_float(rctx);
  return outs;
}

}  // namespace

void ImportContext::emit(const char* op_type, const std::vector<std::string>& inputs, const std::vector<size_t>& outs,
                         const Attributes& attrs) {
  const graph::OpDef* op = graph::find_op(op_type);
  QK_FAIL_IF(!op, kInternal, "no graph op '%s'", op_type);
  // All present inputs constant: fold now (inputs are graph names; look their constants up).
  bool all_const = true;
  std::vector<const Tensor*> cin;
  for (const std::string& name : inputs) {
    if (name.empty()) {
      cin.push_back(nullptr);
      continue;
    }
    const int id = imp_.g_->find_value(name);
    const graph::Value* v = id >= 0 ? &imp_.g_->values()[size_t(id)] : nullptr;
    if (!v || !v->is_constant()) {
      all_const = false;
      break;
    }
    cin.push_back(v->constant.get());
  }
  if (all_const && !inputs.empty()) {
    std::vector<Tensor> r = evaluate(*op, node_name(), attrs, cin, outs.size());
    for (size_t i = 0; i < outs.size(); ++i) set_constant(outs[i], std::move(r[i]));
    return;
  }
  std::vector<std::string> names;
  for (size_t o : outs) names.push_back(out_name(o)[0] ? output(o) : imp_.fresh_value_name(node_name() + ":unused"));
  imp_.g_->add_node(op_type, imp_.fresh_node_name(node_name()), inputs, names, attrs);
}

std::string ImportContext::emit_temp(const char* op_type, const std::vector<std::string>& inputs,
                                     const Attributes& attrs) {
  const std::string out = imp_.fresh_value_name(node_name() + ":" + op_type);
  bool all_const = !inputs.empty();
  std::vector<const Tensor*> cin;
  for (const std::string& name : inputs) {
    const int id = name.empty() ? -1 : imp_.g_->find_value(name);
    if (!name.empty() && (id < 0 || !imp_.g_->values()[size_t(id)].is_constant())) all_const = false;
    cin.push_back(id >= 0 ? imp_.g_->values()[size_t(id)].constant.get() : nullptr);
  }
  const graph::OpDef* op = graph::find_op(op_type);
  QK_FAIL_IF(!op, kInternal, "no graph op '%s'", op_type);
  if (all_const) {
    std::vector<Tensor> r = evaluate(*op, node_name(), attrs, cin, 1);
    imp_.g_->add_constant(out, std::move(r[0]));
    return out;
  }
  imp_.g_->add_node(op_type, imp_.fresh_node_name(node_name() + ":" + op_type), inputs, {out}, attrs);
  return out;
}

std::string ImportContext::add_constant(Tensor t) {
  const std::string name = imp_.fresh_value_name(node_name() + ":const");
  imp_.g_->add_constant(name, std::move(t));
  return name;
}

void convert_same(ImportContext& ctx) {
  std::vector<std::string> in;
  for (size_t i = 0; i < ctx.input_count(); ++i) in.push_back(ctx.input(i));
  std::vector<size_t> outs;
  for (size_t i = 0; i < ctx.output_count(); ++i) outs.push_back(i);
  ctx.emit(ctx.node().op_type, in, outs, ctx.copy_attrs());
}

// ---- The import ---------------------------------------------------------------------------

std::unique_ptr<graph::Graph> Importer::run(const Onnx__ModelProto& m) {
  const int64_t opset = default_opset(m);
  QK_FAIL_IF(opset < 0, kCorrupt, "the model imports no opset of the default ONNX domain");
  QK_FAIL_IF(opset < 7 || opset > 18, kUnsupported, "opset %lld of the default domain (QuantKit imports 7 to 18)",
             (long long)opset);
  QK_FAIL_IF(!m.graph, kCorrupt, "the model has no graph");
  const Onnx__GraphProto& gp = *m.graph;

  // Every unsupported op type first, with one node name each: never a partial model.
  std::map<std::string, std::string> unsupported;
  for (size_t i = 0; i < gp.n_node; ++i) {
    const Onnx__NodeProto* n = gp.node[i];
    const std::string domain = n->domain ? n->domain : "";
    const std::string type = n->op_type ? n->op_type : "";
    const std::string key = domain.empty() || domain == "ai.onnx" ? type : domain + "::" + type;
    if ((domain.empty() || domain == "ai.onnx") && find_converter(type)) continue;
    if (!unsupported.count(key)) unsupported[key] = n->name && n->name[0] ? n->name : "#" + std::to_string(i);
  }
  if (!unsupported.empty()) {
    std::string list;
    for (const auto& kv : unsupported) list += (list.empty() ? "" : ", ") + kv.first + " (node '" + kv.second + "')";
    fail(Status::kUnsupported, "%zu unsupported op type%s: %s", unsupported.size(), unsupported.size() > 1 ? "s" : "",
         list.c_str());
  }

  for (size_t i = 0; i < gp.n_initializer; ++i) {
    const Onnx__TensorProto& t = *gp.initializer[i];
    const std::string name = t.name ? t.name : "";
    QK_FAIL_IF(name.empty(), kCorrupt, "initializer %zu has no name", i);
    QK_FAIL_IF(consts_.count(name), kCorrupt, "initializer '%s' twice", name.c_str());
    consts_[name] = std::make_shared<const Tensor>(tensor_from_proto(t, options_.external));
  }
  for (size_t i = 0; i < gp.n_input; ++i) {
    const Onnx__ValueInfoProto& vi = *gp.input[i];
    const std::string name = vi.name ? vi.name : "";
    QK_FAIL_IF(name.empty(), kCorrupt, "graph input %zu has no name", i);
    if (consts_.count(name)) continue;  // an initializer listed as an input (IR < 4): a constant
    QK_FAIL_IF(in_graph_.count(name), kCorrupt, "graph input '%s' twice", name.c_str());
    const graph::TensorType tt = input_type(vi, name);
    for (const Dim& d : tt.dims)
      if (!d.known()) input_symbols_.insert(d.symbol);
    const std::string gname = fresh_value_name(name);
    g_->add_input(gname, tt.dtype, tt.dims);
    in_graph_[name] = gname;
  }
  QK_FAIL_IF(gp.n_output == 0, kCorrupt, "the graph has no output");
  for (size_t i = 0; i < gp.n_node; ++i)
    for (size_t k = 0; k < gp.node[i]->n_input; ++k)
      if (gp.node[i]->input[k][0]) ++uses_[gp.node[i]->input[k]];
  for (size_t i = 0; i < gp.n_output; ++i) {
    QK_FAIL_IF(!gp.output[i]->name || !gp.output[i]->name[0], kCorrupt, "graph output %zu has no name", i);
    ++uses_[gp.output[i]->name];
  }

  for (size_t i = 0; i < gp.n_node; ++i) {
    const Onnx__NodeProto& n = *gp.node[i];
    ImportContext ctx(*this, n, opset);
    try {
      QK_FAIL_IF(n.n_output == 0, kCorrupt, "the node has no output");
      for (size_t k = 0; k < n.n_input; ++k) {
        const std::string in = n.input[k];
        QK_FAIL_IF(!in.empty() && !in_graph_.count(in) && !consts_.count(in) && !shapes_.count(in) && !zeros_.count(in),
                   kCorrupt,
                   "input '%s' is not defined before this node (the graph is not in topological order, or has a "
                   "cycle, or reads a value nothing produces)",
                   in.c_str());
      }
      find_converter(n.op_type)(ctx);
      for (size_t k = 0; k < n.n_output; ++k) {
        const std::string out = n.output[k];
        QK_FAIL_IF(!out.empty() && uses_[out] > 0 && !in_graph_.count(out) && !consts_.count(out) && !shapes_.count(out) &&
                       !zeros_.count(out),
                   kUnsupported, "output %zu ('%s') is read later but this converter does not produce it", k,
                   out.c_str());
      }
    } catch (const Error& e) {
      // The graph's builder already names the node it was adding; do not say it twice.
      if (std::strncmp(e.what(), "node '", 6) == 0) throw;
      throw Error(e.status(), format("node '%s' (%s): %s", ctx.node_name().c_str(), n.op_type, e.what()));
    }
  }
  for (size_t i = 0; i < gp.n_output; ++i) {
    const std::string name = gp.output[i]->name;
    g_->add_output(graph_value(name));
  }
  return std::move(g_);
}

std::unique_ptr<graph::Graph> import_model(const uint8_t* data, size_t size, const ImportOptions& options) {
  ModelPtr m = parse_model(data, size);
  Importer imp(options);
  return imp.run(*m);
}

}  // namespace onnx
}  // namespace qk
