// SPDX-License-Identifier: Apache-2.0
// The .qkw writer: collects encoded tensors (entropy stage applied as they are added, so errors
// surface at the add call), then lays the file out canonically and writes it atomically.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "format/encode.h"

namespace qk {
namespace qkw {

class Writer {
 public:
  explicit Writer(std::string path);

  void set_alignment(uint32_t alignment);
  void set_zstd_level(int32_t level);
  void set_small_tensor_threshold(uint64_t elements) { small_threshold_ = elements; }
  uint64_t small_tensor_threshold() const { return small_threshold_; }
  void set_small_tensor_dtype(uint8_t dtype);
  uint8_t small_tensor_dtype() const { return small_dtype_; }

  // Checks the name (valid, unused) before the caller spends time encoding.
  void check_name(const std::string& name) const;
  // Adds an encoded tensor under `name`; the writer is unchanged if this throws.
  void add(const std::string& name, Encoded encoded);
  void set_metadata(const std::string& key, const std::string& value);
  // Writes the file (temp + fsync + rename). The writer is finished afterwards, success or not.
  void finish();
  bool finished() const { return finished_; }

 private:
  struct Chunk {
    TensorDesc desc;
    std::vector<uint8_t> stored;
  };
  void require_open() const;
  std::vector<uint8_t> build_table(uint64_t* data_offset) ;

  std::string path_;
  uint32_t alignment_ = kDefaultAlignment;
  int32_t level_ = 19;
  uint64_t small_threshold_ = 1024;
  uint8_t small_dtype_ = kF32;
  bool finished_ = false;
  std::map<std::string, Chunk> chunks_;  // std::string order is byte order: the table's order
  std::map<std::string, std::string> metadata_;
};

}  // namespace qkw
}  // namespace qk
