// SPDX-License-Identifier: Apache-2.0
// C shims for model graphs: NULL/enum checks and the exception firewall. The graph validates
// shapes, names, states and data itself, before changing anything (model/model.h).
#include <memory>
#include <vector>
#include <cstring>
#include <string>

#include "capi/capi_common.h"
#include "core/threadpool.h"
#include "capi/capi_model.h"
#include "graph/serialize.h"
#include "model/c_handles.h"
#include "model/model.h"

namespace {

using qk::model::Model;
using qk::model::Op;

using qk::capi::is_graph;
using qk::capi::is_layer_model;

constexpr const char* kGraphModel =
    "this is a graph model (qk_model_create_graph): build it with qk_model_add_node; the layer calls do not apply";

constexpr const char* kNoReport =
    "layer_report needs the model as converted, not as loaded: a loaded layer model reports no float reference";

// Only a v1 layer model file loaded by qk_model_load reaches the legacy engine.

Model& live(qk_model* model) {
  QK_FAIL_IF(model == nullptr, kInvalidArgument, "argument 'model' is NULL");
  QK_FAIL_IF(!model->m, kUnsupported, "%s", kGraphModel);
  return *model->m;
}
const Model& live(const qk_model* model) {
  QK_FAIL_IF(model == nullptr, kInvalidArgument, "argument 'model' is NULL");
  QK_FAIL_IF(!model->m, kUnsupported, "%s", kGraphModel);
  return *model->m;
}
// qconfig calls work on both engines.
void set_config(qk_model* model, const char* layer, const qk::model::LayerConfig& c) {
  if (is_layer_model(model) && layer != nullptr)
    qk::capi::graph_set_config(model, qk::capi::graph_config_name(layer).c_str(), c);
  else if (is_graph(model))
    qk::capi::graph_set_config(model, layer, c);
  else
    live(model).set_config(layer, c);
}
std::string str(const char* s, const char* what) {
  QK_FAIL_IF(s == nullptr, kInvalidArgument, "argument '%s' is NULL", what);
  return std::string(s);
}
qk::ThreadPool* unwrap(qk_threadpool* pool) { return pool ? &pool->pool : nullptr; }

void copy_shape(const std::vector<int64_t>& shape, int64_t* shape_out, size_t capacity, size_t* rank_out) {
  QK_FAIL_IF(rank_out == nullptr, kInvalidArgument, "argument 'rank_out' is NULL");
  if (capacity < shape.size()) {
    *rank_out = shape.size();
    qk::fail(qk::Status::kBufferTooSmall, "capacity %zu < rank %zu", capacity, shape.size());
  }
  QK_FAIL_IF(shape_out == nullptr, kInvalidArgument, "argument 'shape_out' is NULL");
  for (size_t i = 0; i < shape.size(); ++i) shape_out[i] = shape[i];
  *rank_out = shape.size();
}

// A layer model's value without its leading batch dimension (weights: as they are).
std::vector<int64_t> sample_shape(const qk::graph::Value& v) {
  std::vector<int64_t> s;
  for (size_t i = v.is_constant() ? 0 : 1; i < v.type.dims.size(); ++i)
    s.push_back(v.type.dims[i].known() ? v.type.dims[i].size : -1);
  return s;
}

// A model file holds a v2 graph (tensor "model.graph.v2") or a layer-API graph (metadata
// "model.graph"). The reader is opened once to tell; a file that does not open at all is left to
// the layer loader, whose errors name the problem as before.
void ck_open(qk_status s) {
  if (s != QK_OK) throw qk::Error(static_cast<qk::Status>(s), qk_last_error());
}
template <typename LoadLayers, typename Open>
void load_into(qk_model* h, LoadLayers&& load_layers, Open&& open) {
  qk::QkwReaderPtr r;
  bool opened = true;
  try {
    open(r);
  } catch (const qk::Error&) {
    opened = false;
  }
  if (opened) {
    h->g = qk::graph::load_graph(r.get());
    if (h->g) {
      h->loaded_converted = h->g->layer_api() && h->g->state() != qk::graph::GraphState::kFloat;
      return;
    }
  }
  h->m = load_layers();
}

}  // namespace

extern "C" {

QK_API void qk_model_destroy(qk_model* model) { delete model; }

QK_API qk_status qk_model_get_io_layout(const qk_model* model, qk_layout* layout_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(layout_out);
    const bool nhwc = is_layer_model(model) ? model->g->nhwc_io() : live(model).nhwc_io();
    *layout_out = nhwc ? QK_LAYOUT_NHWC : QK_LAYOUT_NCHW;
  });
}

QK_API qk_status qk_model_get_state(const qk_model* model, qk_model_state* state_out) {
  return QK_GUARD({
    if (is_graph(model)) {
      QK_REQUIRE_NOT_NULL(state_out);
      *state_out = static_cast<qk_model_state>(model->g->state());
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(state_out);
    *state_out = static_cast<qk_model_state>(m.state());
  });
}

QK_API qk_status qk_model_layer_count(const qk_model* model, size_t* count_out) {
  return QK_GUARD({
    if (is_graph(model)) {
      QK_REQUIRE_NOT_NULL(count_out);
      *count_out = is_layer_model(model) ? qk::capi::layer_nodes(*model->g).size() : model->g->nodes().size();
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(count_out);
    *count_out = m.layers().size();
  });
}

QK_API qk_status qk_model_layer_name(const qk_model* model, size_t index, const char** name_out) {
  return QK_GUARD({
    if (is_layer_model(model)) {
      QK_REQUIRE_NOT_NULL(name_out);
      const auto nodes = qk::capi::layer_nodes(*model->g);
      QK_FAIL_IF(index >= nodes.size(), kInvalidArgument, "index %zu >= layer count %zu", index, nodes.size());
      *name_out = nodes[index]->name.c_str();
      return;
    }
    if (is_graph(model)) {
      QK_REQUIRE_NOT_NULL(name_out);
      QK_FAIL_IF(index >= model->g->nodes().size(), kInvalidArgument, "index %zu >= node count %zu", index, model->g->nodes().size());
      *name_out = model->g->nodes()[index].name.c_str();
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(name_out);
    QK_FAIL_IF(index >= m.layers().size(), kInvalidArgument, "index %zu >= layer count %zu", index,
               m.layers().size());
    *name_out = m.layers()[index].name.c_str();
  });
}

QK_API qk_status qk_model_layer_kind(const qk_model* model, size_t index, qk_layer_kind* kind_out) {
  return QK_GUARD({
    if (is_layer_model(model)) {
      QK_REQUIRE_NOT_NULL(kind_out);
      const auto nodes = qk::capi::layer_nodes(*model->g);
      QK_FAIL_IF(index >= nodes.size(), kInvalidArgument, "index %zu >= layer count %zu", index, nodes.size());
      *kind_out = static_cast<qk_layer_kind>(qk::capi::layer_kind_of(*nodes[index]));
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(kind_out);
    QK_FAIL_IF(index >= m.layers().size(), kInvalidArgument, "index %zu >= layer count %zu", index,
               m.layers().size());
    *kind_out = static_cast<qk_layer_kind>(m.layers()[index].op);
  });
}

QK_API qk_status qk_model_tensor_shape(const qk_model* model, const char* tensor, int64_t* shape_out,
                                       size_t capacity, size_t* rank_out) {
  return QK_GUARD({
    if (is_layer_model(model)) {
      const qk::graph::Value& v = model->g->value(str(tensor, "tensor"));
      copy_shape(sample_shape(v), shape_out, capacity, rank_out);
      return;
    }
    if (is_graph(model)) {
      qk::capi::graph_value_shape(model, tensor, shape_out, capacity, rank_out);
      return;
    }
    const Model& m = live(model);
    const std::string name = str(tensor, "tensor");
    copy_shape(m.tensor(name).shape, shape_out, capacity, rank_out);
  });
}

QK_API qk_status qk_model_output_shape(const qk_model* model, int64_t* shape_out, size_t capacity, size_t* rank_out) {
  return QK_GUARD({
    if (is_layer_model(model)) {
      const qk::graph::Graph& g = *model->g;
      copy_shape(sample_shape(g.values()[size_t(g.outputs()[0])]), shape_out, capacity, rank_out);
      return;
    }
    if (is_graph(model)) {
      qk::capi::graph_output_shape(model, shape_out, capacity, rank_out);
      return;
    }
    const Model& m = live(model);
    copy_shape(m.tensor_at(m.output()).shape, shape_out, capacity, rank_out);
  });
}

QK_API qk_status qk_model_fuse(qk_model* model) {
  return QK_GUARD({
    if (is_graph(model))
      model->g->fuse();
    else
      live(model).fuse();
  });
}

QK_API qk_status qk_model_fused_count(const qk_model* model, size_t* count_out) {
  return QK_GUARD({
    if (is_graph(model)) {
      QK_REQUIRE_NOT_NULL(count_out);
      std::vector<const std::string*> names;
      qk::capi::graph_fused(model, &names);
      *count_out = names.size();
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(count_out);
    *count_out = m.fused_names().size();
  });
}

QK_API qk_status qk_model_fused_name(const qk_model* model, size_t index, const char** name_out) {
  return QK_GUARD({
    if (is_graph(model)) {
      QK_REQUIRE_NOT_NULL(name_out);
      std::vector<const std::string*> names;
      qk::capi::graph_fused(model, &names);
      QK_FAIL_IF(index >= names.size(), kInvalidArgument, "index %zu >= fused count %zu", index, names.size());
      *name_out = names[index]->c_str();
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(name_out);
    QK_FAIL_IF(index >= m.fused_names().size(), kInvalidArgument, "index %zu >= fused count %zu", index,
               m.fused_names().size());
    *name_out = m.fused_names()[index].c_str();
  });
}

QK_API qk_status qk_model_set_activation_observer(qk_model* model, const char* layer, qk_observer_kind kind) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(model);
    const int k = static_cast<int>(kind);
    QK_FAIL_IF(k != QK_OBSERVER_MINMAX && k != QK_OBSERVER_MOVING_AVERAGE_MINMAX && k != QK_OBSERVER_HISTOGRAM &&
                   k != QK_OBSERVER_PERCENTILE && k != QK_OBSERVER_ENTROPY && k != QK_OBSERVER_MSE,
               kInvalidArgument, "observer kind %d is not a valid per-tensor activation observer", k);
    qk::model::LayerConfig c;
    c.has_observer = true;
    c.observer = static_cast<qk::ObserverKind>(k);
    set_config(model, layer, c);
  });
}

QK_API qk_status qk_model_set_activation_dtype(qk_model* model, const char* layer, qk_dtype dtype) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(model);
    QK_FAIL_IF(dtype != QK_DTYPE_U8 && dtype != QK_DTYPE_S8, kInvalidArgument,
               "activation dtype %d must be QK_DTYPE_U8 or QK_DTYPE_S8", static_cast<int>(dtype));
    qk::model::LayerConfig c;
    c.has_dtype = true;
    c.act_dtype = static_cast<qk::DType>(dtype);
    set_config(model, layer, c);
  });
}

QK_API qk_status qk_model_set_weight_scheme(qk_model* model, const char* layer, qk_qscheme scheme) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(model);
    QK_FAIL_IF(scheme != QK_QSCHEME_PER_CHANNEL_SYMMETRIC && scheme != QK_QSCHEME_PER_TENSOR_SYMMETRIC &&
                   scheme != QK_QSCHEME_PER_TENSOR_AFFINE,
               kInvalidArgument, "weight scheme %d must be per-channel symmetric, per-tensor symmetric or affine",
               static_cast<int>(scheme));
    qk::model::LayerConfig c;
    c.has_scheme = true;
    c.weight_scheme = static_cast<qk::QScheme>(scheme);
    set_config(model, layer, c);
  });
}

QK_API qk_status qk_model_set_qconfig_preset(qk_model* model, const char* layer, const char* preset) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(model);
    const std::string p = str(preset, "preset");
    qk::model::LayerConfig c;
    c.has_observer = c.has_dtype = c.has_scheme = true;
    c.observer = qk::ObserverKind::kHistogram;
    c.act_dtype = qk::DType::kU8;
    if (p == "x86" || p == "fbgemm") {
      c.weight_scheme = qk::QScheme::kPerChannelSymmetric;
    } else if (p == "qnnpack") {
      c.weight_scheme = qk::QScheme::kPerTensorSymmetric;
    } else {
      qk::fail(qk::Status::kInvalidArgument, "unknown qconfig preset '%s' (x86, fbgemm, qnnpack)", p.c_str());
    }
    set_config(model, layer, c);
  });
}

QK_API qk_status qk_model_set_layer_skip(qk_model* model, const char* layer, int skip) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(model);
    QK_REQUIRE_NOT_NULL(layer);
    qk::model::LayerConfig c;
    c.has_skip = true;
    c.skip = skip != 0;
    set_config(model, layer, c);
  });
}

QK_API qk_status qk_model_prepare(qk_model* model) {
  return QK_GUARD({
    if (is_graph(model))
      model->g->prepare();
    else
      live(model).prepare();
  });
}

QK_API qk_status qk_model_calibrate(qk_model* model, const float* data, const int64_t* shape, size_t rank) {
  return QK_GUARD({
    if (is_layer_model(model)) {
      model->g->calibrate(qk::capi::layer_input(*model->g, data, shape, rank, "calibrate"));
      return;
    }
    if (is_graph(model)) {
      qk::capi::graph_calibrate(model, data, shape, rank);
      return;
    }
    Model& m = live(model);
    QK_REQUIRE_NOT_NULL(data);
    QK_REQUIRE_NOT_NULL(shape);
    m.calibrate(data, shape, rank);
  });
}

QK_API qk_status qk_model_set_tensor_qparams(qk_model* model, const char* tensor, const qk_qparams* qparams) {
  return QK_GUARD({
    if (is_graph(model)) {
      QK_REQUIRE_NOT_NULL(qparams);
      model->g->set_value_qparams(str(tensor, "tensor"), qparams->qp);
      return;
    }
    Model& m = live(model);
    const std::string name = str(tensor, "tensor");
    QK_REQUIRE_NOT_NULL(qparams);
    m.set_tensor_qparams(name, qparams->qp);
  });
}

QK_API qk_status qk_model_convert(qk_model* model) {
  return QK_GUARD({
    if (is_graph(model))
      model->g->convert();
    else
      live(model).convert();
  });
}

QK_API qk_status qk_model_quantize_dynamic(qk_model* model) {
  return QK_GUARD({
    if (is_graph(model))
      model->g->quantize_dynamic();
    else
      live(model).quantize_dynamic();
  });
}

QK_API qk_status qk_model_get_tensor_qparams(const qk_model* model, const char* tensor, qk_qparams** qparams_out) {
  return QK_GUARD({
    if (is_graph(model)) {
      qk::capi::graph_get_qparams(model, tensor, qparams_out);
      return;
    }
    const Model& m = live(model);
    const std::string name = str(tensor, "tensor");
    QK_REQUIRE_NOT_NULL(qparams_out);
    QK_FAIL_IF(m.state() != qk::model::State::kConverted, kState, "qparams exist only in a CONVERTED model");
    const qk::model::TensorInfo& t = m.tensor(name);
    QK_FAIL_IF(!t.has_qp, kState, "tensor '%s' has no qparams", name.c_str());
    auto h = std::make_unique<qk_qparams>();
    h->qp = t.qp;
    *qparams_out = h.release();
  });
}

QK_API qk_status qk_model_run(const qk_model* model, const float* input, const int64_t* shape, size_t rank,
                              float* output, size_t output_count, qk_threadpool* pool) {
  return QK_GUARD({
    if (is_layer_model(model)) {
      qk::capi::layer_run(*model->g, input, shape, rank, output, output_count, unwrap(pool));
      return;
    }
    if (is_graph(model)) {
      qk::capi::graph_run(model, input, shape, rank, output, output_count, pool);
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(input);
    QK_REQUIRE_NOT_NULL(shape);
    QK_REQUIRE_NOT_NULL(output);
    m.run(input, shape, rank, output, output_count, unwrap(pool));
  });
}

QK_API qk_status qk_model_layer_sqnr(const qk_model* model, const float* input, const int64_t* shape, size_t rank,
                                     double* sqnr_out, size_t capacity) {
  return QK_GUARD({
    if (is_layer_model(model)) {
      QK_REQUIRE_NOT_NULL(sqnr_out);
      QK_FAIL_IF(model->loaded_converted, kState, "%s", kNoReport);
      qk::capi::layer_report(*model->g, input, shape, rank, sqnr_out, nullptr, capacity);
      return;
    }
    if (is_graph(model)) {
      QK_REQUIRE_NOT_NULL(sqnr_out);
      qk::capi::graph_layer_report(model, input, shape, rank, sqnr_out, nullptr, capacity);
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(input);
    QK_REQUIRE_NOT_NULL(shape);
    QK_REQUIRE_NOT_NULL(sqnr_out);
    m.layer_sqnr(input, shape, rank, sqnr_out, capacity);
  });
}

QK_API qk_status qk_model_save_observers(const qk_model* model, void* buffer, size_t capacity, size_t* size_out) {
  return QK_GUARD({
    if (is_graph(model)) {
      QK_REQUIRE_NOT_NULL(size_out);
      QK_FAIL_IF(buffer == nullptr && capacity != 0, kInvalidArgument, "argument 'buffer' is NULL with capacity %zu",
                 capacity);
      const std::vector<uint8_t> state = model->g->save_observers();
      *size_out = state.size();
      if (buffer == nullptr) return;
      QK_FAIL_IF(capacity < state.size(), kBufferTooSmall, "capacity %zu < %zu bytes of observer state", capacity,
                 state.size());
      std::memcpy(buffer, state.data(), state.size());
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(size_out);
    QK_FAIL_IF(buffer == nullptr && capacity != 0, kInvalidArgument, "argument 'buffer' is NULL with capacity %zu",
               capacity);
    const std::vector<uint8_t> state = m.save_observers();
    *size_out = state.size();
    if (buffer == nullptr) return;
    QK_FAIL_IF(capacity < state.size(), kBufferTooSmall, "capacity %zu < %zu bytes of observer state", capacity,
               state.size());
    std::memcpy(buffer, state.data(), state.size());
  });
}

QK_API qk_status qk_model_merge_observers(qk_model* model, const void* state, size_t size) {
  return QK_GUARD({
    if (is_graph(model)) {
      QK_REQUIRE_NOT_NULL(state);
      model->g->merge_observers(static_cast<const uint8_t*>(state), size);
      return;
    }
    Model& m = live(model);
    QK_REQUIRE_NOT_NULL(state);
    m.merge_observers(static_cast<const uint8_t*>(state), size);
  });
}

QK_API qk_status qk_model_layer_report(const qk_model* model, const float* input, const int64_t* shape, size_t rank,
                                       double* sqnr_out, double* max_error_out, size_t capacity) {
  return QK_GUARD({
    if (is_layer_model(model)) {
      QK_FAIL_IF(model->loaded_converted, kState, "%s", kNoReport);
      qk::capi::layer_report(*model->g, input, shape, rank, sqnr_out, max_error_out, capacity);
      return;
    }
    if (is_graph(model)) {
      qk::capi::graph_layer_report(model, input, shape, rank, sqnr_out, max_error_out, capacity);
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(input);
    QK_REQUIRE_NOT_NULL(shape);
    m.layer_report(input, shape, rank, sqnr_out, max_error_out, capacity);
  });
}

QK_API qk_status qk_model_save(const qk_model* model, const char* path) {
  return QK_GUARD({
    if (is_graph(model)) {
      qk::capi::graph_save(model, path);
      return;
    }
    const Model& m = live(model);
    QK_REQUIRE_NOT_NULL(path);
    m.save(path);
  });
}

QK_API qk_status qk_model_load(const char* path, qk_model** model_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(path);
    QK_REQUIRE_NOT_NULL(model_out);
    auto h = std::make_unique<qk_model>();
    load_into(h.get(), [&] { return Model::load(path); },
              [&](qk::QkwReaderPtr& r) { ck_open(qk_qkw_open_file(path, QK_VERIFY_FULL, 0, qk::out_ptr(r))); });
    *model_out = h.release();
  });
}

QK_API qk_status qk_model_load_memory(const void* bytes, size_t size, qk_model** model_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(bytes);
    QK_REQUIRE_NOT_NULL(model_out);
    auto h = std::make_unique<qk_model>();
    load_into(h.get(), [&] { return Model::load_memory(bytes, size); },
              [&](qk::QkwReaderPtr& r) { ck_open(qk_qkw_open_memory(bytes, size, QK_VERIFY_FULL, 0, qk::out_ptr(r))); });
    *model_out = h.release();
  });
}

}  // extern "C"
