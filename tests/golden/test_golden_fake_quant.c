// SPDX-License-Identifier: Apache-2.0
// Golden fake quantization against PyTorch 1.13: forward, mask and straight-through x.grad of
// fake_quantize_per_{tensor,channel}_affine bit for bit (data/fake_quant.txt), and the learnable
// (LSQ) backward of _fake_quantize_learnable_per_{tensor,channel}_affine (data/fake_quant_learnable.txt):
// grad_x bit for bit; grad_scale / grad_zero_point within a tolerance, because they are sums and
// torch reduces in float32 in its own order while QuantKit sums in double.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "golden_io.h"
#include "quantkit/quantkit.h"

// Sum tolerance: |ours - torch| <= kRel * |torch| + kAbs * S, S = sum of |per-element terms|
// (from the generator). A float32 sum of n terms in any order is within about
// log2(n) * 2^-24 * S of the exact sum (pairwise/cascade order; n <= 64 here gives < 4e-7 * S),
// and ours is the double sum rounded once (half an ulp, < 6e-8 relative). kAbs = 1e-6 covers
// torch's error with margin; kRel = 1e-5 covers our rounding and the generator's approximate S.
static const double kRel = 1e-5;
static const double kAbs = 1e-6;

static void range_of(golden_file* f, const golden_block* c, int32_t* qmin, int32_t* qmax) {
  size_t n = 0;
  const int32_t* r = golden_ints32(f, c, "range", &n);
  assert_int_equal(n, 2);
  *qmin = r[0];
  *qmax = r[1];
}

// qparams for a fake-quant case: the narrowest dtype that holds [qmin, qmax], the case's range.
static qk_qparams* qparams_of(golden_file* f, const golden_block* c) {
  int32_t qmin, qmax;
  range_of(f, c, &qmin, &qmax);
  const qk_dtype dtype = (qmin >= 0 && qmax <= 255)      ? QK_DTYPE_U8
                         : (qmin >= -128 && qmax <= 127) ? QK_DTYPE_S8
                                                         : QK_DTYPE_S32;
  const int32_t axis = (int32_t)golden_int(c, "axis");
  size_t count = 0;
  const float* scales = golden_floats(f, c, "scale", &count);
  const int32_t* zps = golden_ints32(f, c, "zp", NULL);
  qk_qparams* qp = NULL;
  const qk_qscheme scheme = axis < 0 ? QK_QSCHEME_PER_TENSOR_AFFINE : QK_QSCHEME_PER_CHANNEL_AFFINE;
  assert_int_equal(qk_qparams_create(dtype, scheme, axis, 1, scales, zps, NULL, count, qmin, qmax, &qp), QK_OK);
  return qp;
}

static size_t compare_bits(const golden_block* c, const char* what, const float* x, const float* got, const float* want,
                           size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i)
    if (golden_bits(got[i]) != golden_bits(want[i]))
      golden_mismatch(&bad, c->name, what, i, "x = %a: %a (0x%08x), torch %a (0x%08x)", (double)x[i], (double)got[i],
                      golden_bits(got[i]), (double)want[i], golden_bits(want[i]));
  return bad;
}

// Forward values and the straight-through mask equal torch's (incl. qint32-wide ranges).
static void test_fake_quant_forward_and_mask_match_torch(void** state) {
  (void)state;
  golden_file* f = golden_load("fake_quant.txt");
  size_t bad = 0, cases = 0;
  for (size_t b = 0; b < f->nblocks; ++b) {
    const golden_block* c = &f->blocks[b];
    if (!golden_is_case(c)) continue;
    ++cases;
    size_t n = 0, rank = 0;
    const int64_t* shape = golden_ints(f, c, "x_shape", &rank);
    const float* x = golden_floats(f, c, "x", &n);
    const float* want_y = golden_floats(f, c, "y", NULL);
    const int64_t* want_mask = golden_ints(f, c, "mask", NULL);
    qk_qparams* qp = qparams_of(f, c);
    float* y = (float*)calloc(n, sizeof(float));
    uint8_t* mask = (uint8_t*)calloc(n, 1);
    assert_int_equal(qk_fake_quantize(qp, x, shape, rank, y, mask), QK_OK);
    bad += compare_bits(c, "y", x, y, want_y, n);
    for (size_t i = 0; i < n; ++i)
      if (mask[i] != want_mask[i])
        golden_mismatch(&bad, c->name, "mask", i, "x = %a: %d, torch %lld", (double)x[i], mask[i],
                        (long long)want_mask[i]);
    free(y);
    free(mask);
    qk_qparams_destroy(qp);
  }
  golden_free(f);
  assert_true(cases >= 20);
  assert_int_equal(bad, 0);
}

// Straight-through backward equals torch's x.grad, including -0.0 where a negative grad is masked.
static void test_fake_quant_backward_matches_torch_grad(void** state) {
  (void)state;
  golden_file* f = golden_load("fake_quant.txt");
  size_t bad = 0, cases = 0;
  for (size_t b = 0; b < f->nblocks; ++b) {
    const golden_block* c = &f->blocks[b];
    if (!golden_is_case(c)) continue;
    ++cases;
    size_t n = 0, rank = 0;
    const int64_t* shape = golden_ints(f, c, "x_shape", &rank);
    const float* x = golden_floats(f, c, "x", &n);
    const float* gy = golden_floats(f, c, "gy", NULL);
    const float* want = golden_floats(f, c, "gx", NULL);
    qk_qparams* qp = qparams_of(f, c);
    float* gx = (float*)calloc(n, sizeof(float));
    assert_int_equal(qk_fake_quantize_backward(qp, x, gy, shape, rank, gx), QK_OK);
    bad += compare_bits(c, "grad_x", x, gx, want, n);
    free(gx);
    qk_qparams_destroy(qp);
  }
  golden_free(f);
  assert_true(cases >= 20);
  assert_int_equal(bad, 0);
}

// Learnable backward: grad_x bit for bit, grad_scale and grad_zero_point within the sum tolerance.
static void test_fake_quant_learnable_backward_matches_torch(void** state) {
  (void)state;
  golden_file* f = golden_load("fake_quant_learnable.txt");
  size_t bad = 0, cases = 0;
  double worst = 0.0;  // largest |diff| / allowed seen, for the log
  for (size_t b = 0; b < f->nblocks; ++b) {
    const golden_block* c = &f->blocks[b];
    if (!golden_is_case(c)) continue;
    ++cases;
    size_t n = 0, rank = 0, count = 0;
    int32_t qmin, qmax;
    range_of(f, c, &qmin, &qmax);
    const int64_t* shape = golden_ints(f, c, "x_shape", &rank);
    const float* x = golden_floats(f, c, "x", &n);
    const float* gy = golden_floats(f, c, "gy", NULL);
    const float* scales = golden_floats(f, c, "scale", &count);
    const float* zps = golden_floats(f, c, "zp", NULL);
    const float* want_gx = golden_floats(f, c, "gx", NULL);
    const float* want_gs = golden_floats(f, c, "gscale", NULL);
    const float* want_gz = golden_floats(f, c, "gzp", NULL);
    const float* abs_gs = golden_floats(f, c, "abs_gscale", NULL);
    const float* abs_gz = golden_floats(f, c, "abs_gzp", NULL);
    float* gx = (float*)calloc(n, sizeof(float));
    float gs[8], gz[8];
    assert_true(count <= 8);
    assert_int_equal(
        qk_fake_quantize_learnable_backward(x, gy, shape, rank, (int32_t)golden_int(c, "axis"), scales, zps, count,
                                            qmin, qmax, golden_float(c, "grad_factor"), gx, gs, gz),
        QK_OK);
    bad += compare_bits(c, "grad_x", x, gx, want_gx, n);
    for (size_t k = 0; k < count; ++k) {
      const double pairs[2][3] = {{gs[k], want_gs[k], abs_gs[k]}, {gz[k], want_gz[k], abs_gz[k]}};
      for (int p = 0; p < 2; ++p) {
        const double diff = fabs(pairs[p][0] - pairs[p][1]);
        const double allowed = kRel * fabs(pairs[p][1]) + kAbs * pairs[p][2];
        if (allowed > 0.0 && diff / allowed > worst) worst = diff / allowed;
        if (!(diff <= allowed))
          golden_mismatch(&bad, c->name, p ? "grad_zero_point" : "grad_scale", k, "%.9g, torch %.9g (allowed %.3g)",
                          pairs[p][0], pairs[p][1], allowed);
      }
    }
    free(gx);
  }
  print_message("learnable: %zu cases, worst sum error %.3f of the tolerance, %zu mismatches\n", cases, worst, bad);
  golden_free(f);
  assert_true(cases >= 30);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fake_quant_forward_and_mask_match_torch),
      cmocka_unit_test(test_fake_quant_backward_matches_torch_grad),
      cmocka_unit_test(test_fake_quant_learnable_backward_matches_torch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
