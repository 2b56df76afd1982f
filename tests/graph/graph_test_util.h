/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the graph v2 tests (one test file per op under tests/graph/ops/): build a small
 * graph through the public C API, run it by name, and check an int8 conversion against
 * "dequantize -> float op -> quantize" within a number of output steps. Header-only so every
 * test file stays one translation unit. */
#ifndef QK_GRAPH_TEST_UTIL_H
#define QK_GRAPH_TEST_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "quantkit/quantkit.h"

#define GT_OK(call)                                                                      \
  do {                                                                                   \
    qk_status gt_s_ = (call);                                                            \
    if (gt_s_ != QK_OK) fail_msg("%s -> %d: %s", #call, (int)gt_s_, qk_last_error());    \
  } while (0)

/* A tensor for the helpers: name, shape, f32 data (NULL: unused). */
typedef struct gt_tensor {
  const char* name;
  const int64_t* shape;
  size_t rank;
  const float* data;
} gt_tensor;

static inline size_t gt_count(const int64_t* shape, size_t rank) {
  size_t c = 1;
  for (size_t i = 0; i < rank; ++i) c *= (size_t)shape[i];
  return c;
}

/* Deterministic values in [lo, hi) (xorshift; the same on every machine). */
static inline void gt_fill(float* x, size_t n, float lo, float hi, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; ++i) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    x[i] = lo + (hi - lo) * (float)(s >> 8) / 16777216.0f;
  }
}

static inline void gt_add_input(qk_model* m, const char* name, const int64_t* shape, size_t rank) {
  GT_OK(qk_model_add_input(m, name, QK_DTYPE_F32, shape, NULL, rank));
}

static inline void gt_add_const(qk_model* m, const char* name, const int64_t* shape, size_t rank, const float* data) {
  GT_OK(qk_model_add_constant(m, name, QK_DTYPE_F32, shape, rank, data, gt_count(shape, rank) * sizeof(float)));
}

/* Runs `m` on the given f32 inputs; writes output `out_name` (capacity floats) and its shape. */
static inline void gt_run(const qk_model* m, const gt_tensor* inputs, size_t n_inputs, const char* out_name,
                          float* out, size_t capacity, int64_t* out_shape, size_t* out_rank) {
  qk_run* r = NULL;
  GT_OK(qk_run_create(m, &r));
  for (size_t i = 0; i < n_inputs; ++i)
    GT_OK(qk_run_set_input(r, inputs[i].name, QK_DTYPE_F32, inputs[i].data,
                           gt_count(inputs[i].shape, inputs[i].rank) * sizeof(float), inputs[i].shape,
                           inputs[i].rank));
  GT_OK(qk_run_invoke(r, NULL));
  int64_t shape[8];
  size_t rank = 0;
  GT_OK(qk_run_output_shape(r, out_name, shape, 8, &rank));
  const size_t n = gt_count(shape, rank);
  assert_true(n <= capacity);
  GT_OK(qk_run_get_output(r, out_name, QK_DTYPE_F32, out, n * sizeof(float)));
  if (out_shape) memcpy(out_shape, shape, rank * sizeof(int64_t));
  if (out_rank) *out_rank = rank;
  qk_run_destroy(r);
}

static inline void gt_calibrate(qk_model* m, const gt_tensor* inputs, size_t n_inputs) {
  qk_run* r = NULL;
  GT_OK(qk_run_create(m, &r));
  for (size_t i = 0; i < n_inputs; ++i)
    GT_OK(qk_run_set_input(r, inputs[i].name, QK_DTYPE_F32, inputs[i].data,
                           gt_count(inputs[i].shape, inputs[i].rank) * sizeof(float), inputs[i].shape,
                           inputs[i].rank));
  GT_OK(qk_model_calibrate_run(m, r));
  qk_run_destroy(r);
}

/* Per-tensor scale / zero point of value `name` of a CONVERTED model. */
static inline void gt_value_qparams(const qk_model* m, const char* name, float* scale, int32_t* zp, int32_t* qmin,
                                    int32_t* qmax) {
  qk_qparams* qp = NULL;
  GT_OK(qk_model_get_tensor_qparams(m, name, &qp));
  GT_OK(qk_qparams_get_scales(qp, scale, 1));
  GT_OK(qk_qparams_get_zero_points(qp, zp, 1));
  qk_dtype dt;
  GT_OK(qk_qparams_get_dtype(qp, &dt));
  *qmin = dt == QK_DTYPE_S8 ? -128 : 0;
  *qmax = dt == QK_DTYPE_S8 ? 127 : 255;
  qk_qparams_destroy(qp);
}

static inline float gt_fake_quant(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  float q = nearbyintf(x / scale) + (float)zp;
  if (q < (float)qmin) q = (float)qmin;
  if (q > (float)qmax) q = (float)qmax;
  return (q - (float)zp) * scale;
}

/* Builds a fresh FLOAT model (the same graph each call). */
typedef qk_model* (*gt_builder)(void* ctx);

/* Static int8 check: prepare, calibrate on `inputs`, convert; then every output element of the
 * converted run is within `steps` output steps of quantize(float_op(dequantize(quantize(x)))),
 * the float model run on the inputs rounded to their own qparams. Returns the largest error in
 * steps (for the caller to assert tighter bounds). */
static inline double gt_check_int8(gt_builder build, void* ctx, const gt_tensor* inputs, size_t n_inputs,
                                   const char* out_name, double steps) {
  qk_model* q = build(ctx);
  GT_OK(qk_model_prepare(q));
  gt_calibrate(q, inputs, n_inputs);
  GT_OK(qk_model_convert(q));
  gt_tensor rounded[8];
  float* bufs[8] = {0};
  assert_true(n_inputs <= 8);
  for (size_t i = 0; i < n_inputs; ++i) {
    float s;
    int32_t zp, lo, hi;
    gt_value_qparams(q, inputs[i].name, &s, &zp, &lo, &hi);
    const size_t n = gt_count(inputs[i].shape, inputs[i].rank);
    bufs[i] = (float*)malloc(n * sizeof(float));
    for (size_t k = 0; k < n; ++k) bufs[i][k] = gt_fake_quant(inputs[i].data[k], s, zp, lo, hi);
    rounded[i] = inputs[i];
    rounded[i].data = bufs[i];
  }
  const size_t cap = 1 << 20;
  float* yq = (float*)malloc(cap * sizeof(float));
  float* yf = (float*)malloc(cap * sizeof(float));
  int64_t shape_q[8], shape_f[8];
  size_t rank_q = 0, rank_f = 0;
  gt_run(q, inputs, n_inputs, out_name, yq, cap, shape_q, &rank_q);
  qk_model* f = build(ctx);
  gt_run(f, rounded, n_inputs, out_name, yf, cap, shape_f, &rank_f);
  assert_int_equal(rank_q, rank_f);
  float s;
  int32_t zp, lo, hi;
  gt_value_qparams(q, out_name, &s, &zp, &lo, &hi);
  double worst = 0.0;
  for (size_t k = 0, n = gt_count(shape_q, rank_q); k < n; ++k) {
    const double ref = gt_fake_quant(yf[k], s, zp, lo, hi);
    const double err = fabs((double)yq[k] - ref) / (double)s;
    if (err > worst) worst = err;
    if (!(err <= steps + 1e-3)) /* a NaN fails too */
      fail_msg("%s[%zu]: int8 %g vs reference %g (%.3f steps > %.3f, scale %g)", out_name, k, (double)yq[k], ref, err,
               steps, (double)s);
  }
  for (size_t i = 0; i < n_inputs; ++i) free(bufs[i]);
  free(yq);
  free(yf);
  qk_model_destroy(q);
  qk_model_destroy(f);
  return worst;
}

/* Expects `call` to fail with `status` and a non-empty message containing `needle`. */
#define GT_FAILS(call, status, needle)                                                              \
  do {                                                                                              \
    qk_status gt_s_ = (call);                                                                       \
    if (gt_s_ != (status)) fail_msg("%s -> %d, expected %d (%s)", #call, (int)gt_s_, (int)(status), \
                                    qk_last_error());                                               \
    if (strstr(qk_last_error(), (needle)) == NULL)                                                  \
      fail_msg("%s: message '%s' lacks '%s'", #call, qk_last_error(), (needle));                    \
  } while (0)

#endif /* QK_GRAPH_TEST_UTIL_H */
