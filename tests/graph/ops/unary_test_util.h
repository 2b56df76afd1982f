/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the tests of the element-wise unary ops (test_clip.c, test_sigmoid.c, ...): a graph of
 * one node "n" applying `op` to input "x" and defining output "y"; its float run against a
 * reference function the test writes (evaluated in double), symbolic shape inference, a
 * converted model for checking qparams and which nodes run int8, and a builder call that is
 * expected to fail. The int8 check itself is graph_test_util.h's gt_check_int8(ut_build, ...). */
#ifndef QK_UNARY_TEST_UTIL_H
#define QK_UNARY_TEST_UTIL_H

#include "graph_test_util.h"

typedef void (*ut_attrs_fn)(qk_attrs* a);

typedef struct ut_case {
  const char* op;
  ut_attrs_fn attrs;        /* NULL: no attributes */
  const int64_t* dims;      /* build-time dims of x; < 0: symbolic, named by names[i] */
  const char* const* names; /* NULL when no dim is symbolic */
  size_t rank;
  int s8; /* activations s8 instead of u8 */
} ut_case;

static inline qk_model* ut_build(void* vctx) {
  const ut_case* c = (const ut_case*)vctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, c->dims, c->names, c->rank));
  qk_attrs* a = NULL;
  if (c->attrs) {
    GT_OK(qk_attrs_create(&a));
    c->attrs(a);
  }
  const char* ins[] = {"x"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, c->op, "n", ins, 1, outs, 1, a));
  if (a) qk_attrs_destroy(a);
  GT_OK(qk_model_add_output(m, "y"));
  if (c->s8) GT_OK(qk_model_set_activation_dtype(m, NULL, QK_DTYPE_S8));
  return m;
}

/* qk_model_add_node(op) on a fresh graph with an input "x" of `dtype` and `rank` dims of 2, with
 * n_in inputs ("x" repeated) and the attributes `attrs` sets; returns its status, the model
 * destroyed (qk_last_error() keeps the message for GT_FAILS). */
static inline qk_status ut_try_add(const char* op, ut_attrs_fn attrs, qk_dtype dtype, size_t rank, size_t n_in) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  const int64_t dims[8] = {2, 2, 2, 2, 2, 2, 2, 2};
  GT_OK(qk_model_add_input(m, "x", dtype, dims, NULL, rank));
  qk_attrs* a = NULL;
  if (attrs) {
    GT_OK(qk_attrs_create(&a));
    attrs(a);
  }
  const char* ins[] = {"x", "x", "x"};
  const char* outs[] = {"y"};
  const qk_status s = qk_model_add_node(m, op, "n", ins, n_in, outs, 1, a);
  if (a) qk_attrs_destroy(a);
  qk_model_destroy(m);
  return s;
}

/* Runs case c on x (shape run_shape) and checks y's shape equals run_shape and every
 * |y - ref(x)| <= tol * (1 + |ref(x)|). ref gets `p` (the attributes it needs). */
static inline void ut_check_float(const ut_case* c, const int64_t* run_shape, size_t rank, const float* x,
                                  double (*ref)(double x, const void* p), const void* p, double tol) {
  qk_model* m = ut_build((void*)c);
  const size_t n = gt_count(run_shape, rank);
  float* y = (float*)malloc(n * sizeof(float));
  int64_t ys[8];
  size_t yr = 0;
  gt_tensor in = {"x", run_shape, rank, x};
  gt_run(m, &in, 1, "y", y, n, ys, &yr);
  assert_int_equal(yr, rank);
  for (size_t i = 0; i < rank; ++i) assert_int_equal(ys[i], run_shape[i]);
  for (size_t i = 0; i < n; ++i) {
    const double r = ref((double)x[i], p);
    if (!(fabs((double)y[i] - r) <= tol * (1.0 + fabs(r))))
      fail_msg("%s: y[%zu] = %.9g for x = %.9g, reference %.9g", c->op, i, (double)y[i], (double)x[i], r);
  }
  free(y);
  qk_model_destroy(m);
}

/* The build-time shape of "y" must be {batch, 3, seq} (symbols kept), and a run with
 * {2, 3, 5} gives y {2, 3, 5}. */
static inline void ut_check_symbolic(const char* op, ut_attrs_fn attrs) {
  const int64_t dims[3] = {-1, 3, -1};
  const char* names[3] = {"batch", NULL, "seq"};
  ut_case c = {op, attrs, dims, names, 3, 0};
  qk_model* m = ut_build(&c);
  int64_t d[8];
  const char* dn[8];
  size_t r = 0;
  qk_dtype dt;
  GT_OK(qk_model_value_shape(m, "y", d, dn, 8, &r, &dt));
  assert_int_equal(r, 3);
  assert_int_equal(dt, QK_DTYPE_F32);
  assert_int_equal(d[0], -1);
  assert_string_equal(dn[0], "batch");
  assert_int_equal(d[1], 3);
  assert_null(dn[1]);
  assert_int_equal(d[2], -1);
  assert_string_equal(dn[2], "seq");
  qk_model_destroy(m);
  const int64_t run[3] = {2, 3, 5};
  float x[30];
  gt_fill(x, 30, -4.0f, 4.0f, 7);
  float y[30];
  int64_t ys[8];
  size_t yr = 0;
  m = ut_build(&c);
  gt_tensor in = {"x", run, 3, x};
  gt_run(m, &in, 1, "y", y, 30, ys, &yr);
  assert_int_equal(yr, 3);
  assert_int_equal(ys[0], 2);
  assert_int_equal(ys[1], 3);
  assert_int_equal(ys[2], 5);
  qk_model_destroy(m);
}

/* Case c prepared, calibrated on x and converted (the caller destroys it). */
static inline qk_model* ut_convert(const ut_case* c, const gt_tensor* x) {
  qk_model* q = ut_build((void*)c);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, x, 1);
  GT_OK(qk_model_convert(q));
  return q;
}

/* How many nodes of the (converted) model have op type `op` ("qk.Quantize": the model runs a
 * node int8 only if it quantizes its input first). */
static inline size_t ut_count_nodes(const qk_model* m, const char* op) {
  size_t n = 0, c = 0;
  GT_OK(qk_model_node_count(m, &n));
  for (size_t i = 0; i < n; ++i) {
    const char *name, *type;
    GT_OK(qk_model_node_info(m, i, &name, &type));
    if (strcmp(type, op) == 0) ++c;
  }
  return c;
}

/* The converted output "y" has exactly these qparams. */
static inline void ut_expect_qparams(const qk_model* q, const char* value, float scale, int32_t zp) {
  float s;
  int32_t z, lo, hi;
  gt_value_qparams(q, value, &s, &z, &lo, &hi);
  if (s != scale || z != zp) fail_msg("%s: scale %g zero point %d, expected %g and %d", value, (double)s, z, (double)scale, zp);
}

#endif /* QK_UNARY_TEST_UTIL_H */
