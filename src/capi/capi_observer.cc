// SPDX-License-Identifier: Apache-2.0
// C shims for qk_observer.
#include <cmath>
#include <cstring>

#include "capi/capi_common.h"

extern "C" {

QK_API qk_status qk_observer_create(qk_observer_kind kind, const qk_quant_spec* spec, qk_observer** observer_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(spec);
    QK_REQUIRE_NOT_NULL(observer_out);
    QK_REQUIRE_ENUM(qk::is_valid_observer_kind, kind, "observer kind");
    auto handle = std::make_unique<qk_observer>();
    handle->obs = qk::make_observer(static_cast<qk::ObserverKind>(kind), spec->spec);
    *observer_out = handle.release();
  });
}

QK_API void qk_observer_destroy(qk_observer* observer) { delete observer; }

QK_API qk_status qk_observer_get_kind(const qk_observer* observer, qk_observer_kind* kind_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(observer);
    QK_REQUIRE_NOT_NULL(kind_out);
    *kind_out = static_cast<qk_observer_kind>(observer->obs->kind());
  });
}

QK_API qk_status qk_observer_set_param(qk_observer* observer, qk_observer_param param, double value) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(observer);
    QK_REQUIRE_ENUM(qk::is_valid_observer_param, param, "observer parameter");
    QK_FAIL_IF(!std::isfinite(value), kInvalidArgument, "parameter value must be finite");
    observer->obs->set_param(static_cast<qk::ObserverParam>(param), value);
  });
}

QK_API qk_status qk_observer_get_param(const qk_observer* observer, qk_observer_param param, double* value_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(observer);
    QK_REQUIRE_NOT_NULL(value_out);
    QK_REQUIRE_ENUM(qk::is_valid_observer_param, param, "observer parameter");
    *value_out = observer->obs->get_param(static_cast<qk::ObserverParam>(param));
  });
}

QK_API qk_status qk_observer_update(qk_observer* observer, const float* data, const int64_t* shape, size_t rank) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(observer);
    const qk::Shape s = qk::Shape::from(shape, rank);
    QK_FAIL_IF(s.count > 0 && data == nullptr, kInvalidArgument, "argument 'data' is NULL");
    observer->obs->update(data, s);
  });
}

QK_API qk_status qk_observer_compute_qparams(const qk_observer* observer, qk_qparams** qparams_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(observer);
    QK_REQUIRE_NOT_NULL(qparams_out);
    auto handle = std::make_unique<qk_qparams>();
    handle->qp = observer->obs->compute_qparams();
    *qparams_out = handle.release();
  });
}

QK_API qk_status qk_observer_get_range(const qk_observer* observer, float* min_out, float* max_out,
                                       size_t capacity) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(observer);
    QK_REQUIRE_NOT_NULL(min_out);
    QK_REQUIRE_NOT_NULL(max_out);
    std::vector<float> lo, hi;
    observer->obs->range(&lo, &hi);
    QK_FAIL_IF(capacity < lo.size(), kBufferTooSmall, "range needs room for %zu channels, capacity is %zu",
               lo.size(), capacity);
    std::memcpy(min_out, lo.data(), lo.size() * sizeof(float));
    std::memcpy(max_out, hi.data(), hi.size() * sizeof(float));
  });
}

QK_API qk_status qk_observer_get_channel_count(const qk_observer* observer, size_t* count_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(observer);
    QK_REQUIRE_NOT_NULL(count_out);
    *count_out = observer->obs->channel_count();
  });
}

QK_API qk_status qk_observer_get_nonfinite_count(const qk_observer* observer, uint64_t* count_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(observer);
    QK_REQUIRE_NOT_NULL(count_out);
    *count_out = observer->obs->nonfinite_count();
  });
}

QK_API qk_status qk_observer_reset(qk_observer* observer) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(observer);
    observer->obs->reset();
  });
}

QK_API qk_status qk_observer_merge(qk_observer* dst, const qk_observer* src) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(dst);
    QK_REQUIRE_NOT_NULL(src);
    qk::merge_observers(dst->obs.get(), *src->obs);
  });
}

QK_API qk_status qk_observer_save(const qk_observer* observer, void* buffer, size_t capacity, size_t* size_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(observer);
    QK_REQUIRE_NOT_NULL(size_out);
    QK_FAIL_IF(buffer == nullptr && capacity != 0, kInvalidArgument, "buffer is NULL but capacity is %zu", capacity);
    const std::vector<uint8_t> bytes = qk::save_observer(*observer->obs);
    *size_out = bytes.size();
    if (buffer == nullptr) return;
    QK_FAIL_IF(capacity < bytes.size(), kBufferTooSmall, "state needs %zu bytes, capacity is %zu", bytes.size(),
               capacity);
    std::memcpy(buffer, bytes.data(), bytes.size());
  });
}

QK_API qk_status qk_observer_load(const void* buffer, size_t size, qk_observer** observer_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(buffer);
    QK_REQUIRE_NOT_NULL(observer_out);
    auto handle = std::make_unique<qk_observer>();
    handle->obs = qk::load_observer(static_cast<const uint8_t*>(buffer), size);
    *observer_out = handle.release();
  });
}

}  // extern "C"
