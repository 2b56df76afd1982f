// SPDX-License-Identifier: Apache-2.0
#include "core/dtype.h"

#include <limits>

#include "core/error.h"

namespace qk {

bool is_valid_dtype(int value) { return value >= 1 && value <= 8; }

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kS8: return "s8";
    case DType::kU8: return "u8";
    case DType::kS4: return "s4";
    case DType::kU4: return "u4";
    case DType::kS32: return "s32";
    case DType::kS64: return "s64";
    case DType::kBool: return "bool";
  }
  return "unknown";
}

bool is_quantized_dtype(DType dtype) {
  return dtype == DType::kS8 || dtype == DType::kU8 || dtype == DType::kS4 || dtype == DType::kU4 ||
         dtype == DType::kS32;
}

bool is_signed_quantized(DType dtype) {
  return dtype == DType::kS8 || dtype == DType::kS4 || dtype == DType::kS32;
}

void dtype_range(DType dtype, int32_t* lo, int32_t* hi) {
  switch (dtype) {
    case DType::kS8: *lo = -128; *hi = 127; return;
    case DType::kU8: *lo = 0; *hi = 255; return;
    case DType::kS4: *lo = -8; *hi = 7; return;
    case DType::kU4: *lo = 0; *hi = 15; return;
    case DType::kS32: *lo = std::numeric_limits<int32_t>::min(); *hi = std::numeric_limits<int32_t>::max(); return;
    default: break;
  }
  fail(Status::kInvalidArgument, "dtype %s has no integer range", dtype_name(dtype));
}

size_t storage_size(DType dtype, uint64_t count) {
  uint64_t bytes = 0;
  const uint64_t limit = std::numeric_limits<size_t>::max() / 8;
  QK_FAIL_IF(count > limit, kInvalidArgument, "element count %llu is too large", (unsigned long long)count);
  switch (dtype) {
    case DType::kS64: bytes = count * 8; break;
    case DType::kF32: case DType::kS32: bytes = count * 4; break;
    case DType::kF16: case DType::kBF16: bytes = count * 2; break;
    case DType::kS8: case DType::kU8: case DType::kBool: bytes = count; break;
    case DType::kS4: case DType::kU4: bytes = count / 2 + (count & 1); break;
  }
  return static_cast<size_t>(bytes);
}

}  // namespace qk
