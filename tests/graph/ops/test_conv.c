/* SPDX-License-Identifier: Apache-2.0 */
/* Conv: shape inference (symbolic batch and spatial dims, SAME / VALID / explicit pads, 1-D),
 * float against a gather convolution written here (window_test_util.h) for dense, strided with
 * asymmetric pads, dilated, grouped, depthwise, SAME_UPPER / SAME_LOWER, VALID, 1-D and clamped
 * convs; int8 within 1 output step of "dequantize -> float conv -> quantize" (u8 and s8, the
 * rank-3 path included); the weight scheme (per channel by default, per tensor by op type or
 * node name); dynamic pointwise convs within a bound derived below, other convs staying float;
 * Conv + BatchNormalization + Relu fused equal to the unfused float model; save / load of int8
 * and dynamic models bit-identical; bad input. */
#include <unistd.h>

#include "window_test_util.h"

static float g_x[8192], g_w[4096], g_b[64];

static void fill_data(void) {
  gt_fill(g_x, 8192, -1.0f, 1.0f, 101);
  gt_fill(g_w, 4096, -0.5f, 0.5f, 102);
  gt_fill(g_b, 64, -0.3f, 0.3f, 103);
}

/* A Conv case: x of shape xs (rank xr), weight {ws} (rank xr), bias when `bias`. */
static wt_case conv(const int64_t* xs, size_t xr, const int64_t* ws, int bias) {
  wt_case c;
  memset(&c, 0, sizeof c);
  c.op = "Conv";
  memcpy(c.x_shape, xs, xr * sizeof(int64_t));
  c.x_rank = xr;
  c.consts[0].name = "w";
  memcpy(c.consts[0].shape, ws, xr * sizeof(int64_t));
  c.consts[0].rank = xr;
  c.consts[0].data = g_w;
  c.n_consts = 1;
  if (bias) {
    c.consts[1].name = "b";
    c.consts[1].shape[0] = ws[0];
    c.consts[1].rank = 1;
    c.consts[1].data = g_b;
    c.n_consts = 2;
  }
  return c;
}

static void set2(int64_t* dst, size_t* n, int64_t a, int64_t b) {
  dst[0] = a;
  dst[1] = b;
  *n = 2;
}
static void set1(int64_t* dst, size_t* n, int64_t a) {
  dst[0] = a;
  *n = 1;
}
static void set_pads(wt_attrs* a, int64_t t, int64_t l, int64_t b, int64_t r) {
  a->pads[0] = t;
  a->pads[1] = l;
  a->pads[2] = b;
  a->pads[3] = r;
  a->n_pads = 4;
}

/* Float run of case c on g_x against wt_ref_conv with the hand-computed 2-D pads `pad` (1-D
 * cases: {0, begin, 0, end}); strides / dilations / group from c's attributes. */
static void check_float(const wt_case* c, const int64_t pad[4]) {
  const int one_d = c->x_rank == 3;
  const int64_t xs[4] = {c->x_shape[0], c->x_shape[1], one_d ? 1 : c->x_shape[2], c->x_shape[c->x_rank - 1]};
  const int64_t* w = c->consts[0].shape;
  const int64_t ws[4] = {w[0], w[1], one_d ? 1 : w[2], w[c->x_rank - 1]};
  const wt_attrs* a = &c->attrs;
  int64_t s[2] = {1, 1}, d[2] = {1, 1};
  if (a->n_strides) {
    s[0] = one_d ? 1 : a->strides[0];
    s[1] = a->strides[a->n_strides - 1];
  }
  if (a->n_dil) {
    d[0] = one_d ? 1 : a->dilations[0];
    d[1] = a->dilations[a->n_dil - 1];
  }
  const float lo = a->has_clip_min ? a->clip_min : -INFINITY, hi = a->has_clip_max ? a->clip_max : INFINITY;
  static float y[8192], r[8192];
  static double mag[8192];
  int64_t rs[4], ys[8];
  wt_ref_conv(g_x, xs, g_w, ws, c->n_consts > 1 ? g_b : NULL, a->has_group ? a->group : 1, s, pad, d, lo, hi, r, rs, mag);
  qk_model* m = wt_build((void*)c);
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  size_t yr = 0;
  gt_run(m, &in, 1, "y", y, 8192, ys, &yr);
  const int64_t want3[3] = {rs[0], rs[1], rs[3]};
  wt_expect_shape(ys, yr, one_d ? want3 : rs, c->x_rank);
  /* Float GEMM sums in another order than the double reference: a few ulps of sum |terms|. */
  wt_expect_close(y, r, mag, gt_count(rs, 4), 1e-5, 1e-6);
  qk_model_destroy(m);
}

/* ---- Float -------------------------------------------------------------------------------------- */

static void test_float_dense(void** state) {
  (void)state;
  const int64_t p1[4] = {1, 1, 1, 1}, p0[4] = {0, 0, 0, 0};
  {
    const int64_t xs[4] = {2, 3, 7, 6}, ws[4] = {4, 3, 3, 3};
    wt_case c = conv(xs, 4, ws, 1);
    set_pads(&c.attrs, 1, 1, 1, 1);
    check_float(&c, p1);
    set2(c.attrs.kernel_shape, &c.attrs.n_kernel, 3, 3); /* kernel_shape equal to the weight's */
    check_float(&c, p1);
  }
  {
    const int64_t xs[4] = {1, 3, 5, 5}, ws[4] = {2, 3, 1, 1}; /* pointwise, no bias */
    wt_case c = conv(xs, 4, ws, 0);
    check_float(&c, p0);
  }
  {
    const int64_t xs[4] = {2, 3, 6, 6}, ws[4] = {4, 3, 3, 3}; /* fused clamp (Conv + Clip) */
    wt_case c = conv(xs, 4, ws, 1);
    set_pads(&c.attrs, 1, 1, 1, 1);
    c.attrs.has_clip_min = c.attrs.has_clip_max = 1;
    c.attrs.clip_min = -0.2f;
    c.attrs.clip_max = 0.3f;
    check_float(&c, p1);
  }
}

static void test_float_strides_pads_dilations(void** state) {
  (void)state;
  {
    const int64_t xs[4] = {1, 3, 8, 7}, ws[4] = {5, 3, 3, 2}; /* strides {2, 3}, asymmetric pads */
    wt_case c = conv(xs, 4, ws, 1);
    set2(c.attrs.strides, &c.attrs.n_strides, 2, 3);
    set_pads(&c.attrs, 0, 1, 2, 1);
    const int64_t pad[4] = {0, 1, 2, 1};
    check_float(&c, pad);
  }
  {
    const int64_t xs[4] = {1, 2, 9, 8}, ws[4] = {3, 2, 3, 3}; /* dilation {2, 1} */
    wt_case c = conv(xs, 4, ws, 0);
    set2(c.attrs.dilations, &c.attrs.n_dil, 2, 1);
    set_pads(&c.attrs, 2, 1, 2, 1);
    const int64_t pad[4] = {2, 1, 2, 1};
    check_float(&c, pad);
  }
  {
    const int64_t xs[4] = {2, 3, 7, 8}, ws[4] = {4, 3, 4, 3}; /* SAME_UPPER, stride 2 */
    wt_case c = conv(xs, 4, ws, 1);
    set2(c.attrs.strides, &c.attrs.n_strides, 2, 2);
    c.attrs.auto_pad = "SAME_UPPER";
    /* H: out ceil(7/2) = 4, total 3*2 + 4 - 7 = 3 -> 1 top, 2 bottom; W: out 4, total 6 + 3 - 8 = 1
     * -> 0 left, 1 right (the odd pad at the end). */
    const int64_t upper[4] = {1, 0, 2, 1};
    check_float(&c, upper);
    c.attrs.auto_pad = "SAME_LOWER"; /* the odd pad at the beginning */
    const int64_t lower[4] = {2, 1, 1, 0};
    check_float(&c, lower);
  }
  {
    const int64_t xs[4] = {1, 2, 6, 5}, ws[4] = {3, 2, 3, 2}; /* VALID */
    wt_case c = conv(xs, 4, ws, 1);
    set2(c.attrs.strides, &c.attrs.n_strides, 1, 2);
    c.attrs.auto_pad = "VALID";
    const int64_t pad[4] = {0, 0, 0, 0};
    check_float(&c, pad);
  }
}

static void test_float_groups(void** state) {
  (void)state;
  const int64_t p1[4] = {1, 1, 1, 1};
  {
    const int64_t xs[4] = {2, 4, 6, 6}, ws[4] = {6, 2, 3, 3}; /* 2 groups */
    wt_case c = conv(xs, 4, ws, 1);
    c.attrs.has_group = 1;
    c.attrs.group = 2;
    set_pads(&c.attrs, 1, 1, 1, 1);
    check_float(&c, p1);
  }
  {
    const int64_t xs[4] = {1, 5, 7, 7}, ws[4] = {5, 1, 3, 3}; /* depthwise, stride 2 */
    wt_case c = conv(xs, 4, ws, 1);
    c.attrs.has_group = 1;
    c.attrs.group = 5;
    set2(c.attrs.strides, &c.attrs.n_strides, 2, 2);
    set_pads(&c.attrs, 1, 1, 1, 1);
    check_float(&c, p1);
  }
  {
    const int64_t xs[4] = {1, 3, 5, 6}, ws[4] = {6, 1, 3, 3}; /* depthwise, multiplier 2 */
    wt_case c = conv(xs, 4, ws, 0);
    c.attrs.has_group = 1;
    c.attrs.group = 3;
    set_pads(&c.attrs, 1, 1, 1, 1);
    check_float(&c, p1);
  }
}

static void test_float_1d(void** state) {
  (void)state;
  {
    const int64_t xs[3] = {2, 3, 10}, ws[3] = {4, 3, 3};
    wt_case c = conv(xs, 3, ws, 1);
    set1(c.attrs.strides, &c.attrs.n_strides, 2);
    c.attrs.pads[0] = 2;
    c.attrs.pads[1] = 1;
    c.attrs.n_pads = 2;
    set1(c.attrs.dilations, &c.attrs.n_dil, 2);
    const int64_t pad[4] = {0, 2, 0, 1};
    check_float(&c, pad);
  }
  {
    const int64_t xs[3] = {1, 2, 9}, ws[3] = {3, 2, 4}; /* SAME_LOWER: total 3 -> 2 begin, 1 end */
    wt_case c = conv(xs, 3, ws, 0);
    c.attrs.auto_pad = "SAME_LOWER";
    const int64_t pad[4] = {0, 2, 0, 1};
    check_float(&c, pad);
  }
  {
    const int64_t xs[3] = {2, 4, 7}, ws[3] = {4, 2, 3}; /* grouped */
    wt_case c = conv(xs, 3, ws, 1);
    c.attrs.has_group = 1;
    c.attrs.group = 2;
    const int64_t pad[4] = {0, 0, 0, 0};
    check_float(&c, pad);
  }
}

/* ---- Shapes ------------------------------------------------------------------------------------- */

static void test_shapes_symbolic(void** state) {
  (void)state;
  {
    const int64_t xs[4] = {-1, 3, -1, 8}, ws[4] = {4, 3, 3, 3};
    wt_case c = conv(xs, 4, ws, 1);
    c.x_names[0] = "batch";
    c.x_names[2] = "h";
    set2(c.attrs.strides, &c.attrs.n_strides, 2, 2);
    set_pads(&c.attrs, 1, 1, 1, 1);
    qk_model* m = wt_build(&c);
    int64_t dims[8];
    const char* names[8];
    assert_int_equal(wt_declared(m, "y", dims, names), 4);
    assert_true(dims[0] < 0 && strcmp(names[0], "batch") == 0); /* the batch passes through */
    assert_int_equal(dims[1], 4);
    assert_true(dims[2] < 0 && names[2] != NULL && strcmp(names[2], "h") != 0); /* derived from h */
    assert_int_equal(dims[3], 4);                                               /* (8 + 2 - 3) / 2 + 1 */
    qk_model_destroy(m);
    /* run with batch 2, h 9: (9 + 2 - 3) / 2 + 1 = 5 */
    const int64_t run_shape[4] = {2, 3, 9, 8};
    wt_case r = c;
    memcpy(r.x_shape, run_shape, sizeof run_shape);
    const int64_t p1[4] = {1, 1, 1, 1};
    /* check_float builds with r's concrete shape; run the symbolic model by hand too */
    check_float(&r, p1);
    m = wt_build(&c);
    gt_tensor in = {"x", run_shape, 4, g_x};
    static float y[4096];
    int64_t ys[8];
    size_t yr = 0;
    gt_run(m, &in, 1, "y", y, 4096, ys, &yr);
    const int64_t want[4] = {2, 4, 5, 4};
    wt_expect_shape(ys, yr, want, 4);
    /* h = 0: the padded height 2 is below the 3-tap kernel; known only at run time. */
    qk_run* run = NULL;
    GT_OK(qk_run_create(m, &run));
    const int64_t bad[4] = {1, 3, 0, 8};
    GT_OK(qk_run_set_input(run, "x", QK_DTYPE_F32, g_x, 0, bad, 4));
    GT_FAILS(qk_run_invoke(run, NULL), QK_ERR_INVALID_ARGUMENT, "larger than the padded input");
    qk_run_destroy(run);
    qk_model_destroy(m);
  }
  {
    /* SAME_UPPER with a symbolic width: ceil(w / 2), known only when the model runs. */
    const int64_t xs[3] = {-1, 2, -1}, ws[3] = {3, 2, 3};
    wt_case c = conv(xs, 3, ws, 0);
    c.x_names[0] = "batch";
    c.x_names[2] = "len";
    set1(c.attrs.strides, &c.attrs.n_strides, 2);
    c.attrs.auto_pad = "SAME_UPPER";
    qk_model* m = wt_build(&c);
    int64_t dims[8];
    const char* names[8];
    assert_int_equal(wt_declared(m, "y", dims, names), 3);
    assert_true(dims[0] < 0 && dims[2] < 0);
    assert_int_equal(dims[1], 3);
    const int64_t run_shape[3] = {3, 2, 11};
    gt_tensor in = {"x", run_shape, 3, g_x};
    static float y[4096];
    int64_t ys[8];
    size_t yr = 0;
    gt_run(m, &in, 1, "y", y, 4096, ys, &yr);
    const int64_t want[3] = {3, 3, 6};
    wt_expect_shape(ys, yr, want, 3);
    qk_model_destroy(m);
    /* same values as the concrete model: total pad (6-1)*2 + 3 - 11 = 2 -> 1, 1 */
    wt_case r = c;
    memcpy(r.x_shape, run_shape, sizeof run_shape);
    const int64_t pad[4] = {0, 1, 0, 1};
    check_float(&r, pad);
  }
}

/* ---- int8 --------------------------------------------------------------------------------------- */

/* Prepared, calibrated on x and converted. */
static qk_model* convert_case(const wt_case* c) {
  qk_model* m = wt_build((void*)c);
  GT_OK(qk_model_prepare(m));
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  gt_calibrate(m, &in, 1);
  GT_OK(qk_model_convert(m));
  return m;
}

/* Within 1 output step of the float conv on the rounded input: the int8 kernel's only other
 * error is the weights' rounding (per channel: at most half a step of max|w| / 127.5 per weight),
 * far below one output step for these sizes. The node must have run int8: its input is quantized
 * (a float Conv would read x directly; the run dequantizes the graph output itself), and the
 * codes stay in the layout Quantize wrote (no Reorder). */
static void check_int8(const wt_case* c) {
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  gt_check_int8(wt_build, (void*)c, &in, 1, "y", 1.0);
  qk_model* q = convert_case(c);
  assert_int_equal(wt_count_nodes(q, "qk.Quantize"), 1);
  assert_int_equal(wt_count_nodes(q, "qk.Dequantize"), 0);
  assert_int_equal(wt_count_nodes(q, "qk.Reorder"), 0);
  qk_model_destroy(q);
}

static void test_int8(void** state) {
  (void)state;
  {
    const int64_t xs[4] = {2, 3, 7, 6}, ws[4] = {4, 3, 3, 3};
    wt_case c = conv(xs, 4, ws, 1);
    set_pads(&c.attrs, 1, 1, 1, 1);
    check_int8(&c);
    c.s8 = 1;
    check_int8(&c);
    c.s8 = 0;
    c.attrs.has_clip_min = 1; /* fused relu */
    c.attrs.clip_min = 0.0f;
    check_int8(&c);
  }
  {
    const int64_t xs[4] = {1, 3, 8, 7}, ws[4] = {5, 3, 3, 2};
    wt_case c = conv(xs, 4, ws, 1);
    set2(c.attrs.strides, &c.attrs.n_strides, 2, 3);
    set_pads(&c.attrs, 0, 1, 2, 1);
    check_int8(&c);
  }
  {
    const int64_t xs[4] = {1, 2, 9, 8}, ws[4] = {3, 2, 3, 3};
    wt_case c = conv(xs, 4, ws, 0);
    set2(c.attrs.dilations, &c.attrs.n_dil, 2, 1);
    set_pads(&c.attrs, 2, 1, 2, 1);
    check_int8(&c);
  }
  {
    const int64_t xs[4] = {2, 4, 6, 6}, ws[4] = {6, 2, 3, 3};
    wt_case c = conv(xs, 4, ws, 1);
    c.attrs.has_group = 1;
    c.attrs.group = 2;
    set_pads(&c.attrs, 1, 1, 1, 1);
    check_int8(&c);
  }
  {
    const int64_t xs[4] = {1, 5, 7, 7}, ws[4] = {5, 1, 3, 3}; /* depthwise: the direct kernel */
    wt_case c = conv(xs, 4, ws, 1);
    c.attrs.has_group = 1;
    c.attrs.group = 5;
    set2(c.attrs.strides, &c.attrs.n_strides, 2, 2);
    set_pads(&c.attrs, 1, 1, 1, 1);
    check_int8(&c);
    c.s8 = 1;
    check_int8(&c);
  }
  {
    const int64_t xs[4] = {2, 3, 7, 8}, ws[4] = {4, 3, 4, 3};
    wt_case c = conv(xs, 4, ws, 1);
    set2(c.attrs.strides, &c.attrs.n_strides, 2, 2);
    c.attrs.auto_pad = "SAME_UPPER";
    check_int8(&c);
  }
  {
    const int64_t xs[4] = {2, 6, 4, 5}, ws[4] = {5, 6, 1, 1}; /* 1x1: the GEMM reads the input itself */
    wt_case c = conv(xs, 4, ws, 1);
    check_int8(&c);
  }
}

/* Symbolic batch and spatial dims: the QConv2d is built once at convert time (pads known) and
 * runs on any size; calibrated on one size, run on another. SAME_UPPER with stride 2 and a
 * symbolic size has size-dependent pads, so that conv stays float (bit-identical to float). */
static void test_int8_symbolic(void** state) {
  (void)state;
  const int64_t xs[4] = {-1, 3, -1, -1}, ws[4] = {4, 3, 3, 3};
  wt_case c = conv(xs, 4, ws, 1);
  c.x_names[0] = "batch";
  c.x_names[2] = "h";
  c.x_names[3] = "w";
  set2(c.attrs.strides, &c.attrs.n_strides, 2, 1);
  set_pads(&c.attrs, 1, 0, 1, 2);
  const int64_t calib[4] = {2, 3, 7, 6}, run[4] = {3, 3, 9, 5};
  gt_tensor in = {"x", calib, 4, g_x};
  gt_check_int8(wt_build, &c, &in, 1, "y", 1.0);
  qk_model* q = wt_build(&c);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, &in, 1);
  GT_OK(qk_model_convert(q));
  assert_int_equal(wt_count_nodes(q, "qk.Quantize"), 1);
  static float yq[4096], yf[4096], xr[4096];
  float sx, sy;
  int32_t zx, zy, lo, hi;
  gt_value_qparams(q, "x", &sx, &zx, &lo, &hi);
  for (size_t i = 0; i < gt_count(run, 4); ++i) xr[i] = gt_fake_quant(g_x[i], sx, zx, lo, hi);
  gt_value_qparams(q, "y", &sy, &zy, &lo, &hi);
  int64_t ys[8];
  size_t yr = 0;
  gt_tensor rin = {"x", run, 4, g_x}, rround = {"x", run, 4, xr};
  gt_run(q, &rin, 1, "y", yq, 4096, ys, &yr);
  const int64_t want[4] = {3, 4, 5, 5}; /* (9 + 2 - 3) / 2 + 1, (5 + 2 - 3) + 1 */
  wt_expect_shape(ys, yr, want, 4);
  qk_model* f = wt_build(&c);
  gt_run(f, &rround, 1, "y", yf, 4096, NULL, NULL);
  for (size_t i = 0; i < gt_count(want, 4); ++i) {
    const float ref = gt_fake_quant(yf[i], sy, zy, lo, hi);
    if (fabsf(yq[i] - ref) > sy * 1.001f) fail_msg("y[%zu]: int8 %g, reference %g", i, (double)yq[i], (double)ref);
  }
  qk_model_destroy(f);
  qk_model_destroy(q);

  wt_case same = c;
  same.attrs.n_pads = 0;
  same.attrs.auto_pad = "SAME_UPPER";
  set2(same.attrs.strides, &same.attrs.n_strides, 2, 2);
  q = wt_build(&same);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, &in, 1);
  GT_OK(qk_model_convert(q));
  assert_int_equal(wt_count_nodes(q, "qk.Quantize"), 0); /* stayed float */
  f = wt_build(&same);
  gt_run(q, &rin, 1, "y", yq, 4096, ys, &yr);
  gt_run(f, &rin, 1, "y", yf, 4096, NULL, NULL);
  assert_memory_equal(yq, yf, gt_count(ys, yr) * sizeof(float));
  qk_model_destroy(f);
  qk_model_destroy(q);
}

static void test_int8_1d(void** state) {
  (void)state;
  const int64_t xs[3] = {2, 3, 10}, ws[3] = {4, 3, 3};
  wt_case c = conv(xs, 3, ws, 1);
  set1(c.attrs.strides, &c.attrs.n_strides, 2);
  c.attrs.pads[0] = 2;
  c.attrs.pads[1] = 1;
  c.attrs.n_pads = 2;
  set1(c.attrs.dilations, &c.attrs.n_dil, 2);
  check_int8(&c); /* plain {N, C, L} codes moved to {N, L, C} and back inside the op */
  c.s8 = 1;
  check_int8(&c);
  const int64_t xg[3] = {2, 4, 7}, wg[3] = {4, 2, 3};
  wt_case g = conv(xg, 3, wg, 1);
  g.attrs.has_group = 1;
  g.attrs.group = 2;
  check_int8(&g);
}

/* Weight scheme: output channel 0 has one weight of 1.0 (max|w| of the whole tensor), channel 1
 * only weights of 0.003. Per channel (the default), channel 1 gets its own scale and its output
 * (up to 36 x 0.003 on inputs in [0, 1]) is kept; per tensor, 0.003 is under half of the step
 * 1/127.5 and every channel-1 weight rounds to 0, so its output is exactly 0. */
static float g_ws_w[72];

static wt_case scheme_case(void) {
  static float x01[100];
  gt_fill(x01, 100, 0.0f, 1.0f, 104);
  memcpy(g_x, x01, sizeof x01);
  memset(g_ws_w, 0, sizeof g_ws_w);
  g_ws_w[4] = 1.0f; /* channel 0, input channel 0, centre tap */
  for (int i = 36; i < 72; ++i) g_ws_w[i] = 0.003f;
  const int64_t xs[4] = {1, 4, 5, 5}, ws[4] = {2, 4, 3, 3};
  wt_case c = conv(xs, 4, ws, 0);
  c.consts[0].data = g_ws_w;
  set_pads(&c.attrs, 1, 1, 1, 1);
  return c;
}

/* Channel 1 of the converted model's output: 0 everywhere (zeroed) or not. */
static int channel1_zero(const wt_case* c) {
  qk_model* q = convert_case(c);
  gt_tensor in = {"x", c->x_shape, 4, g_x};
  float y[50];
  gt_run(q, &in, 1, "y", y, 50, NULL, NULL);
  qk_model_destroy(q);
  int zero = 1;
  for (int i = 25; i < 50; ++i) zero = zero && y[i] == 0.0f;
  return zero;
}

static void test_weight_scheme(void** state) {
  (void)state;
  wt_case c = scheme_case();
  gt_tensor in = {"x", c.x_shape, 4, g_x};
  gt_check_int8(wt_build, &c, &in, 1, "y", 1.0); /* per channel: within a step */
  assert_false(channel1_zero(&c));
  c.scheme_layer = "type:Conv";
  c.scheme = QK_QSCHEME_PER_TENSOR_SYMMETRIC;
  assert_true(channel1_zero(&c));
  c.scheme_layer = "n"; /* the node's name */
  assert_true(channel1_zero(&c));
  c.scheme_layer = "type:Linear"; /* another op type: the Conv keeps per channel */
  assert_false(channel1_zero(&c));
  c.scheme_layer = "type:Conv";
  c.scheme = QK_QSCHEME_PER_CHANNEL_SYMMETRIC;
  assert_false(channel1_zero(&c));
  fill_data();
}

/* ---- Dynamic ------------------------------------------------------------------------------------ */

/* Dynamic pointwise conv: input quantized u8 per run over the whole tensor (step
 * sx = (max(x, 0) - min(x, 0)) / 255), weights s8 per output channel (step sw_o = max|w_o| /
 * 127.5). Each output is sum_k x_k w_k; the int8 path computes sum_k x'_k w'_k with
 * |x_k - x'_k| <= sx / 2 and |w_k - w'_k| <= sw_o / 2, so
 *   |error| <= sum_k (sx / 2 |w_k| + sw_o / 2 (|x_k| + sx / 2)),
 * plus float rounding. Checked per element with 1% slack on the steps. */
static void check_dynamic_pointwise(const wt_case* c) {
  const size_t N = (size_t)c->x_shape[0], C = (size_t)c->x_shape[1], O = (size_t)c->consts[0].shape[0];
  size_t hw = 1;
  for (size_t i = 2; i < c->x_rank; ++i) hw *= (size_t)c->x_shape[i];
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  static float yf[4096], yd[4096];
  qk_model* f = wt_build((void*)c);
  gt_run(f, &in, 1, "y", yf, 4096, NULL, NULL);
  qk_model* d = wt_build((void*)c);
  GT_OK(qk_model_quantize_dynamic(d));
  gt_run(d, &in, 1, "y", yd, 4096, NULL, NULL);
  float xmin = 0.0f, xmax = 0.0f;
  for (size_t i = 0; i < N * C * hw; ++i) {
    if (g_x[i] < xmin) xmin = g_x[i];
    if (g_x[i] > xmax) xmax = g_x[i];
  }
  const double sx = (double)(xmax - xmin) / 255.0 * 1.01;
  const float lo = c->attrs.has_clip_min ? c->attrs.clip_min : -INFINITY;
  int differs = 0;
  for (size_t o = 0; o < O; ++o) {
    double amax = 0.0;
    /* (an if, not fmax: aarch64 GCC 12 has an internal compiler error vectorizing that reduction) */
    for (size_t k = 0; k < C; ++k)
      if (fabs((double)g_w[o * C + k]) > amax) amax = fabs((double)g_w[o * C + k]);
    const double sw = amax / 127.5 * 1.01;
    for (size_t n = 0; n < N; ++n)
      for (size_t p = 0; p < hw; ++p) {
        double bound = 0.0, mag = fabs((double)g_b[o]);
        for (size_t k = 0; k < C; ++k) {
          const double xv = g_x[(n * C + k) * hw + p], wv = g_w[o * C + k];
          bound += sx / 2 * fabs(wv) + sw / 2 * (fabs(xv) + sx / 2);
          mag += fabs(xv * wv);
        }
        const size_t i = (n * O + o) * hw + p;
        if (fabs((double)yd[i] - (double)yf[i]) > bound + 1e-5 * mag + 1e-6)
          fail_msg("y[%zu]: dynamic %g, float %g, bound %g", i, (double)yd[i], (double)yf[i], bound);
        if (yd[i] < lo) fail_msg("y[%zu] = %g is below the fused clamp %g", i, (double)yd[i], (double)lo);
        differs = differs || yd[i] != yf[i];
      }
  }
  assert_true(differs); /* the int8 path ran (float would be exact) */
  qk_model_destroy(f);
  qk_model_destroy(d);
}

/* A conv that is not pointwise stays float in a dynamic model: bit-identical to the float run. */
static void check_dynamic_stays_float(const wt_case* c) {
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  static float yf[4096], yd[4096];
  qk_model* f = wt_build((void*)c);
  int64_t ys[8];
  size_t yr = 0;
  gt_run(f, &in, 1, "y", yf, 4096, ys, &yr);
  qk_model* d = wt_build((void*)c);
  GT_OK(qk_model_quantize_dynamic(d));
  gt_run(d, &in, 1, "y", yd, 4096, NULL, NULL);
  assert_memory_equal(yf, yd, gt_count(ys, yr) * sizeof(float));
  qk_model_destroy(f);
  qk_model_destroy(d);
}

static void test_dynamic(void** state) {
  (void)state;
  {
    const int64_t xs[4] = {2, 6, 4, 5}, ws[4] = {5, 6, 1, 1};
    wt_case c = conv(xs, 4, ws, 1);
    check_dynamic_pointwise(&c);
    c.attrs.has_clip_min = 1; /* Conv + Relu fused */
    c.attrs.clip_min = 0.0f;
    check_dynamic_pointwise(&c);
  }
  {
    const int64_t xs[3] = {2, 6, 7}, ws[3] = {5, 6, 1}; /* 1-D pointwise */
    wt_case c = conv(xs, 3, ws, 1);
    check_dynamic_pointwise(&c);
  }
  {
    const int64_t xs[4] = {1, 3, 6, 6}, ws[4] = {4, 3, 3, 3};
    wt_case c = conv(xs, 4, ws, 1);
    set_pads(&c.attrs, 1, 1, 1, 1);
    check_dynamic_stays_float(&c);
  }
  {
    const int64_t xs[4] = {1, 6, 6, 6}, ws[4] = {4, 6, 1, 1}; /* 1x1 but strided */
    wt_case c = conv(xs, 4, ws, 1);
    set2(c.attrs.strides, &c.attrs.n_strides, 2, 2);
    check_dynamic_stays_float(&c);
    const int64_t wg[4] = {4, 3, 1, 1}; /* 1x1 but grouped */
    wt_case g = conv(xs, 4, wg, 0);
    g.attrs.has_group = 1;
    g.attrs.group = 2;
    check_dynamic_stays_float(&g);
  }
}

/* ---- Fusion: Conv + BatchNormalization + Relu --------------------------------------------------- */

static float g_bn[4][6];
static int g_fuse;
static int g_bn_clamp; /* the BatchNormalization carries a clamp itself (no Relu node) */

static qk_model* build_conv_bn_relu(void* ctx) {
  (void)ctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t xs[4] = {2, 3, 6, 6}, ws[4] = {6, 3, 3, 3}, cs[1] = {6};
  gt_add_input(m, "x", xs, 4);
  gt_add_const(m, "w", ws, 4, g_w);
  gt_add_const(m, "b", cs, 1, g_b);
  gt_add_const(m, "gamma", cs, 1, g_bn[0]);
  gt_add_const(m, "beta", cs, 1, g_bn[1]);
  gt_add_const(m, "mean", cs, 1, g_bn[2]);
  gt_add_const(m, "var", cs, 1, g_bn[3]);
  qk_attrs* a = NULL;
  GT_OK(qk_attrs_create(&a));
  const int64_t pads[4] = {1, 1, 1, 1};
  GT_OK(qk_attrs_set_ints(a, "pads", pads, 4));
  const char* ci[] = {"x", "w", "b"};
  const char* co[] = {"c"};
  GT_OK(qk_model_add_node(m, "Conv", "conv", ci, 3, co, 1, a));
  qk_attrs_destroy(a);
  GT_OK(qk_attrs_create(&a));
  GT_OK(qk_attrs_set_float(a, "epsilon", 1e-3f));
  if (g_bn_clamp) {
    GT_OK(qk_attrs_set_float(a, "clip_min", 0.0f));
    GT_OK(qk_attrs_set_float(a, "clip_max", 0.5f));
  }
  const char* bi[] = {"c", "gamma", "beta", "mean", "var"};
  const char* bo[] = {g_bn_clamp ? "y" : "bn_out"};
  GT_OK(qk_model_add_node(m, "BatchNormalization", "bn", bi, 5, bo, 1, a));
  qk_attrs_destroy(a);
  if (!g_bn_clamp) {
    const char* ri[] = {"bn_out"};
    const char* ro[] = {"y"};
    GT_OK(qk_model_add_node(m, "Relu", "relu", ri, 1, ro, 1, NULL));
  }
  GT_OK(qk_model_add_output(m, "y"));
  if (g_fuse) GT_OK(qk_model_fuse(m));
  return m;
}

static void test_fuse_bn_relu(void** state) {
  (void)state;
  gt_fill(g_bn[0], 6, 0.5f, 2.0f, 105);
  gt_fill(g_bn[1], 6, -0.5f, 0.5f, 106);
  gt_fill(g_bn[2], 6, -0.2f, 0.2f, 107);
  gt_fill(g_bn[3], 6, 0.1f, 1.5f, 108);
  const int64_t xs[4] = {2, 3, 6, 6};
  gt_tensor in = {"x", xs, 4, g_x};
  static float yu[512], yf[512];
  g_fuse = 0;
  qk_model* u = build_conv_bn_relu(NULL);
  gt_run(u, &in, 1, "y", yu, 512, NULL, NULL);
  g_fuse = 1;
  qk_model* f = build_conv_bn_relu(NULL);
  size_t count = 0;
  const char* name = NULL;
  GT_OK(qk_model_fused_count(f, &count));
  assert_int_equal(count, 1);
  GT_OK(qk_model_fused_name(f, 0, &name));
  assert_string_equal(name, "conv+bn+relu");
  assert_int_equal(wt_count_nodes(f, "Conv"), 1);
  assert_int_equal(wt_count_nodes(f, "BatchNormalization"), 0);
  assert_int_equal(wt_count_nodes(f, "Relu"), 0);
  gt_run(f, &in, 1, "y", yf, 512, NULL, NULL);
  /* Folding rescales each weight by gamma / sqrt(var + eps) before the sum instead of after:
   * float rounding of the order of the sum of |terms| (times the largest factor, < 5 here). */
  static double mag[512];
  static float r[512];
  int64_t rs[4];
  const int64_t ws[4] = {6, 3, 3, 3}, s[2] = {1, 1}, pad[4] = {1, 1, 1, 1}, d[2] = {1, 1};
  wt_ref_conv(g_x, xs, g_w, ws, g_b, 1, s, pad, d, -INFINITY, INFINITY, r, rs, mag);
  for (size_t i = 0; i < 432; ++i) mag[i] = 10.0 * (mag[i] + 1.0); /* gamma / sqrt(var + eps) < 6.3 */
  wt_expect_close(yf, yu, mag, 432, 1e-6, 1e-6);
  for (size_t i = 0; i < 432; ++i) assert_true(yf[i] >= 0.0f);
  /* the fused int8 conv (one QConv2d with the folded weights and the relu clamp) */
  gt_check_int8(build_conv_bn_relu, NULL, &in, 1, "y", 1.0);
  qk_model_destroy(u);
  qk_model_destroy(f);

  /* A BatchNormalization that carries its own clamp (clip_min / clip_max, as BN + Relu fused
   * earlier, or written so): folding it into the conv keeps the clamp. */
  g_bn_clamp = 1;
  g_fuse = 0;
  u = build_conv_bn_relu(NULL);
  gt_run(u, &in, 1, "y", yu, 512, NULL, NULL);
  g_fuse = 1;
  f = build_conv_bn_relu(NULL);
  GT_OK(qk_model_fused_count(f, &count));
  assert_int_equal(count, 1);
  assert_int_equal(wt_count_nodes(f, "BatchNormalization"), 0);
  gt_run(f, &in, 1, "y", yf, 512, NULL, NULL);
  wt_expect_close(yf, yu, mag, 432, 1e-6, 1e-6);
  for (size_t i = 0; i < 432; ++i) assert_true(yf[i] >= 0.0f && yf[i] <= 0.5f);
  g_bn_clamp = 0;
  qk_model_destroy(u);
  qk_model_destroy(f);
}

/* ---- Save / load --------------------------------------------------------------------------------- */

/* A converted (per-tensor weights by op type) and a dynamic model saved and loaded again run
 * bit-identically: the loader prepares the QConv2d / DynamicLinear again from the f32 weights
 * with the saved qconfig. */
static void check_round_trip(qk_model* m, const wt_case* c) {
  char path[128];
  snprintf(path, sizeof path, "/tmp/qk_graph_conv_%d.qkw", (int)getpid());
  GT_OK(qk_model_save(m, path));
  qk_model* l = NULL;
  GT_OK(qk_model_load(path, &l));
  remove(path);
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  static float a[4096], b[4096];
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, &in, 1, "y", a, 4096, ys, &yr);
  gt_run(l, &in, 1, "y", b, 4096, NULL, NULL);
  assert_memory_equal(a, b, gt_count(ys, yr) * sizeof(float));
  qk_model_destroy(l);
}

static void test_save_load(void** state) {
  (void)state;
  {
    wt_case c = scheme_case(); /* per tensor zeroes channel 1: visible if the scheme were lost */
    c.scheme_layer = "type:Conv";
    c.scheme = QK_QSCHEME_PER_TENSOR_SYMMETRIC;
    qk_model* q = convert_case(&c);
    check_round_trip(q, &c);
    qk_model_destroy(q);
    fill_data();
  }
  {
    const int64_t xs[3] = {2, 3, 10}, ws[3] = {4, 3, 3}; /* 1-D int8 */
    wt_case c = conv(xs, 3, ws, 1);
    set1(c.attrs.strides, &c.attrs.n_strides, 2);
    c.attrs.auto_pad = "SAME_LOWER";
    qk_model* q = convert_case(&c);
    check_round_trip(q, &c);
    qk_model_destroy(q);
  }
  {
    const int64_t xs[4] = {2, 6, 4, 5}, ws[4] = {5, 6, 1, 1};
    wt_case c = conv(xs, 4, ws, 1);
    qk_model* d = wt_build(&c);
    GT_OK(qk_model_quantize_dynamic(d));
    check_round_trip(d, &c);
    qk_model_destroy(d);
  }
}

/* ---- Bad input ---------------------------------------------------------------------------------- */

static void test_bad_input(void** state) {
  (void)state;
  const int64_t xs[4] = {1, 3, 6, 6}, ws[4] = {4, 3, 3, 3};
  const qk_status E = QK_ERR_INVALID_ARGUMENT;
  {
    const int64_t x2[2] = {3, 6};
    wt_case c = conv(x2, 2, ws, 0);
    c.consts[0].rank = 4;
    GT_FAILS(wt_try_build(&c), E, "must be {N, C, L} (1-D) or {N, C, H, W}");
  }
  {
    wt_case c = conv(xs, 4, ws, 0);
    c.consts[0].rank = 3; /* weight {4, 3, 3} for a 2-D input */
    GT_FAILS(wt_try_build(&c), E, "weight must be an f32 tensor of rank 4");
  }
  {
    const int64_t wc[4] = {4, 2, 3, 3};
    wt_case c = conv(xs, 4, wc, 0);
    GT_FAILS(wt_try_build(&c), E, "has 3 channels, the weight");
  }
  {
    const int64_t wg[4] = {5, 1, 3, 3};
    wt_case c = conv(xs, 4, wg, 0);
    c.attrs.has_group = 1;
    c.attrs.group = 3;
    GT_FAILS(wt_try_build(&c), E, "group 3 does not divide the 5 output channels");
    c.attrs.group = 0;
    GT_FAILS(wt_try_build(&c), E, "group 0 must be >= 1");
  }
  {
    wt_case c = conv(xs, 4, ws, 1);
    c.consts[1].shape[0] = 3;
    GT_FAILS(wt_try_build(&c), E, "bias must be f32 {4}");
  }
  {
    wt_case c = conv(xs, 4, ws, 0);
    set2(c.attrs.kernel_shape, &c.attrs.n_kernel, 3, 2);
    GT_FAILS(wt_try_build(&c), E, "does not match the weight's kernel");
  }
  {
    wt_case c = conv(xs, 4, ws, 0);
    set1(c.attrs.strides, &c.attrs.n_strides, 2);
    GT_FAILS(wt_try_build(&c), E, "'strides' has 1 values, expected 2");
    set2(c.attrs.strides, &c.attrs.n_strides, 0, 1);
    GT_FAILS(wt_try_build(&c), E, "'strides'[0] = 0 is outside [1");
  }
  {
    wt_case c = conv(xs, 4, ws, 0);
    set_pads(&c.attrs, 1, -1, 1, 1);
    GT_FAILS(wt_try_build(&c), E, "'pads'[1] = -1 is outside [0");
    set2(c.attrs.pads, &c.attrs.n_pads, 1, 1);
    GT_FAILS(wt_try_build(&c), E, "'pads' has 2 values, expected 4");
    set_pads(&c.attrs, 1, 1, 1, 1);
    c.attrs.auto_pad = "SAME_UPPER";
    GT_FAILS(wt_try_build(&c), E, "cannot be combined with auto_pad");
    c.attrs.n_pads = 0;
    c.attrs.auto_pad = "SAME";
    GT_FAILS(wt_try_build(&c), E, "auto_pad 'SAME' is not one of");
  }
  {
    const int64_t small[4] = {1, 3, 2, 6};
    wt_case c = conv(small, 4, ws, 0);
    GT_FAILS(wt_try_build(&c), E, "height window (3 with dilation) is larger than the padded input (2)");
    set2(c.attrs.dilations, &c.attrs.n_dil, 1, 3); /* width: 7 taps > 6 */
    set_pads(&c.attrs, 1, 0, 0, 0);
    GT_FAILS(wt_try_build(&c), E, "width window (7 with dilation)");
  }
  {
    wt_case c = conv(xs, 4, ws, 0);
    c.attrs.has_clip_min = c.attrs.has_clip_max = 1;
    c.attrs.clip_min = 1.0f;
    c.attrs.clip_max = 0.0f;
    GT_FAILS(wt_try_build(&c), E, "clip_min > clip_max");
  }
  {
    /* unknown attribute, attribute of the wrong type */
    qk_model* m = wt_build_inputs(&(wt_case){.op = "Conv",
                                             .x_shape = {1, 3, 6, 6},
                                             .x_rank = 4,
                                             .consts = {{"w", {4, 3, 3, 3}, 4, g_w}},
                                             .n_consts = 1});
    const char* ins[] = {"x", "w"};
    const char* outs[] = {"y"};
    qk_attrs* a = NULL;
    GT_OK(qk_attrs_create(&a));
    GT_OK(qk_attrs_set_int(a, "padding", 1));
    GT_FAILS(qk_model_add_node(m, "Conv", "n", ins, 2, outs, 1, a), E, "has no attribute 'padding'");
    qk_attrs_destroy(a);
    GT_OK(qk_attrs_create(&a));
    GT_OK(qk_attrs_set_int(a, "strides", 1));
    GT_FAILS(qk_model_add_node(m, "Conv", "n", ins, 2, outs, 1, a), E, "attribute 'strides' must be a");
    qk_attrs_destroy(a);
    /* one input only */
    GT_FAILS(qk_model_add_node(m, "Conv", "n", ins, 1, outs, 1, NULL), E, "takes 2..3 inputs");
    /* the weight an input, not a constant */
    GT_OK(qk_model_add_input(m, "wx", QK_DTYPE_F32, ws, NULL, 4));
    const char* ins2[] = {"x", "wx"};
    GT_FAILS(qk_model_add_node(m, "Conv", "n", ins2, 2, outs, 1, NULL), E, "weight (input 1) must be a constant");
    /* an s8 weight constant */
    const int8_t w8[108] = {0};
    GT_OK(qk_model_add_constant(m, "w8", QK_DTYPE_S8, ws, 4, w8, sizeof w8));
    const char* ins3[] = {"x", "w8"};
    GT_FAILS(qk_model_add_node(m, "Conv", "n", ins3, 2, outs, 1, NULL), E, "weight must be an f32 tensor");
    /* an s32 input */
    GT_OK(qk_model_add_input(m, "xi", QK_DTYPE_S32, xs, NULL, 4));
    const char* ins4[] = {"xi", "w"};
    GT_FAILS(qk_model_add_node(m, "Conv", "n", ins4, 2, outs, 1, NULL), E, "expected f32");
    qk_model_destroy(m);
  }
}

static int setup(void** state) {
  (void)state;
  fill_data();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_dense),     cmocka_unit_test(test_float_strides_pads_dilations),
      cmocka_unit_test(test_float_groups),    cmocka_unit_test(test_float_1d),
      cmocka_unit_test(test_shapes_symbolic), cmocka_unit_test(test_int8),
      cmocka_unit_test(test_int8_symbolic),   cmocka_unit_test(test_int8_1d),
      cmocka_unit_test(test_weight_scheme),
      cmocka_unit_test(test_dynamic),         cmocka_unit_test(test_fuse_bn_relu),
      cmocka_unit_test(test_save_load),       cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
