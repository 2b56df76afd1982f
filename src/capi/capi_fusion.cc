// SPDX-License-Identifier: Apache-2.0
// C shim for batch-norm folding.
#include "capi/capi_common.h"
#include "fusion/fold_batchnorm.h"

extern "C" {

QK_API qk_status qk_fold_batchnorm(qk_fold_target target, const float* weight, const int64_t* weight_shape,
                                   size_t rank, const float* bias, const float* bn_mean, const float* bn_var,
                                   const float* bn_gamma, const float* bn_beta, float bn_eps, size_t channels,
                                   float* weight_out, float* bias_out) {
  return QK_GUARD({
    QK_FAIL_IF(static_cast<int>(target) < 1 || static_cast<int>(target) > 3, kInvalidArgument,
               "fold target %d is not valid", static_cast<int>(target));
    QK_REQUIRE_NOT_NULL(bn_mean);
    QK_REQUIRE_NOT_NULL(bn_var);
    QK_REQUIRE_NOT_NULL(bias_out);
    const qk::Shape s = qk::Shape::from(weight_shape, rank, "weight_shape");
    QK_FAIL_IF(s.count > 0 && (weight == nullptr || weight_out == nullptr), kInvalidArgument,
               "argument 'weight' or 'weight_out' is NULL");
    qk::BatchNormParams bn;
    bn.mean = bn_mean;
    bn.var = bn_var;
    bn.gamma = bn_gamma;
    bn.beta = bn_beta;
    bn.eps = bn_eps;
    bn.channels = channels;
    qk::fold_batchnorm(static_cast<qk::FoldTarget>(target), weight, s, bias, bn, weight_out, bias_out);
  });
}

}  // extern "C"
