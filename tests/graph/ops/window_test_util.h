/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the sliding-window op tests (Conv, ConvTranspose, MaxPool, AveragePool, the global
 * pools, BatchNormalization): a one-node graph builder with ONNX's window attributes, and
 * independent references written here as plain loops in double (never the library): a gather
 * convolution, max / average pooling. 1-D cases are passed to the references as 2-D with H = 1
 * and pads {0, begin, 0, end}. */
#ifndef QK_WINDOW_TEST_UTIL_H
#define QK_WINDOW_TEST_UTIL_H

#include "graph_test_util.h"

/* A constant input of the node (name "" leaves an optional input out). */
typedef struct wt_const {
  const char* name;
  int64_t shape[4];
  size_t rank;
  const float* data;
} wt_const;

/* Attributes; a list with n_* == 0, an int with has_* == 0, a NULL string is not set. */
typedef struct wt_attrs {
  int64_t kernel_shape[2];
  size_t n_kernel;
  int64_t strides[2];
  size_t n_strides;
  int64_t pads[4];
  size_t n_pads;
  int64_t dilations[2];
  size_t n_dil;
  int64_t group;
  int has_group;
  const char* auto_pad;
  int has_clip_min, has_clip_max;
  float clip_min, clip_max;
  int64_t count_include_pad;
  int has_cip;
  int64_t ceil_mode;
  int has_ceil;
  int64_t output_padding[2];
  size_t n_opad;
  int64_t output_shape[4]; /* spatial, or the full {N, C, spatial...} */
  size_t n_oshape;
  float epsilon;
  int has_eps;
} wt_attrs;

typedef struct wt_case {
  const char* op;
  int64_t x_shape[4]; /* < 0: symbolic, named by x_names */
  size_t x_rank;
  const char* x_names[4];
  wt_const consts[4]; /* the node's inputs after x, in order */
  size_t n_consts;
  wt_attrs attrs;
  int s8;                   /* s8 activations */
  const char* scheme_layer; /* non-NULL: qk_model_set_weight_scheme(m, scheme_layer, scheme) */
  qk_qscheme scheme;
} wt_case;

static inline qk_attrs* wt_make_attrs(const wt_attrs* a) {
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  if (a->n_kernel) GT_OK(qk_attrs_set_ints(at, "kernel_shape", a->kernel_shape, a->n_kernel));
  if (a->n_strides) GT_OK(qk_attrs_set_ints(at, "strides", a->strides, a->n_strides));
  if (a->n_pads) GT_OK(qk_attrs_set_ints(at, "pads", a->pads, a->n_pads));
  if (a->n_dil) GT_OK(qk_attrs_set_ints(at, "dilations", a->dilations, a->n_dil));
  if (a->has_group) GT_OK(qk_attrs_set_int(at, "group", a->group));
  if (a->auto_pad) GT_OK(qk_attrs_set_string(at, "auto_pad", a->auto_pad));
  if (a->has_clip_min) GT_OK(qk_attrs_set_float(at, "clip_min", a->clip_min));
  if (a->has_clip_max) GT_OK(qk_attrs_set_float(at, "clip_max", a->clip_max));
  if (a->has_cip) GT_OK(qk_attrs_set_int(at, "count_include_pad", a->count_include_pad));
  if (a->has_ceil) GT_OK(qk_attrs_set_int(at, "ceil_mode", a->ceil_mode));
  if (a->n_opad) GT_OK(qk_attrs_set_ints(at, "output_padding", a->output_padding, a->n_opad));
  if (a->n_oshape) GT_OK(qk_attrs_set_ints(at, "output_shape", a->output_shape, a->n_oshape));
  if (a->has_eps) GT_OK(qk_attrs_set_float(at, "epsilon", a->epsilon));
  return at;
}

/* The model "x" -> node "n" (op c->op) -> "y", without its node (for the error tests). */
static inline qk_model* wt_build_inputs(const wt_case* c) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, c->x_shape, c->x_names, c->x_rank));
  for (size_t i = 0; i < c->n_consts; ++i)
    if (c->consts[i].name[0]) gt_add_const(m, c->consts[i].name, c->consts[i].shape, c->consts[i].rank, c->consts[i].data);
  return m;
}

/* Adds node "n"; returns its status (for GT_FAILS). */
static inline qk_status wt_add_node(qk_model* m, const wt_case* c) {
  const char* ins[5] = {"x"};
  for (size_t i = 0; i < c->n_consts; ++i) ins[i + 1] = c->consts[i].name;
  const char* outs[] = {"y"};
  qk_attrs* at = wt_make_attrs(&c->attrs);
  const qk_status s = qk_model_add_node(m, c->op, "n", ins, 1 + c->n_consts, outs, 1, at);
  qk_attrs_destroy(at);
  return s;
}

static inline qk_model* wt_build(void* vctx) {
  const wt_case* c = (const wt_case*)vctx;
  qk_model* m = wt_build_inputs(c);
  GT_OK(wt_add_node(m, c));
  GT_OK(qk_model_add_output(m, "y"));
  if (c->s8) GT_OK(qk_model_set_activation_dtype(m, NULL, QK_DTYPE_S8));
  if (c->scheme_layer) GT_OK(qk_model_set_weight_scheme(m, c->scheme_layer, c->scheme));
  return m;
}

/* Adds node "n" of case c to a fresh model and returns the status (the model is destroyed). */
static inline qk_status wt_try_build(const wt_case* c) {
  qk_model* m = wt_build_inputs(c);
  const qk_status s = wt_add_node(m, c);
  qk_model_destroy(m);
  return s;
}

/* Declared shape of "y" (symbolic dims as -1, their names in names[] when non-NULL). */
static inline size_t wt_declared(const qk_model* m, const char* value, int64_t* dims, const char** names) {
  size_t rank = 0;
  qk_dtype dt;
  GT_OK(qk_model_value_shape(m, value, dims, names, 8, &rank, &dt));
  return rank;
}

static inline size_t wt_count_nodes(const qk_model* m, const char* op) {
  size_t n = 0, c = 0;
  GT_OK(qk_model_node_count(m, &n));
  for (size_t i = 0; i < n; ++i) {
    const char *name, *type;
    GT_OK(qk_model_node_info(m, i, &name, &type));
    if (strcmp(type, op) == 0) ++c;
  }
  return c;
}

static inline void wt_expect_shape(const int64_t* got, size_t got_rank, const int64_t* want, size_t want_rank) {
  assert_int_equal(got_rank, want_rank);
  for (size_t i = 0; i < want_rank; ++i)
    if (got[i] != want[i]) fail_msg("dimension %zu is %lld, expected %lld", i, (long long)got[i], (long long)want[i]);
}

/* Compares y with the reference r: |y - r| <= rel * mag[i] + abs (mag NULL: 1 + |r|). */
static inline void wt_expect_close(const float* y, const float* r, const double* mag, size_t n, double rel, double abs_tol) {
  for (size_t i = 0; i < n; ++i) {
    const double m = mag ? mag[i] : 1.0 + fabs((double)r[i]);
    if (fabs((double)y[i] - (double)r[i]) > rel * m + abs_tol)
      fail_msg("y[%zu] = %.9g, reference %.9g (tolerance %g)", i, (double)y[i], (double)r[i], rel * m + abs_tol);
  }
}

/* ---- References ------------------------------------------------------------------------------- */

/* Convolution by definition (gather), in double: x {N, C, H, W}, w {O, C/group, kh, kw}, b {O} or
 * NULL, pads {top, left, bottom, right}; y {N, O, OH, OW} (ys filled), clamped to [lo, hi].
 * mag (optional): sum of |terms| per output, for a rounding tolerance. */
static inline void wt_ref_conv(const float* x, const int64_t xs[4], const float* w, const int64_t ws[4], const float* b,
                               int64_t group, const int64_t s[2], const int64_t pad[4], const int64_t d[2], float lo,
                               float hi, float* y, int64_t ys[4], double* mag) {
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], O = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
  const int64_t OH = (H + pad[0] + pad[2] - ((kh - 1) * d[0] + 1)) / s[0] + 1;
  const int64_t OW = (W + pad[1] + pad[3] - ((kw - 1) * d[1] + 1)) / s[1] + 1;
  ys[0] = N;
  ys[1] = O;
  ys[2] = OH;
  ys[3] = OW;
  const int64_t og = O / group;
  (void)C;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          double acc = b ? b[o] : 0.0, am = b ? fabs(b[o]) : 0.0;
          const int64_t g = o / og;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                const int64_t iy = oy * s[0] - pad[0] + i * d[0], ix = ox * s[1] - pad[1] + j * d[1];
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const double t = (double)x[((n * C + g * cg + c) * H + iy) * W + ix] * w[((o * cg + c) * kh + i) * kw + j];
                acc += t;
                am += fabs(t);
              }
          if (acc < lo) acc = lo;
          if (acc > hi) acc = hi;
          const size_t k = (size_t)(((n * O + o) * OH + oy) * OW + ox);
          y[k] = (float)acc;
          if (mag) mag[k] = am;
        }
}

/* Max (is_max) or average pooling by definition, in double: padded taps are skipped by max and
 * counted by the average only with count_include_pad (divisor kh * kw). */
static inline void wt_ref_pool(int is_max, int include_pad, const float* x, const int64_t xs[4], const int64_t k[2],
                               const int64_t s[2], const int64_t pad[4], const int64_t d[2], float* y, int64_t ys[4]) {
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const int64_t OH = (H + pad[0] + pad[2] - ((k[0] - 1) * d[0] + 1)) / s[0] + 1;
  const int64_t OW = (W + pad[1] + pad[3] - ((k[1] - 1) * d[1] + 1)) / s[1] + 1;
  ys[0] = N;
  ys[1] = C;
  ys[2] = OH;
  ys[3] = OW;
  for (int64_t p = 0; p < N * C; ++p)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        double acc = is_max ? -INFINITY : 0.0;
        int64_t count = 0;
        for (int64_t i = 0; i < k[0]; ++i)
          for (int64_t j = 0; j < k[1]; ++j) {
            const int64_t iy = oy * s[0] - pad[0] + i * d[0], ix = ox * s[1] - pad[1] + j * d[1];
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const double v = x[(p * H + iy) * W + ix];
            acc = is_max ? (v > acc ? v : acc) : acc + v;
            ++count;
          }
        if (!is_max) acc /= (double)(include_pad ? k[0] * k[1] : count);
        y[(p * OH + oy) * OW + ox] = (float)acc;
      }
}

#endif /* QK_WINDOW_TEST_UTIL_H */
