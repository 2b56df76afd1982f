// SPDX-License-Identifier: Apache-2.0
// Shared by the C shims: handle structs, the exception firewall and argument checks.
// Nothing here is visible to the C++ core.
#pragma once

#include <exception>
#include <memory>
#include <new>
#include <string>

#include "core/error.h"
#include "core/qparams.h"
#include "core/quant_spec.h"
#include "observers/observer.h"
#include "quantkit/quantkit.h"

struct qk_quant_spec {
  qk::QuantSpec spec;
};
struct qk_qparams {
  qk::QParams qp;
};
struct qk_observer {
  std::unique_ptr<qk::Observer> obs;
};

namespace qk {
namespace capi {

void set_last_error(const char* function, const char* message);

// Runs `body` and converts whatever it throws into a qk_status plus a thread-local message
// prefixed with the C function's name. Nothing escapes: this is the ABI firewall.
template <typename Body>
qk_status guard(const char* function, Body&& body) noexcept {
  try {
    body();
    return QK_OK;
  } catch (const Error& e) {
    set_last_error(function, e.what());
    return static_cast<qk_status>(e.status());
  } catch (const std::bad_alloc&) {
    set_last_error(function, "out of memory");
    return QK_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    try {
      set_last_error(function, (std::string("internal error: ") + e.what()).c_str());
    } catch (...) {
    }
    return QK_ERR_INTERNAL;
  } catch (...) {
    set_last_error(function, "internal error: unknown exception");
    return QK_ERR_INTERNAL;
  }
}

}  // namespace capi
}  // namespace qk

#define QK_GUARD(...) ::qk::capi::guard(__func__, [&]() { __VA_ARGS__ })
#define QK_REQUIRE_NOT_NULL(p) QK_FAIL_IF((p) == nullptr, kInvalidArgument, "argument '%s' is NULL", #p)
#define QK_REQUIRE_ENUM(valid_fn, value, what) \
  QK_FAIL_IF(!valid_fn(static_cast<int>(value)), kInvalidArgument, "%s %d is not a valid value", what, static_cast<int>(value))
