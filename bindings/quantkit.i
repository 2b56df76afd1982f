/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QuantKit SWIG interface, shared by Python, Java and C#.
 * =========================================================
 *
 * Wraps the C ABI (include/quantkit/quantkit.h) and nothing else: every method below calls
 * qk_ functions only. The file has four parts:
 *
 *   1. Binding helpers (C, compiled into each glue library): one thread-local error slot that
 *      every method fills on failure, and `qk_swig_buf`, the array a method returns.
 *   2. The language file (python/quantkit_python.i, java/quantkit_java.i,
 *      csharp/quantkit_csharp.i). It supplies, per language, the ONE place where an error becomes
 *      an exception (the exception feature plus the `qk_status` out typemap) and the typemaps for the
 *      parameter patterns used here and in the header:
 *        (const float* f32, size_t f32_len)           float array  (also f32b, opt_f32)
 *        (const int64_t* shape, size_t rank)           a shape      (Python: the array's own shape)
 *        (const void* bytes, size_t bytes_len)         raw 8-bit array (u8/s8)
 *        (const int8_t* s8, size_t s8_len)             s8 array
 *        (const int32_t* s32, size_t s32_len)          int32 array
 *        (const uint16_t* u16, size_t u16_len)         f16/bf16 bits
 *        (const void* raw, size_t raw_len)             any bytes (serialized state)
 *        (const int64_t* dims, size_t ndims)           a list of int64 (also dims_b, dims_c)
 *        qk_swig_f32 / qk_swig_bytes / qk_swig_s32 / qk_swig_u16   returned arrays
 *        qk_status (return)                             raises on failure (flat functions)
 *   3. Handles as classes: QuantSpec, QParams, Observer, ThreadPool, PackedWeights, QLinear,
 *      DynamicLinear, QConv2d. Methods are written once here (names start with `_`, which each
 *      language file renames: Python snake_case, Java lowerCamelCase, C# PascalCase). A method
 *      called on a closed handle (self == NULL: Python's close(), Java's close(), C#'s Dispose()
 *      all leave a NULL pointer behind) fails with the "closed" error, never touches memory.
 *   4. The whole header: the enums and every flat qk_ function, so functions
 *      added to the header later are wrapped by the next build with the same typemaps (their
 *      status raises; parameters named like the patterns above are converted).
 */

#if defined(SWIGPYTHON)
%module(package="quantkit", threads="1") core
#elif defined(SWIGJAVA)
%module QuantKit
#elif defined(SWIGCSHARP)
%module Qk
#endif

%{
#include <quantkit/quantkit.h>
#include <stdarg.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- error slot ---------------------------------------------------------------------- */
/* 0 = no error, a qk_status value, or QK_SWIG_CLOSED (a method called on a closed handle). */
#define QK_SWIG_CLOSED (-1)
static _Thread_local int qk_swig_err = 0;
static _Thread_local char qk_swig_msg[1024];

static void qk_swig_clear(void) {
  qk_swig_err = 0;
  qk_swig_msg[0] = '\0';
}
/* Records a binding-level failure with its own message. */
static void qk_swig_fail(int code, const char* fmt, ...) {
  va_list ap;
  qk_swig_err = code;
  va_start(ap, fmt);
  vsnprintf(qk_swig_msg, sizeof qk_swig_msg, fmt, ap);
  va_end(ap);
}
/* Records a library failure (status + qk_last_error()); returns non-zero on failure. */
static int qk_swig_check(qk_status s) {
  if (s == QK_OK) return 0;
  qk_swig_err = (int)s;
  snprintf(qk_swig_msg, sizeof qk_swig_msg, "%s", qk_last_error());
  return 1;
}
#define QK_CHECK(call, ret) do { if (qk_swig_check(call)) return ret; } while (0)
#define QK_SELF(what, ret)                                                                    \
  do {                                                                                        \
    if (self == NULL) {                                                                       \
      qk_swig_fail(QK_SWIG_CLOSED, "the %s is closed", what);                                \
      return ret;                                                                             \
    }                                                                                         \
  } while (0)

/* ---- returned arrays ------------------------------------------------------------------- */
/* A malloc'd array plus what the language needs to present it: Python makes a numpy array of
 * `dtype` and `shape` that owns `data` (no copy); Java and C# copy `nbytes` into a new array. */
typedef struct qk_swig_buf {
  void* data;
  size_t nbytes;
  qk_dtype dtype; /* F32, F16, BF16, S8, U8 (also packed 4-bit bytes), S32 */
  size_t rank;
  int64_t shape[QK_MAX_RANK];
} qk_swig_buf;
typedef qk_swig_buf qk_swig_f32;
typedef qk_swig_buf qk_swig_bytes;
typedef qk_swig_buf qk_swig_s32;
typedef qk_swig_buf qk_swig_u16;

static qk_swig_buf qk_swig_buf_none(void) {
  qk_swig_buf b;
  memset(&b, 0, sizeof b);
  return b;
}
/* Allocates nbytes (at least 1, so data is never NULL on success) for an array of `dtype` and
 * `shape`. Returns 0 on success; on failure records QK_ERR_OUT_OF_MEMORY. */
static int qk_swig_buf_alloc(qk_swig_buf* b, qk_dtype dtype, size_t nbytes, const int64_t* shape, size_t rank) {
  size_t i;
  memset(b, 0, sizeof *b);
  if (rank > QK_MAX_RANK) {
    qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "rank %zu above %d", rank, QK_MAX_RANK);
    return 1;
  }
  b->data = malloc(nbytes ? nbytes : 1);
  if (b->data == NULL) {
    qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for the result", nbytes);
    return 1;
  }
  b->nbytes = nbytes;
  b->dtype = dtype;
  b->rank = rank;
  for (i = 0; i < rank; i++) b->shape[i] = shape[i];
  return 0;
}
static void qk_swig_buf_free(qk_swig_buf* b) {
  free(b->data);
  b->data = NULL;
}

/* ---- argument checks the C ABI cannot make (it never sees the language array's length) ---- */
/* Element count of `shape`, which must equal `have` (the array's length). */
static int qk_swig_tensor(const char* fn, const char* what, const void* data, size_t have, const int64_t* shape,
                          size_t rank, uint64_t* count_out) {
  uint64_t n = 0;
  if (data == NULL) {
    qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "%s: %s is null", fn, what);
    return 1;
  }
  if (qk_swig_check(qk_shape_element_count(shape, rank, &n))) return 1;
  if (n != (uint64_t)have) {
    qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "%s: %s has %zu elements but its shape holds %llu", fn, what, have,
                 (unsigned long long)n);
    return 1;
  }
  *count_out = n;
  return 0;
}
static int qk_swig_len(const char* fn, const char* what, const void* data, size_t have, size_t want) {
  if (data == NULL) {
    qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "%s: %s is null", fn, what);
    return 1;
  }
  if (have != want) {
    qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "%s: %s has %zu elements, expected %zu", fn, what, have, want);
    return 1;
  }
  return 0;
}
static int qk_swig_elem_size(qk_dtype dt, size_t* size_out) {
  switch (dt) {
    case QK_DTYPE_S8: case QK_DTYPE_U8: *size_out = 1; return 0;
    case QK_DTYPE_S32: case QK_DTYPE_F32: *size_out = 4; return 0;
    case QK_DTYPE_F16: case QK_DTYPE_BF16: *size_out = 2; return 0;
    default: return 1;
  }
}

/* ---- operator wrappers: the C handles plus the sizes a run call needs to allocate ---------- */
typedef struct qk_swig_qlinear {
  qk_qlinear* op;
  int64_t n, k;
  qk_dtype in_dtype, out_dtype; /* out: U8/S8 (quantized), S32 or F32 */
} qk_swig_qlinear;
typedef struct qk_swig_dynamic_linear {
  qk_dynamic_linear* op;
  int64_t n, k;
} qk_swig_dynamic_linear;
typedef struct qk_swig_qconv2d {
  qk_qconv2d* op;
  int64_t in_channels, out_channels;
  qk_dtype in_dtype, out_dtype;
} qk_swig_qconv2d;
/* Shared by the three QLinear run methods: input [..., k] of in_dtype -> output [..., n]. */
static qk_swig_buf qk_swig_qlinear_run(const qk_swig_qlinear* self, const char* fn, qk_dtype want_out,
                                       const void* bytes, size_t bytes_len, const int64_t* shape, size_t rank,
                                       qk_threadpool* pool) {
  qk_swig_buf b = qk_swig_buf_none();
  int64_t out_shape[QK_MAX_RANK];
  uint64_t count;
  size_t esize = 0, i;
  int64_t m;
  if (self == NULL) {
    qk_swig_fail(QK_SWIG_CLOSED, "%s: the QLinear is closed", fn);
    return b;
  }
  if (want_out != QK_DTYPE_U8 && want_out != self->out_dtype &&
      !(want_out == QK_DTYPE_S8 && self->out_dtype == QK_DTYPE_U8)) {
    qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "%s: this operator writes %s", fn, qk_dtype_name(self->out_dtype));
    return b;
  }
  if (qk_swig_tensor(fn, "input", bytes, bytes_len, shape, rank, &count)) return b;
  if (rank < 1 || shape[rank - 1] != self->k) {
    qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "%s: input must have shape [..., k=%lld]", fn, (long long)self->k);
    return b;
  }
  m = self->k ? (int64_t)(count / (uint64_t)self->k) : 0;
  for (i = 0; i + 1 < rank; i++) out_shape[i] = shape[i];
  out_shape[rank - 1] = self->n;
  qk_swig_elem_size(self->out_dtype, &esize);
  if (qk_swig_buf_alloc(&b, self->out_dtype, (size_t)m * (size_t)self->n * esize, out_shape, rank)) return b;
  if (qk_swig_check(qk_qlinear_run(self->op, m, bytes, self->k, bytes_len, b.data, self->n, b.nbytes, pool)))
    qk_swig_buf_free(&b);
  return b;
}
%}


%include <stdint.i>

/* Returned-array types: opaque to SWIG (no wrapper class), converted by the language typemaps. */
typedef struct qk_swig_buf qk_swig_f32;
typedef struct qk_swig_buf qk_swig_bytes;
typedef struct qk_swig_buf qk_swig_s32;
typedef struct qk_swig_buf qk_swig_u16;

/* ===================================================================================== */
/* Part 2: the language's exception mapping and array typemaps (before any declaration).   */
/* ===================================================================================== */
#if defined(SWIGPYTHON)
%include "python/quantkit_python.i"
#elif defined(SWIGJAVA)
%include "java/quantkit_java.i"
#elif defined(SWIGCSHARP)
%include "csharp/quantkit_csharp.i"
#else
#error "QuantKit bindings exist for Python, Java and C#"
#endif

/* Aliases: every pattern with the same C types shares the language's typemaps. */
%apply (const float* f32, size_t f32_len) { (const float* f32b, size_t f32b_len) };
%apply (const int64_t* dims, size_t ndims) { (const int64_t* dims_b, size_t ndims_b),
                                               (const int64_t* dims_c, size_t ndims_c) };

/* ===================================================================================== */
/* Part 3: handles as classes                                                             */
/* ===================================================================================== */
%rename(QuantSpec) qk_quant_spec;
%rename(QParams) qk_qparams;
%rename(Observer) qk_observer;
%rename(ThreadPool) qk_threadpool;
%rename(PackedWeights) qk_packed_weights;
%rename(QLinear) qk_swig_qlinear;
%rename(DynamicLinear) qk_swig_dynamic_linear;
%rename(QConv2d) qk_swig_qconv2d;

/* Handles are made by their constructors and factories only. */
%nodefaultctor;
/* Factories and methods returning a new handle give the caller ownership. */
%newobject qk_quant_spec::_clone;
%newobject qk_qparams::_create;
%newobject qk_qparams::_compute;
%newobject qk_qparams::_from_tensor;
%newobject qk_observer::_compute_qparams;
%newobject qk_observer::_load;

typedef struct qk_quant_spec {} qk_quant_spec;
typedef struct qk_qparams {} qk_qparams;
typedef struct qk_observer {} qk_observer;
typedef struct qk_threadpool {} qk_threadpool;
typedef struct qk_packed_weights {} qk_packed_weights;
typedef struct qk_swig_qlinear {} qk_swig_qlinear;
typedef struct qk_swig_dynamic_linear {} qk_swig_dynamic_linear;
typedef struct qk_swig_qconv2d {} qk_swig_qconv2d;

/* ---- QuantSpec --------------------------------------------------------------------- */
%extend qk_quant_spec {
  qk_quant_spec(qk_dtype dtype, qk_qscheme scheme) {
    qk_quant_spec* s = NULL;
    QK_CHECK(qk_quant_spec_create(dtype, scheme, &s), NULL);
    return s;
  }
  ~qk_quant_spec() { qk_quant_spec_destroy(self); }
  qk_quant_spec* _clone() {
    qk_quant_spec* s = NULL;
    QK_SELF("QuantSpec", NULL);
    QK_CHECK(qk_quant_spec_clone(self, &s), NULL);
    return s;
  }
  void _set_range(int32_t quant_min, int32_t quant_max) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_range(self, quant_min, quant_max), );
  }
  void _set_reduce_range(bool enabled) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_reduce_range(self, enabled ? 1 : 0), );
  }
  void _set_eps(float eps) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_eps(self, eps), );
  }
  void _set_axis(int32_t axis) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_axis(self, axis), );
  }
  void _set_group_size(int64_t group_size) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_group_size(self, group_size), );
  }
  void _set_convention(qk_convention convention) {
    QK_SELF("QuantSpec", );
    QK_CHECK(qk_quant_spec_set_convention(self, convention), );
  }
  qk_dtype _get_dtype() {
    qk_dtype v = QK_DTYPE_F32;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_dtype(self, &v), v);
    return v;
  }
  qk_qscheme _get_scheme() {
    qk_qscheme v = QK_QSCHEME_PER_TENSOR_AFFINE;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_scheme(self, &v), v);
    return v;
  }
  int32_t _get_axis() {
    int32_t v = 0;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_axis(self, &v), v);
    return v;
  }
  int64_t _get_group_size() {
    int64_t v = 0;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_group_size(self, &v), v);
    return v;
  }
  float _get_eps() {
    float v = 0;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_eps(self, &v), v);
    return v;
  }
  qk_convention _get_convention() {
    qk_convention v = QK_CONVENTION_PYTORCH;
    QK_SELF("QuantSpec", v);
    QK_CHECK(qk_quant_spec_get_convention(self, &v), v);
    return v;
  }
  /* The effective range (custom or dtype range, after reduce_range and the convention). */
  int32_t _get_quant_min() {
    int32_t lo = 0, hi = 0;
    QK_SELF("QuantSpec", 0);
    QK_CHECK(qk_quant_spec_get_effective_range(self, &lo, &hi), 0);
    return lo;
  }
  int32_t _get_quant_max() {
    int32_t lo = 0, hi = 0;
    QK_SELF("QuantSpec", 0);
    QK_CHECK(qk_quant_spec_get_effective_range(self, &lo, &hi), 0);
    return hi;
  }
}

/* ---- QParams ----------------------------------------------------------------------- */
%extend qk_qparams {
  ~qk_qparams() { qk_qparams_destroy(self); }

  /* From known values. zero_points (integer schemes) or float_zero_points (float-qparams
   * scheme) must have as many entries as scales; the other may be empty/null. */
  static qk_qparams* _create(qk_dtype dtype, qk_qscheme scheme, int32_t axis, int64_t group_size,
                             const float* f32, size_t f32_len, const int32_t* s32, size_t s32_len,
                             const float* f32b, size_t f32b_len, int32_t quant_min, int32_t quant_max) {
    qk_qparams* q = NULL;
    if (f32 == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QParams.create: scales is null");
      return NULL;
    }
    if (s32 != NULL && s32_len != f32_len) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QParams.create: %zu zero points for %zu scales", s32_len, f32_len);
      return NULL;
    }
    if (f32b != NULL && f32b_len != f32_len) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QParams.create: %zu float zero points for %zu scales", f32b_len,
                   f32_len);
      return NULL;
    }
    QK_CHECK(qk_qparams_create(dtype, scheme, axis, group_size, f32, s32, f32b, f32_len, quant_min, quant_max, &q),
             NULL);
    return q;
  }
  /* From observed ranges: one (min, max) per channel/group, or one for per-tensor specs. */
  static qk_qparams* _compute(const qk_quant_spec* spec, const float* f32, size_t f32_len, const float* f32b,
                              size_t f32b_len) {
    qk_qparams* q = NULL;
    if (qk_swig_len("QParams.compute", "max_vals", f32b, f32b_len, f32_len)) return NULL;
    QK_CHECK(qk_qparams_compute(spec, f32, f32b, f32_len, &q), NULL);
    return q;
  }
  /* From a tensor's own min/max (per tensor, per channel along the spec's axis, or per group). */
  static qk_qparams* _from_tensor(const qk_quant_spec* spec, const float* f32, size_t f32_len,
                                  const int64_t* shape, size_t rank) {
    qk_qparams* q = NULL;
    uint64_t n;
    if (qk_swig_tensor("QParams.from_tensor", "x", f32, f32_len, shape, rank, &n)) return NULL;
    QK_CHECK(qk_qparams_from_tensor(spec, f32, shape, rank, &q, NULL), NULL);
    return q;
  }
  qk_dtype _get_dtype() {
    qk_dtype v = QK_DTYPE_F32;
    QK_SELF("QParams", v);
    QK_CHECK(qk_qparams_get_dtype(self, &v), v);
    return v;
  }
  qk_qscheme _get_scheme() {
    qk_qscheme v = QK_QSCHEME_PER_TENSOR_AFFINE;
    QK_SELF("QParams", v);
    QK_CHECK(qk_qparams_get_scheme(self, &v), v);
    return v;
  }
  size_t _get_count() {
    size_t v = 0;
    QK_SELF("QParams", v);
    QK_CHECK(qk_qparams_get_count(self, &v), v);
    return v;
  }
  int32_t _get_axis() {
    int32_t v = 0;
    QK_SELF("QParams", v);
    QK_CHECK(qk_qparams_get_axis(self, &v), v);
    return v;
  }
  int64_t _get_group_size() {
    int64_t v = 0;
    QK_SELF("QParams", v);
    QK_CHECK(qk_qparams_get_group_size(self, &v), v);
    return v;
  }
  int32_t _get_quant_min() {
    int32_t lo = 0, hi = 0;
    QK_SELF("QParams", 0);
    QK_CHECK(qk_qparams_get_range(self, &lo, &hi), 0);
    return lo;
  }
  int32_t _get_quant_max() {
    int32_t lo = 0, hi = 0;
    QK_SELF("QParams", 0);
    QK_CHECK(qk_qparams_get_range(self, &lo, &hi), 0);
    return hi;
  }
  qk_swig_f32 _get_scales() {
    qk_swig_buf b = qk_swig_buf_none();
    size_t n = 0;
    int64_t dim;
    QK_SELF("QParams", b);
    QK_CHECK(qk_qparams_get_count(self, &n), b);
    dim = (int64_t)n;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, n * sizeof(float), &dim, 1)) return b;
    if (qk_swig_check(qk_qparams_get_scales(self, (float*)b.data, n))) qk_swig_buf_free(&b);
    return b;
  }
  qk_swig_s32 _get_zero_points() {
    qk_swig_buf b = qk_swig_buf_none();
    size_t n = 0;
    int64_t dim;
    QK_SELF("QParams", b);
    QK_CHECK(qk_qparams_get_count(self, &n), b);
    dim = (int64_t)n;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_S32, n * sizeof(int32_t), &dim, 1)) return b;
    if (qk_swig_check(qk_qparams_get_zero_points(self, (int32_t*)b.data, n))) qk_swig_buf_free(&b);
    return b;
  }
  qk_swig_f32 _get_float_zero_points() {
    qk_swig_buf b = qk_swig_buf_none();
    size_t n = 0;
    int64_t dim;
    QK_SELF("QParams", b);
    QK_CHECK(qk_qparams_get_count(self, &n), b);
    dim = (int64_t)n;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, n * sizeof(float), &dim, 1)) return b;
    if (qk_swig_check(qk_qparams_get_float_zero_points(self, (float*)b.data, n))) qk_swig_buf_free(&b);
    return b;
  }

  /* f32 tensor -> quantized codes (dtype of the qparams). 8-bit and s32 codes keep the shape;
   * 4-bit codes come back packed, two per byte, as a flat byte array. */
  qk_swig_bytes _quantize(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    qk_swig_buf b = qk_swig_buf_none();
    qk_dtype dt = QK_DTYPE_F32;
    uint64_t n;
    size_t bytes = 0;
    QK_SELF("QParams", b);
    if (qk_swig_tensor("QParams.quantize", "x", f32, f32_len, shape, rank, &n)) return b;
    QK_CHECK(qk_qparams_get_dtype(self, &dt), b);
    QK_CHECK(qk_dtype_storage_size(dt, n, &bytes), b);
    if (dt == QK_DTYPE_S4 || dt == QK_DTYPE_U4) {
      int64_t flat = (int64_t)bytes;
      if (qk_swig_buf_alloc(&b, QK_DTYPE_U8, bytes, &flat, 1)) return b;
    } else {
      if (qk_swig_buf_alloc(&b, dt, bytes, shape, rank)) return b;
    }
    if (qk_swig_check(qk_quantize(self, f32, shape, rank, b.data, bytes, NULL))) qk_swig_buf_free(&b);
    return b;
  }
  /* Quantized codes (raw bytes: 8-bit, packed 4-bit or s32) of logical shape `dims` -> f32. */
  qk_swig_f32 _dequantize(const void* raw, size_t raw_len, const int64_t* dims, size_t ndims) {
    qk_swig_buf b = qk_swig_buf_none();
    uint64_t n = 0;
    QK_SELF("QParams", b);
    if (raw == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QParams.dequantize: q is null");
      return b;
    }
    QK_CHECK(qk_shape_element_count(dims, ndims, &n), b);
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)n * sizeof(float), dims, ndims)) return b;
    if (qk_swig_check(qk_dequantize(self, raw, raw_len, dims, ndims, (float*)b.data))) qk_swig_buf_free(&b);
    return b;
  }
  /* Fake quantization forward (torch.fake_quantize_per_{tensor,channel}_affine). */
  qk_swig_f32 _fake_quantize(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    qk_swig_buf b = qk_swig_buf_none();
    uint64_t n;
    QK_SELF("QParams", b);
    if (qk_swig_tensor("QParams.fake_quantize", "x", f32, f32_len, shape, rank, &n)) return b;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)n * sizeof(float), shape, rank)) return b;
    if (qk_swig_check(qk_fake_quantize(self, f32, shape, rank, (float*)b.data, NULL))) qk_swig_buf_free(&b);
    return b;
  }
  /* The straight-through mask of fake_quantize: 1 where x quantizes inside the range, else 0. */
  qk_swig_bytes _fake_quantize_mask(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    qk_swig_buf b = qk_swig_buf_none();
    float* y;
    uint64_t n;
    QK_SELF("QParams", b);
    if (qk_swig_tensor("QParams.fake_quantize_mask", "x", f32, f32_len, shape, rank, &n)) return b;
    y = (float*)malloc(n ? (size_t)n * sizeof(float) : 1);
    if (y == NULL) {
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "QParams.fake_quantize_mask: out of memory");
      return b;
    }
    if (qk_swig_buf_alloc(&b, QK_DTYPE_U8, (size_t)n, shape, rank) == 0 &&
        qk_swig_check(qk_fake_quantize(self, f32, shape, rank, y, (uint8_t*)b.data)))
      qk_swig_buf_free(&b);
    free(y);
    return b;
  }
  /* Straight-through backward: grad_x = grad_y where x quantizes inside the range, else 0. */
  qk_swig_f32 _fake_quantize_backward(const float* f32, size_t f32_len, const int64_t* shape, size_t rank,
                                      const float* f32b, size_t f32b_len) {
    qk_swig_buf b = qk_swig_buf_none();
    uint64_t n;
    QK_SELF("QParams", b);
    if (qk_swig_tensor("QParams.fake_quantize_backward", "x", f32, f32_len, shape, rank, &n)) return b;
    if (qk_swig_len("QParams.fake_quantize_backward", "grad_y", f32b, f32b_len, (size_t)n)) return b;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)n * sizeof(float), shape, rank)) return b;
    if (qk_swig_check(qk_fake_quantize_backward(self, f32, f32b, shape, rank, (float*)b.data)))
      qk_swig_buf_free(&b);
    return b;
  }
}

/* ---- Observer ---------------------------------------------------------------------- */
%extend qk_observer {
  qk_observer(qk_observer_kind kind, const qk_quant_spec* spec) {
    qk_observer* o = NULL;
    QK_CHECK(qk_observer_create(kind, spec, &o), NULL);
    return o;
  }
  ~qk_observer() { qk_observer_destroy(self); }
  qk_observer_kind _get_kind() {
    qk_observer_kind v = QK_OBSERVER_MINMAX;
    QK_SELF("Observer", v);
    QK_CHECK(qk_observer_get_kind(self, &v), v);
    return v;
  }
  void _set_param(qk_observer_param param, double value) {
    QK_SELF("Observer", );
    QK_CHECK(qk_observer_set_param(self, param, value), );
  }
  double _get_param(qk_observer_param param) {
    double v = 0;
    QK_SELF("Observer", v);
    QK_CHECK(qk_observer_get_param(self, param, &v), v);
    return v;
  }
  /* Records a batch; non-finite values are skipped and counted. */
  void _update(const float* f32, size_t f32_len, const int64_t* shape, size_t rank) {
    uint64_t n;
    QK_SELF("Observer", );
    if (qk_swig_tensor("Observer.update", "x", f32, f32_len, shape, rank, &n)) return;
    QK_CHECK(qk_observer_update(self, f32, shape, rank), );
  }
  qk_qparams* _compute_qparams() {
    qk_qparams* q = NULL;
    QK_SELF("Observer", NULL);
    QK_CHECK(qk_observer_compute_qparams(self, &q), NULL);
    return q;
  }
  size_t _get_channel_count() {
    size_t v = 0;
    QK_SELF("Observer", v);
    QK_CHECK(qk_observer_get_channel_count(self, &v), v);
    return v;
  }
  uint64_t _get_nonfinite_count() {
    uint64_t v = 0;
    QK_SELF("Observer", v);
    QK_CHECK(qk_observer_get_nonfinite_count(self, &v), v);
    return v;
  }
  /* The observed (histogram kinds: chosen) range, one value per channel. which: 0 min, 1 max. */
  qk_swig_f32 _range(int which) {
    qk_swig_buf b = qk_swig_buf_none();
    size_t n = 0;
    int64_t dim;
    float *lo, *hi;
    QK_SELF("Observer", b);
    QK_CHECK(qk_observer_get_channel_count(self, &n), b);
    if (n == 0) n = 1; /* nothing seen yet: get_range reports QK_ERR_STATE */
    lo = (float*)malloc(2 * n * sizeof(float));
    if (lo == NULL) {
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "Observer.range: out of memory");
      return b;
    }
    hi = lo + n;
    dim = (int64_t)n;
    if (!qk_swig_check(qk_observer_get_range(self, lo, hi, n)) &&
        !qk_swig_buf_alloc(&b, QK_DTYPE_F32, n * sizeof(float), &dim, 1))
      memcpy(b.data, which ? hi : lo, n * sizeof(float));
    free(lo);
    return b;
  }
  qk_swig_f32 _get_min_vals() { return qk_observer__range(self, 0); }
  qk_swig_f32 _get_max_vals() { return qk_observer__range(self, 1); }
  void _reset() {
    QK_SELF("Observer", );
    QK_CHECK(qk_observer_reset(self), );
  }
  /* Folds other's statistics into this observer (same kind, spec and options). */
  void _merge(const qk_observer* other) {
    QK_SELF("Observer", );
    if (other == NULL) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "Observer.merge: other is null or closed");
      return;
    }
    QK_CHECK(qk_observer_merge(self, other), );
  }
  /* Versioned, checksummed state (docs/OBSERVER_STATE.md). */
  qk_swig_bytes _save() {
    qk_swig_buf b = qk_swig_buf_none();
    size_t size = 0;
    int64_t dim;
    QK_SELF("Observer", b);
    QK_CHECK(qk_observer_save(self, NULL, 0, &size), b);
    dim = (int64_t)size;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_U8, size, &dim, 1)) return b;
    if (qk_swig_check(qk_observer_save(self, b.data, size, &size))) qk_swig_buf_free(&b);
    return b;
  }
  static qk_observer* _load(const void* raw, size_t raw_len) {
    qk_observer* o = NULL;
    QK_CHECK(qk_observer_load(raw, raw_len, &o), NULL);
    return o;
  }
}

/* ---- ThreadPool -------------------------------------------------------------------- */
%extend qk_threadpool {
  /* thread_count: total threads including the caller; 0 = one per online core. */
  qk_threadpool(size_t thread_count) {
    qk_threadpool* p = NULL;
    QK_CHECK(qk_threadpool_create(thread_count, &p), NULL);
    return p;
  }
  ~qk_threadpool() { qk_threadpool_destroy(self); }
  size_t _get_thread_count() {
    size_t v = 0;
    QK_SELF("ThreadPool", v);
    QK_CHECK(qk_threadpool_get_thread_count(self, &v), v);
    return v;
  }
}

/* ---- PackedWeights ----------------------------------------------------------------- */
%extend qk_packed_weights {
  /* weights: s8 [n, k]; bias: none or n floats (quantized with the input scale later). */
  qk_packed_weights(const int8_t* s8, size_t s8_len, const int64_t* shape, size_t rank,
                    const qk_qparams* weight_qparams, const float* opt_f32, size_t opt_f32_len) {
    qk_packed_weights* w = NULL;
    uint64_t n;
    if (qk_swig_tensor("PackedWeights", "weights", s8, s8_len, shape, rank, &n)) return NULL;
    if (rank != 2) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "PackedWeights: weights must be 2-D [n, k], got rank %zu", rank);
      return NULL;
    }
    if (opt_f32 != NULL && opt_f32_len != (size_t)shape[0]) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "PackedWeights: bias has %zu values, expected n = %lld", opt_f32_len,
                   (long long)shape[0]);
      return NULL;
    }
    QK_CHECK(qk_packed_weights_create(s8, shape[0], shape[1], shape[1], weight_qparams, opt_f32, QK_DTYPE_F32, &w),
             NULL);
    return w;
  }
  ~qk_packed_weights() { qk_packed_weights_destroy(self); }
  int64_t _get_n() {
    int64_t n = 0, k = 0;
    QK_SELF("PackedWeights", 0);
    QK_CHECK(qk_packed_weights_get_shape(self, &n, &k), 0);
    return n;
  }
  int64_t _get_k() {
    int64_t n = 0, k = 0;
    QK_SELF("PackedWeights", 0);
    QK_CHECK(qk_packed_weights_get_shape(self, &n, &k), 0);
    return k;
  }
  /* Kernel path the weights were packed for ("avx2", "scalar", ...). */
  const char* _get_isa() {
    const char* isa = "";
    QK_SELF("PackedWeights", "");
    QK_CHECK(qk_packed_weights_get_isa(self, &isa), "");
    return isa;
  }
}


/* ---- QLinear ----------------------------------------------------------------------- */
%extend qk_swig_qlinear {
  /* output_qparams: per-tensor U8/S8 for QUANTIZED output, null for S32/F32.
   * output_min/max: real clamp (-inf/inf for none; S32 must use -inf/inf). */
  qk_swig_qlinear(const qk_packed_weights* weights, const qk_qparams* input_qparams, qk_output_kind output_kind,
                  const qk_qparams* output_qparams = NULL, float output_min = -INFINITY,
                  float output_max = INFINITY, qk_requant_mode mode = QK_REQUANT_FLOAT) {
    qk_swig_qlinear* s;
    qk_qlinear* op = NULL;
    int64_t n = 0, k = 0;
    qk_dtype in_dt = QK_DTYPE_U8, out_dt = QK_DTYPE_F32;
    QK_CHECK(qk_qlinear_create(weights, input_qparams, output_kind, output_qparams, output_min, output_max, mode, &op),
             NULL);
    if (qk_swig_check(qk_packed_weights_get_shape(weights, &n, &k)) ||
        qk_swig_check(qk_qparams_get_dtype(input_qparams, &in_dt)) ||
        (output_kind == QK_OUTPUT_QUANTIZED && qk_swig_check(qk_qparams_get_dtype(output_qparams, &out_dt)))) {
      qk_qlinear_destroy(op);
      return NULL;
    }
    if (output_kind == QK_OUTPUT_S32) out_dt = QK_DTYPE_S32;
    if (output_kind == QK_OUTPUT_F32) out_dt = QK_DTYPE_F32;
    s = (qk_swig_qlinear*)calloc(1, sizeof *s);
    if (s == NULL) {
      qk_qlinear_destroy(op);
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "QLinear: out of memory");
      return NULL;
    }
    s->op = op;
    s->n = n;
    s->k = k;
    s->in_dtype = in_dt;
    s->out_dtype = out_dt;
    return s;
  }
  ~qk_swig_qlinear() {
    if (self) qk_qlinear_destroy(self->op);
    free(self);
  }
  int64_t _get_n() { QK_SELF("QLinear", 0); return self->n; }
  int64_t _get_k() { QK_SELF("QLinear", 0); return self->k; }
  qk_dtype _get_input_dtype() { QK_SELF("QLinear", QK_DTYPE_U8); return self->in_dtype; }
  qk_dtype _get_output_dtype() { QK_SELF("QLinear", QK_DTYPE_F32); return self->out_dtype; }
  /* Any output kind as raw bytes (Python: an array of the output dtype). */
  qk_swig_bytes _run(const void* bytes, size_t bytes_len, const int64_t* shape, size_t rank,
                     qk_threadpool* pool = NULL) {
    return qk_swig_qlinear_run(self, "QLinear.run", QK_DTYPE_U8, bytes, bytes_len, shape, rank, pool);
  }
  qk_swig_s32 _run_s32(const void* bytes, size_t bytes_len, const int64_t* shape, size_t rank,
                       qk_threadpool* pool = NULL) {
    return qk_swig_qlinear_run(self, "QLinear.run_s32", QK_DTYPE_S32, bytes, bytes_len, shape, rank, pool);
  }
  qk_swig_f32 _run_f32(const void* bytes, size_t bytes_len, const int64_t* shape, size_t rank,
                       qk_threadpool* pool = NULL) {
    return qk_swig_qlinear_run(self, "QLinear.run_f32", QK_DTYPE_F32, bytes, bytes_len, shape, rank, pool);
  }
}

/* ---- DynamicLinear ----------------------------------------------------------------- */
%extend qk_swig_dynamic_linear {
  /* activation_dtype: U8 or S8; per_row: per-row (true) or per-tensor activation qparams. */
  qk_swig_dynamic_linear(const qk_packed_weights* weights, qk_dtype activation_dtype, bool per_row) {
    qk_swig_dynamic_linear* s;
    qk_dynamic_linear* op = NULL;
    int64_t n = 0, k = 0;
    QK_CHECK(qk_dynamic_linear_create(weights, activation_dtype, per_row ? 1 : 0, &op), NULL);
    if (qk_swig_check(qk_packed_weights_get_shape(weights, &n, &k))) {
      qk_dynamic_linear_destroy(op);
      return NULL;
    }
    s = (qk_swig_dynamic_linear*)calloc(1, sizeof *s);
    if (s == NULL) {
      qk_dynamic_linear_destroy(op);
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "DynamicLinear: out of memory");
      return NULL;
    }
    s->op = op;
    s->n = n;
    s->k = k;
    return s;
  }
  ~qk_swig_dynamic_linear() {
    if (self) qk_dynamic_linear_destroy(self->op);
    free(self);
  }
  int64_t _get_n() { QK_SELF("DynamicLinear", 0); return self->n; }
  int64_t _get_k() { QK_SELF("DynamicLinear", 0); return self->k; }
  /* f32 input [..., k] -> f32 output [..., n]. */
  qk_swig_f32 _run(const float* f32, size_t f32_len, const int64_t* shape, size_t rank, qk_threadpool* pool = NULL) {
    qk_swig_buf b = qk_swig_buf_none();
    int64_t out_shape[QK_MAX_RANK];
    uint64_t count;
    size_t i;
    int64_t m;
    QK_SELF("DynamicLinear", b);
    if (qk_swig_tensor("DynamicLinear.run", "input", f32, f32_len, shape, rank, &count)) return b;
    if (rank < 1 || shape[rank - 1] != self->k) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "DynamicLinear.run: input must have shape [..., k=%lld]",
                   (long long)self->k);
      return b;
    }
    m = self->k ? (int64_t)(count / (uint64_t)self->k) : 0;
    for (i = 0; i + 1 < rank; i++) out_shape[i] = shape[i];
    out_shape[rank - 1] = self->n;
    if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)m * (size_t)self->n * sizeof(float), out_shape, rank)) return b;
    if (qk_swig_check(qk_dynamic_linear_run(self->op, m, f32, self->k, f32_len, (float*)b.data, self->n,
                                            (size_t)m * (size_t)self->n, pool)))
      qk_swig_buf_free(&b);
    return b;
  }
}

/* ---- QConv2d ----------------------------------------------------------------------- */
%extend qk_swig_qconv2d {
  /* weights: s8 OIHW [out, in/groups, kh, kw]; bias: none or out floats; stride {sh, sw};
   * padding {top, left, bottom, right}; dilation {dh, dw}. Input/output NHWC. */
  qk_swig_qconv2d(const int8_t* s8, size_t s8_len, const int64_t* shape, size_t rank,
                  const qk_qparams* weight_qparams, const float* opt_f32, size_t opt_f32_len,
                  const int64_t* dims, size_t ndims, const int64_t* dims_b, size_t ndims_b,
                  const int64_t* dims_c, size_t ndims_c, int64_t groups, const qk_qparams* input_qparams,
                  const qk_qparams* output_qparams, float output_min = -INFINITY, float output_max = INFINITY,
                  qk_requant_mode mode = QK_REQUANT_FLOAT) {
    qk_swig_qconv2d* s;
    qk_qconv2d* op = NULL;
    uint64_t n;
    qk_dtype in_dt = QK_DTYPE_U8, out_dt = QK_DTYPE_U8;
    if (qk_swig_tensor("QConv2d", "weights", s8, s8_len, shape, rank, &n)) return NULL;
    if (rank != 4) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QConv2d: weights must be 4-D OIHW, got rank %zu", rank);
      return NULL;
    }
    if (opt_f32 != NULL && opt_f32_len != (size_t)shape[0]) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QConv2d: bias has %zu values, expected %lld", opt_f32_len,
                   (long long)shape[0]);
      return NULL;
    }
    if (qk_swig_len("QConv2d", "stride", dims, ndims, 2) || qk_swig_len("QConv2d", "padding", dims_b, ndims_b, 4) ||
        qk_swig_len("QConv2d", "dilation", dims_c, ndims_c, 2))
      return NULL;
    QK_CHECK(qk_qconv2d_create(s8, shape, weight_qparams, opt_f32, dims, dims_b, dims_c, groups, input_qparams,
                               output_qparams, output_min, output_max, mode, &op),
             NULL);
    if (qk_swig_check(qk_qparams_get_dtype(input_qparams, &in_dt)) ||
        qk_swig_check(qk_qparams_get_dtype(output_qparams, &out_dt))) {
      qk_qconv2d_destroy(op);
      return NULL;
    }
    s = (qk_swig_qconv2d*)calloc(1, sizeof *s);
    if (s == NULL) {
      qk_qconv2d_destroy(op);
      qk_swig_fail(QK_ERR_OUT_OF_MEMORY, "QConv2d: out of memory");
      return NULL;
    }
    s->op = op;
    s->out_channels = shape[0];
    s->in_channels = shape[1] * groups;
    s->in_dtype = in_dt;
    s->out_dtype = out_dt;
    return s;
  }
  ~qk_swig_qconv2d() {
    if (self) qk_qconv2d_destroy(self->op);
    free(self);
  }
  int64_t _get_in_channels() { QK_SELF("QConv2d", 0); return self->in_channels; }
  int64_t _get_out_channels() { QK_SELF("QConv2d", 0); return self->out_channels; }
  /* Output spatial size for an in_h x in_w input: which 0 = height, 1 = width. */
  int64_t _output_dim(int64_t in_h, int64_t in_w, int which) {
    int64_t oh = 0, ow = 0;
    QK_SELF("QConv2d", 0);
    QK_CHECK(qk_qconv2d_output_size(self->op, in_h, in_w, &oh, &ow), 0);
    return which ? ow : oh;
  }
  /* NHWC input [batch, h, w, in_channels] -> NHWC output [batch, oh, ow, out_channels]. */
  qk_swig_bytes _run(const void* bytes, size_t bytes_len, const int64_t* shape, size_t rank,
                     qk_threadpool* pool = NULL) {
    qk_swig_buf b = qk_swig_buf_none();
    int64_t out_shape[4];
    uint64_t count;
    int64_t oh = 0, ow = 0;
    QK_SELF("QConv2d", b);
    if (qk_swig_tensor("QConv2d.run", "input", bytes, bytes_len, shape, rank, &count)) return b;
    if (rank != 4 || shape[3] != self->in_channels) {
      qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "QConv2d.run: input must be NHWC [batch, h, w, %lld]",
                   (long long)self->in_channels);
      return b;
    }
    QK_CHECK(qk_qconv2d_output_size(self->op, shape[1], shape[2], &oh, &ow), b);
    out_shape[0] = shape[0];
    out_shape[1] = oh;
    out_shape[2] = ow;
    out_shape[3] = self->out_channels;
    if (qk_swig_buf_alloc(&b, self->out_dtype, (size_t)(shape[0] * oh * ow * self->out_channels), out_shape, 4))
      return b;
    if (qk_swig_check(qk_qconv2d_run(self->op, shape[0], shape[1], shape[2], bytes, bytes_len, b.data, b.nbytes,
                                     pool)))
      qk_swig_buf_free(&b);
    return b;
  }
}

/* ---- module-level helpers ---------------------------------------------------------- */
%inline %{
/* f32 -> f16 or bf16 bits (round to nearest even). */
static qk_swig_u16 qkbind_cast_from_f32(const float* f32, size_t f32_len, const int64_t* shape, size_t rank,
                                       qk_dtype dst_dtype) {
  qk_swig_buf b = qk_swig_buf_none();
  uint64_t n;
  if (qk_swig_tensor("cast_from_f32", "x", f32, f32_len, shape, rank, &n)) return b;
  if (qk_swig_buf_alloc(&b, dst_dtype, (size_t)n * 2, shape, rank)) return b;
  if (qk_swig_check(qk_cast(f32, QK_DTYPE_F32, b.data, dst_dtype, (size_t)n))) qk_swig_buf_free(&b);
  return b;
}
/* f16 or bf16 bits -> f32 (exact). */
static qk_swig_f32 qkbind_cast_to_f32(const uint16_t* u16, size_t u16_len, const int64_t* shape, size_t rank,
                                     qk_dtype src_dtype) {
  qk_swig_buf b = qk_swig_buf_none();
  uint64_t n;
  if (qk_swig_tensor("cast_to_f32", "x", u16, u16_len, shape, rank, &n)) return b;
  if (qk_swig_buf_alloc(&b, QK_DTYPE_F32, (size_t)n * 4, shape, rank)) return b;
  if (qk_swig_check(qk_cast(u16, src_dtype, b.data, QK_DTYPE_F32, (size_t)n))) qk_swig_buf_free(&b);
  return b;
}
/* SQNR in dB of approx against reference (+inf when equal). */
static double qkbind_sqnr(const float* f32, size_t f32_len, const float* f32b, size_t f32b_len) {
  double sqnr = 0;
  if (qk_swig_len("sqnr", "approx", f32b, f32b_len, f32_len)) return 0;
  if (f32 == NULL) {
    qk_swig_fail(QK_ERR_INVALID_ARGUMENT, "sqnr: reference is null");
    return 0;
  }
  QK_CHECK(qk_error_stats(f32, f32b, f32_len, &sqnr, NULL, NULL), 0);
  return sqnr;
}
/* 1 if the named kernel path is built in and runs on this CPU. */
static bool qkbind_isa_supported(const char* name) {
  int s = 0;
  QK_CHECK(qk_isa_supported(name, &s), false);
  return s != 0;
}
%}

/* ===================================================================================== */
/* Part 4: the whole C API (enums, constants, flat functions).                            */
/* ===================================================================================== */
/* The *_MAX_ENUM markers are not values. */
%rename("$ignore", regexmatch$name="_MAX_ENUM$") "";
/* Functions declared in the header but absent from the built library (generated at build time;
 * empty unless the header runs ahead of src/). */
%include "quantkit_missing.i"
/* QK_API expands to a GCC attribute that SWIG's parser does not need to see. */
#define __attribute__(x)
%include <quantkit/quantkit.h>
