// SPDX-License-Identifier: Apache-2.0
// The .qkw reader: validates the header and the whole table at open (docs/FORMAT.md, in the
// order given there), then serves tensors from the mapped or borrowed bytes. Immutable after
// open except for the lazy-verification flags, which are atomics: safe to share between threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/qparams.h"
#include "format/codec.h"

namespace qk {
namespace qkw {

enum class Verify : int { kFull = 0, kLazy = 1, kNone = 2 };

class Reader {
 public:
  static std::unique_ptr<Reader> open_file(const std::string& path, Verify mode, uint64_t memory_budget);
  // Borrows [data, data + size): the caller keeps it alive and unchanged until the reader dies.
  static std::unique_ptr<Reader> open_memory(const void* data, size_t size, Verify mode, uint64_t memory_budget);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  size_t tensor_count() const { return descs_.size(); }
  const TensorDesc& desc(size_t index) const;
  bool supported(size_t index) const { return desc(index), supported_[index] != 0; }
  // Stream sizes of a supported tensor (kUnsupported otherwise).
  Geometry geometry_of(size_t index) const;
  // Index of `name`; throws kNotFound.
  size_t find(const std::string& name) const;

  void verify_all() const;
  void decode_f32(size_t index, float* dst, size_t dst_count) const;
  void read_codes(size_t index, void* dst, size_t dst_bytes) const;
  void read_params(size_t index, float* dst, size_t dst_count) const;
  QParams qparams(size_t index) const;
  const uint8_t* map_codes(size_t index, size_t* bytes) const;

  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  uint16_t version_major() const { return version_major_; }
  uint16_t version_minor() const { return version_minor_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t file_size() const { return size_; }

 private:
  Reader(const uint8_t* data, size_t size, Verify mode, uint64_t budget);
  void parse();
  void parse_entries(const uint8_t* table, uint64_t table_size);
  void check_padding() const;
  // Checksum + frame headers of a chunk (cached once good in lazy mode; skipped in none).
  void check_chunk(size_t index, bool force) const;
  void check_frames(size_t index) const;
  const uint8_t* chunk(size_t index) const { return data_ + data_offset_ + descs_[index].offset; }
  void require_budget(uint64_t bytes, const char* what) const;

  // Decoded streams of one tensor: pointers into the file for uncompressed chunks, into the
  // owned buffers otherwise. Params are always copied (4-byte alignment is not guaranteed in a
  // caller's buffer).
  struct Streams {
    std::vector<float> params;
    std::vector<uint8_t> owned_codes;
    const uint8_t* codes = nullptr;
  };
  Streams load(size_t index, bool want_codes, float* unshuffle_into = nullptr) const;

  const uint8_t* data_;
  size_t size_;
  void* map_ = nullptr;
  Verify mode_;
  uint64_t budget_;
  uint16_t version_major_ = 0, version_minor_ = 0;
  uint32_t alignment_ = 0;
  uint64_t table_size_ = 0, data_offset_ = 0;
  std::vector<TensorDesc> descs_;
  std::vector<Geometry> geometries_;
  std::vector<uint8_t> supported_;
  std::unique_ptr<std::atomic<uint8_t>[]> verified_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

}  // namespace qkw
}  // namespace qk
