// SPDX-License-Identifier: Apache-2.0
// C shims for fake quantization.
#include "capi/capi_common.h"
#include "core/fake_quant.h"

extern "C" {

QK_API qk_status qk_fake_quantize(const qk_qparams* qparams, const float* x, const int64_t* shape, size_t rank,
                                  float* y, uint8_t* mask_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams);
    const qk::Shape s = qk::Shape::from(shape, rank);
    QK_FAIL_IF(s.count > 0 && (x == nullptr || y == nullptr), kInvalidArgument, "argument 'x' or 'y' is NULL");
    qk::fake_quantize(qparams->qp, x, s, y, mask_out);
  });
}

QK_API qk_status qk_fake_quantize_backward(const qk_qparams* qparams, const float* x, const float* grad_y,
                                           const int64_t* shape, size_t rank, float* grad_x) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams);
    const qk::Shape s = qk::Shape::from(shape, rank);
    QK_FAIL_IF(s.count > 0 && (x == nullptr || grad_y == nullptr || grad_x == nullptr), kInvalidArgument,
               "argument 'x', 'grad_y' or 'grad_x' is NULL");
    qk::fake_quantize_backward(qparams->qp, x, grad_y, s, grad_x);
  });
}

QK_API qk_status qk_fake_quantize_learnable_backward(const float* x, const float* grad_y, const int64_t* shape,
                                                     size_t rank, int32_t axis, const float* scales,
                                                     const float* zero_points, size_t count, int32_t quant_min,
                                                     int32_t quant_max, float grad_factor, float* grad_x,
                                                     float* grad_scales_out, float* grad_zero_points_out) {
  return QK_GUARD({
    qk::LearnableFakeQuantArgs args;
    args.shape = qk::Shape::from(shape, rank);
    QK_FAIL_IF(args.shape.count > 0 && (x == nullptr || grad_y == nullptr || grad_x == nullptr), kInvalidArgument,
               "argument 'x', 'grad_y' or 'grad_x' is NULL");
    QK_REQUIRE_NOT_NULL(scales);
    QK_REQUIRE_NOT_NULL(zero_points);
    QK_REQUIRE_NOT_NULL(grad_scales_out);
    QK_REQUIRE_NOT_NULL(grad_zero_points_out);
    args.x = x;
    args.grad_y = grad_y;
    args.axis = axis;
    args.scales = scales;
    args.zero_points = zero_points;
    args.count = count;
    args.quant_min = quant_min;
    args.quant_max = quant_max;
    args.grad_factor = grad_factor;
    qk::fake_quantize_learnable_backward(args, grad_x, grad_scales_out, grad_zero_points_out);
  });
}

}  // extern "C"
