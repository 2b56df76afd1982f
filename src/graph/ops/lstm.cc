// SPDX-License-Identifier: Apache-2.0
// LSTM (ONNX opset 14, layout 0): X {seq, batch, input}; constant W {dirs, 4H, input}, R
// {dirs, 4H, H}, optional B {dirs, 8H} (Wb then Rb); optional initial_h / initial_c
// {dirs, batch, H} (activations or constants); sequence_lens and the peephole P are not taken
// (exporters of fixed-length batches leave them out). Gates in ONNX's order i, o, f, c:
//   i = sigmoid(x Wi' + h Ri' + Wbi + Rbi)   f = sigmoid(...)   c~ = tanh(...)   o = sigmoid(...)
//   C = f * C + i * c~                       H = o * tanh(C)
// Attributes: hidden_size (required), direction "forward" | "reverse" | "bidirectional";
// activations, clip, input_forget and layout other than ONNX's defaults are refused by the
// importer (they are not attributes here). Outputs Y {seq, dirs, batch, H} and the optional
// Y_h, Y_c {dirs, batch, H}.
// Float: the input projection of every step at once (one Eigen GEMM, seq * batch rows), then per
// step the recurrent GEMM and the gates, in float.
// Dynamic (what PyTorch's quantize_dynamic does to nn.LSTM): W and R quantized per channel once
// at convert time (s8), each GEMM a DynamicLinear (activations quantized per call: the input
// projection over all steps, then the hidden state per step); gates stay float. Static int8:
// float only (an LSTM between int8 nodes runs float between a dequantize and a quantize).
#include <cmath>
#include <string>

#include "graph/ops/recurrent.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace recurrent;

const AttrSpec kAttrs[] = {{"hidden_size", AttrType::kInt, true}, {"direction", AttrType::kString, false}};

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  require_rank(ctx, 0, 3);
  const int64_t H = ctx.node.attrs.get_int("hidden_size", 0), D = directions(ctx.node);
  QK_FAIL_IF(H < 1 || H >= (int64_t(1) << 24), kInvalidArgument, "hidden_size %lld must be >= 1", (long long)H);
  const Dims& x = ctx.inputs[0].dims;
  QK_FAIL_IF(!x[2].known(), kInvalidArgument, "the input size (dimension 2) must be known");
  const int64_t I = x[2].size;
  require_weight(ctx, 1, "W", {D, 4 * H, I});
  require_weight(ctx, 2, "R", {D, 4 * H, H});
  if (ctx.inputs.size() > 3 && ctx.present[3]) require_weight(ctx, 3, "B", {D, 8 * H});
  QK_FAIL_IF(ctx.inputs.size() > 4 && ctx.present[4], kUnsupported, "sequence_lens is not supported");
  for (size_t i = 5; i < ctx.inputs.size() && i <= 6; ++i) {
    if (!ctx.present[i]) continue;
    require_dtype(ctx, i, DType::kF32);
    const Dims& s = ctx.inputs[i].dims;
    QK_FAIL_IF(s.size() != 3 || (s[0].known() && s[0].size != D) || (s[2].known() && s[2].size != H), kInvalidArgument,
               "initial state %zu must be {%lld, batch, %lld} (got %s)", i, (long long)D, (long long)H,
               dims_string(s).c_str());
  }
  QK_FAIL_IF(ctx.inputs.size() > 7 && ctx.present[7], kUnsupported, "peepholes (P) are not supported");
  ctx.outputs[0] = TensorType{DType::kF32, {x[0], Dim::of(D), x[1], Dim::of(H)}};
  for (size_t o = 1; o < ctx.outputs.size(); ++o) ctx.outputs[o] = TensorType{DType::kF32, {Dim::of(D), x[1], Dim::of(H)}};
}


// Per direction: the input GEMM ({m, I} -> {m, 4H}) and the recurrent one ({m, H} -> {m, 4H}).
struct Gemms {
  Gemm input, recurrent;
};

// The recurrence over the input projections `xw` ({seq, batch, 4H}, biases included).
void recur(RunContext& ctx, int64_t dir, bool reverse, const Gemms& g, const float* bias_r, std::vector<float>& xw) {
  const Tensor& x = *ctx.in[0];
  const int64_t S = x.shape[0], N = x.shape[1], H = ctx.node.attrs.get_int("hidden_size", 0);
  const int64_t D = ctx.out[0]->shape[1];
  std::vector<float> h(size_t(N * H), 0.0f), c(size_t(N * H), 0.0f), hr(size_t(N * 4 * H));
  if (ctx.in.size() > 5 && ctx.in[5]) std::copy_n(ctx.in[5]->data<float>() + dir * N * H, N * H, h.begin());
  if (ctx.in.size() > 6 && ctx.in[6]) std::copy_n(ctx.in[6]->data<float>() + dir * N * H, N * H, c.begin());
  float* y = ctx.out[0]->data<float>();
  for (int64_t step = 0; step < S; ++step) {
    const int64_t t = reverse ? S - 1 - step : step;
    g.recurrent(size_t(N), h.data(), hr.data());
    for (int64_t b = 0; b < N; ++b) {
      const float* a = xw.data() + (t * N + b) * 4 * H;
      const float* r = hr.data() + b * 4 * H;
      for (int64_t j = 0; j < H; ++j) {
        auto gate = [&](int64_t k) { return a[k * H + j] + r[k * H + j] + (bias_r ? bias_r[k * H + j] : 0.0f); };
        const float i = sigmoid(gate(0)), o = sigmoid(gate(1)), f = sigmoid(gate(2)), cc = std::tanh(gate(3));
        float& cell = c[size_t(b * H + j)];
        cell = f * cell + i * cc;
        h[size_t(b * H + j)] = o * std::tanh(cell);
      }
    }
    for (int64_t b = 0; b < N; ++b) std::copy_n(h.data() + b * H, H, y + ((t * D + dir) * N + b) * H);
  }
  if (ctx.out.size() > 1 && ctx.out[1]) std::copy_n(h.data(), N * H, ctx.out[1]->data<float>() + dir * N * H);
  if (ctx.out.size() > 2 && ctx.out[2]) std::copy_n(c.data(), N * H, ctx.out[2]->data<float>() + dir * N * H);
}

// Runs every direction; `make` gives direction d's GEMMs.
template <typename MakeGemms>
void run_all(RunContext& ctx, MakeGemms&& make) {
  const Tensor& x = *ctx.in[0];
  const int64_t S = x.shape[0], N = x.shape[1], H = ctx.node.attrs.get_int("hidden_size", 0);
  const int64_t D = ctx.out[0]->shape[1];
  const float* B = ctx.in.size() > 3 && ctx.in[3] ? ctx.in[3]->data<float>() : nullptr;
  for (int64_t d = 0; d < D; ++d) {
    const Gemms g = make(d);
    std::vector<float> xw(size_t(S * N * 4 * H));
    if (S * N > 0) g.input(size_t(S * N), x.data<float>(), xw.data());
    if (B)
      for (int64_t r = 0; r < S * N; ++r)
        for (int64_t k = 0; k < 4 * H; ++k) xw[size_t(r * 4 * H + k)] += B[d * 8 * H + k];
    recur(ctx, d, reversed(ctx.node, d), g, B ? B + d * 8 * H + 4 * H : nullptr, xw);
  }
}

void run_float(RunContext& ctx) {
  const int64_t I = ctx.in[0]->shape[2], H = ctx.node.attrs.get_int("hidden_size", 0);
  const float* W = ctx.in[1]->data<float>();
  const float* R = ctx.in[2]->data<float>();
  run_all(ctx, [&](int64_t d) { return Gemms{float_gemm(W + d * 4 * H * I, 4 * H, I), float_gemm(R + d * 4 * H * H, 4 * H, H)}; });
}

struct Prepared {
  std::vector<std::shared_ptr<const DynamicLinear>> w, r;  // per direction
};

std::shared_ptr<const void> prepare(const PrepareContext& ctx) {
  const Tensor& W = *ctx.constants[1];
  const Tensor& R = *ctx.constants[2];
  const int64_t D = W.shape[0], G = W.shape[1], I = W.shape[2], H = R.shape[2];
  auto p = std::make_shared<Prepared>();
  for (int64_t d = 0; d < D; ++d) {
    p->w.push_back(dynamic_linear(W.data<float>() + d * G * I, G, I, ctx.weight_scheme));
    p->r.push_back(dynamic_linear(R.data<float>() + d * G * H, G, H, ctx.weight_scheme));
  }
  return p;
}

void run_dynamic(RunContext& ctx) {
  const Prepared& p = *static_cast<const Prepared*>(ctx.prepared);
  run_all(ctx, [&](int64_t d) {
    return Gemms{dynamic_gemm(p.w[size_t(d)].get(), ctx.pool), dynamic_gemm(p.r[size_t(d)].get(), ctx.pool)};
  });
}

}  // namespace

// Inputs 1 (W), 2 (R) and 3 (B) are float constants to the dynamic kernel.
extern const OpDef kLSTM = {"LSTM", 3, 8, 1, 3, kAttrs, 2, infer, run_float, QuantRule::kFloatOnly, nullptr, nullptr,
                            0xE, nullptr, prepare, nullptr, supports_dynamic, run_dynamic};

}  // namespace ops
}  // namespace graph
}  // namespace qk
