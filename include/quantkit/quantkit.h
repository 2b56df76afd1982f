/* SPDX-License-Identifier: Apache-2.0 */
#ifndef QUANTKIT_QUANTKIT_H
#define QUANTKIT_QUANTKIT_H

/*
 * QuantKit: neural-network quantization behind a stable C ABI.
 * ==============================================================
 *
 * Introduction
 * ------------
 * QuantKit turns float32 tensors into int8/uint8/int4 (or fp16/bf16) tensors and back,
 * with numerics that reproduce PyTorch 1.13's torch.ao.quantization bit for bit
 * (and, on request, ONNX Runtime's or TFLite's conventions). The typical flow is:
 *
 *   1. describe the target      qk_quant_spec_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, &spec)
 *   2. observe data             qk_observer_create(QK_OBSERVER_HISTOGRAM, spec, &obs)
 *                               qk_observer_update(obs, data, shape, rank)   (as many batches as you like)
 *   3. compute qparams          qk_observer_compute_qparams(obs, &qparams)
 *   4. quantize / dequantize    qk_quantize(qparams, x, shape, rank, q, q_bytes, &nan_count)
 *                               qk_dequantize(qparams, q, q_bytes, shape, rank, y)
 *
 * plus fake-quantization with straight-through / LSQ gradients (for quantization-aware
 * training in another framework), exact batch-norm folding, and float16/bfloat16 casts.
 *
 * Conventions used by every function
 * ----------------------------------
 * - Every fallible function returns a qk_status. QK_OK is 0; the other values are stable
 *   and never renumbered. qk_last_error() returns a thread-local message with the detail.
 * - Outputs are written through trailing pointer parameters, and only on success: when a
 *   function returns an error, no output buffer or out-pointer has been touched.
 * - Handles are opaque. Every *_destroy() function accepts NULL.
 * - Tensors are dense, row-major (C order): a pointer, a shape array of `rank` int64
 *   dimensions (rank 0..QK_MAX_RANK; rank 0 is a scalar), and for packed or typed buffers
 *   an explicit byte length. Element counts are overflow-checked. A dimension may be 0
 *   (an empty tensor) unless a function says otherwise.
 * - Axes are in [-rank, rank); negative axes count from the end, as in PyTorch.
 * - NaN policy: observers skip non-finite values and count them; quantize maps NaN to the
 *   zero point and reports how many it saw; +-Inf saturate to quant_max/quant_min.
 * - Thread-safety: functions that take a handle need exclusive use of that handle for
 *   the duration of the call (one thread at a time per handle); different handles may be
 *   used from different threads concurrently. Handles passed as `const` are read-only and
 *   may be shared between threads. qk_set_isa() is global: call it before other threads use
 *   the library.
 * - The library never aborts, never lets a C++ exception escape and never prints.
 * - Every enum ends with a *_MAX_ENUM = 0x7FFFFFFF marker (not a valid value): it pins the enum
 *   to 32 bits and makes any int a well-defined (if invalid, hence rejected) argument value.
 */

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(QK_BUILDING)
#    define QK_API __declspec(dllexport)
#  elif defined(QK_SHARED)
#    define QK_API __declspec(dllimport)
#  else
#    define QK_API
#  endif
#else
#  define QK_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ===================================================================================== */
/** @defgroup version Version                                                            */
/* ===================================================================================== */

#define QK_VERSION_MAJOR 0
#define QK_VERSION_MINOR 1
#define QK_VERSION_PATCH 0
/** Single number for comparisons: MAJOR*10000 + MINOR*100 + PATCH. */
#define QK_VERSION_NUMBER (QK_VERSION_MAJOR * 10000 + QK_VERSION_MINOR * 100 + QK_VERSION_PATCH)
/** ABI number: the shared library's SONAME is libquantkit.so.QK_ABI_VERSION. It changes only
 *  when a symbol is removed or its signature or meaning changes (never for additions). */
#define QK_ABI_VERSION 1

/** @return QK_VERSION_NUMBER of the library actually loaded (compare with the macro). */
QK_API uint32_t qk_version_number(void);
/** @return "MAJOR.MINOR.PATCH" of the library actually loaded; static, never NULL. */
QK_API const char* qk_version_string(void);
/** @return QK_ABI_VERSION the library was built with. */
QK_API uint32_t qk_abi_version(void);

/** Largest tensor rank accepted anywhere in the API. */
#define QK_MAX_RANK 8
/** @return QK_MAX_RANK (for languages that cannot see macros). */
QK_API size_t qk_max_rank(void);

/* ===================================================================================== */
/** @defgroup errors Status codes and error messages                                      */
/* ===================================================================================== */

/** Status returned by every fallible function. Values are ABI: never renumbered or reused. */
typedef enum qk_status {
  QK_OK = 0,
  QK_ERR_INVALID_ARGUMENT = 1, /**< NULL pointer, bad size/shape/axis/enum, overflowing count */
  QK_ERR_OUT_OF_MEMORY = 2,    /**< an allocation failed; nothing was changed */
  QK_ERR_UNSUPPORTED = 3,      /**< valid request this build or CPU cannot serve (e.g. forced ISA) */
  QK_ERR_STATE = 4,            /**< the handle is in the wrong state (e.g. observer saw no data) */
  QK_ERR_CORRUPT = 5,          /**< serialized data is truncated, damaged or of another version */
  QK_ERR_IO = 6,               /**< a file could not be read or written */
  QK_ERR_BUFFER_TOO_SMALL = 7, /**< an output buffer is too small; the needed size is reported */
  QK_ERR_NOT_FOUND = 8,        /**< a name or key looked up does not exist (weight file, model) */
  QK_ERR_INTERNAL = 99,        /**< a bug in QuantKit: please report it with qk_last_error() */
  QK_STATUS_MAX_ENUM = 0x7FFFFFFF /**< not a status: keeps the enum 32-bit */
} qk_status;

/** @return a static English name for a status ("QK_ERR_INVALID_ARGUMENT"); never NULL,
 *  "QK_ERR_UNKNOWN" for values this version does not know. */
QK_API const char* qk_status_string(qk_status status);

/** @return the detail message of the last failed call on this thread ("" if none).
 *  The pointer stays valid until the next QuantKit call on the same thread. Successful
 *  calls do not clear it. */
QK_API const char* qk_last_error(void);

/** Clears this thread's last error message. */
QK_API void qk_clear_error(void);

/* ===================================================================================== */
/** @defgroup dtypes Element types                                                         */
/* ===================================================================================== */

/** Element types. Values are ABI. */
typedef enum qk_dtype {
  QK_DTYPE_F32 = 1,  /**< IEEE binary32 */
  QK_DTYPE_F16 = 2,  /**< IEEE binary16 (stored as uint16_t) */
  QK_DTYPE_BF16 = 3, /**< bfloat16: the top 16 bits of a binary32 (stored as uint16_t) */
  QK_DTYPE_S8 = 4,   /**< int8_t */
  QK_DTYPE_U8 = 5,   /**< uint8_t */
  QK_DTYPE_S4 = 6,   /**< signed 4-bit, two per byte, element 2i in the low nibble */
  QK_DTYPE_U4 = 7,   /**< unsigned 4-bit, two per byte, element 2i in the low nibble */
  QK_DTYPE_S32 = 8,  /**< int32_t */
  /** int64_t: storage only. The weight file keeps int64 tensors (e.g. PyTorch's
   *  num_batches_tracked) exactly; every other function rejects it as an invalid dtype. */
  QK_DTYPE_S64 = 9,
  QK_DTYPE_MAX_ENUM = 0x7FFFFFFF /**< not a dtype: keeps the enum 32-bit */
} qk_dtype;

/** @return a static name ("f32", "s8", ...) or "unknown"; never NULL. */
QK_API const char* qk_dtype_name(qk_dtype dtype);

/** Bytes needed to store `count` elements of `dtype` (4-bit types: ceil(count/2)).
 *  @return QK_OK, QK_ERR_INVALID_ARGUMENT (bad dtype, NULL out, overflow). */
QK_API qk_status qk_dtype_storage_size(qk_dtype dtype, uint64_t count, size_t* bytes_out);

/** Overflow-checked element count of a shape.
 *  @return QK_OK, QK_ERR_INVALID_ARGUMENT (NULL shape with rank > 0, rank > QK_MAX_RANK,
 *  negative dimension, product above 2^62). */
QK_API qk_status qk_shape_element_count(const int64_t* shape, size_t rank, uint64_t* count_out);

/* ===================================================================================== */
/** @defgroup spec Quantization spec: what to quantize to                                 */
/* ===================================================================================== */

/** Quantization scheme. Values are ABI. */
typedef enum qk_qscheme {
  QK_QSCHEME_PER_TENSOR_AFFINE = 1,
  QK_QSCHEME_PER_TENSOR_SYMMETRIC = 2,
  QK_QSCHEME_PER_CHANNEL_AFFINE = 3,
  QK_QSCHEME_PER_CHANNEL_SYMMETRIC = 4,
  /** Symmetric, one scale per `group_size` consecutive elements along `axis` (int4 weights). */
  QK_QSCHEME_PER_GROUP_SYMMETRIC = 5,
  /** Per-channel affine with a float zero point that is not rounded (PyTorch's
   *  per_channel_affine_float_qparams, used for embeddings): q = lrintf(x/scale + zp). */
  QK_QSCHEME_PER_CHANNEL_AFFINE_FLOAT_QPARAMS = 6,
  QK_QSCHEME_MAX_ENUM = 0x7FFFFFFF /**< not a scheme: keeps the enum 32-bit */
} qk_qscheme;

/** Numeric convention used to turn a [min,max] range into qparams. Values are ABI.
 *  See README.md ("Conventions") for the full table of differences. */
typedef enum qk_convention {
  /** torch.ao.quantization 1.13 (default): eps clamp, symmetric uint8 zero point 128,
   *  reduce_range [0,127] / [-64,63], zero point rounded half to even. */
  QK_CONVENTION_PYTORCH = 0,
  /** onnxruntime.quantization: symmetric ranges [-127,127] / [0,254], reduce_range
   *  [0,127] / [-64,64], scale computed in double, scale = 1 when below FLT_MIN. */
  QK_CONVENTION_ONNXRUNTIME = 1,
  /** TFLite converter: symmetric int8 [-127,127] (weights); affine zero point nudged with
   *  round-half-away-from-zero, scale computed in double, scale = 1 for an empty range. */
  QK_CONVENTION_TFLITE = 2,
  QK_CONVENTION_MAX_ENUM = 0x7FFFFFFF /**< not a convention: keeps the enum 32-bit */
} qk_convention;

typedef struct qk_quant_spec qk_quant_spec;

/** Creates a spec for `dtype` (S8, U8, S4, U4 or S32) and `scheme`, with the dtype's full
 *  range, eps = FLT_EPSILON (2^-23), axis 0, group size 32 (per-group only), PyTorch convention.
 *  @param[out] spec_out receives an owned handle; release with qk_quant_spec_destroy().
 *  @return QK_OK, QK_ERR_INVALID_ARGUMENT, QK_ERR_OUT_OF_MEMORY. */
QK_API qk_status qk_quant_spec_create(qk_dtype dtype, qk_qscheme scheme, qk_quant_spec** spec_out);
/** Deep copy. */
QK_API qk_status qk_quant_spec_clone(const qk_quant_spec* spec, qk_quant_spec** spec_out);
QK_API void qk_quant_spec_destroy(qk_quant_spec* spec);

/** Custom quant range (PyTorch quant_min/quant_max): must contain 0, lie inside the dtype's
 *  range, and span at most 256 values for 8-bit types (16 for 4-bit). */
QK_API qk_status qk_quant_spec_set_range(qk_quant_spec* spec, int32_t quant_min, int32_t quant_max);
/** reduce_range: halve the range ([0,127] / [-64,63] under PyTorch). Non-zero enables.
 *  PyTorch rejects reduce_range with symmetric uint8; so do we (QK_ERR_UNSUPPORTED at compute).
 *  A custom range is halved with floor division ([-3, 5] -> [-2, 2]); one it leaves with a single
 *  code ([0, 1] -> [0, 0]) is QK_ERR_INVALID_ARGUMENT wherever the range is used. */
QK_API qk_status qk_quant_spec_set_reduce_range(qk_quant_spec* spec, int enabled);
/** Smallest allowed scale (PyTorch eps); finite and > 0. */
QK_API qk_status qk_quant_spec_set_eps(qk_quant_spec* spec, float eps);
/** Channel axis (per-channel) or grouped axis (per-group). Any int32; checked against the
 *  tensor rank when used. */
QK_API qk_status qk_quant_spec_set_axis(qk_quant_spec* spec, int32_t axis);
/** Group size for QK_QSCHEME_PER_GROUP_SYMMETRIC (>= 1). */
QK_API qk_status qk_quant_spec_set_group_size(qk_quant_spec* spec, int64_t group_size);
QK_API qk_status qk_quant_spec_set_convention(qk_quant_spec* spec, qk_convention convention);

QK_API qk_status qk_quant_spec_get_dtype(const qk_quant_spec* spec, qk_dtype* dtype_out);
QK_API qk_status qk_quant_spec_get_scheme(const qk_quant_spec* spec, qk_qscheme* scheme_out);
QK_API qk_status qk_quant_spec_get_axis(const qk_quant_spec* spec, int32_t* axis_out);
QK_API qk_status qk_quant_spec_get_group_size(const qk_quant_spec* spec, int64_t* group_size_out);
QK_API qk_status qk_quant_spec_get_eps(const qk_quant_spec* spec, float* eps_out);
QK_API qk_status qk_quant_spec_get_convention(const qk_quant_spec* spec, qk_convention* convention_out);
/** The range actually used: custom or dtype range, after reduce_range and the convention's
 *  symmetric narrowing. */
QK_API qk_status qk_quant_spec_get_effective_range(const qk_quant_spec* spec, int32_t* quant_min_out,
                                                   int32_t* quant_max_out);

/* ===================================================================================== */
/** @defgroup qparams Quantization parameters                                            */
/* ===================================================================================== */

/** Immutable scales + zero points for one tensor. Shareable between threads. */
typedef struct qk_qparams qk_qparams;

/** Computes qparams from observed ranges with the spec's convention.
 *  `count` is 1 for per-tensor schemes, the number of channels (per-channel) or the number of
 *  groups (per-group). min_vals/max_vals hold `count` finite values with min <= max.
 *  For per-group qparams the layout (which group is which) comes from the tensor at
 *  quantize time; prefer qk_qparams_from_tensor() for groups.
 *  @return QK_OK, QK_ERR_INVALID_ARGUMENT (NULL, count mismatch, NaN/Inf, min > max, a range so
 *  wide that the scale overflows float),
 *  QK_ERR_UNSUPPORTED (reduce_range with symmetric uint8), QK_ERR_OUT_OF_MEMORY. */
QK_API qk_status qk_qparams_compute(const qk_quant_spec* spec, const float* min_vals, const float* max_vals,
                                    size_t count, qk_qparams** qparams_out);

/** Computes qparams straight from a tensor's min/max (one-shot MinMax / PerChannelMinMax; for
 *  per-group, the max |x| of each group along the spec's axis). Non-finite values are skipped
 *  and counted in *nonfinite_out (may be NULL). An all-NaN tensor or slice gives QK_ERR_STATE.
 *  Scales are laid out row-major over the shape with the axis dimension replaced by
 *  ceil(dim / group_size) (per-group) or kept alone (per-channel). */
QK_API qk_status qk_qparams_from_tensor(const qk_quant_spec* spec, const float* data, const int64_t* shape,
                                        size_t rank, qk_qparams** qparams_out, uint64_t* nonfinite_out);

/** Builds qparams from known values (e.g. read from a model file). Scales must be finite, > 0
 *  and have a finite reciprocal (no denormals), zero points inside [quant_min, quant_max] which must lie inside the dtype's range.
 *  Per-tensor: count 1 and axis ignored. Per-group: group_size >= 1. float_zero_points is used
 *  (and required) only by QK_QSCHEME_PER_CHANNEL_AFFINE_FLOAT_QPARAMS, zero_points by the rest.
 *  Arrays are copied. */
QK_API qk_status qk_qparams_create(qk_dtype dtype, qk_qscheme scheme, int32_t axis, int64_t group_size,
                                   const float* scales, const int32_t* zero_points,
                                   const float* float_zero_points, size_t count, int32_t quant_min,
                                   int32_t quant_max, qk_qparams** qparams_out);
QK_API void qk_qparams_destroy(qk_qparams* qparams);

QK_API qk_status qk_qparams_get_dtype(const qk_qparams* qparams, qk_dtype* dtype_out);
QK_API qk_status qk_qparams_get_scheme(const qk_qparams* qparams, qk_qscheme* scheme_out);
/** Number of scales (1, channels or groups). */
QK_API qk_status qk_qparams_get_count(const qk_qparams* qparams, size_t* count_out);
QK_API qk_status qk_qparams_get_axis(const qk_qparams* qparams, int32_t* axis_out);
QK_API qk_status qk_qparams_get_group_size(const qk_qparams* qparams, int64_t* group_size_out);
QK_API qk_status qk_qparams_get_range(const qk_qparams* qparams, int32_t* quant_min_out, int32_t* quant_max_out);
/** Copies the scales into `scales_out` (capacity `capacity` floats).
 *  @return QK_ERR_BUFFER_TOO_SMALL if capacity < count (nothing written). */
QK_API qk_status qk_qparams_get_scales(const qk_qparams* qparams, float* scales_out, size_t capacity);
/** Integer zero points (float-qparams scheme: rounded half to even). */
QK_API qk_status qk_qparams_get_zero_points(const qk_qparams* qparams, int32_t* zero_points_out, size_t capacity);
/** Float zero points (integer schemes: the integers as floats). */
QK_API qk_status qk_qparams_get_float_zero_points(const qk_qparams* qparams, float* zero_points_out,
                                                  size_t capacity);

/* ===================================================================================== */
/** @defgroup quantize Quantize, dequantize, cast                                          */
/* ===================================================================================== */

/** Quantizes f32 `src` of the given shape with `qparams` into `dst` (dtype of the qparams;
 *  4-bit types packed two per byte, low nibble first, flat row-major order).
 *  q = clamp(round_half_even(x * (1.0f/scale)) + zp, quant_min, quant_max), as PyTorch computes
 *  it (multiply by the float reciprocal). NaN -> zp (counted in *nan_count_out, may be NULL);
 *  +-Inf saturate. Per-channel/per-group qparams must match the shape (channel count, or group
 *  count along the axis). For s32, as in PyTorch, the zero point is added to the rounded value in
 *  float32 (codes beyond 2^24 round to a float).
 *  @param dst_bytes capacity of dst; must be >= qk_dtype_storage_size(dtype, elements).
 *  @return QK_OK, QK_ERR_INVALID_ARGUMENT, QK_ERR_BUFFER_TOO_SMALL, QK_ERR_UNSUPPORTED (forced
 *  ISA unusable). */
QK_API qk_status qk_quantize(const qk_qparams* qparams, const float* src, const int64_t* shape, size_t rank,
                             void* dst, size_t dst_bytes, uint64_t* nan_count_out);

/** Dequantizes `src` (dtype of the qparams, src_bytes long) to f32: (q - zp) * scale. */
QK_API qk_status qk_dequantize(const qk_qparams* qparams, const void* src, size_t src_bytes, const int64_t* shape,
                               size_t rank, float* dst);

/** Converts `count` elements between F32 and F16 or BF16 (either direction). F32 -> F16/BF16
 *  rounds to nearest even; NaN stays NaN (made quiet, top payload bits kept), Inf stays Inf,
 *  F16 overflow becomes Inf. F16 -> F32 is exact (NaNs made quiet); BF16 -> F32 is the exact
 *  16-bit shift.
 *  src and dst must not overlap. */
QK_API qk_status qk_cast(const void* src, qk_dtype src_dtype, void* dst, qk_dtype dst_dtype, size_t count);

/** Error statistics of `approx` against `reference` (count floats each, finite): any output
 *  may be NULL. SQNR = 10*log10(sum ref^2 / sum (ref-approx)^2) in dB (+Inf when equal). */
QK_API qk_status qk_error_stats(const float* reference, const float* approx, size_t count, double* sqnr_db_out,
                                double* max_abs_error_out, double* mse_out);

/* ===================================================================================== */
/** @defgroup isa Instruction-set dispatch                                                */
/* ===================================================================================== */

/** Name of the kernel path in use: "scalar", "avx2", "avxvnni", "avx512vnni", "neon",
 *  "neondot". Chosen once per process: the best the CPU supports, or the one named by the
 *  environment variable QK_ISA. If QK_ISA names an unknown or unsupported ISA this returns
 *  "invalid" and every dispatched call fails with QK_ERR_UNSUPPORTED (never a silent fallback). */
QK_API const char* qk_isa_name(void);
/** Forces a kernel path by name (same names as QK_ISA, plus "auto"). Global: call before other
 *  threads use the library. @return QK_OK, QK_ERR_INVALID_ARGUMENT (unknown name),
 *  QK_ERR_UNSUPPORTED (this CPU or build lacks it; the current path is kept). */
QK_API qk_status qk_set_isa(const char* name);
/** *supported_out = 1 if the named path is built in and this CPU runs it, else 0. */
QK_API qk_status qk_isa_supported(const char* name, int* supported_out);

/* ===================================================================================== */
/** @defgroup observers Observers                                                          */
/* ===================================================================================== */

/** Observer kinds. Values are ABI. */
typedef enum qk_observer_kind {
  QK_OBSERVER_MINMAX = 1,                         /**< running min/max (per-tensor) */
  QK_OBSERVER_MOVING_AVERAGE_MINMAX = 2,          /**< EMA of batch min/max (per-tensor) */
  QK_OBSERVER_PER_CHANNEL_MINMAX = 3,             /**< running min/max per channel */
  QK_OBSERVER_MOVING_AVERAGE_PER_CHANNEL_MINMAX = 4,
  QK_OBSERVER_HISTOGRAM = 5,  /**< PyTorch's 2048-bin histogram + L2 range search (without 1.13's bug) */
  QK_OBSERVER_PERCENTILE = 6, /**< histogram, range clipped at a percentile (ORT/TensorRT style) */
  QK_OBSERVER_ENTROPY = 7,    /**< histogram of |x|, TensorRT KL-divergence threshold */
  QK_OBSERVER_MSE = 8,        /**< histogram, clipping range minimising quantization MSE */
  QK_OBSERVER_KIND_MAX_ENUM = 0x7FFFFFFF /**< not a kind: keeps the enum 32-bit */
} qk_observer_kind;

/** Tunable observer options (set before the first update). Values are ABI. */
typedef enum qk_observer_param {
  QK_OBSERVER_PARAM_AVERAGING_CONSTANT = 1, /**< moving-average kinds; (0,1], default 0.01 */
  QK_OBSERVER_PARAM_BINS = 2,               /**< histogram kinds; [16, 1<<20], default 2048 */
  QK_OBSERVER_PARAM_UPSAMPLE_RATE = 3,      /**< HISTOGRAM re-binning; [1, 1024], default 128 */
  QK_OBSERVER_PARAM_PERCENTILE = 4,         /**< PERCENTILE; (50,100], default 99.99 */
  QK_OBSERVER_PARAM_MAX_ENUM = 0x7FFFFFFF   /**< not a parameter: keeps the enum 32-bit */
} qk_observer_param;

typedef struct qk_observer qk_observer;

/** Creates an observer. `spec` is copied; its scheme must fit the kind (per-channel kinds need
 *  a per-channel scheme, whose axis is the channel axis; the others a per-tensor scheme).
 *  @return QK_OK, QK_ERR_INVALID_ARGUMENT, QK_ERR_OUT_OF_MEMORY. */
QK_API qk_status qk_observer_create(qk_observer_kind kind, const qk_quant_spec* spec, qk_observer** observer_out);
QK_API void qk_observer_destroy(qk_observer* observer);

QK_API qk_status qk_observer_get_kind(const qk_observer* observer, qk_observer_kind* kind_out);
/** @return QK_ERR_INVALID_ARGUMENT for a parameter the kind does not have or a value out of
 *  range; QK_ERR_STATE once the observer has seen data. */
QK_API qk_status qk_observer_set_param(qk_observer* observer, qk_observer_param param, double value);
QK_API qk_status qk_observer_get_param(const qk_observer* observer, qk_observer_param param, double* value_out);

/** Records a batch (any shape; per-channel kinds use the spec's axis and need a stable channel
 *  count across batches). Non-finite values are skipped and counted. An empty batch is a no-op. */
QK_API qk_status qk_observer_update(qk_observer* observer, const float* data, const int64_t* shape, size_t rank);

/** Qparams from what was observed, with the spec's dtype/scheme/convention.
 *  @return QK_ERR_STATE if no finite value was seen (any channel, for per-channel kinds). */
QK_API qk_status qk_observer_compute_qparams(const qk_observer* observer, qk_qparams** qparams_out);

/** The observed (or, for histogram kinds, the chosen clipping) range per channel.
 *  @param capacity floats available in each of min_out/max_out; QK_ERR_BUFFER_TOO_SMALL if fewer
 *  than the channel count (1 for per-tensor kinds). QK_ERR_STATE before any finite value. */
QK_API qk_status qk_observer_get_range(const qk_observer* observer, float* min_out, float* max_out,
                                       size_t capacity);
/** Number of channels seen (1 for per-tensor kinds, 0 before the first update). */
QK_API qk_status qk_observer_get_channel_count(const qk_observer* observer, size_t* count_out);
/** Non-finite values skipped so far. */
QK_API qk_status qk_observer_get_nonfinite_count(const qk_observer* observer, uint64_t* count_out);

/** Forgets everything observed (options and spec are kept). */
QK_API qk_status qk_observer_reset(qk_observer* observer);

/** Folds `src`'s statistics into `dst` (same kind, spec and options). MinMax kinds merge
 *  exactly (merge of two halves == observing the whole); moving-average kinds fold src's
 *  averaged range in as one more batch (an EMA depends on batch order, so no exact merge
 *  exists); histogram kinds re-bin onto the union range. Merging into an observer that has
 *  seen nothing copies src.
 *  @return QK_ERR_INVALID_ARGUMENT on kind/spec/option/channel mismatch (dst untouched). */
QK_API qk_status qk_observer_merge(qk_observer* dst, const qk_observer* src);

/** Serializes the observer (kind, spec, options, statistics) into `buffer`.
 *  Pass buffer NULL (capacity 0) to get the size in *size_out. QK_ERR_BUFFER_TOO_SMALL (with
 *  *size_out set) if capacity is too small. The format is versioned, little-endian and
 *  checksummed; see docs/OBSERVER_STATE.md. */
QK_API qk_status qk_observer_save(const qk_observer* observer, void* buffer, size_t capacity, size_t* size_out);
/** Recreates an observer from qk_observer_save() output. Garbage, truncation or a checksum
 *  mismatch gives QK_ERR_CORRUPT. */
QK_API qk_status qk_observer_load(const void* buffer, size_t size, qk_observer** observer_out);

/* ===================================================================================== */
/** @defgroup fakequant Fake quantization (QAT)                                           */
/* ===================================================================================== */

/** Forward fake-quantization, exactly torch.fake_quantize_per_tensor_affine /
 *  fake_quantize_per_channel_affine: y = (clamp(round_half_even(x*(1/scale)) + zp, qmin, qmax)
 *  - zp) * scale. Uses the qparams' scales, zero points, range and axis (per-tensor or
 *  per-channel integer schemes). `mask_out` (may be NULL) receives 1 where the unclamped value
 *  was inside [qmin, qmax] (the straight-through gradient mask), else 0. y may alias x. */
QK_API qk_status qk_fake_quantize(const qk_qparams* qparams, const float* x, const int64_t* shape, size_t rank,
                                  float* y, uint8_t* mask_out);

/** Straight-through backward: grad_x = grad_y where x quantizes inside the range, else 0. */
QK_API qk_status qk_fake_quantize_backward(const qk_qparams* qparams, const float* x, const float* grad_y,
                                           const int64_t* shape, size_t rank, float* grad_x);

/** Learnable (LSQ) fake-quant gradients, as torch._fake_quantize_learnable_per_tensor_affine /
 *  _per_channel_affine backward. `scales`/`zero_points` hold 1 value (axis < 0: per tensor) or one
 *  per channel along `axis`; zero points are float and rounded half to even then clamped as torch
 *  does. grad_factor is 1.0 or 1/sqrt(numel*quant_max) (torch's use_grad_scaling). Outputs:
 *  grad_x (numel), grad_scales and grad_zero_points (1 or channel count each), summed in double. */
QK_API qk_status qk_fake_quantize_learnable_backward(const float* x, const float* grad_y, const int64_t* shape,
                                                     size_t rank, int32_t axis, const float* scales,
                                                     const float* zero_points, size_t count, int32_t quant_min,
                                                     int32_t quant_max, float grad_factor, float* grad_x,
                                                     float* grad_scales_out, float* grad_zero_points_out);

/* ===================================================================================== */
/** @defgroup fusion Batch-norm folding                                                    */
/* ===================================================================================== */

/** Which layer a batch norm is folded into. Values are ABI. */
typedef enum qk_fold_target {
  QK_FOLD_CONV = 1,            /**< weight [out, in/groups, k...]: channel axis 0 (any rank >= 2) */
  QK_FOLD_CONV_TRANSPOSED = 2, /**< weight [in, out, k...] (groups = 1): channel axis 1 */
  QK_FOLD_LINEAR = 3,          /**< weight [out, in] */
  QK_FOLD_TARGET_MAX_ENUM = 0x7FFFFFFF /**< not a target: keeps the enum 32-bit */
} qk_fold_target;

/** Folds an inference-mode batch norm into the preceding layer, as
 *  torch.nn.utils.fusion.fuse_conv_bn_weights / fuse_linear_bn_weights:
 *  W' = W * gamma/sqrt(var+eps) along the channel axis, b' = (b - mean)*gamma/sqrt(var+eps) + beta.
 *  `channels` is the BN size and must equal the weight's channel dimension. bias, gamma and
 *  beta may be NULL (0, 1, 0). var + eps must be > 0 for every channel. weight_out may alias
 *  weight and bias_out may alias bias (bias_out has `channels` floats). */
QK_API qk_status qk_fold_batchnorm(qk_fold_target target, const float* weight, const int64_t* weight_shape,
                                   size_t rank, const float* bias, const float* bn_mean, const float* bn_var,
                                   const float* bn_gamma, const float* bn_beta, float bn_eps, size_t channels,
                                   float* weight_out, float* bias_out);

/* ===================================================================================== */
/** @defgroup threads Thread pools                                                         */
/* ===================================================================================== */

/** A pool of worker threads shared by operators' run calls. Results never depend on the
 *  thread count. A pool may be used by one run call at a time (runs on the same pool from
 *  several threads are serialized). */
typedef struct qk_threadpool qk_threadpool;

/** @param thread_count total threads including the caller; 0 = one per online CPU core. */
QK_API qk_status qk_threadpool_create(size_t thread_count, qk_threadpool** pool_out);
QK_API void qk_threadpool_destroy(qk_threadpool* pool);
QK_API qk_status qk_threadpool_get_thread_count(const qk_threadpool* pool, size_t* count_out);

/* ===================================================================================== */
/** @defgroup operators int8 operators: packed weights, linear, dynamic linear, conv     */
/* ===================================================================================== */
/*
 * Operators follow create-once / run-many: creation validates and precomputes everything
 * (packing, zero-point corrections, requantization multipliers); run only computes. Operators
 * and packed weights are immutable after creation and may be run from several threads at once.
 *
 * Integer contract. Activations are u8 or s8 with a per-tensor zero point; weights are s8,
 * per-tensor (any zero point) or per-channel symmetric along the output-channel axis. The int32
 * accumulator is exact (wrapping two's-complement arithmetic, which every kernel path shares):
 *   acc[m][n] = sum_k (a[m][k] - a_zp) * (w[n][k] - w_zp[n]) + bias_q[n]
 * with bias_q[n] = round_half_even(bias[n] / (a_scale * w_scale[n])) computed in float32.
 * Outputs:
 *   QK_OUTPUT_S32        acc (bias included)
 *   QK_OUTPUT_F32        clamp(float(acc_without_bias) * (a_scale*w_scale[n]) + bias[n], min, max)
 *   QK_OUTPUT_QUANTIZED  QK_REQUANT_FLOAT:       clamp(round_half_even(float(acc) * M[n]) + out_zp)
 *                        with M[n] = a_scale * w_scale[n] / out_scale in float32 (PyTorch's rule);
 *                        QK_REQUANT_FIXED_POINT: TFLite's Q0.31 multiplier + shift, double rounding.
 *                        The clamp is the dtype range intersected with [quantize(output_min),
 *                        quantize(output_max)] (ReLU: 0, +Inf; ReLU6: 0, 6).
 * Every kernel path (scalar, AVX2, AVX-VNNI, AVX-512 VNNI, NEON, NEON dotprod) gives
 * bit-identical results. Packed weights are laid out for the kernel path active when they are
 * created and keep using it (create them after qk_set_isa() to use another path).
 */

/** What an operator writes. Values are ABI. */
typedef enum qk_output_kind {
  QK_OUTPUT_QUANTIZED = 1, /**< requantized u8/s8 (output qparams required) */
  QK_OUTPUT_S32 = 2,       /**< raw int32 accumulators */
  QK_OUTPUT_F32 = 3,       /**< dequantized float32 (+ float bias) */
  QK_OUTPUT_KIND_MAX_ENUM = 0x7FFFFFFF
} qk_output_kind;

/** Requantization arithmetic. Values are ABI. */
typedef enum qk_requant_mode {
  QK_REQUANT_FLOAT = 0,       /**< float32 multiplier, round half to even (PyTorch) */
  QK_REQUANT_FIXED_POINT = 1, /**< int32 Q0.31 multiplier + shift (TFLite reference) */
  QK_REQUANT_MODE_MAX_ENUM = 0x7FFFFFFF
} qk_requant_mode;

typedef struct qk_packed_weights qk_packed_weights;

/** Packs s8 weights [n][k] (row stride ldw >= k elements) for the active kernel path.
 *  weight_qparams: dtype S8, per-tensor (any zero point, count 1) or per-channel symmetric on
 *  axis 0 with n scales. bias: NULL, or n values of bias_dtype F32 (quantized with the input
 *  scale at operator creation) or S32 (already in accumulator units, added as is).
 *  n, k in [1, 2^31); k <= 65536: with symmetric (zero-point 0) weights no int32 accumulator
 *  can overflow; with a per-tensor weight zero point an extreme |sum| can exceed int32, and then
 *  every kernel path wraps it modulo 2^32 identically.
 *  @return QK_OK, QK_ERR_INVALID_ARGUMENT, QK_ERR_OUT_OF_MEMORY, QK_ERR_UNSUPPORTED (QK_ISA). */
QK_API qk_status qk_packed_weights_create(const int8_t* weights, int64_t n, int64_t k, int64_t ldw,
                                          const qk_qparams* weight_qparams, const void* bias, qk_dtype bias_dtype,
                                          qk_packed_weights** weights_out);
QK_API void qk_packed_weights_destroy(qk_packed_weights* weights);
QK_API qk_status qk_packed_weights_get_shape(const qk_packed_weights* weights, int64_t* n_out, int64_t* k_out);
/** Name of the kernel path the weights were packed for ("avx2", ...); static string. */
QK_API qk_status qk_packed_weights_get_isa(const qk_packed_weights* weights, const char** isa_out);

/** Quantized linear / GEMM: output[m][n] from input[m][k] (u8 or s8) and packed weights.
 *  The operator keeps its own reference to the packed weights (destroying the weights handle
 *  afterwards is safe). */
typedef struct qk_qlinear qk_qlinear;

/** @param input_qparams per-tensor qparams of dtype U8 or S8 (scale and zero point of the input).
 *  @param output_kind QK_OUTPUT_QUANTIZED (output_qparams: per-tensor U8 or S8), QK_OUTPUT_S32 or
 *  QK_OUTPUT_F32 (output_qparams must be NULL).
 *  @param output_min, output_max real-valued clamp (-INFINITY/INFINITY for none; ignored for S32,
 *  which must use -INFINITY/INFINITY). */
QK_API qk_status qk_qlinear_create(const qk_packed_weights* weights, const qk_qparams* input_qparams,
                                   qk_output_kind output_kind, const qk_qparams* output_qparams, float output_min,
                                   float output_max, qk_requant_mode mode, qk_qlinear** op_out);
/** Runs on m rows. input: m rows of k elements, row stride input_stride >= k elements,
 *  input_bytes the buffer size; output: m rows of n elements of the output type, row stride
 *  output_stride >= n elements, output_bytes the buffer size. pool may be NULL (caller thread). */
QK_API qk_status qk_qlinear_run(const qk_qlinear* op, int64_t m, const void* input, int64_t input_stride,
                                size_t input_bytes, void* output, int64_t output_stride, size_t output_bytes,
                                qk_threadpool* pool);
QK_API void qk_qlinear_destroy(qk_qlinear* op);

/** Dynamic linear (PyTorch quantize_dynamic): f32 input quantized on the fly to u8/s8 with
 *  MinMax affine qparams (PyTorch convention, per tensor or per row), int8 GEMM, f32 output plus
 *  f32 bias. Equal to "qk_qparams_from_tensor + qk_quantize + qk_qlinear(QK_OUTPUT_F32)". */
typedef struct qk_dynamic_linear qk_dynamic_linear;
QK_API qk_status qk_dynamic_linear_create(const qk_packed_weights* weights, qk_dtype activation_dtype, int per_row,
                                          qk_dynamic_linear** op_out);
/** Non-finite inputs are an error (QK_ERR_INVALID_ARGUMENT; output untouched). */
QK_API qk_status qk_dynamic_linear_run(const qk_dynamic_linear* op, int64_t m, const float* input,
                                       int64_t input_stride, size_t input_count, float* output,
                                       int64_t output_stride, size_t output_count, qk_threadpool* pool);
QK_API void qk_dynamic_linear_destroy(qk_dynamic_linear* op);

/** Quantized 2-D convolution, NHWC (channels last) input and output. */
typedef struct qk_qconv2d qk_qconv2d;
/** @param weights s8, PyTorch layout OIHW: weight_shape = {out_channels, in_channels/groups, kh, kw}.
 *  @param weight_qparams S8, per-tensor or per-channel symmetric on axis 0.
 *  @param bias NULL or out_channels floats.
 *  @param stride {sh, sw} >= 1; padding {top, left, bottom, right} >= 0 (padded input reads the
 *  input zero point); dilation {dh, dw} >= 1; groups divides both channel counts (groups ==
 *  in_channels == out_channels/multiplier selects the depthwise kernel).
 *  @param input_qparams, output_qparams per-tensor U8/S8; output_min/max as for qk_qlinear.
 *  kh*kw*in_channels/groups <= 65536 (the GEMM depth limit). */
QK_API qk_status qk_qconv2d_create(const int8_t* weights, const int64_t weight_shape[4],
                                   const qk_qparams* weight_qparams, const float* bias, const int64_t stride[2],
                                   const int64_t padding[4], const int64_t dilation[2], int64_t groups,
                                   const qk_qparams* input_qparams, const qk_qparams* output_qparams,
                                   float output_min, float output_max, qk_requant_mode mode, qk_qconv2d** op_out);
/** Output height/width for an input of in_h x in_w (floor mode); QK_ERR_INVALID_ARGUMENT if the
 *  kernel does not fit. */
QK_API qk_status qk_qconv2d_output_size(const qk_qconv2d* op, int64_t in_h, int64_t in_w, int64_t* out_h,
                                        int64_t* out_w);
QK_API qk_status qk_qconv2d_run(const qk_qconv2d* op, int64_t batch, int64_t in_h, int64_t in_w, const void* input,
                                size_t input_bytes, void* output, size_t output_bytes, qk_threadpool* pool);
QK_API void qk_qconv2d_destroy(qk_qconv2d* op);

/** int8 max pooling, NHWC u8/s8 (qparams unchanged). padding {top, left, bottom, right}: padded
 *  positions never win; every window must overlap the input. Output {n, out_h, out_w, c}, floor
 *  mode. kernel, stride, padding and dilation are all required (non-NULL). */
QK_API qk_status qk_max_pool2d(qk_dtype dtype, const void* input, size_t input_bytes, const int64_t nhwc_shape[4],
                               const int64_t kernel[2], const int64_t stride[2], const int64_t padding[4],
                               const int64_t dilation[2], void* output, size_t output_bytes);
/** Average pooling, NHWC: out = clamp(round_half_even(float(sum(q) - count*in_zp) *
 *  (in_scale / (out_scale*count))) + out_zp). count_include_pad as in PyTorch. Input and output
 *  dtypes must match; every window must overlap the input. */
QK_API qk_status qk_avg_pool2d(const qk_qparams* input_qparams, const qk_qparams* output_qparams, const void* input,
                               size_t input_bytes, const int64_t nhwc_shape[4], const int64_t kernel[2],
                               const int64_t stride[2], const int64_t padding[4], int count_include_pad,
                               void* output, size_t output_bytes);
/** Global average pooling: NHWC {n, h, w, c} -> {n, c}, same rule as qk_avg_pool2d. */
QK_API qk_status qk_global_avg_pool2d(const qk_qparams* input_qparams, const qk_qparams* output_qparams,
                                      const void* input, size_t input_bytes, const int64_t nhwc_shape[4],
                                      void* output, size_t output_bytes);
/** Quantized element-wise add of `count` elements: out = clamp(round_half_even(float(a - a_zp) *
 *  (a_scale/out_scale) + float(b - b_zp) * (b_scale/out_scale)) + out_zp), clamp also by
 *  [quantize(output_min), quantize(output_max)] (fused ReLU: 0, INFINITY). All per-tensor U8/S8.
 *  output may alias a or b exactly (in place). */
QK_API qk_status qk_qadd(const qk_qparams* a_qparams, const void* a, const qk_qparams* b_qparams, const void* b,
                         const qk_qparams* output_qparams, size_t count, float output_min, float output_max,
                         void* output);

/** Quantizes an f32 NCHW tensor into NHWC (per-tensor qparams, or per-channel on axis 1 of
 *  NCHW), same rounding and NaN rules as qk_quantize. */
QK_API qk_status qk_quantize_nchw_to_nhwc(const qk_qparams* qparams, const float* src, const int64_t nchw_shape[4],
                                          void* dst, size_t dst_bytes, uint64_t* nan_count_out);
/** Dequantizes an NHWC tensor (logical shape given as NCHW) into f32 NCHW. */
QK_API qk_status qk_dequantize_nhwc_to_nchw(const qk_qparams* qparams, const void* src, size_t src_bytes,
                                            const int64_t nchw_shape[4], float* dst);

/* ===================================================================================== */
/** @defgroup weightfile The .qkw weight file                                             */
/* ===================================================================================== */
/*
 * A .qkw file holds named tensors, each in one independently decodable chunk, with a binary
 * table in front: open costs O(table), a tensor can be read alone, uncompressed chunks can be
 * used in place from a memory map, and every byte is either covered by an XXH64 checksum or must
 * be zero. Nothing in the file is ever executed or followed (no pickle, no paths). The normative
 * byte layout is docs/FORMAT.md.
 *
 * Writing: qk_qkw_writer_create(path) -> add tensors (f32 source + codec, f32 source + error
 * budget, already-quantized codes + qparams, or exact raw data) -> metadata -> finish. Nothing
 * touches `path` until qk_qkw_writer_finish(), which writes a temporary file in the same folder,
 * fsyncs it and renames it over `path`: a crash or an error never leaves a partial file, and an
 * existing file is replaced only on success. Output is deterministic: the same calls give a
 * byte-identical file.
 *
 * Reading: qk_qkw_open_file() (memory-mapped) or qk_qkw_open_memory() -> look tensors up by
 * index or name -> info, decode to f32, read the codes and their parameters, or map raw chunks
 * without copying. A reader is immutable after open and may be used from several threads at once.
 * A tensor whose codec this version does not know reports QK_ERR_UNSUPPORTED alone: the others
 * still load.
 */

/** How a tensor is stored. Values are ABI and are the codec ids of the file format. */
typedef enum qk_codec {
  /** Elements as they are, little-endian: F32/F16/BF16/S8/U8/S32/S64 (an f32 source may be
   *  stored as F16 or BF16, rounded to nearest even). Lossless for its dtype. */
  QK_CODEC_RAW = 0,
  /** Symmetric integer codes in [-levels, levels] (levels <= 127, so at most 8 bits), one f32
   *  scale per channel along `axis` or per `group_size` consecutive elements along `axis`:
   *  x = code * scale. Bits 8 is the TFLite int8 weight scheme and loads straight into
   *  qk_packed_weights_create(). */
  QK_CODEC_SYMMETRIC = 1,
  /** 8-bit affine codes (U8 or S8), per tensor or per channel along `axis`, with an f32 scale
   *  and an f32 zero point each: x = (code - zero_point) * scale. Imports PyTorch/ONNX affine
   *  tensors exactly. */
  QK_CODEC_AFFINE = 2,
  /** 8-bit affine codes with an f32 offset: x = code * scale + offset (the "min/max uint8"
   *  encoding of many tutorials, imported exactly). */
  QK_CODEC_AFFINE_OFFSET = 3,
  /** ggml Q8_0 blocks (byte-identical to GGUF): per 32 elements of the last dimension an f16
   *  scale d then 32 int8 codes; x = code * d. The last dimension must be a multiple of 32. */
  QK_CODEC_GGML_Q8_0 = 4,
  /** ggml Q4_0 blocks (byte-identical to GGUF): per 32 elements an f16 scale d then 16 bytes;
   *  element j (< 16) is the low nibble of byte j, element j + 16 its high nibble; x = (q - 8)*d. */
  QK_CODEC_GGML_Q4_0 = 5,
  /** Palette (k-means look-up table) of `levels` f32 entries (2..256) for the whole tensor, one
   *  u8 index per element: x = lut[index]. */
  QK_CODEC_LUT = 6,
  QK_CODEC_MAX_ENUM = 0x7FFFFFFF /**< not a codec: keeps the enum 32-bit */
} qk_codec;

/** @return a static name ("raw", "symmetric", "affine", "affine_offset", "q8_0", "q4_0",
 *  "lut") or "unknown"; never NULL. */
QK_API const char* qk_codec_name(qk_codec codec);

typedef struct qk_qkw_writer qk_qkw_writer;

/** Starts a file that qk_qkw_writer_finish() will write to `path` (UTF-8/bytes as the OS takes
 *  them). Nothing is created yet. Defaults: alignment 64, zstd level 19, tensors with fewer than
 *  1024 elements or of rank < 2 kept exact (f32) by qk_qkw_writer_add_budget().
 *  @return QK_OK, QK_ERR_INVALID_ARGUMENT (NULL or empty path), QK_ERR_OUT_OF_MEMORY. */
QK_API qk_status qk_qkw_writer_create(const char* path, qk_qkw_writer** writer_out);
/** Discards an unfinished writer (nothing is written); NULL is a no-op. */
QK_API void qk_qkw_writer_destroy(qk_qkw_writer* writer);

/** Chunk alignment in bytes: a power of two in [16, 1 MiB]. 64 suits SIMD loads; 4096 lets every
 *  uncompressed chunk be mapped page by page (costs padding). */
QK_API qk_status qk_qkw_writer_set_alignment(qk_qkw_writer* writer, uint32_t alignment);
/** zstd level for payloads added after this call: 1..22, or 0 to store every chunk
 *  uncompressed (all of them then mappable). Codes of fewer than 8 bits are always compressed at
 *  level >= 19 when compression is on (low levels cost ~20% on them; decoding speed is the same).
 *  A chunk is stored uncompressed whenever zstd saves less than 2%. */
QK_API qk_status qk_qkw_writer_set_zstd_level(qk_qkw_writer* writer, int32_t level);
/** Tensors with fewer elements than this (or of rank < 2) stay exact f32 under
 *  qk_qkw_writer_add_budget() (biases, batch-norm vectors). Default 1024; 0 disables. */
QK_API qk_status qk_qkw_writer_set_small_tensor_threshold(qk_qkw_writer* writer, uint64_t elements);
/** How qk_qkw_writer_add_budget() stores small tensors: QK_DTYPE_F32 (default, exact), QK_DTYPE_F16
 *  or QK_DTYPE_BF16 (half the bytes; their error is measured and recorded like any other). */
QK_API qk_status qk_qkw_writer_set_small_tensor_dtype(qk_qkw_writer* writer, qk_dtype dtype);

/** Adds an f32 tensor encoded with a fixed codec.
 *  @param name 1..1024 bytes of UTF-8, unique in the file.
 *  @param data finite values (NaN/Inf: QK_ERR_INVALID_ARGUMENT) of the dense row-major `shape`;
 *         RAW F32 takes any value, bit for bit.
 *  @param codec and its parameters:
 *    QK_CODEC_RAW:        dtype F32, F16 or BF16; bits, axis, group_size ignored.
 *    QK_CODEC_SYMMETRIC:  bits 2..8 (levels = 2^(bits-1) - 1); axis in [-rank, rank) (rank >= 1);
 *                         group_size 0 (per channel) or >= 1 (per group along axis); dtype ignored.
 *    QK_CODEC_AFFINE / QK_CODEC_AFFINE_OFFSET: dtype U8 or S8 (AFFINE_OFFSET: U8); axis -1 (per
 *                         tensor, PyTorch min/max qparams; rank 0 allowed) or a channel axis.
 *    QK_CODEC_GGML_Q8_0 / Q4_0: rank >= 1, last dimension a multiple of 32.
 *    QK_CODEC_LUT:        bits 1..8 (2^bits entries, fewer if the tensor has fewer distinct values).
 *  @param sqnr_db_out, max_abs_error_out (may be NULL) receive the error the writer measured
 *         against `data` (also stored in the file): SQNR in dB (+Inf when exact), max |error|.
 *  @return QK_OK, QK_ERR_INVALID_ARGUMENT (bad name, duplicate, shape, codec parameters, NaN),
 *  QK_ERR_STATE (writer already finished), QK_ERR_OUT_OF_MEMORY. The writer is unchanged on error. */
QK_API qk_status qk_qkw_writer_add_f32(qk_qkw_writer* writer, const char* name, const float* data,
                                       const int64_t* shape, size_t rank, qk_codec codec, qk_dtype dtype,
                                       int32_t bits, int32_t axis, int64_t group_size, double* sqnr_db_out,
                                       double* max_abs_error_out);

/** Adds an f32 tensor with an error budget: the writer picks the cheapest encoding that meets it.
 *  Small tensors (see qk_qkw_writer_set_small_tensor_threshold) are stored exact. Otherwise the
 *  tensor becomes QK_CODEC_SYMMETRIC per channel on axis 0 with the fewest levels (a fractional
 *  step size found by bisection, so any SQNR is reachable, not only whole bits) whose SQNR is at
 *  least target_sqnr_db, within max_bits. If 8 bits cannot reach the target, F16 then exact F32.
 *  @param target_sqnr_db > 0, or 0 to use max_bits alone.
 *  @param max_bits 2..8, or 0 for 8. With a target of 0 the tensor gets exactly max_bits.
 *  @param codec_out, levels_out (may be NULL): the choice made. */
QK_API qk_status qk_qkw_writer_add_budget(qk_qkw_writer* writer, const char* name, const float* data,
                                          const int64_t* shape, size_t rank, double target_sqnr_db,
                                          int32_t max_bits, qk_codec* codec_out, int32_t* levels_out,
                                          double* sqnr_db_out, double* max_abs_error_out);

/** Adds codes that are already quantized, stored as they are (no re-quantization), so that
 *  quantized weights load straight back into the kernels.
 *  qparams: S8 symmetric (per tensor, per channel or per group, zero point 0, range [-L, L]
 *  with L <= 127) -> QK_CODEC_SYMMETRIC; S8/U8 affine per tensor or per channel (integer or float
 *  zero points) -> QK_CODEC_AFFINE; S4 per-group symmetric (packed two per byte, as qk_quantize
 *  writes them) -> QK_CODEC_SYMMETRIC with one code per byte. codes_bytes must equal
 *  qk_dtype_storage_size(dtype, elements). Codes outside the qparams range: INVALID_ARGUMENT.
 *  @param source NULL, or the f32 tensor the codes came from (the SQNR is then measured and
 *         stored; otherwise it is recorded as NaN, "not measured"). */
QK_API qk_status qk_qkw_writer_add_quantized(qk_qkw_writer* writer, const char* name, const void* codes,
                                             size_t codes_bytes, const int64_t* shape, size_t rank,
                                             const qk_qparams* qparams, const float* source);

/** Adds data stored bit for bit: dtype F32, F16, BF16, S8, U8, S32 or S64; bytes must equal
 *  elements * element size. */
QK_API qk_status qk_qkw_writer_add_raw(qk_qkw_writer* writer, const char* name, const void* data, size_t bytes,
                                       qk_dtype dtype, const int64_t* shape, size_t rank);

/** Sets a metadata pair (replacing an earlier value of the same key). key: 1..256 bytes of
 *  printable ASCII without spaces (dotted names such as "source.sha256" by convention); value:
 *  valid UTF-8, at most 65536 bytes; at most 4096 keys. */
QK_API qk_status qk_qkw_writer_set_metadata(qk_qkw_writer* writer, const char* key, const char* value);

/** Writes the file atomically (temporary file in the same folder, fsync, rename, fsync of the
 *  folder). Afterwards the writer only accepts qk_qkw_writer_destroy(), whatever the outcome.
 *  @return QK_OK, QK_ERR_IO (with the OS error; `path` is untouched), QK_ERR_STATE (finished
 *  already), QK_ERR_OUT_OF_MEMORY. */
QK_API qk_status qk_qkw_writer_finish(qk_qkw_writer* writer);

/** How much a reader checks. Values are ABI. */
typedef enum qk_verify_mode {
  /** At open: the table, every chunk's checksum and zstd frame headers, every padding byte. */
  QK_VERIFY_FULL = 0,
  /** At open: the table only; a chunk's checksum is checked on its first use (then remembered). */
  QK_VERIFY_LAZY = 1,
  /** The table's structure only (its checksum too): for trusted caches. */
  QK_VERIFY_NONE = 2,
  QK_VERIFY_MODE_MAX_ENUM = 0x7FFFFFFF
} qk_verify_mode;

typedef struct qk_qkw_reader qk_qkw_reader;

/** Opens a file read-only through a memory map.
 *  @param memory_budget upper bound in bytes on what the reader allocates for one call (its
 *         table at open; decompression scratch when decoding); 0 = no bound. A file can never make
 *         the reader allocate more than its table and one tensor's decoded size.
 *  @return QK_OK, QK_ERR_IO (cannot open/map), QK_ERR_CORRUPT (not a .qkw file, damaged,
 *  truncated, inconsistent: the message names the field), QK_ERR_UNSUPPORTED (a newer major
 *  version or an unknown required flag), QK_ERR_OUT_OF_MEMORY (also: over the budget). */
QK_API qk_status qk_qkw_open_file(const char* path, qk_verify_mode mode, uint64_t memory_budget,
                                  qk_qkw_reader** reader_out);
/** Opens a file image held by the caller, without copying it: `data` must stay valid and
 *  unchanged until qk_qkw_close(). Same checks and statuses as qk_qkw_open_file(). */
QK_API qk_status qk_qkw_open_memory(const void* data, size_t size, qk_verify_mode mode, uint64_t memory_budget,
                                    qk_qkw_reader** reader_out);
/** Closes the reader (unmapping the file); NULL is a no-op. Pointers obtained from it die. */
QK_API void qk_qkw_close(qk_qkw_reader* reader);

/** Checks every chunk's checksum and frame headers and every padding byte now, whatever the open
 *  mode. @return QK_OK or QK_ERR_CORRUPT naming the first bad tensor. */
QK_API qk_status qk_qkw_verify(const qk_qkw_reader* reader);

/** Number of tensors. Tensors are indexed 0..count-1 in name order (byte-wise). */
QK_API qk_status qk_qkw_tensor_count(const qk_qkw_reader* reader, size_t* count_out);
/** Index of the tensor called `name` (binary search). @return QK_OK, QK_ERR_NOT_FOUND. */
QK_API qk_status qk_qkw_find(const qk_qkw_reader* reader, const char* name, size_t* index_out);
/** Name of tensor `index`: NUL-terminated, valid until qk_qkw_close(). */
QK_API qk_status qk_qkw_tensor_name(const qk_qkw_reader* reader, size_t index, const char** name_out);
/** Shape of tensor `index`: *rank_out <= QK_MAX_RANK dimensions into shape_out (capacity `capacity`;
 *  QK_ERR_BUFFER_TOO_SMALL reports the rank through *rank_out and writes nothing else). */
QK_API qk_status qk_qkw_tensor_shape(const qk_qkw_reader* reader, size_t index, int64_t* shape_out,
                                     size_t capacity, size_t* rank_out);

/** What the table says about one tensor. The layout may only grow under a new function. */
typedef struct qk_qkw_tensor_info {
  qk_codec codec;            /**< may be a codec this version does not know (then status says so) */
  qk_dtype dtype;            /**< RAW: stored dtype; AFFINE*: U8/S8 codes; SYMMETRIC/Q8_0/Q4_0: S8; LUT: U8 */
  uint32_t rank;             /**< number of dimensions (qk_qkw_tensor_shape gives them) */
  int32_t axis;              /**< channel/group axis (SYMMETRIC, AFFINE*), -1 for per tensor or none */
  int64_t group_size;        /**< SYMMETRIC per group; 32 for the ggml codecs; 0 otherwise */
  int32_t levels;            /**< SYMMETRIC: largest |code|; LUT: entries; 0 otherwise */
  int32_t bits;              /**< bits a code needs: ceil(log2(2*levels+1)), log2 of LUT size, 8, 4 */
  uint64_t element_count;    /**< product of the shape */
  uint64_t stored_bytes;     /**< bytes of the chunk on disk */
  uint64_t decoded_bytes;    /**< bytes of parameters + codes once decompressed */
  uint64_t code_bytes;       /**< bytes qk_qkw_read_codes() writes */
  uint64_t param_count;      /**< floats qk_qkw_read_params() writes */
  double sqnr_db;            /**< measured by the writer; +Inf exact, NaN not measured */
  double max_abs_error;      /**< measured by the writer; NaN not measured */
  int32_t compressed;        /**< 1 if the chunk is zstd frames */
  int32_t mappable;          /**< 1 if qk_qkw_map_codes() works (uncompressed chunk) */
  qk_status status;          /**< QK_OK, or QK_ERR_UNSUPPORTED for an unknown codec */
} qk_qkw_tensor_info;

QK_API qk_status qk_qkw_tensor_info_get(const qk_qkw_reader* reader, size_t index, qk_qkw_tensor_info* info_out);

/** Decodes tensor `index` to f32 into dst (dst_count must equal its element count). S32/S64 raw
 *  tensors convert with float rounding. Checks the chunk first (lazy mode: once) and every zstd
 *  frame's declared size. @return QK_OK, QK_ERR_INVALID_ARGUMENT (count), QK_ERR_CORRUPT,
 *  QK_ERR_UNSUPPORTED (unknown codec), QK_ERR_OUT_OF_MEMORY (also: over the budget). */
QK_API qk_status qk_qkw_decode_f32(const qk_qkw_reader* reader, size_t index, float* dst, size_t dst_count);
/** Copies the code stream (info.code_bytes bytes): RAW data as stored, one code per element for
 *  SYMMETRIC, AFFINE, AFFINE_OFFSET and LUT, the blocks for Q8_0/Q4_0. */
QK_API qk_status qk_qkw_read_codes(const qk_qkw_reader* reader, size_t index, void* codes, size_t codes_bytes);
/** Copies the parameters (info.param_count floats): SYMMETRIC scales (row-major over the shape
 *  with the axis replaced by its channel or group count); AFFINE* scales[P] then zero points or
 *  offsets[P]; LUT entries; nothing for RAW and ggml (count 0). */
QK_API qk_status qk_qkw_read_params(const qk_qkw_reader* reader, size_t index, float* params, size_t param_count);
/** qparams for a SYMMETRIC (levels <= 127) or AFFINE tensor with integral zero points, to use
 *  with its codes in qk_dequantize() or qk_packed_weights_create(). Owned by the caller.
 *  @return QK_ERR_UNSUPPORTED for the other codecs. */
QK_API qk_status qk_qkw_tensor_qparams(const qk_qkw_reader* reader, size_t index, qk_qparams** qparams_out);
/** Zero-copy view of the code stream of an uncompressed chunk (valid until qk_qkw_close();
 *  aligned to the file's alignment for RAW). @return QK_ERR_STATE if the chunk is compressed. */
QK_API qk_status qk_qkw_map_codes(const qk_qkw_reader* reader, size_t index, const void** codes_out,
                                  size_t* bytes_out);

/** Metadata pairs, in key order. */
QK_API qk_status qk_qkw_metadata_count(const qk_qkw_reader* reader, size_t* count_out);
/** Key and value of pair `index` (NUL-terminated, valid until qk_qkw_close()). */
QK_API qk_status qk_qkw_metadata_at(const qk_qkw_reader* reader, size_t index, const char** key_out,
                                    const char** value_out);
/** Value of `key`. @return QK_OK, QK_ERR_NOT_FOUND. */
QK_API qk_status qk_qkw_metadata_get(const qk_qkw_reader* reader, const char* key, const char** value_out);
/** File-level facts: format version, alignment, file size. Any output may be NULL. */
QK_API qk_status qk_qkw_file_info(const qk_qkw_reader* reader, uint32_t* version_major_out,
                                  uint32_t* version_minor_out, uint32_t* alignment_out, uint64_t* file_size_out);

/* ===================================================================================== */
/** @defgroup model Model graphs: build, fuse, calibrate, convert, run, save             */
/* ===================================================================================== */
/*
 * A qk_model is a DAG of layers over named tensors, built layer by layer. Tensors are named
 * once (each layer creates its output tensor; reusing a name is an error), so layers are always
 * in a valid execution order. Shapes are per sample (without the batch dimension): {C, H, W}
 * for images, {F} for feature vectors. Runs take f32 NCHW (or {N, F}) input with a leading batch
 * dimension N >= 1 and write f32 output.
 *
 * Life cycle (qk_model_state):
 *   FLOAT      build layers, qk_model_fuse(), set qconfigs; qk_model_run() runs in f32 (the
 *              accuracy reference).
 *   PREPARED   qk_model_prepare(): an observer is attached to every activation that gets its
 *              own qparams (the input, and the outputs of conv, linear, batch norm, add, softmax
 *              and skipped layers; ReLU, Hardtanh, pools, Flatten and Dropout keep their input's
 *              qparams, as PyTorch's quantized modules do). The caller then feeds calibration
 *              data with qk_model_calibrate(model, batch, shape, rank), one call per batch: the
 *              loop (and any progress report) stays with the caller, so nothing here needs a
 *              callback. qk_model_run() still runs in f32.
 *   CONVERTED  qk_model_convert(): qparams from the observers (or from
 *              qk_model_set_tensor_qparams(), e.g. QAT results), weights quantized and packed,
 *              int8 operators built (qconv2d / qlinear with the fused clamp, qadd, pools).
 *              qk_model_run() quantizes the input, runs integer kernels only (layers kept in
 *              float by qk_model_set_layer_skip(), unfused batch norms and softmax excepted:
 *              their inputs are dequantized and outputs requantized), and dequantizes the output.
 *   DYNAMIC    qk_model_quantize_dynamic() from FLOAT: Linear weights int8 per channel,
 *              activations quantized at run time (the dynamic-linear operator); the rest f32.
 * CONVERTED and DYNAMIC models are immutable: every mutating call returns QK_ERR_STATE, and
 * qk_model_run() / qk_model_layer_sqnr() / qk_model_save() may be called from several threads at
 * once. FLOAT and PREPARED models follow the one-thread-per-handle rule.
 *
 * Names (layers, tensors) are 1..256 bytes of printable ASCII without spaces. Build errors:
 * QK_ERR_NOT_FOUND for an unknown input tensor, QK_ERR_INVALID_ARGUMENT for a duplicate layer
 * or tensor name, a shape that does not fit the layer, or a bad parameter; QK_ERR_STATE after
 * prepare/convert. Nothing is changed on error.
 */

typedef struct qk_model qk_model;

/** Layer kinds. Values are ABI. */
typedef enum qk_layer_kind {
  QK_LAYER_CONV2D = 1,
  QK_LAYER_LINEAR = 2,
  QK_LAYER_BATCHNORM = 3, /**< BatchNorm1d ({F} input) or BatchNorm2d ({C, H, W} input) */
  QK_LAYER_RELU = 4,
  QK_LAYER_HARDTANH = 5,  /**< clamp(x, min, max); ReLU6 is Hardtanh(0, 6) */
  QK_LAYER_MAX_POOL2D = 6,
  QK_LAYER_AVG_POOL2D = 7,
  QK_LAYER_GLOBAL_AVG_POOL2D = 8, /**< {C, H, W} -> {C, 1, 1} (adaptive_avg_pool2d(1)) */
  QK_LAYER_FLATTEN = 9,           /**< {C, H, W} -> {C*H*W} in C, H, W order (torch.flatten(x, 1)) */
  QK_LAYER_ADD = 10,
  QK_LAYER_DROPOUT = 11, /**< identity (inference) */
  QK_LAYER_SOFTMAX = 12, /**< over {F}; always computed in f32 */
  QK_LAYER_SIGMOID = 13,   /**< 1 / (1 + exp(-x)); int8: fixed output qparams scale 1/256 (PyTorch's) */
  QK_LAYER_HARDSWISH = 14, /**< x * relu6(x + 3) / 6 (MobileNetV3); int8: observed output qparams */
  QK_LAYER_CONCAT = 15,    /**< along C of {C, H, W} or F of {F} (torch.cat(dim=1)) */
  QK_LAYER_RESHAPE = 16,   /**< per-sample reshape in C, H, W order (torch.reshape of NCHW) */
  QK_LAYER_KIND_MAX_ENUM = 0x7FFFFFFF
} qk_layer_kind;

/** Model states (see above). Values are ABI. */
typedef enum qk_model_state {
  QK_MODEL_FLOAT = 1,
  QK_MODEL_PREPARED = 2,
  QK_MODEL_CONVERTED = 3,
  QK_MODEL_DYNAMIC = 4,
  QK_MODEL_STATE_MAX_ENUM = 0x7FFFFFFF
} qk_model_state;

/** Creates an empty FLOAT model with one input tensor of per-sample shape `sample_shape`
 *  (rank 1: {F}, or rank 3: {C, H, W}; every dimension >= 1). */
QK_API qk_status qk_model_create(const char* input_name, const int64_t* sample_shape, size_t rank,
                                 qk_model** model_out);
QK_API void qk_model_destroy(qk_model* model);

/** Conv2d (PyTorch semantics). weight: OIHW f32 {out_c, in_c/groups, kh, kw}; bias NULL or out_c
 *  floats; stride {sh, sw}, padding {top, left, bottom, right}, dilation {dh, dw}, groups
 *  dividing both channel counts (groups == in_c: depthwise). Input {C, H, W} with C == in_c.
 *  All arrays are copied. */
QK_API qk_status qk_model_add_conv2d(qk_model* model, const char* name, const char* input, const char* output,
                                     const float* weight, const int64_t weight_shape[4], const float* bias,
                                     const int64_t stride[2], const int64_t padding[4], const int64_t dilation[2],
                                     int64_t groups);
/** Linear: weight [out_features][in_features] f32, bias NULL or out_features floats. Input {F}
 *  with F == in_features. */
QK_API qk_status qk_model_add_linear(qk_model* model, const char* name, const char* input, const char* output,
                                     const float* weight, int64_t out_features, int64_t in_features,
                                     const float* bias);
/** Inference batch norm over `channels` (dimension 0 of the per-sample shape): running mean and
 *  var (var + eps > 0), gamma/beta NULL (1 / 0). */
QK_API qk_status qk_model_add_batchnorm(qk_model* model, const char* name, const char* input, const char* output,
                                        int64_t channels, const float* mean, const float* var, const float* gamma,
                                        const float* beta, float eps);
QK_API qk_status qk_model_add_relu(qk_model* model, const char* name, const char* input, const char* output);
/** Hardtanh(min, max), min < max finite; ReLU6 = (0, 6). */
QK_API qk_status qk_model_add_hardtanh(qk_model* model, const char* name, const char* input, const char* output,
                                       float min_value, float max_value);
/** Max pooling (floor mode; padded positions never win; every window overlaps the input). */
QK_API qk_status qk_model_add_max_pool2d(qk_model* model, const char* name, const char* input, const char* output,
                                         const int64_t kernel[2], const int64_t stride[2], const int64_t padding[4],
                                         const int64_t dilation[2]);
/** Average pooling (floor mode), count_include_pad as in PyTorch. */
QK_API qk_status qk_model_add_avg_pool2d(qk_model* model, const char* name, const char* input, const char* output,
                                         const int64_t kernel[2], const int64_t stride[2], const int64_t padding[4],
                                         int count_include_pad);
QK_API qk_status qk_model_add_global_avg_pool2d(qk_model* model, const char* name, const char* input,
                                                const char* output);
QK_API qk_status qk_model_add_flatten(qk_model* model, const char* name, const char* input, const char* output);
/** Element-wise a + b (equal shapes). */
QK_API qk_status qk_model_add_add(qk_model* model, const char* name, const char* input_a, const char* input_b,
                                  const char* output);
QK_API qk_status qk_model_add_dropout(qk_model* model, const char* name, const char* input, const char* output);
QK_API qk_status qk_model_add_softmax(qk_model* model, const char* name, const char* input, const char* output);
/** Sigmoid. Converted, it runs as a 256-entry table of quantize(sigmoid(dequantize(code))) with
 *  the fixed output qparams of PyTorch (scale 1/256, zero point 0 for u8, -128 for s8): its output
 *  is not observed, and qk_model_set_tensor_qparams() on it is QK_ERR_INVALID_ARGUMENT. */
QK_API qk_status qk_model_add_sigmoid(qk_model* model, const char* name, const char* input, const char* output);
/** Hardswish, x * min(max(x + 3, 0), 6) / 6. Converted: a 256-entry table of
 *  quantize(hardswish(dequantize(code))), output qparams from its observer. */
QK_API qk_status qk_model_add_hardswish(qk_model* model, const char* name, const char* input, const char* output);
/** Concatenation of `input_count` (2..64) tensors along their first per-sample axis: C of
 *  {C, H, W} inputs (all other dimensions equal) or F of {F} inputs. Converted: each input is
 *  requantized to the output's observed qparams (quantize(dequantize(x)), PyTorch's quantized cat). */
QK_API qk_status qk_model_add_concat(qk_model* model, const char* name, const char* const* inputs,
                                     size_t input_count, const char* output);
/** Reshape to a per-sample `shape` of rank 1 or 3 (no batch dimension) with the input's element
 *  count, in C, H, W order; one dimension may be -1 (inferred). Keeps its input's qparams. */
QK_API qk_status qk_model_add_reshape(qk_model* model, const char* name, const char* input, const int64_t* shape,
                                      size_t rank, const char* output);
/** Memory order of the f32 data a model takes and returns for {C, H, W} samples. */
typedef enum qk_layout {
  QK_LAYOUT_NCHW = 0, /**< the default (PyTorch's) */
  QK_LAYOUT_NHWC = 1, /**< channels last (TFLite, Android camera frames) */
  QK_LAYOUT_MAX_ENUM = 0x7FFFFFFF
} qk_layout;
/** Sets the layout of qk_model_run() / qk_model_calibrate() / qk_model_layer_report() inputs
 *  ({N, H, W, C} shapes under NHWC) and of a {C, H, W} run output. {F} data is unaffected, and
 *  qk_model_tensor_shape() / qk_model_output_shape() keep reporting {C, H, W}. FLOAT models only;
 *  saved with the model. */
QK_API qk_status qk_model_set_io_layout(qk_model* model, qk_layout layout);
QK_API qk_status qk_model_get_io_layout(const qk_model* model, qk_layout* layout_out);
/** Names the model's output tensor (default: the output of the last layer added). */
QK_API qk_status qk_model_set_output(qk_model* model, const char* tensor);

QK_API qk_status qk_model_get_state(const qk_model* model, qk_model_state* state_out);
QK_API qk_status qk_model_layer_count(const qk_model* model, size_t* count_out);
/** Name of layer `index` (execution order); valid until the model changes or is destroyed. */
QK_API qk_status qk_model_layer_name(const qk_model* model, size_t index, const char** name_out);
QK_API qk_status qk_model_layer_kind(const qk_model* model, size_t index, qk_layer_kind* kind_out);
/** Per-sample shape of a tensor (QK_ERR_BUFFER_TOO_SMALL reports the rank only). */
QK_API qk_status qk_model_tensor_shape(const qk_model* model, const char* tensor, int64_t* shape_out,
                                       size_t capacity, size_t* rank_out);
/** Per-sample shape of the output tensor. */
QK_API qk_status qk_model_output_shape(const qk_model* model, int64_t* shape_out, size_t capacity, size_t* rank_out);

/** Fuses, in a FLOAT model: conv+bn, conv+bn+relu, conv+relu, linear+bn1d, linear+relu,
 *  add+relu, bn+relu, and a ReLU/Hardtanh (ReLU6) after conv/linear/add/bn into the operator's
 *  clamp (BN folded exactly as qk_fold_batchnorm; a batch norm with no conv/linear before it keeps
 *  the clamp in its own f32 op, like PyTorch's BNReLU2d). A pattern fuses only when the intermediate tensor has no other
 *  consumer and is not the model output. The fused layer keeps the first layer's name and
 *  produces the last layer's output tensor. Fusing again finds nothing new. */
QK_API qk_status qk_model_fuse(qk_model* model);
/** Number of fusions made so far, and a description of each ("conv1+bn1+relu1"). */
QK_API qk_status qk_model_fused_count(const qk_model* model, size_t* count_out);
QK_API qk_status qk_model_fused_name(const qk_model* model, size_t index, const char** name_out);

/** qconfig. `layer` NULL sets the model default; a layer name, an override for that layer (its
 *  output activation and its weights); "type:<kind>" ("type:conv2d", "type:linear", "type:add",
 *  ... the lower-case names of qk_layer_kind), an override for every layer of that kind, also
 *  those added later. A layer's own override wins over its kind's, which wins over the default.
 *  Layer names cannot start with "type:". Defaults: QK_OBSERVER_HISTOGRAM, U8 activations (per-tensor
 *  affine), QK_QSCHEME_PER_CHANNEL_SYMMETRIC s8 weights, PyTorch convention. Only FLOAT models.
 *  Observer kinds: the per-tensor ones (MINMAX, MOVING_AVERAGE_MINMAX, HISTOGRAM, PERCENTILE,
 *  ENTROPY, MSE). Weight schemes: PER_CHANNEL_SYMMETRIC, PER_TENSOR_SYMMETRIC, PER_TENSOR_AFFINE. */
QK_API qk_status qk_model_set_activation_observer(qk_model* model, const char* layer, qk_observer_kind kind);
QK_API qk_status qk_model_set_activation_dtype(qk_model* model, const char* layer, qk_dtype dtype);
QK_API qk_status qk_model_set_weight_scheme(qk_model* model, const char* layer, qk_qscheme scheme);
/** Presets named after PyTorch's backends, for familiarity; without reduce_range, since
 *  QuantKit's kernels are exact (no 16-bit accumulation to protect):
 *    "x86", "fbgemm"  HISTOGRAM observer, U8 activations, PER_CHANNEL_SYMMETRIC s8 weights;
 *    "qnnpack"        HISTOGRAM observer, U8 activations, PER_TENSOR_SYMMETRIC s8 weights.
 *  `layer` as above. Unknown preset: QK_ERR_INVALID_ARGUMENT. */
QK_API qk_status qk_model_set_qconfig_preset(qk_model* model, const char* layer, const char* preset);
/** skip != 0 keeps `layer` in f32 after conversion (its output is still observed, so consumers
 *  can be int8). */
QK_API qk_status qk_model_set_layer_skip(qk_model* model, const char* layer, int skip);

/** FLOAT -> PREPARED: attaches the activation observers. */
QK_API qk_status qk_model_prepare(qk_model* model);
/** Runs one calibration batch (f32, shape {N, sample...}) through the float model and updates
 *  every observer. Call once per batch. Non-finite inputs: QK_ERR_INVALID_ARGUMENT. */
QK_API qk_status qk_model_calibrate(qk_model* model, const float* data, const int64_t* shape, size_t rank);
/** Serializes the observers of a PREPARED model (every observed tensor's statistics, by tensor
 *  name; versioned and checksummed) so calibration can be split across threads or processes:
 *  each part calibrates its own copy of the model (same graph and qconfig), then one model
 *  merges the others' states with qk_model_merge_observers() and converts. Pass buffer NULL
 *  (capacity 0) to get the size; QK_ERR_BUFFER_TOO_SMALL (with *size_out set) if too small. */
QK_API qk_status qk_model_save_observers(const qk_model* model, void* buffer, size_t capacity, size_t* size_out);
/** Folds a qk_model_save_observers() state into this PREPARED model's observers, each by the
 *  rules of qk_observer_merge() (min/max kinds exactly: merging the halves equals calibrating on
 *  the whole). A state from another graph or qconfig: QK_ERR_INVALID_ARGUMENT; damaged bytes:
 *  QK_ERR_CORRUPT. All or nothing: on error no observer changes. */
QK_API qk_status qk_model_merge_observers(qk_model* model, const void* state, size_t size);
/** Sets a tensor's qparams (per-tensor U8/S8, e.g. scale/zero point learnt by QAT) in place of its
 *  observer's result; FLOAT or PREPARED models. Tensors whose qparams come from their input
 *  (outputs of ReLU, pools, ...) cannot be set (QK_ERR_INVALID_ARGUMENT). */
QK_API qk_status qk_model_set_tensor_qparams(qk_model* model, const char* tensor, const qk_qparams* qparams);
/** PREPARED -> CONVERTED. QK_ERR_STATE if an observed tensor saw no data and has no qparams set. */
QK_API qk_status qk_model_convert(qk_model* model);
/** FLOAT -> DYNAMIC (PyTorch quantize_dynamic for Linear layers, and 1x1 stride-1 unpadded
 *  ungrouped convs run as a linear over each pixel's channels; skipped layers and other convs
 *  stay f32). */
QK_API qk_status qk_model_quantize_dynamic(qk_model* model);
/** Qparams of a tensor of a CONVERTED model (owned by the caller). */
QK_API qk_status qk_model_get_tensor_qparams(const qk_model* model, const char* tensor, qk_qparams** qparams_out);

/** Runs the model: input f32 of shape {N, sample...} (N >= 1), output {N, output sample...}
 *  f32 (output_count must equal that element count). pool may be NULL. */
QK_API qk_status qk_model_run(const qk_model* model, const float* input, const int64_t* shape, size_t rank,
                              float* output, size_t output_count, qk_threadpool* pool);
/** Numeric report of a CONVERTED model: for each layer (in qk_model_layer_name order) the SQNR in
 *  dB of its dequantized int8 output against the float model's output on the same batch (errors
 *  accumulate, as in PyTorch's numeric suite; +Inf if equal). capacity must be >= the layer
 *  count. QK_ERR_STATE if the model holds no float weights (loaded from a file). */
QK_API qk_status qk_model_layer_sqnr(const qk_model* model, const float* input, const int64_t* shape, size_t rank,
                                     double* sqnr_out, size_t capacity);
/** The same report with the largest absolute error of each layer's output as well (PyTorch's
 *  numeric suite compares both). Either output may be NULL, not both; capacity as above. */
QK_API qk_status qk_model_layer_report(const qk_model* model, const float* input, const int64_t* shape, size_t rank,
                                       double* sqnr_out, double* max_error_out, size_t capacity);

/** Writes the model to a .qkw file: the graph as line-based text under metadata key
 *  "model.graph", weights as tensors "<layer>.<param>" (int8 codes stored as they are with
 *  qk_qkw_writer_add_quantized for converted/dynamic layers, f32 raw otherwise). FLOAT, CONVERTED
 *  and DYNAMIC models (PREPARED: QK_ERR_STATE). */
QK_API qk_status qk_model_save(const qk_model* model, const char* path);
/** Loads a model written by qk_model_save(), without re-quantizing: a converted model runs
 *  bit-identically. An inconsistent or hostile graph is QK_ERR_CORRUPT naming the line. */
QK_API qk_status qk_model_load(const char* path, qk_model** model_out);
/** qk_model_load() from a file image in memory (`size` bytes at `bytes`, e.g. an embedded asset
 *  or a download): the same checks and the same model as qk_model_load() on a file holding those
 *  bytes. The bytes are only read during the call (the model keeps its own copies).
 *  @return QK_OK, QK_ERR_INVALID_ARGUMENT (NULL bytes or model_out), QK_ERR_CORRUPT (not a model
 *  file, or a hostile graph, naming the line), QK_ERR_UNSUPPORTED, QK_ERR_OUT_OF_MEMORY. */
QK_API qk_status qk_model_load_memory(const void* bytes, size_t size, qk_model** model_out);

/* ===================================================================================== */
/** @defgroup graph General model graphs (EXPERIMENTAL until 1.1)                        */
/* ===================================================================================== */
/*
 * EXPERIMENTAL: the functions of this group may still change (names, arguments, the op set and
 * the graph text v2) until QuantKit 1.1; they are exported by ABI 1 but not yet frozen, as zstd's
 * ZSTD_STATIC_LINKING_ONLY section. Define QK_NO_EXPERIMENTAL before including this header to
 * hide them and stay on the stable API only.
 *
 * A graph model (qk_model_create_graph) is a general graph: VALUES (graph inputs of any rank
 * 0..8 whose dimensions may be symbolic, such as the batch or a sequence length, and are
 * resolved when the model runs; constants, which hold the weights; node outputs) and NODES that
 * apply a registered op ("Conv", "MatMul", "Add", ...; ONNX's names and semantics where ONNX has
 * the op, see docs/MODEL_GRAPH.md for the list, attributes and quantization rules) to input
 * values. Any number of inputs and outputs. The life cycle and the qconfig calls are the model
 * group's (qk_model_fuse, qk_model_prepare, qk_model_convert, qk_model_quantize_dynamic,
 * qk_model_set_activation_observer / _dtype / qk_model_set_weight_scheme / qk_model_set_layer_skip
 * with a node name or "type:<Op>", qk_model_set_tensor_qparams with a value name, qk_model_save /
 * qk_model_load), so are qk_model_run() and qk_model_calibrate() for a graph with one f32 input
 * (shape with the batch) and one output. Several inputs or outputs run through a qk_run context.
 *
 * Dtypes of values: f32, s32, s64, bool (QK_DTYPE_BOOL, graph values only), and for constants
 * also f16, s8, u8. Symbolic dims: dims[i] < 0 with a name in dim_names[i]; equal names are the
 * same size within one run.
 */
#ifndef QK_NO_EXPERIMENTAL

/** A bool graph value (one byte, 0 or 1). Graph values only: no other function takes it. */
#define QK_DTYPE_BOOL ((qk_dtype)10)

/** Typed attributes of one node: build, pass to qk_model_add_node (copied), destroy. Setting a
 *  name again replaces its value. Names are 1..64 bytes; lists hold at most 4096 elements. */
typedef struct qk_attrs qk_attrs;
QK_API qk_status qk_attrs_create(qk_attrs** attrs_out);
QK_API void qk_attrs_destroy(qk_attrs* attrs);
QK_API qk_status qk_attrs_set_int(qk_attrs* attrs, const char* name, int64_t value);
QK_API qk_status qk_attrs_set_float(qk_attrs* attrs, const char* name, float value);
QK_API qk_status qk_attrs_set_string(qk_attrs* attrs, const char* name, const char* value);
/** values may be NULL when count is 0. */
QK_API qk_status qk_attrs_set_ints(qk_attrs* attrs, const char* name, const int64_t* values, size_t count);
QK_API qk_status qk_attrs_set_floats(qk_attrs* attrs, const char* name, const float* values, size_t count);

/** Creates an empty FLOAT graph model: no inputs, no nodes. */
QK_API qk_status qk_model_create_graph(qk_model** model_out);
/** Adds a graph input. dims[i] >= 0 is a fixed size; dims[i] < 0 is symbolic, named
 *  dim_names[i] (dim_names may be NULL when no dim is symbolic). dtype: f32, s32, s64, bool. */
QK_API qk_status qk_model_add_input(qk_model* model, const char* name, qk_dtype dtype, const int64_t* dims,
                                    const char* const* dim_names, size_t rank);
/** Adds a constant value (weights, biases, index tensors): `bytes` must be exactly the size of
 *  dtype x shape; the data is copied once and shared by every run. f32 data must be finite. */
QK_API qk_status qk_model_add_constant(qk_model* model, const char* name, qk_dtype dtype, const int64_t* shape,
                                       size_t rank, const void* data, size_t bytes);
/** Adds a node applying op `op_type` to `inputs` (value names; "" leaves an optional input out)
 *  and defining the new values `outputs`. attrs may be NULL (no attributes). The op validates
 *  the attributes, input dtypes and shapes (numpy broadcasting, negative axes, symbolic dims)
 *  and infers the outputs' before anything changes.
 *  @return QK_OK, QK_ERR_UNSUPPORTED (unknown op), QK_ERR_NOT_FOUND (unknown input),
 *  QK_ERR_INVALID_ARGUMENT, QK_ERR_STATE (not FLOAT). */
QK_API qk_status qk_model_add_node(qk_model* model, const char* op_type, const char* name,
                                   const char* const* inputs, size_t input_count, const char* const* outputs,
                                   size_t output_count, const qk_attrs* attrs);
/** Marks a value as a graph output (in call order). */
QK_API qk_status qk_model_add_output(qk_model* model, const char* value);
/** Graph inputs and outputs in the order they were added; names stay valid while the model lives. */
QK_API qk_status qk_model_input_count(const qk_model* model, size_t* count_out);
QK_API qk_status qk_model_input_name(const qk_model* model, size_t index, const char** name_out);
QK_API qk_status qk_model_output_count(const qk_model* model, size_t* count_out);
QK_API qk_status qk_model_output_name(const qk_model* model, size_t index, const char** name_out);
/** 1 for a model made by qk_model_create_graph (or loaded from a v2 graph), 0 otherwise. */
QK_API qk_status qk_model_is_graph(const qk_model* model, int* is_graph_out);
/** Nodes of a graph model in execution order (after convert: including the inserted
 *  qk.Quantize / qk.Dequantize / qk.Reorder nodes); name and op type stay valid until the model
 *  changes or is destroyed. */
QK_API qk_status qk_model_node_count(const qk_model* model, size_t* count_out);
QK_API qk_status qk_model_node_info(const qk_model* model, size_t index, const char** name_out,
                                    const char** op_type_out);
/** Declared shape of a value: symbolic dims as -1 (their names through dim_names_out, which
 *  may be NULL; each entry is NULL for a fixed dim). QK_ERR_BUFFER_TOO_SMALL sets *rank_out. */
QK_API qk_status qk_model_value_shape(const qk_model* model, const char* value, int64_t* dims_out,
                                      const char** dim_names_out, size_t capacity, size_t* rank_out,
                                      qk_dtype* dtype_out);
/** The registered op types: index 0..count-1. */
QK_API qk_status qk_op_count(size_t* count_out);
QK_API qk_status qk_op_name(size_t index, const char** name_out);

/** A run of a graph model: inputs by name, invoke, outputs by name. A context belongs to one
 *  thread; several contexts may run one CONVERTED / DYNAMIC (or FLOAT, unchanged) model at once.
 *  The model must outlive its contexts. */
typedef struct qk_run qk_run;
QK_API qk_status qk_run_create(const qk_model* model, qk_run** run_out);
QK_API void qk_run_destroy(qk_run* run);
/** Copies an input (dtype and shape checked against the model at invoke). */
QK_API qk_status qk_run_set_input(qk_run* run, const char* name, qk_dtype dtype, const void* data, size_t bytes,
                                  const int64_t* shape, size_t rank);
/** Runs the model on the inputs set so far (all of them must be set). pool may be NULL. */
QK_API qk_status qk_run_invoke(qk_run* run, qk_threadpool* pool);
/** Shape of an output of the last invoke. */
QK_API qk_status qk_run_output_shape(const qk_run* run, const char* name, int64_t* shape_out, size_t capacity,
                                     size_t* rank_out);
/** Copies an output of the last invoke; bytes must be exactly its size (quantized outputs are
 *  returned dequantized, f32). */
QK_API qk_status qk_run_get_output(const qk_run* run, const char* name, qk_dtype dtype, void* data, size_t bytes);
/** Calibrates a PREPARED graph model with the inputs set on `run` (a context of this model). */
QK_API qk_status qk_model_calibrate_run(qk_model* model, const qk_run* run);
/** Numeric report of a CONVERTED graph model on the inputs set on `run`: for every node in
 *  qk_model_node_count() order, the SQNR (dB; +Inf when exact) and max |float - int8| of its first
 *  output, the float graph against the converted one (NaN for the qk.* nodes convert inserted and
 *  for non-f32 outputs). Either output may be NULL, not both; capacity >= node count. For a graph
 *  with one f32 input, qk_model_layer_report() / qk_model_layer_sqnr() give the same numbers. */
QK_API qk_status qk_model_node_report(const qk_model* model, const qk_run* run, double* sqnr_out,
                                      double* max_error_out, size_t capacity);

/*-************************************************************************************************
 * ONNX import (experimental until 1.1)
 *
 * An ONNX model (opsets 7..18 of the default domain) becomes a FLOAT graph model: initializers
 * are constants, graph inputs keep their names and dims (dim_param names stay symbolic; a dim
 * with neither value nor name becomes the symbol "<input>_dim<i>"), the shape arithmetic that
 * exporters emit (Shape, Gather, Unsqueeze, Concat, Slice, Cast, Constant, ConstantOfShape) is
 * folded at import with the batch kept symbolic, and each node maps onto the graph's ops
 * (docs/ONNX.md lists them). Value names are kept, with bytes the graph text cannot hold (space,
 * comma, non-ASCII) replaced by '_'. A model with an op QuantKit does not take fails as a whole
 * with QK_ERR_UNSUPPORTED listing every unsupported op type and one node of each: never a partial
 * model. Malformed or hostile files are QK_ERR_CORRUPT: the protobuf is parsed by protobuf-c with
 * a nesting bound and a memory budget proportional to the file size, and every tensor's size is
 * checked against the bytes that hold it before anything is allocated. Tensors in external data
 * files are read only from regular files inside the model's folder (relative paths without "..",
 * symbolic links resolved and checked), offsets and lengths checked against the file size.
 *************************************************************************************************/
/** Imports the ONNX model at `path` (at most 2 GiB; weights beyond that belong in external data).
 *  options: NULL (reserved for import options).
 *  @return QK_OK, QK_ERR_IO, QK_ERR_CORRUPT, QK_ERR_UNSUPPORTED, QK_ERR_INVALID_ARGUMENT. */
QK_API qk_status qk_model_load_onnx(const char* path, const qk_attrs* options, qk_model** model_out);
/** The same from a serialized ModelProto in memory; external data is refused (there is no folder). */
QK_API qk_status qk_model_load_onnx_memory(const void* data, size_t size, const qk_attrs* options,
                                           qk_model** model_out);

#endif /* QK_NO_EXPERIMENTAL */

#ifdef __cplusplus
}
#endif

#endif /* QUANTKIT_QUANTKIT_H */
