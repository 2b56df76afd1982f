// SPDX-License-Identifier: Apache-2.0
// The .qkw byte layout of docs/FORMAT.md: sizes, offsets, ids and limits, shared by the writer
// and the reader. Nothing here allocates or validates; reader.cc applies the rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace qk {
namespace qkw {

constexpr uint8_t kMagic[8] = {0x89, 'Q', 'K', 'W', '\r', '\n', 0x1A, '\n'};
constexpr uint16_t kVersionMajor = 1;
constexpr uint16_t kVersionMinor = 0;
constexpr uint32_t kKnownRequiredFlags = 0;  // no flag is defined in 1.0

constexpr size_t kHeaderSize = 64;
constexpr size_t kTableHeaderSize = 16;
constexpr size_t kEntrySize = 96;
constexpr size_t kDimSize = 8;
constexpr size_t kMetaRefSize = 16;

// Limits a reader enforces (docs/FORMAT.md) and the writer respects.
constexpr uint32_t kMinAlignment = 16;
constexpr uint32_t kMaxAlignment = 1u << 20;
constexpr uint32_t kDefaultAlignment = 64;
constexpr uint32_t kMaxTensors = 1u << 20;
constexpr uint64_t kMaxTableSize = uint64_t(64) << 20;
constexpr uint32_t kMaxNameLength = 1024;
constexpr uint32_t kMaxMetaCount = 4096;
constexpr uint32_t kMaxKeyLength = 256;
constexpr uint32_t kMaxValueLength = 65536;
constexpr unsigned kMaxNdim = 8;
constexpr uint64_t kMaxElements = uint64_t(1) << 48;

// Codec ids (== qk_codec values).
enum Codec : uint8_t {
  kRaw = 0,
  kSymmetric = 1,
  kAffine = 2,
  kAffineOffset = 3,
  kGgmlQ8_0 = 4,
  kGgmlQ4_0 = 5,
  kLut = 6,
};
constexpr uint8_t kCodecCount = 7;

enum Entropy : uint8_t { kEntropyNone = 0, kEntropyZstd = 1 };
constexpr uint8_t kEntropyCount = 2;
enum Filter : uint8_t { kFilterNone = 0, kFilterShuffle = 1 };
constexpr uint8_t kFilterCount = 2;

// dtype ids (== qk_dtype values) that may appear in a file.
enum FileDType : uint8_t { kF32 = 1, kF16 = 2, kBF16 = 3, kS8 = 4, kU8 = 5, kS32 = 8, kS64 = 9 };
// Element size of a file dtype, 0 for ids a file may not use.
inline size_t file_dtype_size(uint8_t dtype) {
  switch (dtype) {
    case kF32: case kS32: return 4;
    case kF16: case kBF16: return 2;
    case kS8: case kU8: return 1;
    case kS64: return 8;
    default: return 0;
  }
}

constexpr size_t kGgmlBlock = 32;
constexpr size_t kQ8_0BlockBytes = 34;  // f16 d + 32 x i8
constexpr size_t kQ4_0BlockBytes = 18;  // f16 d + 16 bytes of nibbles

// Offsets of the file header fields.
namespace hdr {
constexpr size_t kVersionMajor = 8, kVersionMinor = 10, kRequiredFlags = 12, kAlignment = 16, kTensorCount = 20,
                 kTableOffset = 24, kTableSize = 32, kDataOffset = 40, kFileSize = 48, kMetaXxh64 = 56;
}  // namespace hdr

// Offsets of the entry fields.
namespace ent {
constexpr size_t kNameOff = 0, kNameLen = 4, kDimsIndex = 8, kNdim = 12, kCodec = 13, kDType = 14, kEntropy = 15,
                 kFilter = 16, kReserved0 = 17, kAxis = 18, kLevels = 20, kGroupSize = 24, kOffset = 32,
                 kStoredSize = 40, kDecodedSize = 48, kParamsStoredSize = 56, kXxh64 = 64, kSqnr = 72,
                 kMaxAbsError = 80, kReserved1 = 88;
}  // namespace ent

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t load_u64(const uint8_t* p) {
  return static_cast<uint64_t>(load_u32(p)) | (static_cast<uint64_t>(load_u32(p + 4)) << 32);
}
inline double load_f64(const uint8_t* p) {
  const uint64_t u = load_u64(p);
  double d;
  std::memcpy(&d, &u, 8);
  return d;
}
inline void store_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void store_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void store_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void store_f64(uint8_t* p, double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  store_u64(p, u);
}

inline uint64_t align_up(uint64_t x, uint64_t alignment) { return (x + alignment - 1) & ~(alignment - 1); }

}  // namespace qkw
}  // namespace qk
