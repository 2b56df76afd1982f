// SPDX-License-Identifier: Apache-2.0
// x86 int8 GEMM families (AVX2, AVX-VNNI, AVX-512 VNNI) against the scalar spec family, bit for
// bit, through the QGemmKernel contract itself (pack_a / pack_b / ukernel / epilogue), without
// the driver: every partial mr x nr tile, k = 1..130 and large k, the extreme fills that make
// vpmaddubsw saturate, random data, and every epilogue mode. A family runs only when it is built
// in and this CPU has its ISA. Test-only variants run the families' code on CPUs without their
// ISA: AVX-VNNI with vpdpbusd emulated in AVX2 (QK_TEST_AVXVNNI_EMULATED), AVX-512 VNNI against
// a scalar model of its intrinsics (QK_TEST_AVX512VNNI_EMULATED, x86_avx512_emulation.h).
// Prints one line per family and a final "N passed, M failed"; exits non-zero on any failure.
//   x86_qgemm_check [--quick] [--family NAME]
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "dispatch/cpu_features.h"
#include "kernels/gemm/qgemm_kernel.h"

#if defined(QK_TEST_AVXVNNI_EMULATED)
namespace qk {
bool have_built_qgemm__avxvnni_emulated();
void get_qgemm_kernel__avxvnni_emulated(QGemmKernel* k);
}  // namespace qk
#endif
#if defined(QK_TEST_AVX512VNNI_EMULATED)
namespace qk {
bool have_built_qgemm__avx512vnni_emulated();
void get_qgemm_kernel__avx512vnni_emulated(QGemmKernel* k);
}  // namespace qk
#endif

namespace {

using qk::GemmEpilogue;
using qk::GemmOutput;
using qk::QGemmKernel;

long g_passed = 0, g_failed = 0;
int g_reported = 0;
std::mt19937_64 g_rng(0x5eed1234u);

void check(bool ok, const char* family, const std::string& what) {
  if (ok) {
    ++g_passed;
    return;
  }
  ++g_failed;
  if (g_reported++ < 30) std::printf("FAIL [%s] %s\n", family, what.c_str());
}

template <typename... Args>
std::string fmt(const char* f, Args... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

// ---- data -----------------------------------------------------------------------------------
enum class Fill { kRandom, kMaxNeg, kMaxPos, kAlternating, kExtremes, kZeroA };
const char* fill_name(Fill f) {
  switch (f) {
    case Fill::kRandom: return "random";
    case Fill::kMaxNeg: return "a=255,b=-128";
    case Fill::kMaxPos: return "a=255,b=127";
    case Fill::kAlternating: return "alternating a=255/0,b=-128/127";
    case Fill::kExtremes: return "random extremes";
    case Fill::kZeroA: return "a=0";
  }
  return "?";
}

// A is given as the bytes before pack_a's XOR (so with xor 0x80, kMaxNeg's stored 0x7F becomes 255).
void fill(Fill f, uint8_t xor_mask, std::vector<uint8_t>& a, std::vector<int8_t>& b) {
  std::uniform_int_distribution<int> byte(0, 255), bit(0, 1);
  for (size_t i = 0; i < a.size(); ++i) {
    uint8_t v = 0;
    switch (f) {
      case Fill::kRandom: v = static_cast<uint8_t>(byte(g_rng)); break;
      case Fill::kMaxNeg: case Fill::kMaxPos: v = 255; break;
      case Fill::kAlternating: v = (i & 1) ? 0 : 255; break;
      case Fill::kExtremes: v = bit(g_rng) ? 255 : 0; break;
      case Fill::kZeroA: v = 0; break;
    }
    a[i] = static_cast<uint8_t>(v ^ xor_mask);
  }
  for (size_t i = 0; i < b.size(); ++i) {
    int v = 0;
    switch (f) {
      case Fill::kRandom: case Fill::kZeroA: v = byte(g_rng) - 128; break;
      case Fill::kMaxNeg: v = -128; break;
      case Fill::kMaxPos: v = 127; break;
      case Fill::kAlternating: v = (i & 1) ? 127 : -128; break;
      case Fill::kExtremes: v = bit(g_rng) ? 127 : -128; break;
    }
    b[i] = static_cast<int8_t>(v);
  }
}

// ---- GEMM through one family's contract ------------------------------------------------------
// dot[m][n] via pack_b, pack_a per row tile and ukernel per panel. Also checks the contract's
// promises: rows >= m and columns >= n of each block come out 0 (zero padding), and the ukernel
// writes exactly its mr x nr block (sentinels around it survive).
std::vector<int32_t> family_dot(const QGemmKernel& kr, const uint8_t* a, size_t m, size_t lda, uint8_t xor_mask,
                                const int8_t* b, size_t n, size_t ldb, size_t k, bool* contract_ok) {
  const size_t panels = (n + kr.nr - 1) / kr.nr;
  const size_t stride = kr.b_panel_stride(k);
  // Exact sizes (no slack), so a sanitizer build catches any over-read or over-write.
  std::vector<uint8_t> pb(panels * stride + 1, 0xA5);
  kr.pack_b(b, n, k, ldb, pb.data());
  bool ok = pb[panels * stride] == 0xA5;
  std::vector<uint8_t> pa(kr.a_tile_size(k) + 1, 0x5A);
  const size_t ldc = kr.nr + 3;
  const int32_t kSentinel = 0x7EADBEEF;
  std::vector<int32_t> cbuf((kr.mr + 1) * ldc, kSentinel);
  std::vector<int32_t> dot(m * n);
  for (size_t i0 = 0; i0 < m; i0 += kr.mr) {
    const size_t mt = std::min(kr.mr, m - i0);
    std::fill(pa.begin(), pa.end(), 0x5A);
    kr.pack_a(a + i0 * lda, mt, k, lda, xor_mask, pa.data());
    ok = ok && pa.back() == 0x5A;
    for (size_t p = 0; p < panels; ++p) {
      std::fill(cbuf.begin(), cbuf.end(), kSentinel);
      kr.ukernel(k, pa.data(), pb.data() + p * stride, cbuf.data(), ldc);
      const size_t j0 = p * kr.nr, nt = std::min(kr.nr, n - j0);
      for (size_t i = 0; i <= kr.mr; ++i)
        for (size_t j = 0; j < ldc; ++j) {
          const int32_t v = cbuf[i * ldc + j];
          if (i < mt && j < nt)
            dot[(i0 + i) * n + j0 + j] = v;
          else if (i < kr.mr && j < kr.nr)
            ok = ok && v == 0;  // padding rows / columns
          else
            ok = ok && v == kSentinel;  // outside the block
        }
      // The optional one-row kernel (contract note 8) must give row 0 of ukernel's block, bit
      // for bit, and write exactly nr values.
      if (kr.ukernel_1row != nullptr && mt == 1) {
        std::vector<int32_t> row(kr.nr + 1, kSentinel);
        kr.ukernel_1row(k, pa.data(), pb.data() + p * stride, row.data());
        ok = ok && row[kr.nr] == kSentinel && std::equal(row.begin(), row.begin() + kr.nr, cbuf.begin());
      }
    }
  }
  *contract_ok = ok;
  return dot;
}

// Independent oracle: the int32 (wrapping) dot products from the definition.
std::vector<int32_t> naive_dot(const uint8_t* a, size_t m, size_t lda, uint8_t xor_mask, const int8_t* b, size_t n,
                               size_t ldb, size_t k) {
  std::vector<int32_t> d(m * n);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      uint32_t s = 0;
      for (size_t kk = 0; kk < k; ++kk)
        s += static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint8_t>(a[i * lda + kk] ^ xor_mask)) *
                                   static_cast<int32_t>(b[j * ldb + kk]));
      d[i * n + j] = static_cast<int32_t>(s);
    }
  return d;
}

struct Family {
  const char* name;
  QGemmKernel kernel;
};

QGemmKernel g_scalar;

size_t first_diff(const std::vector<int32_t>& x, const std::vector<int32_t>& y) {
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i] != y[i]) return i;
  return x.size();
}

void gemm_case(const Family& f, size_t m, size_t n, size_t k, Fill fl, uint8_t xor_mask, size_t pad) {
  const size_t lda = k + pad, ldb = k + pad;
  std::vector<uint8_t> a(m * lda);
  std::vector<int8_t> b(n * ldb);
  fill(fl, xor_mask, a, b);
  bool contract_ok = false, scalar_ok = false;
  const std::vector<int32_t> got = family_dot(f.kernel, a.data(), m, lda, xor_mask, b.data(), n, ldb, k, &contract_ok);
  const std::vector<int32_t> want = family_dot(g_scalar, a.data(), m, lda, xor_mask, b.data(), n, ldb, k, &scalar_ok);
  const std::string where = fmt("m=%zu n=%zu k=%zu fill=%s xor=0x%02x ld=+%zu", m, n, k, fill_name(fl),
                                static_cast<unsigned>(xor_mask), pad);
  check(contract_ok, f.name, "packing / ukernel block contract (padding not zero or writes outside) " + where);
  const size_t d = first_diff(got, want);
  check(d == got.size(), f.name,
        d == got.size() ? where
                        : fmt("dot[%zu][%zu] = %d, scalar %d: ", d / n, d % n, got[d], want[d]) + where);
}

// Every partial tile size and k = 1..130 (every residue of every kr and unroll), large k, fills.
void gemm_sweep(const Family& f, bool quick) {
  const QGemmKernel& kr = f.kernel;
  const size_t ks[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 130};
  const size_t mmax = 2 * kr.mr + 1, nmax = 2 * kr.nr + 1;
  // All (m, n) partial tiles at a range of k (m and n past one tile exercise a second tile).
  for (size_t m = 1; m <= mmax; ++m)
    for (size_t n = 1; n <= nmax; n += (quick && n > 8 ? 5 : 1))
      for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki += (quick ? 3 : 1))
        gemm_case(f, m, n, ks[ki], Fill::kRandom, (m + n) & 1 ? 0x80 : 0, (m * 7 + n) % 3);
  // Every k in 1..130 with varying partial tiles, each fill, both A signednesses.
  for (size_t k = 1; k <= 130; ++k)
    for (Fill fl : {Fill::kRandom, Fill::kMaxNeg, Fill::kMaxPos, Fill::kAlternating, Fill::kExtremes, Fill::kZeroA})
      for (uint8_t x : {uint8_t{0}, uint8_t{0x80}}) {
        gemm_case(f, 1 + (k % mmax), 1 + (k * 5 % nmax), k, fl, x, k % 2);
        if (!quick) gemm_case(f, mmax, nmax, k, fl, x, 0);
      }
  // Large k: long accumulations, and at k = 65536 (the API's limit) with a = 255, b = -128 the
  // sums reach -2^31 + 8.4e6, the most negative an accumulator gets.
  for (size_t k : {255u, 256u, 1000u, 1023u, 4099u})
    for (Fill fl : {Fill::kRandom, Fill::kMaxNeg, Fill::kAlternating})
      gemm_case(f, kr.mr + 1, kr.nr + 3, k, fl, 0, 1);
  for (Fill fl : {Fill::kMaxNeg, Fill::kMaxPos, Fill::kExtremes}) gemm_case(f, 2, kr.nr + 1, 65536, fl, 0, 0);
  if (!quick) gemm_case(f, kr.mr * 2 + 1, kr.nr * 2 + 1, 65535, Fill::kRandom, 0x80, 3);
}

// Oracle check of the scalar family itself on a few shapes (so a bug in the spec stand-in is
// not silently shared by everyone).
void scalar_sanity() {
  for (size_t k : {1u, 2u, 7u, 64u, 131u}) {
    const size_t m = 9, n = 11;
    std::vector<uint8_t> a(m * k);
    std::vector<int8_t> b(n * k);
    fill(Fill::kRandom, 0x80, a, b);
    bool ok = false;
    const auto got = family_dot(g_scalar, a.data(), m, k, 0x80, b.data(), n, k, k, &ok);
    check(ok && got == naive_dot(a.data(), m, k, 0x80, b.data(), n, k, k), "scalar", fmt("oracle k=%zu", k));
  }
}

// ---- epilogue --------------------------------------------------------------------------------
struct EpCase {
  std::string name;
  GemmEpilogue ep;
};

int32_t special_acc(std::mt19937_64& rng) {
  static const int32_t kSpecial[] = {0, 1, -1, 2, -2, 3, 5, -5, 127, 128, 255, -128, -129,
                                     (1 << 24) + 1, -(1 << 24) - 1, (1 << 25) + 3, std::numeric_limits<int32_t>::max(),
                                     std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max() - 64,
                                     std::numeric_limits<int32_t>::min() + 64};
  const uint64_t r = rng();
  switch (r % 4) {
    case 0: return kSpecial[(r >> 8) % (sizeof kSpecial / sizeof kSpecial[0])];
    case 1: return static_cast<int32_t>(static_cast<uint32_t>(r >> 16));        // full range
    case 2: return static_cast<int32_t>((r >> 16) % 2001) - 1000;                 // small
    default: return static_cast<int32_t>((r >> 16) % 200001) - 100000;            // medium
  }
}

void epilogue_check(const Family& f, const EpCase& c, size_t m, size_t n, size_t row0, size_t col0, size_t ldacc,
                    size_t ldo, const std::vector<int32_t>& acc) {
  size_t elem = 1;
  if (c.ep.kind == GemmOutput::kS32 || c.ep.kind == GemmOutput::kF32) elem = 4;
  const size_t bytes = (m == 0 ? 0 : (m - 1) * ldo + n) * elem + 64;  // 64 sentinel bytes after
  std::vector<uint8_t> got(bytes, 0xCD), want(bytes, 0xCD);
  auto epi = f.kernel.epilogue != nullptr ? f.kernel.epilogue : qk::gemm_epilogue_scalar;
  epi(acc.data(), ldacc, m, n, c.ep, row0, col0, got.data(), ldo);
  qk::gemm_epilogue_scalar(acc.data(), ldacc, m, n, c.ep, row0, col0, want.data(), ldo);
  size_t d = 0;
  while (d < bytes && got[d] == want[d]) ++d;
  check(d == bytes, f.name,
        fmt("epilogue %s m=%zu n=%zu row0=%zu col0=%zu: first byte difference at %zu (element %zu,%zu)",
            c.name.c_str(), m, n, row0, col0, d, d / elem / ldo, d / elem % ldo));
}

void epilogue_sweep(const Family& f, bool quick) {
  std::mt19937_64 rng(0xE9110605u);
  const size_t ncols = 3 * 64 + 17;  // covers col0 + n for every family's nr
  const size_t nrows = 40;
  std::vector<int32_t> col_offset(ncols), row_offset(nrows), fp_mult(ncols), fp_shift(ncols);
  std::vector<float> scale(ncols), bias(ncols), scale_tie(ncols), scale_huge(ncols);
  std::uniform_real_distribution<float> u01(0.0f, 1.0f);
  for (size_t j = 0; j < ncols; ++j) {
    col_offset[j] = special_acc(rng);
    // Per-channel scales over many binades; some exact powers of two make x.5 ties.
    scale[j] = std::ldexp(0.5f + u01(rng), -static_cast<int>(rng() % 20));
    scale_tie[j] = std::ldexp(1.0f, -static_cast<int>(rng() % 4) - 1);
    scale_huge[j] = (j % 3 == 0) ? 1e30f : (j % 3 == 1 ? 1e-30f : std::numeric_limits<float>::denorm_min());
    bias[j] = (u01(rng) - 0.5f) * 1000.0f;
    qk::quantize_multiplier(std::ldexp(0.5 + u01(rng), -static_cast<int>(rng() % 24) + 2), &fp_mult[j], &fp_shift[j]);
  }
  for (size_t i = 0; i < nrows; ++i) row_offset[i] = special_acc(rng);
  // Fixed-point edge cases: the saturating INT32_MIN * INT32_MIN product (needs zero offsets so
  // that INT32_MIN accumulators reach it), extreme multipliers and shifts, and shifts outside
  // what quantize_multiplier produces (a SIMD epilogue may hand those to the spec).
  std::vector<int32_t> zero_offset(ncols, 0), fp_mult_edge(ncols), fp_shift_edge(ncols), fp_shift_odd(ncols);
  static const int32_t kMults[] = {INT32_MIN, INT32_MAX, 0, 1, -1, 1 << 30, (1 << 30) + 1, INT32_MIN + 1};
  static const int32_t kShifts[] = {0, 30, -31, 1, -1, 29, -30, 15, -16};
  for (size_t j = 0; j < ncols; ++j) {
    fp_mult_edge[j] = (j % 3 == 2) ? fp_mult[j] : kMults[j % (sizeof kMults / sizeof kMults[0])];
    fp_shift_edge[j] = kShifts[j % (sizeof kShifts / sizeof kShifts[0])];
    fp_shift_odd[j] = (j % 5 == 0) ? (j % 2 ? 31 : -40) : fp_shift[j];
  }
  std::vector<float> scale_inf(ncols);
  for (size_t j = 0; j < ncols; ++j) scale_inf[j] = (j % 4 == 0) ? std::numeric_limits<float>::infinity() : scale[j];

  std::vector<EpCase> cases;
  auto base = [&](GemmOutput kind) {
    GemmEpilogue e;
    e.kind = kind;
    e.col_offset = col_offset.data();
    return e;
  };
  {
    EpCase c{"s32", base(GemmOutput::kS32)};
    cases.push_back(c);
    c.name = "s32 row_offset";
    c.ep.row_offset = row_offset.data();
    cases.push_back(c);
  }
  for (int variant = 0; variant < 6; ++variant) {
    EpCase c{"f32", base(GemmOutput::kF32)};
    c.ep.scale = (variant == 4) ? scale_huge.data() : scale.data();
    c.ep.bias = (variant & 1) ? bias.data() : nullptr;
    c.ep.row_offset = (variant >= 2) ? row_offset.data() : nullptr;
    c.ep.f32_min = variant >= 2 ? -std::numeric_limits<float>::infinity() : 0.0f;
    c.ep.f32_max = variant >= 2 ? std::numeric_limits<float>::infinity() : 6.0f;
    if (variant == 5) { c.ep.f32_min = -3.5f; c.ep.f32_max = 1e3f; }
    c.name = fmt("f32 v%d%s", variant, c.ep.bias ? " bias" : "");
    cases.push_back(c);
  }
  {
    // Infinite scales: 0 * inf is NaN, which the clamps must pass through as the spec does.
    EpCase c{"f32 inf scales", base(GemmOutput::kF32)};
    c.ep.scale = scale_inf.data();
    c.ep.bias = bias.data();
    c.ep.f32_min = -1e6f;
    c.ep.f32_max = 1e6f;
    cases.push_back(c);
  }
  struct Q { bool s; int32_t zp, lo, hi; };
  const Q qs[] = {{false, 0, 0, 255},     {false, 128, 0, 255}, {false, 3, 3, 255},   {false, 255, 0, 255},
                  {false, 77, 77, 200},   {true, 0, -128, 127}, {true, -128, -128, 127}, {true, 127, -128, 127},
                  {true, -5, -5, 127},    {true, 10, 0, 100},
                  // degenerate q_min > q_max: whatever the spec's clamp order gives
                  {false, 10, 200, 100},  {true, 0, 5, -5},
                  // absurd zero points: bounds minus zp beyond 2^22 (float rounding tricks break)
                  {false, 8388611, 0, 255}, {true, -9000001, -128, 127}};
  int qi = 0;
  for (const Q& q : qs) {
    for (int sv = 0; sv < 3; ++sv) {
      EpCase c{"", base(GemmOutput::kQuantized)};
      c.ep.out_signed = q.s;
      c.ep.out_zp = q.zp;
      c.ep.q_min = q.lo;
      c.ep.q_max = q.hi;
      c.ep.scale = sv == 0 ? scale.data() : (sv == 1 ? scale_tie.data() : scale_huge.data());
      c.ep.row_offset = (qi++ % 2) ? row_offset.data() : nullptr;
      c.name = fmt("quantized %s zp=%d [%d,%d] scales#%d", q.s ? "s8" : "u8", q.zp, q.lo, q.hi, sv);
      cases.push_back(c);
      EpCase fp = c;
      fp.ep.fixed_point = true;
      fp.ep.scale = nullptr;
      fp.ep.fp_multiplier = fp_mult.data();
      fp.ep.fp_shift = fp_shift.data();
      fp.name = "fixed-point " + c.name;
      if (sv == 0) cases.push_back(fp);
      if (sv == 1) {
        fp.ep.col_offset = zero_offset.data();
        fp.ep.row_offset = nullptr;
        fp.ep.fp_multiplier = fp_mult_edge.data();
        fp.ep.fp_shift = fp_shift_edge.data();
        fp.name = "fixed-point edge multipliers " + c.name;
        cases.push_back(fp);
      }
      if (sv == 2) {
        fp.ep.fp_shift = fp_shift_odd.data();
        fp.name = "fixed-point shifts outside [-31, 30] " + c.name;
        cases.push_back(fp);
      }
    }
  }

  const size_t nr = f.kernel.nr, mr = f.kernel.mr;
  for (const EpCase& c : cases) {
    // Blocks as the driver hands them (ldacc = nr, every partial size), and wider runs.
    for (size_t m = 1; m <= mr; m += (quick ? 2 : 1))
      for (size_t n = 1; n <= nr + 9; n += (quick && n > 4 ? 3 : 1)) {
        const size_t row0 = rng() % (nrows - m), col0 = rng() % (ncols - n);
        const size_t ldacc = std::max(nr, n) + (rng() % 2), ldo = n + (rng() % 3);
        std::vector<int32_t> acc(m * ldacc);
        for (auto& v : acc) v = special_acc(rng);
        epilogue_check(f, c, m, n, row0, col0, ldacc, ldo, acc);
      }
    const size_t n = ncols - 3, m = 7;
    std::vector<int32_t> acc(m * n);
    for (auto& v : acc) v = special_acc(rng);
    epilogue_check(f, c, m, n, 2, 3, n, n, acc);
  }
}

bool family_enabled(const char* name, const char* only) { return only == nullptr || std::strcmp(name, only) == 0; }

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  const char* only = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[i], "--family") == 0 && i + 1 < argc) only = argv[++i];
  }
  qk::get_qgemm_kernel__scalar(&g_scalar);
  scalar_sanity();

  const qk::CpuFeatures& cpu = qk::cpu_features();
  struct Candidate {
    const char* name;
    bool built;
    bool runnable;
    void (*get)(QGemmKernel*);
  };
  const Candidate candidates[] = {
      {"avx2", qk::have_built_qgemm__avx2(), cpu.avx2, qk::get_qgemm_kernel__avx2},
      {"avxvnni", qk::have_built_qgemm__avxvnni(), cpu.avx2 && cpu.avxvnni, qk::get_qgemm_kernel__avxvnni},
      {"avx512vnni", qk::have_built_qgemm__avx512vnni(), cpu.avx512 && cpu.avx512vnni,
       qk::get_qgemm_kernel__avx512vnni},
#if defined(QK_TEST_AVXVNNI_EMULATED)
      {"avxvnni_emulated", qk::have_built_qgemm__avxvnni_emulated(), cpu.avx2,
       qk::get_qgemm_kernel__avxvnni_emulated},
#endif
#if defined(QK_TEST_AVX512VNNI_EMULATED)
      {"avx512vnni_emulated", qk::have_built_qgemm__avx512vnni_emulated(), true,
       qk::get_qgemm_kernel__avx512vnni_emulated},
#endif
  };
  int ran = 0;
  for (const Candidate& c : candidates) {
    if (!family_enabled(c.name, only)) continue;
    if (!c.built || !c.runnable) {
      std::printf("%-18s SKIPPED (%s)\n", c.name, !c.built ? "not built in" : "this CPU lacks the ISA");
      continue;
    }
    Family f{c.name, QGemmKernel{}};
    c.get(&f.kernel);
    const long p0 = g_passed, f0 = g_failed;
    gemm_sweep(f, quick);
    epilogue_sweep(f, quick);
    ++ran;
    std::printf("%-18s mr=%zu nr=%zu kr=%zu: %ld passed, %ld failed\n", c.name, f.kernel.mr, f.kernel.nr,
                f.kernel.kr, g_passed - p0, g_failed - f0);
  }
  if (ran == 0) std::printf("no x86 GEMM family runnable here\n");
  std::printf("%ld passed, %ld failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
