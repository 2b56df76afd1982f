// SPDX-License-Identifier: Apache-2.0
#include "format/encode.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "core/metrics.h"
#include "core/quantize.h"

namespace qk {
namespace qkw {
namespace {

Encoded start(const Shape& shape, uint8_t codec, uint8_t dtype) {
  Encoded e;
  e.desc.shape = shape;
  e.desc.codec = codec;
  e.desc.dtype = dtype;
  return e;
}

void require_finite(const float* data, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i)
    QK_FAIL_IF(!std::isfinite(data[i]), kInvalidArgument,
               "data[%llu] is not finite (lossy codecs need finite values; RAW F32 stores anything)",
               (unsigned long long)i);
}

// Largest |x| of each scale run (the runs of for_each_scale_run for this desc).
std::vector<float> run_absmax(const TensorDesc& d, uint64_t runs, const float* data) {
  std::vector<float> amax(runs, 0.0f);
  for_each_scale_run(d, [&](uint64_t start, uint64_t len, uint64_t p) {
    float m = amax[p];
    for (uint64_t i = start; i < start + len; ++i) m = std::max(m, std::fabs(data[i]));
    amax[p] = m;
  });
  return amax;
}

float round_even(float v) { return std::nearbyint(v); }  // default rounding mode: half to even

}  // namespace

Encoded encode_raw_f32(const Shape& shape, const float* data, uint8_t dtype) {
  Encoded e = start(shape, kRaw, dtype);
  const uint64_t n = shape.count;
  switch (dtype) {
    case kF32:
      e.codes.resize(n * 4);
      if (n) std::memcpy(e.codes.data(), data, n * 4);
      break;
    case kF16:
    case kBF16:
      require_finite(data, n);  // the error would be undefined; RAW F32 keeps any bit pattern
      e.codes.resize(n * 2);
      for (uint64_t i = 0; i < n; ++i) {
        const uint16_t h = dtype == kF16 ? f32_to_f16_bits(data[i]) : f32_to_bf16_bits(data[i]);
        QK_FAIL_IF((h & 0x7FFF) == (dtype == kF16 ? 0x7C00 : 0x7F80), kInvalidArgument,
                   "data[%llu] = %g overflows %s", (unsigned long long)i, data[i], dtype == kF16 ? "f16 (max 65504)" : "bf16");
        store_u16(&e.codes[2 * i], h);
      }
      break;
    default: fail(Status::kInvalidArgument, "RAW from f32 takes dtype F32, F16 or BF16");
  }
  return e;
}

Encoded encode_raw_exact(const Shape& shape, const void* data, size_t bytes, uint8_t dtype) {
  const size_t width = file_dtype_size(dtype);
  QK_FAIL_IF(width == 0, kInvalidArgument, "dtype %u cannot be stored raw (F32, F16, BF16, S8, U8, S32, S64)",
             dtype);
  QK_FAIL_IF(shape.count > SIZE_MAX / width || bytes != shape.count * width, kInvalidArgument,
             "bytes %zu != %llu elements x %zu", bytes, (unsigned long long)shape.count, width);
  Encoded e = start(shape, kRaw, dtype);
  e.codes.resize(bytes);
  if (bytes) std::memcpy(e.codes.data(), data, bytes);
  return e;
}

namespace {

// SYMMETRIC codes for given per-channel/per-group scales, clamped to [-cap, cap].
Encoded symmetric_with_scales(Encoded e, const float* data, std::vector<float> scales, int cap) {
  e.params = std::move(scales);
  e.codes.resize(e.desc.shape.count);
  int used = 1;
  for_each_scale_run(e.desc, [&](uint64_t start, uint64_t len, uint64_t p) {
    const float inv = 1.0f / e.params[p];
    for (uint64_t i = start; i < start + len; ++i) {
      const float q = std::min(std::max(round_even(data[i] * inv), static_cast<float>(-cap)), static_cast<float>(cap));
      const int c = static_cast<int>(q);
      used = std::max(used, std::abs(c));
      e.codes[i] = static_cast<uint8_t>(static_cast<int8_t>(c));
    }
  });
  e.desc.levels = used;
  return e;
}

// A usable scale: all-zero runs get 1 (exact), denormal scales (whose reciprocal overflows) FLT_MIN.
float usable_scale(float s, float amax) {
  if (amax == 0.0f) return 1.0f;
  return s >= FLT_MIN ? s : FLT_MIN;
}

struct SymmetricPlan {
  Encoded skeleton;         // desc with shape/axis/group, no streams yet
  std::vector<float> amax;  // per channel or group
};

SymmetricPlan plan_symmetric(const Shape& shape, const float* data, int32_t axis, int64_t group_size) {
  require_finite(data, shape.count);
  SymmetricPlan plan{start(shape, kSymmetric, kS8), {}};
  plan.skeleton.desc.axis = axis;
  plan.skeleton.desc.group_size = group_size;
  plan.skeleton.desc.levels = 127;  // provisional, for the geometry
  const Geometry g = geometry(plan.skeleton.desc, Status::kInvalidArgument);
  plan.amax = run_absmax(plan.skeleton.desc, g.param_count, data);
  return plan;
}

}  // namespace

Encoded encode_symmetric(const Shape& shape, const float* data, int32_t axis, int64_t group_size, double step_levels) {
  QK_FAIL_IF(!(step_levels > 0.0 && step_levels <= 127.0), kInvalidArgument, "levels %g not in (0, 127]", step_levels);
  SymmetricPlan plan = plan_symmetric(shape, data, axis, group_size);
  const float L = static_cast<float>(step_levels);
  std::vector<float> scales(plan.amax.size());
  for (size_t p = 0; p < scales.size(); ++p) scales[p] = usable_scale(plan.amax[p] / L, plan.amax[p]);
  return symmetric_with_scales(std::move(plan.skeleton), data, std::move(scales),
                               std::min(127, static_cast<int>(std::ceil(step_levels))));
}

Encoded encode_affine(const Shape& shape, const float* data, uint8_t dtype, int32_t axis) {
  QK_FAIL_IF(dtype != kU8 && dtype != kS8, kInvalidArgument, "AFFINE takes dtype U8 or S8");
  require_finite(data, shape.count);
  Encoded e = start(shape, kAffine, dtype);
  e.desc.axis = axis;
  const Geometry g = geometry(e.desc, Status::kInvalidArgument);
  const uint64_t C = g.param_count / 2;
  e.params.assign(2 * C, 0.0f);
  e.codes.resize(shape.count);
  if (shape.count == 0) {
    std::fill(e.params.begin(), e.params.begin() + C, 1.0f);
    return e;
  }
  // PyTorch's MinMax observer qparams and quantize rule, exactly (the foundation's code).
  QuantSpec spec = QuantSpec::make(static_cast<DType>(dtype),
                                   axis < 0 ? QScheme::kPerTensorAffine : QScheme::kPerChannelAffine);
  spec.axis = axis < 0 ? 0 : axis;
  uint64_t nonfinite = 0;
  const QParams qp = qparams_from_tensor(spec, data, shape, &nonfinite);
  quantize(qp, data, shape, e.codes.data(), e.codes.size());
  for (uint64_t c = 0; c < C; ++c) {
    e.params[c] = qp.scales[c];
    e.params[C + c] = static_cast<float>(qp.zero_points[c]);
  }
  return e;
}

Encoded encode_affine_offset(const Shape& shape, const float* data, int32_t axis) {
  require_finite(data, shape.count);
  Encoded e = start(shape, kAffineOffset, kU8);
  e.desc.axis = axis;
  const Geometry g = geometry(e.desc, Status::kInvalidArgument);
  const uint64_t C = g.param_count / 2;
  std::vector<float> lo(C, INFINITY), hi(C, -INFINITY);
  for_each_scale_run(e.desc, [&](uint64_t start, uint64_t len, uint64_t p) {
    for (uint64_t i = start; i < start + len; ++i) {
      lo[p] = std::min(lo[p], data[i]);
      hi[p] = std::max(hi[p], data[i]);
    }
  });
  e.params.assign(2 * C, 0.0f);
  for (uint64_t c = 0; c < C; ++c) {
    if (!(lo[c] <= hi[c])) lo[c] = hi[c] = 0.0f;  // an empty channel
    e.params[c] = (hi[c] - lo[c]) / 255.0f;
    e.params[C + c] = lo[c];
    QK_FAIL_IF(!std::isfinite(e.params[c]), kInvalidArgument, "the range of channel %llu overflows float",
               (unsigned long long)c);
  }
  e.codes.resize(shape.count);
  for_each_scale_run(e.desc, [&](uint64_t start, uint64_t len, uint64_t p) {
    const float s = e.params[p], off = e.params[C + p];
    for (uint64_t i = start; i < start + len; ++i) {
      const float q = s > 0.0f ? round_even((data[i] - off) / s) : 0.0f;
      e.codes[i] = static_cast<uint8_t>(std::min(std::max(q, 0.0f), 255.0f));
    }
  });
  return e;
}

Encoded encode_ggml(const Shape& shape, const float* data, uint8_t codec) {
  require_finite(data, shape.count);
  Encoded e = start(shape, codec, kS8);
  e.desc.axis = static_cast<int32_t>(shape.rank) - 1;
  e.desc.group_size = static_cast<int64_t>(kGgmlBlock);
  const Geometry g = geometry(e.desc, Status::kInvalidArgument);
  e.codes.assign(g.code_bytes, 0);
  const uint64_t blocks = shape.count / kGgmlBlock;
  for (uint64_t b = 0; b < blocks; ++b) {
    const float* x = data + b * kGgmlBlock;
    if (codec == kGgmlQ8_0) {
      uint8_t* blk = &e.codes[b * kQ8_0BlockBytes];
      float amax = 0.0f;
      for (size_t j = 0; j < kGgmlBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
      const float d = amax / 127.0f;
      const float id = d > 0.0f ? 1.0f / d : 0.0f;
      store_u16(blk, f32_to_f16_bits(d));
      for (size_t j = 0; j < kGgmlBlock; ++j)
        blk[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::min(127.0f, std::max(-127.0f, round_even(x[j] * id)))));
    } else {
      // ggml's Q4_0 rule: d = (the value of largest magnitude) / -8, q = floor(x/d + 8.5) in [0, 15].
      uint8_t* blk = &e.codes[b * kQ4_0BlockBytes];
      float amax = 0.0f, vmax = 0.0f;
      for (size_t j = 0; j < kGgmlBlock; ++j)
        if (std::fabs(x[j]) > amax) {
          amax = std::fabs(x[j]);
          vmax = x[j];
        }
      const float d = vmax / -8.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      store_u16(blk, f32_to_f16_bits(d));
      for (size_t j = 0; j < kGgmlBlock / 2; ++j) {
        const int q0 = static_cast<int>(std::min(15.0f, std::max(0.0f, std::floor(x[j] * id + 8.5f))));
        const int q1 = static_cast<int>(std::min(15.0f, std::max(0.0f, std::floor(x[j + 16] * id + 8.5f))));
        blk[2 + j] = static_cast<uint8_t>(q0 | (q1 << 4));
      }
    }
  }
  return e;
}

Encoded encode_lut(const Shape& shape, const float* data, int32_t bits) {
  QK_FAIL_IF(bits < 1 || bits > 8, kInvalidArgument, "LUT bits %d not in [1, 8]", bits);
  require_finite(data, shape.count);
  Encoded e = start(shape, kLut, kU8);
  const uint64_t n = shape.count;
  std::vector<float> sorted(data, data + n);
  std::sort(sorted.begin(), sorted.end());
  std::vector<float> distinct;
  for (uint64_t i = 0; i < n; ++i)
    if (distinct.empty() || sorted[i] != distinct.back()) distinct.push_back(sorted[i]);
  const size_t K = size_t(1) << bits;
  std::vector<float> lut;
  if (distinct.size() <= K) {
    lut = distinct;  // every value gets its own entry: lossless
    if (lut.empty()) lut.push_back(0.0f);
  } else {
    // 1-D k-means (Lloyd) on the sorted values, initialised at the quantiles. On sorted data
    // each cluster is a contiguous range, so an iteration is one sweep.
    std::vector<double> c(K);
    for (size_t k = 0; k < K; ++k) c[k] = sorted[((2 * k + 1) * n) / (2 * K)];
    std::vector<uint64_t> bound(K + 1);  // cluster k = sorted[bound[k], bound[k+1])
    for (int iter = 0; iter < 50; ++iter) {
      bound[0] = 0;
      bound[K] = n;
      uint64_t i = 0;
      for (size_t k = 0; k + 1 < K; ++k) {
        const double mid = 0.5 * (c[k] + c[k + 1]);
        while (i < n && sorted[i] <= mid) ++i;
        bound[k + 1] = i;
      }
      bool changed = false;
      for (size_t k = 0; k < K; ++k) {
        if (bound[k + 1] == bound[k]) continue;  // empty cluster keeps its centre
        double sum = 0.0;
        for (uint64_t j = bound[k]; j < bound[k + 1]; ++j) sum += sorted[j];
        const double m = sum / static_cast<double>(bound[k + 1] - bound[k]);
        changed |= m != c[k];
        c[k] = m;
      }
      std::sort(c.begin(), c.end());
      if (!changed) break;
    }
    for (size_t k = 0; k < K; ++k) {
      const float v = static_cast<float>(c[k]);
      if (lut.empty() || v != lut.back()) lut.push_back(v);
    }
  }
  e.desc.levels = static_cast<int32_t>(lut.size());
  e.params = lut;
  e.codes.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    // Nearest entry (ties to the lower one): the first entry >= x, or its left neighbour.
    const float x = data[i];
    size_t k = static_cast<size_t>(std::lower_bound(lut.begin(), lut.end(), x) - lut.begin());
    if (k == lut.size()) k = lut.size() - 1;
    else if (k > 0 && (x - lut[k - 1]) <= (lut[k] - x)) k = k - 1;
    e.codes[i] = static_cast<uint8_t>(k);
  }
  return e;
}

Encoded encode_quantized(const Shape& shape, const void* codes, size_t codes_bytes, const QParams& qp) {
  qp.validate();
  const bool four_bit = qp.dtype == DType::kS4 || qp.dtype == DType::kU4;
  QK_FAIL_IF(!(qp.dtype == DType::kS8 || qp.dtype == DType::kU8 || four_bit), kInvalidArgument,
             "only s8, u8, s4 and u4 codes can be stored (got %s)", dtype_name(qp.dtype));
  QK_FAIL_IF(codes_bytes != storage_size(qp.dtype, shape.count), kInvalidArgument,
             "codes_bytes %zu != %zu for %llu %s elements", codes_bytes, storage_size(qp.dtype, shape.count),
             (unsigned long long)shape.count, dtype_name(qp.dtype));
  QK_FAIL_IF(qp.expected_count(shape) != qp.count(), kInvalidArgument,
             "the qparams have %zu scales, the shape needs %llu", qp.count(), (unsigned long long)qp.expected_count(shape));
  const bool is_signed = qp.dtype == DType::kS8 || qp.dtype == DType::kS4;
  // One code per byte (sub-byte codes compress better unpacked; FORMAT.md stores them so).
  std::vector<uint8_t> bytes(shape.count);
  const uint8_t* src = static_cast<const uint8_t*>(codes);
  for (uint64_t i = 0; i < shape.count; ++i) {
    if (!four_bit) {
      bytes[i] = src[i];
      continue;
    }
    const int nib = (src[i / 2] >> (4 * (i & 1))) & 0xF;
    bytes[i] = static_cast<uint8_t>(static_cast<int8_t>(is_signed && nib >= 8 ? nib - 16 : nib));
  }
  for (uint64_t i = 0; i < shape.count; ++i) {
    const int c = is_signed ? static_cast<int8_t>(bytes[i]) : bytes[i];
    QK_FAIL_IF(c < qp.quant_min || c > qp.quant_max, kInvalidArgument, "code %llu = %d lies outside [%d, %d]",
               (unsigned long long)i, c, qp.quant_min, qp.quant_max);
  }
  const bool per_tensor = is_per_tensor(qp.scheme);
  const int32_t axis = per_tensor ? -1 : static_cast<int32_t>(shape.normalize_axis(qp.axis, "qparams axis"));
  const int32_t levels = std::max(-qp.quant_min, qp.quant_max);
  const bool zero_zps = std::all_of(qp.zero_points.begin(), qp.zero_points.end(), [](int32_t z) { return z == 0; });
  Encoded e;
  if (is_symmetric(qp.scheme) && !per_tensor && is_signed && zero_zps && levels <= 127) {
    e = start(shape, kSymmetric, kS8);
    e.desc.axis = axis;
    e.desc.levels = std::max(levels, 1);
    e.desc.group_size = qp.scheme == QScheme::kPerGroupSymmetric ? qp.group_size : 0;
    e.params = qp.scales;
  } else {
    QK_FAIL_IF(qp.scheme == QScheme::kPerGroupSymmetric, kInvalidArgument,
               "per-group codes need zero points 0 and a range within [-127, 127]");
    e = start(shape, kAffine, is_signed ? kS8 : kU8);
    e.desc.axis = axis;
    const size_t C = qp.count();
    e.params.resize(2 * C);
    for (size_t c = 0; c < C; ++c) {
      e.params[c] = qp.scales[c];
      e.params[C + c] = qp.scheme == QScheme::kPerChannelAffineFloatQParams ? qp.float_zero_points[c]
                                                                            : static_cast<float>(qp.zero_points[c]);
    }
  }
  const Geometry g = geometry(e.desc, Status::kInvalidArgument);
  QK_FAIL_IF(g.param_count != e.params.size(), kInternal, "params count mismatch");
  e.codes = std::move(bytes);
  e.desc.sqnr_db = NAN;
  e.desc.max_abs_error = NAN;
  return e;
}

void measure(Encoded& e, const float* source) {
  const Geometry g = geometry(e.desc, Status::kInternal);
  std::vector<float> decoded(e.desc.shape.count);
  decode_f32(e.desc, g, e.params.data(), e.codes.data(), decoded.data());
  bool exact = true;
  for (uint64_t i = 0; i < e.desc.shape.count && exact; ++i)
    exact = std::memcmp(&decoded[i], &source[i], 4) == 0;
  if (exact) {
    e.desc.sqnr_db = INFINITY;
    e.desc.max_abs_error = 0.0;
    return;
  }
  const ErrorStats st = error_stats(source, decoded.data(), decoded.size());
  e.desc.sqnr_db = st.sqnr_db;
  e.desc.max_abs_error = st.max_abs_error;
}

Encoded encode_budget(const Shape& shape, const float* data, double target_sqnr_db, int32_t max_bits,
                      uint64_t small_tensor_threshold, uint8_t small_tensor_dtype) {
  QK_FAIL_IF(!(target_sqnr_db >= 0.0) || !std::isfinite(target_sqnr_db), kInvalidArgument,
             "target_sqnr_db %g must be finite and >= 0", target_sqnr_db);
  QK_FAIL_IF(max_bits != 0 && (max_bits < 2 || max_bits > 8), kInvalidArgument, "max_bits %d not in [2, 8] (or 0)",
             max_bits);
  QK_FAIL_IF(target_sqnr_db == 0.0 && max_bits == 0, kInvalidArgument, "give a target SQNR, max_bits, or both");
  auto exact = [&]() {
    Encoded e = encode_raw_f32(shape, data, kF32);
    measure(e, data);
    return e;
  };
  if (shape.rank < 2 || shape.count < small_tensor_threshold || shape.count == 0) {
    const bool fits_f16 = std::all_of(data, data + shape.count, [](float v) { return std::fabs(v) <= 65504.0f; });
    if (small_tensor_dtype == kF32 || (small_tensor_dtype == kF16 && !fits_f16)) return exact();
    Encoded e = encode_raw_f32(shape, data, small_tensor_dtype);
    measure(e, data);
    return e;
  }
  require_finite(data, shape.count);
  const int32_t bits = max_bits == 0 ? 8 : max_bits;
  const double cap = static_cast<double>((1 << (bits - 1)) - 1);
  auto at = [&](double levels) {
    Encoded e = encode_symmetric(shape, data, 0, 0, levels);
    measure(e, data);
    return e;
  };
  Encoded best = at(cap);
  if (target_sqnr_db == 0.0) return best;
  if (best.desc.sqnr_db < target_sqnr_db) {
    if (max_bits != 0 && max_bits < 8) return best;  // the bit cap wins over the target
    if (std::all_of(data, data + shape.count, [](float v) { return std::fabs(v) <= 65504.0f; })) {
      Encoded half = encode_raw_f32(shape, data, kF16);
      measure(half, data);
      if (half.desc.sqnr_db >= target_sqnr_db) return half;
    }
    return exact();
  }
  // For a total squared error at the fewest entropy-coded bits, every element should get the
  // same step size (high-rate theory: rate ~ -log(step) per element, error ~ step^2/12). So the
  // search is over one step for the whole tensor, raised where a channel would need more than
  // `cap` levels. Bisection in log space for the largest step that meets the target.
  SymmetricPlan plan = plan_symmetric(shape, data, 0, 0);
  float amax_max = 0.0f;
  for (float a : plan.amax) amax_max = std::max(amax_max, a);
  const int icap = static_cast<int>(cap);
  auto with_step = [&](double step) {
    std::vector<float> scales(plan.amax.size());
    for (size_t p = 0; p < scales.size(); ++p)
      scales[p] = usable_scale(std::max(static_cast<float>(step), plan.amax[p] / static_cast<float>(cap)), plan.amax[p]);
    Encoded e = symmetric_with_scales(plan.skeleton, data, std::move(scales), icap);
    measure(e, data);
    return e;
  };
  double lo = std::log(std::max(static_cast<double>(amax_max) / cap, 1e-30)), hi = std::log(std::max(static_cast<double>(amax_max), 1e-30));
  for (int iter = 0; iter < 30 && hi - lo > 1e-4; ++iter) {
    const double mid = 0.5 * (lo + hi);
    Encoded e = with_step(std::exp(mid));
    if (e.desc.sqnr_db >= target_sqnr_db) {
      lo = mid;
      best = std::move(e);
    } else {
      hi = mid;
    }
  }
  return best;
}

}  // namespace qkw
}  // namespace qk
