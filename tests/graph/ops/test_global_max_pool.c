/* SPDX-License-Identifier: Apache-2.0 */
/* GlobalMaxPool: shapes (ranks 3, 4 and 5, symbolic batch and spatial dims), float against a
 * max per plane written here (exact), int8 (u8 and s8; rank 4 reads NHWC codes, rank 3 plain
 * ones) EXACTLY the float op on the dequantized input (0 steps: the output keeps the input's
 * qparams and the max of codes is the code of the max); bad input. */
#include "window_test_util.h"

static float g_x[8192];

static wt_case gap(const int64_t* xs, size_t xr) {
  wt_case c;
  memset(&c, 0, sizeof c);
  c.op = "GlobalMaxPool";
  memcpy(c.x_shape, xs, xr * sizeof(int64_t));
  c.x_rank = xr;
  return c;
}

/* Float run of c (concrete shape) against the max of each plane. */
static void check_float(const wt_case* c) {
  const size_t planes = (size_t)(c->x_shape[0] * c->x_shape[1]);
  const size_t hw = gt_count(c->x_shape, c->x_rank) / planes;
  static float y[1024], r[1024];
  for (size_t p = 0; p < planes; ++p) {
    float mx = -INFINITY;
    for (size_t i = 0; i < hw; ++i) mx = g_x[p * hw + i] > mx ? g_x[p * hw + i] : mx;
    r[p] = mx;
  }
  qk_model* m = wt_build((void*)c);
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  int64_t ys[8], want[8];
  size_t yr = 0;
  gt_run(m, &in, 1, "y", y, 1024, ys, &yr);
  for (size_t i = 0; i < c->x_rank; ++i) want[i] = i < 2 ? c->x_shape[i] : 1;
  wt_expect_shape(ys, yr, want, c->x_rank);
  wt_expect_close(y, r, NULL, planes, 0.0, 0.0);
  qk_model_destroy(m);
}

static void test_float(void** state) {
  (void)state;
  const int64_t x4[4] = {2, 3, 5, 4}, x3[3] = {2, 3, 7}, x1[4] = {3, 2, 1, 1};
  wt_case c = gap(x4, 4);
  check_float(&c);
  c = gap(x3, 3);
  check_float(&c);
  c = gap(x1, 4); /* 1x1 planes: the identity */
  check_float(&c);
  /* rank 5: test_shapes */
}

static void test_shapes(void** state) {
  (void)state;
  const int64_t xs[4] = {-1, 3, -1, -1};
  wt_case c = gap(xs, 4);
  c.x_names[0] = "batch";
  c.x_names[2] = "h";
  c.x_names[3] = "w";
  qk_model* m = wt_build(&c);
  int64_t dims[8];
  const char* names[8];
  assert_int_equal(wt_declared(m, "y", dims, names), 4);
  assert_true(dims[0] < 0 && strcmp(names[0], "batch") == 0);
  assert_int_equal(dims[1], 3);
  assert_int_equal(dims[2], 1);
  assert_int_equal(dims[3], 1);
  const int64_t run_shape[4] = {2, 3, 6, 5};
  gt_tensor in = {"x", run_shape, 4, g_x};
  float y[16];
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, &in, 1, "y", y, 16, ys, &yr);
  const int64_t want[4] = {2, 3, 1, 1};
  wt_expect_shape(ys, yr, want, 4);
  qk_model_destroy(m);
  /* rank 5: {N, C, D, H, W} -> {N, C, 1, 1, 1} */
  qk_model* m5 = NULL;
  GT_OK(qk_model_create_graph(&m5));
  const int64_t x5[5] = {1, 2, 2, 3, 2};
  gt_add_input(m5, "x", x5, 5);
  const char* ins[] = {"x"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m5, "GlobalMaxPool", "n", ins, 1, outs, 1, NULL));
  GT_OK(qk_model_add_output(m5, "y"));
  gt_tensor in5 = {"x", x5, 5, g_x};
  gt_run(m5, &in5, 1, "y", y, 16, ys, &yr);
  const int64_t want5[5] = {1, 2, 1, 1, 1};
  wt_expect_shape(ys, yr, want5, 5);
  for (int p = 0; p < 2; ++p) {
    float mx = -INFINITY;
    for (int i = 0; i < 12; ++i) mx = g_x[p * 12 + i] > mx ? g_x[p * 12 + i] : mx;
    assert_true(y[p] == mx);
  }
  qk_model_destroy(m5);
}

/* 0 steps, and the output's qparams are the input's. */
static void check_int8(const wt_case* c) {
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  gt_check_int8(wt_build, (void*)c, &in, 1, "y", 0.0);
  qk_model* q = wt_build((void*)c);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, &in, 1);
  GT_OK(qk_model_convert(q));
  assert_int_equal(wt_count_nodes(q, "qk.Quantize"), 1); /* ran int8 */
  assert_int_equal(wt_count_nodes(q, "qk.Reorder"), 0);
  float sx, sy;
  int32_t zx, zy, lo, hi;
  gt_value_qparams(q, "x", &sx, &zx, &lo, &hi);
  gt_value_qparams(q, "y", &sy, &zy, &lo, &hi);
  assert_true(sx == sy);
  assert_int_equal(zx, zy);
  qk_model_destroy(q);
}

static void test_int8(void** state) {
  (void)state;
  const int64_t x4[4] = {2, 5, 6, 7}, x3[3] = {3, 4, 9};
  wt_case c = gap(x4, 4);
  check_int8(&c);
  c.s8 = 1;
  check_int8(&c);
  c = gap(x3, 3);
  check_int8(&c);
  c.s8 = 1;
  check_int8(&c);
}

static void test_bad_input(void** state) {
  (void)state;
  const int64_t x2[2] = {3, 6};
  wt_case c = gap(x2, 2);
  GT_FAILS(wt_try_build(&c), QK_ERR_INVALID_ARGUMENT, "must be {N, C, spatial...} (rank >= 3)");
  const int64_t x0[4] = {1, 3, 0, 2};
  c = gap(x0, 4);
  GT_FAILS(wt_try_build(&c), QK_ERR_INVALID_ARGUMENT, "has an empty spatial axis");
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t xs[4] = {1, 3, 2, 2};
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_S32, xs, NULL, 4));
  const char* ins[] = {"x"};
  const char* outs[] = {"y"};
  GT_FAILS(qk_model_add_node(m, "GlobalMaxPool", "n", ins, 1, outs, 1, NULL), QK_ERR_INVALID_ARGUMENT,
           "expected f32");
  qk_attrs* a = NULL;
  GT_OK(qk_attrs_create(&a));
  GT_OK(qk_attrs_set_int(a, "keepdims", 1));
  gt_add_input(m, "xf", xs, 4);
  const char* insf[] = {"xf"};
  GT_FAILS(qk_model_add_node(m, "GlobalMaxPool", "n", insf, 1, outs, 1, a), QK_ERR_INVALID_ARGUMENT,
           "has no attribute 'keepdims'");
  qk_attrs_destroy(a);
  qk_model_destroy(m);
}

static int setup(void** state) {
  (void)state;
  gt_fill(g_x, 8192, -2.0f, 2.0f, 501);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),
      cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_int8),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
