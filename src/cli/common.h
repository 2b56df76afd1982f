// SPDX-License-Identifier: Apache-2.0
// Shared by every qk subcommand: errors and exit codes, tensors in memory, small file helpers.
// The tool is a consumer of the public C API only; nothing here includes src/ internals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the qk tool reads and writes little-endian files in place: little-endian hosts only"
#endif

namespace qkcli {

// Exit statuses of every subcommand.
enum ExitCode : int { kExitOk = 0, kExitFailed = 1, kExitError = 2 };

// Thrown for every error; main() prints "qk <cmd>: <what>" and exits with `code`.
struct Error : std::runtime_error {
  int code;
  explicit Error(const std::string& what, int exit_code = kExitError) : std::runtime_error(what), code(exit_code) {}
};
// Bad command line: also prints "Try 'qk <cmd> --help'."
struct UsageError : Error {
  explicit UsageError(const std::string& what) : Error(what, kExitError) {}
};

// Element types the tool reads (numpy / safetensors) and writes (numpy).
enum class DType { F32, F64, F16, BF16, I64, I32, I16, I8, U8, Bool };
size_t dtype_size(DType d);
const char* dtype_name(DType d);  // "f32", "f64", "f16", "bf16", "i64", "i32", "i16", "i8", "u8", "bool"
bool dtype_from_name(const std::string& name, DType* out);
bool dtype_is_float(DType d);

// Dimensions and element counts: rank <= 8 (QK_MAX_RANK), count <= 2^48 (the .qkw limit).
constexpr size_t kMaxRank = 8;
constexpr uint64_t kMaxElements = uint64_t(1) << 48;

// One dense row-major little-endian tensor.
struct Tensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // count() * dtype_size(dtype) bytes
  uint64_t count() const;
  uint64_t bytes() const { return count() * dtype_size(dtype); }
};

// Product of the dims, checked: throws Error("<ctx>: ...") for a negative dim, rank > 8 or
// more than 2^48 elements. Also checks count * elem_size fits (when elem_size > 0).
uint64_t checked_count(const std::vector<int64_t>& shape, size_t elem_size, const std::string& ctx);
// "32x1x3x3"; "scalar" for rank 0.
std::string shape_str(const std::vector<int64_t>& shape);
// Converts a Fortran-order buffer (already in t.data) into C order in place.
void fortran_to_c_order(Tensor& t);
// Values as doubles (any dtype; f16/bf16 converted exactly).
std::vector<double> to_double(const Tensor& t);
// True if every value is finite (non-float dtypes: always).
bool all_finite(const Tensor& t);

// Read-only memory map of a whole file (empty files map to size 0). Throws Error("<path>: ...").
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// "dir/model.npz" -> "model.npz".
std::string base_name(const std::string& path);
// Lower-case extension with the dot (".npz"), or "".
std::string extension(const std::string& path);
// XXH64 (seed 0) of a file's bytes, as 16 lower-case hex digits.
std::string file_xxh64_hex(const std::string& path);
// strerror(errno) with the path: "<path>: <what>: <os error>".
std::string os_error(const std::string& path, const std::string& what);
// True if both paths name the same existing file.
bool same_file(const std::string& a, const std::string& b);
// Writes `size` bytes to path atomically (temp file in the same folder, fsync, rename).
void write_file_atomic(const std::string& path, const void* data, size_t size);
// Makes a temporary path next to `path` that does not exist yet ("<path>.tmp-XXXXXX", created
// empty with O_EXCL); the caller removes or renames it.
std::string make_temp_path(const std::string& path);
// fsync a file by path, then rename it over `dest` and fsync the folder.
void commit_temp_file(const std::string& tmp, const std::string& dest);

// Escapes a tensor name for use in a metadata key (bytes outside 0x21..0x7E and '%' -> %XX).
std::string escape_key_part(const std::string& s);
// Human-readable byte count: "1,048,576".
std::string with_commas(uint64_t v);

}  // namespace qkcli
