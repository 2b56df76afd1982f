// SPDX-License-Identifier: Apache-2.0
// Resize (ONNX opset 13) of a 4-D NCHW f32 tensor over H and W only (N and C are kept: scales for
// them must be 1, sizes must repeat them), which is what upsampling layers of CNNs need. ONNX
// passes scales / sizes as constant inputs; here they are attributes (the ONNX importer turns the
// constant inputs into them): exactly one of scales (floats; output = floor(in * scale)) or sizes
// (ints), each with 4 elements (N, C, H, W: ONNX) or 2 (H, W: ONNX opset 18's axes = [2, 3], which
// leaves a symbolic batch free). mode "nearest" (default) | "linear" (bilinear);
// coordinate_transformation_mode "half_pixel" (default) | "pytorch_half_pixel" | "align_corners" |
// "asymmetric"; nearest_mode "round_prefer_floor" (default) | "round_prefer_ceil" | "floor" |
// "ceil".
// Coordinates are computed in f32 as ONNX Runtime and PyTorch do, with the scale given by `scales`,
// or out / in when `sizes` is given.
// Not supported: cubic, tf_crop_and_resize, resizing N or C, other ranks.
// int8: nearest keeps the input's qparams (it copies codes: a gather over H and W, done in either
// storage, so its layout is kAny). Linear stays float in this round: its int8 kernel (fixed-point
// weights, as QNNPACK's resize-bilinear) belongs to issue 15.
#include <cmath>
#include <string>

#include "graph/ops/data_movement.h"

namespace qk {
namespace graph {
namespace ops {
namespace {

using namespace movement;

const AttrSpec kAttrs[] = {{"mode", AttrType::kString, false},
                           {"scales", AttrType::kFloats, false},
                           {"sizes", AttrType::kInts, false},
                           {"coordinate_transformation_mode", AttrType::kString, false},
                           {"nearest_mode", AttrType::kString, false}};

enum class Coord { kHalfPixel, kPytorchHalfPixel, kAlignCorners, kAsymmetric };
enum class Nearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

struct Params {
  bool linear = false;
  Coord coord = Coord::kHalfPixel;
  Nearest nearest = Nearest::kRoundPreferFloor;
  bool has_scales = false;
  std::vector<float> scales;
  std::vector<int64_t> sizes;  // 4 entries; N and C only meaningful when sizes_nc
  bool sizes_nc = false;
};

Params params_of(const Node& node) {
  Params p;
  const std::string mode = node.attrs.get_string("mode", "nearest");
  QK_FAIL_IF(mode == "cubic", kUnsupported, "mode 'cubic' is not supported (nearest, linear)");
  QK_FAIL_IF(mode != "nearest" && mode != "linear", kInvalidArgument, "mode '%s' is not one of nearest, linear",
             mode.c_str());
  p.linear = mode == "linear";
  const std::string c = node.attrs.get_string("coordinate_transformation_mode", "half_pixel");
  if (c == "half_pixel")
    p.coord = Coord::kHalfPixel;
  else if (c == "pytorch_half_pixel")
    p.coord = Coord::kPytorchHalfPixel;
  else if (c == "align_corners")
    p.coord = Coord::kAlignCorners;
  else if (c == "asymmetric")
    p.coord = Coord::kAsymmetric;
  else if (c == "tf_crop_and_resize" || c == "tf_half_pixel_for_nn" || c == "half_pixel_symmetric")
    fail(Status::kUnsupported, "coordinate_transformation_mode '%s' is not supported", c.c_str());
  else
    fail(Status::kInvalidArgument,
         "coordinate_transformation_mode '%s' is not one of half_pixel, "
         "pytorch_half_pixel, align_corners, asymmetric",
         c.c_str());
  const std::string n = node.attrs.get_string("nearest_mode", "round_prefer_floor");
  if (n == "round_prefer_floor")
    p.nearest = Nearest::kRoundPreferFloor;
  else if (n == "round_prefer_ceil")
    p.nearest = Nearest::kRoundPreferCeil;
  else if (n == "floor")
    p.nearest = Nearest::kFloor;
  else if (n == "ceil")
    p.nearest = Nearest::kCeil;
  else
    fail(Status::kInvalidArgument,
         "nearest_mode '%s' is not one of round_prefer_floor, "
         "round_prefer_ceil, floor, ceil",
         n.c_str());
  p.has_scales = node.attrs.has("scales");
  QK_FAIL_IF(p.has_scales == node.attrs.has("sizes"), kInvalidArgument, "give exactly one of scales and sizes");
  if (p.has_scales) {
    p.scales = node.attrs.get_floats("scales");
    QK_FAIL_IF(p.scales.size() != 4 && p.scales.size() != 2, kInvalidArgument,
               "scales has %zu elements, expected 4 (N, C, H, W) or 2 (H, W)", p.scales.size());
    if (p.scales.size() == 2) p.scales.insert(p.scales.begin(), 2, 1.0f);
    QK_FAIL_IF(p.scales[0] != 1.0f || p.scales[1] != 1.0f, kUnsupported,
               "only H and W are resized: scales for N and C must be 1 (got %g, %g)", double(p.scales[0]),
               double(p.scales[1]));
    QK_FAIL_IF(!(p.scales[2] > 0.0f) || !(p.scales[3] > 0.0f), kInvalidArgument, "scales must be > 0 (got %g, %g)",
               double(p.scales[2]), double(p.scales[3]));
  } else {
    p.sizes = node.attrs.get_ints("sizes");
    QK_FAIL_IF(p.sizes.size() != 4 && p.sizes.size() != 2, kInvalidArgument,
               "sizes has %zu elements, expected 4 (N, C, H, W) or 2 (H, W)", p.sizes.size());
    p.sizes_nc = p.sizes.size() == 4;
    if (p.sizes.size() == 2) p.sizes.insert(p.sizes.begin(), 2, 0);
    QK_FAIL_IF(p.sizes[2] < 1 || p.sizes[3] < 1 || p.sizes[2] >= kMaxDimSize || p.sizes[3] >= kMaxDimSize,
               kInvalidArgument, "sizes %s: H and W must be in [1, 2^31)",
               ints_string(node.attrs.get_ints("sizes")).c_str());
  }
  return p;
}

// Output size of spatial axis k (2 or 3) for an input of size `in`.
int64_t out_size(const Params& p, size_t k, int64_t in) {
  if (!p.has_scales) return p.sizes[k];
  const double s = std::floor(double(in) * double(p.scales[k]));
  return s >= double(kMaxDimSize) ? kMaxDimSize : int64_t(s);
}

void infer(InferContext& ctx) {
  require_dtype(ctx, 0, DType::kF32);
  QK_FAIL_IF(ctx.inputs[0].dims.size() != 4, kUnsupported, "input %s: only 4-D NCHW inputs are resized",
             dims_string(ctx.inputs[0].dims).c_str());
  const Params p = params_of(ctx.node);
  const Dims& in = ctx.inputs[0].dims;
  Dims out = in;
  if (p.sizes_nc)
    for (size_t k = 0; k < 2; ++k)
      QK_FAIL_IF(in[k].known() && in[k].size != p.sizes[k], kUnsupported,
                 "only H and W are resized: sizes %s must repeat N and C of %s", ints_string(p.sizes).c_str(),
                 dims_string(in).c_str());
  for (size_t k = 2; k < 4; ++k) {
    if (!in[k].known()) {
      out[k] = p.has_scales ? derived_dim(ctx.node, 0, k, false, 0) : Dim::of(p.sizes[k]);
      continue;
    }
    QK_FAIL_IF(in[k].size < 1, kInvalidArgument, "input %s is empty", dims_string(in).c_str());
    out[k] = Dim::of(out_size(p, k, in[k].size));
    QK_FAIL_IF(out[k].size < 1, kInvalidArgument, "scales %g give an empty output dimension %zu", double(p.scales[k]),
               k);
  }
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = std::move(out);
}

// ONNX's coordinate transformation: the input coordinate of output index x.
float source_coord(const Params& p, size_t k, int64_t x, int64_t in, int64_t out) {
  const float scale = p.has_scales ? p.scales[k] : float(out) / float(in);
  const float xf = float(x);
  switch (p.coord) {
    case Coord::kHalfPixel:
      return (xf + 0.5f) / scale - 0.5f;
    case Coord::kPytorchHalfPixel:
      return out > 1 ? (xf + 0.5f) / scale - 0.5f : 0.0f;
    case Coord::kAlignCorners:
      return out == 1 ? 0.0f : xf * float(in - 1) / float(out - 1);
    case Coord::kAsymmetric:
      return xf / scale;
  }
  return 0.0f;
}

// Nearest: the input index of each output index along spatial axis k.
std::vector<int64_t> nearest_index(const Params& p, size_t k, int64_t in, int64_t out) {
  std::vector<int64_t> idx(static_cast<size_t>(out));
  for (int64_t x = 0; x < out; ++x) {
    const float c = source_coord(p, k, x, in, out);
    const float fl = std::floor(c);
    float r = 0.0f;
    switch (p.nearest) {
      case Nearest::kRoundPreferFloor:
        r = c == fl + 0.5f ? fl : std::round(c);
        break;
      case Nearest::kRoundPreferCeil:
        r = c == fl + 0.5f ? fl + 1.0f : std::round(c);
        break;
      case Nearest::kFloor:
        r = fl;
        break;
      case Nearest::kCeil:
        r = std::ceil(c);
        break;
    }
    idx[size_t(x)] = r < 0.0f ? 0 : r > float(in - 1) ? in - 1 : int64_t(r);
  }
  return idx;
}

// Nearest, float and int8: a gather over H and W, in NCHW or (int8 codes) NHWC storage.
void run_nearest(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const Params p = params_of(ctx.node);
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t OH = y.shape[2], OW = y.shape[3];
  QK_FAIL_IF(x.layout != y.layout, kInternal, "Resize between layouts");
  std::vector<int64_t> ih = nearest_index(p, 2, H, OH), iw = nearest_index(p, 3, W, OW);
  std::vector<std::vector<int64_t>> offsets;
  std::vector<int64_t> physical;
  if (x.layout == Layout::kNHWC) {  // physically N, H, W, C
    for (int64_t& i : ih) i *= W * C;
    for (int64_t& i : iw) i *= C;
    offsets = {identity_offsets(N, H * W * C), ih, iw, identity_offsets(C, 1)};
    physical = {N, OH, OW, C};
  } else {
    for (int64_t& i : ih) i *= W;
    offsets = {identity_offsets(N, C * H * W), identity_offsets(C, H * W), ih, iw};
    physical = y.shape;
  }
  gather_offsets(x.storage.get(), y.storage.get(), element_size(x.dtype), physical, offsets, nullptr);
}

// Bilinear (f32, NCHW): PyTorch's upsample_bilinear2d arithmetic (source coordinate clamped at 0,
// the far neighbour clamped to the last index), with ONNX's coordinate transformations.
struct Tap {
  int64_t i0, i1;
  float w0, w1;
};

std::vector<Tap> linear_taps(const Params& p, size_t k, int64_t in, int64_t out) {
  std::vector<Tap> t(static_cast<size_t>(out));
  for (int64_t x = 0; x < out; ++x) {
    float c = source_coord(p, k, x, in, out);
    if (c < 0.0f) c = 0.0f;
    int64_t i0 = int64_t(c);
    if (i0 > in - 1) i0 = in - 1;
    const float l1 = c - float(i0);
    t[size_t(x)] = {i0, i0 < in - 1 ? i0 + 1 : i0, 1.0f - l1, l1};
  }
  return t;
}

void run_linear(RunContext& ctx) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const Params p = params_of(ctx.node);
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t OH = y.shape[2], OW = y.shape[3];
  const std::vector<Tap> th = linear_taps(p, 2, H, OH), tw = linear_taps(p, 3, W, OW);
  const float* src = x.data<float>();
  float* dst = y.data<float>();
  for (int64_t plane = 0; plane < N * C; ++plane, src += H * W)
    for (int64_t oh = 0; oh < OH; ++oh) {
      const Tap& h = th[size_t(oh)];
      const float* r0 = src + h.i0 * W;
      const float* r1 = src + h.i1 * W;
      for (int64_t ow = 0; ow < OW; ++ow, ++dst) {
        const Tap& w = tw[size_t(ow)];
        *dst = h.w0 * (w.w0 * r0[w.i0] + w.w1 * r0[w.i1]) + h.w1 * (w.w0 * r1[w.i0] + w.w1 * r1[w.i1]);
      }
    }
}

void run_float(RunContext& ctx) {
  if (params_of(ctx.node).linear)
    run_linear(ctx);
  else
    run_nearest(ctx);
}

bool supports_int8(const Node& node, const std::vector<TensorType>& in, const std::vector<const Tensor*>& c) {
  return !params_of(node).linear && movement::int8_unless_constant(node, in, c);
}

}  // namespace

extern const OpDef kResize = {"Resize", 1, 1, 1, 1, kAttrs, 5, infer, run_float, QuantRule::kKeepsInputQParams,
                              nullptr, supports_int8, 0, layout_any, nullptr, run_nearest, nullptr, nullptr};

}  // namespace ops
}  // namespace graph
}  // namespace qk
