// SPDX-License-Identifier: Apache-2.0
// C shims for quantize / dequantize / cast / error statistics / ISA selection.
#include <cstring>

#include "capi/capi_common.h"
#include "core/metrics.h"
#include "core/quantize.h"
#include "dispatch/isa.h"

extern "C" {

QK_API qk_status qk_quantize(const qk_qparams* qparams, const float* src, const int64_t* shape, size_t rank,
                             void* dst, size_t dst_bytes, uint64_t* nan_count_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams);
    const qk::Shape s = qk::Shape::from(shape, rank);
    QK_FAIL_IF(s.count > 0 && src == nullptr, kInvalidArgument, "argument 'src' is NULL");
    QK_FAIL_IF(s.count > 0 && dst == nullptr, kInvalidArgument, "argument 'dst' is NULL");
    const uint64_t nans = qk::quantize(qparams->qp, src, s, dst, dst_bytes);
    if (nan_count_out) *nan_count_out = nans;
  });
}

QK_API qk_status qk_dequantize(const qk_qparams* qparams, const void* src, size_t src_bytes, const int64_t* shape,
                               size_t rank, float* dst) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams);
    const qk::Shape s = qk::Shape::from(shape, rank);
    QK_FAIL_IF(s.count > 0 && src == nullptr, kInvalidArgument, "argument 'src' is NULL");
    QK_FAIL_IF(s.count > 0 && dst == nullptr, kInvalidArgument, "argument 'dst' is NULL");
    qk::dequantize(qparams->qp, src, src_bytes, s, dst);
  });
}

QK_API qk_status qk_cast(const void* src, qk_dtype src_dtype, void* dst, qk_dtype dst_dtype, size_t count) {
  return QK_GUARD({
    QK_REQUIRE_ENUM(qk::is_valid_dtype, src_dtype, "src_dtype");
    QK_REQUIRE_ENUM(qk::is_valid_dtype, dst_dtype, "dst_dtype");
    QK_FAIL_IF(count > (size_t(1) << 60), kInvalidArgument, "count %zu is too large", count);
    if (count > 0) {
      QK_REQUIRE_NOT_NULL(src);
      QK_REQUIRE_NOT_NULL(dst);
      const size_t src_bytes = qk::storage_size(static_cast<qk::DType>(src_dtype), count);
      const size_t dst_bytes = qk::storage_size(static_cast<qk::DType>(dst_dtype), count);
      const char* s = static_cast<const char*>(src);
      const char* d = static_cast<const char*>(dst);
      QK_FAIL_IF(s < d + dst_bytes && d < s + src_bytes, kInvalidArgument, "src and dst overlap");
    }
    qk::cast(src, static_cast<qk::DType>(src_dtype), dst, static_cast<qk::DType>(dst_dtype), count);
  });
}

QK_API qk_status qk_error_stats(const float* reference, const float* approx, size_t count, double* sqnr_db_out,
                                double* max_abs_error_out, double* mse_out) {
  return QK_GUARD({
    QK_FAIL_IF(count > (size_t(1) << 60), kInvalidArgument, "count %zu is too large", count);
    if (count > 0) {
      QK_REQUIRE_NOT_NULL(reference);
      QK_REQUIRE_NOT_NULL(approx);
    }
    const qk::ErrorStats stats = qk::error_stats(reference, approx, count);
    if (sqnr_db_out) *sqnr_db_out = stats.sqnr_db;
    if (max_abs_error_out) *max_abs_error_out = stats.max_abs_error;
    if (mse_out) *mse_out = stats.mse;
  });
}

QK_API const char* qk_isa_name(void) {
  try {
    return qk::isa_name(qk::active_isa());
  } catch (...) {
    return "invalid";
  }
}

QK_API qk_status qk_set_isa(const char* name) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(name);
    if (std::strcmp(name, "auto") == 0) {
      qk::set_active_isa(qk::best_isa());
      return;
    }
    qk::Isa isa;
    QK_FAIL_IF(!qk::parse_isa(name, &isa), kInvalidArgument,
               "unknown ISA '%s' (known: auto, scalar, avx2, avxvnni, avx512vnni, neon, neondot)", name);
    qk::set_active_isa(isa);
  });
}

QK_API qk_status qk_isa_supported(const char* name, int* supported_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(name);
    QK_REQUIRE_NOT_NULL(supported_out);
    qk::Isa isa;
    QK_FAIL_IF(!qk::parse_isa(name, &isa), kInvalidArgument, "unknown ISA '%s'", name);
    *supported_out = qk::isa_supported(isa) ? 1 : 0;
  });
}

}  // extern "C"
