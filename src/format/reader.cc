// SPDX-License-Identifier: Apache-2.0
#include "format/reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "format/entropy.h"
#include "format/utf8.h"

namespace qk {
namespace qkw {
namespace {

bool is_power_of_two(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

// Byte-order comparison of two names (memcmp, shorter first on a tie).
int compare_bytes(const std::string& a, const std::string& b) { return a.compare(b); }

}  // namespace

Reader::Reader(const uint8_t* data, size_t size, Verify mode, uint64_t budget)
    : data_(data), size_(size), mode_(mode), budget_(budget) {}

Reader::~Reader() {
  if (map_) ::munmap(map_, size_);
}

std::unique_ptr<Reader> Reader::open_file(const std::string& path, Verify mode, uint64_t memory_budget) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  QK_FAIL_IF(fd < 0, kIo, "cannot open '%s': %s", path.c_str(), std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    ::close(fd);
    fail(Status::kIo, "'%s' is not a regular file%s%s", path.c_str(), err ? ": " : "", err ? std::strerror(err) : "");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < kHeaderSize) {
    ::close(fd);
    fail(Status::kCorrupt, "'%s' is %llu bytes, shorter than the 64-byte .qkw header", path.c_str(),
         (unsigned long long)size);
  }
  void* map = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);
  QK_FAIL_IF(map == MAP_FAILED, kIo, "cannot map '%s': %s", path.c_str(), std::strerror(err));
  std::unique_ptr<Reader> r(new Reader(static_cast<const uint8_t*>(map), static_cast<size_t>(size), mode, memory_budget));
  r->map_ = map;
  r->parse();
  return r;
}

std::unique_ptr<Reader> Reader::open_memory(const void* data, size_t size, Verify mode, uint64_t memory_budget) {
  std::unique_ptr<Reader> r(new Reader(static_cast<const uint8_t*>(data), size, mode, memory_budget));
  r->parse();
  return r;
}

void Reader::require_budget(uint64_t bytes, const char* what) const {
  QK_FAIL_IF(budget_ != 0 && bytes > budget_, kOutOfMemory, "%s needs %llu bytes, over the memory budget of %llu",
             what, (unsigned long long)bytes, (unsigned long long)budget_);
}

void Reader::parse() {
  QK_FAIL_IF(size_ < kHeaderSize, kCorrupt, "the file is %zu bytes, shorter than the 64-byte .qkw header", size_);
  const uint8_t* h = data_;
  QK_FAIL_IF(std::memcmp(h, kMagic, sizeof kMagic) != 0, kCorrupt, "not a .qkw file (bad magic)");
  version_major_ = load_u16(h + hdr::kVersionMajor);
  version_minor_ = load_u16(h + hdr::kVersionMinor);
  QK_FAIL_IF(version_major_ != kVersionMajor, kUnsupported, "format version %u.%u is not supported (this reader: 1.x)",
             version_major_, version_minor_);
  const uint32_t flags = load_u32(h + hdr::kRequiredFlags);
  QK_FAIL_IF(flags & ~kKnownRequiredFlags, kUnsupported, "required_flags 0x%08x has bits this reader does not know",
             flags);
  alignment_ = load_u32(h + hdr::kAlignment);
  QK_FAIL_IF(!is_power_of_two(alignment_) || alignment_ < kMinAlignment || alignment_ > kMaxAlignment, kCorrupt,
             "alignment %u is not a power of two in [16, 1048576]", alignment_);
  const uint32_t tensor_count = load_u32(h + hdr::kTensorCount);
  QK_FAIL_IF(tensor_count > kMaxTensors, kCorrupt, "tensor_count %u exceeds 2^20", tensor_count);
  const uint64_t file_size = load_u64(h + hdr::kFileSize);
  QK_FAIL_IF(file_size != size_, kCorrupt, "file_size says %llu bytes but there are %zu (truncated or appended)",
             (unsigned long long)file_size, size_);
  QK_FAIL_IF(load_u64(h + hdr::kTableOffset) != kHeaderSize, kCorrupt, "table_offset is not 64");
  table_size_ = load_u64(h + hdr::kTableSize);
  QK_FAIL_IF(table_size_ > kMaxTableSize, kCorrupt, "table_size %llu exceeds 64 MiB", (unsigned long long)table_size_);
  QK_FAIL_IF(table_size_ < kTableHeaderSize || kHeaderSize + table_size_ > size_, kCorrupt,
             "table_size %llu does not fit in the file", (unsigned long long)table_size_);
  data_offset_ = load_u64(h + hdr::kDataOffset);
  QK_FAIL_IF(data_offset_ != align_up(kHeaderSize + table_size_, alignment_), kCorrupt,
             "data_offset %llu is not the aligned end of the table", (unsigned long long)data_offset_);
  QK_FAIL_IF(data_offset_ > size_, kCorrupt, "data_offset %llu lies beyond the end of the file",
             (unsigned long long)data_offset_);
  XXH64_state_t* state = XXH64_createState();
  if (!state) throw std::bad_alloc();
  XXH64_reset(state, 0);
  XXH64_update(state, h, hdr::kMetaXxh64);
  XXH64_update(state, h + kHeaderSize, static_cast<size_t>(table_size_));
  const uint64_t digest = XXH64_digest(state);
  XXH64_freeState(state);
  QK_FAIL_IF(digest != load_u64(h + hdr::kMetaXxh64), kCorrupt, "meta_xxh64 does not match: the header or table is damaged");
  QK_FAIL_IF(load_u32(h + kHeaderSize) != tensor_count, kCorrupt, "the table's tensor_count differs from the header's");
  parse_entries(h + kHeaderSize, table_size_);
  if (mode_ == Verify::kFull) {
    check_padding();
    for (size_t i = 0; i < descs_.size(); ++i) check_chunk(i, true);
  }
}

void Reader::parse_entries(const uint8_t* t, uint64_t table_size) {
  const uint64_t n = load_u32(t), dims_count = load_u32(t + 4), meta_count = load_u32(t + 8),
                 pool_size = load_u32(t + 12);
  QK_FAIL_IF(dims_count > kMaxNdim * n, kCorrupt, "dims_count %llu exceeds 8 per tensor", (unsigned long long)dims_count);
  QK_FAIL_IF(meta_count > kMaxMetaCount, kCorrupt, "meta_count %llu exceeds 4096", (unsigned long long)meta_count);
  QK_FAIL_IF(kTableHeaderSize + kEntrySize * n + kDimSize * dims_count + kMetaRefSize * meta_count + pool_size != table_size,
             kCorrupt, "table_size does not equal the sum of its parts");
  // What the table costs in memory, before allocating it (names are bounded by the pool).
  require_budget(n * (sizeof(TensorDesc) + sizeof(Geometry) + 1) + pool_size + meta_count * 64, "the table");
  const uint8_t* entries = t + kTableHeaderSize;
  const uint8_t* dims = entries + kEntrySize * n;
  const uint8_t* refs = dims + kDimSize * dims_count;
  const uint8_t* pool = refs + kMetaRefSize * meta_count;
  const uint64_t data_size = size_ - data_offset_;

  descs_.resize(n);
  geometries_.resize(n);
  supported_.assign(n, 0);
  verified_.reset(new std::atomic<uint8_t>[n]);
  uint64_t expected_offset = 0, end = 0;
  for (uint64_t i = 0; i < n; ++i) {
    verified_[i].store(0, std::memory_order_relaxed);
    const uint8_t* e = entries + kEntrySize * i;
    TensorDesc& d = descs_[i];
    const uint64_t name_off = load_u32(e + ent::kNameOff), name_len = load_u32(e + ent::kNameLen);
    QK_FAIL_IF(name_len < 1 || name_len > kMaxNameLength, kCorrupt, "entry %llu: name length %llu not in [1, 1024]",
               (unsigned long long)i, (unsigned long long)name_len);
    QK_FAIL_IF(name_off + name_len > pool_size, kCorrupt, "entry %llu: the name lies outside the string pool",
               (unsigned long long)i);
    QK_FAIL_IF(!is_valid_utf8(pool + name_off, name_len), kCorrupt, "entry %llu: the name is not valid UTF-8 (or has a NUL)",
               (unsigned long long)i);
    d.name.assign(reinterpret_cast<const char*>(pool + name_off), name_len);
    QK_FAIL_IF(i > 0 && compare_bytes(descs_[i - 1].name, d.name) >= 0, kCorrupt,
               "entry %llu ('%s'): names are not in strictly increasing order (duplicate or unsorted)",
               (unsigned long long)i, d.name.c_str());
    const char* name = d.name.c_str();
    const uint64_t ndim = e[ent::kNdim], dims_index = load_u32(e + ent::kDimsIndex);
    QK_FAIL_IF(ndim > kMaxNdim, kCorrupt, "tensor '%s': ndim %llu exceeds 8", name, (unsigned long long)ndim);
    QK_FAIL_IF(dims_index + ndim > dims_count, kCorrupt, "tensor '%s': its dims lie outside the dims array", name);
    d.shape.rank = ndim;
    d.shape.count = 1;
    bool overflow = false;
    for (uint64_t k = 0; k < ndim; ++k) {
      const int64_t dim = static_cast<int64_t>(load_u64(dims + kDimSize * (dims_index + k)));
      QK_FAIL_IF(dim < 0, kCorrupt, "tensor '%s': dimension %llu is negative", name, (unsigned long long)k);
      QK_FAIL_IF(static_cast<uint64_t>(dim) > kMaxElements, kCorrupt, "tensor '%s': dimension %llu exceeds 2^48", name,
                 (unsigned long long)k);
      d.shape.dims[k] = dim;
    }
    // Overflow-checked product; a zero dimension makes it 0 whatever the others are.
    uint64_t count = 1;
    for (uint64_t k = 0; k < ndim; ++k) {
      const uint64_t dim = static_cast<uint64_t>(d.shape.dims[k]);
      if (dim == 0) { count = 0; overflow = false; break; }
      if (count > kMaxElements / dim) overflow = true;
      else count *= dim;
    }
    QK_FAIL_IF(overflow || count > kMaxElements, kCorrupt, "tensor '%s': element count exceeds 2^48", name);
    d.shape.count = count;
    d.codec = e[ent::kCodec];
    d.dtype = e[ent::kDType];
    d.entropy = e[ent::kEntropy];
    d.filter = e[ent::kFilter];
    QK_FAIL_IF(e[ent::kReserved0] != 0 || load_u64(e + ent::kReserved1) != 0, kCorrupt,
               "tensor '%s': reserved fields are not zero", name);
    d.axis = static_cast<int16_t>(load_u16(e + ent::kAxis));
    d.levels = static_cast<int32_t>(load_u32(e + ent::kLevels));
    d.group_size = static_cast<int64_t>(load_u64(e + ent::kGroupSize));
    d.offset = load_u64(e + ent::kOffset);
    d.stored_size = load_u64(e + ent::kStoredSize);
    d.decoded_size = load_u64(e + ent::kDecodedSize);
    d.params_stored_size = load_u64(e + ent::kParamsStoredSize);
    d.xxh64 = load_u64(e + ent::kXxh64);
    d.sqnr_db = load_f64(e + ent::kSqnr);
    d.max_abs_error = load_f64(e + ent::kMaxAbsError);

    // Placement: canonical, inside the data region (this alone rules out overlaps).
    QK_FAIL_IF(d.offset != expected_offset, kCorrupt, "tensor '%s': offset %llu is not the canonical %llu", name,
               (unsigned long long)d.offset, (unsigned long long)expected_offset);
    QK_FAIL_IF(d.offset > data_size || d.stored_size > data_size - d.offset, kCorrupt,
               "tensor '%s': the chunk lies outside the file", name);
    end = d.offset + d.stored_size;
    expected_offset = align_up(end, alignment_);

    if (is_supported(d)) {
      const Geometry g = geometry(d, Status::kCorrupt);
      QK_FAIL_IF(d.decoded_size != g.decoded_size(), kCorrupt,
                 "tensor '%s': decoded_size %llu is not the %llu its shape and codec imply", name,
                 (unsigned long long)d.decoded_size, (unsigned long long)g.decoded_size());
      const uint64_t params_bytes = 4 * g.param_count;
      if (d.entropy == kEntropyNone) {
        QK_FAIL_IF(d.stored_size != d.decoded_size, kCorrupt, "tensor '%s': an uncompressed chunk must be %llu bytes",
                   name, (unsigned long long)d.decoded_size);
        QK_FAIL_IF(d.params_stored_size != params_bytes, kCorrupt, "tensor '%s': params_stored_size is not %llu", name,
                   (unsigned long long)params_bytes);
      } else {
        QK_FAIL_IF(d.decoded_size == 0, kCorrupt, "tensor '%s': an empty tensor cannot be compressed", name);
        const bool has_params = g.param_count > 0, has_codes = g.code_bytes > 0;
        QK_FAIL_IF(has_params != (d.params_stored_size > 0), kCorrupt,
                   "tensor '%s': params_stored_size %llu does not fit the codec", name,
                   (unsigned long long)d.params_stored_size);
        QK_FAIL_IF(d.params_stored_size > d.stored_size ||
                       has_codes != (d.stored_size - d.params_stored_size > 0),
                   kCorrupt, "tensor '%s': params_stored_size %llu does not fit the chunk of %llu bytes", name,
                   (unsigned long long)d.params_stored_size, (unsigned long long)d.stored_size);
      }
      geometries_[i] = g;
      supported_[i] = 1;
    }
  }
  QK_FAIL_IF(data_offset_ + end != size_, kCorrupt, "the file does not end where its last chunk ends");

  metadata_.reserve(meta_count);
  for (uint64_t i = 0; i < meta_count; ++i) {
    const uint8_t* r = refs + kMetaRefSize * i;
    const uint64_t ko = load_u32(r), kl = load_u32(r + 4), vo = load_u32(r + 8), vl = load_u32(r + 12);
    QK_FAIL_IF(kl < 1 || kl > kMaxKeyLength, kCorrupt, "metadata %llu: key length %llu not in [1, 256]",
               (unsigned long long)i, (unsigned long long)kl);
    QK_FAIL_IF(vl > kMaxValueLength, kCorrupt, "metadata %llu: value of %llu bytes exceeds 65536", (unsigned long long)i,
               (unsigned long long)vl);
    QK_FAIL_IF(ko + kl > pool_size || vo + vl > pool_size, kCorrupt, "metadata %llu lies outside the string pool",
               (unsigned long long)i);
    QK_FAIL_IF(!is_valid_key(pool + ko, kl), kCorrupt, "metadata %llu: the key is not printable ASCII without spaces",
               (unsigned long long)i);
    QK_FAIL_IF(!is_valid_utf8(pool + vo, vl), kCorrupt, "metadata %llu: the value is not valid UTF-8 (or has a NUL)",
               (unsigned long long)i);
    std::string key(reinterpret_cast<const char*>(pool + ko), kl);
    QK_FAIL_IF(i > 0 && compare_bytes(metadata_.back().first, key) >= 0, kCorrupt,
               "metadata key '%s' is not in strictly increasing order (duplicate or unsorted)", key.c_str());
    metadata_.emplace_back(std::move(key), std::string(reinterpret_cast<const char*>(pool + vo), vl));
  }
}

void Reader::check_padding() const {
  auto zero = [&](uint64_t from, uint64_t to, const char* where) {
    for (uint64_t p = from; p < to; ++p)
      QK_FAIL_IF(data_[p] != 0, kCorrupt, "byte %llu (%s) must be zero", (unsigned long long)p, where);
  };
  zero(kHeaderSize + table_size_, data_offset_, "padding after the table");
  for (size_t i = 0; i + 1 < descs_.size(); ++i)
    zero(data_offset_ + descs_[i].offset + descs_[i].stored_size, data_offset_ + descs_[i + 1].offset,
         "padding between chunks");
}

const TensorDesc& Reader::desc(size_t index) const {
  QK_FAIL_IF(index >= descs_.size(), kInvalidArgument, "index %zu is not below the tensor count %zu", index,
             descs_.size());
  return descs_[index];
}

Geometry Reader::geometry_of(size_t index) const {
  const TensorDesc& d = desc(index);
  QK_FAIL_IF(!supported_[index], kUnsupported,
             "tensor '%s' uses codec %u / dtype %u / entropy %u / filter %u, unknown to this version (format 1.%u)",
             d.name.c_str(), d.codec, d.dtype, d.entropy, d.filter, kVersionMinor);
  return geometries_[index];
}

size_t Reader::find(const std::string& name) const {
  size_t lo = 0, hi = descs_.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const int c = compare_bytes(descs_[mid].name, name);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  fail(Status::kNotFound, "no tensor named '%s'", name.c_str());
}

void Reader::check_frames(size_t index) const {
  const TensorDesc& d = descs_[index];
  if (!supported_[index] || d.entropy != kEntropyZstd) return;
  const Geometry& g = geometries_[index];
  const uint8_t* c = chunk(index);
  if (g.param_count > 0) check_zstd_frame(c, d.params_stored_size, 4 * g.param_count, d.name.c_str(), "params");
  if (g.code_bytes > 0)
    check_zstd_frame(c + d.params_stored_size, d.stored_size - d.params_stored_size, g.code_bytes, d.name.c_str(),
                     "codes");
}

void Reader::check_chunk(size_t index, bool force) const {
  if (!force && (mode_ == Verify::kNone || verified_[index].load(std::memory_order_acquire))) return;
  const TensorDesc& d = descs_[index];
  QK_FAIL_IF(XXH64(chunk(index), d.stored_size, 0) != d.xxh64, kCorrupt,
             "tensor '%s': the chunk's checksum does not match (the data is damaged)", d.name.c_str());
  check_frames(index);
  verified_[index].store(1, std::memory_order_release);
}

void Reader::verify_all() const {
  check_padding();
  for (size_t i = 0; i < descs_.size(); ++i) check_chunk(i, true);
}

Reader::Streams Reader::load(size_t index, bool want_codes, float* unshuffle_into) const {
  const Geometry g = geometry_of(index);
  const TensorDesc& d = descs_[index];
  check_chunk(index, false);
  Streams s;
  const uint8_t* c = chunk(index);
  const char* name = d.name.c_str();
  if (d.entropy == kEntropyNone) {
    s.params.resize(g.param_count);
    if (g.param_count) std::memcpy(s.params.data(), c, 4 * g.param_count);
    s.codes = c + 4 * g.param_count;
    return s;
  }
  // Frame headers are checked on every use (cheap), so no mode decompresses an undeclared size.
  check_frames(index);
  const bool shuffled = d.filter == kFilterShuffle;
  require_budget(4 * g.param_count + (want_codes ? g.code_bytes * (shuffled && !unshuffle_into ? 2 : 1) : 0),
                 "decoding this tensor");
  s.params.resize(g.param_count);
  if (g.param_count)
    zstd_decompress(c, d.params_stored_size, reinterpret_cast<uint8_t*>(s.params.data()), 4 * g.param_count, name,
                    "params");
  if (!want_codes || g.code_bytes == 0) return s;
  std::vector<uint8_t> raw(g.code_bytes);
  zstd_decompress(c + d.params_stored_size, d.stored_size - d.params_stored_size, raw.data(), raw.size(), name,
                  "codes");
  if (shuffled) {
    const size_t width = file_dtype_size(d.dtype);
    if (unshuffle_into) {  // straight into the caller's f32 buffer (RAW F32 only)
      byte_unshuffle(raw.data(), raw.size() / width, width, reinterpret_cast<uint8_t*>(unshuffle_into));
      return s;
    }
    s.owned_codes.resize(raw.size());
    byte_unshuffle(raw.data(), raw.size() / width, width, s.owned_codes.data());
  } else {
    s.owned_codes = std::move(raw);
  }
  s.codes = s.owned_codes.data();
  return s;
}

void Reader::decode_f32(size_t index, float* dst, size_t dst_count) const {
  const TensorDesc& d = desc(index);
  QK_FAIL_IF(dst_count != d.shape.count, kInvalidArgument, "dst_count %zu != the tensor's %llu elements", dst_count,
             (unsigned long long)d.shape.count);
  const Geometry g = geometry_of(index);
  const bool direct = d.codec == kRaw && d.dtype == kF32 && d.filter == kFilterShuffle;
  Streams s = load(index, true, direct ? dst : nullptr);
  if (direct) return;  // all checks passed before the unshuffle wrote dst
  check_contents(d, g, s.params.data(), s.codes);
  qkw::decode_f32(d, g, s.params.data(), s.codes, dst);
}

void Reader::read_codes(size_t index, void* dst, size_t dst_bytes) const {
  const TensorDesc& d = desc(index);
  const Geometry g = geometry_of(index);
  QK_FAIL_IF(dst_bytes != g.code_bytes, kInvalidArgument, "codes_bytes %zu != the tensor's %llu code bytes", dst_bytes,
             (unsigned long long)g.code_bytes);
  Streams s = load(index, true);
  check_contents(d, g, s.params.data(), s.codes);
  if (g.code_bytes) std::memcpy(dst, s.codes, g.code_bytes);
}

void Reader::read_params(size_t index, float* dst, size_t dst_count) const {
  const TensorDesc& d = desc(index);
  const Geometry g = geometry_of(index);
  QK_FAIL_IF(dst_count != g.param_count, kInvalidArgument, "param_count %zu != the tensor's %llu params", dst_count,
             (unsigned long long)g.param_count);
  Streams s = load(index, false);
  check_contents(d, g, s.params.data(), nullptr);
  if (g.param_count) std::memcpy(dst, s.params.data(), 4 * g.param_count);
}

QParams Reader::qparams(size_t index) const {
  const TensorDesc& d = desc(index);
  const Geometry g = geometry_of(index);
  QK_FAIL_IF(d.codec != kSymmetric && d.codec != kAffine, kUnsupported,
             "tensor '%s': only SYMMETRIC and AFFINE tensors have qparams", d.name.c_str());
  Streams s = load(index, false);
  check_contents(d, g, s.params.data(), nullptr);
  QParams qp;
  if (d.codec == kSymmetric) {
    qp.dtype = DType::kS8;
    qp.scheme = d.group_size == 0 ? QScheme::kPerChannelSymmetric : QScheme::kPerGroupSymmetric;
    qp.axis = d.axis;
    qp.group_size = d.group_size == 0 ? 1 : d.group_size;
    qp.quant_min = -d.levels;
    qp.quant_max = d.levels;
    qp.scales = s.params;
    qp.zero_points.assign(s.params.size(), 0);
  } else {
    const size_t C = s.params.size() / 2;
    const bool is_signed = d.dtype == kS8;
    qp.dtype = is_signed ? DType::kS8 : DType::kU8;
    qp.quant_min = is_signed ? -128 : 0;
    qp.quant_max = is_signed ? 127 : 255;
    qp.axis = d.axis < 0 ? 0 : d.axis;
    qp.scales.assign(s.params.begin(), s.params.begin() + C);
    bool all_zero = true;
    for (size_t c = 0; c < C; ++c) {
      const float z = s.params[C + c];
      QK_FAIL_IF(z != std::nearbyint(z) || z < qp.quant_min || z > qp.quant_max, kUnsupported,
                 "tensor '%s': zero point %g is not an integer code; use qk_qkw_read_params", d.name.c_str(), z);
      qp.zero_points.push_back(static_cast<int32_t>(z));
      all_zero &= z == 0.0f;
    }
    const bool symmetric = is_signed && all_zero;
    qp.scheme = d.axis < 0 ? (symmetric ? QScheme::kPerTensorSymmetric : QScheme::kPerTensorAffine)
                           : (symmetric ? QScheme::kPerChannelSymmetric : QScheme::kPerChannelAffine);
  }
  try {
    qp.validate();
  } catch (const Error& e) {
    fail(Status::kUnsupported, "tensor '%s': its parameters are not valid qparams (%s)", d.name.c_str(), e.what());
  }
  return qp;
}

const uint8_t* Reader::map_codes(size_t index, size_t* bytes) const {
  const TensorDesc& d = desc(index);
  const Geometry g = geometry_of(index);
  QK_FAIL_IF(d.entropy != kEntropyNone, kState, "tensor '%s' is compressed: it cannot be mapped (decode it)",
             d.name.c_str());
  check_chunk(index, false);
  *bytes = g.code_bytes;
  return chunk(index) + 4 * g.param_count;
}

}  // namespace qkw
}  // namespace qk
