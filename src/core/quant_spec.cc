// SPDX-License-Identifier: Apache-2.0
#include "core/quant_spec.h"

#include <cmath>

#include "core/error.h"

namespace qk {

bool is_valid_qscheme(int value) { return value >= 1 && value <= 6; }
bool is_valid_convention(int value) { return value >= 0 && value <= 2; }

bool is_symmetric(QScheme s) {
  return s == QScheme::kPerTensorSymmetric || s == QScheme::kPerChannelSymmetric || s == QScheme::kPerGroupSymmetric;
}
bool is_per_tensor(QScheme s) { return s == QScheme::kPerTensorAffine || s == QScheme::kPerTensorSymmetric; }
bool is_per_channel(QScheme s) {
  return s == QScheme::kPerChannelAffine || s == QScheme::kPerChannelSymmetric ||
         s == QScheme::kPerChannelAffineFloatQParams;
}

const char* qscheme_name(QScheme s) {
  switch (s) {
    case QScheme::kPerTensorAffine: return "per_tensor_affine";
    case QScheme::kPerTensorSymmetric: return "per_tensor_symmetric";
    case QScheme::kPerChannelAffine: return "per_channel_affine";
    case QScheme::kPerChannelSymmetric: return "per_channel_symmetric";
    case QScheme::kPerGroupSymmetric: return "per_group_symmetric";
    case QScheme::kPerChannelAffineFloatQParams: return "per_channel_affine_float_qparams";
  }
  return "unknown";
}

QuantSpec QuantSpec::make(DType dtype, QScheme scheme) {
  QK_FAIL_IF(!is_quantized_dtype(dtype), kInvalidArgument,
             "dtype %s cannot be a quantization target (use s8, u8, s4, u4 or s32)", dtype_name(dtype));
  QK_FAIL_IF(scheme == QScheme::kPerChannelAffineFloatQParams && dtype != DType::kU8 && dtype != DType::kU4,
             kInvalidArgument, "per_channel_affine_float_qparams needs dtype u8 or u4, got %s", dtype_name(dtype));
  QuantSpec spec;
  spec.dtype = dtype;
  spec.scheme = scheme;
  return spec;
}

void QuantSpec::set_range(int32_t quant_min, int32_t quant_max) {
  int32_t lo, hi;
  dtype_range(dtype, &lo, &hi);
  QK_FAIL_IF(quant_min > 0 || quant_max < 0, kInvalidArgument,
             "quant range [%d, %d] must contain 0", quant_min, quant_max);
  QK_FAIL_IF(quant_min < lo || quant_max > hi, kInvalidArgument,
             "quant range [%d, %d] does not fit dtype %s [%d, %d]", quant_min, quant_max, dtype_name(dtype), lo, hi);
  QK_FAIL_IF(quant_min >= quant_max, kInvalidArgument, "quant range [%d, %d] is empty", quant_min, quant_max);
  has_custom_range = true;
  custom_min = quant_min;
  custom_max = quant_max;
}

void QuantSpec::set_eps(float value) {
  QK_FAIL_IF(!(std::isfinite(value) && value > 0.0f), kInvalidArgument, "eps must be finite and > 0, got %g",
             (double)value);
  eps = value;
}

void QuantSpec::set_group_size(int64_t value) {
  QK_FAIL_IF(value < 1, kInvalidArgument, "group size must be >= 1, got %lld", (long long)value);
  group_size = value;
}

// Floor division, as Python's // (PyTorch computes reduced custom ranges with it). In 64 bits:
// -v overflows for INT32_MIN (an s32 custom range may start there).
static int32_t floor_div2(int32_t v) {
  const int64_t w = v;
  return static_cast<int32_t>(w >= 0 ? w / 2 : -((-w + 1) / 2));
}

void QuantSpec::effective_range(int32_t* quant_min, int32_t* quant_max) const {
  int32_t lo, hi;
  dtype_range(dtype, &lo, &hi);
  if (has_custom_range) {
    lo = custom_min;
    hi = custom_max;
    if (reduce_range) {
      lo = floor_div2(lo);
      hi = floor_div2(hi);
      // [0, 1] halves to [0, 0]: a one-code range has no scale (PyTorch divides by zero there).
      QK_FAIL_IF(lo >= hi, kInvalidArgument, "custom range [%d, %d] with reduce_range leaves [%d, %d]: no range left",
                 custom_min, custom_max, lo, hi);
    }
    *quant_min = lo;
    *quant_max = hi;
    return;
  }
  const bool sym = is_symmetric(scheme);
  const bool is_signed = is_signed_quantized(dtype);
  switch (convention) {
    case Convention::kPyTorch:
      if (reduce_range && dtype != DType::kS32) {
        lo = floor_div2(lo);
        hi = floor_div2(hi);
      }
      break;
    case Convention::kOnnxRuntime:
      if (reduce_range && dtype != DType::kS32) {
        // onnxruntime quant_utils: reduced U8 [0,127], I8 [-64,64], U4 [0,7], I4 [-4,3].
        if (dtype == DType::kS8) { lo = -64; hi = 64; }
        else if (dtype == DType::kU8) { lo = 0; hi = 127; }
        else if (dtype == DType::kS4) { lo = -4; hi = 3; }
        else { lo = 0; hi = 7; }
      } else if (sym && dtype != DType::kS32) {
        // Symmetric ranges drop one code so that the range is symmetric around the zero point.
        if (is_signed) lo = -hi;
        else hi = hi - 1;
      }
      break;
    case Convention::kTflite:
      QK_FAIL_IF(reduce_range, kUnsupported, "the TFLite convention has no reduce_range");
      if (sym) {
        QK_FAIL_IF(!is_signed, kUnsupported, "the TFLite convention has no unsigned symmetric scheme (dtype %s)",
                   dtype_name(dtype));
        if (dtype != DType::kS32) lo = -hi;
      }
      break;
  }
  *quant_min = lo;
  *quant_max = hi;
}

bool QuantSpec::operator==(const QuantSpec& o) const {
  return dtype == o.dtype && scheme == o.scheme && has_custom_range == o.has_custom_range &&
         custom_min == o.custom_min && custom_max == o.custom_max && reduce_range == o.reduce_range &&
         eps == o.eps && axis == o.axis && group_size == o.group_size && convention == o.convention;
}

}  // namespace qk
