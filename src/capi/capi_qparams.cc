// SPDX-License-Identifier: Apache-2.0
// C shims for qk_quant_spec and qk_qparams.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "capi/capi_common.h"
#include "core/shape.h"

using qk::QuantSpec;

namespace {

template <typename T>
void copy_out(const std::vector<T>& values, T* out, size_t capacity, const char* what) {
  QK_FAIL_IF(capacity < values.size(), kBufferTooSmall, "%s needs room for %zu values, capacity is %zu", what,
             values.size(), capacity);
  if (!values.empty()) std::memcpy(out, values.data(), values.size() * sizeof(T));
}

}  // namespace

extern "C" {

QK_API qk_status qk_quant_spec_create(qk_dtype dtype, qk_qscheme scheme, qk_quant_spec** spec_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec_out);
    QK_REQUIRE_ENUM(qk::is_valid_dtype, dtype, "dtype");
    QK_REQUIRE_ENUM(qk::is_valid_qscheme, scheme, "scheme");
    auto handle = std::make_unique<qk_quant_spec>();
    handle->spec = QuantSpec::make(static_cast<qk::DType>(dtype), static_cast<qk::QScheme>(scheme));
    *spec_out = handle.release();
  });
}

QK_API qk_status qk_quant_spec_clone(const qk_quant_spec* spec, qk_quant_spec** spec_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    QK_REQUIRE_NOT_NULL(spec_out);
    *spec_out = new qk_quant_spec(*spec);
  });
}

QK_API void qk_quant_spec_destroy(qk_quant_spec* spec) { delete spec; }

QK_API qk_status qk_quant_spec_set_range(qk_quant_spec* spec, int32_t quant_min, int32_t quant_max) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    QuantSpec copy = spec->spec;
    copy.set_range(quant_min, quant_max);
    spec->spec = copy;
  });
}

QK_API qk_status qk_quant_spec_set_reduce_range(qk_quant_spec* spec, int enabled) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    spec->spec.reduce_range = enabled != 0;
  });
}

QK_API qk_status qk_quant_spec_set_eps(qk_quant_spec* spec, float eps) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    spec->spec.set_eps(eps);
  });
}

QK_API qk_status qk_quant_spec_set_axis(qk_quant_spec* spec, int32_t axis) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    QK_FAIL_IF(axis < -static_cast<int32_t>(QK_MAX_RANK) || axis >= static_cast<int32_t>(QK_MAX_RANK),
               kInvalidArgument, "axis %d is outside [-%d, %d)", axis, QK_MAX_RANK, QK_MAX_RANK);
    spec->spec.axis = axis;
  });
}

QK_API qk_status qk_quant_spec_set_group_size(qk_quant_spec* spec, int64_t group_size) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    spec->spec.set_group_size(group_size);
  });
}

QK_API qk_status qk_quant_spec_set_convention(qk_quant_spec* spec, qk_convention convention) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    QK_REQUIRE_ENUM(qk::is_valid_convention, convention, "convention");
    spec->spec.convention = static_cast<qk::Convention>(convention);
  });
}

#define QK_SPEC_GETTER(name, type, expr)                             \
  QK_API qk_status name(const qk_quant_spec* spec, type* value_out) { \
    return QK_GUARD({                                                 \
      QK_REQUIRE_NOT_NULL(spec);                                      \
      QK_REQUIRE_NOT_NULL(value_out);                                 \
      *value_out = static_cast<type>(expr);                           \
    });                                                               \
  }
QK_SPEC_GETTER(qk_quant_spec_get_dtype, qk_dtype, spec->spec.dtype)
QK_SPEC_GETTER(qk_quant_spec_get_scheme, qk_qscheme, spec->spec.scheme)
QK_SPEC_GETTER(qk_quant_spec_get_axis, int32_t, spec->spec.axis)
QK_SPEC_GETTER(qk_quant_spec_get_group_size, int64_t, spec->spec.group_size)
QK_SPEC_GETTER(qk_quant_spec_get_eps, float, spec->spec.eps)
QK_SPEC_GETTER(qk_quant_spec_get_convention, qk_convention, spec->spec.convention)

QK_API qk_status qk_quant_spec_get_effective_range(const qk_quant_spec* spec, int32_t* quant_min_out,
                                                   int32_t* quant_max_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    QK_REQUIRE_NOT_NULL(quant_min_out);
    QK_REQUIRE_NOT_NULL(quant_max_out);
    int32_t lo, hi;
    spec->spec.effective_range(&lo, &hi);
    *quant_min_out = lo;
    *quant_max_out = hi;
  });
}

QK_API qk_status qk_qparams_compute(const qk_quant_spec* spec, const float* min_vals, const float* max_vals,
                                    size_t count, qk_qparams** qparams_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    QK_REQUIRE_NOT_NULL(min_vals);
    QK_REQUIRE_NOT_NULL(max_vals);
    QK_REQUIRE_NOT_NULL(qparams_out);
    auto handle = std::make_unique<qk_qparams>();
    if (spec->spec.scheme == qk::QScheme::kPerGroupSymmetric) {
      // Per-group ranges are symmetric: use max |x| of each (min, max) pair.
      std::vector<float> amax(count);
      for (size_t i = 0; i < count; ++i) {
        QK_FAIL_IF(!(std::isfinite(min_vals[i]) && std::isfinite(max_vals[i]) && min_vals[i] <= max_vals[i]),
                   kInvalidArgument, "range %zu [%g, %g] is not finite or min > max", i, (double)min_vals[i],
                   (double)max_vals[i]);
        amax[i] = std::max(std::fabs(min_vals[i]), std::fabs(max_vals[i]));
      }
      handle->qp = qk::compute_group_qparams(spec->spec, amax.data(), count);
    } else {
      handle->qp = qk::compute_qparams(spec->spec, min_vals, max_vals, count);
    }
    *qparams_out = handle.release();
  });
}

QK_API qk_status qk_qparams_from_tensor(const qk_quant_spec* spec, const float* data, const int64_t* shape,
                                        size_t rank, qk_qparams** qparams_out, uint64_t* nonfinite_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    QK_REQUIRE_NOT_NULL(qparams_out);
    const qk::Shape s = qk::Shape::from(shape, rank);
    QK_FAIL_IF(s.count > 0 && data == nullptr, kInvalidArgument, "argument 'data' is NULL");
    QK_FAIL_IF(s.count == 0, kInvalidArgument, "the tensor is empty: no range to compute qparams from");
    auto handle = std::make_unique<qk_qparams>();
    uint64_t nonfinite = 0;
    handle->qp = qk::qparams_from_tensor(spec->spec, data, s, &nonfinite);
    *qparams_out = handle.release();
    if (nonfinite_out) *nonfinite_out = nonfinite;
  });
}

QK_API qk_status qk_qparams_create(qk_dtype dtype, qk_qscheme scheme, int32_t axis, int64_t group_size,
                                   const float* scales, const int32_t* zero_points,
                                   const float* float_zero_points, size_t count, int32_t quant_min,
                                   int32_t quant_max, qk_qparams** qparams_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams_out);
    QK_REQUIRE_NOT_NULL(scales);
    QK_REQUIRE_ENUM(qk::is_valid_dtype, dtype, "dtype");
    QK_REQUIRE_ENUM(qk::is_valid_qscheme, scheme, "scheme");
    QK_FAIL_IF(count == 0 || count > (size_t(1) << 40), kInvalidArgument, "count %zu is out of range", count);
    QuantSpec::make(static_cast<qk::DType>(dtype), static_cast<qk::QScheme>(scheme));  // validates the pair
    QK_FAIL_IF(axis < -static_cast<int32_t>(QK_MAX_RANK) || axis >= static_cast<int32_t>(QK_MAX_RANK),
               kInvalidArgument, "axis %d is outside [-%d, %d)", axis, QK_MAX_RANK, QK_MAX_RANK);
    auto handle = std::make_unique<qk_qparams>();
    qk::QParams& qp = handle->qp;
    qp.dtype = static_cast<qk::DType>(dtype);
    qp.scheme = static_cast<qk::QScheme>(scheme);
    qp.axis = axis;
    qp.group_size = qp.scheme == qk::QScheme::kPerGroupSymmetric ? group_size : 1;
    qp.quant_min = quant_min;
    qp.quant_max = quant_max;
    qp.scales.assign(scales, scales + count);
    if (qp.scheme == qk::QScheme::kPerChannelAffineFloatQParams) {
      QK_REQUIRE_NOT_NULL(float_zero_points);
      qp.float_zero_points.assign(float_zero_points, float_zero_points + count);
      qp.zero_points.resize(count);
      for (size_t i = 0; i < count; ++i) {
        const float z = std::nearbyint(std::isfinite(float_zero_points[i]) ? float_zero_points[i] : 0.0f);
        qp.zero_points[i] = z < quant_min ? quant_min : (z > quant_max ? quant_max : static_cast<int32_t>(z));
      }
    } else {
      QK_REQUIRE_NOT_NULL(zero_points);
      qp.zero_points.assign(zero_points, zero_points + count);
    }
    qp.validate();
    *qparams_out = handle.release();
  });
}

QK_API void qk_qparams_destroy(qk_qparams* qparams) { delete qparams; }

#define QK_QPARAMS_GETTER(name, type, expr)                        \
  QK_API qk_status name(const qk_qparams* qparams, type* value_out) { \
    return QK_GUARD({                                               \
      QK_REQUIRE_NOT_NULL(qparams);                                 \
      QK_REQUIRE_NOT_NULL(value_out);                               \
      *value_out = static_cast<type>(expr);                         \
    });                                                             \
  }
QK_QPARAMS_GETTER(qk_qparams_get_dtype, qk_dtype, qparams->qp.dtype)
QK_QPARAMS_GETTER(qk_qparams_get_scheme, qk_qscheme, qparams->qp.scheme)
QK_QPARAMS_GETTER(qk_qparams_get_count, size_t, qparams->qp.count())
QK_QPARAMS_GETTER(qk_qparams_get_axis, int32_t, qparams->qp.axis)
QK_QPARAMS_GETTER(qk_qparams_get_group_size, int64_t, qparams->qp.group_size)

QK_API qk_status qk_qparams_get_range(const qk_qparams* qparams, int32_t* quant_min_out, int32_t* quant_max_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams);
    QK_REQUIRE_NOT_NULL(quant_min_out);
    QK_REQUIRE_NOT_NULL(quant_max_out);
    *quant_min_out = qparams->qp.quant_min;
    *quant_max_out = qparams->qp.quant_max;
  });
}

QK_API qk_status qk_qparams_get_scales(const qk_qparams* qparams, float* scales_out, size_t capacity) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams);
    QK_REQUIRE_NOT_NULL(scales_out);
    copy_out(qparams->qp.scales, scales_out, capacity, "scales");
  });
}

QK_API qk_status qk_qparams_get_zero_points(const qk_qparams* qparams, int32_t* zero_points_out, size_t capacity) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams);
    QK_REQUIRE_NOT_NULL(zero_points_out);
    copy_out(qparams->qp.zero_points, zero_points_out, capacity, "zero points");
  });
}

QK_API qk_status qk_qparams_get_float_zero_points(const qk_qparams* qparams, float* zero_points_out,
                                                  size_t capacity) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(qparams);
    QK_REQUIRE_NOT_NULL(zero_points_out);
    const qk::QParams& qp = qparams->qp;
    if (!qp.float_zero_points.empty()) {
      copy_out(qp.float_zero_points, zero_points_out, capacity, "float zero points");
      return;
    }
    std::vector<float> as_float(qp.zero_points.begin(), qp.zero_points.end());
    copy_out(as_float, zero_points_out, capacity, "float zero points");
  });
}

}  // extern "C"
