// SPDX-License-Identifier: Apache-2.0
// Reading .qkw files through the public C API (qk_qkw_*), with errors turned into qkcli::Error.
#pragma once

#include <quantkit/quantkit.h>

#include <string>
#include <vector>

#include "common.h"

namespace qkcli {

// An Error carrying the library status (verify maps QK_ERR_CORRUPT to exit 1).
struct QkError : Error {
  qk_status status;
  QkError(const std::string& what, qk_status st) : Error(what), status(st) {}
};
// Throws QkError("<ctx>: <qk_last_error()>").
[[noreturn]] void throw_qk(const std::string& ctx, qk_status st);

// Metadata key recording the dtype a tensor had in its source file (when it is not what the
// .qkw dtype implies): "source.dtype.<name with bytes outside 0x21..0x7E and '%' as %XX>".
std::string source_dtype_key(const std::string& tensor_name);

class QkwFile {
 public:
  QkwFile(const std::string& path, qk_verify_mode mode);
  ~QkwFile();
  QkwFile(const QkwFile&) = delete;
  QkwFile& operator=(const QkwFile&) = delete;

  const std::string& path() const { return path_; }
  qk_qkw_reader* reader() const { return r_; }
  size_t count() const { return count_; }
  std::string name(size_t i) const;
  std::vector<int64_t> shape(size_t i) const;
  qk_qkw_tensor_info info(size_t i) const;
  // Metadata value, or false if the key is absent.
  bool meta(const std::string& key, std::string* value) const;
  // The tensor's values: RAW integer tensors exactly (i64/i32/i8/u8), others decoded to f32. With
  // `restore_source_dtype`, "source.dtype.<name>" turns them back into f64 / f16 / i16 / bool
  // (RAW F16 chunks are then copied bit for bit).
  Tensor read(size_t i, bool restore_source_dtype) const;

 private:
  std::string path_;
  qk_qkw_reader* r_ = nullptr;
  size_t count_ = 0;
};

// Short codec description for tables: "raw f32", "int8 ch0", "int4 g32 ax1", "sym L45 (7b) ch0",
// "q8_0", "q4_0", "lut16", "affine u8", "affine u8 ch0", "affine+off u8".
std::string describe_codec(const qk_qkw_tensor_info& info);

}  // namespace qkcli
