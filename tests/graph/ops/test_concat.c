/* SPDX-License-Identifier: Apache-2.0 */
/* Concat: axes 0, 1, negative, rank 1 to 4, one to three inputs against a hand-written loop; s64
 * shape vectors; symbolic dims (a kept symbol, a derived sum, a symbol against a size checked at
 * run time); int8 (kObservedOutput: each input requantized to the output's qparams, checked within
 * one step against the float op and exactly on hand-set qparams; the channel concat of rank-4 codes
 * in NHWC storage and the NCHW path); bad input. */
#include "movement_test_util.h"

/* Builds inputs x0..x{n-1} (dims[i]) -> Concat(axis) -> y. */
static qk_model* concat(size_t n, const int64_t dims[][4], const char* const names[][4], size_t rank, int64_t axis) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  static const char* in_names[] = {"x0", "x1", "x2", "x3"};
  for (size_t i = 0; i < n; ++i)
    GT_OK(qk_model_add_input(m, in_names[i], QK_DTYPE_F32, dims[i], names ? names[i] : NULL, rank));
  qk_attrs* at = mt_int(mt_attrs(), "axis", axis);
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "Concat", "n", in_names, n, outs, 1, at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

/* Reference: for each outer index, each input's block of d_i[axis] * inner elements. */
static void check(size_t n, const int64_t dims[][4], size_t rank, int64_t axis) {
  static float x[4][256], y[1024], ref[1024];
  const size_t a = (size_t)(axis < 0 ? axis + (int64_t)rank : axis);
  gt_tensor in[4];
  static const char* in_names[] = {"x0", "x1", "x2", "x3"};
  int64_t want[4];
  memcpy(want, dims[0], sizeof want);
  want[a] = 0;
  for (size_t i = 0; i < n; ++i) {
    gt_fill(x[i], gt_count(dims[i], rank), -3.0f, 3.0f, (uint32_t)(i + 10 * n + a));
    in[i].name = in_names[i];
    in[i].shape = dims[i];
    in[i].rank = rank;
    in[i].data = x[i];
    want[a] += dims[i][a];
  }
  size_t outer = 1, inner = 1;
  for (size_t k = 0; k < a; ++k) outer *= (size_t)want[k];
  for (size_t k = a + 1; k < rank; ++k) inner *= (size_t)want[k];
  size_t o = 0;
  for (size_t p = 0; p < outer; ++p)
    for (size_t i = 0; i < n; ++i) {
      const size_t block = (size_t)dims[i][a] * inner;
      for (size_t j = 0; j < block; ++j) ref[o++] = x[i][p * block + j];
    }
  qk_model* m = concat(n, dims, NULL, rank, axis);
  mt_expect_shape(m, "y", rank, want, NULL);
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, n, "y", y, 1024, ys, &yr);
  assert_int_equal(yr, rank);
  for (size_t k = 0; k < o; ++k)
    if (y[k] != ref[k]) fail_msg("y[%zu] = %g, reference %g", k, (double)y[k], (double)ref[k]);
  qk_model_destroy(m);
}

static void test_float(void** state) {
  (void)state;
  const int64_t d1[][4] = {{2, 3}, {2, 2}};
  check(2, d1, 2, 1);
  check(2, d1, 2, -1);
  const int64_t d0[][4] = {{2, 3}, {4, 3}, {1, 3}};
  check(3, d0, 2, 0);
  check(3, d0, 2, -2);
  const int64_t d3[][4] = {{2, 3, 1}, {2, 3, 4}, {2, 3, 2}};
  check(3, d3, 3, -1);
  const int64_t d4[][4] = {{2, 3, 4, 5}, {2, 1, 4, 5}, {2, 2, 4, 5}};
  check(3, d4, 4, 1);
  const int64_t d42[][4] = {{2, 3, 1, 5}, {2, 3, 4, 5}};
  check(2, d42, 4, 2);
  const int64_t dr1[][4] = {{3}, {5}};
  check(2, dr1, 1, 0);
  const int64_t one[][4] = {{2, 3, 4}};
  check(1, one, 3, 1);
  const int64_t empty[][4] = {{2, 0}, {2, 3}};
  check(2, empty, 2, 1);
  /* hand-computed: [[1, 2], [3, 4]] and [[5], [6]] along axis 1 = [[1, 2, 5], [3, 4, 6]] */
  const int64_t dh[][4] = {{2, 2}, {2, 1}};
  const float a[] = {1, 2, 3, 4}, b[] = {5, 6}, want[] = {1, 2, 5, 3, 4, 6};
  qk_model* m = concat(2, dh, NULL, 2, 1);
  gt_tensor in[2] = {{"x0", dh[0], 2, a}, {"x1", dh[1], 2, b}};
  float y[6];
  gt_run(m, in, 2, "y", y, 6, NULL, NULL);
  for (int i = 0; i < 6; ++i) assert_true(y[i] == want[i]);
  qk_model_destroy(m);
}

/* Shape arithmetic: Concat of two s64 shape vectors (a constant and an input). */
static void test_s64(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t d2[] = {2}, d1[] = {1};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_S64, d2, NULL, 1));
  const int64_t c[] = {-1};
  GT_OK(qk_model_add_constant(m, "c", QK_DTYPE_S64, d1, 1, c, sizeof c));
  const char* ins[] = {"x", "c"};
  const char* outs[] = {"y"};
  qk_attrs* at = mt_int(mt_attrs(), "axis", 0);
  GT_OK(qk_model_add_node(m, "Concat", "n", ins, 2, outs, 1, at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  const int64_t x[] = {(int64_t)1 << 40, 7};
  int64_t y[3];
  mt_run_typed(m, QK_DTYPE_S64, 8, x, d2, 1, y, 3, NULL, NULL);
  assert_true(y[0] == x[0] && y[1] == 7 && y[2] == -1);
  qk_model_destroy(m);
}

static void test_symbolic(void** state) {
  (void)state;
  const char* const bn[][4] = {{"batch", NULL}, {"batch", NULL}};
  const int64_t d[][4] = {{-1, 3}, {-1, 5}};
  qk_model* m = concat(2, d, bn, 2, 1);
  const int64_t w[] = {-1, 8};
  const char* wn[] = {"batch", NULL};
  mt_expect_shape(m, "y", 2, w, wn);
  qk_model_destroy(m);
  /* one input along its symbolic axis keeps the symbol */
  m = concat(1, d, bn, 2, 0);
  const int64_t w1[] = {-1, 3};
  mt_expect_shape(m, "y", 2, w1, wn);
  qk_model_destroy(m);
  /* along the symbolic axis: a derived sum */
  const char* const bn2[][4] = {{"batch", NULL}, {NULL, NULL}};
  const int64_t d2[][4] = {{-1, 3}, {2, 3}};
  m = concat(2, d2, bn2, 2, 0);
  const char* dn[] = {"*", NULL};
  const int64_t w2[] = {-1, 3};
  mt_expect_shape(m, "y", 2, w2, dn);
  static float a[12], b[6], y[18];
  mt_iota(a, 12, 0.0f, 1.0f);
  mt_iota(b, 6, 100.0f, 1.0f);
  const int64_t as[] = {4, 3};
  gt_tensor in[2] = {{"x0", as, 2, a}, {"x1", d2[1], 2, b}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 2, "y", y, 18, ys, &yr);
  assert_int_equal(ys[0], 6);
  for (int i = 0; i < 12; ++i) assert_true(y[i] == a[i]);
  for (int i = 0; i < 6; ++i) assert_true(y[12 + i] == b[i]);
  qk_model_destroy(m);
  /* a symbol against a size in another dim: the size wins, the run checks the symbol */
  const int64_t d3[][4] = {{-1, 3}, {4, 5}};
  m = concat(2, d3, bn2, 2, 1);
  const int64_t w3[] = {4, 8};
  mt_expect_shape(m, "y", 2, w3, NULL);
  static float bb[20];
  const int64_t bad_a[] = {3, 3};
  gt_tensor in3[2] = {{"x0", bad_a, 2, a}, {"x1", d3[1], 2, bb}};
  qk_run* r = NULL;
  GT_OK(qk_run_create(m, &r));
  for (int i = 0; i < 2; ++i)
    GT_OK(qk_run_set_input(r, in3[i].name, QK_DTYPE_F32, in3[i].data, gt_count(in3[i].shape, 2) * sizeof(float),
                           in3[i].shape, 2));
  GT_FAILS(qk_run_invoke(r, NULL), QK_ERR_INVALID_ARGUMENT, "differ in dimension 0");
  qk_run_destroy(r);
  qk_model_destroy(m);
}

/* ---- int8 ---------------------------------------------------------------------------- */

typedef struct ccase {
  const int64_t (*dims)[4];
  size_t n, rank;
  int64_t axis;
  int conv; /* inputs go through a 1x1 identity conv first (NHWC codes) */
} ccase;

static qk_model* build_int8(void* ctx) {
  const ccase* c = (const ccase*)ctx;
  if (!c->conv) return concat(c->n, c->dims, NULL, c->rank, c->axis);
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  static const char* xs[] = {"x0", "x1", "x2"};
  static const char* hs[] = {"h0", "h1", "h2"};
  static const char* ws[] = {"w0", "w1", "w2"};
  static const char* cs[] = {"c0", "c1", "c2"};
  for (size_t i = 0; i < c->n; ++i) {
    GT_OK(qk_model_add_input(m, xs[i], QK_DTYPE_F32, c->dims[i], NULL, 4));
    static float w[16 * 16];
    const int64_t C = c->dims[i][1];
    const int64_t wshape[] = {C, C, 1, 1};
    for (int64_t k = 0; k < C * C; ++k) w[k] = k / C == k % C ? 1.0f : 0.0f;
    gt_add_const(m, ws[i], wshape, 4, w);
    const char* ins[] = {xs[i], ws[i]};
    GT_OK(qk_model_add_node(m, "Conv", cs[i], ins, 2, &hs[i], 1, NULL));
  }
  qk_attrs* at = mt_int(mt_attrs(), "axis", c->axis);
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, "Concat", "n", hs, c->n, outs, 1, at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

/* Runs gt_check_int8 on inputs with different ranges; reports whether a reorder was needed. */
static double check_int8(const ccase* c, double steps, int* reordered) {
  static float x[3][512];
  static const char* names[] = {"x0", "x1", "x2"};
  gt_tensor in[3];
  for (size_t i = 0; i < c->n; ++i) {
    gt_fill(x[i], gt_count(c->dims[i], c->rank), -1.0f - (float)i, 1.0f + 2.0f * (float)i, (uint32_t)(30 + i));
    in[i].name = names[i];
    in[i].shape = c->dims[i];
    in[i].rank = c->rank;
    in[i].data = x[i];
  }
  const double worst = gt_check_int8(build_int8, (void*)c, in, c->n, "y", steps);
  qk_model* m = build_int8((void*)c);
  mt_convert(m, in, c->n);
  *reordered = mt_has_op(m, "qk.Reorder");
  assert_true(mt_has_op(m, "qk.Quantize"));
  qk_model_destroy(m);
  return worst;
}

/* Each input is requantized to the output's observed qparams: quantize(dequantize(code)), the
 * reference's arithmetic on the same rounded inputs, so at most 1 step (rounding ties computed
 * through a reciprocal vs a division), in practice 0. Rank-4 channel concat reads either storage
 * (no reorder); other axes read NCHW: a reorder after the identity convs' NHWC output, none after
 * qk.Quantize (which writes NCHW when no reader wants NHWC). Through the
 * identity convs the intermediate re-rounding adds up to half a step of the conv's own range, which
 * the concat's wider range keeps within 1 output step. */
static void test_int8(void** state) {
  (void)state;
  int r = 0;
  const int64_t d2[][4] = {{2, 3}, {2, 5}, {2, 1}};
  const ccase c2 = {d2, 3, 2, 1, 0};
  check_int8(&c2, 1.0, &r);
  const int64_t d4[][4] = {{2, 3, 2, 3}, {2, 2, 2, 3}};
  const ccase c4 = {d4, 2, 4, 1, 0};
  check_int8(&c4, 1.0, &r);
  assert_false(r);
  const ccase c4n = {d4, 2, 4, -3, 1};
  check_int8(&c4n, 1.0, &r);
  assert_false(r);
  const int64_t dh[][4] = {{2, 3, 2, 3}, {2, 3, 4, 3}};
  const ccase ch = {dh, 2, 4, 2, 0};
  check_int8(&ch, 1.0, &r);
  assert_false(r); /* the inputs are quantized straight to NCHW: no reader wants NHWC */
  const ccase chc = {dh, 2, 4, 2, 1};
  check_int8(&chc, 1.0, &r);
  assert_true(r);
}

static void set_qp(qk_model* m, const char* value, float scale, int32_t zp) {
  qk_qparams* qp = NULL;
  GT_OK(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 0, &scale, &zp, NULL, 1, 0, 255, &qp));
  GT_OK(qk_model_set_tensor_qparams(m, value, qp));
  qk_qparams_destroy(qp);
}

/* The requantization arithmetic on hand-set qparams (no ties): x0 (scale 0.1, zp 128), x1
 * (0.05, zp 100), x2 with the output's own qparams (0.3, zp 128: its codes are copied).
 *   x0 codes 131 132 133 126 255 -> (c - 128) / 3 rounded -> 1 1 2 -1 42
 *   x1 codes 110 0 255           -> (c - 100) / 6 rounded -> 2 -17 26
 *   x2 codes 128 200 0           -> unchanged              -> 0 72 -128
 * and y = 0.3 * (code - 128). */
static void test_int8_exact(void** state) {
  (void)state;
  const int64_t d[][4] = {{5}, {3}, {3}};
  qk_model* m = concat(3, d, NULL, 1, 0);
  set_qp(m, "x0", 0.1f, 128);
  set_qp(m, "x1", 0.05f, 100);
  set_qp(m, "x2", 0.3f, 128);
  set_qp(m, "y", 0.3f, 128);
  GT_OK(qk_model_prepare(m));
  GT_OK(qk_model_convert(m));
  const float a[] = {0.3f, 0.4f, 0.5f, -0.2f, 50.0f}, b[] = {0.5f, -9.0f, 7.75f}, c[] = {0.0f, 21.6f, -40.0f};
  gt_tensor in[3] = {{"x0", d[0], 1, a}, {"x1", d[1], 1, b}, {"x2", d[2], 1, c}};
  float y[11];
  gt_run(m, in, 3, "y", y, 11, NULL, NULL);
  const int32_t q[] = {1, 1, 2, -1, 42, 2, -17, 26, 0, 72, -128};
  for (int i = 0; i < 11; ++i) assert_float_equal(y[i], 0.3f * (float)q[i], 1e-5);
  qk_model_destroy(m);
}

static void test_bad(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t a[] = {2, 3}, b[] = {4, 3}, c[] = {2, 3, 1}, e[] = {2};
  GT_OK(qk_model_add_input(m, "a", QK_DTYPE_F32, a, NULL, 2));
  GT_OK(qk_model_add_input(m, "b", QK_DTYPE_F32, b, NULL, 2));
  GT_OK(qk_model_add_input(m, "c", QK_DTYPE_F32, c, NULL, 3));
  GT_OK(qk_model_add_input(m, "i", QK_DTYPE_S64, b, NULL, 2));
  GT_OK(qk_model_add_input(m, "s", QK_DTYPE_F32, NULL, NULL, 0));
  (void)e;
  const char* outs[] = {"y"};
  const struct {
    const char* x0;
    const char* x1;
    int64_t axis;
    const char* needle;
  } bad[] = {
      {"a", "b", 1,
       "input 1 {4, 3} and input 0 {2, 3} differ in dimension 0 (only axis 1 "
       "may differ)"},
      {"a", "c", 0, "input 1 {2, 3, 1} has rank 3, input 0 {2, 3} has rank 2"},
      {"b", "i", 0, "input 1 is s64, input 0 is f32"},
      {"a", "b", 2, "axis 2 is outside [-2, 2)"},
      {"a", "b", -3, "axis -3 is outside"},
      {"s", "s", 0, "inputs must have rank >= 1"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    const char* ins[] = {bad[i].x0, bad[i].x1};
    qk_attrs* at = mt_int(mt_attrs(), "axis", bad[i].axis);
    GT_FAILS(qk_model_add_node(m, "Concat", "n", ins, 2, outs, 1, at), QK_ERR_INVALID_ARGUMENT, bad[i].needle);
    qk_attrs_destroy(at);
  }
  const char* ab[] = {"a", "b"};
  GT_FAILS(qk_model_add_node(m, "Concat", "n", ab, 2, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
           "needs attribute 'axis'");
  qk_attrs* at = mt_int(mt_attrs(), "axis", 0);
  GT_FAILS(qk_model_add_node(m, "Concat", "n", ab, 0, outs, 1, at), QK_ERR_INVALID_ARGUMENT, "takes 1..64 inputs");
  const char* many[65];
  for (int i = 0; i < 65; ++i) many[i] = "a";
  GT_FAILS(qk_model_add_node(m, "Concat", "n", many, 65, outs, 1, at), QK_ERR_INVALID_ARGUMENT, "takes 1..64 inputs");
  GT_OK(qk_model_add_node(m, "Concat", "n", many, 64, outs, 1, at)); /* 64 is fine */
  const int64_t w[] = {128, 3};
  mt_expect_shape(m, "y", 2, w, NULL);
  qk_attrs_destroy(at);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float), cmocka_unit_test(test_s64),        cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_int8),  cmocka_unit_test(test_int8_exact), cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
