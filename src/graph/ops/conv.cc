// SPDX-License-Identifier: Apache-2.0
// Conv (ONNX): 1-D ({N, C, L}) and 2-D ({N, C, H, W}) convolution with a constant weight
// {O, C/group, [kh,] kw}, an optional constant bias {O}, attributes kernel_shape (checked against
// the weight), strides, pads (begins then ends), dilations, group and auto_pad (NOTSET, VALID,
// SAME_UPPER, SAME_LOWER), then the optional fused clamp [clip_min, clip_max] set by the fusion
// pass (Conv + BatchNormalization + Relu / Clip). 1-D runs as 2-D with H = 1.
//
// Float: the legacy model's conv_float exactly (im2col per image and group, one Eigen GEMM, then
// bias and clamp), so a network built through the legacy API and through the graph gives the
// same bits.
// int8 (kWeighted): the weight is quantized once at convert time with the node's weight scheme
// (per-channel symmetric on axis 0 by default, as the legacy Model::quantize_weights; the codes
// are what a converted model stores, passes/quantize_weights.cc) and packed
// into a QConv2d (ops/qconv2d.h) with the input / output qparams and the clamp. Layout kNHWC for
// rank 4. Rank-3 codes are stored plain {N, C, L} (the layout pass reorders rank 4 only), so the
// op moves them to {N, L, C} and back around the NHWC kernel.
// Dynamic: only pointwise convs (1x1, stride 1, no pads, dilation 1, group 1, as the legacy
// is_pointwise_conv) run dynamic: a DynamicLinear over each pixel's channels (pixel-major rows),
// the same call the legacy model makes; every other conv stays float in a dynamic model.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "core/quantize.h"
#include "graph/op.h"
#include "graph/ops/window.h"
#include "ops/dynamic_linear.h"
#include "ops/packed_weights.h"
#include "ops/qconv2d.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

const AttrSpec kAttrs[] = {{"kernel_shape", AttrType::kInts, false}, {"strides", AttrType::kInts, false},
                           {"pads", AttrType::kInts, false},         {"dilations", AttrType::kInts, false},
                           {"group", AttrType::kInt, false},         {"auto_pad", AttrType::kString, false},
                           {"clip_min", AttrType::kFloat, false},    {"clip_max", AttrType::kFloat, false}};

// The node's geometry: window (2-D), the weight as {O, C/group, kh, kw}, groups.
struct Geometry {
  window::Spec w;
  int64_t wshape[4] = {1, 1, 1, 1};
  int64_t groups = 1;
};

// Parses and checks the attributes against the weight (rank 3 or 4, like the input; f32, or
// the s8 codes the weight pass made of it).
Geometry geometry(const Node& n, const Tensor& weight, size_t rank) {
  QK_FAIL_IF((weight.dtype != DType::kF32 && weight.dtype != DType::kS8) || weight.shape.size() != rank, kInvalidArgument,
             "weight must be an f32 tensor of rank %zu {O, C/group, %s} (got %s %s)", rank,
             rank == 3 ? "k" : "kh, kw", dtype_name(weight.dtype), shape_string(weight.shape).c_str());
  for (int64_t d : weight.shape)
    QK_FAIL_IF(d < 1, kInvalidArgument, "weight %s has an empty dimension", shape_string(weight.shape).c_str());
  Geometry g;
  g.groups = n.attrs.get_int("group", 1);
  QK_FAIL_IF(g.groups < 1 || g.groups > (int64_t(1) << 31), kInvalidArgument, "group %lld must be >= 1",
             (long long)g.groups);
  QK_FAIL_IF(weight.shape[0] % g.groups != 0, kInvalidArgument, "group %lld does not divide the %lld output channels",
             (long long)g.groups, (long long)weight.shape[0]);
  g.w = window::parse(n, rank - 2, std::vector<int64_t>(weight.shape.begin() + 2, weight.shape.end()), true);
  g.wshape[0] = weight.shape[0];
  g.wshape[1] = weight.shape[1];
  g.wshape[2] = g.w.k[0];
  g.wshape[3] = g.w.k[1];
  return g;
}

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  const Dims& x = ctx.inputs[0].dims;
  QK_FAIL_IF(x.size() != 3 && x.size() != 4, kInvalidArgument,
             "input %s must be {N, C, L} (1-D) or {N, C, H, W} (2-D)", dims_string(x).c_str());
  const Tensor& weight = require_constant(ctx, 1, "weight");
  QK_FAIL_IF(!weight_present_as_f32(ctx, 1), kInvalidArgument, "weight must be an f32 tensor (got %s)",
             dtype_name(ctx.inputs[1].dtype));
  const Geometry g = geometry(ctx.node, weight, x.size());
  const int64_t O = g.wshape[0];
  QK_FAIL_IF(x[1].known() && x[1].size != g.wshape[1] * g.groups, kInvalidArgument,
             "input %s has %lld channels, the weight %s with group %lld expects %lld", dims_string(x).c_str(),
             (long long)x[1].size, shape_string(weight.shape).c_str(), (long long)g.groups,
             (long long)(g.wshape[1] * g.groups));
  if (ctx.inputs.size() > 2 && ctx.present[2]) {
    const Tensor& b = require_constant(ctx, 2, "bias");
    QK_FAIL_IF(b.dtype != DType::kF32 || b.shape != std::vector<int64_t>{O}, kInvalidArgument,
               "bias must be f32 {%lld} (got %s %s)", (long long)O, dtype_name(b.dtype), shape_string(b.shape).c_str());
  }
  QK_FAIL_IF(ctx.node.attrs.get_float("clip_min", -INFINITY) > ctx.node.attrs.get_float("clip_max", INFINITY),
             kInvalidArgument, "clip_min > clip_max");
  int64_t in[2], pad[4];
  window::spatial_2d(x, in);
  const bool h_known = x.size() == 3 || x[2].known(), w_known = x.back().known();
  window::resolve_pads(g.w, in, pad);
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = x;
  ctx.outputs[0].dims[1] = Dim::of(O);
  if (x.size() == 4)
    ctx.outputs[0].dims[2] =
        derived_dim(ctx.node, 0, 2, h_known, h_known ? window::output_length(g.w, 0, in[0], pad) : 0);
  ctx.outputs[0].dims.back() =
      derived_dim(ctx.node, 0, x.size() - 1, w_known, w_known ? window::output_length(g.w, 1, in[1], pad) : 0);
}

const float* bias_of(const std::vector<const Tensor*>& in) {
  return in.size() > 2 && in[2] ? in[2]->data<float>() : nullptr;
}

// The legacy model's conv_float, with H = 1 for 1-D.
void run_float(RunContext& ctx) {
  const Tensor& xt = *ctx.in[0];
  const Tensor& wt = *ctx.in[1];
  Tensor& yt = *ctx.out[0];
  const Geometry geo = geometry(ctx.node, wt, xt.shape.size());
  const window::Spec& w = geo.w;
  const bool one_d = xt.shape.size() == 3;
  const int64_t N = xt.shape[0], C = xt.shape[1], H = one_d ? 1 : xt.shape[2], W = xt.shape.back();
  const int64_t OC = yt.shape[1], OH = one_d ? 1 : yt.shape[2], OW = yt.shape.back();
  const int64_t in[2] = {H, W};
  int64_t pad[4];
  window::resolve_pads(w, in, pad);
  const int64_t G = geo.groups, cin_g = C / G, cout_g = OC / G, kh = w.k[0], kw = w.k[1];
  const int64_t K = cin_g * kh * kw, P = OH * OW;
  const float* x = xt.data<float>();
  const float* wd = wt.data<float>();
  const float* b = bias_of(ctx.in);
  const float lo = ctx.node.attrs.get_float("clip_min", -INFINITY);
  const float hi = ctx.node.attrs.get_float("clip_max", INFINITY);
  float* y = yt.data<float>();
  std::vector<float> col(size_t(K * P));
  for (int64_t n = 0; n < N; ++n) {
    const float* xb = x + n * C * H * W;
    float* yb = y + n * OC * P;
    for (int64_t g = 0; g < G; ++g) {
      // im2col: row (c, i, j), column (oy, ox)
      for (int64_t c = 0; c < cin_g; ++c)
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            float* row = col.data() + ((c * kh + i) * kw + j) * P;
            const float* plane = xb + (g * cin_g + c) * H * W;
            for (int64_t oy = 0; oy < OH; ++oy) {
              const int64_t iy = oy * w.s[0] - pad[0] + i * w.d[0];
              for (int64_t ox = 0; ox < OW; ++ox) {
                const int64_t ix = ox * w.s[1] - pad[1] + j * w.d[1];
                row[oy * OW + ox] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? plane[iy * W + ix] : 0.0f;
              }
            }
          }
      Eigen::Map<const RowMat> wm(wd + g * cout_g * K, cout_g, K);
      Eigen::Map<const RowMat> cm(col.data(), K, P);
      Eigen::Map<RowMat> ym(yb + g * cout_g * P, cout_g, P);
      ym.noalias() = wm * cm;
    }
    for (int64_t o = 0; o < OC; ++o) {
      const float bias = b ? b[o] : 0.0f;
      float* p = yb + o * P;
      for (int64_t i = 0; i < P; ++i) p[i] = std::min(std::max(p[i] + bias, lo), hi);
    }
  }
}

struct Prepared {
  std::shared_ptr<const QConv2d> q;
  std::shared_ptr<const DynamicLinear> dynamic;
};

// The QConv2d geometry with the pads the build-time input gives (supports_int8 checked that
// they do not depend on the input size).
ConvGeometry int8_geometry(const Geometry& geo, const Dims& x) {
  int64_t in[2], pad[4];
  window::spatial_2d(x, in);
  for (int64_t& v : in) v = std::max<int64_t>(v, 1);  // SAME with stride 1: pads independent of size
  window::resolve_pads(geo.w, in, pad);
  return conv_geometry(geo.wshape, geo.w.s, pad, geo.w.d, geo.groups);
}

bool is_pointwise(const Geometry& geo) {
  const window::Spec& w = geo.w;
  int64_t pad[4];
  const int64_t in[2] = {1, 1};
  window::resolve_pads(w, in, pad);
  return w.k[0] == 1 && w.k[1] == 1 && w.s[0] == 1 && w.s[1] == 1 && w.d[0] == 1 && w.d[1] == 1 && pad[0] == 0 &&
         pad[1] == 0 && pad[2] == 0 && pad[3] == 0 && geo.groups == 1;
}

std::shared_ptr<const void> prepare(const PrepareContext& ctx) {
  // The s8 codes of the {O, C/g, [kh,] kw} weight, per channel on axis 0 by default (the weight
  // pass, as the legacy Model::quantize_weights).
  const WeightCodes w = weight_codes(ctx);
  const Geometry geo = geometry(ctx.node, *ctx.constants[1], w.shape.size());
  const int8_t* wq = w.codes;
  const QParams& wqp = w.qp;
  const float* bias = ctx.constants.size() > 2 && ctx.constants[2] ? ctx.constants[2]->data<float>() : nullptr;
  auto p = std::make_shared<Prepared>();
  if (ctx.dynamic) {
    const size_t O = size_t(geo.wshape[0]), C = size_t(geo.wshape[1]);
    auto pw = make_packed_weights(wq, O, C, C, wqp, bias, DType::kF32);
    p->dynamic = std::make_shared<DynamicLinear>(pw, ctx.activation_dtype, false);
  } else {
    const ConvGeometry g = int8_geometry(geo, ctx.in_types[0].dims);
    p->q = std::make_shared<QConv2d>(wq, g, wqp, bias, *ctx.in_qp[0], *ctx.out_qp[0],
                                     ctx.node.attrs.get_float("clip_min", -INFINITY),
                                     ctx.node.attrs.get_float("clip_max", INFINITY), false);
  }
  return p;
}

void run_int8(RunContext& ctx) {
  const QConv2d& q = *static_cast<const Prepared*>(ctx.prepared)->q;
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  if (x.shape.size() == 4) {
    QK_FAIL_IF(x.layout != Layout::kNHWC || y.layout != Layout::kNHWC, kInternal, "int8 Conv needs NHWC codes");
    q.run(x.shape[0], x.shape[2], x.shape[3], x.storage.get(), x.bytes, y.storage.get(), y.bytes, ctx.pool);
    return;
  }
  // Rank 3: plain {N, C, L} codes -> {N, L, C}, the kernel with H = 1, and back.
  const size_t N = size_t(x.shape[0]), C = size_t(x.shape[1]), L = size_t(x.shape[2]);
  const size_t O = size_t(y.shape[1]), OL = size_t(y.shape[2]);
  std::vector<uint8_t> xin(x.bytes), yout(y.bytes);
  window::codes_to_pixel_major(x.data<uint8_t>(), N, C, L, xin.data());
  q.run(int64_t(N), 1, int64_t(L), xin.data(), xin.size(), yout.data(), yout.size(), ctx.pool);
  window::codes_to_channel_major(yout.data(), N, O, OL, y.data<uint8_t>());
}

// Pointwise conv as the legacy dynamic model runs it: one row of C_in floats per pixel, the
// DynamicLinear (input qparams from the whole tensor's min/max), back to channel-major, clamp.
void run_dynamic(RunContext& ctx) {
  const DynamicLinear& d = *static_cast<const Prepared*>(ctx.prepared)->dynamic;
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  if (x.count() == 0) return;  // an empty batch
  const size_t N = size_t(x.shape[0]), cin = d.k(), cout = d.n(), hw = size_t(x.count()) / (N * cin);
  std::vector<float> rows(N * hw * cin), res(N * hw * cout);
  const float* px = x.data<float>();
  for (size_t b = 0; b < N; ++b)
    for (size_t p = 0; p < hw; ++p)
      for (size_t c = 0; c < cin; ++c) rows[(b * hw + p) * cin + c] = px[(b * cin + c) * hw + p];
  d.run(N * hw, rows.data(), cin, res.data(), cout, ctx.pool);
  const float lo = ctx.node.attrs.get_float("clip_min", -INFINITY);
  const float hi = ctx.node.attrs.get_float("clip_max", INFINITY);
  float* py = y.data<float>();
  for (size_t b = 0; b < N; ++b)
    for (size_t p = 0; p < hw; ++p)
      for (size_t o = 0; o < cout; ++o)
        py[(b * cout + o) * hw + p] = std::min(std::max(res[(b * hw + p) * cout + o], lo), hi);
}

bool supports_int8(const Node& n, const std::vector<TensorType>& in, const std::vector<const Tensor*>& consts) {
  if (!consts[1] || (in[0].dims.size() != 3 && in[0].dims.size() != 4)) return false;
  try {
    const Geometry geo = geometry(n, *consts[1], in[0].dims.size());
    int64_t hw[2];
    window::spatial_2d(in[0].dims, hw);
    // SAME with stride > 1: the pads depend on the size, which must be known at convert time.
    if (!window::static_pads(geo.w) && (hw[0] < 0 || hw[1] < 0)) return false;
    (void)int8_geometry(geo, in[0].dims);           // the int8 kernel's limits (GEMM depth)
    return true;
  } catch (const Error&) {
    return false;
  }
}

bool supports_dynamic(const Node& n, const std::vector<TensorType>& in, const std::vector<const Tensor*>& consts) {
  if (!consts[1] || (in[0].dims.size() != 3 && in[0].dims.size() != 4)) return false;
  try {
    return is_pointwise(geometry(n, *consts[1], in[0].dims.size()));
  } catch (const Error&) {
    return false;
  }
}

Int8Layout layout(const Node&, const std::vector<TensorType>& in) {
  return in[0].dims.size() == 4 ? Int8Layout::kNHWC : Int8Layout::kNCHW;
}

}  // namespace

// Inputs 1 (weight) and 2 (bias) are float constants to the int8 kernel.
extern const OpDef kConv = {"Conv", 2, 3, 1, 1, kAttrs, 8, infer, run_float, QuantRule::kWeighted, nullptr, supports_int8,
                     0x6, layout, prepare, run_int8, supports_dynamic, run_dynamic, 1, 0};

}  // namespace ops
}  // namespace graph
}  // namespace qk
