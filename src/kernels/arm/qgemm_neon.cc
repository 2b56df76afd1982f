// SPDX-License-Identifier: Apache-2.0
// AArch64 NEON (ARMv8.0, no -march flag) GEMM family "neon", mirrors scalar + gemm_epilogue_scalar.
// Bit for bit equal to the scalar family (kernels/gemm/qgemm_scalar.cc) and epilogue
// (kernels/gemm/qgemm_epilogue.cc); the epilogue here is also the "neondot" family's. Without
// QK_BUILD_NEON on aarch64 this file is a stub (have_built_qgemm__neon() is false, the getter
// leaves the table empty), and dispatch never selects it.
#include "kernels/gemm/qgemm_kernel.h"

#include <cstring>

#if defined(QK_BUILD_NEON) && defined(__aarch64__) && defined(__ARM_NEON)
#define QK_HAVE_QGEMM_NEON_CODE 1
#include <arm_neon.h>
#endif

namespace qk {

#if defined(QK_HAVE_QGEMM_NEON_CODE)
namespace {

// Tile: 8 rows x 8 columns, k in pairs. Base NEON has no mixed-sign byte multiply and its byte
// multiplies only widen to int16, where two u8 x s8 products (up to 2 * 255 * 128) no longer
// fit. So both operands are widened to int16 (u8 A is 0..255, exact as int16) and multiplied
// with SMLAL/SMLAL2 by element into int32: every product is exact and the int32 sums wrap like
// the scalar spec. No zero-point trick and no correction term are needed.
constexpr size_t kMr = 8;
constexpr size_t kNr = 8;
constexpr size_t kKr = 2;

inline size_t round_up_k(size_t k) { return (k + kKr - 1) / kKr * kKr; }

// ---- packing --------------------------------------------------------------------------------
// Packed B panel: for each k, the 8 column bytes (s8) side by side: [k][col], k padded with
// zero rows to a multiple of 2, columns past n zero. One 16-byte load is two k steps.
size_t b_panel_stride(size_t k) { return round_up_k(k) * kNr; }

void pack_b(const int8_t* b, size_t n, size_t k, size_t ldb, void* packed_b) {
  int8_t* dst = static_cast<int8_t*>(packed_b);
  const size_t kp = round_up_k(k);
  for (size_t j0 = 0; j0 < n; j0 += kNr) {
    const size_t cols = n - j0 < kNr ? n - j0 : kNr;
    std::memset(dst, 0, kp * kNr);
    for (size_t j = 0; j < cols; ++j) {
      const int8_t* src = b + (j0 + j) * ldb;
      for (size_t kk = 0; kk < k; ++kk) dst[kk * kNr + j] = src[kk];
    }
    dst += kp * kNr;
  }
}

// Packed A tile: for each k, the 8 row bytes (u8): [k][row], the layout SMLAL by element reads
// (one register holds all 8 rows of one k). Rows past m and the k padding are zero.
size_t a_tile_size(size_t k) { return round_up_k(k) * kMr; }

// 8x8 byte transpose: rows r[0..8) in, columns out (c[j][i] = r[i][j]), three TRN levels.
inline void transpose8x8(const uint8x8_t r[8], uint8x8_t c[8]) {
  const uint8x8x2_t t01 = vtrn_u8(r[0], r[1]), t23 = vtrn_u8(r[2], r[3]);
  const uint8x8x2_t t45 = vtrn_u8(r[4], r[5]), t67 = vtrn_u8(r[6], r[7]);
  const uint16x4x2_t u02 = vtrn_u16(vreinterpret_u16_u8(t01.val[0]), vreinterpret_u16_u8(t23.val[0]));
  const uint16x4x2_t u13 = vtrn_u16(vreinterpret_u16_u8(t01.val[1]), vreinterpret_u16_u8(t23.val[1]));
  const uint16x4x2_t u46 = vtrn_u16(vreinterpret_u16_u8(t45.val[0]), vreinterpret_u16_u8(t67.val[0]));
  const uint16x4x2_t u57 = vtrn_u16(vreinterpret_u16_u8(t45.val[1]), vreinterpret_u16_u8(t67.val[1]));
  const uint32x2x2_t v04 = vtrn_u32(vreinterpret_u32_u16(u02.val[0]), vreinterpret_u32_u16(u46.val[0]));
  const uint32x2x2_t v15 = vtrn_u32(vreinterpret_u32_u16(u13.val[0]), vreinterpret_u32_u16(u57.val[0]));
  const uint32x2x2_t v26 = vtrn_u32(vreinterpret_u32_u16(u02.val[1]), vreinterpret_u32_u16(u46.val[1]));
  const uint32x2x2_t v37 = vtrn_u32(vreinterpret_u32_u16(u13.val[1]), vreinterpret_u32_u16(u57.val[1]));
  c[0] = vreinterpret_u8_u32(v04.val[0]);
  c[1] = vreinterpret_u8_u32(v15.val[0]);
  c[2] = vreinterpret_u8_u32(v26.val[0]);
  c[3] = vreinterpret_u8_u32(v37.val[0]);
  c[4] = vreinterpret_u8_u32(v04.val[1]);
  c[5] = vreinterpret_u8_u32(v15.val[1]);
  c[6] = vreinterpret_u8_u32(v26.val[1]);
  c[7] = vreinterpret_u8_u32(v37.val[1]);
}

void pack_a(const uint8_t* a, size_t m, size_t k, size_t lda, uint8_t xor_mask, void* packed_a) {
  uint8_t* dst = static_cast<uint8_t*>(packed_a);
  // Rows past m read a zero block that does not advance (step 0) and are not XOR-ed, so they
  // stay zero without a branch in the loop.
  static const uint8_t kZeros[8] = {};
  const uint8_t* row[kMr];
  size_t step[kMr];
  uint8x8_t mask[kMr];
  for (size_t r = 0; r < kMr; ++r) {
    const bool real = r < m;
    row[r] = real ? a + r * lda : kZeros;
    step[r] = real ? 1 : 0;
    mask[r] = vdup_n_u8(real ? xor_mask : 0);
  }
  size_t kk = 0;
  for (; kk + 8 <= k; kk += 8) {  // 8 k of 8 rows: one transpose, 64 bytes out
    uint8x8_t r[kMr], c[kMr];
    for (size_t i = 0; i < kMr; ++i) r[i] = veor_u8(vld1_u8(row[i] + step[i] * kk), mask[i]);
    transpose8x8(r, c);
    for (size_t i = 0; i < kMr; ++i) vst1_u8(dst + (kk + i) * kMr, c[i]);
  }
  for (; kk < k; ++kk)  // the last k % 8
    for (size_t i = 0; i < kMr; ++i) dst[kk * kMr + i] = i < m ? static_cast<uint8_t>(a[i * lda + kk] ^ xor_mask) : 0;
  for (; kk < round_up_k(k); ++kk) std::memset(dst + kk * kMr, 0, kMr);
}

// ---- micro-kernel ---------------------------------------------------------------------------
// acc[r][0..4) += B[k][0..4) * A[k][r], acc[r][4..8) += B[k][4..8) * A[k][r] for the 8 rows:
// 16 SMLAL/SMLAL2 by element per k (the lane index must be a constant, hence the macro).
#define QK_NEON_ROW(r)                                                     \
  acc##r##0 = vmlal_laneq_s16(acc##r##0, vget_low_s16(bk), ak, r); \
  acc##r##1 = vmlal_high_laneq_s16(acc##r##1, bk, ak, r);
#define QK_NEON_STEP(ak, bk) \
  do {                       \
    QK_NEON_ROW(0)           \
    QK_NEON_ROW(1)           \
    QK_NEON_ROW(2)           \
    QK_NEON_ROW(3)           \
    QK_NEON_ROW(4)           \
    QK_NEON_ROW(5)           \
    QK_NEON_ROW(6)           \
    QK_NEON_ROW(7)           \
  } while (0)

void ukernel(size_t k, const void* packed_a, const void* packed_b_panel, int32_t* c, size_t ldc) {
  const uint8_t* a = static_cast<const uint8_t*>(packed_a);
  const int8_t* b = static_cast<const int8_t*>(packed_b_panel);
  int32x4_t acc00 = vdupq_n_s32(0), acc01 = acc00, acc10 = acc00, acc11 = acc00, acc20 = acc00, acc21 = acc00,
            acc30 = acc00, acc31 = acc00, acc40 = acc00, acc41 = acc00, acc50 = acc00, acc51 = acc00,
            acc60 = acc00, acc61 = acc00, acc70 = acc00, acc71 = acc00;
  for (size_t kp = round_up_k(k) / kKr; kp != 0; --kp) {
    const uint8x16_t va = vld1q_u8(a);  // [k0: rows 0..8) [k1: rows 0..8)
    const int8x16_t vb = vld1q_s8(b);   // [k0: cols 0..8) [k1: cols 0..8)
    a += 16;
    b += 16;
    {
      const int16x8_t ak = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(va)));
      const int16x8_t bk = vmovl_s8(vget_low_s8(vb));
      QK_NEON_STEP(ak, bk);
    }
    {
      const int16x8_t ak = vreinterpretq_s16_u16(vmovl_high_u8(va));
      const int16x8_t bk = vmovl_high_s8(vb);
      QK_NEON_STEP(ak, bk);
    }
  }
#define QK_NEON_STORE(r)                 \
  vst1q_s32(c + r * ldc, acc##r##0);     \
  vst1q_s32(c + r * ldc + 4, acc##r##1);
  QK_NEON_STORE(0)
  QK_NEON_STORE(1)
  QK_NEON_STORE(2)
  QK_NEON_STORE(3)
  QK_NEON_STORE(4)
  QK_NEON_STORE(5)
  QK_NEON_STORE(6)
  QK_NEON_STORE(7)
#undef QK_NEON_STORE
}
#undef QK_NEON_STEP
#undef QK_NEON_ROW

// ---- epilogue -------------------------------------------------------------------------------
// Columns are done 4 at a time; the last n % 4 go to gemm_epilogue_scalar itself (no second
// formula to keep in sync). Every step is the scalar spec's own rounding: SCVTF rounds like
// float(int32) (nearest-even), FMUL then FADD (never fused: -ffp-contract=off and no vfmaq),
// FRINTI rounds in the current mode like nearbyintf, and integer adds wrap.

// acc + col_offset + row_offset for 4 columns, wrapping.
inline int32x4_t corrected(const int32_t* acc, const int32_t* col_offset, int32x4_t row_offset) {
  int32x4_t v = vaddq_s32(vld1q_s32(acc), row_offset);
  if (col_offset != nullptr) v = vaddq_s32(v, vld1q_s32(col_offset));
  return v;
}

// The spec's clamps, `x < lo ? lo : x` and `x > hi ? hi : x`, as compare + select: they keep a
// NaN and a -0 that FMAX/FMIN would not (FMAX(-0, +0) = +0, but -0 < +0 is false).
inline float32x4_t clamp_lo(float32x4_t x, float32x4_t lo) { return vbslq_f32(vcltq_f32(x, lo), lo, x); }
inline float32x4_t clamp_hi(float32x4_t x, float32x4_t hi) { return vbslq_f32(vcgtq_f32(x, hi), hi, x); }

// TFLite's MultiplyByQuantizedMultiplier on 4 lanes: x << left (wrapping, like the int32
// multiply by 1 << left), SQRDMULH (exactly SaturatingRoundingDoublingHighMul: ties round up,
// INT32_MIN * INT32_MIN saturates), then RoundingDivideByPOT: SRSHL rounds ties up, so
// negative lanes are first moved down by one (saturating, which is still exact at INT32_MIN)
// to make ties round away from zero. right_neg = -right shift (<= 0); when it is 0 the AND
// gives 0 and nothing moves.
inline int32x4_t multiply_by_quantized_multiplier4(int32x4_t x, int32x4_t multiplier, int32x4_t shift) {
  const int32x4_t zero = vdupq_n_s32(0);
  const int32x4_t left = vmaxq_s32(shift, zero), right_neg = vminq_s32(shift, zero);
  x = vqrdmulhq_s32(vshlq_s32(x, left), multiplier);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, right_neg), 31);
  return vrshlq_s32(vqaddq_s32(x, fixup), right_neg);
}

// Stores 4 or 8 clamped int32 lanes (already inside the u8 / s8 range) as bytes; the low byte
// of each lane is the u8 or s8 code alike.
inline void store_bytes8(uint8_t* out, int32x4_t lo, int32x4_t hi) {
  vst1_u8(out, vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(lo), vmovn_s32(hi)))));
}
inline void store_bytes4(uint8_t* out, int32x4_t v) {
  const uint8x8_t b = vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(v), vmovn_s32(v))));
  const uint32_t word = vget_lane_u32(vreinterpret_u32_u8(b), 0);
  std::memcpy(out, &word, sizeof word);  // out has no alignment
}

// Quantized outputs for 4 columns starting at column j (indexes into ep's arrays).
struct QuantConsts {
  float32x4_t lo_f, hi_f;  // float mode: q_min - out_zp, q_max - out_zp
  int32x4_t lo, hi, zp;    // fixed-point mode: q_min, q_max; both: out_zp
};

inline int32x4_t quantize4_float(int32x4_t v, const float* scale, const QuantConsts& q) {
  float32x4_t r = vrndiq_f32(vmulq_f32(vcvtq_f32_s32(v), vld1q_f32(scale)));
  r = clamp_hi(clamp_lo(r, q.lo_f), q.hi_f);
  return vaddq_s32(vcvtq_s32_f32(r), q.zp);
}

// The zero point is added saturating: the spec adds it in int64 before clamping, and the product
// can be INT32_MAX (SQRDMULH saturation) or close to INT32_MIN; clamped, both agree.
inline int32x4_t quantize4_fixed(int32x4_t v, const int32_t* multiplier, const int32_t* shift, const QuantConsts& q) {
  const int32x4_t r = vqaddq_s32(multiply_by_quantized_multiplier4(v, vld1q_s32(multiplier), vld1q_s32(shift)), q.zp);
  return vminq_s32(vmaxq_s32(r, q.lo), q.hi);
}

void epilogue(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep, size_t row0, size_t col0,
              void* out, size_t ldo) {
  const size_t nv = n & ~size_t{3};
  const size_t out_bytes = ep.kind == GemmOutput::kQuantized ? 1 : 4;
  if (nv < n)
    gemm_epilogue_scalar(acc + nv, ldacc, m, n - nv, ep, row0, col0 + nv, static_cast<uint8_t*>(out) + nv * out_bytes,
                         ldo);
  if (nv == 0) return;
  const int32_t* col_offset = ep.col_offset != nullptr ? ep.col_offset + col0 : nullptr;
  for (size_t i = 0; i < m; ++i) {
    const int32_t* a = acc + i * ldacc;
    const int32x4_t ro = vdupq_n_s32(ep.row_offset != nullptr ? ep.row_offset[row0 + i] : 0);
    auto col = [&](size_t j) { return col_offset != nullptr ? col_offset + j : nullptr; };
    switch (ep.kind) {
      case GemmOutput::kS32: {
        int32_t* o = static_cast<int32_t*>(out) + i * ldo;
        for (size_t j = 0; j < nv; j += 4) vst1q_s32(o + j, corrected(a + j, col(j), ro));
        break;
      }
      case GemmOutput::kF32: {
        float* o = static_cast<float*>(out) + i * ldo;
        const float* scale = ep.scale + col0;
        const float* bias = ep.bias != nullptr ? ep.bias + col0 : nullptr;
        const float32x4_t lo = vdupq_n_f32(ep.f32_min), hi = vdupq_n_f32(ep.f32_max);
        for (size_t j = 0; j < nv; j += 4) {
          float32x4_t f = vmulq_f32(vcvtq_f32_s32(corrected(a + j, col(j), ro)), vld1q_f32(scale + j));
          // No bias means no addition at all (adding +0 would turn a -0 product into +0).
          if (bias != nullptr) f = vaddq_f32(f, vld1q_f32(bias + j));
          vst1q_f32(o + j, clamp_hi(clamp_lo(f, lo), hi));
        }
        break;
      }
      case GemmOutput::kQuantized: {
        uint8_t* o = static_cast<uint8_t*>(out) + i * ldo;
        QuantConsts q;
        q.lo_f = vdupq_n_f32(static_cast<float>(ep.q_min - ep.out_zp));
        q.hi_f = vdupq_n_f32(static_cast<float>(ep.q_max - ep.out_zp));
        q.lo = vdupq_n_s32(ep.q_min);
        q.hi = vdupq_n_s32(ep.q_max);
        q.zp = vdupq_n_s32(ep.out_zp);
        size_t j = 0;
        if (ep.fixed_point) {
          const int32_t* mul = ep.fp_multiplier + col0;
          const int32_t* sh = ep.fp_shift + col0;
          for (; j + 8 <= nv; j += 8)
            store_bytes8(o + j, quantize4_fixed(corrected(a + j, col(j), ro), mul + j, sh + j, q),
                         quantize4_fixed(corrected(a + j + 4, col(j + 4), ro), mul + j + 4, sh + j + 4, q));
          if (j < nv) store_bytes4(o + j, quantize4_fixed(corrected(a + j, col(j), ro), mul + j, sh + j, q));
        } else {
          const float* scale = ep.scale + col0;
          for (; j + 8 <= nv; j += 8)
            store_bytes8(o + j, quantize4_float(corrected(a + j, col(j), ro), scale + j, q),
                         quantize4_float(corrected(a + j + 4, col(j + 4), ro), scale + j + 4, q));
          if (j < nv) store_bytes4(o + j, quantize4_float(corrected(a + j, col(j), ro), scale + j, q));
        }
        break;
      }
    }
  }
}

}  // namespace

bool have_built_qgemm__neon() { return true; }

void get_qgemm_kernel__neon(QGemmKernel* k) {
  *k = QGemmKernel{};
  k->isa = "neon";
  k->mr = kMr;
  k->nr = kNr;
  k->kr = kKr;
  k->b_panel_stride = b_panel_stride;
  k->pack_b = pack_b;
  k->a_tile_size = a_tile_size;
  k->pack_a = pack_a;
  k->ukernel = ukernel;
  k->epilogue = epilogue;
}

#else  // !QK_HAVE_QGEMM_NEON_CODE

bool have_built_qgemm__neon() { return false; }
void get_qgemm_kernel__neon(QGemmKernel* k) { *k = QGemmKernel{}; }

#endif

}  // namespace qk
