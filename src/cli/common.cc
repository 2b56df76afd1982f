// SPDX-License-Identifier: Apache-2.0
#include "common.h"

#include <quantkit/quantkit.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

namespace qkcli {

size_t dtype_size(DType d) {
  switch (d) {
    case DType::F64: case DType::I64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::I8: case DType::U8: case DType::Bool: return 1;
  }
  return 0;
}

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::I64: return "i64";
    case DType::I32: return "i32";
    case DType::I16: return "i16";
    case DType::I8: return "i8";
    case DType::U8: return "u8";
    case DType::Bool: return "bool";
  }
  return "?";
}

bool dtype_from_name(const std::string& name, DType* out) {
  static const DType all[] = {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64,
                              DType::I32, DType::I16, DType::I8,  DType::U8,   DType::Bool};
  for (DType d : all) {
    if (name == dtype_name(d)) {
      *out = d;
      return true;
    }
  }
  return false;
}

bool dtype_is_float(DType d) {
  return d == DType::F32 || d == DType::F64 || d == DType::F16 || d == DType::BF16;
}

uint64_t Tensor::count() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

uint64_t checked_count(const std::vector<int64_t>& shape, size_t elem_size, const std::string& ctx) {
  if (shape.size() > kMaxRank)
    throw Error(ctx + ": rank " + std::to_string(shape.size()) + " is above the limit of 8");
  uint64_t n = 1;
  bool zero = false;
  for (int64_t d : shape) {
    if (d < 0) throw Error(ctx + ": negative dimension " + std::to_string(d));
    if (d == 0) zero = true;
  }
  if (zero) return 0;
  for (int64_t d : shape) {
    uint64_t ud = static_cast<uint64_t>(d);
    if (ud > kMaxElements || n > kMaxElements / ud)
      throw Error(ctx + ": shape " + shape_str(shape) + " has more than 2^48 elements");
    n *= ud;
  }
  if (elem_size > 0 && n > UINT64_MAX / elem_size) throw Error(ctx + ": tensor byte size overflows");
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  if (shape.empty()) return "scalar";
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(shape[i]);
  }
  return s;
}

void fortran_to_c_order(Tensor& t) {
  const size_t rank = t.shape.size();
  const uint64_t n = t.count();
  if (rank < 2 || n == 0) return;
  const size_t es = dtype_size(t.dtype);
  std::vector<uint8_t> out(t.data.size());
  // Fortran strides (in elements): stride[0] = 1, stride[k] = stride[k-1] * shape[k-1].
  uint64_t fstride[kMaxRank];
  fstride[0] = 1;
  for (size_t k = 1; k < rank; ++k) fstride[k] = fstride[k - 1] * static_cast<uint64_t>(t.shape[k - 1]);
  int64_t idx[kMaxRank] = {0};
  uint64_t src = 0;  // Fortran offset of idx
  for (uint64_t c = 0; c < n; ++c) {
    std::memcpy(&out[c * es], &t.data[src * es], es);
    for (size_t k = rank; k-- > 0;) {  // advance the C-order (last fastest) index
      if (++idx[k] < t.shape[k]) {
        src += fstride[k];
        break;
      }
      src -= fstride[k] * static_cast<uint64_t>(t.shape[k] - 1);
      idx[k] = 0;
    }
  }
  t.data.swap(out);
}

template <typename T>
static T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::vector<double> to_double(const Tensor& t) {
  const uint64_t n = t.count();
  std::vector<double> v(n);
  const uint8_t* p = t.data.data();
  if ((t.dtype == DType::F16 || t.dtype == DType::BF16) && n > 0) {
    // the library's own exact conversion (every f16/bf16 value is an f32)
    std::vector<float> f(static_cast<size_t>(n));
    const qk_status st = qk_cast(p, t.dtype == DType::F16 ? QK_DTYPE_F16 : QK_DTYPE_BF16, f.data(), QK_DTYPE_F32,
                                 f.size());
    if (st != QK_OK) throw Error("tensor '" + t.name + "': " + qk_last_error());
    for (size_t i = 0; i < f.size(); ++i) v[i] = f[i];
    return v;
  }
  for (uint64_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case DType::F32: v[i] = load<float>(p + 4 * i); break;
      case DType::F64: v[i] = load<double>(p + 8 * i); break;
      case DType::F16:
      case DType::BF16: break;  // converted above
      case DType::I64: v[i] = static_cast<double>(load<int64_t>(p + 8 * i)); break;
      case DType::I32: v[i] = load<int32_t>(p + 4 * i); break;
      case DType::I16: v[i] = load<int16_t>(p + 2 * i); break;
      case DType::I8: v[i] = static_cast<int8_t>(p[i]); break;
      case DType::U8: v[i] = p[i]; break;
      case DType::Bool: v[i] = p[i] ? 1.0 : 0.0; break;
    }
  }
  return v;
}

bool all_finite(const Tensor& t) {
  if (!dtype_is_float(t.dtype)) return true;
  const uint64_t n = t.count();
  const uint8_t* p = t.data.data();
  for (uint64_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case DType::F32: if (!std::isfinite(load<float>(p + 4 * i))) return false; break;
      case DType::F64: if (!std::isfinite(load<double>(p + 8 * i))) return false; break;
      case DType::F16: if (((load<uint16_t>(p + 2 * i) >> 10) & 0x1F) == 0x1F) return false; break;
      case DType::BF16: if (((load<uint16_t>(p + 2 * i) >> 7) & 0xFF) == 0xFF) return false; break;
      default: break;
    }
  }
  return true;
}

std::string os_error(const std::string& path, const std::string& what) {
  return path + ": " + what + ": " + std::strerror(errno);
}

MappedFile::MappedFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(os_error(path, "cannot open"));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    std::string msg = os_error(path, "cannot stat");
    ::close(fd);
    throw Error(msg);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      std::string msg = os_error(path, "cannot map");
      ::close(fd);
      throw Error(msg);
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string extension(const std::string& path) {
  std::string b = base_name(path);
  size_t dot = b.find_last_of('.');
  if (dot == std::string::npos || dot == 0) return "";
  std::string e = b.substr(dot);
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

std::string file_xxh64_hex(const std::string& path) {
  MappedFile f(path);
  unsigned long long h = XXH64(f.data() ? f.data() : reinterpret_cast<const uint8_t*>(""), f.size(), 0);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", h);
  return buf;
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

std::string make_temp_path(const std::string& path) {
  std::string tmpl = path + ".tmp-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd < 0) throw Error(os_error(path, "cannot create a temporary file next to it"));
  ::close(fd);
  return std::string(buf.data());
}

static void fsync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) {
    if (directory) return;  // best effort for the folder
    throw Error(os_error(path, "cannot reopen to sync"));
  }
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0 && !directory) {
    errno = saved;
    throw Error(os_error(path, "fsync failed"));
  }
}

void commit_temp_file(const std::string& tmp, const std::string& dest) {
  fsync_path(tmp, false);
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    std::string msg = os_error(dest, "cannot rename the temporary file over it");
    ::unlink(tmp.c_str());
    throw Error(msg);
  }
  size_t slash = dest.find_last_of('/');
  fsync_path(slash == std::string::npos ? "." : (slash == 0 ? "/" : dest.substr(0, slash)), true);
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  std::string tmp = make_temp_path(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    std::string msg = os_error(tmp, "cannot open");
    ::unlink(tmp.c_str());
    throw Error(msg);
  }
  const uint8_t* p = static_cast<const uint8_t*>(data);
  size_t left = size;
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      std::string msg = os_error(path, "write failed");
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(msg);
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  if (::close(fd) != 0) {
    std::string msg = os_error(path, "write failed");
    ::unlink(tmp.c_str());
    throw Error(msg);
  }
  commit_temp_file(tmp, path);
}

std::string escape_key_part(const std::string& s) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x21 && c <= 0x7E && c != '%') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

}  // namespace qkcli
