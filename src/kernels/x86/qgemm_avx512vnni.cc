// SPDX-License-Identifier: Apache-2.0
// AVX-512 VNNI int8 GEMM family (-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512vnni); mirrors
// get_qgemm_kernel__scalar / gemm_epilogue_scalar.
//
// This is qgemm_avxvnni.cc with zmm: the same [k/4][nr][4] layouts, the same step, the same
// exactness argument (vpdpbusd adds four u8 * s8 products per int32 lane without an int16
// intermediate and wraps like the spec's int32 sums; the non-saturating form, not vpdpbusds).
// The AVX-VNNI code runs in the test suite through an AVX2 emulation of vpdpbusd; keep the two
// files in step so what is verified there holds here.
//
// Layouts (kr = 4, k zero-padded to a multiple of 4):
//   A tile  [k/4][mr][4] u8: one dword = 4 consecutive k of one row, broadcast with vpbroadcastd.
//   B panel [k/4][nr][4] s8: one zmm = 4 consecutive k of 16 columns.
// Packing: kernels/x86/qgemm_vnni_pack.h, shared with the AVX-VNNI family.
// Micro-tile 6 x 64: 24 zmm accumulators + 4 B + 1 broadcast A (29 of 32 registers). Per quad
// 4 B loads and 6 broadcasts feed 24 vpdpbusd (12 cycles at two per cycle), well under the load
// ports' limit.
// The epilogue is AVX-512 too: partial groups of 16 columns use masked (fault-suppressing) loads
// and stores instead of a scalar tail.
#include "kernels/gemm/qgemm_kernel.h"

#if defined(QK_EMULATE_AVX512VNNI)
// Test-only: the intrinsics come from a scalar model (tests/kernels/x86_avx512_emulation.h) so
// this file's logic runs on CPUs without AVX-512; the entry points are then named
// ..._avx512vnni_emulated (tests/kernels/x86.cmake builds that variant).
#include "x86_avx512_emulation.h"
#define QK_HAVE_QGEMM_AVX512VNNI_KERNELS 1
#elif defined(QK_BUILD_X86_SIMD) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && defined(__AVX512VNNI__)
#define QK_HAVE_QGEMM_AVX512VNNI_KERNELS 1
// GCC 12's AVX-512 headers seed results with a self-initialised "undefined" vector, which
// -Wmaybe-uninitialized misreports (GCC PR 105593, fixed in 12.3/13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
#endif

#if defined(QK_HAVE_QGEMM_AVX512VNNI_KERNELS)
#include <algorithm>
#include <cstring>

#include "kernels/x86/qgemm_vnni_pack.h"
#endif

#if defined(QK_EMULATE_AVX512VNNI)
#define QK_AVX512VNNI_NAME(name) name##__avx512vnni_emulated
#define QK_AVX512VNNI_ISA_NAME "avx512vnni_emulated"
#else
#define QK_AVX512VNNI_NAME(name) name##__avx512vnni
#define QK_AVX512VNNI_ISA_NAME "avx512vnni"
#endif

namespace qk {

bool QK_AVX512VNNI_NAME(have_built_qgemm)();
void QK_AVX512VNNI_NAME(get_qgemm_kernel)(QGemmKernel* k);

#if defined(QK_HAVE_QGEMM_AVX512VNNI_KERNELS)
namespace {

constexpr size_t kMr = 6;
constexpr size_t kNr = 64;
constexpr size_t kKr = vnni_pack::kKr;
using vnni_pack::k_quads;

// ---- micro-kernel ---------------------------------------------------------------------------
// As qgemm_avxvnni.cc, one zmm per 16 columns. Named accumulators, not an array: GCC keeps an
// array of __m512i in memory and copies it around the loop.
#define QK_VNNI512_STEP(q)                                                        \
  do {                                                                            \
    const __m512i b0 = _mm512_loadu_si512(b + (q) * kNr * kKr);                   \
    const __m512i b1 = _mm512_loadu_si512(b + (q) * kNr * kKr + 64);              \
    const __m512i b2 = _mm512_loadu_si512(b + (q) * kNr * kKr + 128);             \
    const __m512i b3 = _mm512_loadu_si512(b + (q) * kNr * kKr + 192);             \
    const int32_t* ap = a + (q) * kMr;                                            \
    __m512i av;                                                                   \
    av = _mm512_set1_epi32(ap[0]);                                             \
    c00 = _mm512_dpbusd_epi32(c00, av, b0);                                   \
    c01 = _mm512_dpbusd_epi32(c01, av, b1);                                   \
    c02 = _mm512_dpbusd_epi32(c02, av, b2);                                   \
    c03 = _mm512_dpbusd_epi32(c03, av, b3);                                   \
    av = _mm512_set1_epi32(ap[1]);                                             \
    c10 = _mm512_dpbusd_epi32(c10, av, b0);                                   \
    c11 = _mm512_dpbusd_epi32(c11, av, b1);                                   \
    c12 = _mm512_dpbusd_epi32(c12, av, b2);                                   \
    c13 = _mm512_dpbusd_epi32(c13, av, b3);                                   \
    av = _mm512_set1_epi32(ap[2]);                                             \
    c20 = _mm512_dpbusd_epi32(c20, av, b0);                                   \
    c21 = _mm512_dpbusd_epi32(c21, av, b1);                                   \
    c22 = _mm512_dpbusd_epi32(c22, av, b2);                                   \
    c23 = _mm512_dpbusd_epi32(c23, av, b3);                                   \
    av = _mm512_set1_epi32(ap[3]);                                             \
    c30 = _mm512_dpbusd_epi32(c30, av, b0);                                   \
    c31 = _mm512_dpbusd_epi32(c31, av, b1);                                   \
    c32 = _mm512_dpbusd_epi32(c32, av, b2);                                   \
    c33 = _mm512_dpbusd_epi32(c33, av, b3);                                   \
    av = _mm512_set1_epi32(ap[4]);                                             \
    c40 = _mm512_dpbusd_epi32(c40, av, b0);                                   \
    c41 = _mm512_dpbusd_epi32(c41, av, b1);                                   \
    c42 = _mm512_dpbusd_epi32(c42, av, b2);                                   \
    c43 = _mm512_dpbusd_epi32(c43, av, b3);                                   \
    av = _mm512_set1_epi32(ap[5]);                                             \
    c50 = _mm512_dpbusd_epi32(c50, av, b0);                                   \
    c51 = _mm512_dpbusd_epi32(c51, av, b1);                                   \
    c52 = _mm512_dpbusd_epi32(c52, av, b2);                                   \
    c53 = _mm512_dpbusd_epi32(c53, av, b3);                                   \
  } while (0)

void ukernel(size_t k, const void* packed_a, const void* packed_b_panel, int32_t* c, size_t ldc) {
  size_t kq = k_quads(k);
  const int32_t* a = static_cast<const int32_t*>(packed_a);
  const uint8_t* b = static_cast<const uint8_t*>(packed_b_panel);
  __m512i c00 = _mm512_setzero_si512(), c01 = _mm512_setzero_si512(), c02 = _mm512_setzero_si512(),
          c03 = _mm512_setzero_si512();
  __m512i c10 = _mm512_setzero_si512(), c11 = _mm512_setzero_si512(), c12 = _mm512_setzero_si512(),
          c13 = _mm512_setzero_si512();
  __m512i c20 = _mm512_setzero_si512(), c21 = _mm512_setzero_si512(), c22 = _mm512_setzero_si512(),
          c23 = _mm512_setzero_si512();
  __m512i c30 = _mm512_setzero_si512(), c31 = _mm512_setzero_si512(), c32 = _mm512_setzero_si512(),
          c33 = _mm512_setzero_si512();
  __m512i c40 = _mm512_setzero_si512(), c41 = _mm512_setzero_si512(), c42 = _mm512_setzero_si512(),
          c43 = _mm512_setzero_si512();
  __m512i c50 = _mm512_setzero_si512(), c51 = _mm512_setzero_si512(), c52 = _mm512_setzero_si512(),
          c53 = _mm512_setzero_si512();
  // Two quads (8 k) per iteration; B streams four 64-byte lines per quad, prefetched 2 KiB ahead.
  for (; kq >= 2; kq -= 2) {
    _mm_prefetch(reinterpret_cast<const char*>(b + 2048 + 0), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 2048 + 64), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 2048 + 128), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 2048 + 192), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 2048 + 256), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 2048 + 320), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 2048 + 384), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + 2048 + 448), _MM_HINT_T0);
    QK_VNNI512_STEP(0);
    QK_VNNI512_STEP(1);
    a += 2 * kMr;
    b += 2 * kNr * kKr;
  }
  if (kq != 0) QK_VNNI512_STEP(0);
  auto store = [&](size_t i, __m512i v0, __m512i v1, __m512i v2, __m512i v3) {
    _mm512_storeu_si512(c + i * ldc, v0);
    _mm512_storeu_si512(c + i * ldc + 16, v1);
    _mm512_storeu_si512(c + i * ldc + 32, v2);
    _mm512_storeu_si512(c + i * ldc + 48, v3);
  };
  store(0, c00, c01, c02, c03);
  store(1, c10, c11, c12, c13);
  store(2, c20, c21, c22, c23);
  store(3, c30, c31, c32, c33);
  store(4, c40, c41, c42, c43);
  store(5, c50, c51, c52, c53);
}

#undef QK_VNNI512_STEP

// ---- epilogue -------------------------------------------------------------------------------
// The arithmetic of qgemm_avx2.cc's epilogue (see the reasoning there), 16 columns at a time;
// the last partial group is masked instead of going to the spec. vpmovdb truncates each int32
// code + zp to its low byte, exactly the spec's 8-bit store. The fixed-point mode runs the AVX2
// family's epilogue (every AVX-512 CPU has AVX2): verified code, and far cheaper than the spec.
template <typename Body>
inline void for_each_row16(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep, size_t row0,
                           size_t col0, Body body) {
  for (size_t i = 0; i < m; ++i) {
    const int32_t* ar = acc + i * ldacc;
    const __m512i roff = _mm512_set1_epi32(ep.row_offset != nullptr ? ep.row_offset[row0 + i] : 0);
    for (size_t j = 0; j < n; j += 16) {
      const __mmask16 mask = n - j >= 16 ? static_cast<__mmask16>(0xFFFF)
                                         : static_cast<__mmask16>((1u << (n - j)) - 1u);
      const __m512i col = _mm512_maskz_loadu_epi32(mask, ep.col_offset + col0 + j);
      const __m512i v = _mm512_add_epi32(_mm512_add_epi32(_mm512_maskz_loadu_epi32(mask, ar + j), col), roff);
      body(i, j, mask, v);
    }
  }
}

__attribute__((noinline)) void epilogue_s32(const int32_t* acc, size_t ldacc, size_t m, size_t n,
                                            const GemmEpilogue& ep, size_t row0, size_t col0, int32_t* out,
                                            size_t ldo) {
  for_each_row16(acc, ldacc, m, n, ep, row0, col0, [&](size_t i, size_t j, __mmask16 mask, __m512i v) {
    _mm512_mask_storeu_epi32(out + i * ldo + j, mask, v);
  });
}

__attribute__((noinline)) void epilogue_f32(const int32_t* acc, size_t ldacc, size_t m, size_t n,
                                            const GemmEpilogue& ep, size_t row0, size_t col0, float* out,
                                            size_t ldo) {
  const __m512 lo = _mm512_set1_ps(ep.f32_min), hi = _mm512_set1_ps(ep.f32_max);
  const float* scale = ep.scale + col0;
  const float* bias = ep.bias != nullptr ? ep.bias + col0 : nullptr;
  for_each_row16(acc, ldacc, m, n, ep, row0, col0, [&](size_t i, size_t j, __mmask16 mask, __m512i v) {
    __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_maskz_loadu_ps(mask, scale + j));
    if (bias != nullptr) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, bias + j));
    // The spec's min(max(y, lo), hi) NaN behaviour: maxps / minps return the second operand.
    y = _mm512_min_ps(hi, _mm512_max_ps(lo, y));
    _mm512_mask_storeu_ps(out + i * ldo + j, mask, y);
  });
}

__attribute__((noinline)) void epilogue_q8(const int32_t* acc, size_t ldacc, size_t m, size_t n,
                                           const GemmEpilogue& ep, size_t row0, size_t col0, uint8_t* out,
                                           size_t ldo) {
  const __m512 lo = _mm512_set1_ps(static_cast<float>(ep.q_min - ep.out_zp));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(ep.q_max - ep.out_zp));
  const __m512i zp = _mm512_set1_epi32(ep.out_zp);
  const __m512 magic = _mm512_set1_ps(12582912.0f);  // 1.5 * 2^23
  const float* scale = ep.scale + col0;
  for_each_row16(acc, ldacc, m, n, ep, row0, col0, [&](size_t i, size_t j, __mmask16 mask, __m512i v) {
    __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_maskz_loadu_ps(mask, scale + j));
    x = _mm512_max_ps(lo, x);  // x = x < lo ? lo : x
    x = _mm512_min_ps(hi, x);  // x = x > hi ? hi : x
    const __m512 r = _mm512_sub_ps(_mm512_add_ps(x, magic), magic);
    const __m512i q = _mm512_add_epi32(_mm512_cvttps_epi32(r), zp);
    _mm512_mask_cvtepi32_storeu_epi8(out + i * ldo + j, mask, q);
  });
}

void epilogue(const int32_t* acc, size_t ldacc, size_t m, size_t n, const GemmEpilogue& ep, size_t row0, size_t col0,
              void* out, size_t ldo) {
  switch (ep.kind) {
    case GemmOutput::kS32:
      return epilogue_s32(acc, ldacc, m, n, ep, row0, col0, static_cast<int32_t*>(out), ldo);
    case GemmOutput::kF32:
      return epilogue_f32(acc, ldacc, m, n, ep, row0, col0, static_cast<float*>(out), ldo);
    case GemmOutput::kQuantized:
      if (!ep.fixed_point) return epilogue_q8(acc, ldacc, m, n, ep, row0, col0, static_cast<uint8_t*>(out), ldo);
      break;
  }
  // Looked up once (thread-safe static initialisation); the spec if AVX2 is not built in.
  static const auto fixed_point_epilogue = [] {
    QGemmKernel avx2;
    get_qgemm_kernel__avx2(&avx2);
    return avx2.epilogue != nullptr ? avx2.epilogue : gemm_epilogue_scalar;
  }();
  fixed_point_epilogue(acc, ldacc, m, n, ep, row0, col0, out, ldo);
}

}  // namespace

// The dispatcher may call these on any CPU, so they are compiled for baseline x86-64 (see
// qgemm_avx2.cc).
#define QK_BASELINE_X86 __attribute__((target("no-sse3")))

QK_BASELINE_X86 bool QK_AVX512VNNI_NAME(have_built_qgemm)() { return true; }

QK_BASELINE_X86 void QK_AVX512VNNI_NAME(get_qgemm_kernel)(QGemmKernel* k) {
  k->isa = QK_AVX512VNNI_ISA_NAME;
  k->mr = kMr;
  k->nr = kNr;
  k->kr = kKr;
  k->b_panel_stride = vnni_pack::b_panel_stride<kNr>;
  k->pack_b = vnni_pack::pack_b<kNr>;  // kernels/x86/qgemm_vnni_pack.h, shared with the other VNNI family
  k->a_tile_size = vnni_pack::a_tile_size<kMr>;
  k->pack_a = vnni_pack::pack_a<kMr>;
  k->ukernel = ukernel;
  k->epilogue = epilogue;
}

#else  // not compiled for AVX-512 VNNI: a stub the dispatcher never selects

bool QK_AVX512VNNI_NAME(have_built_qgemm)() { return false; }
void QK_AVX512VNNI_NAME(get_qgemm_kernel)(QGemmKernel* k) { *k = QGemmKernel{}; }

#endif

}  // namespace qk
