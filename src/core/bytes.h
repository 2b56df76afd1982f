// SPDX-License-Identifier: Apache-2.0
// Little-endian byte writer/reader for serialized state. The reader never reads past the end:
// running out of bytes throws kCorrupt.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"

namespace qk {

class ByteWriter {
 public:
  void u8(uint8_t v) { bytes_.push_back(v); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f32(float v) { uint32_t u; std::memcpy(&u, &v, 4); u32(u); }
  void f64(double v) { uint64_t u; std::memcpy(&u, &v, 8); u64(u); }
  void raw(const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> bytes_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t u8() { return static_cast<uint8_t>(get(1)); }
  uint32_t u32() { return static_cast<uint32_t>(get(4)); }
  uint64_t u64() { return get(8); }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  float f32() { uint32_t u = u32(); float v; std::memcpy(&v, &u, 4); return v; }
  double f64() { uint64_t u = u64(); double v; std::memcpy(&v, &u, 8); return v; }
  // Reads a count that must be at most `limit` and whose elements (elem_size bytes each) fit in
  // the remaining bytes: hostile counts fail before anything is allocated.
  uint64_t count(uint64_t limit, size_t elem_size, const char* what) {
    const uint64_t n = u64();
    QK_FAIL_IF(n > limit, kCorrupt, "%s count %llu exceeds the limit %llu", what, (unsigned long long)n,
               (unsigned long long)limit);
    QK_FAIL_IF(elem_size != 0 && n > remaining() / elem_size, kCorrupt, "%s count %llu exceeds the data left", what,
               (unsigned long long)n);
    return n;
  }
  size_t remaining() const { return size_ - pos_; }
  size_t position() const { return pos_; }

 private:
  uint64_t get(int n) {
    QK_FAIL_IF(remaining() < static_cast<size_t>(n), kCorrupt, "serialized data is truncated at byte %zu", pos_);
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace qk
