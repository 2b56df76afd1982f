// SPDX-License-Identifier: Apache-2.0
// Standalone check that the NEON int8 GEMM families ("neon", and "neondot" when the CPU has the
// dot-product extension) equal the scalar family and gemm_epilogue_scalar bit for bit.
// run-aarch64.sh cross-compiles it with only the GEMM kernel files (no library, no driver, no
// test framework) and runs it under qemu-aarch64; tests/cross/cross.cmake also builds it against
// the library's objects in every aarch64 build (CTest neon_qgemm_check). The last line printed is "N passed, M failed";
// any failure exits 1.
#include <sys/auxv.h>

#include <cinttypes>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/gemm/qgemm_kernel.h"

#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif

namespace {

long g_passed = 0, g_failed = 0;

void expect(bool ok, const char* what, const char* detail) {
  if (ok) {
    ++g_passed;
    return;
  }
  if (++g_failed <= 30) std::printf("FAIL %s %s\n", what, detail);
}

// 64-byte aligned scratch (the driver's guarantee for packed buffers and accumulator blocks).
struct Aligned {
  std::vector<uint8_t> raw;
  uint8_t* p = nullptr;
  explicit Aligned(size_t bytes) : raw(bytes + 64) {
    p = raw.data() + (64 - reinterpret_cast<uintptr_t>(raw.data()) % 64) % 64;
  }
};

// ---- dot products ---------------------------------------------------------------------------
// A: m x k u8 (row stride lda), B: n x k s8 (row stride ldb): inputs with room for misuse checks.
struct Problem {
  size_t m, n, k, lda, ldb;
  std::vector<uint8_t> a;
  std::vector<int8_t> b;
};

enum class Fill { kRandom, kMaxNeg, kMaxPos, kAlternating, kZeroA, kMinMaxRandom };
const char* fill_name(Fill f) {
  switch (f) {
    case Fill::kRandom: return "random";
    case Fill::kMaxNeg: return "255x-128";
    case Fill::kMaxPos: return "255x127";
    case Fill::kAlternating: return "alternating";
    case Fill::kZeroA: return "A=0";
    case Fill::kMinMaxRandom: return "extremes-random";
  }
  return "?";
}

// The fills are of the A bytes as stored after the caller's XOR (what the ukernel multiplies), so
// kMaxNeg means u8 255 x s8 -128 for either xor mask. Bytes past k in each row (the stride gap)
// are poison that no kernel may read into a result.
Problem make_problem(size_t m, size_t n, size_t k, Fill fill, uint8_t xor_mask, std::mt19937& rng) {
  Problem p{m, n, k, k + 3, k + 5, {}, {}};
  p.a.assign(m * p.lda, 0xA5);
  p.b.assign(n * p.ldb, int8_t(0x5A));
  std::uniform_int_distribution<int> byte(0, 255), bit(0, 1);
  for (size_t i = 0; i < m; ++i) {
    for (size_t kk = 0; kk < k; ++kk) {
      int v = 0;
      switch (fill) {
        case Fill::kRandom: v = byte(rng); break;
        case Fill::kMaxNeg: case Fill::kMaxPos: v = 255; break;
        case Fill::kAlternating: v = ((i + kk) & 1) ? 255 : 0; break;
        case Fill::kZeroA: v = 0; break;
        case Fill::kMinMaxRandom: v = bit(rng) ? 255 : 0; break;
      }
      p.a[i * p.lda + kk] = static_cast<uint8_t>(v ^ xor_mask);
    }
  }
  for (size_t j = 0; j < n; ++j) {
    for (size_t kk = 0; kk < k; ++kk) {
      int v = 0;
      switch (fill) {
        case Fill::kRandom: case Fill::kZeroA: v = byte(rng) - 128; break;
        case Fill::kMaxNeg: v = -128; break;
        case Fill::kMaxPos: v = 127; break;
        case Fill::kAlternating: v = ((j + kk) & 1) ? -128 : 127; break;
        case Fill::kMinMaxRandom: v = bit(rng) ? -128 : 127; break;
      }
      p.b[j * p.ldb + kk] = static_cast<int8_t>(v);
    }
  }
  return p;
}

// Naive oracle: sum over k of (A ^ xor) * B in int64, then mod 2^32 (the contract's wrapping).
std::vector<int32_t> oracle(const Problem& p, uint8_t xor_mask) {
  std::vector<int32_t> c(p.m * p.n);
  for (size_t i = 0; i < p.m; ++i)
    for (size_t j = 0; j < p.n; ++j) {
      int64_t s = 0;
      for (size_t kk = 0; kk < p.k; ++kk) s += int64_t(p.a[i * p.lda + kk] ^ xor_mask) * p.b[j * p.ldb + kk];
      c[i * p.n + j] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(s)));
    }
  return c;
}

// A minimal driver: every mr x nr tile through the family's own packing and micro-kernel. Also
// checks the padded rows / columns of every block (the packings' zero padding makes them 0) and
// that the ukernel writes only its mr x nr block.
std::vector<int32_t> run_family(const qk::QGemmKernel& f, const Problem& p, uint8_t xor_mask, bool* padding_ok) {
  const size_t panels = (p.n + f.nr - 1) / f.nr, stride = f.b_panel_stride(p.k);
  Aligned packed_b(panels * stride), packed_a(f.a_tile_size(p.k)), block((f.mr * f.nr + 16) * 4);
  f.pack_b(p.b.data(), p.n, p.k, p.ldb, packed_b.p);
  std::vector<int32_t> c(p.m * p.n, 0x7EADBEEF);
  *padding_ok = true;
  int32_t* blk = reinterpret_cast<int32_t*>(block.p);
  for (size_t i0 = 0; i0 < p.m; i0 += f.mr) {
    const size_t rows = p.m - i0 < f.mr ? p.m - i0 : f.mr;
    // The input the packer reads is the XOR-ed image; the packer undoes it with the same mask.
    f.pack_a(p.a.data() + i0 * p.lda, rows, p.k, p.lda, xor_mask, packed_a.p);
    for (size_t pn = 0; pn < panels; ++pn) {
      const size_t j0 = pn * f.nr, cols = p.n - j0 < f.nr ? p.n - j0 : f.nr;
      for (size_t t = 0; t < f.mr * f.nr + 16; ++t) blk[t] = 0x13579BDF;
      f.ukernel(p.k, packed_a.p, packed_b.p + pn * stride, blk, f.nr);
      for (size_t i = 0; i < f.mr; ++i)
        for (size_t j = 0; j < f.nr; ++j) {
          const int32_t v = blk[i * f.nr + j];
          if (i < rows && j < cols)
            c[(i0 + i) * p.n + j0 + j] = v;
          else if (v != 0)
            *padding_ok = false;
        }
      for (size_t t = f.mr * f.nr; t < f.mr * f.nr + 16; ++t)
        if (blk[t] != 0x13579BDF) *padding_ok = false;
    }
  }
  return c;
}

void check_dots(const std::vector<qk::QGemmKernel>& families, const qk::QGemmKernel& scalar) {
  std::mt19937 rng(0x5eed1234u);
  auto one = [&](size_t m, size_t n, size_t k, Fill fill, uint8_t xor_mask) {
    // make_problem fills the stored bytes; the families see A ^ xor_mask = the fill values.
    const Problem p = make_problem(m, n, k, fill, xor_mask, rng);
    const std::vector<int32_t> want = oracle(p, xor_mask);
    bool pad_scalar;
    const std::vector<int32_t> ref = run_family(scalar, p, xor_mask, &pad_scalar);
    char detail[160];
    std::snprintf(detail, sizeof detail, "m=%zu n=%zu k=%zu fill=%s xor=0x%02x", m, n, k, fill_name(fill), xor_mask);
    expect(ref == want, "scalar family vs oracle", detail);
    for (const qk::QGemmKernel& f : families) {
      bool pad_ok;
      const std::vector<int32_t> got = run_family(f, p, xor_mask, &pad_ok);
      char what[64];
      std::snprintf(what, sizeof what, "%s dots", f.isa);
      expect(got == ref && pad_ok, what, detail);
    }
  };
  const Fill fills[] = {Fill::kRandom, Fill::kMaxNeg, Fill::kMaxPos, Fill::kAlternating, Fill::kZeroA,
                        Fill::kMinMaxRandom};
  // Every partial tile shape (m, n <= 8 = mr = nr of both NEON families), every k up to 130
  // (every k % 16 tail of the packers, both sides of the unrolled steps), every fill and both
  // input signednesses.
  for (size_t k = 1; k <= 130; ++k)
    for (size_t m = 1; m <= 8; ++m)
      for (size_t n = 1; n <= 8; ++n)
        for (Fill fill : fills)
          for (uint8_t xor_mask : {uint8_t(0), uint8_t(0x80)})
            if (fill == Fill::kRandom || ((m + n + k) % 3 == 0)) one(m, n, k, fill, xor_mask);
  // Several row tiles and panels.
  for (size_t k : {size_t(1), size_t(16), size_t(37), size_t(300), size_t(1027)})
    for (Fill fill : fills) one(17, 19, k, fill, fill == Fill::kRandom ? 0x80 : 0);
  // The deepest k the contract allows: |sum| reaches 65536 * 255 * 128 = 2^31 - 2^24.
  for (Fill fill : {Fill::kMaxNeg, Fill::kMaxPos, Fill::kRandom, Fill::kMinMaxRandom})
    for (size_t k : {size_t(65536), size_t(65535), size_t(65533)}) one(8, 8, k, fill, 0);
}

// ---- epilogues ------------------------------------------------------------------------------
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

int32_t pick_acc(std::mt19937& rng) {
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<int32_t> full(INT32_MIN, INT32_MAX), small(-70000, 70000), tiny(-300, 300);
  switch (kind(rng)) {
    case 0: return INT32_MIN;
    case 1: return INT32_MAX;
    case 2: return 0;
    case 3: case 4: return full(rng);
    case 5: case 6: return small(rng);
    default: return tiny(rng);
  }
}

struct EpCase {
  qk::GemmEpilogue ep;
  std::vector<int32_t> col, row, mult, shift;
  std::vector<float> scale, bias;
  const char* name;
};

// Column arrays have `cols` entries and row_offset `rows`, so that row0 / col0 offsets index
// inside them.
void fill_columns(EpCase& c, size_t rows, size_t cols, bool with_rows, std::mt19937& rng) {
  c.col.resize(cols);
  for (auto& v : c.col) v = pick_acc(rng);
  c.row.clear();
  if (with_rows) {
    c.row.resize(rows);
    for (auto& v : c.row) v = pick_acc(rng);
  }
  c.ep.col_offset = c.col.data();
  c.ep.row_offset = with_rows ? c.row.data() : nullptr;
}

// Scales that produce every rounding situation: ties (powers of two), denormal and zero
// products (-0 for negative accumulators), overflow to infinity, and plain random ones.
float pick_scale(std::mt19937& rng, bool allow_nonfinite) {
  std::uniform_int_distribution<int> kind(0, 11);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  switch (kind(rng)) {
    case 0: return 0.5f;
    case 1: return 0.25f;
    case 2: return 1.0f;
    case 3: return 0.0f;
    case 4: return from_bits(0x00000001u);  // smallest denormal
    case 5: return 1e-9f;
    case 6: return allow_nonfinite ? std::numeric_limits<float>::infinity() : 1e30f;
    case 7: return 1e30f;
    default: return std::exp2(unit(rng) * 20.0f) * (1.0f + unit(rng) * 0.5f);
  }
}

void check_epilogues(const std::vector<qk::QGemmKernel>& families) {
  std::mt19937 rng(0xe91109eu);
  const size_t kRows = 32, kCols = 48, kLdacc = 24;
  std::vector<int32_t> acc(kRows * kLdacc);
  std::vector<uint8_t> want(kRows * 32 * 4), got(want.size());
  const float inf = std::numeric_limits<float>::infinity();
  const struct { float lo, hi; } f32_clamps[] = {{-inf, inf}, {0.0f, inf}, {0.0f, 6.0f}, {-1.5f, 2.25f},
                                                 {-0.0f, 0.0f}, {-1e9f, 1e-3f}};
  const struct { int32_t q_min, q_max, zp; bool is_signed; } q_ranges[] = {
      {0, 255, 0, false},    {0, 255, 128, false}, {0, 255, 255, false}, {0, 255, 3, false},  {37, 255, 37, false},
      {10, 60, 10, false},   {-128, 127, 0, true}, {-128, 127, -128, true}, {-128, 127, 127, true},
      {-128, 127, -5, true}, {-5, 127, -5, true},  {-20, 20, 0, true}};
  const double fp_reals[] = {std::ldexp(1.0, -40), 1e-9, 1e-5, 0.0031, 0.2, 0.5, 0.75, 0.999999, 1.0, 1.5,
                             3.3, 1000.0, std::ldexp(1.0, 30), std::ldexp(1.0, 31)};
  long cases = 0;
  for (const qk::QGemmKernel& f : families) {
    for (int kind = 0; kind < 4; ++kind) {  // s32, f32, quantized float, quantized fixed-point
      for (size_t m = 1; m <= 8; ++m) {
        for (size_t n = 1; n <= 20; ++n) {
          for (int variant = 0; variant < 6; ++variant) {
            const size_t row0 = (m * 3 + variant) % 7, col0 = (n * 5 + variant) % 11;
            for (auto& v : acc) v = pick_acc(rng);
            EpCase c;
            fill_columns(c, kRows, kCols, variant % 2 == 1, rng);
            c.scale.resize(kCols);
            for (auto& s : c.scale) s = pick_scale(rng, kind != 3);
            size_t out_bytes = 4;
            char detail[200];
            switch (kind) {
              case 0:
                c.ep.kind = qk::GemmOutput::kS32;
                std::snprintf(detail, sizeof detail, "s32");
                break;
              case 1: {
                c.ep.kind = qk::GemmOutput::kF32;
                c.ep.scale = c.scale.data();
                if (variant % 3 != 0) {
                  std::uniform_real_distribution<float> b(-100.0f, 100.0f);
                  c.bias.resize(kCols);
                  for (auto& v : c.bias) v = b(rng);
                  c.bias[variant] = -0.0f;
                  c.ep.bias = c.bias.data();
                }
                const auto& cl = f32_clamps[variant % 6];
                c.ep.f32_min = cl.lo;
                c.ep.f32_max = cl.hi;
                std::snprintf(detail, sizeof detail, "f32 clamp=[%g,%g] bias=%d", cl.lo, cl.hi, c.ep.bias != nullptr);
                break;
              }
              default: {
                const auto& q = q_ranges[(m * 7 + n + variant) % 12];
                c.ep.kind = qk::GemmOutput::kQuantized;
                c.ep.q_min = q.q_min;
                c.ep.q_max = q.q_max;
                c.ep.out_zp = q.zp;
                c.ep.out_signed = q.is_signed;
                out_bytes = 1;
                if (kind == 2) {
                  c.ep.scale = c.scale.data();
                } else {
                  c.ep.fixed_point = true;
                  c.mult.resize(kCols);
                  c.shift.resize(kCols);
                  std::uniform_int_distribution<int32_t> mul(1 << 30, INT32_MAX), sh(-31, 30), pick(0, 2);
                  for (size_t j = 0; j < kCols; ++j) {
                    if (pick(rng) == 0) {  // any multiplier / shift pair the ranges allow
                      c.mult[j] = mul(rng);
                      c.shift[j] = sh(rng);
                    } else {
                      qk::quantize_multiplier(fp_reals[(j + variant) % 14] * (1.0 + 0.01 * double(j)), &c.mult[j],
                                              &c.shift[j]);
                    }
                  }
                  c.ep.fp_multiplier = c.mult.data();
                  c.ep.fp_shift = c.shift.data();
                }
                std::snprintf(detail, sizeof detail, "quantized %s range=[%d,%d] zp=%d %s",
                              kind == 2 ? "float" : "fixed-point", q.q_min, q.q_max, q.zp, q.is_signed ? "s8" : "u8");
                break;
              }
            }
            const size_t ldo = n + 5;
            std::memset(want.data(), 0xC3, want.size());
            std::memset(got.data(), 0xC3, got.size());
            qk::gemm_epilogue_scalar(acc.data(), kLdacc, m, n, c.ep, row0, col0, want.data(), ldo);
            f.epilogue(acc.data(), kLdacc, m, n, c.ep, row0, col0, got.data(), ldo);
            (void)out_bytes;
            char full[300];
            std::snprintf(full, sizeof full, "m=%zu n=%zu row0=%zu col0=%zu rows=%d: %s", m, n, row0, col0,
                          variant % 2, detail);
            char what[64];
            std::snprintf(what, sizeof what, "%s epilogue", f.isa);
            expect(want == got, what, full);
            ++cases;
          }
        }
      }
    }
  }
  // Targeted: float requantization ties (acc * 0.5 = x.5 for odd acc) and fixed-point ties
  // (negative values exactly halfway), every lane position.
  for (const qk::QGemmKernel& f : families) {
    for (int fixed = 0; fixed <= 1; ++fixed) {
      EpCase c;
      std::vector<int32_t> a(8 * 8);
      for (size_t t = 0; t < a.size(); ++t) a[t] = int32_t(t) * 2 - 64 + 1;  // odd, both signs
      c.col.assign(8, 0);
      c.scale.assign(8, 0.5f);
      c.mult.assign(8, 1 << 30);  // 0.5 in Q0.31
      c.shift.assign(8, 0);
      for (size_t j = 0; j < 8; ++j) c.shift[j] = -int32_t(j % 3);
      c.ep.kind = qk::GemmOutput::kQuantized;
      c.ep.col_offset = c.col.data();
      c.ep.scale = c.scale.data();
      c.ep.fixed_point = fixed != 0;
      c.ep.fp_multiplier = c.mult.data();
      c.ep.fp_shift = c.shift.data();
      c.ep.q_min = -128;
      c.ep.q_max = 127;
      c.ep.out_signed = true;
      std::vector<int8_t> w(64, 0), g(64, 1);
      qk::gemm_epilogue_scalar(a.data(), 8, 8, 8, c.ep, 0, 0, w.data(), 8);
      f.epilogue(a.data(), 8, 8, 8, c.ep, 0, 0, g.data(), 8);
      char what[64];
      std::snprintf(what, sizeof what, "%s epilogue ties", f.isa);
      expect(w == g, what, fixed ? "fixed-point" : "float");
    }
  }
  std::printf("epilogue cases: %ld\n", cases);
}

}  // namespace

// --require-dotprod: fail (instead of checking neon only) when the CPU has no dot product; for
// runs on an emulated CPU that is known to have it.
int main(int argc, char** argv) {
  const bool require_dot = argc > 1 && std::strcmp(argv[1], "--require-dotprod") == 0;
  qk::QGemmKernel scalar, neon, neondot;
  qk::get_qgemm_kernel__scalar(&scalar);
  if (!qk::have_built_qgemm__neon()) {
    std::printf("NEON GEMM family not compiled in (build with -DQK_BUILD_NEON=1 for aarch64)\n0 passed, 1 failed\n");
    return 1;
  }
  qk::get_qgemm_kernel__neon(&neon);
  std::vector<qk::QGemmKernel> families{neon};
  const bool cpu_dot = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
  if (cpu_dot) {
    if (!qk::have_built_qgemm__neondot()) {
      std::printf("neondot GEMM family not compiled in (needs -march=armv8.2-a+dotprod)\n0 passed, 1 failed\n");
      return 1;
    }
    qk::get_qgemm_kernel__neondot(&neondot);
    families.push_back(neondot);
  } else if (require_dot) {
    std::printf("--require-dotprod: this CPU reports no dot product (HWCAP_ASIMDDP)\n0 passed, 1 failed\n");
    return 1;
  } else {
    std::printf("CPU without dot product: checking the neon family only\n");
  }
  check_dots(families, scalar);
  check_epilogues(families);
  std::printf("families:");
  for (const auto& f : families) std::printf(" %s(%zux%zu, kr %zu)", f.isa, f.mr, f.nr, f.kr);
  std::printf("\n%ld passed, %ld failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
