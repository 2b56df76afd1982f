// SPDX-License-Identifier: Apache-2.0
#include "core/quantize.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "dispatch/isa.h"

namespace qk {
namespace {

void check_qparams_fit(const QParams& qp, const Shape& shape) {
  QK_FAIL_IF(!is_quantized_dtype(qp.dtype), kInvalidArgument, "qparams dtype %s is not a quantized type",
             dtype_name(qp.dtype));
  QK_FAIL_IF(!is_per_tensor(qp.scheme) && shape.rank == 0, kInvalidArgument,
             "%s qparams need a tensor of rank >= 1", qscheme_name(qp.scheme));
  const uint64_t expected = qp.expected_count(shape);
  QK_FAIL_IF(expected != qp.count(), kInvalidArgument,
             "qparams hold %zu scales but the tensor needs %llu (%s along axis %d)", qp.count(),
             (unsigned long long)expected, qscheme_name(qp.scheme), qp.axis);
}

// PyTorch quantize_val_float_qparams: lrintf(x * inv_scale + zp), clamped.
int32_t quantize_float_qparams(float x, float scale, float zp, int32_t qmin, int32_t qmax, uint64_t* nans) {
  if (std::isnan(x)) {
    ++*nans;
    const float z = std::nearbyint(zp);
    return z < qmin ? qmin : (z > qmax ? qmax : static_cast<int32_t>(z));
  }
  const float inv_scale = scale == 0.0f ? 1.0f : 1.0f / scale;
  const float r = std::nearbyint(x * inv_scale + zp);
  if (!(r >= static_cast<float>(qmin))) return qmin;
  if (!(r <= static_cast<float>(qmax))) return qmax;
  return static_cast<int32_t>(r);
}

// s32, as PyTorch 1.13's quantize_val: zero_point + nearbyint(x * inv_scale) is an int64 + float
// sum, so it is computed in float32 and rounds codes past 2^24 (torch.quantize_per_tensor(...,
// torch.qint32) int_repr() shows it); then int64 conversion and clamping. Sums outside int64
// (undefined behaviour in torch) saturate instead.
uint64_t quantize_s32_run(const float* x, uint64_t n, float inv_scale, int32_t zp, int32_t qmin, int32_t qmax,
                          int32_t* q) {
  uint64_t nans = 0;
  for (uint64_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) {
      ++nans;
      q[i] = zp;
      continue;
    }
    const float sum = static_cast<float>(zp) + std::nearbyint(x[i] * inv_scale);
    int64_t v;
    if (sum >= 2147483648.0f) v = int64_t(qmax);
    else if (sum < -2147483648.0f) v = int64_t(qmin);
    else v = static_cast<int64_t>(sum);
    q[i] = static_cast<int32_t>(v < qmin ? qmin : (v > qmax ? qmax : v));
  }
  return nans;
}

void pack_nibbles(const uint8_t* codes, uint64_t count, uint8_t* dst) {
  for (uint64_t i = 0; i + 1 < count; i += 2) dst[i / 2] = static_cast<uint8_t>((codes[i] & 0xF) | (codes[i + 1] << 4));
  if (count & 1) dst[count / 2] = static_cast<uint8_t>(codes[count - 1] & 0xF);
}

}  // namespace

uint64_t quantize(const QParams& qp, const float* src, const Shape& shape, void* dst, size_t dst_bytes) {
  check_qparams_fit(qp, shape);
  const size_t needed = storage_size(qp.dtype, shape.count);
  QK_FAIL_IF(dst_bytes < needed, kBufferTooSmall, "dst holds %zu bytes but %zu are needed", dst_bytes, needed);
  if (shape.count == 0) return 0;
  QK_FAIL_IF(src == nullptr || dst == nullptr, kInvalidArgument, "src/dst is NULL");
  const QuantizeKernels& k = quantize_kernels();
  uint64_t nans = 0;
  const bool four_bit = qp.dtype == DType::kS4 || qp.dtype == DType::kU4;
  std::vector<uint8_t> staging;
  if (four_bit) staging.resize(shape.count);  // codes one per byte, packed at the end
  uint8_t* bytes = four_bit ? staging.data() : static_cast<uint8_t*>(dst);

  if (qp.scheme == QScheme::kPerChannelAffineFloatQParams) {
    for_each_param_run(qp, shape, [&](uint64_t start, uint64_t len, uint64_t p) {
      for (uint64_t i = 0; i < len; ++i)
        bytes[start + i] = static_cast<uint8_t>(quantize_float_qparams(
            src[start + i], qp.scales[p], qp.float_zero_points[p], qp.quant_min, qp.quant_max, &nans));
    });
  } else {
    for_each_param_run(qp, shape, [&](uint64_t start, uint64_t len, uint64_t p) {
      const float inv_scale = 1.0f / qp.scales[p];
      const int32_t zp = qp.zero_points[p];
      switch (qp.dtype) {
        case DType::kS8: case DType::kS4:
          nans += k.quantize_s8(src + start, len, inv_scale, zp, qp.quant_min, qp.quant_max,
                                reinterpret_cast<int8_t*>(bytes) + start);
          break;
        case DType::kU8: case DType::kU4:
          nans += k.quantize_u8(src + start, len, inv_scale, zp, qp.quant_min, qp.quant_max, bytes + start);
          break;
        case DType::kS32:
          nans += quantize_s32_run(src + start, len, inv_scale, zp, qp.quant_min, qp.quant_max,
                                   static_cast<int32_t*>(dst) + start);
          break;
        default: break;
      }
    });
  }
  if (four_bit) pack_nibbles(staging.data(), shape.count, static_cast<uint8_t*>(dst));
  return nans;
}

void dequantize(const QParams& qp, const void* src, size_t src_bytes, const Shape& shape, float* dst) {
  check_qparams_fit(qp, shape);
  const size_t needed = storage_size(qp.dtype, shape.count);
  QK_FAIL_IF(src_bytes < needed, kInvalidArgument, "src holds %zu bytes but the shape needs %zu", src_bytes, needed);
  if (shape.count == 0) return;
  QK_FAIL_IF(src == nullptr || dst == nullptr, kInvalidArgument, "src/dst is NULL");
  const QuantizeKernels& k = quantize_kernels();
  const uint8_t* bytes = static_cast<const uint8_t*>(src);
  std::vector<uint8_t> unpacked;
  if (qp.dtype == DType::kS4 || qp.dtype == DType::kU4) {
    unpacked.resize(shape.count);
    const bool is_signed = qp.dtype == DType::kS4;
    for (uint64_t i = 0; i < shape.count; ++i) {
      uint8_t nib = (bytes[i / 2] >> ((i & 1) * 4)) & 0xF;
      if (is_signed && (nib & 0x8)) nib = static_cast<uint8_t>(nib | 0xF0);  // sign-extend into the byte
      unpacked[i] = nib;
    }
    bytes = unpacked.data();
  }
  for_each_param_run(qp, shape, [&](uint64_t start, uint64_t len, uint64_t p) {
    const float scale = qp.scales[p];
    if (qp.scheme == QScheme::kPerChannelAffineFloatQParams) {
      const float zp = qp.float_zero_points[p];
      for (uint64_t i = 0; i < len; ++i) dst[start + i] = (static_cast<float>(bytes[start + i]) - zp) * scale;
      return;
    }
    const int32_t zp = qp.zero_points[p];
    switch (qp.dtype) {
      case DType::kS8: case DType::kS4:
        k.dequantize_s8(reinterpret_cast<const int8_t*>(bytes) + start, len, scale, zp, dst + start);
        break;
      case DType::kU8: case DType::kU4:
        k.dequantize_u8(bytes + start, len, scale, zp, dst + start);
        break;
      case DType::kS32: {
        // PyTorch 1.13 rounds differently per scheme once |q| or |zp| pass 2^24: per channel it
        // computes (float(q) - zp) * scale in float32; per tensor float(q - zp) * scale, with
        // the difference in int32 (there it wraps on overflow; we subtract exactly in int64).
        const int32_t* q = static_cast<const int32_t*>(src) + start;
        if (is_per_tensor(qp.scheme)) {
          for (uint64_t i = 0; i < len; ++i)
            dst[start + i] = static_cast<float>(static_cast<int64_t>(q[i]) - zp) * scale;
        } else {
          const float zp_f = static_cast<float>(zp);
          for (uint64_t i = 0; i < len; ++i) dst[start + i] = (static_cast<float>(q[i]) - zp_f) * scale;
        }
        break;
      }
      default: break;
    }
  });
}

void cast(const void* src, DType src_dtype, void* dst, DType dst_dtype, size_t count) {
  const bool ok = (src_dtype == DType::kF32 && (dst_dtype == DType::kF16 || dst_dtype == DType::kBF16)) ||
                  (dst_dtype == DType::kF32 && (src_dtype == DType::kF16 || src_dtype == DType::kBF16));
  QK_FAIL_IF(!ok, kInvalidArgument, "cast supports f32 <-> f16/bf16, not %s -> %s", dtype_name(src_dtype),
             dtype_name(dst_dtype));
  if (count == 0) return;
  const QuantizeKernels& k = quantize_kernels();
  const float* f = static_cast<const float*>(src);
  if (dst_dtype == DType::kF16) k.f32_to_f16(f, count, static_cast<uint16_t*>(dst));
  else if (dst_dtype == DType::kBF16) k.f32_to_bf16(f, count, static_cast<uint16_t*>(dst));
  else if (src_dtype == DType::kF16) k.f16_to_f32(static_cast<const uint16_t*>(src), count, static_cast<float*>(dst));
  else k.bf16_to_f32(static_cast<const uint16_t*>(src), count, static_cast<float*>(dst));
}

}  // namespace qk
