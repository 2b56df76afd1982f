// SPDX-License-Identifier: Apache-2.0
// Packing shared by the two vpdpbusd GEMM families, qgemm_avxvnni.cc (nr = 16) and
// qgemm_avx512vnni.cc (nr = 64), which use the same layouts (kr = 4, k zero-padded to a multiple
// of 4):
//   A tile  [k/4][mr][4] u8: one dword = 4 consecutive k of one row (broadcast by the kernel).
//   B panel [k/4][nr][4] s8: one dword per (quad, column), nr columns of a quad contiguous.
// Four consecutive k of one row are contiguous in the source, so both packings copy dwords; only
// a row's last partial quad is assembled bytewise (zero padding).
//
// Plain C++, included only by those two files (and their test-only emulated builds), each
// compiled with its own ISA flags. Everything here has internal linkage on purpose (unnamed
// namespace): with external linkage, the identical inline copies compiled under -mavxvnni and
// under -mavx512* would be merged by the linker into one, and the AVX-VNNI family could end up
// calling code the compiler had free to vectorize with AVX-512 on a CPU that lacks it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace qk {
namespace {
namespace vnni_pack {

constexpr size_t kKr = 4;

inline size_t k_quads(size_t k) { return (k + 3) / 4; }

template <size_t kNr>
size_t b_panel_stride(size_t k) {
  return k_quads(k) * kNr * kKr;
}

template <size_t kMr>
size_t a_tile_size(size_t k) {
  return k_quads(k) * kMr * kKr;
}

// The first min(avail, 4) bytes at p as a little-endian dword (byte t is k = 4q + t), zero above.
inline uint32_t load_quad(const uint8_t* p, size_t avail) {
  uint32_t v = 0;
  std::memcpy(&v, p, std::min<size_t>(avail, 4));
  return v;
}

// QGemmKernel::pack_b for panels of kNr columns: columns past n are zero.
template <size_t kNr>
void pack_b(const int8_t* b, size_t n, size_t k, size_t ldb, void* packed_b) {
  const size_t kq = k_quads(k);
  uint32_t* out = static_cast<uint32_t*>(packed_b);  // one dword per (quad, column)
  for (size_t j0 = 0; j0 < n; j0 += kNr, out += kq * kNr) {
    const size_t cols = std::min(kNr, n - j0);
    for (size_t j = 0; j < kNr; ++j) {
      uint32_t* o = out + j;
      if (j >= cols) {  // columns past n are zero
        for (size_t q = 0; q < kq; ++q) o[q * kNr] = 0;
        continue;
      }
      const uint8_t* row = reinterpret_cast<const uint8_t*>(b + (j0 + j) * ldb);
      for (size_t q = 0; q < kq; ++q) o[q * kNr] = load_quad(row + 4 * q, k - 4 * q);
    }
  }
}

// QGemmKernel::pack_a for tiles of kMr rows: rows m..kMr-1 are zero; xor_mask (0x80 for s8
// activations) is applied to the real bytes only, never to the zero padding.
template <size_t kMr>
void pack_a(const uint8_t* a, size_t m, size_t k, size_t lda, uint8_t xor_mask, void* packed_a) {
  const size_t kq = k_quads(k), full = k / 4;
  uint32_t* out = static_cast<uint32_t*>(packed_a);  // one dword per (quad, row)
  const uint32_t x4 = 0x01010101u * xor_mask;
  for (size_t i = 0; i < kMr; ++i) {
    uint32_t* o = out + i;
    if (i >= m) {  // rows m..mr-1 are zero
      for (size_t q = 0; q < kq; ++q) o[q * kMr] = 0;
      continue;
    }
    const uint8_t* row = a + i * lda;
    for (size_t q = 0; q < full; ++q) o[q * kMr] = load_quad(row + 4 * q, 4) ^ x4;
    if (full < kq) {  // the XOR must not touch the padding bytes: they stay 0
      const size_t rem = k - 4 * full;
      o[full * kMr] = load_quad(row + 4 * full, rem) ^ (x4 & ((1u << (8 * rem)) - 1u));
    }
  }
}

}  // namespace vnni_pack
}  // namespace
}  // namespace qk
