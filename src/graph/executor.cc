// SPDX-License-Identifier: Apache-2.0
#include "graph/executor.h"

#include <cmath>
#include <cstring>
#include <map>

#include "core/error.h"
#include "core/quantize.h"

namespace qk {
namespace graph {

namespace {

// Binds the caller's tensors to the graph inputs: names, dtypes, ranks, fixed dims, and one
// size per symbol across all inputs.
std::vector<const Tensor*> bind_inputs(const Graph& g, const NamedTensors& inputs) {
  std::vector<const Tensor*> bound(g.inputs().size(), nullptr);
  std::map<std::string, int64_t> symbols;
  for (const auto& kv : inputs) {
    size_t slot = g.inputs().size();
    for (size_t i = 0; i < g.inputs().size(); ++i)
      if (g.values()[size_t(g.inputs()[i])].name == kv.first) slot = i;
    QK_FAIL_IF(slot == g.inputs().size(), kNotFound, "the model has no input '%s'", kv.first.c_str());
    QK_FAIL_IF(bound[slot] != nullptr, kInvalidArgument, "input '%s' given twice", kv.first.c_str());
    const Value& v = g.values()[size_t(g.inputs()[slot])];
    const Tensor& t = kv.second;
    QK_FAIL_IF(t.dtype != v.type.dtype, kInvalidArgument, "input '%s' is %s, the model takes %s", kv.first.c_str(),
               dtype_name(t.dtype), dtype_name(v.type.dtype));
    QK_FAIL_IF(t.shape.size() != v.type.dims.size(), kInvalidArgument, "input '%s': rank %zu, the model takes %s",
               kv.first.c_str(), t.shape.size(), dims_string(v.type.dims).c_str());
    for (size_t d = 0; d < t.shape.size(); ++d) {
      const Dim& want = v.type.dims[d];
      if (want.known()) {
        QK_FAIL_IF(t.shape[d] != want.size, kInvalidArgument, "input '%s': dimension %zu is %lld, the model takes %s",
                   kv.first.c_str(), d, (long long)t.shape[d], dims_string(v.type.dims).c_str());
        continue;
      }
      auto it = symbols.find(want.symbol);
      if (it == symbols.end()) {
        symbols[want.symbol] = t.shape[d];
      } else {
        QK_FAIL_IF(it->second != t.shape[d], kInvalidArgument,
                   "input '%s': dimension %zu ('%s') is %lld, but '%s' is %lld in another input", kv.first.c_str(), d,
                   want.symbol.c_str(), (long long)t.shape[d], want.symbol.c_str(), (long long)it->second);
      }
    }
    if (t.dtype == DType::kF32) {
      const float* p = t.data<float>();
      for (uint64_t i = 0; i < t.count(); ++i)
        QK_FAIL_IF(!std::isfinite(p[i]), kInvalidArgument, "input '%s'[%llu] is not finite", kv.first.c_str(),
                   (unsigned long long)i);
    }
    bound[slot] = &kv.second;
  }
  for (size_t i = 0; i < bound.size(); ++i)
    QK_FAIL_IF(bound[i] == nullptr, kInvalidArgument, "input '%s' is missing",
               g.values()[size_t(g.inputs()[i])].name.c_str());
  return bound;
}

// The type a node's op sees for value v at run time: quantized values are f32 to the op's infer
// (they come from f32 values; their codes are the int8 kernels' business).
TensorType runtime_type(const Value& v, const Tensor& t) {
  TensorType tt;
  tt.dtype = v.has_qp && (t.dtype == DType::kU8 || t.dtype == DType::kS8) ? DType::kF32 : t.dtype;
  tt.dims = known_dims(t.shape);
  return tt;
}

}  // namespace

Tensor dequantized(const Tensor& t, const QParams& qp) {
  Tensor f = Tensor::allocate(DType::kF32, t.shape);
  const Shape s = Shape::from(t.shape.data(), t.shape.size(), "shape");
  if (t.layout == Layout::kNHWC) {
    Tensor tmp = Tensor::allocate(DType::kF32, t.shape);
    dequantize(qp, t.storage.get(), t.bytes, s, tmp.data<float>());
    const size_t N = size_t(t.shape[0]), C = size_t(t.shape[1]), HW = size_t(t.shape[2] * t.shape[3]);
    const float* src = tmp.data<float>();
    float* dst = f.data<float>();
    for (size_t b = 0; b < N; ++b)
      for (size_t p = 0; p < HW; ++p)
        for (size_t c = 0; c < C; ++c) dst[(b * C + c) * HW + p] = src[(b * HW + p) * C + c];
  } else {
    dequantize(qp, t.storage.get(), t.bytes, s, f.data<float>());
  }
  return f;
}

NamedTensors execute(const Graph& g, const NamedTensors& inputs, ThreadPool* pool, const ValueObserver& observe) {
  const std::vector<Value>& values = g.values();
  const std::vector<const Tensor*> bound = bind_inputs(g, inputs);
  // Uses left per value; graph outputs are never freed.
  std::vector<int> uses(values.size(), 0);
  for (const Node& n : g.nodes())
    for (int id : n.inputs)
      if (id >= 0) ++uses[size_t(id)];
  for (int id : g.outputs()) uses[size_t(id)] += 1 << 20;

  std::vector<std::shared_ptr<const Tensor>> env(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].constant) env[i] = values[i].constant;
  for (size_t i = 0; i < bound.size(); ++i) {
    const int id = g.inputs()[i];
    env[size_t(id)] = std::shared_ptr<const Tensor>(bound[i], [](const Tensor*) {});  // caller-owned
    if (observe) observe(id, env[size_t(id)]);
  }

  for (const Node& n : g.nodes()) {
    InferContext ictx{n, {}, {}, {}, {}};
    RunContext rctx{n, {}, {}, {}, {}, n.prepared.get(), pool};
    for (int id : n.inputs) {
      const Tensor* t = id >= 0 ? env[size_t(id)].get() : nullptr;
      QK_FAIL_IF(id >= 0 && t == nullptr, kInternal, "node '%s': input '%s' was not computed", n.name.c_str(),
                 values[size_t(id)].name.c_str());
      ictx.present.push_back(t != nullptr);
      ictx.inputs.push_back(t ? runtime_type(values[size_t(id)], *t) : TensorType{});
      ictx.constants.push_back(id >= 0 ? values[size_t(id)].constant.get() : nullptr);
      rctx.in.push_back(t);
      rctx.in_qp.push_back(id >= 0 && values[size_t(id)].has_qp ? &values[size_t(id)].qp : nullptr);
    }
    ictx.outputs.resize(n.outputs.size());
    try {
      n.op->infer(ictx);
    } catch (const Error& e) {
      throw Error(e.status(), format("node '%s' (%s): %s", n.name.c_str(), n.op->name, e.what()));
    }
    std::vector<std::shared_ptr<Tensor>> outs;
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      const Value& v = values[size_t(n.outputs[i])];
      const bool quantized = n.mode == NodeMode::kInt8 && v.has_qp;
      auto t = std::make_shared<Tensor>(Tensor::allocate(quantized ? v.qp.dtype : ictx.outputs[i].dtype,
                                                          concrete(ictx.outputs[i].dims), false));
      if (quantized) t->layout = v.layout;
      rctx.out.push_back(t.get());
      rctx.out_qp.push_back(v.has_qp ? &v.qp : nullptr);
      outs.push_back(std::move(t));
    }
    try {
      switch (n.mode) {
        case NodeMode::kFloat: n.op->run_float(rctx); break;
        case NodeMode::kInt8: n.op->run_int8(rctx); break;
        case NodeMode::kDynamic: n.op->run_dynamic(rctx); break;
      }
    } catch (const Error& e) {
      throw Error(e.status(), format("node '%s' (%s): %s", n.name.c_str(), n.op->name, e.what()));
    }
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      env[size_t(n.outputs[i])] = outs[i];
      if (observe) observe(n.outputs[i], env[size_t(n.outputs[i])]);
    }
    for (int id : n.inputs)
      if (id >= 0 && --uses[size_t(id)] == 0 && !values[size_t(id)].constant) env[size_t(id)].reset();
  }

  NamedTensors result;
  for (int id : g.outputs()) {
    const Value& v = values[size_t(id)];
    const Tensor& t = *env[size_t(id)];
    if (v.has_qp && (t.dtype == DType::kU8 || t.dtype == DType::kS8)) {
      result.emplace_back(v.name, dequantized(t, v.qp));
    } else {
      Tensor copy = Tensor::copy_of(t.dtype, t.shape, t.storage.get(), t.bytes);
      result.emplace_back(v.name, std::move(copy));
    }
  }
  return result;
}

NamedTensors Graph::run(const NamedTensors& inputs, ThreadPool* pool) const {
  QK_FAIL_IF(outputs_.empty(), kState, "the model has no outputs (qk_model_add_output)");
  return execute(*this, inputs, pool, nullptr);
}

}  // namespace graph
}  // namespace qk
