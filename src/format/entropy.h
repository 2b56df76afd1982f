// SPDX-License-Identifier: Apache-2.0
// The entropy stage of docs/FORMAT.md: one zstd frame per stream with a declared content size,
// no dictionary and no zstd checksum (the entry's XXH64 covers the stored bytes), and the
// byte-shuffle filter that groups float bytes by position before compression.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qk {
namespace qkw {

// One zstd frame of `size` bytes at `level` (1..22), content size declared.
std::vector<uint8_t> zstd_compress(const uint8_t* src, size_t size, int level);

// Checks that [frame, frame + frame_size) is exactly one standard zstd frame declaring
// `content_size` bytes and no dictionary. Throws kCorrupt; `what` names the stream.
void check_zstd_frame(const uint8_t* frame, size_t frame_size, uint64_t content_size, const char* tensor,
                      const char* what);

// Decompresses a checked frame into exactly `size` bytes. Throws kCorrupt.
void zstd_decompress(const uint8_t* frame, size_t frame_size, uint8_t* dst, size_t size, const char* tensor,
                     const char* what);

// out[b*n + i] = in[i*width + b] for n elements of `width` bytes, and its inverse.
void byte_shuffle(const uint8_t* in, size_t n, size_t width, uint8_t* out);
void byte_unshuffle(const uint8_t* in, size_t n, size_t width, uint8_t* out);

}  // namespace qkw
}  // namespace qk
