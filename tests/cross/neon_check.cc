// SPDX-License-Identifier: Apache-2.0
// Standalone check that the NEON kernels equal the scalar spec bit for bit. run-aarch64.sh
// cross-compiles it with only the two kernel files (no library, no test framework) and runs it
// under qemu-aarch64. The last line printed is "N passed, M failed"; any failure exits 1.
#include <algorithm>
#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/quantize_kernels.h"

namespace {

qk::QuantizeKernels g_scalar, g_neon;
long g_passed = 0, g_failed = 0;

// Counts one comparison; prints the first failures with enough context to reproduce them.
void expect(bool ok, const char* what, size_t n, const char* detail = "") {
  if (ok) {
    ++g_passed;
    return;
  }
  if (++g_failed <= 20) std::printf("FAIL %s n=%zu %s\n", what, n, detail);
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Random normal values at several magnitudes, then every special value the spec has a rule for.
std::vector<float> make_inputs(std::mt19937& rng) {
  std::vector<float> v;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float mag : {1.0f, 30.0f, 300.0f, 1e6f})
    for (int i = 0; i < 400; ++i) v.push_back(normal(rng) * mag);
  const uint32_t special[] = {0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u,  // +-0, +-Inf
                              0x7FC00000u, 0xFFC00000u, 0x7FC00001u, 0x7F800001u,  // quiet and signalling NaNs
                              0xFFBFFFFFu, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x7FA5A5A5u,  // NaN payloads
                              0x00000001u, 0x80000001u, 0x007FFFFFu, 0x807FFFFFu,  // denormals
                              0x00800000u, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x4F000000u,  // FLT_MIN, +-FLT_MAX, 2^31
                              0xCF000000u, 0x4F800000u, 0x5F000000u};               // -2^31, 2^32, 2^63
  for (uint32_t bits : special) v.push_back(from_bits(bits));
  for (int k = -300; k <= 300; ++k) {  // exact .5 ties and their neighbours
    const float t = static_cast<float>(k) + 0.5f;
    v.push_back(t);
    v.push_back(std::nextafter(t, 0.0f));
    v.push_back(std::nextafter(t, 1e9f));
  }
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

// Only special values, NaNs every few elements, so that every code path (wide body, 8-wide
// steps, scalar tail) meets them.
std::vector<float> make_dense_specials() {
  const uint32_t special[] = {0x7FC00000u, 0x3F000000u, 0xFF800001u, 0x7F800000u, 0xFF800000u, 0x7F7FFFFFu,
                              0x00000001u, 0x80000000u, 0x7FBFFFFFu, 0x3FC00000u, 0xC0200000u};
  std::vector<float> v;
  for (size_t i = 0; i < 1100; ++i) v.push_back(from_bits(special[(i * 7) % (sizeof special / sizeof special[0])]));
  return v;
}

struct QuantCase {
  float inv_scale;
  int32_t zp, qmin, qmax;
  bool is_unsigned;
};

// Every range shape the library produces (full, reduced, symmetric-narrowed, 4-bit, custom) with
// the zero point at both ends, next to them and in the middle.
std::vector<QuantCase> make_quant_cases() {
  const struct { int32_t qmin, qmax; bool is_unsigned; } ranges[] = {
      {-128, 127, false}, {-127, 127, false}, {-64, 63, false}, {-8, 7, false}, {-3, 100, false},
      {0, 255, true},     {0, 127, true},     {0, 254, true},   {0, 15, true},  {0, 200, true}};
  std::vector<QuantCase> cases;
  for (const auto& r : ranges) {
    const int32_t zps[] = {r.qmin, r.qmin + 1, (r.qmin + r.qmax) / 2, r.qmax - 1, r.qmax};
    for (int32_t zp : zps)
      for (float inv : {1.0f, 0.5f, 2.0f, 1.0f / 0.0173f, 1.0f / 3.7f, 1e-30f, 1e30f})
        cases.push_back({inv, zp, r.qmin, r.qmax, r.is_unsigned});
  }
  return cases;
}

// Lengths 0..70 and a long odd one hit every tail; offsets make the buffers misaligned.
std::vector<size_t> lengths() {
  std::vector<size_t> n;
  for (size_t i = 0; i <= 70; ++i) n.push_back(i);
  n.push_back(1001);
  n.push_back(1027);
  return n;
}

void check_quantize(const std::vector<float>& pool, const std::vector<float>& dense) {
  const unsigned char kSentinel = 0xA5;
  std::vector<uint8_t> a(2048), b(2048);
  for (const QuantCase& c : make_quant_cases()) {
    for (size_t n : lengths()) {
      for (size_t off : {size_t(0), size_t(1), size_t(3)}) {
        // Offset 3 also switches to the dense specials; the others read the random/tie pool.
        const float* x = off == 3 ? dense.data() + n % 7 : pool.data() + (off * 37 + n) % (pool.size() - 1100);
        std::memset(a.data(), kSentinel, a.size());
        std::memset(b.data(), kSentinel, b.size());
        uint64_t na, nb;
        if (c.is_unsigned) {
          na = g_scalar.quantize_u8(x, n, c.inv_scale, c.zp, c.qmin, c.qmax, a.data() + off);
          nb = g_neon.quantize_u8(x, n, c.inv_scale, c.zp, c.qmin, c.qmax, b.data() + off);
        } else {
          na = g_scalar.quantize_s8(x, n, c.inv_scale, c.zp, c.qmin, c.qmax, reinterpret_cast<int8_t*>(a.data() + off));
          nb = g_neon.quantize_s8(x, n, c.inv_scale, c.zp, c.qmin, c.qmax, reinterpret_cast<int8_t*>(b.data() + off));
        }
        char detail[128];
        std::snprintf(detail, sizeof detail, "inv=%g zp=%d range=[%d,%d] off=%zu", c.inv_scale, c.zp, c.qmin, c.qmax, off);
        // Whole buffers: equal codes, and neither kernel wrote past n.
        expect(na == nb && std::memcmp(a.data(), b.data(), a.size()) == 0 && b[off + n] == kSentinel,
               c.is_unsigned ? "quantize_u8" : "quantize_s8", n, detail);
      }
    }
  }
}

void check_dequantize() {
  std::vector<uint8_t> codes(1100);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(i * 7 + 3);
  std::vector<float> a(1100), b(1100);
  for (int32_t zp : {-128, -127, -1, 0, 1, 7, 127, 128, 200, 255}) {
    for (float scale : {1.0f, 0.0173f, 3.0e38f, 1e-45f, 0.1f}) {
      for (size_t n : lengths()) {
        if (zp <= 127) {
          std::memset(a.data(), 0, a.size() * 4);
          std::memset(b.data(), 0, b.size() * 4);
          g_scalar.dequantize_s8(reinterpret_cast<const int8_t*>(codes.data()) + 1, n, scale, zp, a.data());
          g_neon.dequantize_s8(reinterpret_cast<const int8_t*>(codes.data()) + 1, n, scale, zp, b.data());
          expect(std::memcmp(a.data(), b.data(), a.size() * 4) == 0, "dequantize_s8", n);
        }
        if (zp >= 0) {
          std::memset(a.data(), 0, a.size() * 4);
          std::memset(b.data(), 0, b.size() * 4);
          g_scalar.dequantize_u8(codes.data() + 3, n, scale, zp, a.data());
          g_neon.dequantize_u8(codes.data() + 3, n, scale, zp, b.data());
          expect(std::memcmp(a.data(), b.data(), a.size() * 4) == 0, "dequantize_u8", n);
        }
      }
    }
  }
}

// f32 -> f16/bf16 on every float whose low bits sit at a rounding boundary (exactly halfway, one
// either side, truncation, all ones), for every value of the high bits: all NaN payload classes,
// overflow, subnormal results and every tie. Then the reverse on all 2^16 codes.
void check_casts(const std::vector<float>& pool) {
  for (int bf16 = 0; bf16 <= 1; ++bf16) {
    const int drop = bf16 ? 16 : 13;
    const uint32_t half = 1u << (drop - 1), low_mask = (1u << drop) - 1;
    const uint32_t lows[] = {0, 1, half - 1, half, half + 1, low_mask};
    std::vector<float> x;
    for (uint64_t hi = 0; hi < (1ull << (32 - drop)); ++hi)
      for (uint32_t low : lows) x.push_back(from_bits(static_cast<uint32_t>(hi << drop) | low));
    std::vector<uint16_t> a(x.size()), b(x.size());
    const qk::F32ToHalfFn ref = bf16 ? g_scalar.f32_to_bf16 : g_scalar.f32_to_f16;
    const qk::F32ToHalfFn vec = bf16 ? g_neon.f32_to_bf16 : g_neon.f32_to_f16;
    ref(x.data(), x.size(), a.data());
    vec(x.data(), x.size(), b.data());
    expect(a == b, bf16 ? "f32_to_bf16 boundary sweep" : "f32_to_f16 boundary sweep", x.size());
    for (size_t n : lengths()) {
      std::vector<uint16_t> c(n + 1, 0x5A5A), d(n + 1, 0x5A5A);
      ref(pool.data() + 5, n, c.data());
      vec(pool.data() + 5, n, d.data());
      expect(c == d, bf16 ? "f32_to_bf16 tail" : "f32_to_f16 tail", n);
    }
  }
  std::vector<uint16_t> codes(65536 + 1);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint16_t>(i);
  std::vector<float> a(codes.size()), b(codes.size());
  for (int bf16 = 0; bf16 <= 1; ++bf16) {
    const qk::HalfToF32Fn ref = bf16 ? g_scalar.bf16_to_f32 : g_scalar.f16_to_f32;
    const qk::HalfToF32Fn vec = bf16 ? g_neon.bf16_to_f32 : g_neon.f16_to_f32;
    for (size_t n : {size_t(65536), size_t(65535), size_t(7), size_t(1)}) {
      std::memset(a.data(), 0, a.size() * 4);
      std::memset(b.data(), 0, b.size() * 4);
      ref(codes.data() + 1, n, a.data());
      vec(codes.data() + 1, n, b.data());
      expect(std::memcmp(a.data(), b.data(), a.size() * 4) == 0, bf16 ? "bf16_to_f32 all codes" : "f16_to_f32 all codes", n);
    }
  }
}

}  // namespace

int main() {
  qk::fill_quantize_kernels__scalar(&g_scalar);
  if (!qk::have_built__neon()) {
    std::printf("NEON kernels not compiled in (build with -DQK_BUILD_NEON=1 for aarch64)\n0 passed, 1 failed\n");
    return 1;
  }
  g_neon = g_scalar;
  qk::fill_quantize_kernels__neon(&g_neon);
  std::mt19937 rng(20240613u);
  const std::vector<float> pool = make_inputs(rng);
  check_quantize(pool, make_dense_specials());
  check_dequantize();
  check_casts(pool);
  std::printf("%ld passed, %ld failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
