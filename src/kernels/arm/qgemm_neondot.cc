// SPDX-License-Identifier: Apache-2.0
// AArch64 ARMv8.2 dot product (-march=armv8.2-a+dotprod) GEMM family "neondot", mirrors scalar.
// Bit for bit equal to the scalar family (kernels/gemm/qgemm_scalar.cc); the epilogue is the
// "neon" family's. Without QK_BUILD_NEON and __ARM_FEATURE_DOTPROD this file is a stub
// (have_built_qgemm__neondot() is false, the getter leaves the table empty), and dispatch never
// selects it.
#include "kernels/gemm/qgemm_kernel.h"

#include <cstring>

#if defined(QK_BUILD_NEON) && defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
#define QK_HAVE_QGEMM_NEONDOT_CODE 1
#include <arm_neon.h>
#endif

namespace qk {

#if defined(QK_HAVE_QGEMM_NEONDOT_CODE)
namespace {

// Tile: 8 rows x 8 columns, k in groups of 4 (one SDOT lane). SDOT multiplies s8 x s8 only, so
// A is stored as s8 a' = a - 128 (the byte XOR 0x80 while packing) and
//   sum_k a * b = sum_k a' * b + 128 * sum_k b.
// The second term depends on the column only: pack_b stores 128 * sum_k b per column (mod
// 2^32) at the head of the panel and the kernel starts its accumulators from it, so the
// ukernel still returns exactly sum A_u8 * B_s8 with int32 wrapping, like the scalar spec.
// (|a'|, |b| <= 128: every SDOT lane adds at most 4 * 2^14, far from int32 overflow; and both
// terms are exact mod 2^32, so the identity holds even where the int32 result wraps.)
constexpr size_t kMr = 8;
constexpr size_t kNr = 8;
constexpr size_t kKr = 4;
constexpr size_t kHeader = kNr * sizeof(int32_t);  // the per-column 128 * sum_k b

inline size_t round_up_k(size_t k) { return (k + kKr - 1) / kKr * kKr; }

// ---- packing --------------------------------------------------------------------------------
// Packed B panel: [8 x int32: 128 * sum_k b[col]] then, per group of 4 k, the 8 columns' 4
// bytes: [group][col][4]; k padding and columns past n are zero (and add nothing to the sums).
size_t b_panel_stride(size_t k) { return kHeader + round_up_k(k) * kNr; }

void pack_b(const int8_t* b, size_t n, size_t k, size_t ldb, void* packed_b) {
  uint8_t* panel = static_cast<uint8_t*>(packed_b);
  const size_t kp = round_up_k(k);
  for (size_t j0 = 0; j0 < n; j0 += kNr) {
    const size_t cols = n - j0 < kNr ? n - j0 : kNr;
    uint32_t comp[kNr] = {};
    int8_t* dst = reinterpret_cast<int8_t*>(panel + kHeader);
    std::memset(dst, 0, kp * kNr);
    for (size_t j = 0; j < cols; ++j) {
      const int8_t* src = b + (j0 + j) * ldb;
      uint32_t sum = 0;  // unsigned: wraps instead of overflowing
      for (size_t kk = 0; kk < k; ++kk) {
        dst[(kk / kKr) * kNr * kKr + j * kKr + kk % kKr] = src[kk];
        sum += static_cast<uint32_t>(static_cast<int32_t>(src[kk]));
      }
      comp[j] = sum * 128u;
    }
    std::memcpy(panel, comp, kHeader);  // native (little-endian) int32, read back as bytes
    panel += kHeader + kp * kNr;
  }
}

// Packed A tile: per group of 4 k, the 8 rows' 4 bytes: [group][row][4], stored as s8 (byte XOR
// 0x80 on top of the caller's xor_mask). Rows past m and the k padding hold 0x80, the s8 image
// of u8 0, so padded rows come out as exact zeros like the scalar family's.
size_t a_tile_size(size_t k) { return round_up_k(k) * kMr; }

void pack_a(const uint8_t* a, size_t m, size_t k, size_t lda, uint8_t xor_mask, void* packed_a) {
  uint8_t* dst = static_cast<uint8_t*>(packed_a);
  const uint8_t to_s8 = static_cast<uint8_t>(xor_mask ^ 0x80u);
  // Rows past m read a zero block that does not advance (step 0) and get only the 0x80.
  static const uint8_t kZeros[16] = {};
  const uint8_t* row[kMr];
  size_t step[kMr];
  uint8x16_t mask[kMr];
  for (size_t r = 0; r < kMr; ++r) {
    const bool real = r < m;
    row[r] = real ? a + r * lda : kZeros;
    step[r] = real ? 1 : 0;
    mask[r] = vdupq_n_u8(real ? to_s8 : 0x80);
  }
  size_t kk = 0;
  for (; kk + 16 <= k; kk += 16) {  // 16 k of 8 rows: a 4x4 transpose of 4-byte groups per 4 rows
    uint32x4_t r[kMr];
    for (size_t i = 0; i < kMr; ++i) r[i] = vreinterpretq_u32_u8(veorq_u8(vld1q_u8(row[i] + step[i] * kk), mask[i]));
    for (size_t h = 0; h < 2; ++h) {  // rows 0..4, then 4..8
      const uint32x4_t* q = r + 4 * h;
      const uint64x2_t t0 = vreinterpretq_u64_u32(vtrn1q_u32(q[0], q[1]));  // r0g0 r1g0 r0g2 r1g2
      const uint64x2_t t1 = vreinterpretq_u64_u32(vtrn2q_u32(q[0], q[1]));  // r0g1 r1g1 r0g3 r1g3
      const uint64x2_t t2 = vreinterpretq_u64_u32(vtrn1q_u32(q[2], q[3]));
      const uint64x2_t t3 = vreinterpretq_u64_u32(vtrn2q_u32(q[2], q[3]));
      uint8_t* g = dst + kk * kMr + 16 * h;  // group kk/4, rows 4h..4h+4
      vst1q_u8(g + 0 * 32, vreinterpretq_u8_u64(vtrn1q_u64(t0, t2)));
      vst1q_u8(g + 1 * 32, vreinterpretq_u8_u64(vtrn1q_u64(t1, t3)));
      vst1q_u8(g + 2 * 32, vreinterpretq_u8_u64(vtrn2q_u64(t0, t2)));
      vst1q_u8(g + 3 * 32, vreinterpretq_u8_u64(vtrn2q_u64(t1, t3)));
    }
  }
  for (; kk < round_up_k(k); ++kk) {  // the last k % 16, padding included
    for (size_t i = 0; i < kMr; ++i) {
      const uint8_t v = (i < m && kk < k) ? static_cast<uint8_t>(a[i * lda + kk] ^ to_s8) : 0x80;
      dst[(kk / kKr) * kMr * kKr + i * kKr + kk % kKr] = v;
    }
  }
}

// ---- micro-kernel ---------------------------------------------------------------------------
// Per group of 4 k: A rows 0..4 and 4..8 in two registers (lane r = row r's 4 bytes), B columns
// 0..4 and 4..8 in two; acc[r][half] += SDOT(B half, A lane r): 16 SDOT by element.
#define QK_DOT_ROW(r, ar, lane)                                  \
  acc##r##0 = vdotq_laneq_s32(acc##r##0, b0, ar, lane);          \
  acc##r##1 = vdotq_laneq_s32(acc##r##1, b1, ar, lane);

void ukernel(size_t k, const void* packed_a, const void* packed_b_panel, int32_t* c, size_t ldc) {
  const int8_t* a = static_cast<const int8_t*>(packed_a);
  const uint8_t* panel = static_cast<const uint8_t*>(packed_b_panel);
  const int32x4_t comp0 = vreinterpretq_s32_u8(vld1q_u8(panel));
  const int32x4_t comp1 = vreinterpretq_s32_u8(vld1q_u8(panel + 16));
  const int8_t* b = reinterpret_cast<const int8_t*>(panel + kHeader);
  int32x4_t acc00 = comp0, acc01 = comp1, acc10 = comp0, acc11 = comp1, acc20 = comp0, acc21 = comp1,
            acc30 = comp0, acc31 = comp1, acc40 = comp0, acc41 = comp1, acc50 = comp0, acc51 = comp1,
            acc60 = comp0, acc61 = comp1, acc70 = comp0, acc71 = comp1;
  for (size_t g = round_up_k(k) / kKr; g != 0; --g) {
    const int8x16_t a0 = vld1q_s8(a), a1 = vld1q_s8(a + 16);
    const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16);
    a += 32;
    b += 32;
    QK_DOT_ROW(0, a0, 0)
    QK_DOT_ROW(1, a0, 1)
    QK_DOT_ROW(2, a0, 2)
    QK_DOT_ROW(3, a0, 3)
    QK_DOT_ROW(4, a1, 0)
    QK_DOT_ROW(5, a1, 1)
    QK_DOT_ROW(6, a1, 2)
    QK_DOT_ROW(7, a1, 3)
  }
#define QK_DOT_STORE(r)                  \
  vst1q_s32(c + r * ldc, acc##r##0);     \
  vst1q_s32(c + r * ldc + 4, acc##r##1);
  QK_DOT_STORE(0)
  QK_DOT_STORE(1)
  QK_DOT_STORE(2)
  QK_DOT_STORE(3)
  QK_DOT_STORE(4)
  QK_DOT_STORE(5)
  QK_DOT_STORE(6)
  QK_DOT_STORE(7)
#undef QK_DOT_STORE
}
#undef QK_DOT_ROW

}  // namespace

bool have_built_qgemm__neondot() { return true; }

void get_qgemm_kernel__neondot(QGemmKernel* k) {
  // The epilogue has nothing to gain from dot products: reuse the base NEON one (always built
  // alongside this file, since both need QK_BUILD_NEON on aarch64).
  QGemmKernel neon;
  get_qgemm_kernel__neon(&neon);
  *k = QGemmKernel{};
  k->isa = "neondot";
  k->mr = kMr;
  k->nr = kNr;
  k->kr = kKr;
  k->b_panel_stride = b_panel_stride;
  k->pack_b = pack_b;
  k->a_tile_size = a_tile_size;
  k->pack_a = pack_a;
  k->ukernel = ukernel;
  k->epilogue = neon.epilogue;
}

#else  // !QK_HAVE_QGEMM_NEONDOT_CODE

bool have_built_qgemm__neondot() { return false; }
void get_qgemm_kernel__neondot(QGemmKernel* k) { *k = QGemmKernel{}; }

#endif

}  // namespace qk
