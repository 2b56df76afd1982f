// SPDX-License-Identifier: Apache-2.0
// Owning smart pointers for the public C handles that core code uses through the C API (the
// model's .qkw save/load): a handle is owned from the call that creates it, so no throw between
// that call and the end of its use can leak it.
//
//   QkwReaderPtr r;
//   ck(qk_qkw_open_memory(data, size, QK_VERIFY_FULL, 0, out_ptr(r)), "...");
//
// out_ptr(p) hands the C function a `T**` and resets `p` to whatever the function wrote when the
// full expression ends, including when a later part of the expression (ck) throws. The C ABI
// writes nothing on error, so a failed call leaves `p` empty.
#pragma once

#include <memory>

#include "quantkit/quantkit.h"

namespace qk {

template <typename T, void (*Destroy)(T*)>
struct CHandleDeleter {
  void operator()(T* p) const noexcept { Destroy(p); }
};

using QkwReaderPtr = std::unique_ptr<qk_qkw_reader, CHandleDeleter<qk_qkw_reader, qk_qkw_close>>;
using QkwWriterPtr = std::unique_ptr<qk_qkw_writer, CHandleDeleter<qk_qkw_writer, qk_qkw_writer_destroy>>;
using QParamsPtr = std::unique_ptr<qk_qparams, CHandleDeleter<qk_qparams, qk_qparams_destroy>>;

template <typename Ptr>
class OutPtr {
 public:
  explicit OutPtr(Ptr& owner) noexcept : owner_(owner) {}
  ~OutPtr() { owner_.reset(raw_); }
  OutPtr(const OutPtr&) = delete;
  OutPtr& operator=(const OutPtr&) = delete;
  operator typename Ptr::pointer*() noexcept { return &raw_; }  // NOLINT: the point of the adapter

 private:
  Ptr& owner_;
  typename Ptr::pointer raw_ = nullptr;
};

template <typename Ptr>
OutPtr<Ptr> out_ptr(Ptr& owner) noexcept {
  return OutPtr<Ptr>(owner);
}

}  // namespace qk
