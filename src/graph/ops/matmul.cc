// SPDX-License-Identifier: Apache-2.0
// MatMul: numpy matmul (ONNX MatMul, opset 13). A {..., M, K} x B {..., K, N} -> {..., M, N}: the
// batch dims (all but the last two) broadcast as numpy does; a 1-D A {K} is promoted to {1, K}
// and a 1-D B {K} to {K, 1}, and the promoted dim is removed from the output again (1-D x 1-D is
// a scalar, rank 0). No attributes.
//
// int8 (QuantRule::kWeighted, output observed in both cases), two cases chosen per node:
//  - activation x CONSTANT B (rank 2 {K, N}, or 1-D {K}): a Linear whose weights are B^T. B is
//    quantized once at convert time per output column N (the node's weight_scheme; the weight
//    pass, whose s8 codes a converted model stores) and packed
//    for the int8 GEMM (ops/qlinear.h); dynamic quantization runs ops/dynamic_linear.h (what
//    transformers need). A's rows are contiguous, so every batch dim folds into the GEMM's M.
//  - activation x activation (attention's Q K^T and P V): both operands are int8 codes with
//    per-tensor qparams (a constant B of rank > 2 keeps the node float). The exact integer accumulation
//      acc = sum(a*b) - zb*rowsum(a) - za*colsum(b) + K*za*zb  ( = sum((a-za)*(b-zb)) )
//    is requantized with one float multiplier sa*sb/so, rounded half to even and clamped.
//  float_inputs marks B with kFloatInputsIfConstant: B is a float weight only when constant.
#include <Eigen/Core>
#include <algorithm>
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

// The dims of a value without its last `n` (the batch dims of a matmul operand).
template <typename T>
std::vector<T> drop_last(const std::vector<T>& v, size_t n) {
  return std::vector<T>(v.begin(), v.end() - std::ptrdiff_t(std::min(n, v.size())));
}

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  require_dtype(ctx, 1, DType::kF32);
  const Dims& a = ctx.inputs[0].dims;
  const Dims& b = ctx.inputs[1].dims;
  QK_FAIL_IF(a.empty(), kInvalidArgument, "A must have rank >= 1 (got a scalar)");
  QK_FAIL_IF(b.empty(), kInvalidArgument, "B must have rank >= 1 (got a scalar)");
  const Dim& ka = a.back();
  const Dim& kb = b.size() >= 2 ? b[b.size() - 2] : b[0];
  // A symbol against a size, or two symbols: the run (with concrete dims) checks again.
  QK_FAIL_IF(ka.known() && kb.known() && ka.size != kb.size, kInvalidArgument,
             "inner dimensions differ: A %s has K = %lld, B %s has K = %lld", dims_string(a).c_str(),
             (long long)ka.size, dims_string(b).c_str(), (long long)kb.size);
  Dims out = broadcast_dims(drop_last(a, 2), drop_last(b, 2));
  if (a.size() >= 2) out.push_back(a[a.size() - 2]);  // M
  if (b.size() >= 2) out.push_back(b.back());          // N
  QK_FAIL_IF(out.size() > kMaxGraphRank, kInvalidArgument, "output rank %zu exceeds %zu", out.size(),
             kMaxGraphRank);
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = std::move(out);
}

// Concrete geometry of one run: batch shapes (numpy-broadcast) and the matrix sizes.
struct Geometry {
  std::vector<int64_t> batch, a_batch, b_batch;
  int64_t M, K, N;
};

Geometry geometry(const Tensor& a, const Tensor& b) {
  Geometry g;
  g.M = a.shape.size() >= 2 ? a.shape[a.shape.size() - 2] : 1;
  g.K = a.shape.back();
  g.N = b.shape.size() >= 2 ? b.shape.back() : 1;
  g.a_batch = drop_last(a.shape, 2);
  g.b_batch = drop_last(b.shape, 2);
  g.batch = concrete(broadcast_dims(known_dims(g.a_batch), known_dims(g.b_batch)));
  return g;
}

void run_float(RunContext& ctx) {
  const Tensor& a = *ctx.in[0];
  const Tensor& b = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  if (y.count() == 0) return;
  const Geometry g = geometry(a, b);
  const int64_t sa = g.M * g.K, sb = g.K * g.N, sy = g.M * g.N;
  for_each_broadcast(g.batch, g.a_batch, g.b_batch, [&](uint64_t o, uint64_t ia, uint64_t ib) {
    Eigen::Map<const RowMat> am(a.data<float>() + ia * uint64_t(sa), g.M, g.K);
    Eigen::Map<const RowMat> bm(b.data<float>() + ib * uint64_t(sb), g.K, g.N);
    Eigen::Map<RowMat> ym(y.data<float>() + o * uint64_t(sy), g.M, g.N);
    ym.noalias() = am * bm;
  });
}

// ---- int8 --------------------------------------------------------------------------------

// A constant B the weighted path takes: f32 (or, once converted, its s8 codes), rank 1 {K} or 2
// {K, N}, not empty.
bool weight_like(const Tensor* b) {
  return b && (b->dtype == DType::kF32 || b->dtype == DType::kS8) && (b->shape.size() == 1 || b->shape.size() == 2) &&
         b->count() > 0;
}

bool supports_int8(const Node&, const std::vector<TensorType>&, const std::vector<const Tensor*>& consts) {
  // A constant B of rank > 2 stays float (it would reach the kernel unquantized: B's slot is a
  // float input whenever B is constant); a B activation runs int8 x int8.
  return consts[1] == nullptr || weight_like(consts[1]);
}

bool supports_dynamic(const Node&, const std::vector<TensorType>&, const std::vector<const Tensor*>& consts) {
  return weight_like(consts[1]);
}

struct Prepared {
  std::shared_ptr<const QLinear> q;               // activation x constant, static
  std::shared_ptr<const DynamicLinear> dynamic;   // activation x constant, dynamic
  float multiplier = 0.0f;                        // activation x activation: sa*sb/so
};

std::shared_ptr<const void> prepare(const PrepareContext& ctx) {
  auto p = std::make_shared<Prepared>();
  const Tensor* b = ctx.constants[1];
  if (!weight_like(b)) {
    const QParams& qa = *ctx.in_qp[0];
    const QParams& qb = *ctx.in_qp[1];
    const QParams& qo = *ctx.out_qp[0];
    const double m = double(qa.scales[0]) * double(qb.scales[0]) / double(qo.scales[0]);
    p->multiplier = float(m);
    QK_FAIL_IF(!std::isfinite(p->multiplier) || p->multiplier <= 0.0f, kInvalidArgument,
               "requantization multiplier %g (input scales %g, %g, output scale %g) is not a finite positive float",
               m, double(qa.scales[0]), double(qb.scales[0]), double(qo.scales[0]));
    return p;
  }
  // The weight pass quantized B {K, N} per output column (axis 1; a 1-D B {K} per tensor). The
  // GEMM takes weights {N, K} row-major: B^T, per channel on axis 0.
  const WeightCodes w = weight_codes(ctx);
  const size_t k = size_t(w.shape[0]), n = w.shape.size() == 2 ? size_t(w.shape[1]) : 1;
  std::vector<int8_t> wq(n * k);
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < n; ++j) wq[j * k + i] = w.codes[i * n + j];
  QParams wqp = w.qp;
  wqp.axis = 0;
  auto pw = make_packed_weights(wq.data(), n, k, k, wqp, nullptr, DType::kF32);
  if (ctx.dynamic)
    p->dynamic = std::make_shared<DynamicLinear>(pw, ctx.activation_dtype, false);
  else
    p->q = std::make_shared<QLinear>(pw, *ctx.in_qp[0], GemmOutput::kQuantized, ctx.out_qp[0], -INFINITY, INFINITY,
                                     false);
  return p;
}

// C[m, n] for one batch of int8 x int8: exact integer sums, then one float requantization.
// Accumulates in int64: the same integers as an int32 kernel wherever that one cannot overflow
// (|a*b| <= 255*255, so K <= 33025), and still exact for longer K (a long sequence in P V).
template <typename TA, typename TB>
void qmatmul_batch(const TA* a, const TB* b, Tensor& y, uint64_t y0, const Geometry& g, int32_t za, int32_t zb,
                   int32_t zo, int32_t qmin, int32_t qmax, float mult, std::vector<int64_t>& acc,
                   std::vector<int64_t>& colsum) {
  const int64_t M = g.M, K = g.K, N = g.N;
  std::fill(colsum.begin(), colsum.end(), 0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) colsum[size_t(n)] += b[k * N + n];
  const int64_t kzz = K * int64_t(za) * int64_t(zb);
  for (int64_t m = 0; m < M; ++m) {
    const TA* row = a + m * K;
    int64_t rowsum = 0;
    std::fill(acc.begin(), acc.end(), 0);
    for (int64_t k = 0; k < K; ++k) {
      const int64_t av = row[k];
      rowsum += av;
      const TB* brow = b + k * N;
      for (int64_t n = 0; n < N; ++n) acc[size_t(n)] += av * int64_t(brow[n]);
    }
    for (int64_t n = 0; n < N; ++n) {
      const int64_t total = acc[size_t(n)] - int64_t(zb) * rowsum - int64_t(za) * colsum[size_t(n)] + kzz;
      const float q = std::nearbyint(float(total) * mult) + float(zo);  // half to even (default mode)
      set_code(y, y0 + uint64_t(m * N + n), int32_t(std::min(std::max(q, float(qmin)), float(qmax))));
    }
  }
}

template <typename TA, typename TB>
void qmatmul(const Tensor& a, const Tensor& b, Tensor& y, const RunContext& ctx, float mult) {
  const Geometry g = geometry(a, b);
  const QParams& qo = *ctx.out_qp[0];
  std::vector<int64_t> acc(size_t(g.N)), colsum(size_t(g.N));
  for_each_broadcast(g.batch, g.a_batch, g.b_batch, [&](uint64_t o, uint64_t ia, uint64_t ib) {
    qmatmul_batch(a.data<TA>() + ia * uint64_t(g.M * g.K), b.data<TB>() + ib * uint64_t(g.K * g.N), y,
                  o * uint64_t(g.M * g.N), g, ctx.in_qp[0]->zero_points[0], ctx.in_qp[1]->zero_points[0],
                  qo.zero_points[0], qo.quant_min, qo.quant_max, mult, acc, colsum);
  });
}

void run_int8(RunContext& ctx) {
  const Prepared& p = *static_cast<const Prepared*>(ctx.prepared);
  const Tensor& a = *ctx.in[0];
  const Tensor& b = *ctx.in[1];
  Tensor& y = *ctx.out[0];
  if (y.count() == 0) return;
  if (p.q) {
    const size_t k = p.q->k(), n = p.q->n(), m = size_t(a.count() / k);
    p.q->run(m, a.storage.get(), k, y.storage.get(), n, ctx.pool);
    return;
  }
  const bool sa = a.dtype == DType::kS8, sb = b.dtype == DType::kS8;
  if (sa && sb) qmatmul<int8_t, int8_t>(a, b, y, ctx, p.multiplier);
  else if (sa) qmatmul<int8_t, uint8_t>(a, b, y, ctx, p.multiplier);
  else if (sb) qmatmul<uint8_t, int8_t>(a, b, y, ctx, p.multiplier);
  else qmatmul<uint8_t, uint8_t>(a, b, y, ctx, p.multiplier);
}

void run_dynamic(RunContext& ctx) {
  const Prepared& p = *static_cast<const Prepared*>(ctx.prepared);
  const Tensor& a = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  if (y.count() == 0) return;
  const size_t k = p.dynamic->k(), n = p.dynamic->n(), m = size_t(a.count() / k);
  p.dynamic->run(m, a.data<float>(), k, y.data<float>(), n, ctx.pool);
}

}  // namespace

// Input 1 (B) is a float weight only when it is a constant (kFloatInputsIfConstant).
extern const OpDef kMatMul = {"MatMul", 2, 2, 1, 1, nullptr, 0, infer, run_float, QuantRule::kWeighted, nullptr,
                       supports_int8, 0x2 | kFloatInputsIfConstant, nullptr, prepare, run_int8, supports_dynamic,
                       run_dynamic, 1, -1};

}  // namespace ops
}  // namespace graph
}  // namespace qk
