// SPDX-License-Identifier: Apache-2.0
// The op interface of graph v2 (TFLite's Prepare/Eval registration, ONNX Runtime's kernel
// registry). Each op is one file under src/graph/ops/ that defines one `const OpDef` and is
// listed once in src/graph/registry.cc. An op supplies:
//   - its arity and attribute schema (checked by the builder before the graph changes);
//   - infer: output dtypes and shapes from the inputs' (dims may be symbolic at build time and
//     are concrete when the model runs: the same function serves both);
//   - run_float: the float reference;
//   - its quantization rule, and for int8: whether a node can run int8, which rank-4 layout it
//     takes, a prepare step run ONCE at convert time (packing, tables), and run_int8;
//   - for dynamic quantization (weights int8, activations quantized per run): run_dynamic.
// Ops report bad input by throwing qk::Error (QK_FAIL_IF); the builder and the executor prefix
// the message with the node's name and op, so ops do not repeat them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/qparams.h"
#include "graph/node.h"

namespace qk {

class ThreadPool;

namespace graph {

// How a node's output gets its qparams when the model is converted.
enum class QuantRule : int {
  kFloatOnly = 0,           // always runs in float (its output is observed for int8 consumers)
  kKeepsInputQParams = 1,   // data movement, max, relu: output codes use input 0's qparams
  kFixedQParams = 2,        // output range known in advance (sigmoid: [0, 1])
  kObservedOutput = 3,      // output qparams from an observer (add, concat, tables)
  kWeighted = 4,            // conv / linear / matmul with constant weights quantized per channel
};

// Which storage of rank-4 int8 codes a node takes (the layout pass inserts reorders).
enum class Int8Layout : int { kNCHW = 0, kAny = 1, kNHWC = 2 };

// Input i absent (an optional input left out) has dtype kF32 and `present[i]` false.
struct InferContext {
  const Node& node;
  std::vector<TensorType> inputs;
  std::vector<bool> present;
  std::vector<const Tensor*> constants;  // constant data of each input, or null
  std::vector<TensorType> outputs;       // sized to the node's outputs; the op fills them
  // When the model runs: the size of every symbolic dim of the graph inputs (null at build time).
  // Ops whose attributes name symbols (Reshape's dim_symbols) resolve them through it.
  const std::map<std::string, int64_t>* symbols = nullptr;
};

// Evaluates a dim expression over the run's symbols: a symbol name, an integer, or
// "(" expr op expr ")" with op one of + - * / (integer division, truncating). kInvalidArgument
// for an unknown symbol, a malformed expression or a division by zero.
int64_t evaluate_dim_expression(const std::string& expr, const std::map<std::string, int64_t>& symbols);

struct RunContext {
  const Node& node;
  std::vector<const Tensor*> in;  // null for an absent input
  std::vector<Tensor*> out;       // allocated by the executor: dtype, shape and layout set
  // int8 run: per-tensor qparams of each input / output value (null for float values).
  std::vector<const QParams*> in_qp, out_qp;
  const void* prepared = nullptr;
  ThreadPool* pool = nullptr;
};

struct PrepareContext {
  const Node& node;
  std::vector<TensorType> in_types;
  std::vector<const Tensor*> constants;     // constant data of each input, or null
  std::vector<const QParams*> in_qp, out_qp;  // null for float values (and in dynamic mode)
  std::vector<Layout> in_layout, out_layout;
  QScheme weight_scheme = QScheme::kPerChannelSymmetric;  // from the node's qconfig
  DType activation_dtype = DType::kU8;                    // dynamic mode: how inputs are quantized
  bool dynamic = false;  // preparing for run_dynamic (no activation qparams) instead of run_int8
};

struct OpDef {
  const char* name;  // ONNX's where one exists ("Conv", "MatMul"), else ours ("Linear")
  uint8_t min_inputs, max_inputs, min_outputs, max_outputs;
  const AttrSpec* attrs;
  size_t attr_count;
  void (*infer)(InferContext& ctx);
  void (*run_float)(RunContext& ctx);
  QuantRule quant;
  // kFixedQParams: the output's qparams given input 0's.
  QParams (*fixed_qparams)(const QParams& input);
  // int8 (null: never): can this node run int8? Inputs as at build time.
  bool (*supports_int8)(const Node& node, const std::vector<TensorType>& in, const std::vector<const Tensor*>& consts);
  // Inputs the int8 (and dynamic) kernel takes as float constants (bit i: input i), e.g. weights
  // and bias; every other input is an int8 activation. Bit 31 (kFloatInputsIfConstant, below):
  // the marked inputs are float only when they are constants.
  uint32_t float_inputs;
  Int8Layout (*layout)(const Node& node, const std::vector<TensorType>& in);  // null: kNCHW
  std::shared_ptr<const void> (*prepare)(const PrepareContext& ctx);          // null: nothing
  void (*run_int8)(RunContext& ctx);
  // Dynamic quantization (null: stays float): weights int8 per channel, float in and out.
  bool (*supports_dynamic)(const Node& node, const std::vector<TensorType>& in,
                           const std::vector<const Tensor*>& consts);
  void (*run_dynamic)(RunContext& ctx);
  // kWeighted ops: input `weight_input` (0: none) is a constant weight that convert (and
  // quantize_dynamic) replaces ONCE by s8 codes with per-channel qparams along `weight_axis`
  // (negative: from the end; a rank-1 weight is one channel), passes/quantize_weights.cc. The
  // codes are what a converted .qkw stores; prepare reads them through weight_codes().
  uint8_t weight_input = 0;
  int8_t weight_axis = 0;
};

// Bit 31 of OpDef::float_inputs (opt-in): the marked inputs are float constants to the int8 /
// dynamic kernel only when they ARE constants; a non-constant input in a marked slot is an int8
// activation like any other, and supports_int8 decides. MatMul: B constant -> weights quantized
// per channel at prepare; B an activation (attention's Q K^T) -> int8 x int8. Without the bit, a
// marked input that is not constant keeps the node in float (Linear, Conv).
constexpr uint32_t kFloatInputsIfConstant = 1u << 31;
// Does `op`'s int8 / dynamic kernel take input i (constant or not) as float?
inline bool takes_float_input(const OpDef& op, size_t i, bool is_constant) {
  if (!(op.float_inputs & (1u << i))) return false;
  return is_constant || !(op.float_inputs & kFloatInputsIfConstant);
}

// Op files define `extern const OpDef k<Name> = {...};` (extern: a namespace-scope const has
// internal linkage in C++, and the registry refers to it from another file).
// The registry (src/graph/registry.cc): null for an unknown op type.
const OpDef* find_op(const std::string& name);
// All registered ops, for listings and tests.
const OpDef* const* all_ops(size_t* count);

// ---- Helpers for op files -----------------------------------------------------------------

// Numpy broadcasting of two declared shapes (symbolic dims: equal symbols, or a symbol against
// 1). Throws kInvalidArgument when the shapes do not broadcast.
Dims broadcast_dims(const Dims& a, const Dims& b);
// Maps `axis` in [-rank, rank) to [0, rank); throws naming `what`.
size_t normalize_axis(int64_t axis, size_t rank, const char* what);
// Input i must be present with this dtype / rank.
void require_dtype(const InferContext& ctx, size_t i, DType dtype);
void require_rank(const InferContext& ctx, size_t i, size_t rank);
// Constant data of input i, or a kInvalidArgument error naming `what`.
const Tensor& require_constant(const InferContext& ctx, size_t i, const char* what);
// Output dim computed from input dims: known when all are known, else a symbol derived from
// the node name ("<node>:<output>:<axis>"), resolved when the model runs.
Dim derived_dim(const Node& node, size_t output, size_t axis, bool known, int64_t size);

// Element-wise unary ops: the float run, and int8 as an exact 256-entry table of
// quantize(f(dequantize(code))) prepared at convert time.
void run_unary_float(RunContext& ctx, float (*f)(float));
std::shared_ptr<const void> prepare_table(const PrepareContext& ctx, float (*f)(float));
// The same for a function of the node's attributes (LeakyRelu's alpha, Gelu's approximate):
// f is called 256 times at convert time and not kept.
std::shared_ptr<const void> prepare_table_with(const PrepareContext& ctx, const std::function<float(float)>& f);
void run_table(RunContext& ctx);
// Same-dtype unary infer (output 0 = input 0's type).
void infer_same(InferContext& ctx);
// Two inputs of one numeric dtype (f32, s32, s64), numpy-broadcast: Sub, Mul, Div.
void infer_numeric_binary(InferContext& ctx);
// {N, C, spatial...} f32 -> {N, C, 1, ...}: the global pools.
void infer_global_pool(InferContext& ctx);
// For ops whose int8 run reads codes element by element (layout-agnostic).
Int8Layout layout_any(const Node& node, const std::vector<TensorType>& in);
Int8Layout layout_nhwc(const Node& node, const std::vector<TensorType>& in);
bool int8_always(const Node& node, const std::vector<TensorType>& in, const std::vector<const Tensor*>& consts);

// Calls fn(out_index, a_index, b_index) for every element of the numpy broadcast of shapes a
// and b (concrete; out is broadcast_dims of the two). Odometer walk, no division per element.
template <typename Fn>
void for_each_broadcast(const std::vector<int64_t>& out, const std::vector<int64_t>& a,
                        const std::vector<int64_t>& b, Fn&& fn) {
  uint64_t total = 1;
  for (int64_t d : out) total *= uint64_t(d);
  if (a == out && b == out) {
    for (uint64_t i = 0; i < total; ++i) fn(i, i, i);
    return;
  }
  const size_t r = out.size();
  std::vector<int64_t> sa(r, 0), sb(r, 0), idx(r, 0);
  int64_t stride_a = 1, stride_b = 1;
  for (size_t k = r; k-- > 0;) {
    const size_t ka = k + a.size() - r, kb = k + b.size() - r;  // wraps when absent
    if (k + a.size() >= r) {
      sa[k] = a[ka] == 1 ? 0 : stride_a;
      stride_a *= a[ka];
    }
    if (k + b.size() >= r) {
      sb[k] = b[kb] == 1 ? 0 : stride_b;
      stride_b *= b[kb];
    }
  }
  uint64_t ia = 0, ib = 0;
  for (uint64_t i = 0; i < total; ++i) {
    fn(i, ia, ib);
    for (size_t k = r; k-- > 0;) {
      ia += uint64_t(sa[k]);
      ib += uint64_t(sb[k]);
      if (++idx[k] < out[k]) break;
      ia -= uint64_t(sa[k] * out[k]);
      ib -= uint64_t(sb[k] * out[k]);
      idx[k] = 0;
    }
  }
}

// A weighted op's weight as the weight pass left it: s8 codes (the constant's shape) and their
// qparams. Checked against the op's axis and the shape (a loaded file could lie); throws
// kInvalidArgument.
struct WeightCodes {
  const int8_t* codes = nullptr;
  std::vector<int64_t> shape;
  QParams qp;
};
WeightCodes weight_codes(const PrepareContext& ctx);
// The weight pass's quantization of an f32 weight with `scheme` (per channel along `axis`; the
// per-tensor form of the scheme for a rank-1 weight): s8 codes into `codes` (sized by the call).
QParams quantize_weight(const Tensor& w, QScheme scheme, int axis, Tensor* codes);
// Is input i of an infer context an f32 weight or its int8 codes (both present as f32)?
inline bool weight_present_as_f32(const InferContext& ctx, size_t i) {
  return i < ctx.inputs.size() && ctx.present[i] && ctx.inputs[i].dtype == DType::kF32;
}

// y = f(a, b) element by element over the numpy broadcast of the node's two inputs of type T
// (the float runs of Add / Sub / Mul / Div, and their s32 / s64 shape arithmetic).
template <typename T, typename Fn>
void binary_broadcast(RunContext& ctx, Fn&& f) {
  const Tensor& a = *ctx.in[0];
  const Tensor& b = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* py = y.data<T>();
  for_each_broadcast(y.shape, a.shape, b.shape, [&](uint64_t i, uint64_t ia, uint64_t ib) { py[i] = f(pa[ia], pb[ib]); });
}

// Quantize one float to a per-tensor qparams' code (round half to even, saturating).
int32_t quantize_value(const QParams& qp, float x);
inline float dequantize_value(const QParams& qp, int32_t code) {
  return float(code - qp.zero_points[0]) * qp.scales[0];
}
// Reads code i of a u8/s8 tensor.
inline int32_t code_at(const Tensor& t, size_t i) {
  return t.dtype == DType::kS8 ? int32_t(t.data<int8_t>()[i]) : int32_t(t.data<uint8_t>()[i]);
}
inline void set_code(Tensor& t, size_t i, int32_t code) {
  if (t.dtype == DType::kS8)
    t.data<int8_t>()[i] = int8_t(code);
  else
    t.data<uint8_t>()[i] = uint8_t(code);
}

}  // namespace graph
}  // namespace qk
