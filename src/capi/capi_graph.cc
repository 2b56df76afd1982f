// SPDX-License-Identifier: Apache-2.0
// C shims for the experimental general-graph API (quantkit.h, "General model graphs"): NULL and
// enum checks and the exception firewall. The graph validates names, shapes, attributes and
// states itself, before changing anything (graph/graph.h).
#include <cstring>
#include <string>

#include "capi/capi_common.h"
#include "capi/capi_model.h"
#include "core/threadpool.h"
#include "graph/serialize.h"

struct qk_run {
  const qk_model* model = nullptr;
  qk::graph::NamedTensors inputs;
  qk::graph::NamedTensors outputs;
};

namespace {

using qk::graph::Attributes;
using qk::graph::Dim;
using qk::graph::Dims;
using qk::graph::Graph;
using qk::graph::NamedTensors;
using qk::graph::Tensor;

std::string str(const char* s, const char* what) {
  QK_FAIL_IF(s == nullptr, kInvalidArgument, "argument '%s' is NULL", what);
  return std::string(s);
}

Graph& graph_of(qk_model* model) {
  QK_FAIL_IF(model == nullptr, kInvalidArgument, "argument 'model' is NULL");
  QK_FAIL_IF(!model->g || model->g->layer_api(), kUnsupported,
             "this model was built with the layer API (qk_model_create); graph calls need "
             "a model from qk_model_create_graph");
  return *model->g;
}
const Graph& graph_of(const qk_model* model) { return graph_of(const_cast<qk_model*>(model)); }
// The model group's shared helpers below serve graph and layer models alike.
Graph& any_graph(qk_model* model) {
  QK_FAIL_IF(model == nullptr, kInvalidArgument, "argument 'model' is NULL");
  QK_FAIL_IF(!model->g, kInternal, "not a graph");
  return *model->g;
}
const Graph& any_graph(const qk_model* model) { return any_graph(const_cast<qk_model*>(model)); }

// The dtypes a graph value may have (the C enum value, checked without reading a bad enum).
qk::DType graph_dtype(qk_dtype dtype) {
  int v;
  std::memcpy(&v, &dtype, sizeof v);
  QK_FAIL_IF(v != QK_DTYPE_F32 && v != QK_DTYPE_F16 && v != QK_DTYPE_S8 && v != QK_DTYPE_U8 && v != QK_DTYPE_S32 &&
                 v != QK_DTYPE_S64 && v != 10,
             kInvalidArgument, "dtype %d is not a graph value dtype (f32, f16, s8, u8, s32, s64, bool)", v);
  return static_cast<qk::DType>(v);
}

std::vector<int64_t> shape_vec(const int64_t* shape, size_t rank, const char* what) {
  QK_FAIL_IF(rank > qk::graph::kMaxGraphRank, kInvalidArgument, "%s: rank %zu is above 8", what, rank);
  QK_FAIL_IF(rank != 0 && shape == nullptr, kInvalidArgument, "argument '%s' is NULL", what);
  return std::vector<int64_t>(shape, shape + rank);
}

void attr_name(const char* name) {
  QK_FAIL_IF(name == nullptr, kInvalidArgument, "argument 'name' is NULL");
  const size_t n = std::strlen(name);
  QK_FAIL_IF(n == 0 || n > 64, kInvalidArgument, "attribute name must be 1..64 bytes (got %zu)", n);
}

const Tensor* find_output(const qk_run* run, const std::string& name) {
  for (const auto& kv : run->outputs)
    if (kv.first == name) return &kv.second;
  qk::fail(qk::Status::kNotFound, "no output '%s' (invoke first; outputs are the model's graph outputs)",
           name.c_str());
}

}  // namespace

namespace qk {
namespace capi {

void graph_set_config(qk_model* model, const char* node, const qk::model::LayerConfig& c) {
  graph::NodeConfig n;
  n.has_observer = c.has_observer;
  n.observer = c.observer;
  n.has_dtype = c.has_dtype;
  n.act_dtype = c.act_dtype;
  n.has_scheme = c.has_scheme;
  n.weight_scheme = c.weight_scheme;
  n.has_skip = c.has_skip;
  n.skip = c.skip;
  any_graph(model).set_config(node, n);
}

// The single f32 input / single output convenience of qk_model_run and qk_model_calibrate.
const graph::Value& sole_input(const Graph& g) {
  QK_FAIL_IF(g.inputs().size() != 1, kInvalidArgument,
             "the model has %zu inputs: use a qk_run context to set them by name", g.inputs().size());
  const graph::Value& v = g.values()[size_t(g.inputs()[0])];
  QK_FAIL_IF(v.type.dtype != DType::kF32, kInvalidArgument, "input '%s' is %s: use a qk_run context",
             v.name.c_str(), dtype_name(v.type.dtype));
  return v;
}

NamedTensors sole_input_tensor(const Graph& g, const float* data, const int64_t* shape, size_t rank) {
  const graph::Value& v = sole_input(g);
  QK_FAIL_IF(data == nullptr, kInvalidArgument, "argument 'data' is NULL");
  std::vector<int64_t> s = shape_vec(shape, rank, "shape");
  const uint64_t count = graph::checked_count(s, "shape");
  NamedTensors in;
  in.emplace_back(v.name, Tensor::copy_of(DType::kF32, s, data, size_t(count) * sizeof(float)));
  return in;
}

void graph_calibrate(qk_model* model, const float* data, const int64_t* shape, size_t rank) {
  Graph& g = any_graph(model);
  g.calibrate(sole_input_tensor(g, data, shape, rank));
}

void graph_run(const qk_model* model, const float* input, const int64_t* shape, size_t rank, float* output,
               size_t output_count, qk_threadpool* pool) {
  const Graph& g = any_graph(model);
  QK_FAIL_IF(g.outputs().size() != 1, kInvalidArgument,
             "the model has %zu outputs: use a qk_run context to read them by name", g.outputs().size());
  QK_FAIL_IF(output == nullptr, kInvalidArgument, "argument 'output' is NULL");
  NamedTensors out = g.run(sole_input_tensor(g, input, shape, rank), pool ? &pool->pool : nullptr);
  const Tensor& t = out[0].second;
  QK_FAIL_IF(t.dtype != DType::kF32, kInvalidArgument, "output '%s' is %s: use a qk_run context",
             out[0].first.c_str(), dtype_name(t.dtype));
  QK_FAIL_IF(output_count != t.count(), kInvalidArgument, "output_count %zu, the output %s has %llu elements",
             output_count, graph::shape_string(t.shape).c_str(), (unsigned long long)t.count());
  std::memcpy(output, t.storage.get(), t.bytes);
}

void graph_value_shape(const qk_model* model, const char* value, int64_t* shape_out, size_t capacity,
                       size_t* rank_out) {
  const graph::Value& v = any_graph(model).value(str(value, "tensor"));
  QK_REQUIRE_NOT_NULL(rank_out);
  const Dims& d = v.type.dims;
  if (capacity < d.size()) {
    *rank_out = d.size();
    fail(Status::kBufferTooSmall, "capacity %zu < rank %zu", capacity, d.size());
  }
  QK_FAIL_IF(shape_out == nullptr && !d.empty(), kInvalidArgument, "argument 'shape_out' is NULL");
  for (size_t i = 0; i < d.size(); ++i) shape_out[i] = d[i].known() ? d[i].size : -1;
  *rank_out = d.size();
}

void graph_output_shape(const qk_model* model, int64_t* shape_out, size_t capacity, size_t* rank_out) {
  const Graph& g = any_graph(model);
  QK_FAIL_IF(g.outputs().empty(), kState, "the model has no outputs");
  graph_value_shape(model, g.values()[size_t(g.outputs()[0])].name.c_str(), shape_out, capacity, rank_out);
}

void graph_get_qparams(const qk_model* model, const char* value, qk_qparams** qparams_out) {
  const Graph& g = any_graph(model);
  const std::string name = str(value, "tensor");
  QK_REQUIRE_NOT_NULL(qparams_out);
  QK_FAIL_IF(g.state() != graph::GraphState::kConverted, kState, "qparams exist only in a CONVERTED model");
  const graph::Value& v = g.value(name);
  QK_FAIL_IF(!v.has_qp, kState, "value '%s' has no qparams (it stays float)", name.c_str());
  auto h = std::make_unique<qk_qparams>();
  h->qp = v.qp;
  *qparams_out = h.release();
}

void graph_fused(const qk_model* model, std::vector<const std::string*>* names) {
  for (const graph::Node& n : any_graph(model).nodes())
    if (!n.fused.empty()) names->push_back(&n.fused);
}

void graph_save(const qk_model* model, const char* path) {
  QK_FAIL_IF(path == nullptr, kInvalidArgument, "argument 'path' is NULL");
  graph::save_graph(any_graph(model), path);
}

void copy_report(const std::vector<graph::NodeReport>& rep, double* sqnr_out, double* max_error_out,
                        size_t capacity) {
  QK_FAIL_IF(sqnr_out == nullptr && max_error_out == nullptr, kInvalidArgument,
             "arguments 'sqnr_out' and 'max_error_out' are both NULL");
  QK_FAIL_IF(capacity < rep.size(), kBufferTooSmall, "capacity %zu < %zu nodes", capacity, rep.size());
  for (size_t i = 0; i < rep.size(); ++i) {
    if (sqnr_out) sqnr_out[i] = rep[i].sqnr_db;
    if (max_error_out) max_error_out[i] = rep[i].max_abs_error;
  }
}

void graph_layer_report(const qk_model* model, const float* input, const int64_t* shape, size_t rank,
                        double* sqnr_out, double* max_error_out, size_t capacity) {
  const Graph& g = any_graph(model);
  QK_FAIL_IF(sqnr_out == nullptr && max_error_out == nullptr, kInvalidArgument,
             "arguments 'sqnr_out' and 'max_error_out' are both NULL");
  copy_report(g.node_report(sole_input_tensor(g, input, shape, rank)), sqnr_out, max_error_out, capacity);
}

}  // namespace capi
}  // namespace qk

extern "C" {

QK_API qk_status qk_model_node_report(const qk_model* model, const qk_run* run, double* sqnr_out,
                                      double* max_error_out, size_t capacity) {
  return QK_GUARD({
    const Graph& g = graph_of(model);
    QK_REQUIRE_NOT_NULL(run);
    QK_FAIL_IF(run->model != model, kInvalidArgument, "the run context belongs to another model");
    QK_FAIL_IF(sqnr_out == nullptr && max_error_out == nullptr, kInvalidArgument,
               "arguments 'sqnr_out' and 'max_error_out' are both NULL");
    const std::vector<qk::graph::NodeReport> rep = g.node_report(run->inputs);
    qk::capi::copy_report(rep, sqnr_out, max_error_out, capacity);
  });
}

QK_API qk_status qk_attrs_create(qk_attrs** attrs_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(attrs_out);
    *attrs_out = new qk_attrs();
  });
}

QK_API void qk_attrs_destroy(qk_attrs* attrs) { delete attrs; }

QK_API qk_status qk_attrs_set_int(qk_attrs* attrs, const char* name, int64_t value) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(attrs);
    attr_name(name);
    attrs->attrs.set_int(name, value);
  });
}

QK_API qk_status qk_attrs_set_float(qk_attrs* attrs, const char* name, float value) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(attrs);
    attr_name(name);
    QK_FAIL_IF(!std::isfinite(value), kInvalidArgument, "attribute '%s' is not finite", name);
    attrs->attrs.set_float(name, value);
  });
}

QK_API qk_status qk_attrs_set_string(qk_attrs* attrs, const char* name, const char* value) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(attrs);
    attr_name(name);
    const std::string v = str(value, "value");
    QK_FAIL_IF(v.size() > qk::graph::kMaxAttrStringLength, kInvalidArgument, "attribute '%s' is longer than %zu bytes",
               name, qk::graph::kMaxAttrStringLength);
    attrs->attrs.set_string(name, v);
  });
}

QK_API qk_status qk_attrs_set_ints(qk_attrs* attrs, const char* name, const int64_t* values, size_t count) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(attrs);
    attr_name(name);
    QK_FAIL_IF(count > qk::graph::kMaxAttrListLength, kInvalidArgument, "attribute '%s': %zu elements (at most %zu)",
               name, count, qk::graph::kMaxAttrListLength);
    QK_FAIL_IF(values == nullptr && count != 0, kInvalidArgument, "argument 'values' is NULL");
    attrs->attrs.set_ints(name, std::vector<int64_t>(values, values + count));
  });
}

QK_API qk_status qk_attrs_set_floats(qk_attrs* attrs, const char* name, const float* values, size_t count) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(attrs);
    attr_name(name);
    QK_FAIL_IF(count > qk::graph::kMaxAttrListLength, kInvalidArgument, "attribute '%s': %zu elements (at most %zu)",
               name, count, qk::graph::kMaxAttrListLength);
    QK_FAIL_IF(values == nullptr && count != 0, kInvalidArgument, "argument 'values' is NULL");
    for (size_t i = 0; i < count; ++i)
      QK_FAIL_IF(!std::isfinite(values[i]), kInvalidArgument, "attribute '%s'[%zu] is not finite", name, i);
    attrs->attrs.set_floats(name, std::vector<float>(values, values + count));
  });
}

QK_API qk_status qk_model_create_graph(qk_model** model_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(model_out);
    auto h = std::make_unique<qk_model>();
    h->g = std::make_unique<Graph>();
    *model_out = h.release();
  });
}

QK_API qk_status qk_model_add_input(qk_model* model, const char* name, qk_dtype dtype, const int64_t* dims,
                                    const char* const* dim_names, size_t rank) {
  return QK_GUARD({
    Graph& g = graph_of(model);
    const std::string n = str(name, "name");
    const qk::DType dt = graph_dtype(dtype);
    const std::vector<int64_t> d = shape_vec(dims, rank, "dims");
    Dims declared;
    for (size_t i = 0; i < rank; ++i) {
      if (d[i] >= 0) {
        declared.push_back(Dim::of(d[i]));
        continue;
      }
      QK_FAIL_IF(dim_names == nullptr || dim_names[i] == nullptr, kInvalidArgument,
                 "dims[%zu] is symbolic (< 0) but dim_names[%zu] is NULL", i, i);
      declared.push_back(Dim::sym(dim_names[i]));
    }
    g.add_input(n, dt, declared);
  });
}

QK_API qk_status qk_model_add_constant(qk_model* model, const char* name, qk_dtype dtype, const int64_t* shape,
                                       size_t rank, const void* data, size_t bytes) {
  return QK_GUARD({
    Graph& g = graph_of(model);
    const std::string n = str(name, "name");
    const qk::DType dt = graph_dtype(dtype);
    Tensor t = Tensor::copy_of(dt, shape_vec(shape, rank, "shape"), data, bytes);
    g.add_constant(n, std::move(t));
  });
}

QK_API qk_status qk_model_add_node(qk_model* model, const char* op_type, const char* name,
                                   const char* const* inputs, size_t input_count, const char* const* outputs,
                                   size_t output_count, const qk_attrs* attrs) {
  return QK_GUARD({
    Graph& g = graph_of(model);
    const std::string op = str(op_type, "op_type");
    const std::string n = str(name, "name");
    QK_FAIL_IF(input_count > 255 || output_count > 255, kInvalidArgument, "too many inputs or outputs");
    QK_FAIL_IF(inputs == nullptr && input_count != 0, kInvalidArgument, "argument 'inputs' is NULL");
    QK_FAIL_IF(outputs == nullptr && output_count != 0, kInvalidArgument, "argument 'outputs' is NULL");
    std::vector<std::string> in, out;
    for (size_t i = 0; i < input_count; ++i) {
      QK_FAIL_IF(inputs[i] == nullptr, kInvalidArgument, "inputs[%zu] is NULL (use \"\" for an absent input)", i);
      in.emplace_back(inputs[i]);
    }
    for (size_t i = 0; i < output_count; ++i) {
      QK_FAIL_IF(outputs[i] == nullptr, kInvalidArgument, "outputs[%zu] is NULL", i);
      out.emplace_back(outputs[i]);
    }
    g.add_node(op, n, in, out, attrs ? attrs->attrs : Attributes());
  });
}

QK_API qk_status qk_model_add_output(qk_model* model, const char* value) {
  return QK_GUARD({ graph_of(model).add_output(str(value, "value")); });
}

static qk_status io_count(const char* fn, const qk_model* model, bool outputs, size_t* count_out) {
  return qk::capi::guard(fn, [&] {
    const Graph& g = graph_of(model);
    QK_REQUIRE_NOT_NULL(count_out);
    *count_out = outputs ? g.outputs().size() : g.inputs().size();
  });
}
static qk_status io_name(const char* fn, const qk_model* model, bool outputs, size_t index, const char** name_out) {
  return qk::capi::guard(fn, [&] {
    const Graph& g = graph_of(model);
    QK_REQUIRE_NOT_NULL(name_out);
    const std::vector<int>& ids = outputs ? g.outputs() : g.inputs();
    QK_FAIL_IF(index >= ids.size(), kInvalidArgument, "index %zu >= %s count %zu", index, outputs ? "output" : "input",
               ids.size());
    *name_out = g.values()[size_t(ids[index])].name.c_str();
  });
}
QK_API qk_status qk_model_input_count(const qk_model* model, size_t* count_out) {
  return io_count(__func__, model, false, count_out);
}
QK_API qk_status qk_model_input_name(const qk_model* model, size_t index, const char** name_out) {
  return io_name(__func__, model, false, index, name_out);
}
QK_API qk_status qk_model_output_count(const qk_model* model, size_t* count_out) {
  return io_count(__func__, model, true, count_out);
}
QK_API qk_status qk_model_output_name(const qk_model* model, size_t index, const char** name_out) {
  return io_name(__func__, model, true, index, name_out);
}

QK_API qk_status qk_model_is_graph(const qk_model* model, int* is_graph_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(model);
    QK_REQUIRE_NOT_NULL(is_graph_out);
    *is_graph_out = model->g && !model->g->layer_api() ? 1 : 0;
  });
}

QK_API qk_status qk_model_node_count(const qk_model* model, size_t* count_out) {
  return QK_GUARD({
    const Graph& g = graph_of(model);
    QK_REQUIRE_NOT_NULL(count_out);
    *count_out = g.nodes().size();
  });
}

QK_API qk_status qk_model_node_info(const qk_model* model, size_t index, const char** name_out,
                                    const char** op_type_out) {
  return QK_GUARD({
    const Graph& g = graph_of(model);
    QK_FAIL_IF(index >= g.nodes().size(), kInvalidArgument, "index %zu >= node count %zu", index, g.nodes().size());
    QK_FAIL_IF(name_out == nullptr && op_type_out == nullptr, kInvalidArgument, "both outputs are NULL");
    if (name_out) *name_out = g.nodes()[index].name.c_str();
    if (op_type_out) *op_type_out = g.nodes()[index].op->name;
  });
}

QK_API qk_status qk_model_value_shape(const qk_model* model, const char* value, int64_t* dims_out,
                                      const char** dim_names_out, size_t capacity, size_t* rank_out,
                                      qk_dtype* dtype_out) {
  return QK_GUARD({
    const qk::graph::Value& v = graph_of(model).value(str(value, "value"));
    QK_REQUIRE_NOT_NULL(rank_out);
    const Dims& d = v.type.dims;
    if (capacity < d.size()) {
      *rank_out = d.size();
      qk::fail(qk::Status::kBufferTooSmall, "capacity %zu < rank %zu", capacity, d.size());
    }
    QK_FAIL_IF(dims_out == nullptr && !d.empty(), kInvalidArgument, "argument 'dims_out' is NULL");
    for (size_t i = 0; i < d.size(); ++i) {
      dims_out[i] = d[i].known() ? d[i].size : -1;
      if (dim_names_out) dim_names_out[i] = d[i].known() ? nullptr : d[i].symbol.c_str();
    }
    *rank_out = d.size();
    if (dtype_out) *dtype_out = static_cast<qk_dtype>(v.type.dtype);
  });
}

QK_API qk_status qk_op_count(size_t* count_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(count_out);
    qk::graph::all_ops(count_out);
  });
}

QK_API qk_status qk_op_name(size_t index, const char** name_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(name_out);
    size_t n = 0;
    const qk::graph::OpDef* const* ops = qk::graph::all_ops(&n);
    QK_FAIL_IF(index >= n, kInvalidArgument, "index %zu >= op count %zu", index, n);
    *name_out = ops[index]->name;
  });
}

QK_API qk_status qk_run_create(const qk_model* model, qk_run** run_out) {
  return QK_GUARD({
    graph_of(model);
    QK_REQUIRE_NOT_NULL(run_out);
    auto r = std::make_unique<qk_run>();
    r->model = model;
    *run_out = r.release();
  });
}

QK_API void qk_run_destroy(qk_run* run) { delete run; }

QK_API qk_status qk_run_set_input(qk_run* run, const char* name, qk_dtype dtype, const void* data, size_t bytes,
                                  const int64_t* shape, size_t rank) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(run);
    const std::string n = str(name, "name");
    const qk::DType dt = graph_dtype(dtype);
    Tensor t = Tensor::copy_of(dt, shape_vec(shape, rank, "shape"), data, bytes);
    for (auto& kv : run->inputs)
      if (kv.first == n) {
        kv.second = std::move(t);
        return;
      }
    run->inputs.emplace_back(n, std::move(t));
  });
}

QK_API qk_status qk_run_invoke(qk_run* run, qk_threadpool* pool) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(run);
    NamedTensors out = graph_of(run->model).run(run->inputs, pool ? &pool->pool : nullptr);
    run->outputs = std::move(out);
  });
}

QK_API qk_status qk_run_output_shape(const qk_run* run, const char* name, int64_t* shape_out, size_t capacity,
                                     size_t* rank_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(run);
    const Tensor* t = find_output(run, str(name, "name"));
    QK_REQUIRE_NOT_NULL(rank_out);
    if (capacity < t->shape.size()) {
      *rank_out = t->shape.size();
      qk::fail(qk::Status::kBufferTooSmall, "capacity %zu < rank %zu", capacity, t->shape.size());
    }
    QK_FAIL_IF(shape_out == nullptr && !t->shape.empty(), kInvalidArgument, "argument 'shape_out' is NULL");
    for (size_t i = 0; i < t->shape.size(); ++i) shape_out[i] = t->shape[i];
    *rank_out = t->shape.size();
  });
}

QK_API qk_status qk_run_get_output(const qk_run* run, const char* name, qk_dtype dtype, void* data, size_t bytes) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(run);
    const Tensor* t = find_output(run, str(name, "name"));
    const qk::DType dt = graph_dtype(dtype);
    QK_FAIL_IF(dt != t->dtype, kInvalidArgument, "output '%s' is %s, not %s", name, qk::dtype_name(t->dtype),
               qk::dtype_name(dt));
    QK_FAIL_IF(bytes != t->bytes, kInvalidArgument, "output '%s' has %zu bytes, %zu given", name, t->bytes, bytes);
    QK_FAIL_IF(data == nullptr && bytes != 0, kInvalidArgument, "argument 'data' is NULL");
    if (bytes) std::memcpy(data, t->storage.get(), bytes);
  });
}

QK_API qk_status qk_model_calibrate_run(qk_model* model, const qk_run* run) {
  return QK_GUARD({
    Graph& g = graph_of(model);
    QK_REQUIRE_NOT_NULL(run);
    QK_FAIL_IF(run->model != model, kInvalidArgument, "the run context belongs to another model");
    g.calibrate(run->inputs);
  });
}

}  // extern "C"
