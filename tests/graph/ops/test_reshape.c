/* SPDX-License-Identifier: Apache-2.0 */
/* Reshape (ONNX opset 14, shape as an attribute): 0 copies, -1 infers, allowzero, rank 0, symbolic
 * dims (a copied symbol, a -1 that is a symbol, a derived -1 resolved at run time), s64 data, int8
 * (codes copied: exact), bad shapes and attributes. */
#include "movement_test_util.h"

static qk_model* reshape(const int64_t* dims, const char* const* names, size_t rank, const int64_t* shape, size_t n) {
  return mt_one("Reshape", dims, names, rank, mt_ints(mt_attrs(), "shape", shape, n));
}

/* Reshape keeps the row-major order: y is x element for element, under the new shape. */
static void check(const int64_t* xs, size_t xr, const int64_t* shape, size_t n, const int64_t* want, size_t wr) {
  static float x[256], y[256];
  const size_t count = gt_count(xs, xr);
  mt_iota(x, count, -3.0f, 0.25f);
  qk_model* m = reshape(xs, NULL, xr, shape, n);
  mt_expect_shape(m, "y", wr, want, NULL);
  gt_tensor in[1] = {{"x", xs, xr, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 256, ys, &yr);
  assert_int_equal(yr, wr);
  for (size_t i = 0; i < wr; ++i) assert_int_equal(ys[i], want[i]);
  for (size_t i = 0; i < count; ++i) assert_true(y[i] == x[i]);
  qk_model_destroy(m);
}

static void test_shapes(void** state) {
  (void)state;
  const int64_t x234[] = {2, 3, 4};
  {
    const int64_t s[] = {4, -1}, w[] = {4, 6};
    check(x234, 3, s, 2, w, 2);
  }
  {
    const int64_t s[] = {0, 0, -1}, w[] = {2, 3, 4};
    check(x234, 3, s, 3, w, 3);
  }
  {
    const int64_t s[] = {-1}, w[] = {24};
    check(x234, 3, s, 1, w, 1);
  }
  {
    const int64_t s[] = {2, 0, 2, 2}, w[] = {2, 3, 2, 2};
    check(x234, 3, s, 4, w, 4);
  }
  {
    const int64_t s[] = {0, -1, 2, 1}, w[] = {2, 6, 2, 1};
    check(x234, 3, s, 4, w, 4);
  }
  { /* rank 0 <-> {1}: an empty shape list is a scalar */
    const int64_t x1[] = {1}, s[] = {0};
    check(x1, 1, s, 0, s, 0);
    check(NULL, 0, x1, 1, x1, 1);
    const int64_t m1[] = {-1};
    check(NULL, 0, m1, 1, x1, 1);
  }
  { /* allowzero=1: a 0 is a literal size; {0, 3} -> {3, 0} */
    const int64_t x03[] = {0, 3}, s[] = {3, 0};
    qk_model* m = mt_one("Reshape", x03, NULL, 2, mt_int(mt_ints(mt_attrs(), "shape", s, 2), "allowzero", 1));
    mt_expect_shape(m, "y", 2, s, NULL);
    qk_model_destroy(m);
  }
}

static void test_symbolic(void** state) {
  (void)state;
  const int64_t xd[] = {-1, 3, 4};
  const char* xn[] = {"batch", NULL, NULL};
  const char* sym_fixed[] = {"batch", NULL};
  { /* 0 keeps the symbol; -1 = 12 */
    const int64_t s[] = {0, -1}, w[] = {-1, 12};
    qk_model* m = reshape(xd, xn, 3, s, 2);
    mt_expect_shape(m, "y", 2, w, sym_fixed);
    qk_model_destroy(m);
  }
  { /* the -1 is the leftover symbol itself */
    const int64_t s[] = {-1, 12}, w[] = {-1, 12};
    qk_model* m = reshape(xd, xn, 3, s, 2);
    mt_expect_shape(m, "y", 2, w, sym_fixed);
    qk_model_destroy(m);
  }
  { /* multi-head split of {batch, seq, 8}: {0, 0, 2, 4} */
    const int64_t d[] = {-1, -1, 8}, s[] = {0, 0, 2, 4}, w[] = {-1, -1, 2, 4};
    const char* n[] = {"batch", "seq", NULL};
    const char* wn[] = {"batch", "seq", NULL, NULL};
    qk_model* m = reshape(d, n, 3, s, 4);
    mt_expect_shape(m, "y", 4, w, wn);
    qk_model_destroy(m);
  }
  { /* {batch, 3, 4} -> {-1, 4}: batch * 3 is only known at run time (a derived
       dim) */
    const int64_t s[] = {-1, 4}, w[] = {-1, 4};
    const char* wn[] = {"*", NULL};
    qk_model* m = reshape(xd, xn, 3, s, 2);
    mt_expect_shape(m, "y", 2, w, wn);
    int64_t dd[8];
    const char* nn[8];
    size_t r = 0;
    qk_dtype dt;
    GT_OK(qk_model_value_shape(m, "y", dd, nn, 8, &r, &dt));
    assert_string_not_equal(nn[0], "batch");
    static float x[5 * 12], y[60];
    mt_iota(x, 60, 1.0f, 1.0f);
    const int64_t xs[] = {5, 3, 4};
    gt_tensor in[1] = {{"x", xs, 3, x}};
    int64_t ys[8];
    size_t yr = 0;
    gt_run(m, in, 1, "y", y, 60, ys, &yr);
    assert_int_equal(yr, 2);
    assert_int_equal(ys[0], 15);
    assert_int_equal(ys[1], 4);
    for (int i = 0; i < 60; ++i) assert_true(y[i] == x[i]);
    qk_model_destroy(m);
  }
  { /* {batch, 6} -> {4, -1}: fine for batch 2, not divisible for batch 1
       (run-time error) */
    const int64_t d[] = {-1, 6}, s[] = {4, -1};
    const char* n[] = {"batch", NULL};
    qk_model* m = reshape(d, n, 2, s, 2);
    const int64_t w[] = {4, -1};
    const char* wn[] = {NULL, "*"};
    mt_expect_shape(m, "y", 2, w, wn);
    static float x[12], y[12];
    mt_iota(x, 12, 0.0f, 1.0f);
    const int64_t xs[] = {2, 6};
    gt_tensor in[1] = {{"x", xs, 2, x}};
    int64_t ys[8];
    size_t yr = 0;
    gt_run(m, in, 1, "y", y, 12, ys, &yr);
    assert_int_equal(ys[0], 4);
    assert_int_equal(ys[1], 3);
    const int64_t bad[] = {1, 6};
    mt_run_fails(m, bad, 2, QK_ERR_INVALID_ARGUMENT, "not a multiple");
    qk_model_destroy(m);
  }
}

/* dim_symbols (the ONNX importer's): dims sized by expressions over the inputs' symbols,
   resolved when the model runs; attention's {batch, seq, 8} -> {(batch*seq), 2, 4}. */
static void test_dim_symbols(void** state) {
  (void)state;
  const int64_t d[] = {-1, -1, 8}, s[] = {1, 2, 4};
  const char* n[] = {"batch", "seq", NULL};
  qk_attrs* a = mt_ints(mt_attrs(), "shape", s, 3);
  GT_OK(qk_attrs_set_string(a, "dim_symbols", "(batch*seq);;"));
  qk_model* m = mt_one("Reshape", d, n, 3, a);
  const int64_t w[] = {-1, 2, 4};
  const char* wn[] = {"(batch*seq)", NULL, NULL};
  mt_expect_shape(m, "y", 3, w, wn);
  static float x[3 * 5 * 8], y[120];
  mt_iota(x, 120, 1.0f, 1.0f);
  const int64_t xs[] = {3, 5, 8};
  gt_tensor in[1] = {{"x", xs, 3, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 120, ys, &yr);
  assert_int_equal(yr, 3);
  assert_int_equal(ys[0], 15);
  assert_int_equal(ys[1], 2);
  assert_int_equal(ys[2], 4);
  for (int i = 0; i < 120; ++i) assert_true(y[i] == x[i]);
  qk_model_destroy(m);
  /* an unknown symbol fails the run with its name; a symbolic entry must hold 1; the entry
     count must match the shape */
  {
    qk_attrs* b = mt_ints(mt_attrs(), "shape", s, 3);
    GT_OK(qk_attrs_set_string(b, "dim_symbols", "(batch*heads);;"));
    qk_model* mb = mt_one("Reshape", d, n, 3, b);
    const int64_t bad[] = {3, 5, 8};
    mt_run_fails(mb, bad, 3, QK_ERR_INVALID_ARGUMENT, "heads");
    qk_model_destroy(mb);
  }
  const int64_t s2[] = {2, 2, 4};
  qk_attrs* c = mt_ints(mt_attrs(), "shape", s2, 3);
  GT_OK(qk_attrs_set_string(c, "dim_symbols", "seq;;"));
  qk_model* mc = mt_graph(d, n, 3);
  GT_FAILS(mt_node(mc, "Reshape", "x", "y", c), QK_ERR_INVALID_ARGUMENT, "must be 1");
  qk_attrs_set_string(c, "dim_symbols", "seq;");
  qk_attrs_set_ints(c, "shape", s, 3);
  GT_FAILS(mt_node(mc, "Reshape", "x", "y", c), QK_ERR_INVALID_ARGUMENT, "entries");
  qk_attrs_destroy(c);
  qk_model_destroy(mc);
}

/* Shape arithmetic on s64 tensors runs in float mode: the bytes move as they are. */
static void test_s64(void** state) {
  (void)state;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t d[] = {2, 3};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_S64, d, NULL, 2));
  const int64_t s[] = {-1};
  qk_attrs* at = mt_ints(mt_attrs(), "shape", s, 1);
  GT_OK(mt_node(m, "Reshape", "x", "y", at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  const int64_t x[] = {INT64_MIN, -1, 0, 1, (int64_t)1 << 40, INT64_MAX};
  int64_t y[6], ys[8];
  size_t yr = 0;
  mt_run_typed(m, QK_DTYPE_S64, 8, x, d, 2, y, 6, ys, &yr);
  assert_int_equal(yr, 1);
  assert_int_equal(ys[0], 6);
  for (int i = 0; i < 6; ++i) assert_true(y[i] == x[i]);
  qk_model_destroy(m);
}

static void attrs_4x6(qk_attrs* at) {
  const int64_t s[] = {4, -1};
  GT_OK(qk_attrs_set_ints(at, "shape", s, 2));
}
static void attrs_to_rank4(qk_attrs* at) {
  const int64_t s[] = {0, 2, 3, -1};
  GT_OK(qk_attrs_set_ints(at, "shape", s, 4));
}

/* int8 keeps the input's qparams and copies codes: the converted model equals quantize(x) moved,
 * which is exactly the reference (0 steps). From NHWC codes (after a conv) the layout pass puts a
 * reorder in front. */
static void test_int8(void** state) {
  (void)state;
  static float x[2 * 6 * 2 * 2];
  gt_fill(x, 48, -2.0f, 3.0f, 11);
  const int64_t d[] = {2, 3, 4};
  const mt_case c = {"Reshape", d, 3, attrs_4x6, 0};
  assert_true(mt_check_int8(&c, x, 0.0) == 0.0);
  int q, r;
  mt_converted_ops(&c, x, &q, &r);
  assert_true(q);
  const int64_t d4[] = {2, 6, 2, 2};
  const mt_case c4 = {"Reshape", d4, 4, attrs_4x6, 1};
  mt_converted_ops(&c4, x, &q, &r);
  assert_true(q && r);
  /* the identity conv re-rounds to its own observed range: within 1 step */
  mt_check_int8(&c4, x, 1.0);
  const int64_t d3[] = {2, 24};
  const mt_case c3 = {"Reshape", d3, 2, attrs_to_rank4, 0};
  assert_true(mt_check_int8(&c3, x, 0.0) == 0.0);
}

static void test_bad(void** state) {
  (void)state;
  const int64_t d[] = {2, 3, 4};
  qk_model* m = mt_graph(d, NULL, 3);
  struct {
    int64_t shape[9];
    size_t n;
    const char* needle;
  } bad[] = {
      {{-1, -1}, 2, "more than one -1"},
      {{2, -2, 6}, 3, "is not a size"},
      {{0, 0, 0, 0}, 4, "copies input dimension 3"},
      {{5, 5}, 2, "24 elements"},
      {{5, -1}, 2, "not a multiple of 5"},
      {{0, 7, -1}, 3, "not a multiple of 14"},
      {{1, 1, 1, 1, 1, 1, 1, 1, 24}, 9, "more than 8"},
      {{(int64_t)1 << 40, -1}, 2, "is not a size"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    qk_attrs* at = mt_ints(mt_attrs(), "shape", bad[i].shape, bad[i].n);
    GT_FAILS(mt_node(m, "Reshape", "x", "y", at), QK_ERR_INVALID_ARGUMENT, bad[i].needle);
    qk_attrs_destroy(at);
  }
  const int64_t ok[] = {4, 6}, zm[] = {0, -1};
  qk_attrs* at = mt_int(mt_ints(mt_attrs(), "shape", ok, 2), "allowzero", 2);
  GT_FAILS(mt_node(m, "Reshape", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "allowzero must be 0 or 1");
  qk_attrs_destroy(at);
  at = mt_int(mt_ints(mt_attrs(), "shape", zm, 2), "allowzero", 1);
  GT_FAILS(mt_node(m, "Reshape", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "cannot be mixed");
  qk_attrs_destroy(at);
  GT_FAILS(mt_node(m, "Reshape", "x", "y", NULL), QK_ERR_INVALID_ARGUMENT, "needs attribute 'shape'");
  at = mt_attrs();
  const float f[] = {4, 6};
  GT_OK(qk_attrs_set_floats(at, "shape", f, 2));
  GT_FAILS(mt_node(m, "Reshape", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "'shape' must be a");
  qk_attrs_destroy(at);
  at = mt_int(mt_ints(mt_attrs(), "shape", ok, 2), "axis", 1);
  GT_FAILS(mt_node(m, "Reshape", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "no attribute 'axis'");
  qk_attrs_destroy(at);
  /* a symbolic input whose known factors already contradict the shape */
  const int64_t sd[] = {-1, 3};
  const char* sn[] = {"batch", NULL};
  GT_OK(qk_model_add_input(m, "s", QK_DTYPE_F32, sd, sn, 2));
  const int64_t s4[] = {0, 4};
  at = mt_ints(mt_attrs(), "shape", s4, 2);
  GT_FAILS(mt_node(m, "Reshape", "s", "y", at), QK_ERR_INVALID_ARGUMENT, "cannot reshape");
  qk_attrs_destroy(at);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shapes), cmocka_unit_test(test_symbolic), cmocka_unit_test(test_dim_symbols), cmocka_unit_test(test_s64),
      cmocka_unit_test(test_int8),   cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
