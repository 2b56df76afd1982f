/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the tests of the data-movement ops (Reshape, Flatten, Squeeze, Unsqueeze,
 * Transpose, Slice, Gather, Concat, Pad, Resize): one-node graphs x -> op -> y, declared-shape
 * checks (symbolic dims by name), runs of non-f32 tensors, and the converted model's node list. */
#ifndef QK_MOVEMENT_TEST_UTIL_H
#define QK_MOVEMENT_TEST_UTIL_H

#include "graph_test_util.h"

/* A graph with the f32 input "x" (names may be NULL; a dim < 0 is symbolic, named names[i]). */
static inline qk_model* mt_graph(const int64_t* dims, const char* const* names, size_t rank) {
  qk_model* m = NULL;
  GT_OK(qk_model_create_graph(&m));
  GT_OK(qk_model_add_input(m, "x", QK_DTYPE_F32, dims, names, rank));
  return m;
}

/* Adds node "n" = op(in) -> out. */
static inline qk_status mt_node(qk_model* m, const char* op, const char* in, const char* out, const qk_attrs* at) {
  const char* ins[] = {in};
  const char* outs[] = {out};
  return qk_model_add_node(m, op, "n", ins, 1, outs, 1, at);
}

/* x -> op -> y (the output), attrs consumed (destroyed) by the call. */
static inline qk_model* mt_one(const char* op, const int64_t* dims, const char* const* names, size_t rank,
                               qk_attrs* at) {
  qk_model* m = mt_graph(dims, names, rank);
  GT_OK(mt_node(m, op, "x", "y", at));
  GT_OK(qk_model_add_output(m, "y"));
  qk_attrs_destroy(at);
  return m;
}

static inline qk_attrs* mt_attrs(void) {
  qk_attrs* at = NULL;
  GT_OK(qk_attrs_create(&at));
  return at;
}
static inline qk_attrs* mt_ints(qk_attrs* at, const char* name, const int64_t* v, size_t n) {
  GT_OK(qk_attrs_set_ints(at, name, v, n));
  return at;
}
static inline qk_attrs* mt_int(qk_attrs* at, const char* name, int64_t v) {
  GT_OK(qk_attrs_set_int(at, name, v));
  return at;
}

/* The declared shape of `value`: names[i] NULL for a fixed dim (dims[i] its size), "*" for a
 * derived dim (op.h's derived_dim: "<node>:<output>:<axis>"), else that symbol. */
static inline void mt_expect_shape(const qk_model* m, const char* value, size_t rank, const int64_t* dims,
                                   const char* const* names) {
  int64_t d[8];
  const char* n[8];
  size_t r = 0;
  qk_dtype dt;
  GT_OK(qk_model_value_shape(m, value, d, n, 8, &r, &dt));
  if (r != rank) fail_msg("%s: rank %zu, expected %zu", value, r, rank);
  for (size_t i = 0; i < rank; ++i) {
    const char* want = names ? names[i] : NULL;
    if (want == NULL) {
      if (d[i] != dims[i] || n[i] != NULL)
        fail_msg("%s: dim %zu is %lld (%s), expected %lld", value, i, (long long)d[i], n[i] ? n[i] : "fixed",
                 (long long)dims[i]);
    } else {
      if (d[i] >= 0 || n[i] == NULL) fail_msg("%s: dim %zu is %lld, expected a symbol", value, i, (long long)d[i]);
      if (strcmp(want, "*") == 0 && strchr(n[i], ':') == NULL)
        fail_msg(
            "%s: dim %zu is '%s', expected a derived dim "
            "('<node>:<output>:<axis>')",
            value, i, n[i]);
      if (strcmp(want, "*") != 0 && strcmp(want, n[i]) != 0)
        fail_msg("%s: dim %zu is '%s', expected '%s'", value, i, n[i], want);
    }
  }
}

/* 0, 1, 2, ... scaled: x[i] = a + b * i. */
static inline void mt_iota(float* x, size_t n, float a, float b) {
  for (size_t i = 0; i < n; ++i) x[i] = a + b * (float)i;
}

/* Runs the one-input model on x (dtype, shape) and copies output "y" (`elem` bytes each). */
static inline size_t mt_run_typed(const qk_model* m, qk_dtype dtype, size_t elem, const void* x, const int64_t* shape,
                                  size_t rank, void* y, size_t capacity, int64_t* yshape, size_t* yrank) {
  qk_run* r = NULL;
  GT_OK(qk_run_create(m, &r));
  GT_OK(qk_run_set_input(r, "x", dtype, x, gt_count(shape, rank) * elem, shape, rank));
  GT_OK(qk_run_invoke(r, NULL));
  size_t yr = 0;
  int64_t ys[8];
  GT_OK(qk_run_output_shape(r, "y", ys, 8, &yr));
  const size_t n = gt_count(ys, yr);
  assert_true(n <= capacity);
  GT_OK(qk_run_get_output(r, "y", dtype, y, n * elem));
  if (yshape) memcpy(yshape, ys, yr * sizeof(int64_t));
  if (yrank) *yrank = yr;
  qk_run_destroy(r);
  return n;
}

/* Expects a run of the one-input f32 model on `shape` to fail with `status` / `needle`. */
static inline void mt_run_fails(const qk_model* m, const int64_t* shape, size_t rank, qk_status status,
                                const char* needle) {
  static float x[4096];
  assert_true(gt_count(shape, rank) <= 4096);
  qk_run* r = NULL;
  GT_OK(qk_run_create(m, &r));
  GT_OK(qk_run_set_input(r, "x", QK_DTYPE_F32, x, gt_count(shape, rank) * sizeof(float), shape, rank));
  GT_FAILS(qk_run_invoke(r, NULL), status, needle);
  qk_run_destroy(r);
}

/* Does the (converted) model hold a node of op type `op`? */
static inline int mt_has_op(const qk_model* m, const char* op) {
  size_t n = 0;
  GT_OK(qk_model_node_count(m, &n));
  for (size_t i = 0; i < n; ++i) {
    const char *name, *type;
    GT_OK(qk_model_node_info(m, i, &name, &type));
    if (strcmp(type, op) == 0) return 1;
  }
  return 0;
}

/* Prepare, calibrate on x, convert: for checking which nodes a conversion produced. */
static inline void mt_convert(qk_model* m, const gt_tensor* inputs, size_t n) {
  GT_OK(qk_model_prepare(m));
  gt_calibrate(m, inputs, n);
  GT_OK(qk_model_convert(m));
}

/* A one-node case for gt_check_int8: x (f32, `dims`) -> op (attributes set by `attrs`) -> y. With
 * `nhwc`, x (rank 4) first goes through a 1x1 Conv with the identity weight, so that int8 codes
 * reach the op in the NHWC storage the conv kernel writes. */
typedef struct mt_case {
  const char* op;
  const int64_t* dims;
  size_t rank;
  void (*attrs)(qk_attrs* at);
  int nhwc;
} mt_case;

static inline qk_model* mt_build_case(void* ctx) {
  const mt_case* c = (const mt_case*)ctx;
  qk_model* m = mt_graph(c->dims, NULL, c->rank);
  const char* in = "x";
  if (c->nhwc) {
    static float w[64 * 64];
    const int64_t C = c->dims[1];
    assert_true(c->rank == 4 && C <= 64);
    const int64_t ws[] = {C, C, 1, 1};
    for (int64_t i = 0; i < C * C; ++i) w[i] = i / C == i % C ? 1.0f : 0.0f;
    gt_add_const(m, "w", ws, 4, w);
    const char* ins[] = {"x", "w"};
    const char* outs[] = {"h"};
    GT_OK(qk_model_add_node(m, "Conv", "conv", ins, 2, outs, 1, NULL));
    in = "h";
  }
  qk_attrs* at = mt_attrs();
  if (c->attrs) c->attrs(at);
  GT_OK(mt_node(m, c->op, in, "y", at));
  qk_attrs_destroy(at);
  GT_OK(qk_model_add_output(m, "y"));
  return m;
}

/* gt_check_int8 of a case on x; returns the worst error in output steps. */
static inline double mt_check_int8(const mt_case* c, const float* x, double steps) {
  gt_tensor in[1] = {{"x", c->dims, c->rank, x}};
  return gt_check_int8(mt_build_case, (void*)c, in, 1, "y", steps);
}

/* Converts a case and reports whether the op node ran int8 (an int8 node reads codes, so the
 * graph input is quantized: qk.Quantize; a float one reads x as it is), and whether a qk.Reorder
 * was needed. */
static inline void mt_converted_ops(const mt_case* c, const float* x, int* quantized, int* reordered) {
  qk_model* m = mt_build_case((void*)c);
  gt_tensor in[1] = {{"x", c->dims, c->rank, x}};
  mt_convert(m, in, 1);
  *quantized = mt_has_op(m, "qk.Quantize");
  *reordered = mt_has_op(m, "qk.Reorder");
  qk_model_destroy(m);
}

#endif /* QK_MOVEMENT_TEST_UTIL_H */
