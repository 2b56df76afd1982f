// SPDX-License-Identifier: Apache-2.0
// ConvTranspose (ONNX): the transposed (fractionally strided) convolution of a 1-D ({N, C, L})
// or 2-D ({N, C, H, W}) input with a constant weight {C, M/group, [kh,] kw} and an optional
// constant bias {M}; attributes kernel_shape (checked against the weight), strides, pads (begins
// then ends), dilations, group, output_padding, output_shape and auto_pad. Output size per axis:
//   stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 - pad_begin - pad_end,
// or output_shape when given (the pads then follow from it), or in * stride for SAME_UPPER /
// SAME_LOWER: with a given / SAME output the total padding is split as ONNX's spec says (half at
// the beginning for SAME_UPPER, the odd one at the beginning otherwise).
// Float: every input pixel scatters kernel x weight into the output (col2im order), then the bias.
// int8: kFloatOnly this round; issue 15 adds the int8 kernel (a QConv2d over the zero-inserted
// input, or a direct NHWC kernel) and with it the kWeighted rule.
#include <algorithm>
#include <cstring>

#include "graph/op.h"
#include "graph/ops/window.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

const AttrSpec kAttrs[] = {{"kernel_shape", AttrType::kInts, false},   {"strides", AttrType::kInts, false},
                           {"pads", AttrType::kInts, false},           {"dilations", AttrType::kInts, false},
                           {"group", AttrType::kInt, false},           {"auto_pad", AttrType::kString, false},
                           {"output_padding", AttrType::kInts, false}, {"output_shape", AttrType::kInts, false}};

struct Geometry {
  window::Spec w;
  int64_t opad[2] = {0, 0};   // output_padding (2-D)
  int64_t oshape[2] = {0, 0};  // output_shape (2-D), when has_oshape
  bool has_oshape = false;
  int64_t cin = 0, cout_g = 0, groups = 1;
};

Geometry geometry(const Node& n, const Tensor& weight, size_t rank) {
  QK_FAIL_IF(weight.dtype != DType::kF32 || weight.shape.size() != rank, kInvalidArgument,
             "weight must be an f32 tensor of rank %zu {C, M/group, %s} (got %s %s)", rank,
             rank == 3 ? "k" : "kh, kw", dtype_name(weight.dtype), shape_string(weight.shape).c_str());
  for (int64_t d : weight.shape)
    QK_FAIL_IF(d < 1, kInvalidArgument, "weight %s has an empty dimension", shape_string(weight.shape).c_str());
  Geometry g;
  g.groups = n.attrs.get_int("group", 1);
  QK_FAIL_IF(g.groups < 1 || g.groups > (int64_t(1) << 31), kInvalidArgument, "group %lld must be >= 1",
             (long long)g.groups);
  QK_FAIL_IF(weight.shape[0] % g.groups != 0, kInvalidArgument, "group %lld does not divide the %lld input channels",
             (long long)g.groups, (long long)weight.shape[0]);
  g.cin = weight.shape[0];
  g.cout_g = weight.shape[1];
  const size_t spatial = rank - 2, o = 2 - spatial;
  g.w = window::parse(n, spatial, std::vector<int64_t>(weight.shape.begin() + 2, weight.shape.end()), true);
  const std::vector<int64_t> op = window::int_list(n, "output_padding", spatial, 0, 0);
  for (size_t a = 0; a < spatial; ++a) {
    // PyTorch's rule: output_padding must be smaller than the stride or the dilation.
    QK_FAIL_IF(op[a] >= std::max(g.w.s[o + a], g.w.d[o + a]), kInvalidArgument,
               "output_padding[%zu] = %lld must be smaller than the stride or the dilation", a, (long long)op[a]);
    g.opad[o + a] = op[a];
  }
  if (n.attrs.has("output_shape")) {
    std::vector<int64_t> os = n.attrs.get_ints("output_shape");
    // ONNX allows the full {N, C, spatial...} too: keep the spatial part.
    if (os.size() == rank) os.erase(os.begin(), os.begin() + 2);
    QK_FAIL_IF(os.size() != spatial, kInvalidArgument, "attribute 'output_shape' has %zu values, expected %zu",
               n.attrs.get_ints("output_shape").size(), spatial);
    g.has_oshape = true;
    g.oshape[0] = 1;
    for (size_t a = 0; a < spatial; ++a) {
      QK_FAIL_IF(os[a] < 1 || os[a] >= kMaxDimSize, kInvalidArgument, "output_shape[%zu] = %lld is out of range", a,
                 (long long)os[a]);
      g.oshape[o + a] = os[a];
    }
  }
  return g;
}

// Pads (may be negative when output_shape asks for more than the natural size) and output
// sizes for concrete input sizes (H = 1 for 1-D).
void resolve(const Geometry& g, const int64_t in[2], int64_t pad[4], int64_t out[2]) {
  const window::Spec& w = g.w;
  for (size_t a = 0; a < 2; ++a) {
    const int64_t natural = w.s[a] * (in[a] - 1) + g.opad[a] + w.span(a);
    const bool same = w.auto_pad == window::AutoPad::kSameUpper || w.auto_pad == window::AutoPad::kSameLower;
    if (g.has_oshape || same) {
      out[a] = g.has_oshape ? g.oshape[a] : in[a] * w.s[a];
      if (a == 0 && w.spatial == 1) out[a] = 1;  // the promoted H axis: nothing to pad
      const int64_t total = a == 0 && w.spatial == 1 ? 0 : natural - out[a];
      // ONNX's total // 2, a floor: with output_shape larger than the natural size the total is
      // negative, and the extra row goes to the end (C's / would put it at the start).
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      pad[a] = w.auto_pad == window::AutoPad::kSameUpper ? half : total - half;
      pad[2 + a] = total - pad[a];
    } else {
      pad[a] = w.auto_pad == window::AutoPad::kValid ? 0 : w.pad[a];
      pad[2 + a] = w.auto_pad == window::AutoPad::kValid ? 0 : w.pad[2 + a];
      out[a] = natural - pad[a] - pad[2 + a];
      QK_FAIL_IF(out[a] < 1, kInvalidArgument, "the %s output would be %lld (pads larger than the output)",
                 a == 0 ? "height" : "width", (long long)out[a]);
    }
    QK_FAIL_IF(out[a] >= kMaxDimSize, kInvalidArgument, "the output is too large");
  }
}

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  const Dims& x = ctx.inputs[0].dims;
  QK_FAIL_IF(x.size() != 3 && x.size() != 4, kInvalidArgument,
             "input %s must be {N, C, L} (1-D) or {N, C, H, W} (2-D)", dims_string(x).c_str());
  const Tensor& weight = require_constant(ctx, 1, "weight");
  const Geometry g = geometry(ctx.node, weight, x.size());
  const int64_t M = g.cout_g * g.groups;
  QK_FAIL_IF(x[1].known() && x[1].size != g.cin, kInvalidArgument,
             "input %s has %lld channels, the weight %s expects %lld", dims_string(x).c_str(), (long long)x[1].size,
             shape_string(weight.shape).c_str(), (long long)g.cin);
  if (ctx.inputs.size() > 2 && ctx.present[2]) {
    const Tensor& b = require_constant(ctx, 2, "bias");
    QK_FAIL_IF(b.dtype != DType::kF32 || b.shape != std::vector<int64_t>{M}, kInvalidArgument,
               "bias must be f32 {%lld} (got %s %s)", (long long)M, dtype_name(b.dtype), shape_string(b.shape).c_str());
  }
  int64_t in[2], pad[4], out[2];
  window::spatial_2d(x, in);
  const bool known[2] = {x.size() == 3 || x[2].known(), x.back().known()};
  for (int64_t& v : in)
    if (v < 0) v = 1;  // symbolic: the sizes below are not used (a known 0 is checked like any size)
  resolve(g, in, pad, out);
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = x;
  ctx.outputs[0].dims[1] = Dim::of(M);
  // With output_shape the output is known whatever the input.
  if (x.size() == 4) ctx.outputs[0].dims[2] = derived_dim(ctx.node, 0, 2, known[0] || g.has_oshape, out[0]);
  ctx.outputs[0].dims.back() = derived_dim(ctx.node, 0, x.size() - 1, known[1] || g.has_oshape, out[1]);
}

void run_float(RunContext& ctx) {
  const Tensor& xt = *ctx.in[0];
  const Tensor& wt = *ctx.in[1];
  Tensor& yt = *ctx.out[0];
  const Geometry geo = geometry(ctx.node, wt, xt.shape.size());
  const window::Spec& w = geo.w;
  const bool one_d = xt.shape.size() == 3;
  const int64_t N = xt.shape[0], C = xt.shape[1], H = one_d ? 1 : xt.shape[2], W = xt.shape.back();
  const int64_t in[2] = {H, W};
  int64_t pad[4], out[2];
  resolve(geo, in, pad, out);
  const int64_t OH = out[0], OW = out[1], G = geo.groups, cin_g = C / G, cout_g = geo.cout_g, M = cout_g * G;
  const int64_t kh = w.k[0], kw = w.k[1];
  const float* x = xt.data<float>();
  const float* wd = wt.data<float>();
  const float* b = ctx.in.size() > 2 && ctx.in[2] ? ctx.in[2]->data<float>() : nullptr;
  float* y = yt.data<float>();
  std::memset(y, 0, size_t(yt.count()) * sizeof(float));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g)
      for (int64_t ic = 0; ic < cin_g; ++ic) {
        const int64_t c = g * cin_g + ic;
        const float* plane = x + (n * C + c) * H * W;
        for (int64_t oc = 0; oc < cout_g; ++oc) {
          const float* k = wd + (c * cout_g + oc) * kh * kw;
          float* yp = y + (n * M + g * cout_g + oc) * OH * OW;
          for (int64_t iy = 0; iy < H; ++iy)
            for (int64_t ix = 0; ix < W; ++ix) {
              const float v = plane[iy * W + ix];
              for (int64_t i = 0; i < kh; ++i) {
                const int64_t oy = iy * w.s[0] - pad[0] + i * w.d[0];
                if (oy < 0 || oy >= OH) continue;
                for (int64_t j = 0; j < kw; ++j) {
                  const int64_t ox = ix * w.s[1] - pad[1] + j * w.d[1];
                  if (ox >= 0 && ox < OW) yp[oy * OW + ox] += v * k[i * kw + j];
                }
              }
            }
        }
      }
  if (b)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m) {
        float* yp = y + (n * M + m) * OH * OW;
        for (int64_t p = 0; p < OH * OW; ++p) yp[p] += b[m];
      }
}

}  // namespace

extern const OpDef kConvTranspose = {"ConvTranspose", 2, 3, 1, 1, kAttrs, 8, infer, run_float, QuantRule::kFloatOnly,
                                     nullptr, nullptr, 0, nullptr, nullptr, nullptr, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
