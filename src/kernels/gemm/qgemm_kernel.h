// SPDX-License-Identifier: Apache-2.0
// The contract every ISA's int8 GEMM implements. The driver (src/ops/qgemm_driver.cc) tiles the
// output into mr x nr blocks, packs A tiles and never interprets packed bytes itself; each ISA
// owns its packed layouts. The scalar family (qgemm_scalar.cc) is the specification: every
// other family must produce bit-identical outputs for all inputs.
//
// Additions since the first version (all compatible: nothing was renamed or removed):
//  1. What the driver guarantees a family (so SIMD code may use aligned loads/stores):
//     - the packed B buffer starts 64-byte aligned; panel p starts at p * b_panel_stride(k), so
//       panels are aligned when the family's panel stride is a multiple of 64;
//     - every packed A buffer passed to pack_a / ukernel starts 64-byte aligned;
//     - the accumulator block `c` of ukernel starts 64-byte aligned and ldc == nr;
//     - `k` is always the true depth, 1 <= k <= 65536 (the family rounds up to kr itself).
//  2. Exactness bound: A is u8 and B is s8, so |sum_k A*B| <= 65536 * 255 * 128 < 2^31: the raw
//     dot product never overflows int32. A kernel may accumulate in any exact way, but never
//     through saturating int16 (vpmaddubsw on full-range operands is not exact).
//  3. active_qgemm_kernel() (qgemm_dispatch.cc) returns the family of the active ISA.
//  4. How a family is linked in: the family's .cmake file (kernels/x86/gemm.cmake,
//     kernels/arm/gemm.cmake) adds the source to quantkit_x86 / quantkit_arm AND sets
//        target_compile_definitions(quantkit_core PRIVATE QK_HAVE_QGEMM_AVX2=1)
//     (QK_HAVE_QGEMM_AVXVNNI, _AVX512VNNI, _NEON, _NEONDOT likewise). The dispatcher calls
//     have_built_qgemm__<isa>() / get_qgemm_kernel__<isa>() only when that definition is set,
//     so the tree links before a family lands. Set it whenever the file is compiled (with or
//     without its ISA flags); have_built_qgemm__<isa>() reports whether the flags were there.
//  5. A family without a SIMD epilogue leaves `epilogue` nullptr (the driver then runs
//     gemm_epilogue_scalar). A SIMD epilogue must handle every GemmEpilogue field.
//  6. Fallback when the active ISA's family is not built: avx512vnni and avxvnni use the avx2
//     family, neondot uses neon, and everything ends at scalar.
//  7. Epilogue facts a SIMD epilogue may rely on or must reproduce: col_offset is never nullptr;
//     fp_shift is in [-31, 30] (quantize_multiplier saturates); in fixed-point mode the
//     multiplied value plus out_zp can pass INT32_MAX / INT32_MIN and must clamp, not wrap (the
//     scalar code adds in int64); in float mode clamping x = float(acc) * scale[j] to
//     [q_min - out_zp, q_max - out_zp] before rounding equals rounding first (integer bounds),
//     which is what gemm_epilogue_scalar does; the row index into row_offset is row0 + i.
//  8. Optional single-row micro-kernel `ukernel_1row` (nullptr = not provided). It computes row 0
//     of the tile only: c[j] = sum_{kk < k} A[0][kk] * B[j][kk] for j < nr, exact in int32 with
//     wrapping (bit-identical to row 0 of `ukernel`), reading the same packed A tile (pack_a with
//     m == 1) and packed B panel layouts as `ukernel`, and writing exactly nr int32 to `c` (no
//     ldc: one row). Same driver guarantees as `ukernel` (aligned tile, panel and c; true k). The
//     driver calls it instead of `ukernel` for every row block whose valid row count is 1 (m = 1
//     GEMV, or the last tile of m = mr*q + 1); all other blocks still go through `ukernel`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qk {

enum class GemmOutput : int { kQuantized = 1, kS32 = 2, kF32 = 3 };

// Everything the epilogue needs, precomputed at operator creation. Column arrays have n entries
// (the operator's output channels); row_offset has one entry per row of the current run.
//   acc      = dot[i][j] + col_offset[j] + (row_offset ? row_offset[i] : 0)     (int32, wrapping)
//   kS32:      out = acc
//   kF32:      out = min(max(float(acc) * scale[j] + (bias ? bias[j] : 0), f32_min), f32_max)
//              (product rounded, then sum rounded: no FMA)
//   kQuantized, float mode:
//              r = nearbyintf(float(acc) * scale[j]);  r = clamp(r, q_min - out_zp, q_max - out_zp)
//              out = int32(r) + out_zp
//   kQuantized, fixed-point mode (TFLite reference, "double rounding"):
//              out = clamp(MultiplyByQuantizedMultiplier(acc, fp_multiplier[j], fp_shift[j]) + out_zp,
//                          q_min, q_max)
struct GemmEpilogue {
  GemmOutput kind = GemmOutput::kS32;
  const int32_t* col_offset = nullptr;
  const int32_t* row_offset = nullptr;
  const float* scale = nullptr;
  const float* bias = nullptr;
  float f32_min = 0.0f;
  float f32_max = 0.0f;
  int32_t out_zp = 0;
  int32_t q_min = 0;
  int32_t q_max = 0;
  bool out_signed = false;  // s8 (true) or u8 output
  bool fixed_point = false;
  const int32_t* fp_multiplier = nullptr;
  const int32_t* fp_shift = nullptr;
};

struct QGemmKernel {
  const char* isa = nullptr;  // "scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot"
  size_t mr = 0;              // rows of an output tile
  size_t nr = 0;              // columns of a B panel
  size_t kr = 0;              // both packings zero-pad k to a multiple of kr

  // Packed B: ceil(n / nr) panels of panel_stride(k) bytes each; columns past n are zero.
  size_t (*b_panel_stride)(size_t k) = nullptr;
  // Packs s8 B[n][k] (row stride ldb elements): B is the weight matrix, one row per output column.
  void (*pack_b)(const int8_t* b, size_t n, size_t k, size_t ldb, void* packed_b) = nullptr;

  // One packed A tile: mr rows x k, a_tile_size(k) bytes.
  size_t (*a_tile_size)(size_t k) = nullptr;
  // Packs m <= mr rows of 8-bit A (row stride lda bytes), XOR-ing every byte with xor_mask (0x80
  // turns s8 into u8 with the zero point raised by 128; 0 for u8), into one tile. Rows m..mr-1
  // and the k padding are zero.
  void (*pack_a)(const uint8_t* a, size_t m, size_t k, size_t lda, uint8_t xor_mask, void* packed_a) = nullptr;

  // c[i * ldc + j] = sum_{kk < k} A[i][kk] * B[j][kk] for all i < mr, j < nr (A as u8 0..255, B
  // as s8), exact in int32 with wrapping; writes the whole mr x nr block of c.
  void (*ukernel)(size_t k, const void* packed_a, const void* packed_b_panel, int32_t* c, size_t ldc) = nullptr;

  // Optional (note 8): row 0 of `ukernel`'s block only, c[j] for j < nr. nullptr = use ukernel.
  void (*ukernel_1row)(size_t k, const void* packed_a, const void* packed_b_panel, int32_t* c) = nullptr;

  // Applies `ep` to the valid m x n part of an accumulator block (acc row stride ldacc) whose
  // first element is output row `row0`, column `col0` (indexes into ep's arrays), writing
  // outputs of the epilogue's type with row stride ldo (elements). nullptr = scalar epilogue.
  void (*epilogue)(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep, size_t row0,
                   size_t col0, void* out, size_t ldo) = nullptr;
};

// The scalar specification of the epilogue; SIMD epilogues must match it bit for bit.
void gemm_epilogue_scalar(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep, size_t row0,
                          size_t col0, void* out, size_t ldo);

// TFLite's MultiplyByQuantizedMultiplier (gemmlowp SaturatingRoundingDoublingHighMul then
// RoundingDivideByPOT), the fixed-point requantization reference. shift in [-31, 30]; for shift > 0
// the pre-multiplication x * 2^shift wraps in int32 (undefined behaviour in TFLite, defined here).
int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift);
// TFLite's QuantizeMultiplier: M -> (Q0.31 multiplier, shift), frexp + round half away from zero.
// M below 2^-32 (or not a positive finite number) gives (0, 0); M of 2^30 and above saturates to
// (INT32_MAX, 30), TFLite's single-rounding rule, so the shift always stays usable.
void quantize_multiplier(double m, int32_t* multiplier, int32_t* shift);

// Kernel families. Each fills `k` when its ISA is compiled in (have_built_qgemm__<isa>()),
// otherwise leaves it empty (isa == nullptr). The dispatcher picks the family of the active ISA.
void get_qgemm_kernel__scalar(QGemmKernel* k);
bool have_built_qgemm__avx2();
void get_qgemm_kernel__avx2(QGemmKernel* k);
bool have_built_qgemm__avxvnni();
void get_qgemm_kernel__avxvnni(QGemmKernel* k);
bool have_built_qgemm__avx512vnni();
void get_qgemm_kernel__avx512vnni(QGemmKernel* k);
bool have_built_qgemm__neon();
void get_qgemm_kernel__neon(QGemmKernel* k);
bool have_built_qgemm__neondot();
void get_qgemm_kernel__neondot(QGemmKernel* k);

// The family for the active ISA (with the fallback of note 6 above). Throws qk::Error
// kUnsupported when QK_ISA named a path this build or CPU cannot run.
const QGemmKernel& active_qgemm_kernel();

}  // namespace qk
