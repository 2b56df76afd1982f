// SPDX-License-Identifier: Apache-2.0
// The scalar int8 GEMM family: portable C++, the specification every SIMD family matches bit for
// bit, and the fallback when no SIMD family is built. 4x8 tiles, one depth at a time (kr = 1):
// the micro-kernel is a rank-1 update of a 4x8 int32 block per depth, a loop shape compilers
// vectorize on their own (about 4x faster than a k-grouped dot-product loop at -O3 here).
#include <cstring>

#include "kernels/gemm/qgemm_kernel.h"

namespace qk {
namespace {

constexpr size_t kMr = 4;
constexpr size_t kNr = 8;
constexpr size_t kKr = 1;

// Panel: k rows of nr bytes (the nr columns' values at one depth are adjacent); columns past n
// are zero.
size_t b_panel_stride(size_t k) { return k * kNr; }

void pack_b(const int8_t* b, size_t n, size_t k, size_t ldb, void* packed_b) {
  int8_t* out = static_cast<int8_t*>(packed_b);
  for (size_t n0 = 0; n0 < n; n0 += kNr) {
    for (size_t depth = 0; depth < k; ++depth) {
      for (size_t j = 0; j < kNr; ++j) *out++ = n0 + j < n ? b[(n0 + j) * ldb + depth] : int8_t(0);
    }
  }
}

// Tile: k rows of mr bytes (the mr rows' values at one depth are adjacent); rows past m are zero.
size_t a_tile_size(size_t k) { return k * kMr; }

void pack_a(const uint8_t* a, size_t m, size_t k, size_t lda, uint8_t xor_mask, void* packed_a) {
  uint8_t* out = static_cast<uint8_t*>(packed_a);
  for (size_t depth = 0; depth < k; ++depth) {
    for (size_t i = 0; i < kMr; ++i) *out++ = i < m ? static_cast<uint8_t>(a[i * lda + depth] ^ xor_mask) : uint8_t(0);
  }
}

// Plain int32 multiply-adds: every product fits in 16 bits and the sum of at most 65536 of them
// in int32 (qgemm_kernel.h note 2), so nothing here can overflow.
void ukernel(size_t k, const void* packed_a, const void* packed_b_panel, int32_t* c, size_t ldc) {
  const uint8_t* a = static_cast<const uint8_t*>(packed_a);
  const int8_t* b = static_cast<const int8_t*>(packed_b_panel);
  int32_t acc[kMr][kNr] = {};
  for (size_t depth = 0; depth < k; ++depth) {
    for (size_t i = 0; i < kMr; ++i) {
      const int32_t ai = a[i];
      for (size_t j = 0; j < kNr; ++j) acc[i][j] += ai * int32_t(b[j]);
    }
    a += kMr;
    b += kNr;
  }
  for (size_t i = 0; i < kMr; ++i) std::memcpy(c + i * ldc, acc[i], sizeof(acc[i]));
}

}  // namespace

void get_qgemm_kernel__scalar(QGemmKernel* k) {
  QGemmKernel t;
  t.isa = "scalar";
  t.mr = kMr;
  t.nr = kNr;
  t.kr = kKr;
  t.b_panel_stride = b_panel_stride;
  t.pack_b = pack_b;
  t.a_tile_size = a_tile_size;
  t.pack_a = pack_a;
  t.ukernel = ukernel;
  t.epilogue = nullptr;  // gemm_epilogue_scalar
  *k = t;
}

}  // namespace qk
