// SPDX-License-Identifier: Apache-2.0
// The C++ core reports failures by throwing qk::Error; only src/capi turns them into qk_status.
#pragma once

#include <cstdarg>
#include <exception>
#include <string>

namespace qk {

// Mirrors qk_status (same numeric values) without depending on the C header.
enum class Status : int {
  kOk = 0,
  kInvalidArgument = 1,
  kOutOfMemory = 2,
  kUnsupported = 3,
  kState = 4,
  kCorrupt = 5,
  kIo = 6,
  kBufferTooSmall = 7,
  kNotFound = 8,
  kInternal = 99,
};

class Error : public std::exception {
 public:
  Error(Status status, std::string message) : status_(status), message_(std::move(message)) {}
  Status status() const noexcept { return status_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  Status status_;
  std::string message_;
};

// printf-style message formatting for error texts.
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

[[noreturn]] void fail(Status status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace qk

// Throws qk::Error(status, message) when `cond` is true.
#define QK_FAIL_IF(cond, status, ...)                 \
  do {                                                \
    if (cond) ::qk::fail(::qk::Status::status, __VA_ARGS__); \
  } while (0)
