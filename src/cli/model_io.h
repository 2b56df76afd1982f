// SPDX-License-Identifier: Apache-2.0
// Graph models (.onnx or .qkw) for `qk quantize` and `qk run`, through the public C API's
// experimental graph section (qk_model_load_onnx, qk_run_*), with errors turned into qkcli::Error.
#pragma once

#include <quantkit/quantkit.h>

#include <string>
#include <vector>

#include "common.h"

namespace qkcli {

// Owns a qk_model.
struct Model {
  qk_model* m = nullptr;
  Model() = default;
  ~Model() { qk_model_destroy(m); }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
};

// Owns a qk_run context.
struct Run {
  qk_run* r = nullptr;
  explicit Run(const qk_model* model, const std::string& ctx);
  ~Run() { qk_run_destroy(r); }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
};

// Loads MODEL: ".onnx" through qk_model_load_onnx, anything else through qk_model_load (a .qkw
// model file). Throws Error("<path>: ...") (exit 2), also for a model that is not a graph.
void load_model(const std::string& path, Model& out);
// "FLOAT", "PREPARED", "CONVERTED", "DYNAMIC".
const char* state_name(qk_model_state s);
qk_model_state model_state(const qk_model* m, const std::string& ctx);

// The declared shape of a graph value: dims (-1 symbolic) and their names ("" for fixed dims).
struct ValueShape {
  std::vector<int64_t> dims;
  std::vector<std::string> names;
  qk_dtype dtype = QK_DTYPE_F32;
  std::string str() const;  // "batchx1x8x8"
};
ValueShape value_shape(const qk_model* m, const std::string& value, const std::string& ctx);

// The one f32 input of a model; throws UsageError naming the inputs otherwise.
std::string single_f32_input(const qk_model* m, const std::string& path);
// Throws UsageError unless `shape` (an array whose first axis is the batch) fits the input's
// declared shape (same rank, equal fixed dims; the first axis must not be empty).
void check_input_shape(const qk_model* m, const std::string& input, const std::vector<int64_t>& shape,
                       const std::string& model_path, const std::string& array_path);
// Names of the model's outputs, in order.
std::vector<std::string> output_names(const qk_model* m, const std::string& ctx);

// Reads a .npy array as float32 data (f64 / f16 converted; other dtypes: UsageError).
std::vector<float> read_f32_array(const std::string& path, std::vector<int64_t>* shape);

}  // namespace qkcli
