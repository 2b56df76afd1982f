// SPDX-License-Identifier: Apache-2.0
// C shims for thread pools, packed weights, quantized linear and dynamic linear: argument checks
// (pointers, sizes, strides, byte lengths, overflow, enums) and the exception firewall.
#include <cmath>
#include <cstdint>
#include <memory>

#include "capi/capi_common.h"
#include "core/threadpool.h"
#include "ops/dynamic_linear.h"
#include "ops/packed_weights.h"
#include "ops/qlinear.h"

struct qk_packed_weights {
  std::shared_ptr<const qk::PackedWeights> weights;
};
struct qk_qlinear {
  std::unique_ptr<qk::QLinear> op;
};
struct qk_dynamic_linear {
  std::unique_ptr<qk::DynamicLinear> op;
};

namespace {

// More threads than this is a caller's mistake, not a machine.
constexpr size_t kMaxThreads = 1024;
constexpr int64_t kMaxDim = int64_t(1) << 31;
// Element counts of a strided matrix must stay far from overflow in byte arithmetic.
constexpr uint64_t kMaxElements = uint64_t(1) << 60;

// Elements spanned by `rows` rows of `cols` elements with row stride `stride`: (rows-1)*stride +
// cols. Validates the stride and the overflow; `what` names the buffer, `stride_name` its stride.
uint64_t matrix_span(const char* what, const char* stride_name, int64_t rows, size_t cols, int64_t stride) {
  QK_FAIL_IF(stride < 0 || static_cast<uint64_t>(stride) < cols, kInvalidArgument,
             "%s %lld is smaller than the row length %zu", stride_name, (long long)stride, cols);
  QK_FAIL_IF(static_cast<uint64_t>(stride) > kMaxElements, kInvalidArgument, "%s %lld is too large", stride_name,
             (long long)stride);
  if (rows == 0) return 0;
  unsigned __int128 span = static_cast<unsigned __int128>(rows - 1) * static_cast<uint64_t>(stride) + cols;
  QK_FAIL_IF(span > kMaxElements, kInvalidArgument, "%s of %lld rows with stride %lld is too large", what,
             (long long)rows, (long long)stride);
  return static_cast<uint64_t>(span);
}

void check_rows(int64_t m) {
  QK_FAIL_IF(m < 0, kInvalidArgument, "m %lld is negative", (long long)m);
}

void check_no_overlap(const void* a, uint64_t a_bytes, const void* b, uint64_t b_bytes) {
  const uintptr_t x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  QK_FAIL_IF(x < y + b_bytes && y < x + a_bytes, kInvalidArgument, "input and output overlap");
}

qk::ThreadPool* unwrap(qk_threadpool* pool) { return pool ? &pool->pool : nullptr; }

}  // namespace

extern "C" {

QK_API qk_status qk_threadpool_create(size_t thread_count, qk_threadpool** pool_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(pool_out);
    QK_FAIL_IF(thread_count > kMaxThreads, kInvalidArgument, "thread_count %zu is above the limit of %zu",
               thread_count, kMaxThreads);
    const size_t threads = thread_count == 0 ? qk::ThreadPool::default_thread_count() : thread_count;
    *pool_out = new qk_threadpool(threads < kMaxThreads ? threads : kMaxThreads);
  });
}

QK_API void qk_threadpool_destroy(qk_threadpool* pool) { delete pool; }

QK_API qk_status qk_threadpool_get_thread_count(const qk_threadpool* pool, size_t* count_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(pool);
    QK_REQUIRE_NOT_NULL(count_out);
    *count_out = pool->pool.thread_count();
  });
}

QK_API qk_status qk_packed_weights_create(const int8_t* weights, int64_t n, int64_t k, int64_t ldw,
                                          const qk_qparams* weight_qparams, const void* bias, qk_dtype bias_dtype,
                                          qk_packed_weights** weights_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(weights);
    QK_REQUIRE_NOT_NULL(weight_qparams);
    QK_REQUIRE_NOT_NULL(weights_out);
    QK_FAIL_IF(n < 1 || n >= kMaxDim, kInvalidArgument, "n %lld is outside [1, 2^31)", (long long)n);
    QK_FAIL_IF(k < 1 || k >= kMaxDim, kInvalidArgument, "k %lld is outside [1, 2^31)", (long long)k);
    QK_FAIL_IF(k > int64_t(qk::kMaxGemmDepth), kInvalidArgument,
               "k %lld is above %zu (int32 accumulators could overflow)", (long long)k, qk::kMaxGemmDepth);
    matrix_span("weights", "ldw", n, static_cast<size_t>(k), ldw);
    QK_REQUIRE_ENUM(qk::is_valid_dtype, bias_dtype, "bias_dtype");
    auto handle = std::make_unique<qk_packed_weights>();
    handle->weights = qk::make_packed_weights(weights, static_cast<size_t>(n), static_cast<size_t>(k),
                                              static_cast<size_t>(ldw), weight_qparams->qp, bias,
                                              static_cast<qk::DType>(bias_dtype));
    *weights_out = handle.release();
  });
}

QK_API void qk_packed_weights_destroy(qk_packed_weights* weights) { delete weights; }

QK_API qk_status qk_packed_weights_get_shape(const qk_packed_weights* weights, int64_t* n_out, int64_t* k_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(weights);
    QK_REQUIRE_NOT_NULL(n_out);
    QK_REQUIRE_NOT_NULL(k_out);
    *n_out = static_cast<int64_t>(weights->weights->n);
    *k_out = static_cast<int64_t>(weights->weights->k);
  });
}

QK_API qk_status qk_packed_weights_get_isa(const qk_packed_weights* weights, const char** isa_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(weights);
    QK_REQUIRE_NOT_NULL(isa_out);
    *isa_out = weights->weights->kernel.isa;
  });
}

QK_API qk_status qk_qlinear_create(const qk_packed_weights* weights, const qk_qparams* input_qparams,
                                   qk_output_kind output_kind, const qk_qparams* output_qparams, float output_min,
                                   float output_max, qk_requant_mode mode, qk_qlinear** op_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(weights);
    QK_REQUIRE_NOT_NULL(input_qparams);
    QK_REQUIRE_NOT_NULL(op_out);
    QK_FAIL_IF(output_kind != QK_OUTPUT_QUANTIZED && output_kind != QK_OUTPUT_S32 && output_kind != QK_OUTPUT_F32,
               kInvalidArgument, "output_kind %d is not a valid value", static_cast<int>(output_kind));
    QK_FAIL_IF(mode != QK_REQUANT_FLOAT && mode != QK_REQUANT_FIXED_POINT, kInvalidArgument,
               "mode %d is not a valid value", static_cast<int>(mode));
    auto handle = std::make_unique<qk_qlinear>();
    handle->op = std::make_unique<qk::QLinear>(weights->weights, input_qparams->qp,
                                               static_cast<qk::GemmOutput>(output_kind),
                                               output_qparams ? &output_qparams->qp : nullptr, output_min, output_max,
                                               mode == QK_REQUANT_FIXED_POINT);
    *op_out = handle.release();
  });
}

QK_API qk_status qk_qlinear_run(const qk_qlinear* op, int64_t m, const void* input, int64_t input_stride,
                                size_t input_bytes, void* output, int64_t output_stride, size_t output_bytes,
                                qk_threadpool* pool) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(op);
    check_rows(m);
    const qk::QLinear& q = *op->op;
    const uint64_t in_span = matrix_span("input", "input_stride", m, q.k(), input_stride);
    const uint64_t out_span = matrix_span("output", "output_stride", m, q.n(), output_stride);
    const uint64_t out_needed = out_span * q.output_element_size();
    QK_FAIL_IF(input_bytes < in_span, kInvalidArgument, "input_bytes %zu is smaller than the %llu bytes needed",
               input_bytes, (unsigned long long)in_span);
    QK_FAIL_IF(output_bytes < out_needed, kInvalidArgument,
               "output_bytes %zu is smaller than the %llu bytes needed", output_bytes,
               (unsigned long long)out_needed);
    if (m == 0) return;
    QK_REQUIRE_NOT_NULL(input);
    QK_REQUIRE_NOT_NULL(output);
    check_no_overlap(input, in_span, output, out_needed);
    q.run(static_cast<size_t>(m), input, static_cast<size_t>(input_stride), output,
          static_cast<size_t>(output_stride), unwrap(pool));
  });
}

QK_API void qk_qlinear_destroy(qk_qlinear* op) { delete op; }

QK_API qk_status qk_dynamic_linear_create(const qk_packed_weights* weights, qk_dtype activation_dtype, int per_row,
                                          qk_dynamic_linear** op_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(weights);
    QK_REQUIRE_NOT_NULL(op_out);
    QK_REQUIRE_ENUM(qk::is_valid_dtype, activation_dtype, "activation_dtype");
    auto handle = std::make_unique<qk_dynamic_linear>();
    handle->op = std::make_unique<qk::DynamicLinear>(weights->weights, static_cast<qk::DType>(activation_dtype),
                                                     per_row != 0);
    *op_out = handle.release();
  });
}

QK_API qk_status qk_dynamic_linear_run(const qk_dynamic_linear* op, int64_t m, const float* input,
                                       int64_t input_stride, size_t input_count, float* output,
                                       int64_t output_stride, size_t output_count, qk_threadpool* pool) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(op);
    check_rows(m);
    const qk::DynamicLinear& d = *op->op;
    const uint64_t in_span = matrix_span("input", "input_stride", m, d.k(), input_stride);
    const uint64_t out_span = matrix_span("output", "output_stride", m, d.n(), output_stride);
    QK_FAIL_IF(input_count < in_span, kInvalidArgument, "input_count %zu is smaller than the %llu floats needed",
               input_count, (unsigned long long)in_span);
    QK_FAIL_IF(output_count < out_span, kInvalidArgument,
               "output_count %zu is smaller than the %llu floats needed", output_count,
               (unsigned long long)out_span);
    if (m == 0) return;
    QK_REQUIRE_NOT_NULL(input);
    QK_REQUIRE_NOT_NULL(output);
    check_no_overlap(input, in_span * sizeof(float), output, out_span * sizeof(float));
    d.run(static_cast<size_t>(m), input, static_cast<size_t>(input_stride), output,
          static_cast<size_t>(output_stride), unwrap(pool));
  });
}

QK_API void qk_dynamic_linear_destroy(qk_dynamic_linear* op) { delete op; }

}  // extern "C"
