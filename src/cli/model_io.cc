// SPDX-License-Identifier: Apache-2.0
#include "model_io.h"

#include <cstring>

#include "npy.h"
#include "qkw_io.h"

namespace qkcli {

Run::Run(const qk_model* model, const std::string& ctx) {
  qk_status st = qk_run_create(model, &r);
  if (st != QK_OK) throw_qk(ctx, st);
}

void load_model(const std::string& path, Model& out) {
  qk_status st = extension(path) == ".onnx" ? qk_model_load_onnx(path.c_str(), nullptr, &out.m)
                                            : qk_model_load(path.c_str(), &out.m);
  if (st != QK_OK) throw_qk(path, st);
  int graph = 0;
  if ((st = qk_model_is_graph(out.m, &graph)) != QK_OK) throw_qk(path, st);
  if (!graph)
    throw Error(path + ": a layer model, not a graph model (only graph models: ONNX imports and the .qkw "
                       "files 'qk quantize' writes)");
}

const char* state_name(qk_model_state s) {
  switch (s) {
    case QK_MODEL_FLOAT: return "FLOAT";
    case QK_MODEL_PREPARED: return "PREPARED";
    case QK_MODEL_CONVERTED: return "CONVERTED";
    case QK_MODEL_DYNAMIC: return "DYNAMIC";
    default: return "unknown";
  }
}

qk_model_state model_state(const qk_model* m, const std::string& ctx) {
  qk_model_state s = QK_MODEL_FLOAT;
  qk_status st = qk_model_get_state(m, &s);
  if (st != QK_OK) throw_qk(ctx, st);
  return s;
}

std::string ValueShape::str() const {
  if (dims.empty()) return "scalar";
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += "x";
    s += dims[i] < 0 ? (names[i].empty() ? std::string("?") : names[i]) : std::to_string(dims[i]);
  }
  return s;
}

ValueShape value_shape(const qk_model* m, const std::string& value, const std::string& ctx) {
  ValueShape v;
  int64_t dims[kMaxRank];
  const char* names[kMaxRank];
  size_t rank = 0;
  qk_status st = qk_model_value_shape(m, value.c_str(), dims, names, kMaxRank, &rank, &v.dtype);
  if (st != QK_OK) throw_qk(ctx + ": value '" + value + "'", st);
  for (size_t i = 0; i < rank; ++i) {
    v.dims.push_back(dims[i]);
    v.names.push_back(dims[i] < 0 && names[i] ? names[i] : "");
  }
  return v;
}

std::string single_f32_input(const qk_model* m, const std::string& path) {
  size_t n = 0;
  qk_status st = qk_model_input_count(m, &n);
  if (st != QK_OK) throw_qk(path, st);
  std::string list;
  for (size_t i = 0; i < n; ++i) {
    const char* name = nullptr;
    if ((st = qk_model_input_name(m, i, &name)) != QK_OK) throw_qk(path, st);
    list += std::string(i ? ", " : "") + "'" + name + "'";
  }
  if (n != 1)
    throw UsageError(path + ": the model has " + std::to_string(n) + " inputs (" + list +
                     "); only models with exactly one f32 input are supported");
  const char* name = nullptr;
  if ((st = qk_model_input_name(m, 0, &name)) != QK_OK) throw_qk(path, st);
  const ValueShape v = value_shape(m, name, path);
  if (v.dtype != QK_DTYPE_F32)
    throw UsageError(path + ": input '" + name + "' is not f32; only models with exactly one f32 input are supported");
  return name;
}

void check_input_shape(const qk_model* m, const std::string& input, const std::vector<int64_t>& shape,
                       const std::string& model_path, const std::string& array_path) {
  const ValueShape v = value_shape(m, input, model_path);
  bool ok = v.dims.size() == shape.size() && !shape.empty();
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = v.dims[i] < 0 || v.dims[i] == shape[i];
  if (!ok)
    throw UsageError(array_path + ": shape " + shape_str(shape) + " does not fit input '" + input + "' of " +
                     model_path + " (" + v.str() + "; the first axis is the batch)");
  if (shape[0] == 0) throw UsageError(array_path + ": the array holds no sample (first axis 0)");
}

std::vector<std::string> output_names(const qk_model* m, const std::string& ctx) {
  size_t n = 0;
  qk_status st = qk_model_output_count(m, &n);
  if (st != QK_OK) throw_qk(ctx, st);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    const char* name = nullptr;
    if ((st = qk_model_output_name(m, i, &name)) != QK_OK) throw_qk(ctx, st);
    out.push_back(name);
  }
  return out;
}

// Reads a .npy array as f32 data (float dtypes only).
std::vector<float> read_f32_array(const std::string& path, std::vector<int64_t>* shape) {
  const Tensor t = read_npy_file(path);
  if (!dtype_is_float(t.dtype))
    throw UsageError(path + ": a " + dtype_name(t.dtype) + " array; the model takes float32");
  *shape = t.shape;
  std::vector<float> f(static_cast<size_t>(t.count()));
  if (t.dtype == DType::F32) {
    if (!f.empty()) std::memcpy(f.data(), t.data.data(), f.size() * 4);
  } else {
    const std::vector<double> d = to_double(t);
    for (size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(d[i]);
  }
  return f;
}

}  // namespace qkcli
