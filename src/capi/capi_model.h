// SPDX-License-Identifier: Apache-2.0
// The qk_model handle, shared by the model shims (capi_model.cc: the layer API) and the graph
// shims (capi_graph.cc: the experimental general-graph API). A handle holds exactly one of the
// two engines until the layer API is rebuilt on the graph (issue 12, second step).
#pragma once

#include <memory>

#include "graph/graph.h"
#include "model/model.h"

// m: only a v1 layer model file loaded by qk_model_load (kept read-only-compatible: it runs on
// the legacy engine). g: every other model; g->layer_api() for those built by qk_model_create.
// Attribute list of qk_model_add_node (and the import options of qk_model_load_onnx).
struct qk_attrs {
  qk::graph::Attributes attrs;
};

struct qk_model {
  std::unique_ptr<qk::model::Model> m;
  std::unique_ptr<qk::graph::Graph> g;
  bool output_set = false;  // layer API: qk_model_set_output chose the output
  // layer API: a CONVERTED model from a file, which the layer engine could not report on (its
  // files held only int8 weights); qk_model_layer_report keeps failing with QK_ERR_STATE.
  bool loaded_converted = false;
};

namespace qk {
namespace capi {

inline bool is_graph(const qk_model* model) { return model != nullptr && model->g != nullptr; }

// The layer API over the graph (capi_model_layers.cc). Each throws qk::Error.
bool is_layer_model(const qk_model* model);
bool is_internal_node(const qk::graph::Node& n);  // convert's qk.* nodes: not layers
std::vector<const qk::graph::Node*> layer_nodes(const qk::graph::Graph& g);
int layer_kind_of(const qk::graph::Node& n);      // qk_layer_kind, 0 for other ops
std::string graph_config_name(const char* layer);  // "type:conv2d" -> "type:Conv"
qk::graph::NamedTensors layer_input(const qk::graph::Graph& g, const float* data, const int64_t* shape, size_t rank,
                                    const char* what);
void layer_run(const qk::graph::Graph& g, const float* input, const int64_t* shape, size_t rank, float* output,
               size_t output_count, qk::ThreadPool* pool);
void layer_report(const qk::graph::Graph& g, const float* input, const int64_t* shape, size_t rank, double* sqnr_out,
                  double* max_error_out, size_t capacity);

// Graph-model versions of the model group's calls (capi_graph.cc). Each throws qk::Error.
void graph_set_config(qk_model* model, const char* node, const qk::model::LayerConfig& c);
void graph_calibrate(qk_model* model, const float* data, const int64_t* shape, size_t rank);
void graph_run(const qk_model* model, const float* input, const int64_t* shape, size_t rank, float* output,
               size_t output_count, qk_threadpool* pool);
void graph_value_shape(const qk_model* model, const char* value, int64_t* shape_out, size_t capacity,
                       size_t* rank_out);
void graph_output_shape(const qk_model* model, int64_t* shape_out, size_t capacity, size_t* rank_out);
void graph_get_qparams(const qk_model* model, const char* value, qk_qparams** qparams_out);
void graph_fused(const qk_model* model, std::vector<const std::string*>* names);
void graph_save(const qk_model* model, const char* path);
// qk_model_layer_report for a graph with one f32 input: one entry per node of
// qk_model_node_count() order that is not a qk.* node... see capi_graph.cc.
void graph_layer_report(const qk_model* model, const float* input, const int64_t* shape, size_t rank,
                        double* sqnr_out, double* max_error_out, size_t capacity);

}  // namespace capi
}  // namespace qk
