/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the tests of the broadcasting binary ops (test_sub.c, test_mul.c, test_div.c,
 * test_pow.c): a graph of one node "n" applying `op` to "a" and "b" (an input, or a constant)
 * and defining "y"; the float run against a numpy-broadcast reference written here (index
 * arithmetic with division and modulo, independent of the library's odometer walk), integer
 * runs, and builder calls expected to fail. */
#ifndef QK_BINARY_TEST_UTIL_H
#define QK_BINARY_TEST_UTIL_H

#include "graph_test_util.h"

typedef struct bt_case {
  const char* op;
  const int64_t* a_dims; /* build-time dims; < 0: symbolic, named by a_names[i] */
  const char* const* a_names;
  size_t a_rank;
  const int64_t* b_dims;
  const char* const* b_names;
  size_t b_rank;
  const float* b_const; /* non-NULL: b is a constant (b_dims all known) with this data */
  int s8;               /* activations s8 instead of u8 */
} bt_case;

static inline qk_model* bt_build(void* vctx) {
  const bt_case* c = (const bt_case*)vctx;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  GT_OK(qk_model_add_input(m, "a", QK_DTYPE_F32, c->a_dims, c->a_names, c->a_rank));
  if (c->b_const)
    gt_add_const(m, "b", c->b_dims, c->b_rank, c->b_const);
  else
    GT_OK(qk_model_add_input(m, "b", QK_DTYPE_F32, c->b_dims, c->b_names, c->b_rank));
  const char* ins[] = {"a", "b"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, c->op, "n", ins, 2, outs, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  if (c->s8) GT_OK(qk_model_set_activation_dtype(m, NULL, QK_DTYPE_S8));
  return m;
}

/* numpy broadcasting of two concrete shapes; 0 when they do not broadcast. */
static inline int bt_broadcast(const int64_t* a, size_t ar, const int64_t* b, size_t br, int64_t* y, size_t* yr) {
  const size_t r = ar > br ? ar : br;
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i + ar >= r ? a[i + ar - r] : 1, db = i + br >= r ? b[i + br - r] : 1;
    if (da != db && da != 1 && db != 1) return 0;
    y[i] = da == 1 ? db : da;
  }
  *yr = r;
  return 1;
}

/* The flat index into a tensor of shape (s, sr) of output element o of shape (y, yr). */
static inline size_t bt_source_index(size_t o, const int64_t* y, size_t yr, const int64_t* s, size_t sr) {
  size_t idx = 0, stride = 1;
  for (size_t i = yr; i-- > 0;) {
    const size_t coord = o % (size_t)y[i];
    o /= (size_t)y[i];
    if (i + sr < yr) continue; /* a leading dim s lacks */
    const int64_t d = s[i + sr - yr];
    idx += (d == 1 ? 0 : coord) * stride;
    stride *= (size_t)d;
  }
  return idx;
}

/* Runs case c (b an input unless c->b_const) on a, b; checks y's shape is the broadcast shape
 * and every |y - ref(a, b)| <= tol * (1 + |ref|) (NaN matches NaN, an infinity itself). */
static inline void bt_check_float(const bt_case* c, const int64_t* as, size_t ar, const float* a, const int64_t* bs,
                                  size_t br, const float* b, double (*ref)(double, double), double tol) {
  int64_t ys[8], want[8];
  size_t yr = 0, wr = 0;
  assert_true(bt_broadcast(as, ar, bs, br, want, &wr));
  const size_t n = gt_count(want, wr);
  float* y = (float*)malloc((n ? n : 1) * sizeof(float));
  qk_model* m = bt_build((void*)c);
  gt_tensor in[2] = {{"a", as, ar, a}, {"b", bs, br, b}};
  gt_run(m, in, c->b_const ? 1 : 2, "y", y, n, ys, &yr);
  assert_int_equal(yr, wr);
  for (size_t i = 0; i < wr; ++i) assert_int_equal(ys[i], want[i]);
  for (size_t i = 0; i < n; ++i) {
    const double va = a[bt_source_index(i, want, wr, as, ar)], vb = b[bt_source_index(i, want, wr, bs, br)];
    const double r = ref(va, vb);
    const int ok = isnan(r) ? isnan(y[i]) : (isinf(r) ? (double)y[i] == r : fabs((double)y[i] - r) <= tol * (1.0 + fabs(r)));
    if (!ok) fail_msg("%s: y[%zu] = %.9g for (%.9g, %.9g), reference %.9g", c->op, i, (double)y[i], va, vb, r);
  }
  free(y);
  qk_model_destroy(m);
}

/* op on two inputs of the given dtypes and dims (no symbols); returns the status of
 * qk_model_add_node, the model destroyed (qk_last_error() keeps the message). */
static inline qk_status bt_try_add(const char* op, qk_dtype at, const int64_t* as, size_t ar, qk_dtype bt,
                                   const int64_t* bs, size_t br) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  GT_OK(qk_model_add_input(m, "a", at, as, NULL, ar));
  GT_OK(qk_model_add_input(m, "b", bt, bs, NULL, br));
  const char* ins[] = {"a", "b"};
  const char* outs[] = {"y"};
  const qk_status s = qk_model_add_node(m, op, "n", ins, 2, outs, 1, NULL);
  qk_model_destroy(m);
  return s;
}

/* op on two s64 (or s32, elem = 4) inputs of shapes as / bs; writes y (n elements as int64) and
 * returns the invoke's status (y untouched on failure). */
static inline qk_status bt_run_int(const char* op, qk_dtype dt, const int64_t* as, size_t ar, const void* a,
                                   const int64_t* bs, size_t br, const void* b, int64_t* y, size_t n) {
  const size_t elem = dt == QK_DTYPE_S64 ? 8 : 4;
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  GT_OK(qk_model_add_input(m, "a", dt, as, NULL, ar));
  GT_OK(qk_model_add_input(m, "b", dt, bs, NULL, br));
  const char* ins[] = {"a", "b"};
  const char* outs[] = {"y"};
  GT_OK(qk_model_add_node(m, op, "n", ins, 2, outs, 1, NULL));
  GT_OK(qk_model_add_output(m, "y"));
  qk_dtype vt;
  int64_t d[8];
  size_t r = 0;
  GT_OK(qk_model_value_shape(m, "y", d, NULL, 8, &r, &vt));
  assert_int_equal(vt, dt);
  qk_run* run = NULL;
  GT_OK(qk_run_create(m, &run));
  GT_OK(qk_run_set_input(run, "a", dt, a, gt_count(as, ar) * elem, as, ar));
  GT_OK(qk_run_set_input(run, "b", dt, b, gt_count(bs, br) * elem, bs, br));
  qk_status s = qk_run_invoke(run, NULL);
  if (s == QK_OK) {
    void* raw = malloc(n * elem);
    GT_OK(qk_run_get_output(run, "y", dt, raw, n * elem));
    for (size_t i = 0; i < n; ++i) y[i] = elem == 8 ? ((const int64_t*)raw)[i] : ((const int32_t*)raw)[i];
    free(raw);
  }
  qk_run_destroy(run);
  qk_model_destroy(m);
  return s;
}

/* Build-time shape of "y" for a = {batch, 1, 4} (symbolic batch) and b = {3, 1}: {batch, 3, 4},
 * then a run with batch = 2. */
static inline void bt_check_symbolic(const char* op) {
  const int64_t ad[3] = {-1, 1, 4}, bd[2] = {3, 1};
  const char* an[3] = {"batch", NULL, NULL};
  bt_case c = {op, ad, an, 3, bd, NULL, 2, NULL, 0};
  qk_model* m = bt_build(&c);
  int64_t d[8];
  const char* dn[8];
  size_t r = 0;
  GT_OK(qk_model_value_shape(m, "y", d, dn, 8, &r, NULL));
  assert_int_equal(r, 3);
  assert_int_equal(d[0], -1);
  assert_string_equal(dn[0], "batch");
  assert_int_equal(d[1], 3);
  assert_int_equal(d[2], 4);
  const int64_t as[3] = {2, 1, 4};
  float a[8], b[3], y[24];
  gt_fill(a, 8, 0.5f, 2.0f, 31);
  gt_fill(b, 3, 0.5f, 2.0f, 32);
  gt_tensor in[2] = {{"a", as, 3, a}, {"b", bd, 2, b}};
  int64_t ys[8];
  size_t yr = 0;
  gt_run(m, in, 2, "y", y, 24, ys, &yr);
  assert_int_equal(yr, 3);
  assert_int_equal(ys[0], 2);
  assert_int_equal(ys[1], 3);
  assert_int_equal(ys[2], 4);
  qk_model_destroy(m);
}

#endif /* QK_BINARY_TEST_UTIL_H */
