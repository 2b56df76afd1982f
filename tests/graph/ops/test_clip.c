/* SPDX-License-Identifier: Apache-2.0 */
/* Clip: float against min(max(x, min), max) with both bounds, one, none and min == max;
 * symbolic and rank-0 shapes; int8 (u8 and s8) keeping the input's qparams, whose codes must be
 * EXACTLY the float op on the dequantized input (0 steps: clamping codes to
 * [quantize(min), quantize(max)] is that op, see clip.cc); bad attributes. */
#include "unary_test_util.h"

/* The bounds the attribute setters write (NAN: not set). */
static float g_min = NAN, g_max = NAN;

static void attr_bounds(qk_attrs* a) {
  if (!isnan(g_min)) GT_OK(qk_attrs_set_float(a, "min", g_min));
  if (!isnan(g_max)) GT_OK(qk_attrs_set_float(a, "max", g_max));
}
static void attr_min_int(qk_attrs* a) { GT_OK(qk_attrs_set_int(a, "min", 0)); }
static void attr_lo(qk_attrs* a) { GT_OK(qk_attrs_set_float(a, "lo", 0.0f)); }

static double ref_clip(double x, const void* p) {
  const float* b = (const float*)p; /* {min, max}, NAN: no bound */
  if (!isnan(b[0]) && x < b[0]) x = b[0];
  if (!isnan(b[1]) && x > b[1]) x = b[1];
  return x;
}

static void check_float_bounds(float lo, float hi) {
  const int64_t dims[2] = {4, 64};
  float x[256];
  gt_fill(x, 256, -8.0f, 8.0f, 13);
  g_min = lo;
  g_max = hi;
  const float b[2] = {lo, hi};
  ut_case c = {"Clip", attr_bounds, dims, NULL, 2, 0};
  ut_check_float(&c, dims, 2, x, ref_clip, b, 0.0); /* exact: a clamp does no arithmetic */
}

static void test_float(void** state) {
  (void)state;
  check_float_bounds(-1.0f, 2.5f);
  check_float_bounds(0.0f, 6.0f); /* relu6 */
  check_float_bounds(-0.5f, NAN);
  check_float_bounds(NAN, 0.25f);
  check_float_bounds(NAN, NAN); /* no bound: the identity */
  check_float_bounds(1.0f, 1.0f);
}

static void test_shapes(void** state) {
  (void)state;
  g_min = -1.0f;
  g_max = 1.0f;
  ut_check_symbolic("Clip", attr_bounds);
  ut_case c = {"Clip", attr_bounds, NULL, NULL, 0, 0};
  const float x = 3.0f, b[2] = {-1.0f, 1.0f};
  ut_check_float(&c, NULL, 0, &x, ref_clip, b, 0.0);
}

static void check_int8(int s8, float lo, float hi) {
  const int64_t dims[2] = {4, 64};
  g_min = lo;
  g_max = hi;
  ut_case c = {"Clip", attr_bounds, dims, NULL, 2, s8};
  float x[256];
  gt_fill(x, 256, -4.0f, 4.0f, 14);
  gt_tensor in = {"x", dims, 2, x};
  gt_check_int8(ut_build, &c, &in, 1, "y", 0.0);
  qk_model* q = ut_convert(&c, &in);
  assert_int_equal(ut_count_nodes(q, "qk.Quantize"), 1); /* the node ran int8 */
  float sx;
  int32_t zx, a, b;
  gt_value_qparams(q, "x", &sx, &zx, &a, &b);
  ut_expect_qparams(q, "y", sx, zx); /* kept the input's */
  qk_model_destroy(q);
}

static void test_int8_u8(void** state) {
  (void)state;
  check_int8(0, -1.0f, 2.0f);
  check_int8(0, 0.0f, 6.0f);     /* max above the code range: only the code range clamps */
  check_int8(0, -100.0f, 100.0f); /* both outside: the identity on codes */
}

static void test_int8_s8(void** state) {
  (void)state;
  check_int8(1, -1.0f, 2.0f);
  check_int8(1, 0.3f, NAN);
  check_int8(1, NAN, -0.7f);
}

static void test_bad_input(void** state) {
  (void)state;
  g_min = 3.0f;
  g_max = 1.0f;
  GT_FAILS(ut_try_add("Clip", attr_bounds, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "min 3 is greater than max 1");
  GT_FAILS(ut_try_add("Clip", attr_min_int, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT,
           "attribute 'min' must be a float");
  GT_FAILS(ut_try_add("Clip", attr_lo, QK_DTYPE_F32, 2, 1), QK_ERR_INVALID_ARGUMENT, "no attribute 'lo'");
  /* ONNX's min / max inputs are attributes here: a second input is refused */
  GT_FAILS(ut_try_add("Clip", NULL, QK_DTYPE_F32, 2, 2), QK_ERR_INVALID_ARGUMENT, "takes 1..1 inputs");
  GT_FAILS(ut_try_add("Clip", NULL, QK_DTYPE_S32, 2, 1), QK_ERR_INVALID_ARGUMENT, "input 0 is s32, expected f32");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),   cmocka_unit_test(test_shapes),   cmocka_unit_test(test_int8_u8),
      cmocka_unit_test(test_int8_s8), cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
