// SPDX-License-Identifier: Apache-2.0
// The layer API (qk_model_create, qk_model_add_conv2d, ...) as thin sugar over graph v2
// (issue 12, second step). Each layer call adds the constants and the one graph node that
// tests/graph/test_legacy_parity.c proves bit-identical to the legacy layer. A layer model is a
// graph::Graph with layer_api() set: its one input has a leading symbolic batch dimension "N"
// that tensor_shape / output_shape hide, its output is the last layer's (or set_output's), and
// run / calibrate / layer_report may take and give NHWC (transposed here).
#include <cmath>
#include <cstring>
#include <functional>
#include <string>

#include "capi/capi_common.h"
#include "capi/capi_model.h"
#include "core/threadpool.h"

namespace {

using qk::graph::Attributes;
using qk::graph::Dim;
using qk::graph::Dims;
using qk::graph::Graph;
using qk::graph::NamedTensors;
using qk::graph::Tensor;

// The one kind <-> op table: qk_layer_kind value, its "type:" name, the graph op.
struct KindOp {
  int kind;
  const char* name;
  const char* op;
};
constexpr KindOp kKinds[] = {
    {QK_LAYER_CONV2D, "conv2d", "Conv"},
    {QK_LAYER_LINEAR, "linear", "Linear"},
    {QK_LAYER_BATCHNORM, "batchnorm", "BatchNormalization"},
    {QK_LAYER_RELU, "relu", "Relu"},
    {QK_LAYER_HARDTANH, "hardtanh", "Clip"},
    {QK_LAYER_MAX_POOL2D, "max_pool2d", "MaxPool"},
    {QK_LAYER_AVG_POOL2D, "avg_pool2d", "AveragePool"},
    {QK_LAYER_GLOBAL_AVG_POOL2D, "global_avg_pool2d", "GlobalAveragePool"},
    {QK_LAYER_FLATTEN, "flatten", "Flatten"},
    {QK_LAYER_ADD, "add", "Add"},
    {QK_LAYER_DROPOUT, "dropout", "Dropout"},
    {QK_LAYER_SOFTMAX, "softmax", "Softmax"},
    {QK_LAYER_SIGMOID, "sigmoid", "Sigmoid"},
    {QK_LAYER_HARDSWISH, "hardswish", "HardSwish"},
    {QK_LAYER_CONCAT, "concat", "Concat"},
    {QK_LAYER_RESHAPE, "reshape", "Reshape"},
};
constexpr const char* kTypePrefix = "type:";
constexpr size_t kTypePrefixLength = 5;

constexpr const char* kGraphModel =
    "this is a graph model (qk_model_create_graph): build it with qk_model_add_node; the layer calls do not apply";

std::string str(const char* s, const char* what) {
  QK_FAIL_IF(s == nullptr, kInvalidArgument, "argument '%s' is NULL", what);
  return std::string(s);
}

Graph& layers_of(qk_model* model) {
  QK_FAIL_IF(model == nullptr, kInvalidArgument, "argument 'model' is NULL");
  QK_FAIL_IF(model->m != nullptr, kUnsupported,
             "this model was loaded from a v1 model file: it runs, quantizes and saves as it is, but takes no new "
             "layers (build it again with the layer calls)");
  QK_FAIL_IF(!model->g || !model->g->layer_api(), kUnsupported, "%s", kGraphModel);
  return *model->g;
}

// A weight constant "<layer>.<what>".
std::string add_const(Graph& g, const std::string& layer, const char* what, std::vector<int64_t> shape,
                      const float* data) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    QK_FAIL_IF(d < 1 || d >= (int64_t(1) << 31), kInvalidArgument, "layer '%s': %s dimension %lld must be >= 1",
               layer.c_str(), what, (long long)d);
    n *= uint64_t(d);
  }
  const std::string name = layer + "." + what;
  g.add_constant(name, Tensor::copy_of(qk::DType::kF32, std::move(shape), data, size_t(n) * sizeof(float)));
  return name;
}

// The weight's input size against the input tensor's, before the weight is read: a mismatched
// shape is what the caller's buffer was NOT sized for (the layer engine checked this first too).
void check_fan_in(const Graph& g, const std::string& input, size_t axis_from_end, int64_t want,
                  const std::string& layer) {
  const int id = g.find_value(input);
  if (id < 0) return;
  const Dims& d = g.values()[size_t(id)].type.dims;
  if (d.size() < axis_from_end || !d[d.size() - axis_from_end].known()) return;
  const int64_t have = d[d.size() - axis_from_end].size;
  QK_FAIL_IF(have != want, kInvalidArgument, "layer '%s': shape mismatch: the input has %lld %s, the weight takes %lld",
             layer.c_str(), (long long)have, axis_from_end == 1 ? "features" : "channels", (long long)want);
}

// Adds one layer node; checks the names the way the layer API did, and makes its output the
// model's unless set_output chose one. Nothing changes on error (the graph is copied).
void add_layer(qk_model* model, const char* op, const std::string& name, const std::vector<std::string>& in,
               const std::string& out, const Attributes& attrs,
               const std::function<void(Graph&, std::vector<std::string>*)>& consts = nullptr) {
  Graph& live = layers_of(model);
  QK_FAIL_IF(name.compare(0, kTypePrefixLength, kTypePrefix) == 0, kInvalidArgument,
             "layer name '%s' must not start with 'type:' (reserved for qconfig kinds)", name.c_str());
  for (const std::string& i : in) QK_FAIL_IF(live.find_value(i) < 0, kNotFound, "unknown tensor '%s'", i.c_str());
  for (const qk::graph::Node& n : live.nodes())
    QK_FAIL_IF(n.name == name, kInvalidArgument, "duplicate layer name '%s'", name.c_str());
  qk::graph::validate_value_name(out, "tensor name");
  QK_FAIL_IF(live.find_value(out) >= 0, kInvalidArgument, "duplicate tensor name '%s' (tensors are named once)",
             out.c_str());
  live.require_state(qk::graph::GraphState::kFloat, "adding a layer");
  Graph g = live;
  std::vector<std::string> inputs = in;
  if (consts) consts(g, &inputs);
  try {
    g.add_node(op, name, inputs, {out}, attrs);
  } catch (const qk::Error& e) {
    // The node's own checks name the problem; the layer API's callers look for "shape mismatch".
    if (e.status() != qk::Status::kInvalidArgument) throw;
    qk::fail(qk::Status::kInvalidArgument, "layer '%s': shape mismatch or invalid parameters: %s", name.c_str(),
             e.what());
  }
  if (!model->output_set) g.set_outputs({g.find_value(out)});
  live = std::move(g);
}

void add_unary(qk_model* model, const char* op, const char* name, const char* input, const char* output,
               const Attributes& attrs = Attributes()) {
  add_layer(model, op, str(name, "name"), {str(input, "input")}, str(output, "output"), attrs);
}

std::vector<int64_t> ints(const int64_t* v, size_t n) { return std::vector<int64_t>(v, v + n); }

}  // namespace

namespace qk {
namespace capi {

bool is_layer_model(const qk_model* model) { return model != nullptr && model->g && model->g->layer_api(); }

bool is_internal_node(const graph::Node& n) { return std::strncmp(n.op->name, "qk.", 3) == 0; }

std::vector<const graph::Node*> layer_nodes(const Graph& g) {
  std::vector<const graph::Node*> out;
  for (const graph::Node& n : g.nodes())
    if (!is_internal_node(n)) out.push_back(&n);
  return out;
}

int layer_kind_of(const graph::Node& n) {
  for (const KindOp& k : kKinds)
    if (std::strcmp(k.op, n.op->name) == 0) return k.kind;
  return 0;
}

// "type:conv2d" -> "type:Conv"; other names unchanged.
std::string graph_config_name(const char* layer) {
  const std::string name(layer);
  if (name.compare(0, kTypePrefixLength, kTypePrefix) != 0) return name;
  const std::string kind = name.substr(kTypePrefixLength);
  for (const KindOp& k : kKinds)
    if (kind == k.name) return std::string(kTypePrefix) + k.op;
  fail(Status::kNotFound, "unknown layer kind '%s' (e.g. type:conv2d, type:linear)", kind.c_str());
}

// The caller's batch {N, sample} as the graph's NCHW input, with the layer API's checks and
// messages; NHWC samples {H, W, C} are transposed to {C, H, W}.
NamedTensors layer_input(const Graph& g, const float* data, const int64_t* shape, size_t rank, const char* what) {
  QK_FAIL_IF(data == nullptr, kInvalidArgument, "argument 'input' is NULL");
  QK_FAIL_IF(shape == nullptr, kInvalidArgument, "argument 'shape' is NULL");
  const graph::Value& x = g.values()[size_t(g.inputs()[0])];
  std::vector<int64_t> s;
  for (size_t i = 1; i < x.type.dims.size(); ++i) s.push_back(x.type.dims[i].size);
  const bool nhwc = g.nhwc_io() && s.size() == 3;
  QK_FAIL_IF(rank != s.size() + 1, kInvalidArgument, "%s: rank %zu, the model takes {N, %s} (rank %zu)", what, rank,
             s.size() == 3 ? (nhwc ? "H, W, C" : "C, H, W") : "F", s.size() + 1);
  QK_FAIL_IF(shape[0] < 1 || shape[0] >= (int64_t(1) << 31), kInvalidArgument, "%s: batch %lld must be >= 1", what,
             (long long)shape[0]);
  uint64_t count = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    const int64_t expect = nhwc ? s[(i + 1) % 3] : s[i];
    QK_FAIL_IF(shape[i + 1] != expect, kInvalidArgument,
               "%s: shape mismatch: dimension %zu is %lld, the model input '%s' (%s) has %lld", what, i + 1,
               (long long)shape[i + 1], x.name.c_str(), nhwc ? "NHWC" : "NCHW", (long long)expect);
    count *= uint64_t(s[i]);
  }
  QK_FAIL_IF(uint64_t(shape[0]) * count >= (uint64_t(1) << 40), kInvalidArgument, "%s: batch too large", what);
  std::vector<int64_t> nchw = {shape[0]};
  nchw.insert(nchw.end(), s.begin(), s.end());
  Tensor t = Tensor::copy_of(DType::kF32, nchw, data, size_t(shape[0] * count) * sizeof(float));
  if (nhwc) {  // {N, H, W, C} -> {N, C, H, W}
    const size_t n = size_t(shape[0]), c = size_t(s[0]), hw = size_t(s[1] * s[2]);
    float* dst = reinterpret_cast<float*>(t.storage.get());
    for (size_t b = 0; b < n; ++b)
      for (size_t p = 0; p < hw; ++p)
        for (size_t k = 0; k < c; ++k) dst[(b * c + k) * hw + p] = data[(b * hw + p) * c + k];
  }
  NamedTensors in;
  in.emplace_back(x.name, std::move(t));
  return in;
}

void layer_run(const Graph& g, const float* input, const int64_t* shape, size_t rank, float* output,
               size_t output_count, ThreadPool* pool) {
  QK_FAIL_IF(output == nullptr, kInvalidArgument, "argument 'output' is NULL");
  NamedTensors out = g.run(layer_input(g, input, shape, rank, "run"), pool);
  const Tensor& t = out[0].second;
  QK_FAIL_IF(output_count != t.count(), kInvalidArgument, "output_count %zu, the output %s has %llu elements",
             output_count, graph::shape_string(t.shape).c_str(), (unsigned long long)t.count());
  const float* src = reinterpret_cast<const float*>(t.storage.get());
  if (!g.nhwc_io() || t.shape.size() != 4) {
    std::memcpy(output, src, t.bytes);
    return;
  }
  const size_t n = size_t(t.shape[0]), c = size_t(t.shape[1]), hw = size_t(t.shape[2] * t.shape[3]);
  for (size_t b = 0; b < n; ++b)  // {N, C, H, W} -> {N, H, W, C}
    for (size_t k = 0; k < c; ++k)
      for (size_t p = 0; p < hw; ++p) output[(b * hw + p) * c + k] = src[(b * c + k) * hw + p];
}

void layer_report(const Graph& g, const float* input, const int64_t* shape, size_t rank, double* sqnr_out,
                  double* max_error_out, size_t capacity) {
  g.require_state(graph::GraphState::kConverted, "layer_report");
  QK_FAIL_IF(sqnr_out == nullptr && max_error_out == nullptr, kInvalidArgument,
             "arguments 'sqnr_out' and 'max_error_out' are both NULL");
  const NamedTensors in = layer_input(g, input, shape, rank, "layer_sqnr");
  const size_t layers = layer_nodes(g).size();
  QK_FAIL_IF(capacity < layers, kBufferTooSmall, "capacity %zu < %zu layers", capacity, layers);
  const std::vector<graph::NodeReport> rep = g.node_report(in);
  size_t k = 0;
  for (size_t i = 0; i < rep.size(); ++i) {
    if (is_internal_node(g.nodes()[i])) continue;
    if (sqnr_out) sqnr_out[k] = rep[i].sqnr_db;
    if (max_error_out) max_error_out[k] = rep[i].max_abs_error;
    ++k;
  }
}

}  // namespace capi
}  // namespace qk

extern "C" {

QK_API qk_status qk_model_create(const char* input_name, const int64_t* sample_shape, size_t rank,
                                 qk_model** model_out) {
  return QK_GUARD({
    const std::string name = str(input_name, "input_name");
    QK_REQUIRE_NOT_NULL(model_out);
    QK_FAIL_IF(sample_shape == nullptr, kInvalidArgument, "argument 'sample_shape' is NULL");
    QK_FAIL_IF(rank != 1 && rank != 3, kInvalidArgument,
               "input rank %zu must be 1 ({F}) or 3 ({C, H, W}); the batch dimension is not included", rank);
    Dims dims = {Dim::sym("N")};
    for (size_t i = 0; i < rank; ++i) {
      QK_FAIL_IF(sample_shape[i] < 1 || sample_shape[i] >= (int64_t(1) << 31), kInvalidArgument,
                 "input dimension %zu is %lld (must be >= 1)", i, (long long)sample_shape[i]);
      dims.push_back(Dim::of(sample_shape[i]));
    }
    auto h = std::make_unique<qk_model>();
    h->g = std::make_unique<Graph>();
    h->g->set_layer_api(false);
    h->g->add_input(name, qk::DType::kF32, dims);
    h->g->set_outputs({h->g->inputs()[0]});
    *model_out = h.release();
  });
}

QK_API qk_status qk_model_add_conv2d(qk_model* model, const char* name, const char* input, const char* output,
                                     const float* weight, const int64_t weight_shape[4], const float* bias,
                                     const int64_t stride[2], const int64_t padding[4], const int64_t dilation[2],
                                     int64_t groups) {
  return QK_GUARD({
    layers_of(model);
    QK_REQUIRE_NOT_NULL(weight);
    QK_REQUIRE_NOT_NULL(weight_shape);
    QK_REQUIRE_NOT_NULL(stride);
    QK_REQUIRE_NOT_NULL(padding);
    QK_REQUIRE_NOT_NULL(dilation);
    const std::string n = str(name, "name");
    Attributes a;
    a.set_ints("strides", ints(stride, 2));
    a.set_ints("pads", ints(padding, 4));
    a.set_ints("dilations", ints(dilation, 2));
    a.set_int("group", groups);
    add_layer(model, "Conv", n, {str(input, "input")}, str(output, "output"), a,
              [&](Graph& g, std::vector<std::string>* in) {
                // {N, C, H, W}: C is 3rd from the end.
                check_fan_in(g, str(input, "input"), 3, weight_shape[1] * groups, n);
                in->push_back(add_const(g, n, "weight", ints(weight_shape, 4), weight));
                if (bias) in->push_back(add_const(g, n, "bias", {weight_shape[0]}, bias));
              });
  });
}

QK_API qk_status qk_model_add_linear(qk_model* model, const char* name, const char* input, const char* output,
                                     const float* weight, int64_t out_features, int64_t in_features,
                                     const float* bias) {
  return QK_GUARD({
    layers_of(model);
    QK_REQUIRE_NOT_NULL(weight);
    const std::string n = str(name, "name");
    add_layer(model, "Linear", n, {str(input, "input")}, str(output, "output"), Attributes(),
              [&](Graph& g, std::vector<std::string>* in) {
                check_fan_in(g, str(input, "input"), 1, in_features, n);
                in->push_back(add_const(g, n, "weight", {out_features, in_features}, weight));
                if (bias) in->push_back(add_const(g, n, "bias", {out_features}, bias));
              });
  });
}

QK_API qk_status qk_model_add_batchnorm(qk_model* model, const char* name, const char* input, const char* output,
                                        int64_t channels, const float* mean, const float* var, const float* gamma,
                                        const float* beta, float eps) {
  return QK_GUARD({
    layers_of(model);
    QK_REQUIRE_NOT_NULL(mean);
    QK_REQUIRE_NOT_NULL(var);
    QK_FAIL_IF(channels < 1 || channels >= (int64_t(1) << 31), kInvalidArgument, "channels %lld must be >= 1",
               (long long)channels);
    const std::string n = str(name, "name");
    QK_FAIL_IF(!std::isfinite(eps) || eps < 0, kInvalidArgument, "batchnorm '%s': eps must be finite and >= 0",
               n.c_str());
    for (int64_t i = 0; i < channels; ++i)
      QK_FAIL_IF(!(var[i] + eps > 0), kInvalidArgument, "batchnorm '%s': var[%lld] + eps must be > 0", n.c_str(),
                 (long long)i);
    const std::vector<float> ones(size_t(channels), 1.0f), zeros(size_t(channels), 0.0f);
    Attributes a;
    a.set_float("epsilon", eps);
    add_layer(model, "BatchNormalization", n, {str(input, "input")}, str(output, "output"), a,
              [&](Graph& g, std::vector<std::string>* in) {
                in->push_back(add_const(g, n, "weight", {channels}, gamma ? gamma : ones.data()));
                in->push_back(add_const(g, n, "bias", {channels}, beta ? beta : zeros.data()));
                in->push_back(add_const(g, n, "running_mean", {channels}, mean));
                in->push_back(add_const(g, n, "running_var", {channels}, var));
              });
  });
}

#define QK_MODEL_SIMPLE(fn, op)                                                                    \
  QK_API qk_status fn(qk_model* model, const char* name, const char* input, const char* output) { \
    return QK_GUARD({ add_unary(model, op, name, input, output); });                               \
  }
QK_MODEL_SIMPLE(qk_model_add_relu, "Relu")
QK_MODEL_SIMPLE(qk_model_add_global_avg_pool2d, "GlobalAveragePool")
QK_MODEL_SIMPLE(qk_model_add_flatten, "Flatten")
QK_MODEL_SIMPLE(qk_model_add_dropout, "Dropout")
QK_MODEL_SIMPLE(qk_model_add_sigmoid, "Sigmoid")
QK_MODEL_SIMPLE(qk_model_add_hardswish, "HardSwish")
#undef QK_MODEL_SIMPLE

QK_API qk_status qk_model_add_softmax(qk_model* model, const char* name, const char* input, const char* output) {
  return QK_GUARD({
    Attributes a;
    a.set_int("axis", 1);
    add_unary(model, "Softmax", name, input, output, a);
  });
}

QK_API qk_status qk_model_add_hardtanh(qk_model* model, const char* name, const char* input, const char* output,
                                       float min_value, float max_value) {
  return QK_GUARD({
    QK_FAIL_IF(!(min_value <= max_value), kInvalidArgument, "hardtanh: min %g > max %g", double(min_value),
               double(max_value));
    Attributes a;
    a.set_float("min", min_value);
    a.set_float("max", max_value);
    add_unary(model, "Clip", name, input, output, a);
  });
}

QK_API qk_status qk_model_add_max_pool2d(qk_model* model, const char* name, const char* input, const char* output,
                                         const int64_t kernel[2], const int64_t stride[2], const int64_t padding[4],
                                         const int64_t dilation[2]) {
  return QK_GUARD({
    layers_of(model);
    QK_REQUIRE_NOT_NULL(kernel);
    QK_REQUIRE_NOT_NULL(stride);
    QK_REQUIRE_NOT_NULL(padding);
    QK_REQUIRE_NOT_NULL(dilation);
    Attributes a;
    a.set_ints("kernel_shape", ints(kernel, 2));
    a.set_ints("strides", ints(stride, 2));
    a.set_ints("pads", ints(padding, 4));
    a.set_ints("dilations", ints(dilation, 2));
    add_unary(model, "MaxPool", name, input, output, a);
  });
}

QK_API qk_status qk_model_add_avg_pool2d(qk_model* model, const char* name, const char* input, const char* output,
                                         const int64_t kernel[2], const int64_t stride[2], const int64_t padding[4],
                                         int count_include_pad) {
  return QK_GUARD({
    layers_of(model);
    QK_REQUIRE_NOT_NULL(kernel);
    QK_REQUIRE_NOT_NULL(stride);
    QK_REQUIRE_NOT_NULL(padding);
    Attributes a;
    a.set_ints("kernel_shape", ints(kernel, 2));
    a.set_ints("strides", ints(stride, 2));
    a.set_ints("pads", ints(padding, 4));
    a.set_int("count_include_pad", count_include_pad != 0 ? 1 : 0);
    add_unary(model, "AveragePool", name, input, output, a);
  });
}

QK_API qk_status qk_model_add_add(qk_model* model, const char* name, const char* input_a, const char* input_b,
                                  const char* output) {
  return QK_GUARD({
    add_layer(model, "Add", str(name, "name"), {str(input_a, "input_a"), str(input_b, "input_b")},
              str(output, "output"), Attributes());
  });
}

QK_API qk_status qk_model_add_concat(qk_model* model, const char* name, const char* const* inputs,
                                     size_t input_count, const char* output) {
  return QK_GUARD({
    layers_of(model);
    QK_REQUIRE_NOT_NULL(inputs);
    QK_FAIL_IF(input_count < 2 || input_count > 64, kInvalidArgument, "input_count %zu must be 2..%zu", input_count,
               size_t(64));
    std::vector<std::string> names;
    for (size_t i = 0; i < input_count; ++i) {
      QK_FAIL_IF(inputs[i] == nullptr, kInvalidArgument, "inputs[%zu] is NULL", i);
      names.emplace_back(inputs[i]);
    }
    // The layer API's own check and message: the inputs agree but for the channels.
    const Graph& g = layers_of(model);
    const std::string n = str(name, "name");
    for (const std::string& i : names) QK_FAIL_IF(g.find_value(i) < 0, kNotFound, "unknown tensor '%s'", i.c_str());
    const Dims& d0 = g.value(names[0]).type.dims;
    for (const std::string& i : names) {
      const Dims& d = g.value(i).type.dims;
      bool same = d.size() == d0.size() && d.size() >= 2;
      for (size_t k = 2; same && k < d.size(); ++k) same = d[k].size == d0[k].size && d[k].symbol == d0[k].symbol;
      QK_FAIL_IF(!same, kInvalidArgument, "concat '%s': input '%s' has shape %s, '%s' has %s (only dimension 1 may differ)",
                 n.c_str(), i.c_str(), qk::graph::dims_string(d).c_str(), names[0].c_str(),
                 qk::graph::dims_string(d0).c_str());
    }
    Attributes a;
    a.set_int("axis", 1);
    add_layer(model, "Concat", str(name, "name"), names, str(output, "output"), a);
  });
}

QK_API qk_status qk_model_add_reshape(qk_model* model, const char* name, const char* input, const int64_t* shape,
                                      size_t rank, const char* output) {
  return QK_GUARD({
    layers_of(model);
    const std::string n = str(name, "name");
    QK_FAIL_IF(shape == nullptr, kInvalidArgument, "argument 'shape' is NULL");
    QK_FAIL_IF(rank != 1 && rank != 3, kInvalidArgument,
               "reshape '%s': target rank %zu must be 1 ({F}) or 3 ({C, H, W}); the batch dimension is not included",
               n.c_str(), rank);
    std::vector<int64_t> target = {0};  // 0: the batch dimension, copied
    for (size_t i = 0; i < rank; ++i) {
      QK_FAIL_IF(shape[i] != -1 && (shape[i] < 1 || shape[i] >= (int64_t(1) << 31)), kInvalidArgument,
                 "reshape '%s': target dimension %zu is %lld (must be >= 1, or -1 once)", n.c_str(), i,
                 (long long)shape[i]);
      target.push_back(shape[i]);
    }
    Attributes a;
    a.set_ints("shape", target);
    add_unary(model, "Reshape", name, input, output, a);
  });
}

QK_API qk_status qk_model_set_io_layout(qk_model* model, qk_layout layout) {
  return QK_GUARD({
    int v;
    std::memcpy(&v, &layout, sizeof v);  // an out-of-range enum value is read as its int
    QK_FAIL_IF(v != QK_LAYOUT_NCHW && v != QK_LAYOUT_NHWC, kInvalidArgument,
               "layout %d must be QK_LAYOUT_NCHW or QK_LAYOUT_NHWC", v);
    if (model != nullptr && model->m) {  // a v1 file's model
      model->m->set_nhwc_io(v == QK_LAYOUT_NHWC);
      return;
    }
    Graph& g = layers_of(model);
    g.require_state(qk::graph::GraphState::kFloat, "set_io_layout");
    g.set_layer_api(v == QK_LAYOUT_NHWC);
  });
}

QK_API qk_status qk_model_set_output(qk_model* model, const char* tensor) {
  return QK_GUARD({
    const std::string t = str(tensor, "tensor");
    if (model != nullptr && model->m) {  // a v1 file's model
      model->m->set_output(t);
      return;
    }
    Graph& g = layers_of(model);
    g.require_state(qk::graph::GraphState::kFloat, "set_output");
    const int id = g.find_value(t);
    QK_FAIL_IF(id < 0 || g.values()[size_t(id)].is_constant(), kNotFound, "unknown tensor '%s'", t.c_str());
    g.set_outputs({id});
    model->output_set = true;
  });
}

}  // extern "C"
