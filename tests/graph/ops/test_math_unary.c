/* SPDX-License-Identifier: Apache-2.0 */
/* Sqrt, Exp and Erf, in one file because they are the same op three times: one f32 input, one
 * output of the same shape, no attributes, float only (kFloatOnly, see sqrt.cc / exp.cc / erf.cc),
 * so their tests differ only in the reference function. For each: float against libm in double
 * (incl. special values: sqrt of a negative is NaN, exp overflows to Inf), symbolic and rank-0
 * shapes, float after convert (no quantize step, same values), and bad input. */
#include "unary_test_util.h"

static double ref_sqrt(double x, const void* p) {
  (void)p;
  return sqrt(x);
}
static double ref_exp(double x, const void* p) {
  (void)p;
  return exp(x);
}
static double ref_erf(double x, const void* p) {
  (void)p;
  return erf(x);
}

typedef struct math_op {
  const char* name;
  double (*ref)(double, const void*);
  float lo, hi; /* the random inputs' range */
} math_op;

static const math_op kOps[] = {{"Sqrt", ref_sqrt, 0.0f, 100.0f}, {"Exp", ref_exp, -20.0f, 20.0f}, {"Erf", ref_erf, -4.0f, 4.0f}};

static void attr_alpha(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "alpha", 1.0f)); }

/* |y - ref| <= tol (1 + |ref|); NaN matches NaN and an infinity itself. */
static void expect_close(const char* op, float y, double r, double x) {
  const int ok = isnan(r) ? isnan(y) : (isinf(r) ? (double)y == r : fabs((double)y - r) <= 1e-6 * (1.0 + fabs(r)));
  if (!ok) fail_msg("%s(%.9g) = %.9g, reference %.9g", op, x, (double)y, r);
}

static void test_float(void** state) {
  (void)state;
  for (size_t k = 0; k < 3; ++k) {
    const int64_t dims[2] = {4, 64};
    ut_case c = {kOps[k].name, NULL, dims, NULL, 2, 0};
    float x[256];
    gt_fill(x, 256, kOps[k].lo, kOps[k].hi, 80 + (uint32_t)k);
    x[0] = 0.0f;
    x[1] = 1.0f;
    ut_check_float(&c, dims, 2, x, kOps[k].ref, NULL, 1e-6);
  }
}

static void test_float_special(void** state) {
  (void)state;
  const float x[5] = {-1.0f, 0.0f, 100.0f, -200.0f, 1e-30f};
  const int64_t dims[1] = {5};
  for (size_t k = 0; k < 3; ++k) {
    ut_case c = {kOps[k].name, NULL, dims, NULL, 1, 0};
    qk_model* m = ut_build(&c);
    float y[5];
    gt_tensor in = {"x", dims, 1, x};
    gt_run(m, &in, 1, "y", y, 5, NULL, NULL);
    /* the reference rounded to f32: exp(100) overflows to Inf */
    for (int i = 0; i < 5; ++i) expect_close(kOps[k].name, y[i], (float)kOps[k].ref(x[i], NULL), x[i]);
    qk_model_destroy(m);
  }
}

static void test_shapes(void** state) {
  (void)state;
  for (size_t k = 0; k < 3; ++k) {
    ut_check_symbolic(kOps[k].name, NULL);
    ut_case c = {kOps[k].name, NULL, NULL, NULL, 0, 0};
    const float x = 2.0f;
    ut_check_float(&c, NULL, 0, &x, kOps[k].ref, NULL, 1e-6);
  }
}

/* kFloatOnly: after convert, no quantize step and the float values. */
static void test_float_only(void** state) {
  (void)state;
  const int64_t dims[2] = {4, 16};
  for (size_t k = 0; k < 3; ++k) {
    ut_case c = {kOps[k].name, NULL, dims, NULL, 2, 0};
    float x[64], y[64];
    gt_fill(x, 64, kOps[k].lo, kOps[k].hi, 90 + (uint32_t)k);
    gt_tensor in = {"x", dims, 2, x};
    qk_model* q = ut_convert(&c, &in);
    assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 0);
    gt_run(q, &in, 1, "y", y, 64, NULL, NULL);
    for (int i = 0; i < 64; ++i) expect_close(kOps[k].name, y[i], kOps[k].ref(x[i], NULL), x[i]);
    qk_model_destroy(q);
  }
}

static void test_bad_input(void** state) {
  (void)state;
  for (size_t k = 0; k < 3; ++k) {
    GT_FAILS(ut_try_add(kOps[k].name, NULL, QK_DTYPE_S32, 2, 1), QK_ERR_INVALID_ARGUMENT, "input 0 is s32, expected f32");
    GT_FAILS(ut_try_add(kOps[k].name, NULL, QK_DTYPE_F32, 2, 2), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
    GT_FAILS(ut_try_add(kOps[k].name, attr_alpha, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT, "no attribute 'alpha'");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),      cmocka_unit_test(test_float_special), cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_float_only), cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
