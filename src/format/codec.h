// SPDX-License-Identifier: Apache-2.0
// What each .qkw codec stores and how it decodes (docs/FORMAT.md, "Codecs"): the geometry of a
// tensor's params and code streams, the checks on their contents, and decoding to f32. The
// writer and the reader share these definitions, so they cannot disagree about a size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/shape.h"
#include "format/layout.h"

namespace qk {
namespace qkw {

// One tensor's table entry, decoded from or destined for its 96 bytes.
struct TensorDesc {
  std::string name;
  Shape shape;            // rank = ndim, dims, count (1 for a scalar)
  uint8_t codec = kRaw;
  uint8_t dtype = kF32;
  uint8_t entropy = kEntropyNone;
  uint8_t filter = kFilterNone;
  int32_t axis = -1;
  int32_t levels = 0;
  int64_t group_size = 0;
  uint64_t offset = 0;             // relative to data_offset
  uint64_t stored_size = 0;
  uint64_t decoded_size = 0;
  uint64_t params_stored_size = 0;
  uint64_t xxh64 = 0;
  double sqnr_db = 0.0;
  double max_abs_error = 0.0;
};

// Sizes a codec implies for a tensor's shape and parameters.
struct Geometry {
  uint64_t param_count = 0;  // f32 values in the params stream
  uint64_t code_bytes = 0;   // bytes of the code stream
  uint64_t decoded_size() const { return 4 * param_count + code_bytes; }
};

// True if this version can decode the entry's codec/dtype/entropy/filter ids at all.
bool is_supported(const TensorDesc& d);

// Checks that the (known) codec's parameters fit the shape and returns the stream sizes.
// Throws `status` (kCorrupt for a file, kInvalidArgument for a writer) naming the rule broken.
Geometry geometry(const TensorDesc& d, Status status);

// Bits a code needs (informative: qk_qkw_tensor_info.bits).
int32_t code_bits(const TensorDesc& d);

// Checks the decoded params and codes (finite positive scales, finite palettes and ggml scales,
// codes within range; skipped when `codes` is NULL). Throws kCorrupt. Run before writing
// anything to a caller's buffer.
void check_contents(const TensorDesc& d, const Geometry& g, const float* params, const uint8_t* codes);

// Decodes checked params + codes into dst (count floats). `params` must be 4-byte aligned;
// `codes` may have any alignment.
void decode_f32(const TensorDesc& d, const Geometry& g, const float* params, const uint8_t* codes, float* dst);

// Calls fn(start, length, param_index) for each run of elements sharing one scale (per-channel
// or per-group along d.axis; one run for per-tensor codecs).
template <typename Fn>
void for_each_scale_run(const TensorDesc& d, Fn&& fn);

}  // namespace qkw
}  // namespace qk

#include "format/codec_runs.h"
