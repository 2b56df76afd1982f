// SPDX-License-Identifier: Apache-2.0
// Golden qparams: QuantKit's MinMax-family observers and qk_qparams_compute against the
// calculate_qparams() of torch.ao.quantization 1.13 observers (data/qparams.txt). Scales must be
// bit-identical, zero points (integer or float) identical.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_io.h"
#include "quantkit/quantkit.h"

static qk_dtype dtype_of(const char* s) {
  if (strcmp(s, "u8") == 0) return QK_DTYPE_U8;
  if (strcmp(s, "s8") == 0) return QK_DTYPE_S8;
  if (strcmp(s, "s32") == 0) return QK_DTYPE_S32;
  fail_msg("unknown dtype %s", s);
  return QK_DTYPE_F32;
}

static qk_qscheme scheme_of(const char* s) {
  if (strcmp(s, "per_tensor_affine") == 0) return QK_QSCHEME_PER_TENSOR_AFFINE;
  if (strcmp(s, "per_tensor_symmetric") == 0) return QK_QSCHEME_PER_TENSOR_SYMMETRIC;
  if (strcmp(s, "per_channel_affine") == 0) return QK_QSCHEME_PER_CHANNEL_AFFINE;
  if (strcmp(s, "per_channel_symmetric") == 0) return QK_QSCHEME_PER_CHANNEL_SYMMETRIC;
  if (strcmp(s, "per_channel_affine_float_qparams") == 0) return QK_QSCHEME_PER_CHANNEL_AFFINE_FLOAT_QPARAMS;
  fail_msg("unknown scheme %s", s);
  return QK_QSCHEME_PER_TENSOR_AFFINE;
}

static qk_observer_kind kind_of(const char* s) {
  if (strcmp(s, "minmax") == 0) return QK_OBSERVER_MINMAX;
  if (strcmp(s, "ma_minmax") == 0) return QK_OBSERVER_MOVING_AVERAGE_MINMAX;
  if (strcmp(s, "pc_minmax") == 0) return QK_OBSERVER_PER_CHANNEL_MINMAX;
  if (strcmp(s, "ma_pc_minmax") == 0) return QK_OBSERVER_MOVING_AVERAGE_PER_CHANNEL_MINMAX;
  fail_msg("unknown observer kind %s", s);
  return QK_OBSERVER_MINMAX;
}

// The spec a torch observer config stands for: dtype, scheme, custom range, reduce_range, eps, axis.
static qk_quant_spec* spec_of(golden_file* f, const golden_block* c) {
  qk_quant_spec* spec = NULL;
  assert_int_equal(qk_quant_spec_create(dtype_of(golden_str(c, "dtype")), scheme_of(golden_str(c, "scheme")), &spec),
                   QK_OK);
  if (strcmp(golden_str(c, "range"), "default") != 0) {
    size_t n = 0;
    const int32_t* r = golden_ints32(f, c, "range", &n);
    assert_int_equal(n, 2);
    assert_int_equal(qk_quant_spec_set_range(spec, r[0], r[1]), QK_OK);
  }
  assert_int_equal(qk_quant_spec_set_reduce_range(spec, (int)golden_int(c, "reduce")), QK_OK);
  assert_int_equal(qk_quant_spec_set_eps(spec, golden_float(c, "eps")), QK_OK);
  assert_int_equal(qk_quant_spec_set_axis(spec, (int32_t)golden_int(c, "axis")), QK_OK);
  return spec;
}

static int expects_unsupported(const golden_block* c) { return strcmp(golden_str(c, "expect"), "unsupported") == 0; }

// Compares computed qparams with the case's torch scale and zp/fzp; returns the mismatch count.
static size_t compare_qparams(golden_file* f, const golden_block* c, const qk_qparams* qp, const char* path) {
  size_t bad = 0, n = 0, count = 0;
  const float* scale = golden_floats(f, c, "scale", &n);
  assert_int_equal(qk_qparams_get_count(qp, &count), QK_OK);
  if (count != n) {
    golden_mismatch(&bad, c->name, path, 0, "%zu channels, torch has %zu", count, n);
    return bad;
  }
  float got_scale[16];
  assert_true(n <= 16);
  assert_int_equal(qk_qparams_get_scales(qp, got_scale, 16), QK_OK);
  for (size_t i = 0; i < n; ++i)
    if (golden_bits(got_scale[i]) != golden_bits(scale[i]))
      golden_mismatch(&bad, c->name, path, i, "scale %a (0x%08x), torch %a (0x%08x)", (double)got_scale[i],
                      golden_bits(got_scale[i]), (double)scale[i], golden_bits(scale[i]));
  if (golden_has(c, "fzp")) {
    const float* fzp = golden_floats(f, c, "fzp", NULL);
    float got[16];
    assert_int_equal(qk_qparams_get_float_zero_points(qp, got, 16), QK_OK);
    // -min/scale: bit for bit, except that +0 and -0 are equal. Over data holding both zeros,
    // torch.aminmax may report either as the minimum (IEEE min leaves it open) and the zero
    // point is then -0 or +0; both quantize identically.
    for (size_t i = 0; i < n; ++i)
      if (golden_bits(got[i]) != golden_bits(fzp[i]) && !(got[i] == 0.0f && fzp[i] == 0.0f))
        golden_mismatch(&bad, c->name, path, i, "float zero point %a, torch %a", (double)got[i], (double)fzp[i]);
  } else {
    const int64_t* zp = golden_ints(f, c, "zp", NULL);
    int32_t got[16];
    assert_int_equal(qk_qparams_get_zero_points(qp, got, 16), QK_OK);
    for (size_t i = 0; i < n; ++i)
      if (got[i] != zp[i])
        golden_mismatch(&bad, c->name, path, i, "zero point %d, torch %lld", got[i], (long long)zp[i]);
  }
  return bad;
}

// Feeds every batch of the case's dataset to a fresh QuantKit observer.
static qk_observer* observe(golden_file* f, const golden_block* c, const qk_quant_spec* spec) {
  const qk_observer_kind kind = kind_of(golden_str(c, "kind"));
  qk_observer* obs = NULL;
  assert_int_equal(qk_observer_create(kind, spec, &obs), QK_OK);
  if (kind == QK_OBSERVER_MOVING_AVERAGE_MINMAX || kind == QK_OBSERVER_MOVING_AVERAGE_PER_CHANNEL_MINMAX)
    assert_int_equal(
        qk_observer_set_param(obs, QK_OBSERVER_PARAM_AVERAGING_CONSTANT, strtod(golden_str(c, "avg"), NULL)), QK_OK);
  const golden_block* d = golden_find(f, "data", golden_str(c, "dataset"));
  const int64_t batches = golden_int(d, "batches");
  for (int64_t b = 0; b < batches; ++b) {
    char key[32], shape_key[40];
    snprintf(key, sizeof key, "x%lld", (long long)b);
    snprintf(shape_key, sizeof shape_key, "x%lld_shape", (long long)b);
    size_t rank = 0;
    const int64_t* shape = golden_ints(f, d, shape_key, &rank);
    const float* x = golden_floats(f, d, key, NULL);
    assert_int_equal(qk_observer_update(obs, x, shape, rank), QK_OK);
  }
  return obs;
}

// Observers fed the same batches as torch's end with torch's min/max and give torch's qparams.
static void test_qparams_observers_match_torch(void** state) {
  (void)state;
  golden_file* f = golden_load("qparams.txt");
  size_t bad = 0, cases = 0, unsupported = 0;
  for (size_t i = 0; i < f->nblocks; ++i) {
    const golden_block* c = &f->blocks[i];
    if (!golden_is_case(c)) continue;
    ++cases;
    qk_quant_spec* spec = spec_of(f, c);
    qk_observer* obs = observe(f, c, spec);
    qk_qparams* qp = NULL;
    const qk_status st = qk_observer_compute_qparams(obs, &qp);
    if (expects_unsupported(c)) {
      ++unsupported;
      if (st != QK_ERR_UNSUPPORTED)
        golden_mismatch(&bad, c->name, "status", 0, "%s, torch refuses", qk_status_string(st));
    } else if (st != QK_OK) {
      golden_mismatch(&bad, c->name, "status", 0, "%s: %s", qk_status_string(st), qk_last_error());
    } else {
      // The observed range first: the moving averages must follow torch's float32 recurrence.
      size_t n = 0;
      const float* tmin = golden_floats(f, c, "min", &n);
      const float* tmax = golden_floats(f, c, "max", NULL);
      float lo[16], hi[16];
      assert_true(n <= 16);
      assert_int_equal(qk_observer_get_range(obs, lo, hi, 16), QK_OK);
      for (size_t k = 0; k < n; ++k)  // == so that torch's and our choice of -0 vs +0 may differ
        if (lo[k] != tmin[k] || hi[k] != tmax[k])
          golden_mismatch(&bad, c->name, "range", k, "[%a, %a], torch [%a, %a]", (double)lo[k], (double)hi[k],
                          (double)tmin[k], (double)tmax[k]);
      bad += compare_qparams(f, c, qp, "observer");
    }
    qk_qparams_destroy(qp);
    qk_observer_destroy(obs);
    qk_quant_spec_destroy(spec);
  }
  print_message("qparams: %zu observer cases (%zu refused as torch refuses), %zu mismatches\n", cases, unsupported,
                bad);
  golden_free(f);
  assert_true(cases > 300);
  assert_true(unsupported > 0);
  assert_int_equal(bad, 0);
}

// qk_qparams_compute on torch's own final min/max gives torch's qparams (the math alone).
static void test_qparams_compute_from_torch_range_matches_torch(void** state) {
  (void)state;
  golden_file* f = golden_load("qparams.txt");
  size_t bad = 0, cases = 0;
  for (size_t i = 0; i < f->nblocks; ++i) {
    const golden_block* c = &f->blocks[i];
    if (!golden_is_case(c) || expects_unsupported(c)) continue;
    ++cases;
    qk_quant_spec* spec = spec_of(f, c);
    size_t n = 0;
    const float* tmin = golden_floats(f, c, "min", &n);
    const float* tmax = golden_floats(f, c, "max", NULL);
    qk_qparams* qp = NULL;
    const qk_status st = qk_qparams_compute(spec, tmin, tmax, n, &qp);
    if (st != QK_OK)
      golden_mismatch(&bad, c->name, "status", 0, "%s: %s", qk_status_string(st), qk_last_error());
    else
      bad += compare_qparams(f, c, qp, "compute");
    qk_qparams_destroy(qp);
    qk_quant_spec_destroy(spec);
  }
  golden_free(f);
  assert_true(cases > 300);
  assert_int_equal(bad, 0);
}

// Where torch refuses a config (reduce_range with symmetric quint8), qk_qparams_compute refuses too.
static void test_qparams_compute_refuses_what_torch_refuses(void** state) {
  (void)state;
  golden_file* f = golden_load("qparams.txt");
  size_t bad = 0, cases = 0;
  const float lo = -1.0f, hi = 2.0f;
  for (size_t i = 0; i < f->nblocks; ++i) {
    const golden_block* c = &f->blocks[i];
    if (!golden_is_case(c) || !expects_unsupported(c)) continue;
    ++cases;
    qk_quant_spec* spec = spec_of(f, c);
    qk_qparams* qp = NULL;
    const qk_status st = qk_qparams_compute(spec, &lo, &hi, 1, &qp);
    if (st != QK_ERR_UNSUPPORTED) golden_mismatch(&bad, c->name, "status", 0, "%s", qk_status_string(st));
    qk_qparams_destroy(qp);
    qk_quant_spec_destroy(spec);
  }
  golden_free(f);
  assert_true(cases > 0);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_qparams_observers_match_torch),
      cmocka_unit_test(test_qparams_compute_from_torch_range_matches_torch),
      cmocka_unit_test(test_qparams_compute_refuses_what_torch_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
