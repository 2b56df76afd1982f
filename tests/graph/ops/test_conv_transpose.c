/* SPDX-License-Identifier: Apache-2.0 */
/* ConvTranspose: float against a transposed convolution by definition written here (each output
 * pixel gathers the input pixels iy with oy = iy * stride - pad_begin + i * dilation), for
 * strides with output_padding, groups, dilations, asymmetric pads, 1-D, output_shape, SAME_UPPER
 * and VALID; shapes with symbolic dims; float only this round (a converted model keeps it float:
 * bit-identical, no Quantize); bad input. */
#include "window_test_util.h"

static float g_x[4096], g_w[4096], g_b[64];

static wt_case convt(const int64_t* xs, size_t xr, const int64_t* ws, int bias) {
  wt_case c;
  memset(&c, 0, sizeof c);
  c.op = "ConvTranspose";
  memcpy(c.x_shape, xs, xr * sizeof(int64_t));
  c.x_rank = xr;
  c.consts[0].name = "w";
  memcpy(c.consts[0].shape, ws, xr * sizeof(int64_t));
  c.consts[0].rank = xr;
  c.consts[0].data = g_w;
  c.n_consts = 1;
  if (bias) {
    c.consts[1].name = "b";
    c.consts[1].shape[0] = ws[1] * 1; /* M = ws[1] * group: set by the caller for groups */
    c.consts[1].rank = 1;
    c.consts[1].data = g_b;
    c.n_consts = 2;
  }
  return c;
}

static void set_list(int64_t* dst, size_t* n, size_t count, int64_t a, int64_t b, int64_t c, int64_t d) {
  const int64_t v[4] = {a, b, c, d};
  memcpy(dst, v, count * sizeof(int64_t));
  *n = count;
}

/* y {N, M, OH, OW} of x {N, C, H, W} and w {C, M/group, kh, kw}, pads {top, left, bottom,
 * right} (only the beginnings matter once the output size is given), in double. */
static void ref_convt(const float* x, const int64_t xs[4], const float* w, const int64_t ws[4], const float* b,
                      int64_t group, const int64_t s[2], const int64_t pad[4], const int64_t d[2], int64_t OH,
                      int64_t OW, float* y, double* mag) {
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], mg = ws[1], kh = ws[2], kw = ws[3], M = mg * group;
  const int64_t cg = C / group;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          const int64_t g = m / mg, mo = m % mg;
          double acc = b ? b[m] : 0.0, am = b ? fabs(b[m]) : 0.0;
          for (int64_t c = g * cg; c < (g + 1) * cg; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t ty = oy + pad[0] - i * d[0], tx = ox + pad[1] - j * d[1];
                if (ty < 0 || tx < 0 || ty % s[0] != 0 || tx % s[1] != 0) continue;
                const int64_t iy = ty / s[0], ix = tx / s[1];
                if (iy >= H || ix >= W) continue;
                const double t = (double)x[((n * C + c) * H + iy) * W + ix] * w[((c * mg + mo) * kh + i) * kw + j];
                acc += t;
                am += fabs(t);
              }
          const size_t k = (size_t)(((n * M + m) * OH + oy) * OW + ox);
          y[k] = (float)acc;
          mag[k] = am;
        }
}

/* Float run of c against ref_convt with hand-computed 2-D pads and output size. */
static void check_float(const wt_case* c, const int64_t pad[4], int64_t OH, int64_t OW) {
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
  const int64_t group = a->has_group ? a->group : 1, M = ws[1] * group;
  static float y[8192], r[8192];
  static double mag[8192];
  ref_convt(g_x, xs, g_w, ws, c->n_consts > 1 ? g_b : NULL, group, s, pad, d, OH, OW, r, mag);
  qk_model* m = wt_build((void*)c);
  gt_tensor in = {"x", c->x_shape, c->x_rank, g_x};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, &in, 1, "y", y, 8192, ys, &yr);
  const int64_t want4[4] = {xs[0], M, OH, OW}, want3[3] = {xs[0], M, OW};
  wt_expect_shape(ys, yr, one_d ? want3 : want4, c->x_rank);
  wt_expect_close(y, r, mag, (size_t)(xs[0] * M * OH * OW), 1e-6, 1e-6); /* float sums of <= 18 terms */
  qk_model_destroy(m);
}

static void test_float(void** state) {
  (void)state;
  {
    const int64_t xs[4] = {1, 2, 3, 4}, ws[4] = {2, 3, 3, 3};
    wt_case c = convt(xs, 4, ws, 1);
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 1, 1, 1, 1);
    set_list(c.attrs.output_padding, &c.attrs.n_opad, 2, 1, 1, 0, 0);
    const int64_t pad[4] = {1, 1, 1, 1};
    check_float(&c, pad, 6, 8); /* 2 * 2 + 1 + 3 - 2 = 6, 2 * 3 + 1 + 3 - 2 = 8 */
    c.n_consts = 1;             /* no bias, no output padding */
    c.attrs.n_opad = 0;
    check_float(&c, pad, 5, 7);
  }
  {
    const int64_t xs[4] = {2, 4, 3, 3}, ws[4] = {4, 2, 2, 2}; /* 2 groups: M = 4 */
    wt_case c = convt(xs, 4, ws, 1);
    c.consts[1].shape[0] = 4;
    c.attrs.has_group = 1;
    c.attrs.group = 2;
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 1, 0, 0);
    const int64_t pad[4] = {0, 0, 0, 0};
    check_float(&c, pad, 6, 4);
  }
  {
    const int64_t xs[4] = {1, 2, 4, 3}, ws[4] = {2, 2, 3, 2}; /* dilation {2, 1}, asymmetric pads */
    wt_case c = convt(xs, 4, ws, 0);
    set_list(c.attrs.dilations, &c.attrs.n_dil, 2, 2, 1, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 1, 0, 0, 1);
    const int64_t pad[4] = {1, 0, 0, 1};
    check_float(&c, pad, 7, 3); /* 3 + 5 - 1 = 7, 2 + 2 - 1 = 3 */
  }
  {
    const int64_t xs[3] = {2, 3, 5}, ws[3] = {3, 2, 4}; /* 1-D */
    wt_case c = convt(xs, 3, ws, 1);
    set_list(c.attrs.strides, &c.attrs.n_strides, 1, 3, 0, 0, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 2, 1, 2, 0, 0);
    const int64_t pad[4] = {0, 1, 0, 2};
    check_float(&c, pad, 1, 13); /* 3 * 4 + 4 - 3 */
  }
  {
    const int64_t xs[4] = {1, 2, 3, 4}, ws[4] = {2, 3, 3, 3};
    wt_case c = convt(xs, 4, ws, 1);
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
    /* output_shape {6, 8}: natural 7 x 9, total padding 1 per axis, at the beginning (NOTSET) */
    set_list(c.attrs.output_shape, &c.attrs.n_oshape, 2, 6, 8, 0, 0);
    const int64_t begin[4] = {1, 1, 0, 0};
    check_float(&c, begin, 6, 8);
    set_list(c.attrs.output_shape, &c.attrs.n_oshape, 4, 1, 3, 6, 8); /* the full {N, M, H, W} form */
    check_float(&c, begin, 6, 8);
    /* SAME_UPPER: output in * stride = 6 x 8, the same totals, at the end */
    c.attrs.n_oshape = 0;
    c.attrs.auto_pad = "SAME_UPPER";
    const int64_t end[4] = {0, 0, 1, 1};
    check_float(&c, end, 6, 8);
    c.attrs.auto_pad = "SAME_LOWER";
    check_float(&c, begin, 6, 8);
    c.attrs.auto_pad = "VALID";
    const int64_t none[4] = {0, 0, 0, 0};
    check_float(&c, none, 7, 9);
  }
}

static void test_shapes(void** state) {
  (void)state;
  const int64_t xs[4] = {-1, 2, -1, 4}, ws[4] = {2, 3, 3, 3};
  wt_case c = convt(xs, 4, ws, 0);
  c.x_names[0] = "batch";
  c.x_names[2] = "h";
  set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
  qk_model* m = wt_build(&c);
  int64_t dims[8];
  const char* names[8];
  assert_int_equal(wt_declared(m, "y", dims, names), 4);
  assert_true(dims[0] < 0 && strcmp(names[0], "batch") == 0);
  assert_int_equal(dims[1], 3);
  assert_true(dims[2] < 0 && strcmp(names[2], "h") != 0);
  assert_int_equal(dims[3], 9);
  const int64_t run_shape[4] = {2, 2, 5, 4};
  gt_tensor in = {"x", run_shape, 4, g_x};
  static float y[4096];
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, &in, 1, "y", y, 4096, ys, &yr);
  const int64_t want[4] = {2, 3, 11, 9};
  wt_expect_shape(ys, yr, want, 4);
  qk_model_destroy(m);
  /* output_shape fixes the spatial output whatever the (symbolic) input */
  set_list(c.attrs.output_shape, &c.attrs.n_oshape, 2, 10, 9, 0, 0);
  m = wt_build(&c);
  assert_int_equal(wt_declared(m, "y", dims, names), 4);
  assert_int_equal(dims[2], 10);
  assert_int_equal(dims[3], 9);
  qk_model_destroy(m);
}

/* Float only this round: converting (and dynamic quantization) leaves it float, bit-identical. */
static void test_stays_float(void** state) {
  (void)state;
  const int64_t xs[4] = {1, 2, 3, 4}, ws[4] = {2, 3, 3, 3};
  wt_case c = convt(xs, 4, ws, 1);
  set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
  gt_tensor in = {"x", xs, 4, g_x};
  static float yf[512], yq[512];
  qk_model* f = wt_build(&c);
  gt_run(f, &in, 1, "y", yf, 512, NULL, NULL);
  qk_model* q = wt_build(&c);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, &in, 1);
  GT_OK(qk_model_convert(q));
  assert_int_equal(wt_count_nodes(q, "qk.Quantize"), 0);
  gt_run(q, &in, 1, "y", yq, 512, NULL, NULL);
  assert_memory_equal(yf, yq, 3 * 7 * 9 * sizeof(float));
  qk_model_destroy(q);
  q = wt_build(&c);
  GT_OK(qk_model_quantize_dynamic(q));
  gt_run(q, &in, 1, "y", yq, 512, NULL, NULL);
  assert_memory_equal(yf, yq, 3 * 7 * 9 * sizeof(float));
  qk_model_destroy(q);
  qk_model_destroy(f);
}

static void test_bad_input(void** state) {
  (void)state;
  const qk_status E = QK_ERR_INVALID_ARGUMENT;
  const int64_t xs[4] = {1, 2, 3, 4}, ws[4] = {2, 3, 3, 3};
  {
    const int64_t wc[4] = {3, 3, 3, 3};
    wt_case c = convt(xs, 4, wc, 0);
    GT_FAILS(wt_try_build(&c), E, "has 2 channels, the weight");
  }
  {
    const int64_t wg[4] = {3, 1, 3, 3}, x3[4] = {1, 3, 3, 4};
    wt_case c = convt(x3, 4, wg, 0);
    c.attrs.has_group = 1;
    c.attrs.group = 2;
    GT_FAILS(wt_try_build(&c), E, "group 2 does not divide the 3 input channels");
  }
  {
    wt_case c = convt(xs, 4, ws, 1);
    c.consts[1].shape[0] = 2;
    GT_FAILS(wt_try_build(&c), E, "bias must be f32 {3}");
  }
  {
    wt_case c = convt(xs, 4, ws, 0);
    set_list(c.attrs.strides, &c.attrs.n_strides, 2, 2, 2, 0, 0);
    set_list(c.attrs.output_padding, &c.attrs.n_opad, 2, 2, 0, 0, 0);
    GT_FAILS(wt_try_build(&c), E, "output_padding[0] = 2 must be smaller than the stride");
    c.attrs.n_opad = 0;
    set_list(c.attrs.output_shape, &c.attrs.n_oshape, 3, 6, 8, 1, 0);
    GT_FAILS(wt_try_build(&c), E, "'output_shape' has 3 values, expected 2");
  }
  {
    wt_case c = convt(xs, 4, ws, 0);
    set_list(c.attrs.pads, &c.attrs.n_pads, 4, 3, 0, 3, 0); /* 2 + 3 - 6 = -1 rows */
    GT_FAILS(wt_try_build(&c), E, "the height output would be -1");
  }
  {
    const int64_t x2[2] = {2, 4};
    wt_case c = convt(x2, 2, ws, 0);
    c.consts[0].rank = 4;
    GT_FAILS(wt_try_build(&c), E, "must be {N, C, L} (1-D) or {N, C, H, W}");
  }
  {
    wt_case c = convt(xs, 4, ws, 0);
    c.consts[0].rank = 3;
    GT_FAILS(wt_try_build(&c), E, "weight must be an f32 tensor of rank 4 {C, M/group, kh, kw}");
  }
}

static int setup(void** state) {
  (void)state;
  gt_fill(g_x, 4096, -1.0f, 1.0f, 701);
  gt_fill(g_w, 4096, -0.5f, 0.5f, 702);
  gt_fill(g_b, 64, -0.3f, 0.3f, 703);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float),
      cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_stays_float),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
