/* SPDX-License-Identifier: Apache-2.0 */
/* MaxPool: shape inference (symbolic batch and spatial dims, SAME / VALID / explicit pads, 1-D),
 * float against a max over the window written here (window_test_util.h) with strides,
 * asymmetric pads, dilations and auto_pad; int8 (u8, s8, rank 4 NHWC and rank 3 plain codes)
 * EXACTLY the float op on the dequantized input (0 steps: the output keeps the input's qparams
 * and the max of codes is the code of the max); bad input. */
#include "window_test_util.h"

static float g_x[8192];

static wt_case pool(const int64_t* xs, size_t xr, int64_t k0, int64_t k1) {
  wt_case c;
  memset(&c, 0, sizeof c);
  c.op = "MaxPool";
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
  wt_ref_pool(1, 0, g_x, xs, k, s, pad, d, r, rs);
  qk_model* m = wt_build((void*)c);
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  size_t yr = 0;
  gt_run(m, &in, 1, "y", y, 8192, ys, &yr);
  const int64_t want3[3] = {rs[0], rs[1], rs[3]};
  wt_expect_shape(ys, yr, one_d ? want3 : rs, c->x_rank);
  wt_expect_close(y, r, NULL, gt_count(rs, 4), 0.0, 0.0); /* a max does no arithmetic */
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
    check_float(&c, pad);
  }
  {
    const int64_t xs[4] = {1, 2, 6, 7}; /* asymmetric pads, strides {1, 2} */
    wt_case c = pool(xs, 4, 2, 3);
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 1, 2, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 0, 1, 1, 0);
    const int64_t pad[4] = {0, 1, 1, 0};
    check_float(&c, pad);
  }
  {
    const int64_t xs[4] = {1, 2, 9, 8}; /* dilations {2, 3} */
    wt_case c = pool(xs, 4, 3, 2);
    set_list(c.attrs.dilations, &c.attrs.n_dil, 2, 2, 3, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 1, 0, 1, 2);
    const int64_t pad[4] = {1, 0, 1, 2};
    check_float(&c, pad);
  }
  {
    const int64_t xs[4] = {1, 3, 7, 8}; /* SAME_UPPER, stride 2: H total 3*2+3-7 = 2, W 3*2+2-8 = 0 */
    wt_case c = pool(xs, 4, 3, 2);
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
    c.attrs.auto_pad = "SAME_UPPER";
    const int64_t pad[4] = {1, 0, 1, 0};
    check_float(&c, pad);
    c.attrs.auto_pad = "VALID";
    const int64_t none[4] = {0, 0, 0, 0};
    check_float(&c, none);
  }
  {
    const int64_t xs[4] = {1, 2, 5, 5}; /* SAME_LOWER, stride 1, kernel 2: 1 pad at the beginning */
    wt_case c = pool(xs, 4, 2, 2);
    c.attrs.auto_pad = "SAME_LOWER";
    const int64_t pad[4] = {1, 1, 0, 0};
    check_float(&c, pad);
  }
  {
    const int64_t xs[3] = {2, 3, 11}; /* 1-D */
    wt_case c = pool(xs, 3, 3, 0);
    c.attrs.kernel_shape[0] = 3;
    set_list(c.attrs.strides, &c.attrs.n_strides, 1, 2, 0, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 2, 1, 2, 0, 0);
    const int64_t pad[4] = {0, 1, 0, 2};
    check_float(&c, pad);
  }
}

static void test_shapes_symbolic(void** state) {
  (void)state;
  const int64_t xs[4] = {-1, 3, -1, -1};
  wt_case c = pool(xs, 4, 2, 2);
  c.x_names[0] = "batch";
  c.x_names[2] = "h";
  c.x_names[3] = "w";
  set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
  qk_model* m = wt_build(&c);
  int64_t dims[8];
  const char* names[8];
  assert_int_equal(wt_declared(m, "y", dims, names), 4);
  assert_true(dims[0] < 0 && strcmp(names[0], "batch") == 0);
  assert_int_equal(dims[1], 3);
  assert_true(dims[2] < 0 && dims[3] < 0 && strcmp(names[2], "h") != 0 && strcmp(names[2], names[3]) != 0);
  const int64_t run_shape[4] = {3, 3, 9, 6};
  gt_tensor in = {"x", run_shape, 4, g_x};
  static float y[4096];
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, &in, 1, "y", y, 4096, ys, &yr);
  const int64_t want[4] = {3, 3, 4, 3};
  wt_expect_shape(ys, yr, want, 4);
  /* a window entirely in the padding is known only at run time here */
  qk_model_destroy(m);
  wt_case p = c;
  set_list(p.attrs.pads, &p.attrs.n_pads, 4, 0, 0, 2, 0); /* bottom pad 2 = the kernel */
  m = wt_build(&p);
  qk_run* run = NULL;
  GT_OK(qk_run_create(m, &run));
  const int64_t even[4] = {1, 3, 4, 4}; /* (4 + 2 - 2) / 2 + 1 = 3 rows, the last at 4..5: padding */
  GT_OK(qk_run_set_input(run, "x", QK_DTYPE_F32, g_x, 48 * sizeof(float), even, 4));
  GT_FAILS(qk_run_invoke(run, NULL), QK_ERR_INVALID_ARGUMENT, "lies entirely in the padding");
  qk_run_destroy(run);
  qk_model_destroy(m);
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
  {
    const int64_t xs[4] = {2, 3, 7, 6};
    wt_case c = pool(xs, 4, 3, 3);
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 1, 0, 1, 2);
    check_int8(&c);
    c.s8 = 1;
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
    /* symbolic dims: the geometry comes from the run's shape */
    const int64_t xs[4] = {-1, 3, -1, -1}, run[4] = {2, 3, 9, 7};
    wt_case c = pool(xs, 4, 3, 3);
    c.x_names[0] = "batch";
    c.x_names[2] = "h";
    c.x_names[3] = "w";
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 1, 1, 1, 1);
    gt_tensor in = {"x", run, 4, g_x};
    gt_check_int8(wt_build, &c, &in, 1, "y", 0.0);
  }
  {
    const int64_t xs[3] = {2, 3, 11}; /* rank 3: plain codes moved to {N, L, C} and back */
    wt_case c = pool(xs, 3, 3, 0);
    set_list(c.attrs.strides, &c.attrs.n_strides, 1, 2, 0, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 2, 1, 2, 0, 0);
    check_int8(&c);
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
    c.attrs.n_kernel = 1;
    GT_FAILS(wt_try_build(&c), E, "'kernel_shape' has 1 values, expected 2");
    c.attrs.n_kernel = 2;
    c.attrs.kernel_shape[1] = 0;
    GT_FAILS(wt_try_build(&c), E, "'kernel_shape'[1] = 0 is outside [1");
  }
  {
    wt_case c = pool(xs, 4, 2, 2);
    c.attrs.has_ceil = 1;
    c.attrs.ceil_mode = 1;
    GT_FAILS(wt_try_build(&c), QK_ERR_UNSUPPORTED, "ceil_mode 1 is not supported");
    c.attrs.ceil_mode = 2;
    GT_FAILS(wt_try_build(&c), E, "ceil_mode 2 must be 0 or 1");
    c.attrs.ceil_mode = 0; /* explicit 0 is fine */
    assert_int_equal(wt_try_build(&c), QK_OK);
  }
  {
    const int64_t x2[2] = {3, 6};
    wt_case c = pool(x2, 2, 2, 2);
    c.attrs.n_kernel = 2;
    GT_FAILS(wt_try_build(&c), E, "must be {N, C, L} (1-D) or {N, C, H, W}");
  }
  {
    wt_case c = pool(xs, 4, 7, 2);
    GT_FAILS(wt_try_build(&c), E, "height window (7 with dilation) is larger than the padded input (6)");
  }
  {
    wt_case c = pool(xs, 4, 2, 2);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 2, 0, 0, 0); /* the first row of windows: all padding */
    GT_FAILS(wt_try_build(&c), E, "height window 0 lies entirely in the padding");
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 0, 0, 0, 0);
    c.attrs.auto_pad = "SAME_UPPER";
    GT_FAILS(wt_try_build(&c), E, "cannot be combined with auto_pad");
  }
  {
    qk_model* m = wt_build_inputs(&(wt_case){.op = "MaxPool", .x_shape = {1, 3, 6, 6}, .x_rank = 4});
    const char* ins[] = {"x"};
    const char* outs[] = {"y"};
    const char* outs2[] = {"y", "indices"};
    const int64_t k[2] = {2, 2};
    qk_attrs* a = NULL;
    GT_OK(qk_attrs_create(&a));
    GT_OK(qk_attrs_set_ints(a, "kernel_shape", k, 2));
    GT_FAILS(qk_model_add_node(m, "MaxPool", "n", ins, 1, outs2, 2, a), E, "has 1..1 outputs");
    GT_OK(qk_attrs_set_int(a, "storage_order", 1));
    GT_FAILS(qk_model_add_node(m, "MaxPool", "n", ins, 1, outs, 1, a), QK_ERR_UNSUPPORTED, "storage_order 1");
    GT_OK(qk_attrs_set_int(a, "storage_order", 0));
    GT_OK(qk_attrs_set_int(a, "count_include_pad", 0)); /* AveragePool's, not MaxPool's */
    GT_FAILS(qk_model_add_node(m, "MaxPool", "n", ins, 1, outs, 1, a), E, "has no attribute 'count_include_pad'");
    qk_attrs_destroy(a);
    GT_OK(qk_model_add_input(m, "xi", QK_DTYPE_S32, xs, NULL, 4));
    const char* ins2[] = {"xi"};
    GT_OK(qk_attrs_create(&a));
    GT_OK(qk_attrs_set_ints(a, "kernel_shape", k, 2));
    GT_FAILS(qk_model_add_node(m, "MaxPool", "n", ins2, 1, outs, 1, a), E, "expected f32");
    qk_attrs_destroy(a);
    qk_model_destroy(m);
  }
}

static int setup(void** state) {
  (void)state;
  gt_fill(g_x, 8192, -2.0f, 2.0f, 201);
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
