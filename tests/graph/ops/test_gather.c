/* SPDX-License-Identifier: Apache-2.0 */
/* Gather (ONNX opset 13) with constant s64 / s32 indices: axes 0, 1 and negative, scalar and 2-D
 * indices, negative indices, against a hand-written loop and hand-computed values; s64 data (shape
 * arithmetic); symbolic dims (bounds checked when the model runs); int8 (the data's codes moved,
 * the s64 indices left alone by convert: exact); bad input. */
#include "movement_test_util.h"

/* x -> Gather(axis) with constant indices "i" (s64 or s32, shape ishape) -> y. */
static qk_model* gather(qk_dtype xdtype, const int64_t* dims, const char* const* names, size_t rank, const int64_t* idx,
                        const int64_t* ishape, size_t irank, int s32, int has_axis, int64_t axis) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  GT_OK(qk_model_add_input(m, "x", xdtype, dims, names, rank));
  const size_t n = gt_count(ishape, irank);
  int32_t i32[64];
  for (size_t k = 0; k < n && k < 64; ++k) i32[k] = (int32_t)idx[k];
  if (s32)
    GT_OK(qk_model_add_constant(m, "i", QK_DTYPE_S32, ishape, irank, i32, n * sizeof(int32_t)));
  else
    GT_OK(qk_model_add_constant(m, "i", QK_DTYPE_S64, ishape, irank, idx, n * sizeof(int64_t)));
  qk_attrs* at = mt_attrs();
  if (has_axis) mt_int(at, "axis", axis);
  const char* ins[] = {"x", "i"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "Gather", "n", ins, 2, outs, 1, at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

/* Reference: out[o, j, i] = x[o, idx[j] (wrapped), i] with outer/inner around the axis. */
static void ref_gather(const float* x, const int64_t* xs, size_t r, size_t axis, const int64_t* idx, size_t n,
                       float* y) {
  size_t outer = 1, inner = 1;
  for (size_t k = 0; k < axis; ++k) outer *= (size_t)xs[k];
  for (size_t k = axis + 1; k < r; ++k) inner *= (size_t)xs[k];
  const int64_t d = xs[axis];
  size_t o = 0;
  for (size_t a = 0; a < outer; ++a)
    for (size_t j = 0; j < n; ++j)
      for (size_t b = 0; b < inner; ++b) {
        const int64_t i = idx[j] < 0 ? idx[j] + d : idx[j];
        y[o++] = x[(a * (size_t)d + (size_t)i) * inner + b];
      }
}

static void check(const int64_t* xs, size_t r, const int64_t* idx, const int64_t* is, size_t ir, int s32, int has_axis,
                  int64_t axis) {
  static float x[512], y[4096], ref[4096];
  const size_t n = gt_count(xs, r), ni = gt_count(is, ir);
  gt_fill(x, n, -4.0f, 4.0f, (uint32_t)(n + ni));
  const size_t a = (size_t)(axis < 0 ? axis + (int64_t)r : axis);
  qk_model* m = gather(QK_DTYPE_F32, xs, NULL, r, idx, is, ir, s32, has_axis, axis);
  int64_t want[8];
  size_t wr = 0;
  for (size_t k = 0; k < a; ++k) want[wr++] = xs[k];
  for (size_t k = 0; k < ir; ++k) want[wr++] = is[k];
  for (size_t k = a + 1; k < r; ++k) want[wr++] = xs[k];
  mt_expect_shape(m, "y", wr, want, NULL);
  gt_tensor in[1] = {{"x", xs, r, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 4096, ys, &yr);
  assert_int_equal(yr, wr);
  ref_gather(x, xs, r, a, idx, ni, ref);
  for (size_t k = 0; k < gt_count(want, wr); ++k)
    if (y[k] != ref[k]) fail_msg("y[%zu] = %g, reference %g", k, (double)y[k], (double)ref[k]);
  qk_model_destroy(m);
}

static void test_float(void** state) {
  (void)state;
  const int64_t d34[] = {3, 4}, d2345[] = {2, 3, 4, 5};
  const int64_t i2[] = {2, -3}, s2[] = {2};
  check(d34, 2, i2, s2, 1, 0, 0, 0);
  check(d34, 2, i2, s2, 1, 1, 1, 0);
  const int64_t i22[] = {0, 3, -1, 1}, s22[] = {2, 2};
  check(d34, 2, i22, s22, 2, 0, 1, 1);
  check(d34, 2, i22, s22, 2, 1, 1, -1);
  const int64_t i0[] = {1};
  check(d34, 2, i0, NULL, 0, 0, 1, 0); /* scalar index: the axis goes */
  check(d2345, 4, i22, s22, 2, 0, 1, 2);
  check(d2345, 4, i2, s2, 1, 0, 1, -3);
  const int64_t i5[] = {4, 4, 0, -5, 2}, s5[] = {5};
  check(d2345, 4, i5, s5, 1, 0, 1, 3);
  const int64_t e[] = {0}, s0[] = {0};
  check(d34, 2, e, s0, 1, 0, 1, 1); /* no indices: an empty axis */
  /* hand-computed: rows 2 and 0 of [[1, 2], [3, 4], [5, 6]] */
  const float x[] = {1, 2, 3, 4, 5, 6}, want[] = {5, 6, 1, 2};
  const int64_t d32[] = {3, 2}, ih[] = {-1, 0};
  qk_model* m = gather(QK_DTYPE_F32, d32, NULL, 2, ih, s2, 1, 0, 0, 0);
  float y[4];
  gt_tensor in[1] = {{"x", d32, 2, x}};
  gt_run(m, in, 1, "y", y, 4, NULL, NULL);
  for (int i = 0; i < 4; ++i) assert_true(y[i] == want[i]);
  qk_model_destroy(m);
}

/* Shape arithmetic: Gather(shape_vector, 0) -> a scalar s64. */
static void test_s64(void** state) {
  (void)state;
  const int64_t d[] = {4}, idx[] = {-2};
  qk_model* m = gather(QK_DTYPE_S64, d, NULL, 1, idx, NULL, 0, 0, 0, 0);
  const int64_t x[] = {7, (int64_t)1 << 40, -9, 11};
  int64_t y[1], ys[8];
  size_t yr = 9;
  mt_run_typed(m, QK_DTYPE_S64, 8, x, d, 1, y, 1, ys, &yr);
  assert_int_equal(yr, 0);
  assert_true(y[0] == -9);
  qk_model_destroy(m);
}

static void test_symbolic(void** state) {
  (void)state;
  const int64_t d[] = {-1, 5};
  const char* n[] = {"batch", NULL};
  const int64_t idx[] = {4, 0, -1}, s3[] = {3};
  qk_model* m = gather(QK_DTYPE_F32, d, n, 2, idx, s3, 1, 0, 1, 1);
  const int64_t w[] = {-1, 3};
  const char* wn[] = {"batch", NULL};
  mt_expect_shape(m, "y", 2, w, wn);
  qk_model_destroy(m);
  /* gathering along a symbolic axis: index 3 is checked when the model runs */
  const int64_t i3[] = {3}, s1[] = {1}, w2[] = {1, 5};
  m = gather(QK_DTYPE_F32, d, n, 2, i3, s1, 1, 0, 0, 0);
  mt_expect_shape(m, "y", 2, w2, NULL);
  static float x[20], y[5];
  mt_iota(x, 20, 0.0f, 1.0f);
  const int64_t xs[] = {4, 5};
  gt_tensor in[1] = {{"x", xs, 2, x}};
  gt_run(m, in, 1, "y", y, 5, NULL, NULL);
  for (int i = 0; i < 5; ++i) assert_true(y[i] == x[15 + i]);
  const int64_t small[] = {3, 5};
  mt_run_fails(m, small, 2, QK_ERR_INVALID_ARGUMENT, "indices[0] = 3 is outside [-3, 3)");
  qk_model_destroy(m);
}

typedef struct gcase {
  const int64_t* dims;
  size_t rank;
  int64_t axis;
} gcase;

static qk_model* build_int8(void* ctx) {
  const gcase* c = (const gcase*)ctx;
  const int64_t idx[] = {1, -1, 0, 1}, s[] = {2, 2};
  return gather(QK_DTYPE_F32, c->dims, NULL, c->rank, idx, s, 2, 0, 1, c->axis);
}

/* int8 keeps the data's qparams: the codes are moved, exactly the reference (0 steps). The s64
 * indices are a float-side constant input (float_inputs bit 1): convert's planned_mode accepts them
 * because they are constant, and the Q/DQ pass leaves them as s64. */
static void test_int8(void** state) {
  (void)state;
  static float x[2 * 3 * 4];
  gt_fill(x, 24, -2.0f, 2.0f, 8);
  const int64_t d[] = {2, 3, 4};
  for (int64_t axis = -3; axis < 3; ++axis) {
    const gcase c = {d, 3, axis};
    gt_tensor in[1] = {{"x", d, 3, x}};
    assert_true(gt_check_int8(build_int8, (void*)&c, in, 1, "y", 0.0) == 0.0);
  }
  const gcase c = {d, 3, 1};
  qk_model* m = build_int8((void*)&c);
  gt_tensor in[1] = {{"x", d, 3, x}};
  mt_convert(m, in, 1);
  assert_true(mt_has_op(m, "qk.Quantize")); /* Gather read codes: it ran int8 */
  qk_model_destroy(m);
}

static void test_bad(void** state) {
  (void)state;
  const int64_t d[] = {3, 4}, s2[] = {2};
  qk_model* m = mt_graph(d, NULL, 2);
  const int64_t idx[] = {0, 1}, bad_hi[] = {0, 3}, bad_lo[] = {-4, 0}, bad4[] = {4, 0};
  const float fidx[] = {0, 1};
  GT_OK(qk_model_add_constant(m, "i", QK_DTYPE_S64, s2, 1, idx, sizeof idx));
  GT_OK(qk_model_add_constant(m, "hi", QK_DTYPE_S64, s2, 1, bad_hi, sizeof bad_hi));
  GT_OK(qk_model_add_constant(m, "lo", QK_DTYPE_S64, s2, 1, bad_lo, sizeof bad_lo));
  GT_OK(qk_model_add_constant(m, "h4", QK_DTYPE_S64, s2, 1, bad4, sizeof bad4));
  GT_OK(qk_model_add_constant(m, "f", QK_DTYPE_F32, s2, 1, fidx, sizeof fidx));
  GT_OK(qk_model_add_input(m, "vi", QK_DTYPE_S64, s2, NULL, 1));
  GT_OK(qk_model_add_input(m, "scalar", QK_DTYPE_F32, NULL, NULL, 0));
  const char* outs[] = {"y"};
  const struct {
    const char* data;
    const char* indices;
    int64_t axis;
    const char* needle;
  } bad[] = {
      {"x", "hi", 0, "indices[1] = 3 is outside [-3, 3)"},
      {"x", "lo", 0, "indices[0] = -4 is outside [-3, 3)"},
      {"x", "h4", 1, "indices[0] = 4 is outside [-4, 4)"},
      {"x", "f", 0, "indices must be s64 or s32 (got f32)"},
      {"x", "vi", 0, "indices (input 1) must be a constant"},
      {"x", "i", 2, "axis 2 is outside [-2, 2)"},
      {"x", "i", -3, "axis -3 is outside"},
      {"scalar", "i", 0, "data must have rank >= 1"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    const char* ins[] = {bad[i].data, bad[i].indices};
    qk_attrs* at = mt_int(mt_attrs(), "axis", bad[i].axis);
    GT_FAILS(qk_model_add_node(m, "Gather", "n", ins, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT, bad[i].needle);
    qk_attrs_destroy(at);
  }
  const char* one[] = {"x"};
  GT_FAILS(qk_model_add_node(m, "Gather", "n", one, 1, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "takes 2..2 inputs");
  /* rank overflow: {3, 4} gathered with rank-8 indices */
  const int64_t s8[] = {1, 1, 1, 1, 1, 1, 1, 1}, z[] = {0};
  GT_OK(qk_model_add_constant(m, "i8", QK_DTYPE_S64, s8, 8, z, sizeof z));
  const char* ins8[] = {"x", "i8"};
  GT_FAILS(qk_model_add_node(m, "Gather", "n", ins8, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT, "rank 9");
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float), cmocka_unit_test(test_s64), cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_int8),  cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
