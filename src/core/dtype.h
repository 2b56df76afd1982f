// SPDX-License-Identifier: Apache-2.0
// Element types and their integer ranges. Values mirror qk_dtype.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qk {

enum class DType : int { kF32 = 1, kF16 = 2, kBF16 = 3, kS8 = 4, kU8 = 5, kS4 = 6, kU4 = 7, kS32 = 8, kS64 = 9, kBool = 10 };
// kS64 is storage-only (the weight file) and kBool exists for graph values (one byte, 0 or 1):
// is_valid_dtype() rejects both so that no tensor API takes them.

bool is_valid_dtype(int value);
const char* dtype_name(DType dtype);
// True for the integer types a tensor can be quantized to (s8, u8, s4, u4, s32).
bool is_quantized_dtype(DType dtype);
bool is_signed_quantized(DType dtype);
// Full representable range of an integer dtype.
void dtype_range(DType dtype, int32_t* lo, int32_t* hi);
// Bytes for `count` elements; 4-bit types pack two per byte. Throws on overflow.
size_t storage_size(DType dtype, uint64_t count);

}  // namespace qk
