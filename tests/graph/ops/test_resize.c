/* SPDX-License-Identifier: Apache-2.0 */
/* Resize (ONNX opset 13, 4-D NCHW over H and W, scales / sizes as attributes): nearest with every
 * nearest_mode and coordinate transformation on hand-computed index maps, bilinear against PyTorch
 * goldens, symbolic dims, int8 (nearest: codes copied in NHWC or NCHW storage, exact; linear: stays
 * float), bad input. */
#include "movement_test_util.h"

typedef struct rs_attrs {
  const char* mode;
  const char* coord;
  const char* nearest;
  const float* scales;
  const int64_t* sizes;
  size_t n; /* elements of scales or sizes */
} rs_attrs;

static qk_attrs* attrs_of(const rs_attrs* a) {
  qk_attrs* at = mt_attrs();
  if (a->mode) GT_OK(qk_attrs_set_string(at, "mode", a->mode));
  if (a->coord) GT_OK(qk_attrs_set_string(at, "coordinate_transformation_mode", a->coord));
  if (a->nearest) GT_OK(qk_attrs_set_string(at, "nearest_mode", a->nearest));
  if (a->scales) GT_OK(qk_attrs_set_floats(at, "scales", a->scales, a->n));
  if (a->sizes) GT_OK(qk_attrs_set_ints(at, "sizes", a->sizes, a->n));
  return at;
}

/* Runs x (dims) through Resize(a); checks the output shape and values (tolerance tol). */
static void check(const int64_t* d, const float* x, const rs_attrs* a, int64_t oh, int64_t ow, const float* want,
                  float tol) {
  qk_model* m = mt_one("Resize", d, NULL, 4, attrs_of(a));
  const int64_t w[] = {d[0], d[1], oh, ow};
  mt_expect_shape(m, "y", 4, w, NULL);
  static float y[4096];
  gt_tensor in[1] = {{"x", d, 4, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 4096, ys, &yr);
  for (size_t k = 0; k < 4; ++k) assert_int_equal(ys[k], w[k]);
  for (size_t k = 0; k < gt_count(w, 4); ++k)
    if (fabsf(y[k] - want[k]) > tol)
      fail_msg("%s/%s: y[%zu] = %.9g, expected %.9g", a->mode ? a->mode : "nearest", a->coord ? a->coord : "half_pixel",
               k, (double)y[k], (double)want[k]);
  qk_model_destroy(m);
}

/* The 3x3 input of the PyTorch goldens. */
static const int64_t d33[] = {1, 1, 3, 3};
static const float x33[] = {1, 2, 4, -3, 0.5f, 7, 2.5f, -1, 6};
static const float s2[] = {1, 1, 2, 2}, s05[] = {1, 1, 0.5f, 0.5f};
static const int64_t sz54[] = {1, 1, 5, 4};

/* Gathers x (H x W planes) through hand-computed row / column maps. */
static void by_maps(const float* x, int64_t planes, int64_t H, int64_t W, const int* rows, int64_t OH, const int* cols,
                    int64_t OW, float* y) {
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t h = 0; h < OH; ++h)
      for (int64_t w = 0; w < OW; ++w) y[(p * OH + h) * OW + w] = x[(p * H + rows[h]) * W + cols[w]];
}

static void test_nearest(void** state) {
  (void)state;
  float want[64];
  /* x2, half_pixel: x_in = (o + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, 1.75, 2.25
   * -> rounded 0 0 1 1 2 2 (no ties: both round modes agree), floor 0 0 0 1 1 2,
   *    ceil 0 1 1 2 2 2 (clamped) */
  const int up[] = {0, 0, 1, 1, 2, 2}, up_floor[] = {0, 0, 0, 1, 1, 2}, up_ceil[] = {0, 1, 1, 2, 2, 2};
  by_maps(x33, 1, 3, 3, up, 6, up, 6, want);
  const rs_attrs a1 = {NULL, NULL, NULL, s2, NULL, 4};
  check(d33, x33, &a1, 6, 6, want, 0.0f);
  const rs_attrs a1r = {"nearest", "half_pixel", "round_prefer_ceil", s2, NULL, 4};
  check(d33, x33, &a1r, 6, 6, want, 0.0f);
  by_maps(x33, 1, 3, 3, up_floor, 6, up_floor, 6, want);
  const rs_attrs a1f = {"nearest", "half_pixel", "floor", s2, NULL, 4};
  check(d33, x33, &a1f, 6, 6, want, 0.0f);
  by_maps(x33, 1, 3, 3, up_ceil, 6, up_ceil, 6, want);
  const rs_attrs a1c = {"nearest", "half_pixel", "ceil", s2, NULL, 4};
  check(d33, x33, &a1c, 6, 6, want, 0.0f);
  /* asymmetric: x_in = o / 2 -> 0 0 1 1 2 2 with floor; ceil: 0 1 1 2 2 2 (clamped) */
  const rs_attrs a2 = {"nearest", "asymmetric", "ceil", s2, NULL, 4};
  check(d33, x33, &a2, 6, 6, want, 0.0f);
  /* align_corners 3 -> 6: x_in = o * 2 / 5 = 0, 0.4, 0.8, 1.2, 1.6, 2 -> round 0 0 1 1 2 2 */
  by_maps(x33, 1, 3, 3, up, 6, up, 6, want);
  const rs_attrs a3 = {"nearest", "align_corners", NULL, s2, NULL, 4};
  check(d33, x33, &a3, 6, 6, want, 0.0f);
  /* PyTorch goldens (torch 1.13, F.interpolate(x, size=(5, 4), mode=...) on x33): 'nearest' is
   * asymmetric + floor, 'nearest-exact' is half_pixel + round_prefer_ceil. */
  const float t_nearest[] = {1, 1, 2, 4, 1, 1, 2, 4, -3, -3, 0.5f, 7, -3, -3, 0.5f, 7, 2.5f, 2.5f, -1, 6};
  const float t_exact[] = {1, 2, 2, 4, 1, 2, 2, 4, -3, 0.5f, 0.5f, 7, 2.5f, -1, -1, 6, 2.5f, -1, -1, 6};
  const rs_attrs a4 = {"nearest", "asymmetric", "floor", NULL, sz54, 4};
  check(d33, x33, &a4, 5, 4, t_nearest, 0.0f);
  const rs_attrs a5 = {"nearest", "half_pixel", "round_prefer_ceil", NULL, sz54, 4};
  check(d33, x33, &a5, 5, 4, t_exact, 0.0f);
  /* Ties: 4 -> 2 at half_pixel puts x_in at 0.5 and 2.5. round_prefer_floor takes 0, 2;
   * round_prefer_ceil takes 1, 3 (torch 'nearest-exact' golden: 4.5, 7.5, 16.5, 19.5 on x4 = 1.5 *
   * arange(16) - 3); asymmetric floor is torch 'nearest' (-3, 0, 9, 12). */
  static const int64_t d44[] = {1, 1, 4, 4};
  float x4[16];
  mt_iota(x4, 16, -3.0f, 1.5f);
  const float t_floor[] = {-3, 0, 9, 12}, t_ceil[] = {4.5f, 7.5f, 16.5f, 19.5f};
  const rs_attrs t1 = {NULL, NULL, NULL, s05, NULL, 4};
  check(d44, x4, &t1, 2, 2, t_floor, 0.0f);
  const rs_attrs t2 = {NULL, NULL, "round_prefer_ceil", s05, NULL, 4};
  check(d44, x4, &t2, 2, 2, t_ceil, 0.0f);
  const rs_attrs t3 = {NULL, "asymmetric", "floor", s05, NULL, 4};
  check(d44, x4, &t3, 2, 2, t_floor, 0.0f);
  /* batch and channels: every plane resized alike; scales given as {H, W} only */
  static float xb[2 * 3 * 2 * 3], wb[2 * 3 * 4 * 6];
  gt_fill(xb, 36, -1.0f, 1.0f, 5);
  const int r2[] = {0, 0, 1, 1}, c3[] = {0, 0, 1, 1, 2, 2};
  by_maps(xb, 6, 2, 3, r2, 4, c3, 6, wb);
  static const int64_t db[] = {2, 3, 2, 3};
  const float hw2[] = {2, 2};
  const rs_attrs b1 = {NULL, NULL, NULL, hw2, NULL, 2};
  check(db, xb, &b1, 4, 6, wb, 0.0f);
  /* non-integer scale: floor(3 * 1.5) = 4 rows; x_in = (o + 0.5) / 1.5 - 0.5 = -1/6, 0.5, 1.1667,
   * 1.8333 -> round_prefer_floor 0 0 1 2 */
  const int r4[] = {0, 0, 1, 2}, c1[] = {0, 1, 2};
  by_maps(x33, 1, 3, 3, r4, 4, c1, 3, want);
  const float s15[] = {1, 1, 1.5f, 1};
  const rs_attrs n1 = {NULL, NULL, NULL, s15, NULL, 4};
  check(d33, x33, &n1, 4, 3, want, 0.0f);
}

/* PyTorch goldens (torch 1.13 F.interpolate on x33 / x4, mode='bilinear'), pasted as printed:
 *   scale_factor=2, align_corners=False        -> half_pixel (and pytorch_half_pixel), scales 2
 *   size=(5, 4), align_corners=True            -> align_corners, sizes {1, 1, 5, 4}
 *   size=(5, 4), align_corners=False           -> half_pixel, sizes {1, 1, 5, 4}
 *   scale_factor=0.5, align_corners=False (x4) -> half_pixel, scales 0.5 */
static void test_linear(void** state) {
  (void)state;
  /* clang-format off */
  const float t_sf2[] = {1,        1.25f,    1.75f,    2.5f,     3.5f,     4,
                         0,        0.40625f, 1.21875f, 2.40625f, 3.96875f, 4.75f,
                         -2,       -1.28125f, 0.15625f, 2.21875f, 4.90625f, 6.25f,
                         -1.625f,  -1.1875f, -0.3125f, 1.78125f, 5.09375f, 6.75f,
                         1.125f,   0.6875f,  -0.1875f, 1.09375f, 4.53125f, 6.25f,
                         2.5f,     1.625f,   -0.125f,  0.75f,    4.25f,    6};
  const float t_ac1[] = {1,     1.66666675f,   2.66666675f, 4,
                         -1,    0.50000006f,   2.66666675f, 5.5f,
                         -3,    -0.666666627f, 2.66666698f, 7,
                         -0.25f, -0.25f,       2.00000024f, 6.5f,
                         2.5f,  0.166666597f,  1.33333361f, 6};
  const float t_ac0[] = {1,            1.625f,        2.75f,       4,
                         -0.600000143f, 0.649999917f, 2.82500005f, 5.20000029f,
                         -2.99999976f, -0.81249994f,  2.93749976f, 7,
                         0.300000459f, -0.137499958f, 2.14999986f, 6.4000001f,
                         2.5f,         0.31249997f,   1.625f,      6};
  /* clang-format on */
  const float t_down[] = {0.75f, 3.75f, 12.75f, 15.75f};
  const rs_attrs l1 = {"linear", NULL, NULL, s2, NULL, 4};
  check(d33, x33, &l1, 6, 6, t_sf2, 1e-5f);
  const rs_attrs l1p = {"linear", "pytorch_half_pixel", NULL, s2, NULL, 4};
  check(d33, x33, &l1p, 6, 6, t_sf2, 1e-5f);
  const rs_attrs l2 = {"linear", "align_corners", NULL, NULL, sz54, 4};
  check(d33, x33, &l2, 5, 4, t_ac1, 1e-5f);
  const rs_attrs l3 = {"linear", "half_pixel", NULL, NULL, sz54, 4};
  check(d33, x33, &l3, 5, 4, t_ac0, 1e-5f);
  static const int64_t d44[] = {1, 1, 4, 4};
  float x4[16];
  mt_iota(x4, 16, -3.0f, 1.5f);
  const rs_attrs l4 = {"linear", NULL, NULL, s05, NULL, 4};
  check(d44, x4, &l4, 2, 2, t_down, 1e-5f);
  /* hand-computed: asymmetric x2 on [[0, 4], [8, 12]]: x_in = o / 2 -> rows 0,
   * 0.5, 1, 1.5 (clamped neighbour): [0 2 4 4; 4 6 8 8; 8 10 12 12; 8 10 12 12] */
  static const int64_t d22[] = {1, 1, 2, 2};
  const float x22[] = {0, 4, 8, 12}, w22[] = {0, 2, 4, 4, 4, 6, 8, 8, 8, 10, 12, 12, 8, 10, 12, 12};
  const rs_attrs l5 = {"linear", "asymmetric", NULL, s2, NULL, 4};
  check(d22, x22, &l5, 4, 4, w22, 0.0f);
  /* an output of size 1: pytorch_half_pixel samples coordinate 0 (x33[0][0] = 1), half_pixel the
   * centre ((0 + 0.5) * 3 - 0.5 = 1: x33[1][1] = 0.5) */
  const int64_t sz11[] = {1, 1};
  const float one[] = {1}, centre[] = {0.5f};
  const rs_attrs l6 = {"linear", "pytorch_half_pixel", NULL, NULL, sz11, 2};
  check(d33, x33, &l6, 1, 1, one, 0.0f);
  const rs_attrs l7 = {"linear", "half_pixel", NULL, NULL, sz11, 2};
  check(d33, x33, &l7, 1, 1, centre, 0.0f);
}

static void test_symbolic(void** state) {
  (void)state;
  const int64_t d[] = {-1, 3, -1, -1};
  const char* n[] = {"batch", NULL, "h", "w"};
  const float hw2[] = {2, 2};
  const rs_attrs a = {NULL, NULL, NULL, hw2, NULL, 2};
  qk_model* m = mt_one("Resize", d, n, 4, attrs_of(&a));
  const char* wn[] = {"batch", NULL, "*", "*"};
  mt_expect_shape(m, "y", 4, d, wn);
  static float x[2 * 3 * 4 * 5], y[2 * 3 * 8 * 10];
  gt_fill(x, 120, -1.0f, 1.0f, 3);
  const int64_t xs[] = {2, 3, 4, 5};
  gt_tensor in[1] = {{"x", xs, 4, x}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 1, "y", y, 480, ys, &yr);
  assert_int_equal(ys[0], 2);
  assert_int_equal(ys[2], 8);
  assert_int_equal(ys[3], 10);
  qk_model_destroy(m);
  /* sizes fix H and W; given as {H, W} they leave the batch symbolic */
  const int64_t hw[] = {7, 9};
  const rs_attrs b = {"linear", NULL, NULL, NULL, hw, 2};
  m = mt_one("Resize", d, n, 4, attrs_of(&b));
  const int64_t w2[] = {-1, 3, 7, 9};
  const char* wn2[] = {"batch", NULL, NULL, NULL};
  mt_expect_shape(m, "y", 4, w2, wn2);
  qk_model_destroy(m);
  /* {N, C, H, W} sizes with a symbolic batch: N is checked when the model runs */
  const int64_t s4[] = {2, 3, 7, 9};
  const rs_attrs c = {NULL, NULL, NULL, NULL, s4, 4};
  m = mt_one("Resize", d, n, 4, attrs_of(&c));
  mt_expect_shape(m, "y", 4, w2, wn2);
  gt_run(m, in, 1, "y", y, 480, ys, &yr);
  assert_int_equal(ys[0], 2);
  const int64_t b1[] = {1, 3, 4, 5};
  mt_run_fails(m, b1, 4, QK_ERR_UNSUPPORTED, "must repeat N and C");
  qk_model_destroy(m);
}

static void attrs_nearest2(qk_attrs* at) {
  const float s[] = {1, 1, 2, 2};
  GT_OK(qk_attrs_set_floats(at, "scales", s, 4));
}
static void attrs_nearest_odd(qk_attrs* at) {
  const int64_t s[] = {5, 7};
  GT_OK(qk_attrs_set_ints(at, "sizes", s, 2));
  GT_OK(qk_attrs_set_string(at, "coordinate_transformation_mode", "align_corners"));
}
static void attrs_linear(qk_attrs* at) {
  attrs_nearest2(at);
  GT_OK(qk_attrs_set_string(at, "mode", "linear"));
}

/* x {2, 12} -> Reshape {2, 3, 2, 2} (NCHW codes) -> Resize nearest: the NCHW int8 path. */
static qk_model* build_nchw(void* ctx) {
  (void)ctx;
  const int64_t d[] = {2, 12}, shape[] = {2, 3, 2, 2};
  qk_model* m = mt_graph(d, NULL, 2);
  qk_attrs* at = mt_ints(mt_attrs(), "shape", shape, 4);
  const char* ins[] = {"x"};
  const char* outs[] = {"r"};
  GT_OK(qk_model_add_node(m, "Reshape", "reshape", ins, 1, outs, 1, at));
  qk_attrs_destroy(at);
  at = mt_attrs();
  attrs_nearest_odd(at);
  GT_OK(mt_node(m, "Resize", "r", "y", at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

/* int8 nearest copies codes with the input's qparams: exactly the reference (0 steps). A rank-4
 * graph input is quantized to NHWC and Resize reads it there; after a Reshape the codes are NCHW
 * and Resize reads those: no reorder either way. Linear stays float this round. */
static void test_int8(void** state) {
  (void)state;
  static float x[2 * 3 * 4 * 5];
  gt_fill(x, 120, -2.0f, 1.0f, 14);
  const int64_t d[] = {2, 3, 4, 5};
  const mt_case c = {"Resize", d, 4, attrs_nearest2, 0};
  assert_true(mt_check_int8(&c, x, 0.0) == 0.0);
  const mt_case c2 = {"Resize", d, 4, attrs_nearest_odd, 0};
  assert_true(mt_check_int8(&c2, x, 0.0) == 0.0);
  int q, r;
  mt_converted_ops(&c, x, &q, &r);
  assert_true(q && !r);
  const mt_case cn = {"Resize", d, 4, attrs_nearest2, 1};
  mt_converted_ops(&cn, x, &q, &r);
  assert_true(q && !r);
  mt_check_int8(&cn, x, 1.0); /* after the identity conv (re-rounded): within 1 step */
  const int64_t d2[] = {2, 12};
  gt_tensor in2[1] = {{"x", d2, 2, x}};
  assert_true(gt_check_int8(build_nchw, NULL, in2, 1, "y", 0.0) == 0.0);
  qk_model* m = build_nchw(NULL);
  mt_convert(m, in2, 1);
  assert_true(mt_has_op(m, "qk.Quantize") && !mt_has_op(m, "qk.Reorder"));
  qk_model_destroy(m);
  /* linear: no int8 kernel yet, the node stays float (no qk.Quantize) and gives the float result */
  const mt_case cl = {"Resize", d, 4, attrs_linear, 0};
  mt_converted_ops(&cl, x, &q, &r);
  assert_false(q);
  qk_model* fm = mt_build_case((void*)&cl);
  qk_model* qm = mt_build_case((void*)&cl);
  gt_tensor in[1] = {{"x", d, 4, x}};
  mt_convert(qm, in, 1);
  static float yf[480], yq[480];
  gt_run(fm, in, 1, "y", yf, 480, NULL, NULL);
  gt_run(qm, in, 1, "y", yq, 480, NULL, NULL);
  for (int i = 0; i < 480; ++i) assert_true(yf[i] == yq[i]);
  qk_model_destroy(fm);
  qk_model_destroy(qm);
}

static void test_bad(void** state) {
  (void)state;
  const int64_t d[] = {1, 2, 3, 3}, d3[] = {2, 3, 3};
  qk_model* m = mt_graph(d, NULL, 4);
  GT_OK(qk_model_add_input(m, "r3", QK_DTYPE_F32, d3, NULL, 3));
  GT_OK(qk_model_add_input(m, "i", QK_DTYPE_S64, d, NULL, 4));
  const float s_nc[] = {1, 2, 2, 2}, s0[] = {1, 1, 0, 2}, tiny[] = {1, 1, 0.1f, 1}, s3[] = {1, 2, 2};
  const int64_t sz3[] = {1, 2, 3}, szn[] = {2, 2, 6, 6}, sz0[] = {0, 4};
  const struct {
    const char* input;
    rs_attrs a;
    qk_status status;
    const char* needle;
  } bad[] = {
      {"r3", {NULL, NULL, NULL, s2, NULL, 4}, QK_ERR_UNSUPPORTED, "only 4-D NCHW inputs"},
      {"i", {NULL, NULL, NULL, s2, NULL, 4}, QK_ERR_INVALID_ARGUMENT, "input 0 is s64, expected f32"},
      {"x", {NULL, NULL, NULL, NULL, NULL, 0}, QK_ERR_INVALID_ARGUMENT, "exactly one of scales and sizes"},
      {"x", {NULL, NULL, NULL, s2, szn, 4}, QK_ERR_INVALID_ARGUMENT, "exactly one of scales and sizes"},
      {"x", {NULL, NULL, NULL, s_nc, NULL, 4}, QK_ERR_UNSUPPORTED, "scales for N and C must be 1"},
      {"x", {NULL, NULL, NULL, s3, NULL, 3}, QK_ERR_INVALID_ARGUMENT, "scales has 3 elements"},
      {"x", {NULL, NULL, NULL, s0, NULL, 4}, QK_ERR_INVALID_ARGUMENT, "scales must be > 0"},
      {"x", {NULL, NULL, NULL, tiny, NULL, 4}, QK_ERR_INVALID_ARGUMENT, "empty output dimension 2"},
      {"x", {NULL, NULL, NULL, NULL, sz3, 3}, QK_ERR_INVALID_ARGUMENT, "sizes has 3 elements"},
      {"x", {NULL, NULL, NULL, NULL, szn, 4}, QK_ERR_UNSUPPORTED, "must repeat N and C"},
      {"x", {NULL, NULL, NULL, NULL, sz0, 2}, QK_ERR_INVALID_ARGUMENT, "sizes [0, 4]: H and W must be in [1, 2^31)"},
      {"x", {"cubic", NULL, NULL, s2, NULL, 4}, QK_ERR_UNSUPPORTED, "mode 'cubic' is not supported"},
      {"x", {"bilinear", NULL, NULL, s2, NULL, 4}, QK_ERR_INVALID_ARGUMENT, "mode 'bilinear' is not one of"},
      {"x",
       {NULL, "tf_crop_and_resize", NULL, s2, NULL, 4},
       QK_ERR_UNSUPPORTED,
       "'tf_crop_and_resize' is not supported"},
      {"x", {NULL, "centre", NULL, s2, NULL, 4}, QK_ERR_INVALID_ARGUMENT, "coordinate_transformation_mode 'centre'"},
      {"x", {NULL, NULL, "nearest", s2, NULL, 4}, QK_ERR_INVALID_ARGUMENT, "nearest_mode 'nearest' is not one of"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    qk_attrs* at = attrs_of(&bad[i].a);
    GT_FAILS(mt_node(m, "Resize", bad[i].input, "y", at), bad[i].status, bad[i].needle);
    qk_attrs_destroy(at);
  }
  qk_attrs* at = mt_attrs();
  GT_OK(qk_attrs_set_ints(at, "scales", szn, 4));
  GT_FAILS(mt_node(m, "Resize", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "'scales' must be a");
  qk_attrs_destroy(at);
  at = attrs_of(&(rs_attrs){NULL, NULL, NULL, s2, NULL, 4});
  GT_OK(qk_attrs_set_string(at, "extrapolation_value", "0"));
  GT_FAILS(mt_node(m, "Resize", "x", "y", at), QK_ERR_INVALID_ARGUMENT, "no attribute 'extrapolation_value'");
  qk_attrs_destroy(at);
  qk_model_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nearest), cmocka_unit_test(test_linear), cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_int8),    cmocka_unit_test(test_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
