// SPDX-License-Identifier: Apache-2.0
// AVX-VNNI int8 GEMM family (-mavx2 -mfma -mf16c -mavxvnni); mirrors get_qgemm_kernel__scalar.
//
// {vex} vpdpbusd ymm multiplies 4 u8 (A) by 4 s8 (B) per int32 lane and adds the four products
// to the accumulator exactly (no int16 intermediate), wrapping like the spec's int32 sums: full
// 8-bit ranges, no reduce_range. The non-saturating form (vpdpbusd, not vpdpbusds) is the one
// that matches wrapping arithmetic.
//
// Layouts (kr = 4, k zero-padded to a multiple of 4):
//   A tile  [k/4][mr][4] u8: one dword = 4 consecutive k of one row, broadcast with vpbroadcastd.
//   B panel [k/4][nr][4] s8: one ymm = 4 consecutive k of 8 columns.
// Packing: kernels/x86/qgemm_vnni_pack.h, shared with the AVX-512 VNNI family.
// Same 6 x 16 micro-tile as the AVX2 family: 12 ymm accumulators + 2 B + 1 broadcast A.
// The AVX-512 VNNI family (qgemm_avx512vnni.cc) is this code with zmm and nr = 64.
//
// Test-only: QK_EMULATE_VPDPBUSD (with -mavx2, without -mavxvnni) replaces the instruction by an
// exact AVX2 sequence so the packing, tiling and tails run on CPUs without AVX-VNNI; the family's
// entry points are then named ..._avxvnni_emulated (tests/kernels/x86.cmake builds that variant).
#include "kernels/gemm/qgemm_kernel.h"

#if defined(QK_BUILD_X86_SIMD) && defined(__AVX2__) && \
    (defined(__AVXVNNI__) || defined(QK_EMULATE_VPDPBUSD))
#define QK_HAVE_QGEMM_AVXVNNI_KERNELS 1
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/x86/qgemm_vnni_pack.h"
#endif

#if defined(QK_EMULATE_VPDPBUSD)
#define QK_AVXVNNI_NAME(name) name##__avxvnni_emulated
#define QK_AVXVNNI_ISA_NAME "avxvnni_emulated"
#else
#define QK_AVXVNNI_NAME(name) name##__avxvnni
#define QK_AVXVNNI_ISA_NAME "avxvnni"
#endif

namespace qk {

bool QK_AVXVNNI_NAME(have_built_qgemm)();
void QK_AVXVNNI_NAME(get_qgemm_kernel)(QGemmKernel* k);

#if defined(QK_HAVE_QGEMM_AVXVNNI_KERNELS)
namespace {

constexpr size_t kMr = 6;
constexpr size_t kNr = 16;
constexpr size_t kKr = vnni_pack::kKr;
using vnni_pack::k_quads;

// acc + sum of the four u8 * s8 products of each dword lane (wrapping).
inline __m256i dpbusd(__m256i acc, __m256i a_u8, __m256i b_s8) {
#if defined(QK_EMULATE_VPDPBUSD)
  // Even and odd bytes widened to int16 (A zero-, B sign-extended in place), two exact vpmaddwd
  // (each pair sum fits: |2 * 255 * 128| < 2^31), then the lane's two pair sums.
  const __m256i a_even = _mm256_and_si256(a_u8, _mm256_set1_epi16(0x00FF));
  const __m256i a_odd = _mm256_srli_epi16(a_u8, 8);
  const __m256i b_even = _mm256_srai_epi16(_mm256_slli_epi16(b_s8, 8), 8);
  const __m256i b_odd = _mm256_srai_epi16(b_s8, 8);
  const __m256i sum = _mm256_add_epi32(_mm256_madd_epi16(a_even, b_even), _mm256_madd_epi16(a_odd, b_odd));
  return _mm256_add_epi32(acc, sum);
#else
  return _mm256_dpbusd_avx_epi32(acc, a_u8, b_s8);
#endif
}

// ---- micro-kernel ---------------------------------------------------------------------------
// Per k quad: 2 B loads, 6 broadcasts, 12 vpdpbusd (no separate add: the instruction
// accumulates). The accumulators are chained only through vpdpbusd, which the compiler does not
// re-associate, so intrinsics give the intended 15-register loop (checked in the disassembly).
#define QK_VNNI_STEP(q)                                                                         \
  do {                                                                                          \
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + (q) * kNr * 4));  \
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + (q) * kNr * 4 + 32)); \
    const int32_t* ap = a + (q) * kMr;                                                          \
    __m256i av = _mm256_set1_epi32(ap[0]);                                                      \
    c00 = dpbusd(c00, av, b0);                                                                  \
    c01 = dpbusd(c01, av, b1);                                                                  \
    av = _mm256_set1_epi32(ap[1]);                                                              \
    c10 = dpbusd(c10, av, b0);                                                                  \
    c11 = dpbusd(c11, av, b1);                                                                  \
    av = _mm256_set1_epi32(ap[2]);                                                              \
    c20 = dpbusd(c20, av, b0);                                                                  \
    c21 = dpbusd(c21, av, b1);                                                                  \
    av = _mm256_set1_epi32(ap[3]);                                                              \
    c30 = dpbusd(c30, av, b0);                                                                  \
    c31 = dpbusd(c31, av, b1);                                                                  \
    av = _mm256_set1_epi32(ap[4]);                                                              \
    c40 = dpbusd(c40, av, b0);                                                                  \
    c41 = dpbusd(c41, av, b1);                                                                  \
    av = _mm256_set1_epi32(ap[5]);                                                              \
    c50 = dpbusd(c50, av, b0);                                                                  \
    c51 = dpbusd(c51, av, b1);                                                                  \
  } while (0)

void ukernel(size_t k, const void* packed_a, const void* packed_b_panel, int32_t* c, size_t ldc) {
  size_t kq = k_quads(k);
  const int32_t* a = static_cast<const int32_t*>(packed_a);
  const uint8_t* b = static_cast<const uint8_t*>(packed_b_panel);
  __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
  __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
  __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
  __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
  __m256i c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256();
  __m256i c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256();
  // Two quads (8 k) per iteration; B streams one 64-byte line per quad, prefetched 1 KiB ahead.
  for (; kq >= 2; kq -= 2) {
    _mm_prefetch(reinterpret_cast<const char*>(b + 1024), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 1088), _MM_HINT_T0);
    QK_VNNI_STEP(0);
    QK_VNNI_STEP(1);
    a += 2 * kMr;
    b += 2 * kNr * kKr;
  }
  if (kq != 0) QK_VNNI_STEP(0);
  auto store = [&](size_t i, __m256i lo, __m256i hi) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + i * ldc), lo);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + i * ldc + 8), hi);
  };
  store(0, c00, c01);
  store(1, c10, c11);
  store(2, c20, c21);
  store(3, c30, c31);
  store(4, c40, c41);
  store(5, c50, c51);
}

#undef QK_VNNI_STEP

}  // namespace

// The dispatcher may call these on any CPU, so they are compiled for baseline x86-64 (see
// qgemm_avx2.cc). The epilogue needs no dot-product instruction: it is the AVX2 family's.
#define QK_BASELINE_X86 __attribute__((target("no-sse3")))

QK_BASELINE_X86 bool QK_AVXVNNI_NAME(have_built_qgemm)() { return true; }

QK_BASELINE_X86 void QK_AVXVNNI_NAME(get_qgemm_kernel)(QGemmKernel* k) {
  QGemmKernel avx2;
  get_qgemm_kernel__avx2(&avx2);  // empty (epilogue nullptr = scalar) if AVX2 is not built in
  k->isa = QK_AVXVNNI_ISA_NAME;
  k->mr = kMr;
  k->nr = kNr;
  k->kr = kKr;
  k->b_panel_stride = vnni_pack::b_panel_stride<kNr>;
  k->pack_b = vnni_pack::pack_b<kNr>;  // kernels/x86/qgemm_vnni_pack.h, shared with the other VNNI family
  k->a_tile_size = vnni_pack::a_tile_size<kMr>;
  k->pack_a = vnni_pack::pack_a<kMr>;
  k->ukernel = ukernel;
  k->epilogue = avx2.epilogue;
}

#else  // not compiled for AVX-VNNI: a stub the dispatcher never selects

bool QK_AVXVNNI_NAME(have_built_qgemm)() { return false; }
void QK_AVXVNNI_NAME(get_qgemm_kernel)(QGemmKernel* k) { *k = QGemmKernel{}; }

#endif

}  // namespace qk
