// SPDX-License-Identifier: Apache-2.0
#include "format/codec.h"

#include <cmath>
#include <cstring>

#include "core/half.h"

namespace qk {
namespace qkw {
namespace {

// Sizes are computed in 64 bits from counts <= 2^48, so only products with an element size
// can approach the limit; this keeps them honest anyway.
uint64_t checked_mul(uint64_t a, uint64_t b, Status status, const char* what) {
  if (a != 0 && b > UINT64_MAX / a) fail(status, "%s overflows 64 bits", what);
  return a * b;
}

bool is_known_file_dtype(uint8_t dtype) { return file_dtype_size(dtype) != 0; }

}  // namespace

bool is_supported(const TensorDesc& d) {
  return d.codec < kCodecCount && is_known_file_dtype(d.dtype) && d.entropy < kEntropyCount &&
         d.filter < kFilterCount;
}

Geometry geometry(const TensorDesc& d, Status st) {
  const Shape& s = d.shape;
  const char* name = d.name.c_str();
  const int64_t ndim = static_cast<int64_t>(s.rank);
  Geometry g;
  auto require = [&](bool ok, const char* rule) {
    if (!ok) fail(st, "tensor '%s' (%s codec): %s", name, d.codec < kCodecCount ? "known" : "unknown", rule);
  };
  auto no_axis_params = [&]() {
    require(d.axis == -1, "axis must be -1");
    require(d.levels == 0, "levels must be 0");
    require(d.group_size == 0, "group_size must be 0");
  };
  auto channel_count = [&]() -> uint64_t {  // AFFINE*: 1 per tensor, else shape[axis]
    require(d.axis >= -1 && d.axis < ndim, "axis out of range");
    require(d.levels == 0, "levels must be 0");
    require(d.group_size == 0, "group_size must be 0");
    return d.axis < 0 ? 1 : static_cast<uint64_t>(s.dims[d.axis]);
  };
  auto ggml = [&](size_t block_bytes) {
    require(ndim >= 1, "ggml blocks need rank >= 1");
    require(s.dims[ndim - 1] % static_cast<int64_t>(kGgmlBlock) == 0, "the last dimension must be a multiple of 32");
    require(d.dtype == kS8, "dtype must be s8");
    require(d.axis == ndim - 1, "axis must be the last dimension");
    require(d.levels == 0, "levels must be 0");
    require(d.group_size == static_cast<int64_t>(kGgmlBlock), "group_size must be 32");
    g.code_bytes = (s.count / kGgmlBlock) * block_bytes;
  };
  switch (d.codec) {
    case kRaw:
      no_axis_params();
      g.code_bytes = checked_mul(s.count, file_dtype_size(d.dtype), st, "code stream size");
      break;
    case kSymmetric: {
      require(d.dtype == kS8, "dtype must be s8");
      require(ndim >= 1, "rank must be >= 1");
      require(d.axis >= 0 && d.axis < ndim, "axis out of range");
      require(d.levels >= 1 && d.levels <= 127, "levels must be in [1, 127]");
      require(d.group_size >= 0, "group_size must be >= 0");
      const uint64_t dim = static_cast<uint64_t>(s.dims[d.axis]);
      if (d.group_size == 0) {
        g.param_count = dim;
      } else if (s.count == 0) {
        g.param_count = 0;
      } else {
        const uint64_t gs = static_cast<uint64_t>(d.group_size);
        g.param_count = (s.count / dim) * (dim / gs + (dim % gs != 0));
      }
      g.code_bytes = s.count;
      break;
    }
    case kAffine:
      require(d.dtype == kU8 || d.dtype == kS8, "dtype must be u8 or s8");
      g.param_count = 2 * channel_count();
      g.code_bytes = s.count;
      break;
    case kAffineOffset:
      require(d.dtype == kU8, "dtype must be u8");
      g.param_count = 2 * channel_count();
      g.code_bytes = s.count;
      break;
    case kGgmlQ8_0: ggml(kQ8_0BlockBytes); break;
    case kGgmlQ4_0: ggml(kQ4_0BlockBytes); break;
    case kLut:
      require(d.dtype == kU8, "dtype must be u8");
      require(d.axis == -1, "axis must be -1");
      require(d.levels >= 1 && d.levels <= 256, "levels must be in [1, 256]");
      require(d.group_size == 0, "group_size must be 0");
      g.param_count = static_cast<uint64_t>(d.levels);
      g.code_bytes = s.count;
      break;
    default:
      fail(Status::kUnsupported, "tensor '%s': codec %u is not known to this version", name, d.codec);
  }
  if (d.filter == kFilterShuffle) {
    require(d.codec == kRaw && file_dtype_size(d.dtype) > 1 && d.entropy == kEntropyZstd,
            "byte-shuffle applies only to compressed raw tensors of multi-byte elements");
  }
  return g;
}

int32_t code_bits(const TensorDesc& d) {
  // Only meaningful for entries whose fields were validated (supported ones); never loop on others.
  if (!is_supported(d) || d.levels < 0 || d.levels > 256) return 0;
  auto bits_for = [](uint64_t values) {
    int32_t b = 0;
    while (b < 63 && (uint64_t(1) << b) < values) ++b;
    return b;
  };
  switch (d.codec) {
    case kRaw: return static_cast<int32_t>(8 * file_dtype_size(d.dtype));
    case kSymmetric: return bits_for(2 * static_cast<uint64_t>(d.levels) + 1);
    case kAffine: case kAffineOffset: case kGgmlQ8_0: return 8;
    case kGgmlQ4_0: return 4;
    case kLut: return bits_for(static_cast<uint64_t>(d.levels));
    default: return 0;
  }
}

void check_contents(const TensorDesc& d, const Geometry& g, const float* params, const uint8_t* codes) {
  const char* name = d.name.c_str();
  const uint64_t P = g.param_count;
  switch (d.codec) {
    case kRaw: return;
    case kSymmetric: {
      for (uint64_t i = 0; i < P; ++i)
        QK_FAIL_IF(!(std::isfinite(params[i]) && params[i] > 0.0f), kCorrupt,
                   "tensor '%s': scale %llu is %g (must be finite and > 0)", name, (unsigned long long)i, params[i]);
      if (!codes) return;
      const int lv = d.levels;
      int bad = 0;
      for (uint64_t i = 0; i < g.code_bytes; ++i) {
        const int c = static_cast<int8_t>(codes[i]);
        bad |= (c < -lv) | (c > lv);
      }
      QK_FAIL_IF(bad, kCorrupt, "tensor '%s': a code lies outside [-%d, %d]", name, lv, lv);
      return;
    }
    case kAffine:
    case kAffineOffset: {
      const uint64_t C = P / 2;
      for (uint64_t i = 0; i < C; ++i) {
        const float s = params[i], z = params[C + i];
        const bool scale_ok = std::isfinite(s) && (d.codec == kAffine ? s > 0.0f : s >= 0.0f);
        QK_FAIL_IF(!scale_ok, kCorrupt, "tensor '%s': scale %llu is %g", name, (unsigned long long)i, s);
        QK_FAIL_IF(!std::isfinite(z), kCorrupt, "tensor '%s': %s %llu is not finite", name,
                   d.codec == kAffine ? "zero point" : "offset", (unsigned long long)i);
      }
      return;
    }
    case kGgmlQ8_0:
    case kGgmlQ4_0: {
      if (!codes) return;
      const size_t bb = d.codec == kGgmlQ8_0 ? kQ8_0BlockBytes : kQ4_0BlockBytes;
      const uint64_t blocks = g.code_bytes / bb;
      for (uint64_t b = 0; b < blocks; ++b) {
        const float s = f16_bits_to_f32(load_u16(codes + b * bb));
        QK_FAIL_IF(!std::isfinite(s), kCorrupt, "tensor '%s': block %llu has a non-finite scale", name,
                   (unsigned long long)b);
      }
      return;
    }
    case kLut: {
      for (uint64_t i = 0; i < P; ++i)
        QK_FAIL_IF(!std::isfinite(params[i]), kCorrupt, "tensor '%s': palette entry %llu is not finite", name,
                   (unsigned long long)i);
      if (!codes) return;
      int bad = 0;
      const int lv = d.levels;
      for (uint64_t i = 0; i < g.code_bytes; ++i) bad |= codes[i] >= lv;
      QK_FAIL_IF(bad, kCorrupt, "tensor '%s': an index is >= the palette size %d", name, lv);
      return;
    }
    default:
      fail(Status::kUnsupported, "tensor '%s': codec %u is not known to this version", name, d.codec);
  }
}

void decode_f32(const TensorDesc& d, const Geometry& g, const float* params, const uint8_t* codes, float* dst) {
  const uint64_t n = d.shape.count;
  switch (d.codec) {
    case kRaw:
      switch (d.dtype) {
        case kF32: if (n) std::memcpy(dst, codes, n * 4); return;
        case kF16: for (uint64_t i = 0; i < n; ++i) dst[i] = f16_bits_to_f32(load_u16(codes + 2 * i)); return;
        case kBF16: for (uint64_t i = 0; i < n; ++i) dst[i] = bf16_bits_to_f32(load_u16(codes + 2 * i)); return;
        case kS8: for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<int8_t>(codes[i])); return;
        case kU8: for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(codes[i]); return;
        case kS32:
          for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<int32_t>(load_u32(codes + 4 * i)));
          return;
        case kS64:
          for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(static_cast<int64_t>(load_u64(codes + 8 * i)));
          return;
      }
      break;
    case kSymmetric: {
      const int8_t* q = reinterpret_cast<const int8_t*>(codes);
      for_each_scale_run(d, [&](uint64_t start, uint64_t len, uint64_t p) {
        const float s = params[p];
        for (uint64_t i = start; i < start + len; ++i) dst[i] = static_cast<float>(q[i]) * s;
      });
      return;
    }
    case kAffine: {
      const uint64_t C = g.param_count / 2;
      const bool is_signed = d.dtype == kS8;
      for_each_scale_run(d, [&](uint64_t start, uint64_t len, uint64_t p) {
        const float s = params[p], z = params[C + p];
        if (is_signed) {
          for (uint64_t i = start; i < start + len; ++i)
            dst[i] = (static_cast<float>(static_cast<int8_t>(codes[i])) - z) * s;
        } else {
          for (uint64_t i = start; i < start + len; ++i) dst[i] = (static_cast<float>(codes[i]) - z) * s;
        }
      });
      return;
    }
    case kAffineOffset: {
      const uint64_t C = g.param_count / 2;
      for_each_scale_run(d, [&](uint64_t start, uint64_t len, uint64_t p) {
        const float s = params[p], off = params[C + p];
        for (uint64_t i = start; i < start + len; ++i) dst[i] = static_cast<float>(codes[i]) * s + off;
      });
      return;
    }
    case kGgmlQ8_0: {
      const uint64_t blocks = n / kGgmlBlock;
      for (uint64_t b = 0; b < blocks; ++b) {
        const uint8_t* blk = codes + b * kQ8_0BlockBytes;
        const float s = f16_bits_to_f32(load_u16(blk));
        float* out = dst + b * kGgmlBlock;
        for (size_t j = 0; j < kGgmlBlock; ++j) out[j] = static_cast<float>(static_cast<int8_t>(blk[2 + j])) * s;
      }
      return;
    }
    case kGgmlQ4_0: {
      const uint64_t blocks = n / kGgmlBlock;
      for (uint64_t b = 0; b < blocks; ++b) {
        const uint8_t* blk = codes + b * kQ4_0BlockBytes;
        const float s = f16_bits_to_f32(load_u16(blk));
        float* out = dst + b * kGgmlBlock;
        for (size_t j = 0; j < kGgmlBlock / 2; ++j) {
          out[j] = static_cast<float>(static_cast<int>(blk[2 + j] & 0x0F) - 8) * s;
          out[j + kGgmlBlock / 2] = static_cast<float>(static_cast<int>(blk[2 + j] >> 4) - 8) * s;
        }
      }
      return;
    }
    case kLut:
      for (uint64_t i = 0; i < n; ++i) dst[i] = params[codes[i]];
      return;
  }
  fail(Status::kUnsupported, "tensor '%s': codec %u is not known to this version", d.name.c_str(), d.codec);
}

}  // namespace qkw
}  // namespace qk
