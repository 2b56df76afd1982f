// SPDX-License-Identifier: Apache-2.0
// Linear: y = x W^T + b over the last axis of x (any rank >= 1: {F}, {B, F}, {B, T, D}), W a
// constant {out, in}, b an optional constant {out}, then the optional fused clamp [clip_min,
// clip_max]. int8: weights quantized once at convert time (per channel by default; the s8 codes
// are what a converted model stores) and packed
// for the int8 GEMM (ops/qlinear.h); dynamic: ops/dynamic_linear.h (PyTorch's quantize_dynamic).
#include <Eigen/Core>
#include <cmath>

#include "core/quantize.h"
#include "graph/op.h"
#include "ops/dynamic_linear.h"
#include "ops/packed_weights.h"
#include "ops/qlinear.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

const AttrSpec kAttrs[] = {{"clip_min", AttrType::kFloat, false}, {"clip_max", AttrType::kFloat, false}};

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  const Tensor& w = require_constant(ctx, 1, "weight");
  QK_FAIL_IF(!weight_present_as_f32(ctx, 1) || w.shape.size() != 2, kInvalidArgument,
             "weight must be an f32 {out, in} matrix (got %s %s)", dtype_name(ctx.inputs[1].dtype),
             shape_string(w.shape).c_str());
  QK_FAIL_IF(w.shape[0] < 1 || w.shape[1] < 1, kInvalidArgument, "weight %s is empty", shape_string(w.shape).c_str());
  const Dims& x = ctx.inputs[0].dims;
  QK_FAIL_IF(x.empty(), kInvalidArgument, "input must have rank >= 1");
  QK_FAIL_IF(x.back().known() && x.back().size != w.shape[1], kInvalidArgument,
             "input %s: last dimension must be in_features = %lld", dims_string(x).c_str(), (long long)w.shape[1]);
  if (ctx.inputs.size() > 2 && ctx.present[2]) {
    const Tensor& b = require_constant(ctx, 2, "bias");
    QK_FAIL_IF(b.dtype != DType::kF32 || b.shape != std::vector<int64_t>{w.shape[0]}, kInvalidArgument,
               "bias must be f32 {%lld} (got %s %s)", (long long)w.shape[0], dtype_name(b.dtype),
               shape_string(b.shape).c_str());
  }
  QK_FAIL_IF(ctx.node.attrs.get_float("clip_min", -INFINITY) > ctx.node.attrs.get_float("clip_max", INFINITY),
             kInvalidArgument, "clip_min > clip_max");
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = x;
  ctx.outputs[0].dims.back() = Dim::of(w.shape[0]);
}

const float* bias_of(const std::vector<const Tensor*>& in) {
  return in.size() > 2 && in[2] ? in[2]->data<float>() : nullptr;
}

void run_float(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  const Tensor& w = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  const int64_t O = w.shape[0], K = w.shape[1], M = int64_t(x.count() / uint64_t(K));
  Eigen::Map<const RowMat> xm(x.data<float>(), M, K);
  Eigen::Map<const RowMat> wm(w.data<float>(), O, K);
  Eigen::Map<RowMat> ym(y.data<float>(), M, O);
  ym.noalias() = xm * wm.transpose();
  const float* b = bias_of(ctx.in);
  const float lo = ctx.node.attrs.get_float("clip_min", -INFINITY);
  const float hi = ctx.node.attrs.get_float("clip_max", INFINITY);
  float* py = y.data<float>();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t o = 0; o < O; ++o) {
      float& v = py[m * O + o];
      v = std::min(std::max(v + (b ? b[o] : 0.0f), lo), hi);
    }
}

struct Prepared {
  std::shared_ptr<const QLinear> q;
  std::shared_ptr<const DynamicLinear> dynamic;
};

std::shared_ptr<const void> prepare(const PrepareContext& ctx) {
  const WeightCodes w = weight_codes(ctx);  // s8 {out, in}, per channel on axis 0 by default
  const Tensor* b = ctx.constants.size() > 2 ? ctx.constants[2] : nullptr;
  const size_t n = size_t(w.shape[0]), k = size_t(w.shape[1]);
  auto pw = make_packed_weights(w.codes, n, k, k, w.qp, b ? b->data<float>() : nullptr, DType::kF32);
  auto p = std::make_shared<Prepared>();
  if (ctx.dynamic) {
    p->dynamic = std::make_shared<DynamicLinear>(pw, ctx.activation_dtype, false);
  } else {
    p->q = std::make_shared<QLinear>(pw, *ctx.in_qp[0], GemmOutput::kQuantized, ctx.out_qp[0],
                                     ctx.node.attrs.get_float("clip_min", -INFINITY),
                                     ctx.node.attrs.get_float("clip_max", INFINITY), false);
  }
  return p;
}

void run_int8(RunContext& ctx) {
  const Prepared& p = *static_cast<const Prepared*>(ctx.prepared);
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const size_t k = p.q->k(), n = p.q->n(), m = size_t(x.count() / k);
  p.q->run(m, x.storage.get(), k, y.storage.get(), n, ctx.pool);
}

void run_dynamic(RunContext& ctx) {
  const Prepared& p = *static_cast<const Prepared*>(ctx.prepared);
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const size_t k = p.dynamic->k(), n = p.dynamic->n(), m = size_t(x.count() / k);
  p.dynamic->run(m, x.data<float>(), k, y.data<float>(), n, ctx.pool);
  // The dynamic kernel has no clamp: apply the fused one (Linear + Relu) on its f32 output.
  const float lo = ctx.node.attrs.get_float("clip_min", -INFINITY);
  const float hi = ctx.node.attrs.get_float("clip_max", INFINITY);
  if (std::isinf(lo) && std::isinf(hi)) return;
  float* py = y.data<float>();
  for (uint64_t i = 0, c = y.count(); i < c; ++i) py[i] = std::min(std::max(py[i], lo), hi);
}

bool supported(const Node&, const std::vector<TensorType>&, const std::vector<const Tensor*>&) { return true; }

}  // namespace

// Inputs 1 (weight) and 2 (bias) are float constants to the int8 kernel.
extern const OpDef kLinear = {"Linear", 2, 3, 1, 1, kAttrs, 2, infer, run_float, QuantRule::kWeighted, nullptr, supported,
                       0x6, nullptr, prepare, run_int8, supported, run_dynamic, 1, 0};

}  // namespace ops
}  // namespace graph
}  // namespace qk
