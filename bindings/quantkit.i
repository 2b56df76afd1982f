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
 *        (const float* f32, size_t f32_len)           float array  (also f32b; opt_f32 and
 *                                                       opt_f32b may be null/None)
 *        (const int64_t* shape, size_t rank)           a shape      (Python: the array's own shape)
 *        (const void* bytes, size_t bytes_len)         raw 8-bit array (u8/s8)
 *        (const int8_t* s8, size_t s8_len)             s8 array
 *        (const int32_t* s32, size_t s32_len)          int32 array
 *        (const uint16_t* u16, size_t u16_len)         f16/bf16 bits
 *        (const void* raw, size_t raw_len)             any bytes (serialized state)
 *        (const int64_t* dims, size_t ndims)           a list of int64 (also dims_b, dims_c, dims_d)
 *        qk_swig_f32 / qk_swig_bytes / qk_swig_s32 / qk_swig_u16   returned arrays
 *        qk_status (return)                             raises on failure (flat functions)
 *   3. Handles as classes: QuantSpec, QParams, Observer, ThreadPool, PackedWeights, QLinear,
 *      DynamicLinear, QConv2d, and for weight files and model graphs WeightWriter, Encoding (what
 *      an add call measured), WeightFile, TensorInfo (a copied table entry), Model, one file
 *      per family in classes/ (quant_params.i, operators.i, weight_file.i, model.i). Methods
 *      are written once there (names start with `_`, which each language file renames: Python
 *      snake_case, Java lowerCamelCase, C# PascalCase). A method
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
%apply (const float* opt_f32, size_t opt_f32_len) { (const float* opt_f32b, size_t opt_f32b_len) };
%apply (const int64_t* dims, size_t ndims) { (const int64_t* dims_b, size_t ndims_b),
                                               (const int64_t* dims_c, size_t ndims_c),
                                               (const int64_t* dims_d, size_t ndims_d) };

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

/* The classes, one file per family (each is read as if written here). */
%include "classes/quant_params.i"
%include "classes/operators.i"
%include "classes/weight_file.i"
%include "classes/model.i"
%include "classes/graph.i"


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
