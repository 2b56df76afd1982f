// SPDX-License-Identifier: Apache-2.0
// Golden float16 / bfloat16 casts against PyTorch 1.13's x.half(), x.bfloat16() and .float()
// (data/half.txt). Bit for bit, except NaN: torch drops NaN payloads going down (f16: sign|0x7e00,
// bf16: always 0xffff) and quiets signalling f16 NaNs going up, so NaNs are compared as NaNs.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "golden_io.h"
#include "quantkit/quantkit.h"

static qk_dtype half_dtype(const golden_block* c, const char* key) {
  return strcmp(golden_str(c, key), "f16") == 0 ? QK_DTYPE_F16 : QK_DTYPE_BF16;
}

static int half_is_nan(uint16_t h, qk_dtype dtype) {
  return dtype == QK_DTYPE_F16 ? (h & 0x7FFFu) > 0x7C00u : (h & 0x7FFFu) > 0x7F80u;
}

// F32 -> F16 / BF16 (round to nearest even, subnormals, ties, overflow to Inf) equals torch.
static void test_half_f32_down_casts_match_torch(void** state) {
  (void)state;
  golden_file* f = golden_load("half.txt");
  size_t bad = 0, cases = 0, nan_inputs = 0;
  for (size_t b = 0; b < f->nblocks; ++b) {
    const golden_block* c = &f->blocks[b];
    if (!golden_is_case(c) || strcmp(golden_str(c, "from"), "f32") != 0) continue;
    ++cases;
    const qk_dtype to = half_dtype(c, "to");
    size_t n = 0;
    const float* x = golden_floats(f, c, "x", &n);
    const int64_t* want = golden_ints(f, c, "y", NULL);
    uint16_t* y = (uint16_t*)calloc(n, sizeof(uint16_t));
    assert_int_equal(qk_cast(x, QK_DTYPE_F32, y, to, n), QK_OK);
    for (size_t i = 0; i < n; ++i) {
      if (half_is_nan((uint16_t)want[i], to)) {
        ++nan_inputs;
        if (!half_is_nan(y[i], to)) golden_mismatch(&bad, c->name, "nan", i, "0x%04x is not NaN", y[i]);
      } else if (y[i] != want[i]) {
        golden_mismatch(&bad, c->name, golden_str(c, "to"), i, "x = 0x%08x: 0x%04x, torch 0x%04llx", golden_bits(x[i]),
                        y[i], (unsigned long long)want[i]);
      }
    }
    free(y);
  }
  golden_free(f);
  assert_int_equal(cases, 2);
  assert_true(nan_inputs >= 16);
  assert_int_equal(bad, 0);
}

// FNV-1a 64 over the little-endian bytes of 32-bit words, as gen_torch.py computes it.
static uint64_t fnv1a64(const uint32_t* words, size_t n) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < 4; ++k) {
      h ^= (words[i] >> (8 * k)) & 0xFFu;
      h *= 0x100000001B3ull;
    }
  return h;
}

// F16 / BF16 -> F32 on all 65536 bit patterns equals torch (hash of the whole table, NaNs
// canonicalised for f16 where torch quiets them), plus an explicit sample for diagnosis.
static void test_half_up_casts_match_torch_on_every_pattern(void** state) {
  (void)state;
  golden_file* f = golden_load("half.txt");
  size_t bad = 0, cases = 0;
  uint16_t* all = (uint16_t*)malloc(65536 * sizeof(uint16_t));
  float* out = (float*)malloc(65536 * sizeof(float));
  uint32_t* words = (uint32_t*)malloc(65536 * sizeof(uint32_t));
  assert_non_null(all);
  assert_non_null(out);
  assert_non_null(words);
  for (uint32_t i = 0; i < 65536; ++i) all[i] = (uint16_t)i;
  for (size_t b = 0; b < f->nblocks; ++b) {
    const golden_block* c = &f->blocks[b];
    if (!golden_is_case(c) || strcmp(golden_str(c, "to"), "f32") != 0) continue;
    ++cases;
    const qk_dtype from = half_dtype(c, "from");
    const int canonical = golden_int(c, "nan_canonical") != 0;
    assert_int_equal(qk_cast(all, from, out, QK_DTYPE_F32, 65536), QK_OK);
    size_t n = 0;
    const int64_t* sample = golden_ints(f, c, "x", &n);
    const float* want = golden_floats(f, c, "y", NULL);
    for (size_t i = 0; i < n; ++i) {
      const float got = out[sample[i]];
      const int same = (got != got && want[i] != want[i] && canonical) || golden_bits(got) == golden_bits(want[i]);
      if (!same)
        golden_mismatch(&bad, c->name, golden_str(c, "from"), (size_t)sample[i], "0x%08x, torch 0x%08x",
                        golden_bits(got), golden_bits(want[i]));
    }
    for (uint32_t i = 0; i < 65536; ++i) {
      words[i] = golden_bits(out[i]);
      if (canonical && out[i] != out[i]) words[i] = 0x7FC00000u;
    }
    const uint64_t want_hash = (uint64_t)strtoull(golden_str(c, "all_fnv1a64"), NULL, 10);
    if (fnv1a64(words, 65536) != want_hash)
      golden_mismatch(&bad, c->name, "all patterns", 0, "hash %llu, torch %llu",
                      (unsigned long long)fnv1a64(words, 65536), (unsigned long long)want_hash);
  }
  free(all);
  free(out);
  free(words);
  golden_free(f);
  assert_int_equal(cases, 2);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_half_f32_down_casts_match_torch),
      cmocka_unit_test(test_half_up_casts_match_torch_on_every_pattern),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
