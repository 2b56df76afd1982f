// SPDX-License-Identifier: Apache-2.0
// The sliding-window attributes that Conv, ConvTranspose, MaxPool and AveragePool share (ONNX's
// kernel_shape, strides, pads, dilations, auto_pad), parsed and checked in one place so the four
// op files agree on them. Not an op: a header the op files include (the library globs *.cc only).
//
// 1-D windows (inputs {N, C, L}) are promoted to 2-D with H = 1, so the float loops, QConv2d and
// the int8 pooling kernels all see one 2-D geometry. Pads are kept in the legacy / QConv2d order
// {top, left, bottom, right}, which is ONNX's {begins..., ends...} for 2-D.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "graph/op.h"
#include "ops/pooling.h"

namespace qk {
namespace graph {
namespace ops {
namespace window {

enum class AutoPad { kNotSet, kValid, kSameUpper, kSameLower };

struct Spec {
  size_t spatial = 2;             // spatial axes of the node's input: 1 ({N, C, L}) or 2
  int64_t k[2] = {1, 1};          // kernel (H, W); H = 1 for 1-D
  int64_t s[2] = {1, 1};          // strides
  int64_t d[2] = {1, 1};          // dilations
  int64_t pad[4] = {0, 0, 0, 0};  // explicit pads (auto_pad NOTSET): top, left, bottom, right
  AutoPad auto_pad = AutoPad::kNotSet;

  int64_t span(size_t a) const { return (k[a] - 1) * d[a] + 1; }
};

// An int list attribute of `count` values each >= min_value, or `dflt` repeated when absent.
inline std::vector<int64_t> int_list(const Node& n, const char* name, size_t count, int64_t dflt, int64_t min_value) {
  if (!n.attrs.has(name)) return std::vector<int64_t>(count, dflt);
  const std::vector<int64_t> v = n.attrs.get_ints(name);
  QK_FAIL_IF(v.size() != count, kInvalidArgument, "attribute '%s' has %zu values, expected %zu (%s)", name, v.size(),
             count, std::string(name) == "pads" ? "begins then ends" : "one per spatial axis");
  for (size_t i = 0; i < v.size(); ++i)
    QK_FAIL_IF(v[i] < min_value || v[i] > (int64_t(1) << 31), kInvalidArgument,
               "attribute '%s'[%zu] = %lld is outside [%lld, 2^31]", name, i, (long long)v[i], (long long)min_value);
  return v;
}

// Parses the window attributes of node n for an input with `spatial` spatial axes. `kernel`: the
// kernel from the weight shape (conv), checked against kernel_shape when that is given; empty for
// pools, where kernel_shape is required. dilations are read only when `has_dilations`.
inline Spec parse(const Node& n, size_t spatial, const std::vector<int64_t>& kernel, bool has_dilations) {
  QK_FAIL_IF(spatial != 1 && spatial != 2, kInvalidArgument,
             "only 1-D ({N, C, L}) and 2-D ({N, C, H, W}) windows are supported (input has %zu spatial axes)",
             spatial);
  Spec w;
  w.spatial = spatial;
  std::vector<int64_t> ks = kernel;
  if (n.attrs.has("kernel_shape")) {
    const std::vector<int64_t> attr = int_list(n, "kernel_shape", spatial, 1, 1);
    QK_FAIL_IF(!kernel.empty() && attr != kernel, kInvalidArgument,
               "attribute 'kernel_shape' %s does not match the weight's kernel %s", shape_string(attr).c_str(),
               shape_string(kernel).c_str());
    ks = attr;
  }
  QK_FAIL_IF(ks.empty(), kInvalidArgument, "attribute 'kernel_shape' is required");
  const std::vector<int64_t> st = int_list(n, "strides", spatial, 1, 1);
  const std::vector<int64_t> dl = has_dilations ? int_list(n, "dilations", spatial, 1, 1) : std::vector<int64_t>(spatial, 1);
  const std::string ap = n.attrs.get_string("auto_pad", "NOTSET");
  if (ap == "NOTSET") {
    w.auto_pad = AutoPad::kNotSet;
  } else if (ap == "VALID") {
    w.auto_pad = AutoPad::kValid;
  } else if (ap == "SAME_UPPER") {
    w.auto_pad = AutoPad::kSameUpper;
  } else if (ap == "SAME_LOWER") {
    w.auto_pad = AutoPad::kSameLower;
  } else {
    fail(Status::kInvalidArgument, "auto_pad '%s' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", ap.c_str());
  }
  QK_FAIL_IF(w.auto_pad != AutoPad::kNotSet && n.attrs.has("pads"), kInvalidArgument,
             "attribute 'pads' cannot be combined with auto_pad '%s'", ap.c_str());
  const std::vector<int64_t> pads = int_list(n, "pads", 2 * spatial, 0, 0);
  const size_t o = 2 - spatial;  // first 2-D axis the node's axes map to
  for (size_t a = 0; a < spatial; ++a) {
    w.k[o + a] = ks[a];
    w.s[o + a] = st[a];
    w.d[o + a] = dl[a];
    w.pad[o + a] = pads[a];
    w.pad[2 + o + a] = pads[spatial + a];
  }
  return w;
}

// Are the pads known without the input size? (Explicit, VALID, or SAME with stride 1, where the
// total is span - 1 whatever the size.)
inline bool static_pads(const Spec& w) {
  if (w.auto_pad == AutoPad::kNotSet || w.auto_pad == AutoPad::kValid) return true;
  return w.s[0] == 1 && w.s[1] == 1;
}

// The pads {top, left, bottom, right} for concrete input sizes (H, W) (H = 1 for 1-D): explicit,
// none (VALID), or ONNX's SAME rule (output ceil(in / stride); SAME_UPPER puts the odd pad at the
// end, SAME_LOWER at the beginning).
inline void resolve_pads(const Spec& w, const int64_t in[2], int64_t pad[4]) {
  for (size_t a = 0; a < 2; ++a) {
    switch (w.auto_pad) {
      case AutoPad::kNotSet:
        pad[a] = w.pad[a];
        pad[2 + a] = w.pad[2 + a];
        break;
      case AutoPad::kValid:
        pad[a] = pad[2 + a] = 0;
        break;
      case AutoPad::kSameUpper:
      case AutoPad::kSameLower: {
        const int64_t out = (in[a] + w.s[a] - 1) / w.s[a];
        const int64_t total = std::max<int64_t>(0, (out - 1) * w.s[a] + w.span(a) - in[a]);
        const int64_t small = total / 2, large = total - small;
        pad[a] = w.auto_pad == AutoPad::kSameUpper ? small : large;
        pad[2 + a] = w.auto_pad == AutoPad::kSameUpper ? large : small;
        break;
      }
    }
  }
}

// Floor-mode output length along 2-D axis a, or an error when the dilated kernel does not fit the
// padded input (ONNX would give an empty output; the int8 kernels reject it, so does the float).
inline int64_t output_length(const Spec& w, size_t a, int64_t in, const int64_t pad[4]) {
  const int64_t padded = in + pad[a] + pad[2 + a];
  QK_FAIL_IF(padded < w.span(a), kInvalidArgument,
             "the %s window (%lld with dilation) is larger than the padded input (%lld)", a == 0 ? "height" : "width",
             (long long)w.span(a), (long long)padded);
  return (padded - w.span(a)) / w.s[a] + 1;
}

// The input's spatial dims as 2-D (H, W): known sizes, or -1 where symbolic.
inline void spatial_2d(const Dims& x, int64_t hw[2]) {
  hw[0] = x.size() == 4 ? x[2].size : 1;
  hw[1] = x.back().size;
}

// Rank-3 int8 codes are stored plain {N, C, L} (the layout pass only reorders rank 4); the 2-D
// NHWC kernels take them as {N, 1, L, C}. Moves n blocks of C x P codes to P x C and back.
inline void codes_to_pixel_major(const uint8_t* src, size_t n, size_t C, size_t P, uint8_t* dst) {
  for (size_t b = 0; b < n; ++b, src += C * P, dst += C * P)
    for (size_t c = 0; c < C; ++c)
      for (size_t p = 0; p < P; ++p) dst[p * C + c] = src[c * P + p];
}
inline void codes_to_channel_major(const uint8_t* src, size_t n, size_t C, size_t P, uint8_t* dst) {
  for (size_t b = 0; b < n; ++b, src += C * P, dst += C * P)
    for (size_t p = 0; p < P; ++p)
      for (size_t c = 0; c < C; ++c) dst[c * P + p] = src[p * C + c];
}

// ---- Pooling (MaxPool, AveragePool) ---------------------------------------------------------

// The int8 pooling geometry of a concrete input {N, C, L} or {N, C, H, W} (its check: every
// window overlaps the input, so a max has a real element and an average a non-zero divisor).
inline PoolGeometry pool_geometry_of(const Spec& w, const std::vector<int64_t>& x) {
  const int64_t in[2] = {x.size() == 4 ? x[2] : 1, x.back()};
  int64_t pad[4];
  resolve_pads(w, in, pad);
  const int64_t nhwc[4] = {x[0], in[0], in[1], x[1]};
  return pool_geometry(nhwc, w.k, w.s, pad, w.d);
}

// MaxPool / AveragePool infer: f32 {N, C, L} or {N, C, H, W}, kernel_shape required, floor mode
// only. Returns the parsed window.
inline Spec infer_pool(InferContext& ctx, bool has_dilations) {
  require_dtype(ctx, 0, DType::kF32);
  const Dims& x = ctx.inputs[0].dims;
  QK_FAIL_IF(x.size() != 3 && x.size() != 4, kInvalidArgument,
             "input %s must be {N, C, L} (1-D) or {N, C, H, W} (2-D)", dims_string(x).c_str());
  const int64_t ceil_mode = ctx.node.attrs.get_int("ceil_mode", 0);
  QK_FAIL_IF(ceil_mode != 0 && ceil_mode != 1, kInvalidArgument, "ceil_mode %lld must be 0 or 1", (long long)ceil_mode);
  // The int8 kernels (and the legacy layers) are floor mode; an exporter's ceil_mode = 1 needs
  // the odd window handled as ONNX does, which nothing here implements yet.
  QK_FAIL_IF(ceil_mode == 1, kUnsupported, "ceil_mode 1 is not supported (floor mode only)");
  const Spec w = parse(ctx.node, x.size() - 2, {}, has_dilations);
  int64_t in[2], pad[4];
  spatial_2d(x, in);
  resolve_pads(w, in, pad);
  const bool h_known = x.size() == 3 || x[2].known(), w_known = x.back().known();
  if (h_known && w_known && x[0].known() && x[1].known()) {
    std::vector<int64_t> shape;
    for (const Dim& d : x) shape.push_back(d.size);
    (void)pool_geometry_of(w, shape);  // throws for a window entirely in the padding
  }
  ctx.outputs[0].dtype = DType::kF32;
  ctx.outputs[0].dims = x;
  if (x.size() == 4) ctx.outputs[0].dims[2] = derived_dim(ctx.node, 0, 2, h_known, h_known ? output_length(w, 0, in[0], pad) : 0);
  ctx.outputs[0].dims.back() =
      derived_dim(ctx.node, 0, x.size() - 1, w_known, w_known ? output_length(w, 1, in[1], pad) : 0);
  return w;
}

// Runs an NHWC int8 pooling kernel fn(in, in_bytes, geometry, out, out_bytes) on codes of rank 4
// (NHWC storage, from the layout pass) or rank 3 (plain {N, C, L}: moved to {N, L, C} and back).
template <typename Fn>
void run_pool_int8(RunContext& ctx, const Spec& w, Fn&& fn) {
  const Tensor& x = *ctx.in[0];
  Tensor& y = *ctx.out[0];
  const PoolGeometry g = pool_geometry_of(w, x.shape);
  if (x.shape.size() == 4) {
    QK_FAIL_IF(x.layout != Layout::kNHWC || y.layout != Layout::kNHWC, kInternal, "int8 pooling needs NHWC codes");
    fn(x.storage.get(), x.bytes, g, y.storage.get(), y.bytes);
    return;
  }
  const size_t N = size_t(x.shape[0]), C = size_t(x.shape[1]);
  std::vector<uint8_t> xin(x.bytes), yout(y.bytes);
  codes_to_pixel_major(x.data<uint8_t>(), N, C, size_t(x.shape[2]), xin.data());
  fn(xin.data(), xin.size(), g, yout.data(), yout.size());
  codes_to_channel_major(yout.data(), N, C, size_t(y.shape[2]), y.data<uint8_t>());
}

// Rank 4 reads NHWC codes; rank 3 plain ones (the layout pass touches rank 4 only).
inline Int8Layout pool_layout(const Node&, const std::vector<TensorType>& in) {
  return in[0].dims.size() == 4 ? Int8Layout::kNHWC : Int8Layout::kNCHW;
}

}  // namespace window
}  // namespace ops
}  // namespace graph
}  // namespace qk
