// SPDX-License-Identifier: Apache-2.0
// Activation qparams checks and the NCHW f32 <-> NHWC quantized converters. The converters work
// on tiles of pixels across all channels, so both the planar and the interleaved side are read
// or written in long runs, and they reuse the active ISA's quantize/dequantize kernels: results
// are those of qk_quantize / qk_dequantize element for element.
#include "ops/layout.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/quantize.h"
#include "dispatch/isa.h"

namespace qk {

ActivationQuant activation_quant(const QParams& qp, const char* what) {
  QK_FAIL_IF(qp.dtype != DType::kU8 && qp.dtype != DType::kS8, kInvalidArgument, "%s must have dtype u8 or s8, not %s",
             what, dtype_name(qp.dtype));
  QK_FAIL_IF(!is_per_tensor(qp.scheme) || qp.count() != 1, kInvalidArgument,
             "%s must be per-tensor (one scale), not %s with %zu scales", what, qscheme_name(qp.scheme), qp.count());
  ActivationQuant q;
  q.scale = qp.scales[0];
  q.zero_point = qp.zero_points[0];
  dtype_range(qp.dtype, &q.type_min, &q.type_max);
  q.is_signed = qp.dtype == DType::kS8;
  return q;
}

namespace {

// quantize(x) into the dtype range; double keeps + zp from overflowing (Inf stays Inf).
int32_t quantize_bound(const ActivationQuant& q, float x) {
  const double r = double(std::nearbyint(x * (1.0f / q.scale))) + q.zero_point;
  return r < q.type_min ? q.type_min : (r > q.type_max ? q.type_max : static_cast<int32_t>(r));
}

}  // namespace

void output_clamp(const ActivationQuant& q, float output_min, float output_max, int32_t* lo, int32_t* hi) {
  QK_FAIL_IF(std::isnan(output_min) || std::isnan(output_max), kInvalidArgument, "output_min/output_max is NaN");
  QK_FAIL_IF(output_min > output_max, kInvalidArgument, "output_min %g is greater than output_max %g",
             (double)output_min, (double)output_max);
  *lo = output_min == -INFINITY ? q.type_min : quantize_bound(q, output_min);
  *hi = output_max == INFINITY ? q.type_max : quantize_bound(q, output_max);
}

bool bytes_overlap(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  if (a_bytes == 0 || b_bytes == 0) return false;
  const uintptr_t pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return pa < pb + b_bytes && pb < pa + a_bytes;
}

namespace {

// Pixels per tile: 64 floats of a plane are four cache lines.
constexpr size_t kTile = 64;

struct Nchw {
  size_t n, c, hw;
};

// Validates the shape against the qparams (u8/s8, per-tensor or per-channel on axis 1) and
// returns the dims; `count` receives the element count.
Nchw check_nchw(const QParams& qp, const int64_t nchw_shape[4], uint64_t* count) {
  QK_FAIL_IF(nchw_shape == nullptr, kInvalidArgument, "argument 'nchw_shape' is NULL");
  const Shape s = Shape::from(nchw_shape, 4, "nchw_shape");
  QK_FAIL_IF(qp.dtype != DType::kU8 && qp.dtype != DType::kS8, kInvalidArgument,
             "qparams must have dtype u8 or s8, not %s", dtype_name(qp.dtype));
  const bool per_channel = qp.scheme == QScheme::kPerChannelAffine || qp.scheme == QScheme::kPerChannelSymmetric;
  QK_FAIL_IF(!is_per_tensor(qp.scheme) && !per_channel, kInvalidArgument,
             "qparams scheme %s is not per-tensor or per-channel", qscheme_name(qp.scheme));
  if (per_channel) {
    QK_FAIL_IF(s.normalize_axis(qp.axis, "qparams axis") != 1, kInvalidArgument,
               "per-channel qparams must be on axis 1 (C of NCHW), not %d", qp.axis);
    QK_FAIL_IF(qp.count() != static_cast<uint64_t>(s.dims[1]), kInvalidArgument,
               "qparams hold %zu scales but the tensor has %lld channels", qp.count(), (long long)s.dims[1]);
  } else {
    QK_FAIL_IF(qp.count() != 1, kInvalidArgument, "per-tensor qparams need one scale, got %zu", qp.count());
  }
  *count = s.count;
  return Nchw{static_cast<size_t>(s.dims[0]), static_cast<size_t>(s.dims[1]),
              static_cast<size_t>(s.dims[2]) * static_cast<size_t>(s.dims[3])};
}

}  // namespace

uint64_t quantize_nchw_to_nhwc(const QParams& qp, const float* src, const int64_t nchw_shape[4], void* dst,
                               size_t dst_bytes) {
  uint64_t count = 0;
  const Nchw d = check_nchw(qp, nchw_shape, &count);
  QK_FAIL_IF(dst_bytes < count, kBufferTooSmall, "dst holds %zu bytes but %llu are needed", dst_bytes,
             (unsigned long long)count);
  if (count == 0) return 0;
  QK_FAIL_IF(src == nullptr || dst == nullptr, kInvalidArgument, "src/dst is NULL");
  QK_FAIL_IF(bytes_overlap(src, count * sizeof(float), dst, count), kInvalidArgument, "src and dst overlap");
  const QuantizeKernels& k = quantize_kernels();
  const bool per_tensor = is_per_tensor(qp.scheme);
  const bool is_signed = qp.dtype == DType::kS8;
  std::vector<uint8_t> tile(d.c * kTile);
  uint8_t* out = static_cast<uint8_t*>(dst);
  uint64_t nans = 0;
  for (size_t n = 0; n < d.n; ++n) {
    for (size_t p0 = 0; p0 < d.hw; p0 += kTile) {
      const size_t len = std::min(kTile, d.hw - p0);
      for (size_t c = 0; c < d.c; ++c) {
        const size_t i = per_tensor ? 0 : c;
        const float* x = src + (n * d.c + c) * d.hw + p0;
        uint8_t* t = tile.data() + c * kTile;
        const float inv_scale = 1.0f / qp.scales[i];
        nans += is_signed ? k.quantize_s8(x, len, inv_scale, qp.zero_points[i], qp.quant_min, qp.quant_max,
                                          reinterpret_cast<int8_t*>(t))
                          : k.quantize_u8(x, len, inv_scale, qp.zero_points[i], qp.quant_min, qp.quant_max, t);
      }
      uint8_t* o = out + (n * d.hw + p0) * d.c;
      for (size_t p = 0; p < len; ++p)
        for (size_t c = 0; c < d.c; ++c) o[p * d.c + c] = tile[c * kTile + p];
    }
  }
  return nans;
}

void dequantize_nhwc_to_nchw(const QParams& qp, const void* src, size_t src_bytes, const int64_t nchw_shape[4],
                             float* dst) {
  uint64_t count = 0;
  const Nchw d = check_nchw(qp, nchw_shape, &count);
  QK_FAIL_IF(src_bytes < count, kInvalidArgument, "src holds %zu bytes but the shape needs %llu", src_bytes,
             (unsigned long long)count);
  if (count == 0) return;
  QK_FAIL_IF(src == nullptr || dst == nullptr, kInvalidArgument, "src/dst is NULL");
  QK_FAIL_IF(bytes_overlap(src, count, dst, count * sizeof(float)), kInvalidArgument, "src and dst overlap");
  const QuantizeKernels& k = quantize_kernels();
  const bool per_tensor = is_per_tensor(qp.scheme);
  const bool is_signed = qp.dtype == DType::kS8;
  std::vector<uint8_t> tile(d.c * kTile);
  const uint8_t* in = static_cast<const uint8_t*>(src);
  for (size_t n = 0; n < d.n; ++n) {
    for (size_t p0 = 0; p0 < d.hw; p0 += kTile) {
      const size_t len = std::min(kTile, d.hw - p0);
      const uint8_t* q = in + (n * d.hw + p0) * d.c;
      for (size_t p = 0; p < len; ++p)
        for (size_t c = 0; c < d.c; ++c) tile[c * kTile + p] = q[p * d.c + c];
      for (size_t c = 0; c < d.c; ++c) {
        const size_t i = per_tensor ? 0 : c;
        float* y = dst + (n * d.c + c) * d.hw + p0;
        const uint8_t* t = tile.data() + c * kTile;
        if (is_signed)
          k.dequantize_s8(reinterpret_cast<const int8_t*>(t), len, qp.scales[i], qp.zero_points[i], y);
        else
          k.dequantize_u8(t, len, qp.scales[i], qp.zero_points[i], y);
      }
    }
  }
}

}  // namespace qk
