// SPDX-License-Identifier: Apache-2.0
#include "graph/executor.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>

#include "core/error.h"
#include "core/quantize.h"

namespace qk {
namespace graph {

namespace {

// Binds the caller's tensors to the graph inputs: names, dtypes, ranks, fixed dims, and one
// size per symbol across all inputs.
std::vector<const Tensor*> bind_inputs(const Graph& g, const NamedTensors& inputs,
                                       std::map<std::string, int64_t>* symbols_out) {
  std::vector<const Tensor*> bound(g.inputs().size(), nullptr);
  std::map<std::string, int64_t>& symbols = *symbols_out;
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
      for (uint64_t i = 0, count = t.count(); i < count; ++i)
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

namespace {

// Infers every node's outputs for these input tensors and lays the computed values out in one
// arena (graph/plan.h). Infer errors name the node, as a run's errors do.
std::shared_ptr<const Plan> build_plan(const Graph& g, const std::vector<const Tensor*>& bound,
                                       const std::map<std::string, int64_t>& symbols, Shapes key) {
  const std::vector<Value>& values = g.values();
  auto plan = std::make_shared<Plan>();
  Plan& p = *plan;
  p.key = std::move(key);
  const size_t nv = values.size();
  p.dtype.assign(nv, DType::kF32);
  p.shape.resize(nv);
  p.bytes.assign(nv, 0);
  p.offset.assign(nv, 0);
  p.last_use.assign(nv, -1);
  std::vector<TensorType> types(nv);
  for (size_t i = 0; i < nv; ++i)
    if (values[i].constant) types[i] = runtime_type(values[i], *values[i].constant);
  for (size_t i = 0; i < bound.size(); ++i) types[size_t(g.inputs()[i])] = runtime_type(values[size_t(g.inputs()[i])], *bound[i]);

  const std::vector<Node>& nodes = g.nodes();
  for (size_t k = 0; k < nodes.size(); ++k) {
    const Node& n = nodes[k];
    InferContext ictx{n, {}, {}, {}, {}};
    ictx.symbols = &symbols;
    for (int id : n.inputs) {
      ictx.present.push_back(id >= 0);
      ictx.inputs.push_back(id >= 0 ? types[size_t(id)] : TensorType{});
      ictx.constants.push_back(id >= 0 ? values[size_t(id)].constant.get() : nullptr);
      if (id >= 0) p.last_use[size_t(id)] = int(k);
    }
    ictx.outputs.resize(n.outputs.size());
    try {
      n.op->infer(ictx);
    } catch (const Error& e) {
      throw Error(e.status(), format("node '%s' (%s): %s", n.name.c_str(), n.op->name, e.what()));
    }
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      const size_t id = size_t(n.outputs[i]);
      const Value& v = values[id];
      const bool quantized = n.mode == NodeMode::kInt8 && v.has_qp;
      p.shape[id] = concrete(ictx.outputs[i].dims);
      p.dtype[id] = quantized ? v.qp.dtype : ictx.outputs[i].dtype;
      p.bytes[id] = storage_size(p.dtype[id], checked_count(p.shape[id], "output"));
      types[id] = TensorType{ictx.outputs[i].dtype, known_dims(p.shape[id])};
      if (p.last_use[id] < int(k)) p.last_use[id] = int(k);  // never read: free after its node
    }
  }
  for (int id : g.outputs()) p.last_use[size_t(id)] = INT32_MAX;

  // First fit over lifetimes: node k's outputs get blocks not used by any value still to be
  // read at node k (its inputs included: ops do not run in place). Blocks are 64-byte aligned
  // with 64 bytes of zeroed padding, as Tensor::allocate gives.
  struct Block {
    size_t offset, size;
    int until;
  };
  std::vector<Block> live;  // sorted by offset
  for (size_t k = 0; k < nodes.size(); ++k) {
    live.erase(std::remove_if(live.begin(), live.end(), [&](const Block& b) { return b.until < int(k); }), live.end());
    for (int out : nodes[k].outputs) {
      const size_t id = size_t(out);
      const size_t size = (p.bytes[id] + 63) / 64 * 64 + 64;
      size_t at = 0;
      auto it = live.begin();
      for (; it != live.end(); ++it) {
        if (it->offset >= at + size) break;
        at = std::max(at, it->offset + it->size);
      }
      live.insert(it, Block{at, size, p.last_use[id]});
      p.offset[id] = at;
      p.arena_bytes = std::max(p.arena_bytes, at + size);
    }
  }
  return plan;
}

// The plan for these inputs: cached when the graph cannot change any more.
std::shared_ptr<const Plan> plan_for(const Graph& g, const std::vector<const Tensor*>& bound,
                                     const std::map<std::string, int64_t>& symbols) {
  Shapes key;
  key.reserve(bound.size());
  for (const Tensor* t : bound) key.push_back(t->shape);
  const bool immutable = g.state() == GraphState::kConverted || g.state() == GraphState::kDynamic;
  if (immutable)
    if (auto p = g.plan_cache().find(key)) return p;
  auto p = build_plan(g, bound, symbols, std::move(key));
  if (immutable) g.plan_cache().insert(p);
  return p;
}

}  // namespace

NamedTensors execute(const Graph& g, const NamedTensors& inputs, ThreadPool* pool, const ValueObserver& observe) {
  const std::vector<Value>& values = g.values();
  std::map<std::string, int64_t> symbols;
  const std::vector<const Tensor*> bound = bind_inputs(g, inputs, &symbols);
  const std::shared_ptr<const Plan> planp = plan_for(g, bound, symbols);
  const Plan& plan = *planp;

  // One arena per run. Not when observing: observers keep tensors past their last use, so each
  // value then gets storage of its own (freed after its last use unless an observer kept it).
  std::shared_ptr<uint8_t> arena;
  if (!observe && plan.arena_bytes > 0)
    arena = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(::operator new(plan.arena_bytes, std::align_val_t(64))),
                                     [](uint8_t* q) { ::operator delete(q, std::align_val_t(64)); });
  std::vector<const Tensor*> env(values.size(), nullptr);
  std::vector<Tensor> local(values.size());  // the values this run computes
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].constant) env[i] = values[i].constant.get();
  for (size_t i = 0; i < bound.size(); ++i) {
    const int id = g.inputs()[i];
    env[size_t(id)] = bound[i];
    if (observe) observe(id, std::shared_ptr<const Tensor>(bound[i], [](const Tensor*) {}));  // caller-owned
  }

  // Reused across nodes (moved into each RunContext and back): no allocation per node.
  std::vector<const Tensor*> in;
  std::vector<Tensor*> out;
  std::vector<const QParams*> in_qp, out_qp;
  const std::vector<Node>& nodes = g.nodes();
  for (size_t k = 0; k < nodes.size(); ++k) {
    const Node& n = nodes[k];
    in.clear();
    out.clear();
    in_qp.clear();
    out_qp.clear();
    for (int id : n.inputs) {
      const Tensor* t = id >= 0 ? env[size_t(id)] : nullptr;
      QK_FAIL_IF(id >= 0 && t == nullptr, kInternal, "node '%s': input '%s' was not computed", n.name.c_str(),
                 values[size_t(id)].name.c_str());
      in.push_back(t);
      in_qp.push_back(id >= 0 && values[size_t(id)].has_qp ? &values[size_t(id)].qp : nullptr);
    }
    for (int oid : n.outputs) {
      const size_t id = size_t(oid);
      const Value& v = values[id];
      Tensor& t = local[id];
      if (arena) {
        t.dtype = plan.dtype[id];
        t.shape = plan.shape[id];
        t.bytes = plan.bytes[id];
        t.storage = std::shared_ptr<uint8_t>(arena, arena.get() + plan.offset[id]);
        const size_t padded = (t.bytes + 63) / 64 * 64 + 64;
        std::memset(t.storage.get() + t.bytes, 0, padded - t.bytes);
      } else {
        t = Tensor::allocate(plan.dtype[id], plan.shape[id], false);
      }
      t.layout = n.mode == NodeMode::kInt8 && v.has_qp ? v.layout : Layout::kNCHW;
      out.push_back(&t);
      out_qp.push_back(v.has_qp ? &v.qp : nullptr);
    }
    RunContext rctx{n, std::move(in), std::move(out), std::move(in_qp), std::move(out_qp), n.prepared.get(), pool};
    try {
      switch (n.mode) {
        case NodeMode::kFloat: n.op->run_float(rctx); break;
        case NodeMode::kInt8: n.op->run_int8(rctx); break;
        case NodeMode::kDynamic: n.op->run_dynamic(rctx); break;
      }
    } catch (const Error& e) {
      throw Error(e.status(), format("node '%s' (%s): %s", n.name.c_str(), n.op->name, e.what()));
    }
    in = std::move(rctx.in);
    out = std::move(rctx.out);
    in_qp = std::move(rctx.in_qp);
    out_qp = std::move(rctx.out_qp);
    for (int id : n.outputs) {
      env[size_t(id)] = &local[size_t(id)];
      if (observe) observe(id, std::make_shared<const Tensor>(local[size_t(id)]));  // shares the storage
    }
    if (!arena)
      for (int id : n.inputs)
        if (id >= 0 && plan.last_use[size_t(id)] == int(k) && !values[size_t(id)].constant)
          local[size_t(id)].storage.reset();  // bound inputs are not in `local`: a no-op for them
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
