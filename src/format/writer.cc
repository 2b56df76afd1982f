// SPDX-License-Identifier: Apache-2.0
#include "format/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>

#include "format/entropy.h"
#include "format/utf8.h"
#include "quantkit/quantkit.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .qkw streams are written from little-endian memory");

namespace qk {
namespace qkw {
namespace {

// Codes of fewer than 8 bits compress ~20% better at high levels (measured on the fixture);
// decompression speed does not depend on the level, so they always get at least this one.
constexpr int kLowBitLevel = 19;
// A chunk stays uncompressed (and mappable) unless zstd saves at least 2%.
constexpr double kMinSaving = 0.02;

bool is_low_bit(const TensorDesc& d) {
  return (d.codec == kSymmetric || d.codec == kLut || d.codec == kGgmlQ4_0) && code_bits(d) < 8;
}

// Writes all of [data, data + size) to fd, retrying short writes.
void write_all(int fd, const uint8_t* data, size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    QK_FAIL_IF(n <= 0, kIo, "cannot write '%s': %s", path.c_str(), std::strerror(errno));
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void write_zeros(int fd, uint64_t count, const std::string& path) {
  static const uint8_t zeros[4096] = {};
  while (count > 0) {
    const size_t n = count < sizeof zeros ? static_cast<size_t>(count) : sizeof zeros;
    write_all(fd, zeros, n, path);
    count -= n;
  }
}

// Removes the temporary file unless release()d: no partial file survives an error.
class TempFile {
 public:
  explicit TempFile(const std::string& target) {
    const size_t slash = target.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : target.substr(0, slash == 0 ? 1 : slash);
    const std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
    dir_ = dir;
    path_ = (slash == std::string::npos ? std::string() : target.substr(0, slash + 1)) + "." + base + ".tmp-XXXXXX";
    std::vector<char> buf(path_.begin(), path_.end());
    buf.push_back('\0');
    fd_ = ::mkstemp(buf.data());
    QK_FAIL_IF(fd_ < 0, kIo, "cannot create a temporary file next to '%s': %s", target.c_str(), std::strerror(errno));
    path_ = buf.data();
    ::fchmod(fd_, 0644);  // mkstemp makes 0600; a weight file is an ordinary document
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_; }
  void close_checked() {
    const int fd = fd_;
    fd_ = -1;
    QK_FAIL_IF(::close(fd) != 0, kIo, "cannot close '%s': %s", path_.c_str(), std::strerror(errno));
  }
  void release() { path_.clear(); }

 private:
  int fd_ = -1;
  std::string path_, dir_;
};

}  // namespace

Writer::Writer(std::string path) : path_(std::move(path)) {
  QK_FAIL_IF(path_.empty(), kInvalidArgument, "path is empty");
}

void Writer::require_open() const { QK_FAIL_IF(finished_, kState, "the writer is finished"); }

void Writer::set_alignment(uint32_t alignment) {
  require_open();
  QK_FAIL_IF(alignment < kMinAlignment || alignment > kMaxAlignment || (alignment & (alignment - 1)) != 0,
             kInvalidArgument, "alignment %u is not a power of two in [16, 1048576]", alignment);
  alignment_ = alignment;
}

void Writer::set_zstd_level(int32_t level) {
  require_open();
  QK_FAIL_IF(level < 0 || level > 22, kInvalidArgument, "zstd level %d not in [0, 22]", level);
  level_ = level;
}

void Writer::set_small_tensor_dtype(uint8_t dtype) {
  require_open();
  QK_FAIL_IF(dtype != kF32 && dtype != kF16 && dtype != kBF16, kInvalidArgument,
             "small tensors are stored as F32, F16 or BF16 (got dtype %u)", dtype);
  small_dtype_ = dtype;
}

void Writer::check_name(const std::string& name) const {
  require_open();
  QK_FAIL_IF(name.empty() || name.size() > kMaxNameLength, kInvalidArgument, "name length %zu not in [1, 1024]",
             name.size());
  QK_FAIL_IF(!is_valid_utf8(reinterpret_cast<const uint8_t*>(name.data()), name.size()), kInvalidArgument,
             "name is not valid UTF-8");
  QK_FAIL_IF(chunks_.count(name) != 0, kInvalidArgument, "a tensor named '%s' was already added", name.c_str());
  QK_FAIL_IF(chunks_.size() >= kMaxTensors, kInvalidArgument, "a file holds at most %u tensors", kMaxTensors);
}

void Writer::add(const std::string& name, Encoded e) {
  check_name(name);
  e.desc.name = name;
  const Geometry g = geometry(e.desc, Status::kInvalidArgument);
  QK_FAIL_IF(g.param_count != e.params.size() || g.code_bytes != e.codes.size(), kInternal,
             "encoder produced %zu params / %zu code bytes, the codec implies %llu / %llu", e.params.size(),
             e.codes.size(), (unsigned long long)g.param_count, (unsigned long long)g.code_bytes);
  TensorDesc& d = e.desc;
  d.decoded_size = g.decoded_size();
  const uint8_t* params = reinterpret_cast<const uint8_t*>(e.params.data());
  const size_t params_bytes = e.params.size() * 4;

  Chunk chunk;
  bool compressed = false;
  if (level_ > 0 && d.decoded_size > 0) {
    const int level = is_low_bit(d) ? std::max(level_, kLowBitLevel) : level_;
    const size_t width = d.codec == kRaw ? file_dtype_size(d.dtype) : 1;
    std::vector<uint8_t> shuffled;
    const uint8_t* codes = e.codes.data();
    if (width > 1) {
      shuffled.resize(e.codes.size());
      byte_shuffle(e.codes.data(), e.codes.size() / width, width, shuffled.data());
      codes = shuffled.data();
    }
    std::vector<uint8_t> pf, cf;
    if (params_bytes) pf = zstd_compress(params, params_bytes, level);
    if (!e.codes.empty()) cf = zstd_compress(codes, e.codes.size(), level);
    if (static_cast<double>(pf.size() + cf.size()) <= (1.0 - kMinSaving) * static_cast<double>(d.decoded_size)) {
      compressed = true;
      d.entropy = kEntropyZstd;
      d.filter = width > 1 ? kFilterShuffle : kFilterNone;
      d.params_stored_size = pf.size();
      chunk.stored = std::move(pf);
      chunk.stored.insert(chunk.stored.end(), cf.begin(), cf.end());
    }
  }
  if (!compressed) {
    d.entropy = kEntropyNone;
    d.filter = kFilterNone;
    d.params_stored_size = params_bytes;
    chunk.stored.assign(params, params + params_bytes);
    chunk.stored.insert(chunk.stored.end(), e.codes.begin(), e.codes.end());
  }
  d.stored_size = chunk.stored.size();
  d.xxh64 = XXH64(chunk.stored.data(), chunk.stored.size(), 0);
  chunk.desc = std::move(d);
  chunks_.emplace(name, std::move(chunk));
}

void Writer::set_metadata(const std::string& key, const std::string& value) {
  require_open();
  QK_FAIL_IF(key.size() > kMaxKeyLength || !is_valid_key(reinterpret_cast<const uint8_t*>(key.data()), key.size()),
             kInvalidArgument, "metadata key must be 1..256 printable ASCII bytes without spaces");
  QK_FAIL_IF(value.size() > kMaxValueLength, kInvalidArgument, "metadata value of %zu bytes exceeds 65536",
             value.size());
  QK_FAIL_IF(!is_valid_utf8(reinterpret_cast<const uint8_t*>(value.data()), value.size()), kInvalidArgument,
             "metadata value is not valid UTF-8");
  QK_FAIL_IF(metadata_.count(key) == 0 && metadata_.size() >= kMaxMetaCount - 1, kInvalidArgument,
             "a file holds at most %u metadata pairs (one is qk.writer)", kMaxMetaCount);
  metadata_[key] = value;
}

std::vector<uint8_t> Writer::build_table(uint64_t* data_offset) {
  std::map<std::string, std::string> meta = metadata_;
  if (!meta.count("qk.writer")) meta["qk.writer"] = std::string("quantkit ") + qk_version_string();
  uint64_t dims_count = 0, pool_size = 0;
  for (const auto& kv : chunks_) {
    dims_count += kv.second.desc.shape.rank;
    pool_size += kv.first.size();
  }
  for (const auto& kv : meta) pool_size += kv.first.size() + kv.second.size();
  const uint64_t n = chunks_.size(), m = meta.size();
  const uint64_t table_size = kTableHeaderSize + kEntrySize * n + kDimSize * dims_count + kMetaRefSize * m + pool_size;
  QK_FAIL_IF(table_size > kMaxTableSize || pool_size > UINT32_MAX, kInvalidArgument,
             "the table would be %llu bytes (the limit is 64 MiB)", (unsigned long long)table_size);
  *data_offset = align_up(kHeaderSize + table_size, alignment_);

  std::vector<uint8_t> t(table_size, 0);
  store_u32(&t[0], static_cast<uint32_t>(n));
  store_u32(&t[4], static_cast<uint32_t>(dims_count));
  store_u32(&t[8], static_cast<uint32_t>(m));
  store_u32(&t[12], static_cast<uint32_t>(pool_size));
  uint8_t* entries = &t[kTableHeaderSize];
  uint8_t* dims = entries + kEntrySize * n;
  uint8_t* refs = dims + kDimSize * dims_count;
  uint8_t* pool = refs + kMetaRefSize * m;
  uint32_t pool_pos = 0, dim_pos = 0;
  uint64_t offset = 0;
  auto put_string = [&](const std::string& s) {
    if (!s.empty()) std::memcpy(pool + pool_pos, s.data(), s.size());
    const uint32_t at = pool_pos;
    pool_pos += static_cast<uint32_t>(s.size());
    return at;
  };
  for (auto& kv : chunks_) {
    TensorDesc& d = kv.second.desc;
    d.offset = offset;
    offset = align_up(offset + d.stored_size, alignment_);
    uint8_t* e = entries;
    entries += kEntrySize;
    store_u32(e + ent::kNameOff, put_string(kv.first));
    store_u32(e + ent::kNameLen, static_cast<uint32_t>(kv.first.size()));
    store_u32(e + ent::kDimsIndex, dim_pos);
    e[ent::kNdim] = static_cast<uint8_t>(d.shape.rank);
    e[ent::kCodec] = d.codec;
    e[ent::kDType] = d.dtype;
    e[ent::kEntropy] = d.entropy;
    e[ent::kFilter] = d.filter;
    store_u16(e + ent::kAxis, static_cast<uint16_t>(static_cast<int16_t>(d.axis)));
    store_u32(e + ent::kLevels, static_cast<uint32_t>(d.levels));
    store_u64(e + ent::kGroupSize, static_cast<uint64_t>(d.group_size));
    store_u64(e + ent::kOffset, d.offset);
    store_u64(e + ent::kStoredSize, d.stored_size);
    store_u64(e + ent::kDecodedSize, d.decoded_size);
    store_u64(e + ent::kParamsStoredSize, d.params_stored_size);
    store_u64(e + ent::kXxh64, d.xxh64);
    store_f64(e + ent::kSqnr, d.sqnr_db);
    store_f64(e + ent::kMaxAbsError, d.max_abs_error);
    for (size_t i = 0; i < d.shape.rank; ++i) store_u64(dims + kDimSize * dim_pos++, static_cast<uint64_t>(d.shape.dims[i]));
  }
  for (const auto& kv : meta) {
    store_u32(refs, put_string(kv.first));
    store_u32(refs + 4, static_cast<uint32_t>(kv.first.size()));
    store_u32(refs + 8, put_string(kv.second));
    store_u32(refs + 12, static_cast<uint32_t>(kv.second.size()));
    refs += kMetaRefSize;
  }
  return t;
}

void Writer::finish() {
  require_open();
  finished_ = true;  // success or not: a half-finished writer must not be reused
  uint64_t data_offset = 0;
  const std::vector<uint8_t> table = build_table(&data_offset);
  // The file ends where the last chunk (in entry order) ends, even an empty one.
  uint64_t file_size = data_offset;
  if (!chunks_.empty()) {
    const TensorDesc& last = chunks_.rbegin()->second.desc;
    file_size = data_offset + last.offset + last.stored_size;
  }

  uint8_t header[kHeaderSize] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  store_u16(header + hdr::kVersionMajor, kVersionMajor);
  store_u16(header + hdr::kVersionMinor, kVersionMinor);
  store_u32(header + hdr::kRequiredFlags, 0);
  store_u32(header + hdr::kAlignment, alignment_);
  store_u32(header + hdr::kTensorCount, static_cast<uint32_t>(chunks_.size()));
  store_u64(header + hdr::kTableOffset, kHeaderSize);
  store_u64(header + hdr::kTableSize, table.size());
  store_u64(header + hdr::kDataOffset, data_offset);
  store_u64(header + hdr::kFileSize, file_size);
  XXH64_state_t* state = XXH64_createState();
  if (!state) throw std::bad_alloc();
  XXH64_reset(state, 0);
  XXH64_update(state, header, hdr::kMetaXxh64);
  XXH64_update(state, table.data(), table.size());
  store_u64(header + hdr::kMetaXxh64, XXH64_digest(state));
  XXH64_freeState(state);

  TempFile tmp(path_);
  write_all(tmp.fd(), header, sizeof header, tmp.path());
  write_all(tmp.fd(), table.data(), table.size(), tmp.path());
  uint64_t pos = kHeaderSize + table.size();
  for (const auto& kv : chunks_) {
    const uint64_t at = data_offset + kv.second.desc.offset;
    write_zeros(tmp.fd(), at - pos, tmp.path());
    write_all(tmp.fd(), kv.second.stored.data(), kv.second.stored.size(), tmp.path());
    pos = at + kv.second.stored.size();
  }
  write_zeros(tmp.fd(), file_size - pos, tmp.path());  // no chunk: pad the table to data_offset
  QK_FAIL_IF(::fsync(tmp.fd()) != 0, kIo, "cannot sync '%s': %s", tmp.path().c_str(), std::strerror(errno));
  tmp.close_checked();
  QK_FAIL_IF(::rename(tmp.path().c_str(), path_.c_str()) != 0, kIo, "cannot rename '%s' to '%s': %s",
             tmp.path().c_str(), path_.c_str(), std::strerror(errno));
  tmp.release();
  // The rename is durable only once the folder is synced.
  const int dfd = ::open(tmp.dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  chunks_.clear();
}

}  // namespace qkw
}  // namespace qk
