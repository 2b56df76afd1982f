// SPDX-License-Identifier: Apache-2.0
// Fake quantization, transcribed from PyTorch 1.13's CPU kernels
// (aten/src/ATen/native/quantized/cpu/kernels/QuantizedOpKernels.cpp and
// aten/src/ATen/native/quantized/FakeQuantPerTensorAffine.cpp / ...PerChannelAffine.cpp),
// keeping their mixed int64/float/double arithmetic (and, for the learnable backward, the FMAs
// the compiler makes of it) so results match bit for bit; tests/golden checks them.
#include "core/fake_quant.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/quantize.h"

namespace qk {
namespace {

// torch: static_cast<int64_t>(zero_point + std::nearbyint(x * inv_scale)) (the sum is a float).
// Saturates instead of invoking undefined behaviour for huge values or Inf.
int64_t code_of(float x, float inv_scale, int64_t zp) {
  const float sum = static_cast<float>(zp) + std::nearbyint(x * inv_scale);
  if (std::isnan(sum)) return zp;
  if (sum >= 9.0e18f) return INT64_MAX / 2;
  if (sum <= -9.0e18f) return INT64_MIN / 2;
  return static_cast<int64_t>(sum);
}

void check_fake_quant_qparams(const QParams& qp, const Shape& shape) {
  QK_FAIL_IF(qp.scheme == QScheme::kPerGroupSymmetric || qp.scheme == QScheme::kPerChannelAffineFloatQParams,
             kInvalidArgument, "fake quantization supports per-tensor and per-channel integer qparams, not %s",
             qscheme_name(qp.scheme));
  QK_FAIL_IF(!is_per_tensor(qp.scheme) && shape.rank == 0, kInvalidArgument,
             "per-channel fake quantization needs a tensor of rank >= 1");
  const uint64_t expected = qp.expected_count(shape);
  QK_FAIL_IF(expected != qp.count(), kInvalidArgument, "qparams hold %zu scales but the tensor needs %llu",
             qp.count(), (unsigned long long)expected);
}

}  // namespace

void fake_quantize(const QParams& qp, const float* x, const Shape& shape, float* y, uint8_t* mask) {
  check_fake_quant_qparams(qp, shape);
  const int64_t qmin = qp.quant_min, qmax = qp.quant_max;
  for_each_param_run(qp, shape, [&](uint64_t start, uint64_t len, uint64_t p) {
    const float scale = qp.scales[p];
    const float inv_scale = 1.0f / scale;
    const int64_t zp = qp.zero_points[p];
    for (uint64_t i = start; i < start + len; ++i) {
      const int64_t q = code_of(x[i], inv_scale, zp);
      const int64_t clamped = std::min(std::max(q, qmin), qmax);
      const bool inside = qmin <= q && q <= qmax;
      // torch: (std::fmin(std::fmax(q, qmin), qmax) - zp) * scale: fmin/fmax promote to double, so
      // the product is a double rounded to float. Same as a float product for 8-bit ranges, but
      // not for int32-wide ones (torch.fake_quantize_per_tensor_affine with qint32 bounds).
      y[i] = static_cast<float>((static_cast<double>(clamped) - static_cast<double>(zp)) * static_cast<double>(scale));
      if (mask) mask[i] = inside ? 1 : 0;
    }
  });
}

void fake_quantize_backward(const QParams& qp, const float* x, const float* grad_y, const Shape& shape,
                            float* grad_x) {
  check_fake_quant_qparams(qp, shape);
  const int64_t qmin = qp.quant_min, qmax = qp.quant_max;
  for_each_param_run(qp, shape, [&](uint64_t start, uint64_t len, uint64_t p) {
    const float inv_scale = 1.0f / qp.scales[p];
    const int64_t zp = qp.zero_points[p];
    for (uint64_t i = start; i < start + len; ++i) {
      const int64_t q = code_of(x[i], inv_scale, zp);
      // torch's backward is dY * mask, a float multiply: a masked negative gradient gives -0.0.
      grad_x[i] = grad_y[i] * ((qmin <= q && q <= qmax) ? 1.0f : 0.0f);
    }
  });
}

void fake_quantize_learnable_backward(const LearnableFakeQuantArgs& a, float* grad_x, float* grad_scales,
                                      float* grad_zero_points) {
  const Shape& shape = a.shape;
  QK_FAIL_IF(a.quant_min >= a.quant_max, kInvalidArgument, "quant range [%d, %d] is empty", a.quant_min,
             a.quant_max);
  QK_FAIL_IF(a.quant_min > 0 || a.quant_max < 0, kInvalidArgument, "quant range [%d, %d] must contain 0",
             a.quant_min, a.quant_max);
  QK_FAIL_IF(!std::isfinite(a.grad_factor), kInvalidArgument, "grad_factor must be finite");
  uint64_t outer = 1, channels = 1, inner = shape.count;
  if (a.axis >= 0) {
    QK_FAIL_IF(shape.rank == 0, kInvalidArgument, "per-channel gradients need a tensor of rank >= 1");
    const size_t ax = shape.normalize_axis(a.axis);
    outer = shape.outer(ax);
    channels = static_cast<uint64_t>(shape.dims[ax]);
    inner = shape.inner(ax);
  }
  QK_FAIL_IF(a.count != channels, kInvalidArgument, "%zu scales given but %llu are needed", a.count,
             (unsigned long long)channels);
  for (size_t c = 0; c < a.count; ++c) {
    QK_FAIL_IF(!(std::isfinite(a.scales[c]) && a.scales[c] > 0.0f), kInvalidArgument,
               "scale[%zu] = %g must be finite and > 0", c, (double)a.scales[c]);
    QK_FAIL_IF(!std::isfinite(a.zero_points[c]), kInvalidArgument, "zero_point[%zu] is not finite", c);
  }
  const int64_t qmin = a.quant_min, qmax = a.quant_max;
  // Zero points as torch's backward sees them: per tensor, _get_zero_point_from_tensor(..., is_forward
  // = false) = trunc(clamp(zp + 0.5)); per channel, round-half-even then clamp.
  std::vector<float> zps(a.count);
  for (size_t c = 0; c < a.count; ++c) {
    if (a.axis < 0) {
      const float z = std::min(std::max(a.zero_points[c] + 0.5f, float(qmin)), float(qmax));
      zps[c] = static_cast<float>(static_cast<int64_t>(z));
    } else {
      zps[c] = std::min(std::max(std::nearbyint(a.zero_points[c]), float(qmin)), float(qmax));
    }
  }
  std::vector<double> sum_scale(a.count, 0.0), sum_zp(a.count, 0.0);
  std::vector<float> gx(shape.count);
  for (uint64_t o = 0; o < outer; ++o)
    for (uint64_t c = 0; c < channels; ++c) {
      const float scale = a.scales[c];
      const float inv_scale = 1.0f / scale;
      const float zp = zps[c];
      const float dscale_small = static_cast<float>(qmin) - zp;
      const float dscale_big = static_cast<float>(qmax) - zp;
      const uint64_t base = (o * channels + c) * inner;
      for (uint64_t i = 0; i < inner; ++i) {
        const float x = a.x[base + i], dy = a.grad_y[base + i];
        // torch's kernel reads nearbyint(zp + x * inv_scale) and later (xfq - x) with
        // xfq = (clamped - zp) * scale; ATen compiles it per CPU capability (-mavx2 -mfma, ...)
        // and GCC contracts both into FMAs. The goldens from PyTorch 1.13 on AVX2 show it (a
        // .5 tie in zp + x * inv_scale flips the gradient's sign): so fused here explicitly.
        const float pre = std::nearbyint(std::fma(x, inv_scale, zp));
        int64_t xq;
        if (std::isnan(pre)) xq = static_cast<int64_t>(zp);
        else if (pre >= 9.0e18f) xq = INT64_MAX / 2;
        else if (pre <= -9.0e18f) xq = INT64_MIN / 2;
        else xq = static_cast<int64_t>(pre);
        const bool inside = xq >= qmin && xq <= qmax;
        gx[base + i] = dy * static_cast<float>(inside);
        float dscale, dzp;
        if (!inside) {
          dzp = dy * (-1) * scale * a.grad_factor;
          dscale = ((xq < qmin) ? (dy * dscale_small) : (dy * dscale_big)) * a.grad_factor;
        } else {
          const float steps = static_cast<float>(std::max(std::min(xq, qmax), qmin)) - zp;
          dzp = 0.0f;
          dscale = dy * std::fma(steps, scale, -x) * inv_scale * a.grad_factor;  // (xfq - x), fused
        }
        sum_scale[c] += dscale;
        sum_zp[c] += dzp;
      }
    }
  std::copy(gx.begin(), gx.end(), grad_x);
  for (size_t c = 0; c < a.count; ++c) {
    grad_scales[c] = static_cast<float>(sum_scale[c]);
    grad_zero_points[c] = static_cast<float>(sum_zp[c]);
  }
}

}  // namespace qk
