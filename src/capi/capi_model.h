// SPDX-License-Identifier: Apache-2.0
// The qk_model handle, shared by the model shims (capi_model.cc: the layer API) and the graph
// shims (capi_graph.cc: the experimental general-graph API). A handle holds exactly one of the
// two engines until the layer API is rebuilt on the graph (issue 12, second step).
#pragma once

#include <memory>

#include "graph/graph.h"
#include "model/model.h"

struct qk_model {
  std::unique_ptr<qk::model::Model> m;
  std::unique_ptr<qk::graph::Graph> g;
};

namespace qk {
namespace capi {

inline bool is_graph(const qk_model* model) { return model != nullptr && model->g != nullptr; }

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
