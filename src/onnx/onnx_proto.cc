// SPDX-License-Identifier: Apache-2.0
#include "onnx/onnx_proto.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace qk {
namespace onnx {

namespace {

// ---- Nesting guard ------------------------------------------------------------------------

bool read_varint(const uint8_t* p, size_t n, size_t* i, uint64_t* v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64 && *i < n; shift += 7) {
    const uint8_t b = p[(*i)++];
    x |= uint64_t(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *v = x;
      return true;
    }
  }
  return false;
}

// Walks the wire format of message type `d`, descending into its message fields only (the
// generated descriptors know which), and fails past kMaxNesting levels. Recursion is bounded
// by that limit; the walk is linear in the bytes.
void check_nesting(const ProtobufCMessageDescriptor* d, const uint8_t* p, size_t n, int depth) {
  QK_FAIL_IF(depth > kMaxNesting, kCorrupt, "messages nested deeper than %d levels", kMaxNesting);
  size_t i = 0;
  while (i < n) {
    uint64_t key = 0, v = 0;
    QK_FAIL_IF(!read_varint(p, n, &i, &key), kCorrupt, "truncated field key at byte %zu", i);
    switch (key & 7) {
      case 0:
        QK_FAIL_IF(!read_varint(p, n, &i, &v), kCorrupt, "truncated varint at byte %zu", i);
        break;
      case 1:
        QK_FAIL_IF(n - i < 8, kCorrupt, "truncated fixed64 at byte %zu", i);
        i += 8;
        break;
      case 5:
        QK_FAIL_IF(n - i < 4, kCorrupt, "truncated fixed32 at byte %zu", i);
        i += 4;
        break;
      case 2: {
        QK_FAIL_IF(!read_varint(p, n, &i, &v), kCorrupt, "truncated length at byte %zu", i);
        QK_FAIL_IF(v > n - i, kCorrupt, "a field of %llu bytes at byte %zu runs past the end (%zu bytes)",
                   (unsigned long long)v, i, n);
        const uint64_t field = key >> 3;
        const ProtobufCFieldDescriptor* f =
            field <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, unsigned(field)) : nullptr;
        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE)
          check_nesting(static_cast<const ProtobufCMessageDescriptor*>(f->descriptor), p + i, size_t(v), depth + 1);
        i += size_t(v);
        break;
      }
      default:
        fail(Status::kCorrupt, "wire type %u at byte %zu is not valid in ONNX", unsigned(key & 7), i);
    }
  }
}

// ---- Allocation budget --------------------------------------------------------------------

struct Budget {
  size_t left;
};
void* budget_alloc(void* data, size_t size) {
  Budget* b = static_cast<Budget*>(data);
  if (size > b->left) return nullptr;
  b->left -= size;
  return std::malloc(size ? size : 1);
}
void plain_free(void*, void* p) { std::free(p); }
ProtobufCAllocator g_free_allocator = {nullptr, plain_free, nullptr};

// What an unpack may allocate: protobuf-c copies strings and bytes and widens packed varints
// (at most 8 bytes per input byte), plus a message struct per nested message.
size_t budget_for(size_t size) { return size > SIZE_MAX / 16 ? SIZE_MAX : 8 * size + (size_t(1) << 20); }

template <typename T>
T* unpack(const ProtobufCMessageDescriptor* d, T* (*fn)(ProtobufCAllocator*, size_t, const uint8_t*),
          const uint8_t* data, size_t size, const char* what) {
  QK_FAIL_IF(data == nullptr && size > 0, kInvalidArgument, "no data");
  check_nesting(d, data, size, 0);
  Budget b{budget_for(size)};
  ProtobufCAllocator alloc = {budget_alloc, plain_free, &b};
  T* m = fn(&alloc, size, data);
  QK_FAIL_IF(m == nullptr, kCorrupt, "not a valid %s protobuf (or it needs more memory than %zu bytes allow)", what,
             size);
  return m;
}

// ---- Tensors ------------------------------------------------------------------------------

size_t onnx_elem_size(int32_t t) {
  switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
      return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
      return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
      return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
      return 1;
    default:
      return 0;
  }
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  float f;
  if (exp == 0) {
    f = std::ldexp(float(mant), -24);
  } else if (exp == 31) {
    f = mant ? NAN : INFINITY;
  } else {
    f = std::ldexp(float(mant | 0x400), int(exp) - 25);
  }
  return sign ? -f : f;
}

// Reads `bytes` bytes at `offset` of external file `location`, which must stay inside the folder.
std::vector<uint8_t> read_external(const ExternalData& ext, const std::string& location, uint64_t offset,
                                   uint64_t length, size_t bytes) {
  QK_FAIL_IF(ext.folder.empty(), kUnsupported,
             "tensor data in external file '%s': only a model loaded from a file may have external data",
             location.c_str());
  QK_FAIL_IF(location.empty() || location[0] == '/' || location.find('\0') != std::string::npos, kCorrupt,
             "external data location '%s' must be a relative path", location.c_str());
  size_t start = 0;
  for (;;) {
    const size_t slash = location.find('/', start);
    const std::string part = location.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    QK_FAIL_IF(part == ".." || part.empty(), kCorrupt, "external data location '%s' leaves the model's folder",
               location.c_str());
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  char folder_real[PATH_MAX], file_real[PATH_MAX];
  QK_FAIL_IF(!realpath(ext.folder.c_str(), folder_real), kIo, "model folder '%s': %s", ext.folder.c_str(),
             std::strerror(errno));
  const std::string path = ext.folder + "/" + location;
  QK_FAIL_IF(!realpath(path.c_str(), file_real), kIo, "external data '%s': %s", location.c_str(), std::strerror(errno));
  const size_t fl = std::strlen(folder_real);
  QK_FAIL_IF(std::strncmp(file_real, folder_real, fl) != 0 || file_real[fl] != '/', kCorrupt,
             "external data '%s' resolves outside the model's folder (a symbolic link?)", location.c_str());
  const int fd = ::open(file_real, O_RDONLY | O_CLOEXEC);
  QK_FAIL_IF(fd < 0, kIo, "external data '%s': %s", location.c_str(), std::strerror(errno));
  struct stat st;
  const bool stat_ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  const uint64_t file_size = stat_ok ? uint64_t(st.st_size) : 0;
  if (!stat_ok || offset > file_size || length > file_size - offset || length != bytes) {
    ::close(fd);
    fail(stat_ok ? Status::kCorrupt : Status::kIo,
         "external data '%s': offset %llu + length %llu does not fit the file (%llu bytes) or the tensor (%zu bytes)",
         location.c_str(), (unsigned long long)offset, (unsigned long long)length, (unsigned long long)file_size,
         bytes);
  }
  std::vector<uint8_t> buf(bytes);
  size_t got = 0;
  while (got < bytes) {
    const ssize_t r = ::pread(fd, buf.data() + got, bytes - got, off_t(offset + got));
    if (r <= 0) break;
    got += size_t(r);
  }
  ::close(fd);
  QK_FAIL_IF(got != bytes, kIo, "external data '%s': short read", location.c_str());
  return buf;
}

}  // namespace

void ModelDeleter::operator()(Onnx__ModelProto* m) const { onnx__model_proto__free_unpacked(m, &g_free_allocator); }
void TensorDeleter::operator()(Onnx__TensorProto* t) const { onnx__tensor_proto__free_unpacked(t, &g_free_allocator); }

ModelPtr parse_model(const uint8_t* data, size_t size) {
  return ModelPtr(unpack(&onnx__model_proto__descriptor, onnx__model_proto__unpack, data, size, "ONNX model"));
}

TensorProtoPtr parse_tensor(const uint8_t* data, size_t size) {
  return TensorProtoPtr(unpack(&onnx__tensor_proto__descriptor, onnx__tensor_proto__unpack, data, size, "tensor"));
}

DType dtype_from_onnx(int32_t t) {
  switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
      return DType::kF32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return DType::kS8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return DType::kU8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
      return DType::kS32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return DType::kS64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return DType::kBool;
    default:
      fail(Status::kUnsupported, "ONNX element type %d is not supported (float, double, float16, int8, uint8, "
                                 "int16, uint16, int32, int64 and bool are)", int(t));
  }
}

graph::Tensor tensor_from_proto(const Onnx__TensorProto& t, const ExternalData& ext) {
  const char* name = t.name ? t.name : "";
  QK_FAIL_IF(!t.has_data_type, kCorrupt, "tensor '%s' has no data type", name);
  QK_FAIL_IF(t.segment != nullptr, kUnsupported, "tensor '%s' is segmented", name);
  const DType dtype = dtype_from_onnx(t.data_type);
  const size_t esize = onnx_elem_size(t.data_type);
  QK_FAIL_IF(t.n_dims > graph::kMaxGraphRank, kUnsupported, "tensor '%s' has rank %zu (at most %zu)", name, t.n_dims,
             graph::kMaxGraphRank);
  std::vector<int64_t> shape(t.dims, t.dims + t.n_dims);
  for (int64_t d : shape) QK_FAIL_IF(d < 0, kCorrupt, "tensor '%s' has a negative dimension %lld", name, (long long)d);
  const uint64_t count = graph::checked_count(shape, name);
  // Where the elements are, and how many bytes they take there, before allocating anything.
  const uint8_t* raw = nullptr;
  std::vector<uint8_t> external;
  const bool is_external =
      t.has_data_location && enum_value(t.data_location) == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if (is_external) {
    std::string location;
    uint64_t offset = 0, length = 0;
    bool has_length = false;
    for (size_t i = 0; i < t.n_external_data; ++i) {
      const Onnx__StringStringEntryProto* e = t.external_data[i];
      const std::string key = e->key ? e->key : "", value = e->value ? e->value : "";
      char* end = nullptr;
      if (key == "location") {
        location = value;
      } else if (key == "offset" || key == "length") {
        errno = 0;
        const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
        QK_FAIL_IF(value.empty() || *end != '\0' || errno != 0 || value[0] == '-', kCorrupt,
                   "tensor '%s': external data %s '%s' is not a size", name, key.c_str(), value.c_str());
        (key == "offset" ? offset : length) = v;
        if (key == "length") has_length = true;
      }
    }
    QK_FAIL_IF(count > SIZE_MAX / 8, kCorrupt, "tensor '%s' is too large", name);
    const size_t bytes = size_t(count) * esize;
    external = read_external(ext, location, offset, has_length ? length : bytes, bytes);
    raw = external.data();
  } else if (t.has_raw_data) {
    QK_FAIL_IF(count > t.raw_data.len / (esize ? esize : 1) + 1 || uint64_t(t.raw_data.len) != count * esize, kCorrupt,
               "tensor '%s': %zu raw bytes for %llu elements of %zu bytes", name, t.raw_data.len,
               (unsigned long long)count, esize);
    raw = t.raw_data.data;
  } else {
    size_t have = 0;
    switch (t.data_type) {
      case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: have = t.n_float_data; break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: have = t.n_double_data; break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: have = t.n_int64_data; break;
      default: have = t.n_int32_data; break;
    }
    QK_FAIL_IF(have != count, kCorrupt, "tensor '%s': %zu values for %llu elements", name, have,
               (unsigned long long)count);
  }
  graph::Tensor out = graph::Tensor::allocate(dtype, shape);
  for (uint64_t i = 0; i < count; ++i) {
    switch (t.data_type) {
      case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
        float v;
        if (raw) std::memcpy(&v, raw + 4 * i, 4); else v = t.float_data[i];
        out.data<float>()[i] = v;
        break;
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
        double v;
        if (raw) std::memcpy(&v, raw + 8 * i, 8); else v = t.double_data[i];
        out.data<float>()[i] = float(v);
        break;
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: {
        uint16_t h;
        if (raw) std::memcpy(&h, raw + 2 * i, 2); else h = uint16_t(t.int32_data[i]);
        out.data<float>()[i] = half_to_float(h);
        break;
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: {
        int64_t v;
        if (raw) std::memcpy(&v, raw + 8 * i, 8); else v = t.int64_data[i];
        out.data<int64_t>()[i] = v;
        break;
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: {
        int32_t v;
        if (raw) std::memcpy(&v, raw + 4 * i, 4); else v = t.int32_data[i];
        out.data<int32_t>()[i] = v;
        break;
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: {
        int16_t v;
        if (raw) std::memcpy(&v, raw + 2 * i, 2); else v = int16_t(t.int32_data[i]);
        out.data<int32_t>()[i] = v;
        break;
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: {
        uint16_t v;
        if (raw) std::memcpy(&v, raw + 2 * i, 2); else v = uint16_t(t.int32_data[i]);
        out.data<int32_t>()[i] = v;
        break;
      }
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
        out.data<int8_t>()[i] = raw ? int8_t(raw[i]) : int8_t(t.int32_data[i]);
        break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
        out.data<uint8_t>()[i] = raw ? raw[i] : uint8_t(t.int32_data[i]);
        break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
        out.data<uint8_t>()[i] = (raw ? raw[i] : t.int32_data[i]) != 0;
        break;
    }
  }
  return out;
}

}  // namespace onnx
}  // namespace qk
