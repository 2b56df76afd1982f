// SPDX-License-Identifier: Apache-2.0
// int8 pooling. Loops keep channels innermost (contiguous in NHWC) with no calls inside, so the
// compiler vectorizes the max / sum over channels; the valid part of each window is computed
// once per output pixel instead of testing every tap.
#include "ops/pooling.h"
#include "ops/window_geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/shape.h"
#include "ops/layout.h"

namespace qk {
namespace {

// Geometry values are limited so that every product below fits in int64.

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// Taps k in [0, size_k) whose position base + k*d lies in [0, extent): [*begin, *end).
void valid_taps(int64_t base, int64_t d, int64_t size_k, int64_t extent, int64_t* begin, int64_t* end) {
  const int64_t b = base >= 0 ? 0 : ceil_div(-base, d);
  const int64_t e = base < extent ? ceil_div(extent - base, d) : 0;
  *begin = std::min(b, size_k);
  *end = std::max(*begin, std::min(e, size_k));
}

// Output length along one axis (floor mode) after checking the window fits and that every
// window overlaps the input.
int64_t pooled_length(int64_t in, int64_t k, int64_t s, int64_t pad_lo, int64_t pad_hi, int64_t d, const char* axis) {
  const int64_t out = window_output_length(in, k, s, pad_lo, pad_hi, d, axis);
  for (int64_t o = 0; o < out; ++o) {
    int64_t b, e;
    valid_taps(o * s - pad_lo, d, k, in, &b, &e);
    QK_FAIL_IF(b >= e, kInvalidArgument, "%s window %lld lies entirely in the padding", axis, (long long)o);
  }
  return out;
}

void check_buffers(const PoolGeometry& g, const void* input, size_t input_bytes, const void* output,
                   size_t output_bytes, size_t out_elem_bytes) {
  const uint64_t in_count = g.input_count(), out_count = g.output_count();
  QK_FAIL_IF(input_bytes < in_count, kInvalidArgument, "input holds %zu bytes but the shape needs %llu", input_bytes,
             (unsigned long long)in_count);
  QK_FAIL_IF(output_bytes < out_count * out_elem_bytes, kInvalidArgument, "output holds %zu bytes but %llu are needed",
             output_bytes, (unsigned long long)(out_count * out_elem_bytes));
  QK_FAIL_IF(in_count > 0 && input == nullptr, kInvalidArgument, "argument 'input' is NULL");
  QK_FAIL_IF(out_count > 0 && output == nullptr, kInvalidArgument, "argument 'output' is NULL");
  QK_FAIL_IF(bytes_overlap(input, in_count, output, out_count * out_elem_bytes), kInvalidArgument,
             "input and output overlap");
}

template <typename T>
void max_pool_impl(const T* in, const PoolGeometry& g, T* out) {
  const size_t c = static_cast<size_t>(g.c);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      int64_t y0, y1;
      const int64_t by = oy * g.sh - g.pad_top;
      valid_taps(by, g.dh, g.kh, g.h, &y0, &y1);
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        int64_t x0, x1;
        const int64_t bx = ox * g.sw - g.pad_left;
        valid_taps(bx, g.dw, g.kw, g.w, &x0, &x1);
        T* o = out + ((n * g.out_h + oy) * g.out_w + ox) * g.c;
        bool first = true;
        for (int64_t ky = y0; ky < y1; ++ky)
          for (int64_t kx = x0; kx < x1; ++kx) {
            const T* p = in + ((n * g.h + by + ky * g.dh) * g.w + bx + kx * g.dw) * g.c;
            if (first) {
              for (size_t i = 0; i < c; ++i) o[i] = p[i];
              first = false;
            } else {
              for (size_t i = 0; i < c; ++i) o[i] = p[i] > o[i] ? p[i] : o[i];
            }
          }
      }
    }
}

// out = clamp(nearbyint(float(sum - count*zp) * multiplier), lo - out_zp, hi - out_zp) + out_zp.
struct AvgRequant {
  int32_t in_zp, out_zp;
  float lo, hi;  // clamp of the rounded value, relative to out_zp
};

template <typename T>
inline T avg_output(int64_t sum, int64_t count, float multiplier, const AvgRequant& r) {
  const float v = round_clamped(static_cast<float>(sum - count * r.in_zp) * multiplier, r.lo, r.hi);
  return static_cast<T>(static_cast<int32_t>(v) + r.out_zp);
}

// Window sums in int32: a window holds at most 2^31/256 taps (checked by the caller).
template <typename T>
void avg_pool_impl(const T* in, const PoolGeometry& g, bool include_pad, float in_scale, float out_scale,
                   const AvgRequant& r, T* out) {
  const size_t c = static_cast<size_t>(g.c);
  std::vector<int32_t> sum(c);
  const float full_multiplier = in_scale / (out_scale * static_cast<float>(g.kh * g.kw));
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      int64_t y0, y1;
      const int64_t by = oy * g.sh - g.pad_top;
      valid_taps(by, g.dh, g.kh, g.h, &y0, &y1);
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        int64_t x0, x1;
        const int64_t bx = ox * g.sw - g.pad_left;
        valid_taps(bx, g.dw, g.kw, g.w, &x0, &x1);
        std::fill(sum.begin(), sum.end(), 0);
        for (int64_t ky = y0; ky < y1; ++ky)
          for (int64_t kx = x0; kx < x1; ++kx) {
            const T* p = in + ((n * g.h + by + ky * g.dh) * g.w + bx + kx * g.dw) * g.c;
            for (size_t i = 0; i < c; ++i) sum[i] += p[i];
          }
        // Padded taps hold the input zero point (a real 0): they add nothing to sum - count*zp
        // and only change the divisor.
        const int64_t valid = (y1 - y0) * (x1 - x0);
        const int64_t count = include_pad ? g.kh * g.kw : valid;
        const float multiplier = include_pad ? full_multiplier : in_scale / (out_scale * static_cast<float>(count));
        const int64_t pad_taps = count - valid;
        T* o = out + ((n * g.out_h + oy) * g.out_w + ox) * g.c;
        for (size_t i = 0; i < c; ++i) o[i] = avg_output<T>(int64_t(sum[i]) + pad_taps * r.in_zp, count, multiplier, r);
      }
    }
}

AvgRequant avg_requant(const ActivationQuant& in_q, const ActivationQuant& out_q) {
  return AvgRequant{in_q.zero_point, out_q.zero_point, static_cast<float>(out_q.type_min - out_q.zero_point),
                    static_cast<float>(out_q.type_max - out_q.zero_point)};
}

// Same dtype on both sides, and a finite in_scale / out_scale (the largest multiplier, count 1):
// an infinite one would turn 0 * Inf into NaN.
void check_avg_qparams(const ActivationQuant& in_q, const ActivationQuant& out_q) {
  QK_FAIL_IF(in_q.is_signed != out_q.is_signed, kInvalidArgument,
             "input and output qparams must have the same dtype (both u8 or both s8)");
  QK_FAIL_IF(!std::isfinite(in_q.scale / out_q.scale), kInvalidArgument,
             "input scale / output scale (%g / %g) overflows float", (double)in_q.scale, (double)out_q.scale);
}

}  // namespace

PoolGeometry pool_geometry(const int64_t nhwc_shape[4], const int64_t kernel[2], const int64_t stride[2],
                           const int64_t padding[4], const int64_t dilation[2]) {
  QK_FAIL_IF(nhwc_shape == nullptr, kInvalidArgument, "argument 'nhwc_shape' is NULL");
  const Shape s = Shape::from(nhwc_shape, 4, "nhwc_shape");
  check_window_params(kernel, 2, 1, "kernel");
  check_window_params(stride, 2, 1, "stride");
  check_window_params(padding, 4, 0, "padding");
  const int64_t ones[2] = {1, 1};
  if (dilation != nullptr) check_window_params(dilation, 2, 1, "dilation");
  const int64_t* d = dilation ? dilation : ones;
  PoolGeometry g;
  g.n = s.dims[0];
  g.h = s.dims[1];
  g.w = s.dims[2];
  g.c = s.dims[3];
  g.kh = kernel[0];
  g.kw = kernel[1];
  g.sh = stride[0];
  g.sw = stride[1];
  g.pad_top = padding[0];
  g.pad_left = padding[1];
  g.pad_bottom = padding[2];
  g.pad_right = padding[3];
  g.dh = d[0];
  g.dw = d[1];
  g.out_h = pooled_length(g.h, g.kh, g.sh, g.pad_top, g.pad_bottom, g.dh, "height");
  g.out_w = pooled_length(g.w, g.kw, g.sw, g.pad_left, g.pad_right, g.dw, "width");
  // Padding can make the output larger than the input: its element count is checked too.
  const int64_t out_shape[4] = {g.n, g.out_h, g.out_w, g.c};
  (void)Shape::from(out_shape, 4, "output shape");
  return g;
}

void max_pool2d(DType dtype, const void* input, size_t input_bytes, const PoolGeometry& g, void* output,
                size_t output_bytes) {
  QK_FAIL_IF(dtype != DType::kU8 && dtype != DType::kS8, kInvalidArgument, "dtype must be u8 or s8, not %s",
             dtype_name(dtype));
  check_buffers(g, input, input_bytes, output, output_bytes, 1);
  if (g.output_count() == 0) return;
  if (dtype == DType::kS8)
    max_pool_impl(static_cast<const int8_t*>(input), g, static_cast<int8_t*>(output));
  else
    max_pool_impl(static_cast<const uint8_t*>(input), g, static_cast<uint8_t*>(output));
}

void avg_pool2d(const QParams& input_qp, const QParams& output_qp, const void* input, size_t input_bytes,
                const PoolGeometry& g, bool count_include_pad, void* output, size_t output_bytes) {
  const ActivationQuant in_q = activation_quant(input_qp, "input_qparams");
  const ActivationQuant out_q = activation_quant(output_qp, "output_qparams");
  check_avg_qparams(in_q, out_q);
  QK_FAIL_IF(g.kh * g.kw > (int64_t(1) << 23), kInvalidArgument,
             "the kernel window has %lld taps; average pooling allows at most 2^23", (long long)(g.kh * g.kw));
  check_buffers(g, input, input_bytes, output, output_bytes, 1);
  if (g.output_count() == 0) return;
  const AvgRequant r = avg_requant(in_q, out_q);
  if (in_q.is_signed)
    avg_pool_impl(static_cast<const int8_t*>(input), g, count_include_pad, in_q.scale, out_q.scale, r,
                  static_cast<int8_t*>(output));
  else
    avg_pool_impl(static_cast<const uint8_t*>(input), g, count_include_pad, in_q.scale, out_q.scale, r,
                  static_cast<uint8_t*>(output));
}

namespace {

// Sums every channel over the h*w pixels of one image in int32 chunks (2^23 pixels of at most
// 255 each cannot overflow), flushed to int64.
template <typename T>
void global_avg_impl(const T* in, int64_t n, int64_t hw, int64_t c, float multiplier, const AvgRequant& r, T* out) {
  constexpr int64_t kChunk = int64_t(1) << 23;
  std::vector<int32_t> part(static_cast<size_t>(c));
  std::vector<int64_t> sum(static_cast<size_t>(c));
  for (int64_t b = 0; b < n; ++b) {
    std::fill(sum.begin(), sum.end(), 0);
    for (int64_t p0 = 0; p0 < hw; p0 += kChunk) {
      const int64_t p1 = std::min(hw, p0 + kChunk);
      std::fill(part.begin(), part.end(), 0);
      for (int64_t p = p0; p < p1; ++p) {
        const T* x = in + (b * hw + p) * c;
        for (int64_t i = 0; i < c; ++i) part[size_t(i)] += x[i];
      }
      for (int64_t i = 0; i < c; ++i) sum[size_t(i)] += part[size_t(i)];
    }
    for (int64_t i = 0; i < c; ++i) out[b * c + i] = avg_output<T>(sum[size_t(i)], hw, multiplier, r);
  }
}

}  // namespace

void global_avg_pool2d(const QParams& input_qp, const QParams& output_qp, const void* input, size_t input_bytes,
                       const int64_t nhwc_shape[4], void* output, size_t output_bytes) {
  QK_FAIL_IF(nhwc_shape == nullptr, kInvalidArgument, "argument 'nhwc_shape' is NULL");
  const Shape s = Shape::from(nhwc_shape, 4, "nhwc_shape");
  const ActivationQuant in_q = activation_quant(input_qp, "input_qparams");
  const ActivationQuant out_q = activation_quant(output_qp, "output_qparams");
  check_avg_qparams(in_q, out_q);
  const int64_t n = s.dims[0], hw = s.dims[1] * s.dims[2], c = s.dims[3];
  QK_FAIL_IF(hw == 0, kInvalidArgument, "global average pooling needs h, w >= 1 (shape has h*w = 0)");
  const uint64_t out_count = uint64_t(n) * uint64_t(c);
  QK_FAIL_IF(input_bytes < s.count, kInvalidArgument, "input holds %zu bytes but the shape needs %llu", input_bytes,
             (unsigned long long)s.count);
  QK_FAIL_IF(output_bytes < out_count, kInvalidArgument, "output holds %zu bytes but %llu are needed", output_bytes,
             (unsigned long long)out_count);
  if (out_count == 0) return;
  QK_FAIL_IF(input == nullptr, kInvalidArgument, "argument 'input' is NULL");
  QK_FAIL_IF(output == nullptr, kInvalidArgument, "argument 'output' is NULL");
  QK_FAIL_IF(bytes_overlap(input, s.count, output, out_count), kInvalidArgument, "input and output overlap");
  const AvgRequant r = avg_requant(in_q, out_q);
  // float(count) is exact below 2^24 pixels; beyond, it is the float the formula names.
  const float multiplier = in_q.scale / (out_q.scale * static_cast<float>(hw));
  if (in_q.is_signed)
    global_avg_impl(static_cast<const int8_t*>(input), n, hw, c, multiplier, r, static_cast<int8_t*>(output));
  else
    global_avg_impl(static_cast<const uint8_t*>(input), n, hw, c, multiplier, r, static_cast<uint8_t*>(output));
}

}  // namespace qk
