// SPDX-License-Identifier: Apache-2.0
// Golden quantize/dequantize: qk_quantize must reproduce torch.quantize_per_tensor /
// quantize_per_channel int_repr() code for code, and qk_dequantize must reproduce dequantize() bit
// for bit (data/quantize.txt). torch clamps to the dtype's range, so the qparams here use it.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "golden_io.h"
#include "quantkit/quantkit.h"

typedef struct dtype_info {
  qk_dtype dtype;
  int32_t qmin, qmax;
  size_t bytes;
} dtype_info;

static dtype_info dtype_info_of(const char* s) {
  if (strcmp(s, "u8") == 0) return (dtype_info){QK_DTYPE_U8, 0, 255, 1};
  if (strcmp(s, "s8") == 0) return (dtype_info){QK_DTYPE_S8, -128, 127, 1};
  if (strcmp(s, "s32") == 0) return (dtype_info){QK_DTYPE_S32, INT32_MIN, INT32_MAX, 4};
  fail_msg("unknown dtype %s", s);
  return (dtype_info){QK_DTYPE_F32, 0, 0, 0};
}

static int64_t code_at(const void* q, const dtype_info* d, size_t i) {
  switch (d->dtype) {
    case QK_DTYPE_U8:
      return ((const uint8_t*)q)[i];
    case QK_DTYPE_S8:
      return ((const int8_t*)q)[i];
    default:
      return ((const int32_t*)q)[i];
  }
}

// Runs one case with the given axis (the file's, or the same axis counted from the end).
static size_t run_case(golden_file* f, const golden_block* c, int32_t axis, const char* label) {
  size_t bad = 0, n = 0, rank = 0, count = 0;
  const dtype_info d = dtype_info_of(golden_str(c, "dtype"));
  const char* scheme_name = golden_str(c, "scheme");
  const int float_zp = strcmp(scheme_name, "per_channel_affine_float_qparams") == 0;
  const qk_qscheme scheme = float_zp ? QK_QSCHEME_PER_CHANNEL_AFFINE_FLOAT_QPARAMS
                            : strcmp(scheme_name, "per_tensor_affine") == 0 ? QK_QSCHEME_PER_TENSOR_AFFINE
                                                                            : QK_QSCHEME_PER_CHANNEL_AFFINE;
  const float* scales = golden_floats(f, c, "scale", &count);
  const int32_t* zps = float_zp ? NULL : golden_ints32(f, c, "zp", NULL);
  const float* fzps = float_zp ? golden_floats(f, c, "fzp", NULL) : NULL;
  const int64_t* shape = golden_ints(f, c, "x_shape", &rank);
  const float* x = golden_floats(f, c, "x", &n);
  const int64_t* want_q = golden_ints(f, c, "q", NULL);
  const float* want_dq = golden_floats(f, c, "dq", NULL);
  assert_int_equal(golden_count(c, "q"), n);

  qk_qparams* qp = NULL;
  assert_int_equal(qk_qparams_create(d.dtype, scheme, axis, 1, scales, zps, fzps, count, d.qmin, d.qmax, &qp), QK_OK);
  void* q = calloc(n ? n : 1, d.bytes);
  float* dq = (float*)calloc(n ? n : 1, sizeof(float));
  assert_non_null(q);
  assert_non_null(dq);
  uint64_t nans = 99;
  assert_int_equal(qk_quantize(qp, x, shape, rank, q, n * d.bytes, &nans), QK_OK);
  assert_int_equal(nans, 0);
  for (size_t i = 0; i < n; ++i)
    if (code_at(q, &d, i) != want_q[i])
      golden_mismatch(&bad, c->name, label, i, "x = %a: code %lld, torch %lld", (double)x[i],
                      (long long)code_at(q, &d, i), (long long)want_q[i]);
  assert_int_equal(qk_dequantize(qp, q, n * d.bytes, shape, rank, dq), QK_OK);
  for (size_t i = 0; i < n; ++i)
    if (golden_bits(dq[i]) != golden_bits(want_dq[i]))
      golden_mismatch(&bad, c->name, label, i, "code %lld: dequantized %a, torch %a", (long long)code_at(q, &d, i),
                      (double)dq[i], (double)want_dq[i]);
  free(q);
  free(dq);
  qk_qparams_destroy(qp);
  return bad;
}

// Cases that quantize float inputs ("x"); the rest dequantize given codes only.
static int quantizes(const golden_block* c) { return golden_is_case(c) && golden_has(c, "x"); }

// Every case, per tensor (u8, s8, s32) and per channel (each axis, integer and float zero points).
static void test_quantize_codes_and_dequantized_values_match_torch(void** state) {
  (void)state;
  golden_file* f = golden_load("quantize.txt");
  size_t bad = 0, cases = 0;
  for (size_t i = 0; i < f->nblocks; ++i) {
    const golden_block* c = &f->blocks[i];
    if (!quantizes(c)) continue;
    ++cases;
    bad += run_case(f, c, (int32_t)golden_int(c, "axis"), "codes");
  }
  print_message("quantize: %zu cases on ISA %s, %zu mismatches\n", cases, qk_isa_name(), bad);
  golden_free(f);
  assert_true(cases >= 30);
  assert_int_equal(bad, 0);
}

// Per-channel qparams with the axis counted from the end (torch itself rejects negative axes).
static void test_quantize_negative_axis_matches_torch(void** state) {
  (void)state;
  golden_file* f = golden_load("quantize.txt");
  size_t bad = 0, cases = 0;
  for (size_t i = 0; i < f->nblocks; ++i) {
    const golden_block* c = &f->blocks[i];
    if (!quantizes(c) || strcmp(golden_str(c, "scheme"), "per_tensor_affine") == 0) continue;
    ++cases;
    const int32_t axis = (int32_t)golden_int(c, "axis") - (int32_t)golden_count(c, "x_shape");
    bad += run_case(f, c, axis, "codes(negative axis)");
  }
  golden_free(f);
  assert_true(cases >= 9);
  assert_int_equal(bad, 0);
}

// Dequantizing arbitrary codes (s32 ones past 2^24 included, as read from a model file) matches
// torch's dequantize() of a tensor made from those codes, per tensor and per channel.
static void test_quantize_dequantize_of_given_codes_matches_torch(void** state) {
  (void)state;
  golden_file* f = golden_load("quantize.txt");
  size_t bad = 0, cases = 0;
  for (size_t b = 0; b < f->nblocks; ++b) {
    const golden_block* c = &f->blocks[b];
    if (!golden_is_case(c) || quantizes(c)) continue;
    ++cases;
    size_t n = 0, rank = 0, count = 0;
    const dtype_info d = dtype_info_of(golden_str(c, "dtype"));
    const int per_tensor = strcmp(golden_str(c, "scheme"), "per_tensor_affine") == 0;
    const float* scales = golden_floats(f, c, "scale", &count);
    const int32_t* zps = golden_ints32(f, c, "zp", NULL);
    const int64_t* shape = golden_ints(f, c, "q_shape", &rank);
    const int64_t* codes = golden_ints(f, c, "q", &n);
    const float* want = golden_floats(f, c, "dq", NULL);
    qk_qparams* qp = NULL;
    assert_int_equal(
        qk_qparams_create(d.dtype, per_tensor ? QK_QSCHEME_PER_TENSOR_AFFINE : QK_QSCHEME_PER_CHANNEL_AFFINE,
                          (int32_t)golden_int(c, "axis"), 1, scales, zps, NULL, count, d.qmin, d.qmax, &qp),
        QK_OK);
    void* q = calloc(n, d.bytes);
    float* dq = (float*)calloc(n, sizeof(float));
    assert_non_null(q);
    assert_non_null(dq);
    for (size_t i = 0; i < n; ++i) {
      if (d.dtype == QK_DTYPE_U8)
        ((uint8_t*)q)[i] = (uint8_t)codes[i];
      else if (d.dtype == QK_DTYPE_S8)
        ((int8_t*)q)[i] = (int8_t)codes[i];
      else
        ((int32_t*)q)[i] = (int32_t)codes[i];
    }
    assert_int_equal(qk_dequantize(qp, q, n * d.bytes, shape, rank, dq), QK_OK);
    for (size_t i = 0; i < n; ++i)
      if (golden_bits(dq[i]) != golden_bits(want[i]))
        golden_mismatch(&bad, c->name, "dequantize", i, "code %lld: %a, torch %a", (long long)codes[i], (double)dq[i],
                        (double)want[i]);
    free(q);
    free(dq);
    qk_qparams_destroy(qp);
  }
  golden_free(f);
  assert_true(cases >= 5);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantize_codes_and_dequantized_values_match_torch),
      cmocka_unit_test(test_quantize_negative_axis_matches_torch),
      cmocka_unit_test(test_quantize_dequantize_of_given_codes_matches_torch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
