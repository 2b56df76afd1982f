// SPDX-License-Identifier: Apache-2.0
// Encoders: f32 tensors (or exact data) to the params + codes streams of a .qkw codec, and the
// error-budget search. Each returns the entry fields it determines plus the two streams; the
// writer adds the entropy stage and the placement.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/qparams.h"
#include "format/codec.h"

namespace qk {
namespace qkw {

struct Encoded {
  TensorDesc desc;            // name, shape, codec fields, sqnr_db, max_abs_error
  std::vector<float> params;  // params stream
  std::vector<uint8_t> codes; // code stream
};

// RAW from f32: dtype kF32 (bit-exact), kF16 or kBF16 (round to nearest even).
Encoded encode_raw_f32(const Shape& shape, const float* data, uint8_t dtype);
// RAW of data stored bit for bit (any file dtype).
Encoded encode_raw_exact(const Shape& shape, const void* data, size_t bytes, uint8_t dtype);
// SYMMETRIC per channel (group_size 0) or per group along `axis`, step = max|x| / step_levels
// per channel/group (step_levels in (0, 127]; 2^(bits-1)-1 for whole bits).
Encoded encode_symmetric(const Shape& shape, const float* data, int32_t axis, int64_t group_size, double step_levels);
// AFFINE with PyTorch min/max qparams (dtype kU8/kS8; axis -1 per tensor).
Encoded encode_affine(const Shape& shape, const float* data, uint8_t dtype, int32_t axis);
// AFFINE_OFFSET: scale = (max - min) / 255, offset = min, codes round((x - min) / scale).
Encoded encode_affine_offset(const Shape& shape, const float* data, int32_t axis);
// ggml Q8_0 / Q4_0 blocks.
Encoded encode_ggml(const Shape& shape, const float* data, uint8_t codec);
// LUT of at most 2^bits entries by 1-D k-means (deterministic).
Encoded encode_lut(const Shape& shape, const float* data, int32_t bits);
// Codes already quantized with `qp` (see qk_qkw_writer_add_quantized).
Encoded encode_quantized(const Shape& shape, const void* codes, size_t codes_bytes, const QParams& qp);

// Decodes `e` and stores its error against `source` in e.desc.
void measure(Encoded& e, const float* source);

// The error-budget search of qk_qkw_writer_add_budget.
Encoded encode_budget(const Shape& shape, const float* data, double target_sqnr_db, int32_t max_bits,
                      uint64_t small_tensor_threshold, uint8_t small_tensor_dtype);

}  // namespace qkw
}  // namespace qk
