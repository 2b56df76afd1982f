// SPDX-License-Identifier: Apache-2.0
// Qparams math. The PyTorch convention follows torch/ao/quantization/observer.py
// (_calculate_qparams, v1.13) operation by operation in float32, so scales and zero points are
// bit-identical; see README.md for the ONNX Runtime and TFLite conventions.
#include "core/qparams.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace qk {

void QParams::validate() const {
  int32_t lo, hi;
  dtype_range(dtype, &lo, &hi);
  QK_FAIL_IF(quant_min < lo || quant_max > hi || quant_min >= quant_max, kInvalidArgument,
             "quant range [%d, %d] is empty or does not fit dtype %s", quant_min, quant_max, dtype_name(dtype));
  QK_FAIL_IF(scales.empty(), kInvalidArgument, "qparams need at least one scale");
  for (size_t i = 0; i < scales.size(); ++i) {
    // 1/scale must be finite too: quantize multiplies by the reciprocal.
    QK_FAIL_IF(!(std::isfinite(scales[i]) && scales[i] > 0.0f && std::isfinite(1.0f / scales[i])), kInvalidArgument,
               "scale[%zu] = %g must be finite, > 0 and have a finite reciprocal", i, (double)scales[i]);
  }
  if (scheme == QScheme::kPerChannelAffineFloatQParams) {
    QK_FAIL_IF(float_zero_points.size() != scales.size(), kInvalidArgument, "float zero points count mismatch");
    for (size_t i = 0; i < float_zero_points.size(); ++i) {
      QK_FAIL_IF(!std::isfinite(float_zero_points[i]), kInvalidArgument, "float zero_point[%zu] is not finite", i);
    }
  } else {
    QK_FAIL_IF(zero_points.size() != scales.size(), kInvalidArgument, "zero points count mismatch");
    for (size_t i = 0; i < zero_points.size(); ++i) {
      QK_FAIL_IF(zero_points[i] < quant_min || zero_points[i] > quant_max, kInvalidArgument,
                 "zero_point[%zu] = %d is outside [%d, %d]", i, zero_points[i], quant_min, quant_max);
    }
  }
  QK_FAIL_IF(scheme == QScheme::kPerGroupSymmetric && group_size < 1, kInvalidArgument,
             "group size must be >= 1");
  QK_FAIL_IF(is_per_tensor(scheme) && scales.size() != 1, kInvalidArgument,
             "per-tensor qparams need exactly one scale, got %zu", scales.size());
}

uint64_t QParams::expected_count(const Shape& shape) const {
  if (is_per_tensor(scheme)) return 1;
  const size_t a = shape.normalize_axis(axis, "qparams axis");
  const uint64_t dim = static_cast<uint64_t>(shape.dims[a]);
  if (is_per_channel(scheme)) return dim;
  const uint64_t g = static_cast<uint64_t>(group_size);
  const uint64_t groups = dim / g + (dim % g != 0);
  return shape.outer(a) * groups * shape.inner(a);
}

namespace {

// Symmetric zero point for unsigned types: PyTorch uses 128 for u8 (8 for u4 by extension) and
// the down-rounded midpoint for a custom range.
int32_t unsigned_symmetric_zero_point(const QuantSpec& spec, int32_t qmin, int32_t qmax) {
  if (spec.has_custom_range) return static_cast<int32_t>(std::floor((double(qmin) + double(qmax)) / 2.0));
  return (qmax + 1) / 2;
}

int32_t saturate_i32(double v) {
  return static_cast<int32_t>(std::min(std::max(v, double(INT32_MIN)), double(INT32_MAX)));
}

void pytorch_qparams(const QuantSpec& spec, int32_t qmin, int32_t qmax, float min_val, float max_val, float* scale,
                     int32_t* zp, float* float_zp) {
  const float min_neg = std::min(min_val, 0.0f);
  const float max_pos = std::max(max_val, 0.0f);
  const float eps = spec.eps;
  if (is_symmetric(spec.scheme)) {
    const float amax = std::max(-min_neg, max_pos);
    const float half_range = static_cast<float>((double(qmax) - double(qmin)) / 2.0);
    *scale = std::max(amax / half_range, eps);
    *zp = is_signed_quantized(spec.dtype) ? 0 : unsigned_symmetric_zero_point(spec, qmin, qmax);
  } else if (spec.scheme == QScheme::kPerChannelAffineFloatQParams) {
    float s = (max_val - min_val) / static_cast<float>(double(qmax) - double(qmin));
    if (!(s > eps)) s = 1.0f;
    *scale = s;
    *float_zp = (-1.0f * min_val) / s;
    // The integer companion of the float zero point, saturated: the float one can be far outside
    // int32 (min == max == -1e30 gives scale 1), where a plain cast is undefined.
    *zp = saturate_i32(std::nearbyint(static_cast<double>(*float_zp)));
  } else {
    const float s = std::max((max_pos - min_neg) / static_cast<float>(double(qmax) - double(qmin)), eps);
    // torch.round (half to even) of a float32 quotient, then clamp.
    const double rounded = std::nearbyint(static_cast<double>(min_neg / s));
    const double z = std::min(std::max(double(qmin) - rounded, double(qmin)), double(qmax));
    *scale = s;
    *zp = static_cast<int32_t>(z);
  }
}

void onnxruntime_qparams(const QuantSpec& spec, int32_t qmin, int32_t qmax, float min_val, float max_val,
                         float* scale, int32_t* zp) {
  float rmin = std::min(min_val, 0.0f);
  float rmax = std::max(max_val, 0.0f);
  const bool sym = is_symmetric(spec.scheme);
  if (sym) {
    const float absmax = std::max(std::fabs(rmin), std::fabs(rmax));
    rmin = -absmax;
    rmax = absmax;
  }
  // quant_utils.compute_scale_zp: the range difference is a float32 op, the scale float64.
  const double dr = static_cast<double>(rmax - rmin);
  const double s = dr / (double(qmax) - double(qmin));
  if (s < static_cast<double>(FLT_MIN)) {
    *scale = 1.0f;
    *zp = 0;
    return;
  }
  double z = sym ? std::nearbyint((double(qmin) + double(qmax)) / 2.0) : std::nearbyint(double(qmin) - rmin / s);
  z = std::min(std::max(z, double(qmin)), double(qmax));
  *zp = static_cast<int32_t>(z);
  *scale = static_cast<float>(s);
}

void tflite_qparams(const QuantSpec& spec, int32_t qmin, int32_t qmax, float min_val, float max_val, float* scale,
                    int32_t* zp) {
  const float fmin = std::min(min_val, 0.0f);
  const float fmax = std::max(max_val, 0.0f);
  if (is_symmetric(spec.scheme)) {
    // quantization_utils SymmetricPerChannelQuantization: scale = max|x| / 127 (float).
    const float amax = std::max(std::fabs(fmin), std::fabs(fmax));
    const float s = amax / static_cast<float>(qmax);
    *scale = s > 0.0f ? s : 1.0f;
    *zp = 0;
    return;
  }
  // quantization_utils GetAsymmetricQuantizationParams: float math, nudged zero point rounded
  // half away from zero. TFLite leaves scale 0 for an all-zero range; we use 1 (a valid scale).
  const float qmin_f = static_cast<float>(qmin), qmax_f = static_cast<float>(qmax);
  const float s = (fmax - fmin) / (qmax_f - qmin_f);
  if (s == 0.0f) {
    *scale = 1.0f;
    *zp = 0;
    return;
  }
  const float zp_from_min = qmin_f - fmin / s;
  if (zp_from_min < qmin_f) *zp = qmin;
  else if (zp_from_min > qmax_f) *zp = qmax;
  // Clamped again in double: for s32, float(qmax) rounds up to 2^31, one past the largest int32.
  else *zp = static_cast<int32_t>(std::min(std::round(static_cast<double>(zp_from_min)), double(qmax)));
  *scale = s;
}

void check_range_value(float v, const char* what, size_t i) {
  QK_FAIL_IF(!std::isfinite(v), kInvalidArgument, "%s[%zu] = %g is not finite", what, i, (double)v);
}

}  // namespace

QParams compute_qparams(const QuantSpec& spec, const float* min_vals, const float* max_vals, size_t count) {
  QK_FAIL_IF(count == 0, kInvalidArgument, "count must be >= 1");
  QK_FAIL_IF(is_per_tensor(spec.scheme) && count != 1, kInvalidArgument,
             "per-tensor scheme %s takes exactly one range, got %zu", qscheme_name(spec.scheme), count);
  int32_t qmin, qmax;
  spec.effective_range(&qmin, &qmax);
  QK_FAIL_IF(spec.convention == Convention::kPyTorch && spec.reduce_range && spec.dtype == DType::kU8 &&
                 is_symmetric(spec.scheme),
             kUnsupported, "reduce_range with symmetric u8 is not supported (PyTorch raises NotImplementedError)");
  QK_FAIL_IF(spec.scheme == QScheme::kPerChannelAffineFloatQParams && spec.convention != Convention::kPyTorch,
             kUnsupported, "float zero points exist only in the PyTorch convention");
  for (size_t i = 0; i < count; ++i) {
    check_range_value(min_vals[i], "min", i);
    check_range_value(max_vals[i], "max", i);
    QK_FAIL_IF(min_vals[i] > max_vals[i], kInvalidArgument, "min[%zu] = %g is greater than max[%zu] = %g", i,
               (double)min_vals[i], i, (double)max_vals[i]);
  }
  QParams qp;
  qp.dtype = spec.dtype;
  qp.scheme = spec.scheme;
  qp.axis = spec.axis;
  qp.group_size = spec.scheme == QScheme::kPerGroupSymmetric ? spec.group_size : 1;
  qp.quant_min = qmin;
  qp.quant_max = qmax;
  qp.scales.resize(count);
  qp.zero_points.resize(count);
  if (spec.scheme == QScheme::kPerChannelAffineFloatQParams) qp.float_zero_points.resize(count);
  for (size_t i = 0; i < count; ++i) {
    float fzp = 0.0f;
    switch (spec.convention) {
      case Convention::kPyTorch:
        pytorch_qparams(spec, qmin, qmax, min_vals[i], max_vals[i], &qp.scales[i], &qp.zero_points[i], &fzp);
        break;
      case Convention::kOnnxRuntime:
        onnxruntime_qparams(spec, qmin, qmax, min_vals[i], max_vals[i], &qp.scales[i], &qp.zero_points[i]);
        break;
      case Convention::kTflite:
        tflite_qparams(spec, qmin, qmax, min_vals[i], max_vals[i], &qp.scales[i], &qp.zero_points[i]);
        break;
    }
    if (!qp.float_zero_points.empty()) qp.float_zero_points[i] = fzp;
    // A range wider than FLT_MAX makes the scale overflow (torch returns an Inf scale that
    // quantizes everything to the zero point); refuse it instead.
    QK_FAIL_IF(!std::isfinite(qp.scales[i]), kInvalidArgument,
               "range %zu [%g, %g] is too wide: its scale overflows float", i, (double)min_vals[i],
               (double)max_vals[i]);
    // A denormal eps can give a scale whose reciprocal overflows.
    QK_FAIL_IF(!std::isfinite(1.0f / qp.scales[i]), kInvalidArgument,
               "range %zu gives scale %g whose reciprocal overflows float (eps too small?)", i,
               (double)qp.scales[i]);
  }
  if (spec.scheme == QScheme::kPerChannelAffineFloatQParams) {
    // Integer view of a float zero point: rounded, clamped into the range.
    for (size_t i = 0; i < count; ++i) qp.zero_points[i] = std::min(std::max(qp.zero_points[i], qmin), qmax);
  }
  return qp;
}

QParams compute_group_qparams(const QuantSpec& spec, const float* absmax, size_t count) {
  std::vector<float> lo(count), hi(count);
  for (size_t i = 0; i < count; ++i) {
    lo[i] = -absmax[i];
    hi[i] = absmax[i];
  }
  return compute_qparams(spec, lo.data(), hi.data(), count);
}

QParams qparams_from_tensor(const QuantSpec& spec, const float* data, const Shape& shape, uint64_t* nonfinite) {
  uint64_t skipped = 0;
  const float inf = std::numeric_limits<float>::infinity();
  if (is_per_tensor(spec.scheme)) {
    float lo = inf, hi = -inf;
    for (uint64_t i = 0; i < shape.count; ++i) {
      const float v = data[i];
      if (!std::isfinite(v)) { ++skipped; continue; }
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    QK_FAIL_IF(lo > hi, kState, "the tensor has no finite value (%llu non-finite)", (unsigned long long)skipped);
    if (nonfinite) *nonfinite = skipped;
    return compute_qparams(spec, &lo, &hi, 1);
  }
  QK_FAIL_IF(shape.rank == 0, kInvalidArgument, "per-channel/per-group qparams need a tensor of rank >= 1");
  const size_t a = shape.normalize_axis(spec.axis, "spec axis");
  const uint64_t outer = shape.outer(a), dim = static_cast<uint64_t>(shape.dims[a]), inner = shape.inner(a);
  QK_FAIL_IF(dim == 0, kInvalidArgument, "the channel axis %zu has size 0", a);
  if (is_per_channel(spec.scheme)) {
    std::vector<float> lo(dim, inf), hi(dim, -inf);
    for (uint64_t o = 0; o < outer; ++o)
      for (uint64_t c = 0; c < dim; ++c) {
        const float* row = data + (o * dim + c) * inner;
        for (uint64_t i = 0; i < inner; ++i) {
          const float v = row[i];
          if (!std::isfinite(v)) { ++skipped; continue; }
          lo[c] = std::min(lo[c], v);
          hi[c] = std::max(hi[c], v);
        }
      }
    for (uint64_t c = 0; c < dim; ++c)
      QK_FAIL_IF(lo[c] > hi[c], kState, "channel %llu has no finite value", (unsigned long long)c);
    if (nonfinite) *nonfinite = skipped;
    return compute_qparams(spec, lo.data(), hi.data(), dim);
  }
  // Per-group: scales laid out [outer][groups][inner].
  const uint64_t g = static_cast<uint64_t>(spec.group_size);
  const uint64_t groups = dim / g + (dim % g != 0);
  std::vector<float> amax(outer * groups * inner, -1.0f);
  for (uint64_t o = 0; o < outer; ++o)
    for (uint64_t c = 0; c < dim; ++c) {
      const float* row = data + (o * dim + c) * inner;
      float* dst = amax.data() + (o * groups + c / g) * inner;
      for (uint64_t i = 0; i < inner; ++i) {
        const float v = row[i];
        if (!std::isfinite(v)) { ++skipped; continue; }
        dst[i] = std::max(dst[i], std::fabs(v));
      }
    }
  for (size_t i = 0; i < amax.size(); ++i)
    QK_FAIL_IF(amax[i] < 0.0f, kState, "group %zu has no finite value", i);
  if (nonfinite) *nonfinite = skipped;
  return compute_group_qparams(spec, amax.data(), amax.size());
}

}  // namespace qk
