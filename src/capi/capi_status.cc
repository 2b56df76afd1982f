// SPDX-License-Identifier: Apache-2.0
// Version, status strings, the thread-local error message, dtype and shape helpers.
#include <cstdio>
#include <cstring>

#include "capi/capi_common.h"
#include "core/dtype.h"
#include "core/shape.h"

namespace {
// Fixed-size so that setting an error can never allocate (or fail) itself.
thread_local char g_last_error[1024] = "";
}  // namespace

namespace qk {
namespace capi {
void set_last_error(const char* function, const char* message) {
  std::snprintf(g_last_error, sizeof g_last_error, "%s: %s", function, message);
}
}  // namespace capi
}  // namespace qk

#define QK_STR2(x) #x
#define QK_STR(x) QK_STR2(x)

extern "C" {

QK_API uint32_t qk_version_number(void) { return QK_VERSION_NUMBER; }
QK_API const char* qk_version_string(void) {
  return QK_STR(QK_VERSION_MAJOR) "." QK_STR(QK_VERSION_MINOR) "." QK_STR(QK_VERSION_PATCH);
}
QK_API uint32_t qk_abi_version(void) { return QK_ABI_VERSION; }
QK_API size_t qk_max_rank(void) { return QK_MAX_RANK; }

QK_API const char* qk_status_string(qk_status status) {
  switch (status) {
    case QK_OK: return "QK_OK";
    case QK_ERR_INVALID_ARGUMENT: return "QK_ERR_INVALID_ARGUMENT";
    case QK_ERR_OUT_OF_MEMORY: return "QK_ERR_OUT_OF_MEMORY";
    case QK_ERR_UNSUPPORTED: return "QK_ERR_UNSUPPORTED";
    case QK_ERR_STATE: return "QK_ERR_STATE";
    case QK_ERR_CORRUPT: return "QK_ERR_CORRUPT";
    case QK_ERR_IO: return "QK_ERR_IO";
    case QK_ERR_BUFFER_TOO_SMALL: return "QK_ERR_BUFFER_TOO_SMALL";
    case QK_ERR_NOT_FOUND: return "QK_ERR_NOT_FOUND";
    case QK_ERR_INTERNAL: return "QK_ERR_INTERNAL";
    case QK_STATUS_MAX_ENUM: break;
  }
  return "QK_ERR_UNKNOWN";
}

QK_API const char* qk_last_error(void) { return g_last_error; }
QK_API void qk_clear_error(void) { g_last_error[0] = '\0'; }

QK_API const char* qk_dtype_name(qk_dtype dtype) {
  if (dtype == QK_DTYPE_S64) return "s64";
  if (!qk::is_valid_dtype(static_cast<int>(dtype))) return "unknown";
  return qk::dtype_name(static_cast<qk::DType>(dtype));
}

QK_API qk_status qk_dtype_storage_size(qk_dtype dtype, uint64_t count, size_t* bytes_out) {
  return QK_GUARD({
    QK_REQUIRE_ENUM(qk::is_valid_dtype, dtype, "dtype");
    QK_REQUIRE_NOT_NULL(bytes_out);
    *bytes_out = qk::storage_size(static_cast<qk::DType>(dtype), count);
  });
}

QK_API qk_status qk_shape_element_count(const int64_t* shape, size_t rank, uint64_t* count_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(count_out);
    *count_out = qk::Shape::from(shape, rank).count;
  });
}

}  // extern "C"
