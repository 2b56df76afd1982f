// SPDX-License-Identifier: Apache-2.0
// Golden batch-norm folding: qk_fold_batchnorm against torch.nn.utils.fusion.fuse_conv_bn_weights
// (conv1d/2d/3d, transposed) and fuse_linear_bn_weights, PyTorch 1.13 (data/bn_fold.txt): with
// and without conv bias and bn affine, eps 1e-5 and 1e-3, var = 0 in channel 0.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "golden_io.h"
#include "quantkit/quantkit.h"

static qk_fold_target target_of(const char* s) {
  if (strcmp(s, "conv") == 0) return QK_FOLD_CONV;
  if (strcmp(s, "conv_transposed") == 0) return QK_FOLD_CONV_TRANSPOSED;
  if (strcmp(s, "linear") == 0) return QK_FOLD_LINEAR;
  fail_msg("unknown fold target %s", s);
  return QK_FOLD_CONV;
}

// Optional per-channel vector: the key's floats, or NULL when the file says "none".
static const float* optional(golden_file* f, const golden_block* c, const char* key) {
  return strcmp(golden_str(c, key), "none") == 0 ? NULL : golden_floats(f, c, key, NULL);
}

// Folded weights and biases are within 1 ulp of torch's per element. With the generated data
// (39 cases, 1020 weight and 147 bias elements) all 1167 are in fact bit-identical and 0 are 1 ulp
// away: both sides do the same float32 operations (rsqrt as 1/sqrt, each correctly rounded) in the
// same order. The 1-ulp allowance is for an rsqrt that is not correctly rounded.
static void test_bn_fold_matches_torch_fusion_within_one_ulp(void** state) {
  (void)state;
  golden_file* f = golden_load("bn_fold.txt");
  size_t bad = 0, cases = 0, exact = 0, one_ulp = 0;
  for (size_t b = 0; b < f->nblocks; ++b) {
    const golden_block* c = &f->blocks[b];
    if (!golden_is_case(c)) continue;
    ++cases;
    size_t n = 0, rank = 0;
    const size_t channels = (size_t)golden_int(c, "channels");
    const int64_t* shape = golden_ints(f, c, "w_shape", &rank);
    const float* w = golden_floats(f, c, "w", &n);
    const float* want_w = golden_floats(f, c, "fw", NULL);
    const float* want_b = golden_floats(f, c, "fb", NULL);
    float* w_out = (float*)calloc(n, sizeof(float));
    float* b_out = (float*)calloc(channels, sizeof(float));
    assert_int_equal(
        qk_fold_batchnorm(target_of(golden_str(c, "target")), w, shape, rank, optional(f, c, "bias"),
                          golden_floats(f, c, "mean", NULL), golden_floats(f, c, "var", NULL), optional(f, c, "gamma"),
                          optional(f, c, "beta"), golden_float(c, "eps"), channels, w_out, b_out),
        QK_OK);
    for (size_t i = 0; i < n + channels; ++i) {
      const float got = i < n ? w_out[i] : b_out[i - n];
      const float want = i < n ? want_w[i] : want_b[i - n];
      const uint64_t d = golden_ulp_distance(got, want);
      if (d == 0)
        ++exact;
      else if (d == 1)
        ++one_ulp;
      else
        golden_mismatch(&bad, c->name, i < n ? "weight" : "bias", i < n ? i : i - n, "%a, torch %a (%llu ulp)",
                        (double)got, (double)want, (unsigned long long)d);
    }
    free(w_out);
    free(b_out);
  }
  print_message("bn fold: %zu cases, %zu elements exact, %zu at 1 ulp, %zu worse\n", cases, exact, one_ulp, bad);
  golden_free(f);
  assert_true(cases >= 30);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bn_fold_matches_torch_fusion_within_one_ulp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
