/* SPDX-License-Identifier: Apache-2.0 */
/* AveragePool: shape inference (symbolic batch and spatial dims, SAME / VALID / explicit pads,
 * 1-D), float against a mean over the window written here (window_test_util.h) with
 * count_include_pad 0 (ONNX's default) and 1, strides, asymmetric pads, dilations and auto_pad;
 * int8 (u8, s8, rank 4 NHWC and rank 3 plain codes) within 1 step of the float op on the
 * dequantized input, keeping the input's qparams (as the legacy layer and PyTorch); bad input. */
#include "window_test_util.h"

static float g_x[8192];

static wt_case pool(const int64_t* xs, size_t xr, int64_t k0, int64_t k1) {
  wt_case c;
  memset(&c, 0, sizeof c);
  c.op = "AveragePool";
  memcpy(c.x_shape, xs, xr * sizeof(int64_t));
  c.x_rank = xr;
  c.attrs.kernel_shape[0] = k0;
  c.attrs.kernel_shape[1] = k1;
  c.attrs.n_kernel = xr - 2;
  return c;
}

static void set_list(int64_t* dst, size_t* n, size_t count, int64_t a, int64_t b, int64_t c, int64_t d) {
  const int64_t v[4] = {a, b, c, d};
  memcpy(dst, v, count * sizeof(int64_t));
  *n = count;
}

static void set_cip(wt_case* c, int v) {
  c->attrs.has_cip = 1;
  c->attrs.count_include_pad = v;
}

/* Float run of c against wt_ref_pool with the hand-computed 2-D pads (1-D: {0, b, 0, e}). */
static void check_float(const wt_case* c, const int64_t pad[4]) {
  const int one_d = c->x_rank == 3;
  const int64_t xs[4] = {c->x_shape[0], c->x_shape[1], one_d ? 1 : c->x_shape[2], c->x_shape[c->x_rank - 1]};
  const wt_attrs* a = &c->attrs;
  const int64_t k[2] = {one_d ? 1 : a->kernel_shape[0], a->kernel_shape[a->n_kernel - 1]};
  int64_t s[2] = {1, 1}, d[2] = {1, 1};
  if (a->n_strides) {
    s[0] = one_d ? 1 : a->strides[0];
    s[1] = a->strides[a->n_strides - 1];
  }
  if (a->n_dil) {
    d[0] = one_d ? 1 : a->dilations[0];
    d[1] = a->dilations[a->n_dil - 1];
  }
  static float y[8192], r[8192];
  int64_t rs[4], ys[8];
  wt_ref_pool(0, a->has_cip && a->count_include_pad, g_x, xs, k, s, pad, d, r, rs);
  qk_model* m = wt_build((void*)c);
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  size_t yr = 0;
  gt_run(m, &in, 1, "y", y, 8192, ys, &yr);
  const int64_t want3[3] = {rs[0], rs[1], rs[3]};
  wt_expect_shape(ys, yr, one_d ? want3 : rs, c->x_rank);
  /* a float sum of at most 12 values of |x| <= 2 in window order: a few ulps of 24 */
  wt_expect_close(y, r, NULL, gt_count(rs, 4), 0.0, 1e-5);
  qk_model_destroy(m);
}

static void test_float(void** state) {
  (void)state;
  {
    const int64_t xs[4] = {2, 3, 7, 6};
    wt_case c = pool(xs, 4, 3, 3);
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 1, 1, 1, 1);
    const int64_t pad[4] = {1, 1, 1, 1};
    check_float(&c, pad); /* default: padded taps not counted */
    set_cip(&c, 0);
    check_float(&c, pad);
    set_cip(&c, 1); /* counted: the divisor is always 9 */
    check_float(&c, pad);
  }
  {
    const int64_t xs[4] = {1, 2, 6, 7}; /* asymmetric pads, strides {1, 2} */
    wt_case c = pool(xs, 4, 2, 3);
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 1, 2, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 0, 1, 1, 0);
    const int64_t pad[4] = {0, 1, 1, 0};
    check_float(&c, pad);
    set_cip(&c, 1);
    check_float(&c, pad);
  }
  {
    const int64_t xs[4] = {1, 2, 9, 8}; /* dilations {2, 3} (opset 19) */
    wt_case c = pool(xs, 4, 3, 2);
    set_list(c.attrs.dilations, &c.attrs.n_dil, 2, 2, 3, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 1, 0, 1, 2);
    const int64_t pad[4] = {1, 0, 1, 2};
    check_float(&c, pad);
  }
  {
    const int64_t xs[4] = {1, 3, 7, 8}; /* SAME_LOWER, stride 2: H total 3*2+4-7 = 3 -> 2 top, 1 bottom */
    wt_case c = pool(xs, 4, 4, 2);
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
    c.attrs.auto_pad = "SAME_LOWER";
    const int64_t pad[4] = {2, 0, 1, 0};
    check_float(&c, pad);
    c.attrs.auto_pad = "SAME_UPPER";
    const int64_t upper[4] = {1, 0, 2, 0};
    check_float(&c, upper);
    c.attrs.auto_pad = "VALID";
    const int64_t none[4] = {0, 0, 0, 0};
    check_float(&c, none);
  }
  {
    const int64_t xs[3] = {2, 3, 11}; /* 1-D */
    wt_case c = pool(xs, 3, 3, 0);
    set_list(c.attrs.strides, &c.attrs.n_strides, 1, 2, 0, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 2, 1, 2, 0, 0);
    const int64_t pad[4] = {0, 1, 0, 2};
    check_float(&c, pad);
    set_cip(&c, 1);
    check_float(&c, pad);
  }
}

static void test_shapes_symbolic(void** state) {
  (void)state;
  const int64_t xs[4] = {-1, 3, -1, 6};
  wt_case c = pool(xs, 4, 3, 3);
  c.x_names[0] = "batch";
  c.x_names[2] = "h";
  set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
  set_list(c.attrs.pads, &c.attrs.n_pads, 4, 1, 1, 1, 1);
  qk_model* m = wt_build(&c);
  int64_t dims[8];
  const char* names[8];
  assert_int_equal(wt_declared(m, "y", dims, names), 4);
  assert_true(dims[0] < 0 && strcmp(names[0], "batch") == 0);
  assert_int_equal(dims[1], 3);
  assert_true(dims[2] < 0 && strcmp(names[2], "h") != 0);
  assert_int_equal(dims[3], 3); /* (6 + 2 - 3) / 2 + 1 */
  const int64_t run_shape[4] = {2, 3, 10, 6};
  gt_tensor in = {"x", run_shape, 4, g_x};
  static float y[4096];
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, &in, 1, "y", y, 4096, ys, &yr);
  const int64_t want[4] = {2, 3, 5, 3};
  wt_expect_shape(ys, yr, want, 4);
  qk_model_destroy(m);
}

/* The int8 kernel rounds (sum of codes - count * zp) / count once; the reference is the float
 * mean of the dequantized codes quantized again: equal but for float ties (x.5 exactly), so
 * within 1 step. The output keeps the input's qparams. */
static void check_int8(const wt_case* c) {
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  gt_check_int8(wt_build, (void*)c, &in, 1, "y", 1.0);
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
  {
    const int64_t xs[4] = {2, 3, 7, 6};
    wt_case c = pool(xs, 4, 3, 3);
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 1, 0, 1, 2);
    check_int8(&c);
    set_cip(&c, 1);
    check_int8(&c);
    c.s8 = 1;
    check_int8(&c);
    set_cip(&c, 0);
    check_int8(&c);
  }
  {
    const int64_t xs[4] = {1, 2, 9, 8};
    wt_case c = pool(xs, 4, 3, 2);
    set_list(c.attrs.dilations, &c.attrs.n_dil, 2, 2, 3, 0, 0);
    c.attrs.auto_pad = "SAME_UPPER";
    check_int8(&c);
  }
  {
    const int64_t xs[3] = {2, 3, 11}; /* rank 3: plain codes moved to {N, L, C} and back */
    wt_case c = pool(xs, 3, 3, 0);
    set_list(c.attrs.strides, &c.attrs.n_strides, 1, 2, 0, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 2, 1, 2, 0, 0);
    check_int8(&c);
    set_cip(&c, 1);
    c.s8 = 1;
    check_int8(&c);
  }
}

static void test_bad_input(void** state) {
  (void)state;
  const int64_t xs[4] = {1, 3, 6, 6};
  const qk_status E = QK_ERR_INVALID_ARGUMENT;
  {
    wt_case c = pool(xs, 4, 2, 2);
    c.attrs.n_kernel = 0;
    GT_FAILS(wt_try_build(&c), E, "needs attribute 'kernel_shape'");
  }
  {
    wt_case c = pool(xs, 4, 2, 2);
    set_cip(&c, 2);
    GT_FAILS(wt_try_build(&c), E, "count_include_pad 2 must be 0 or 1");
    set_cip(&c, 1);
    c.attrs.has_ceil = 1;
    c.attrs.ceil_mode = 1;
    GT_FAILS(wt_try_build(&c), QK_ERR_UNSUPPORTED, "ceil_mode 1 is not supported");
  }
  {
    const int64_t x5[4] = {1, 3, 6, 6};
    wt_case c = pool(x5, 4, 2, 2);
    set_list(c.attrs.strides, &c.attrs.n_strides, 3, 1, 1, 1, 0);
    GT_FAILS(wt_try_build(&c), E, "'strides' has 3 values, expected 2");
  }
  {
    wt_case c = pool(xs, 4, 2, 2);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 0, 0, 0, 2); /* the last column of windows: all padding */
    GT_FAILS(wt_try_build(&c), E, "width window 6 lies entirely in the padding");
  }
  {
    const int64_t x1[3] = {1, 3, 2};
    wt_case c = pool(x1, 3, 3, 0);
    GT_FAILS(wt_try_build(&c), E, "width window (3 with dilation) is larger than the padded input (2)");
  }
}

static int setup(void** state) {
  (void)state;
  gt_fill(g_x, 8192, -2.0f, 2.0f, 301);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),
      cmocka_unit_test(test_shapes_symbolic),
      cmocka_unit_test(test_int8),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
