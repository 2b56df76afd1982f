// SPDX-License-Identifier: Apache-2.0
// C shims for quantized conv2d, pooling, add and the NCHW <-> NHWC converters: NULL and enum
// checks and the exception firewall. Sizes, byte lengths, geometry and qparams are validated by
// the operators themselves, before anything is written.
#include <memory>

#include "capi/capi_common.h"
#include "core/threadpool.h"
#include "ops/layout.h"
#include "ops/pooling.h"
#include "ops/qadd.h"
#include "ops/qconv2d.h"

struct qk_qconv2d {
  std::unique_ptr<qk::QConv2d> op;
};

namespace {

qk::ThreadPool* unwrap(qk_threadpool* pool) { return pool ? &pool->pool : nullptr; }

}  // namespace

extern "C" {

QK_API qk_status qk_qconv2d_create(const int8_t* weights, const int64_t weight_shape[4],
                                   const qk_qparams* weight_qparams, const float* bias, const int64_t stride[2],
                                   const int64_t padding[4], const int64_t dilation[2], int64_t groups,
                                   const qk_qparams* input_qparams, const qk_qparams* output_qparams, float output_min,
                                   float output_max, qk_requant_mode mode, qk_qconv2d** op_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(weights);
    QK_REQUIRE_NOT_NULL(weight_shape);
    QK_REQUIRE_NOT_NULL(weight_qparams);
    QK_REQUIRE_NOT_NULL(stride);
    QK_REQUIRE_NOT_NULL(padding);
    QK_REQUIRE_NOT_NULL(dilation);
    QK_REQUIRE_NOT_NULL(input_qparams);
    QK_REQUIRE_NOT_NULL(output_qparams);
    QK_REQUIRE_NOT_NULL(op_out);
    QK_FAIL_IF(mode != QK_REQUANT_FLOAT && mode != QK_REQUANT_FIXED_POINT, kInvalidArgument,
               "mode %d is not a valid value", static_cast<int>(mode));
    const qk::ConvGeometry g = qk::conv_geometry(weight_shape, stride, padding, dilation, groups);
    auto handle = std::make_unique<qk_qconv2d>();
    handle->op =
        std::make_unique<qk::QConv2d>(weights, g, weight_qparams->qp, bias, input_qparams->qp, output_qparams->qp,
                                      output_min, output_max, mode == QK_REQUANT_FIXED_POINT);
    *op_out = handle.release();
  });
}

QK_API qk_status qk_qconv2d_output_size(const qk_qconv2d* op, int64_t in_h, int64_t in_w, int64_t* out_h,
                                        int64_t* out_w) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(op);
    QK_REQUIRE_NOT_NULL(out_h);
    QK_REQUIRE_NOT_NULL(out_w);
    int64_t h = 0, w = 0;
    op->op->geometry().output_size(in_h, in_w, &h, &w);
    *out_h = h;
    *out_w = w;
  });
}

QK_API qk_status qk_qconv2d_run(const qk_qconv2d* op, int64_t batch, int64_t in_h, int64_t in_w, const void* input,
                                size_t input_bytes, void* output, size_t output_bytes, qk_threadpool* pool) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(op);
    op->op->run(batch, in_h, in_w, input, input_bytes, output, output_bytes, unwrap(pool));
  });
}

QK_API void qk_qconv2d_destroy(qk_qconv2d* op) { delete op; }

QK_API qk_status qk_max_pool2d(qk_dtype dtype, const void* input, size_t input_bytes, const int64_t nhwc_shape[4],
                               const int64_t kernel[2], const int64_t stride[2], const int64_t padding[4],
                               const int64_t dilation[2], void* output, size_t output_bytes) {
  return QK_GUARD({
    QK_REQUIRE_ENUM(qk::is_valid_dtype, dtype, "dtype");
    QK_REQUIRE_NOT_NULL(nhwc_shape);
    QK_REQUIRE_NOT_NULL(kernel);
    QK_REQUIRE_NOT_NULL(stride);
    QK_REQUIRE_NOT_NULL(padding);
    QK_REQUIRE_NOT_NULL(dilation);
    const qk::PoolGeometry g = qk::pool_geometry(nhwc_shape, kernel, stride, padding, dilation);
    qk::max_pool2d(static_cast<qk::DType>(dtype), input, input_bytes, g, output, output_bytes);
  });
}

QK_API qk_status qk_avg_pool2d(const qk_qparams* input_qparams, const qk_qparams* output_qparams, const void* input,
                               size_t input_bytes, const int64_t nhwc_shape[4], const int64_t kernel[2],
                               const int64_t stride[2], const int64_t padding[4], int count_include_pad, void* output,
                               size_t output_bytes) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(input_qparams);
    QK_REQUIRE_NOT_NULL(output_qparams);
    QK_REQUIRE_NOT_NULL(nhwc_shape);
    QK_REQUIRE_NOT_NULL(kernel);
    QK_REQUIRE_NOT_NULL(stride);
    QK_REQUIRE_NOT_NULL(padding);
    const qk::PoolGeometry g = qk::pool_geometry(nhwc_shape, kernel, stride, padding, nullptr);
    qk::avg_pool2d(input_qparams->qp, output_qparams->qp, input, input_bytes, g, count_include_pad != 0, output,
                   output_bytes);
  });
}

QK_API qk_status qk_global_avg_pool2d(const qk_qparams* input_qparams, const qk_qparams* output_qparams,
                                      const void* input, size_t input_bytes, const int64_t nhwc_shape[4], void* output,
                                      size_t output_bytes) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(input_qparams);
    QK_REQUIRE_NOT_NULL(output_qparams);
    QK_REQUIRE_NOT_NULL(nhwc_shape);
    qk::global_avg_pool2d(input_qparams->qp, output_qparams->qp, input, input_bytes, nhwc_shape, output, output_bytes);
  });
}

QK_API qk_status qk_qadd(const qk_qparams* a_qparams, const void* a, const qk_qparams* b_qparams, const void* b,
                         const qk_qparams* output_qparams, size_t count, float output_min, float output_max,
                         void* output) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(a_qparams);
    QK_REQUIRE_NOT_NULL(b_qparams);
    QK_REQUIRE_NOT_NULL(output_qparams);
    qk::qadd(a_qparams->qp, a, b_qparams->qp, b, output_qparams->qp, count, output_min, output_max, output);
  });
}

QK_API qk_status qk_quantize_nchw_to_nhwc(const qk_qparams* qparams, const float* src, const int64_t nchw_shape[4],
                                          void* dst, size_t dst_bytes, uint64_t* nan_count_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams);
    QK_REQUIRE_NOT_NULL(nchw_shape);
    const uint64_t nans = qk::quantize_nchw_to_nhwc(qparams->qp, src, nchw_shape, dst, dst_bytes);
    if (nan_count_out) *nan_count_out = nans;
  });
}

QK_API qk_status qk_dequantize_nhwc_to_nchw(const qk_qparams* qparams, const void* src, size_t src_bytes,
                                            const int64_t nchw_shape[4], float* dst) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams);
    QK_REQUIRE_NOT_NULL(nchw_shape);
    qk::dequantize_nhwc_to_nchw(qparams->qp, src, src_bytes, nchw_shape, dst);
  });
}

}  // extern "C"
