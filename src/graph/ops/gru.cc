// SPDX-License-Identifier: Apache-2.0
// GRU (ONNX opset 14, layout 0): X {seq, batch, input}; constant W {dirs, 3H, input}, R
// {dirs, 3H, H}, optional B {dirs, 6H} (Wb then Rb); optional initial_h {dirs, batch, H};
// sequence_lens is not taken. Gates in ONNX's order z, r, h:
//   z = sigmoid(x Wz' + h Rz' + Wbz + Rbz)      r = sigmoid(x Wr' + h Rr' + Wbr + Rbr)
//   linear_before_reset = 0:  h~ = tanh(x Wh' + (r * h) Rh' + Rbh + Wbh)
//   linear_before_reset = 1:  h~ = tanh(x Wh' + r * (h Rh' + Rbh) + Wbh)   (PyTorch's GRU)
//   h = (1 - z) * h~ + z * h
// Attributes: hidden_size, direction, linear_before_reset. Outputs Y {seq, dirs, batch, H} and the
// optional Y_h {dirs, batch, H}. Float and dynamic as LSTM (recurrent.h).
#include <cmath>
#include <string>

#include "graph/ops/recurrent.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace recurrent;

const AttrSpec kAttrs[] = {{"hidden_size", AttrType::kInt, true},
                           {"direction", AttrType::kString, false},
                           {"linear_before_reset", AttrType::kInt, false}};

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  require_rank(ctx, 0, 3);
  const int64_t H = ctx.node.attrs.get_int("hidden_size", 0), D = directions(ctx.node);
  QK_FAIL_IF(H < 1 || H >= (int64_t(1) << 24), kInvalidArgument, "hidden_size %lld must be >= 1", (long long)H);
  const int64_t lbr = ctx.node.attrs.get_int("linear_before_reset", 0);
  QK_FAIL_IF(lbr != 0 && lbr != 1, kInvalidArgument, "linear_before_reset must be 0 or 1");
  const Dims& x = ctx.inputs[0].dims;
  QK_FAIL_IF(!x[2].known(), kInvalidArgument, "the input size (dimension 2) must be known");
  require_weight(ctx, 1, "W", {D, 3 * H, x[2].size});
  require_weight(ctx, 2, "R", {D, 3 * H, H});
  if (ctx.inputs.size() > 3 && ctx.present[3]) require_weight(ctx, 3, "B", {D, 6 * H});
  QK_FAIL_IF(ctx.inputs.size() > 4 && ctx.present[4], kUnsupported, "sequence_lens is not supported");
  if (ctx.inputs.size() > 5 && ctx.present[5]) {
    require_dtype(ctx, 5, DType::kF32);
    const Dims& s = ctx.inputs[5].dims;
    QK_FAIL_IF(s.size() != 3 || (s[0].known() && s[0].size != D) || (s[2].known() && s[2].size != H), kInvalidArgument,
               "initial_h must be {%lld, batch, %lld} (got %s)", (long long)D, (long long)H, dims_string(s).c_str());
  }
  ctx.outputs[0] = TensorType{DType::kF32, {x[0], Dim::of(D), x[1], Dim::of(H)}};
  if (ctx.outputs.size() > 1) ctx.outputs[1] = TensorType{DType::kF32, {Dim::of(D), x[1], Dim::of(H)}};
}

// Per direction: the input GEMM ({m, I} -> {m, 3H}), the recurrent one over all three gates
// ({m, H} -> {m, 3H}), and for linear_before_reset = 0 the h gate's alone on r * h ({m, H} -> {m, H}).
struct Gemms {
  Gemm input, recurrent, recurrent_h;
};

template <typename MakeGemms>
void run_all(RunContext& ctx, MakeGemms&& make) {
  const Tensor& x = *ctx.in[0];
  const int64_t S = x.shape[0], N = x.shape[1], H = ctx.node.attrs.get_int("hidden_size", 0);
  const int64_t D = ctx.out[0]->shape[1];
  const bool lbr = ctx.node.attrs.get_int("linear_before_reset", 0) != 0;
  const float* B = ctx.in.size() > 3 && ctx.in[3] ? ctx.in[3]->data<float>() : nullptr;
  float* y = ctx.out[0]->data<float>();
  for (int64_t d = 0; d < D; ++d) {
    const Gemms g = make(d);
    const float* wb = B ? B + d * 6 * H : nullptr;
    const float* rb = B ? B + d * 6 * H + 3 * H : nullptr;
    std::vector<float> xw(size_t(S * N * 3 * H)), h(size_t(N * H), 0.0f), hr(size_t(N * 3 * H)), rh(size_t(N * H)),
        rhr(size_t(N * H));
    if (S * N > 0) g.input(size_t(S * N), x.data<float>(), xw.data());
    if (ctx.in.size() > 5 && ctx.in[5]) std::copy_n(ctx.in[5]->data<float>() + d * N * H, N * H, h.begin());
    for (int64_t step = 0; step < S; ++step) {
      const int64_t t = reversed(ctx.node, d) ? S - 1 - step : step;
      g.recurrent(size_t(N), h.data(), hr.data());
      std::vector<float> z(size_t(N * H)), r(size_t(N * H));
      for (int64_t b = 0; b < N; ++b)
        for (int64_t j = 0; j < H; ++j) {
          const float* a = xw.data() + (t * N + b) * 3 * H;
          const float* q = hr.data() + b * 3 * H;
          auto bias = [&](int64_t k) { return B ? wb[k * H + j] + rb[k * H + j] : 0.0f; };
          z[size_t(b * H + j)] = sigmoid(a[j] + q[j] + bias(0));
          r[size_t(b * H + j)] = sigmoid(a[H + j] + q[H + j] + bias(1));
          rh[size_t(b * H + j)] = r[size_t(b * H + j)] * h[size_t(b * H + j)];
        }
      if (!lbr) g.recurrent_h(size_t(N), rh.data(), rhr.data());
      for (int64_t b = 0; b < N; ++b)
        for (int64_t j = 0; j < H; ++j) {
          const size_t i = size_t(b * H + j);
          const float xh = xw[size_t((t * N + b) * 3 * H + 2 * H + j)] + (B ? wb[2 * H + j] : 0.0f);
          const float rbh = B ? rb[2 * H + j] : 0.0f;
          const float cand = lbr ? std::tanh(xh + r[i] * (hr[size_t(b * 3 * H + 2 * H + j)] + rbh))
                                 : std::tanh(xh + rhr[i] + rbh);
          h[i] = (1.0f - z[i]) * cand + z[i] * h[i];
        }
      for (int64_t b = 0; b < N; ++b) std::copy_n(h.data() + b * H, H, y + ((t * D + d) * N + b) * H);
    }
    if (ctx.out.size() > 1 && ctx.out[1]) std::copy_n(h.data(), N * H, ctx.out[1]->data<float>() + d * N * H);
  }
}

void run_float(RunContext& ctx) {
  const int64_t I = ctx.in[0]->shape[2], H = ctx.node.attrs.get_int("hidden_size", 0);
  const float* W = ctx.in[1]->data<float>();
  const float* R = ctx.in[2]->data<float>();
  run_all(ctx, [&](int64_t d) {
    const float* rd = R + d * 3 * H * H;
    return Gemms{float_gemm(W + d * 3 * H * I, 3 * H, I), float_gemm(rd, 3 * H, H), float_gemm(rd + 2 * H * H, H, H)};
  });
}

struct Prepared {
  std::vector<std::shared_ptr<const DynamicLinear>> w, r, rh;  // per direction
};

std::shared_ptr<const void> prepare(const PrepareContext& ctx) {
  const Tensor& W = *ctx.constants[1];
  const Tensor& R = *ctx.constants[2];
  const int64_t D = W.shape[0], G = W.shape[1], I = W.shape[2], H = R.shape[2];
  auto p = std::make_shared<Prepared>();
  for (int64_t d = 0; d < D; ++d) {
    const float* rd = R.data<float>() + d * G * H;
    p->w.push_back(dynamic_linear(W.data<float>() + d * G * I, G, I, ctx.weight_scheme));
    p->r.push_back(dynamic_linear(rd, G, H, ctx.weight_scheme));
    p->rh.push_back(dynamic_linear(rd + 2 * H * H, H, H, ctx.weight_scheme));
  }
  return p;
}

void run_dynamic(RunContext& ctx) {
  const Prepared& p = *static_cast<const Prepared*>(ctx.prepared);
  run_all(ctx, [&](int64_t d) {
    const size_t i = size_t(d);
    return Gemms{dynamic_gemm(p.w[i].get(), ctx.pool), dynamic_gemm(p.r[i].get(), ctx.pool),
                 dynamic_gemm(p.rh[i].get(), ctx.pool)};
  });
}

}  // namespace

// Inputs 1 (W), 2 (R) and 3 (B) are float constants to the dynamic kernel.
extern const OpDef kGRU = {"GRU", 3, 6, 1, 2, kAttrs, 3, infer, run_float, QuantRule::kFloatOnly, nullptr, nullptr,
                           0xE, nullptr, prepare, nullptr, supports_dynamic, run_dynamic};

}  // namespace ops
}  // namespace graph
}  // namespace qk
