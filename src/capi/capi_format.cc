// SPDX-License-Identifier: Apache-2.0
// C shims for the .qkw writer and reader: argument checks and the exception firewall. The
// format itself lives in src/format.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "capi/capi_common.h"
#include "format/reader.h"
#include "format/writer.h"

struct qk_qkw_writer {
  std::unique_ptr<qk::qkw::Writer> writer;
};
struct qk_qkw_reader {
  std::unique_ptr<qk::qkw::Reader> reader;
};

namespace {

using qk::qkw::Encoded;

// The shape of a tensor to add: validated, at most 2^48 elements (the format's limit).
qk::Shape tensor_shape(const int64_t* shape, size_t rank) {
  const qk::Shape s = qk::Shape::from(shape, rank);
  QK_FAIL_IF(s.count > qk::qkw::kMaxElements, kInvalidArgument, "the tensor has more than 2^48 elements");
  return s;
}

// SYMMETRIC axes count from the end like everywhere else in the API.
int32_t channel_axis(const qk::Shape& s, int32_t axis) {
  QK_FAIL_IF(s.rank == 0, kInvalidArgument, "a per-channel codec needs rank >= 1");
  return static_cast<int32_t>(s.normalize_axis(axis));
}

// AFFINE axes: -1 is "per tensor", so only [0, rank) name a channel axis.
int32_t affine_axis(const qk::Shape& s, int32_t axis) {
  if (axis == -1) return -1;
  QK_FAIL_IF(axis < 0 || static_cast<size_t>(axis) >= s.rank, kInvalidArgument,
             "axis %d: use -1 (per tensor) or a channel axis in [0, %zu)", axis, s.rank);
  return axis;
}

qk::qkw::Writer& live_writer(qk_qkw_writer* w) {
  QK_REQUIRE_NOT_NULL(w);
  QK_FAIL_IF(w->writer->finished(), kState, "the writer is finished");
  return *w->writer;
}

const qk::qkw::Reader& reader_of(const qk_qkw_reader* r) {
  QK_REQUIRE_NOT_NULL(r);
  return *r->reader;
}

void require_name(const char* name, const qk::qkw::Writer& w) {
  QK_REQUIRE_NOT_NULL(name);
  w.check_name(name);
}

void report(const Encoded& e, double* sqnr_db_out, double* max_abs_error_out) {
  if (sqnr_db_out) *sqnr_db_out = e.desc.sqnr_db;
  if (max_abs_error_out) *max_abs_error_out = e.desc.max_abs_error;
}

}  // namespace

extern "C" {

QK_API const char* qk_codec_name(qk_codec codec) {
  switch (codec) {
    case QK_CODEC_RAW: return "raw";
    case QK_CODEC_SYMMETRIC: return "symmetric";
    case QK_CODEC_AFFINE: return "affine";
    case QK_CODEC_AFFINE_OFFSET: return "affine_offset";
    case QK_CODEC_GGML_Q8_0: return "q8_0";
    case QK_CODEC_GGML_Q4_0: return "q4_0";
    case QK_CODEC_LUT: return "lut";
    case QK_CODEC_MAX_ENUM: break;
  }
  return "unknown";
}

QK_API qk_status qk_qkw_writer_create(const char* path, qk_qkw_writer** writer_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(path);
    QK_REQUIRE_NOT_NULL(writer_out);
    auto handle = std::make_unique<qk_qkw_writer>();
    handle->writer = std::make_unique<qk::qkw::Writer>(path);
    *writer_out = handle.release();
  });
}

QK_API void qk_qkw_writer_destroy(qk_qkw_writer* writer) { delete writer; }

QK_API qk_status qk_qkw_writer_set_alignment(qk_qkw_writer* writer, uint32_t alignment) {
  return QK_GUARD({ live_writer(writer).set_alignment(alignment); });
}

QK_API qk_status qk_qkw_writer_set_zstd_level(qk_qkw_writer* writer, int32_t level) {
  return QK_GUARD({ live_writer(writer).set_zstd_level(level); });
}

QK_API qk_status qk_qkw_writer_set_small_tensor_threshold(qk_qkw_writer* writer, uint64_t elements) {
  return QK_GUARD({ live_writer(writer).set_small_tensor_threshold(elements); });
}

QK_API qk_status qk_qkw_writer_set_small_tensor_dtype(qk_qkw_writer* writer, qk_dtype dtype) {
  return QK_GUARD({
    QK_FAIL_IF(static_cast<int>(dtype) < 0 || static_cast<int>(dtype) > 255, kInvalidArgument, "dtype %d is not valid",
               static_cast<int>(dtype));
    live_writer(writer).set_small_tensor_dtype(static_cast<uint8_t>(dtype));
  });
}

QK_API qk_status qk_qkw_writer_add_f32(qk_qkw_writer* writer, const char* name, const float* data,
                                       const int64_t* shape, size_t rank, qk_codec codec, qk_dtype dtype,
                                       int32_t bits, int32_t axis, int64_t group_size, double* sqnr_db_out,
                                       double* max_abs_error_out) {
  return QK_GUARD({
    qk::qkw::Writer& w = live_writer(writer);
    require_name(name, w);
    const qk::Shape s = tensor_shape(shape, rank);
    QK_FAIL_IF(s.count > 0 && data == nullptr, kInvalidArgument, "argument 'data' is NULL");
    Encoded e;
    int codec_value;  // read as an int: an out-of-range enum value is defined behaviour only so
    std::memcpy(&codec_value, &codec, sizeof codec_value);
    switch (codec_value) {
      case QK_CODEC_RAW:
        QK_FAIL_IF(dtype != QK_DTYPE_F32 && dtype != QK_DTYPE_F16 && dtype != QK_DTYPE_BF16, kInvalidArgument,
                   "QK_CODEC_RAW from f32 takes dtype F32, F16 or BF16 (got %d)", static_cast<int>(dtype));
        e = qk::qkw::encode_raw_f32(s, data, static_cast<uint8_t>(dtype));
        break;
      case QK_CODEC_SYMMETRIC:
        QK_FAIL_IF(bits < 2 || bits > 8, kInvalidArgument, "bits %d not in [2, 8]", bits);
        QK_FAIL_IF(group_size < 0, kInvalidArgument, "group_size %lld is negative", (long long)group_size);
        e = qk::qkw::encode_symmetric(s, data, channel_axis(s, axis), group_size, double((1 << (bits - 1)) - 1));
        break;
      case QK_CODEC_AFFINE:
        QK_FAIL_IF(dtype != QK_DTYPE_U8 && dtype != QK_DTYPE_S8, kInvalidArgument,
                   "QK_CODEC_AFFINE takes dtype U8 or S8 (got %d)", static_cast<int>(dtype));
        e = qk::qkw::encode_affine(s, data, static_cast<uint8_t>(dtype), affine_axis(s, axis));
        break;
      case QK_CODEC_AFFINE_OFFSET:
        QK_FAIL_IF(dtype != QK_DTYPE_U8, kInvalidArgument, "QK_CODEC_AFFINE_OFFSET takes dtype U8 (got %d)",
                   static_cast<int>(dtype));
        e = qk::qkw::encode_affine_offset(s, data, affine_axis(s, axis));
        break;
      case QK_CODEC_GGML_Q8_0:
      case QK_CODEC_GGML_Q4_0:
        QK_FAIL_IF(s.rank == 0 || s.dims[s.rank - 1] % 32 != 0, kInvalidArgument,
                   "ggml blocks need rank >= 1 and a last dimension that is a multiple of 32");
        e = qk::qkw::encode_ggml(s, data, static_cast<uint8_t>(codec));
        break;
      case QK_CODEC_LUT:
        e = qk::qkw::encode_lut(s, data, bits);
        break;
      default:
        qk::fail(qk::Status::kInvalidArgument, "codec %d is not a valid value", codec_value);
    }
    qk::qkw::measure(e, data);
    report(e, sqnr_db_out, max_abs_error_out);
    w.add(name, std::move(e));
  });
}

QK_API qk_status qk_qkw_writer_add_budget(qk_qkw_writer* writer, const char* name, const float* data,
                                          const int64_t* shape, size_t rank, double target_sqnr_db,
                                          int32_t max_bits, qk_codec* codec_out, int32_t* levels_out,
                                          double* sqnr_db_out, double* max_abs_error_out) {
  return QK_GUARD({
    qk::qkw::Writer& w = live_writer(writer);
    require_name(name, w);
    const qk::Shape s = tensor_shape(shape, rank);
    QK_FAIL_IF(s.count > 0 && data == nullptr, kInvalidArgument, "argument 'data' is NULL");
    Encoded e = qk::qkw::encode_budget(s, data, target_sqnr_db, max_bits, w.small_tensor_threshold(),
                                           w.small_tensor_dtype());
    const qk_codec codec = static_cast<qk_codec>(e.desc.codec);
    const int32_t levels = e.desc.levels;
    report(e, sqnr_db_out, max_abs_error_out);
    w.add(name, std::move(e));
    if (codec_out) *codec_out = codec;
    if (levels_out) *levels_out = levels;
  });
}

QK_API qk_status qk_qkw_writer_add_quantized(qk_qkw_writer* writer, const char* name, const void* codes,
                                             size_t codes_bytes, const int64_t* shape, size_t rank,
                                             const qk_qparams* qparams, const float* source) {
  return QK_GUARD({
    qk::qkw::Writer& w = live_writer(writer);
    require_name(name, w);
    QK_REQUIRE_NOT_NULL(qparams);
    const qk::Shape s = tensor_shape(shape, rank);
    QK_FAIL_IF(codes_bytes > 0 && codes == nullptr, kInvalidArgument, "argument 'codes' is NULL");
    Encoded e = qk::qkw::encode_quantized(s, codes, codes_bytes, qparams->qp);
    if (source) qk::qkw::measure(e, source);
    w.add(name, std::move(e));
  });
}

QK_API qk_status qk_qkw_writer_add_raw(qk_qkw_writer* writer, const char* name, const void* data, size_t bytes,
                                       qk_dtype dtype, const int64_t* shape, size_t rank) {
  return QK_GUARD({
    qk::qkw::Writer& w = live_writer(writer);
    require_name(name, w);
    const qk::Shape s = tensor_shape(shape, rank);
    QK_FAIL_IF(bytes > 0 && data == nullptr, kInvalidArgument, "argument 'data' is NULL");
    QK_FAIL_IF(static_cast<int>(dtype) < 0 || static_cast<int>(dtype) > 255, kInvalidArgument, "dtype %d is not valid",
               static_cast<int>(dtype));
    Encoded e = qk::qkw::encode_raw_exact(s, data, bytes, static_cast<uint8_t>(dtype));
    e.desc.sqnr_db = INFINITY;
    e.desc.max_abs_error = 0.0;
    w.add(name, std::move(e));
  });
}

QK_API qk_status qk_qkw_writer_set_metadata(qk_qkw_writer* writer, const char* key, const char* value) {
  return QK_GUARD({
    qk::qkw::Writer& w = live_writer(writer);
    QK_REQUIRE_NOT_NULL(key);
    QK_REQUIRE_NOT_NULL(value);
    w.set_metadata(key, value);
  });
}

QK_API qk_status qk_qkw_writer_finish(qk_qkw_writer* writer) {
  return QK_GUARD({ live_writer(writer).finish(); });
}

// Takes the enum's address: copying an out-of-range enum value is itself undefined behaviour,
// and any int must be a defined (if rejected) argument.
static qk::qkw::Verify verify_mode(const qk_verify_mode* mode_enum) {
  int mode;
  std::memcpy(&mode, mode_enum, sizeof mode);
  QK_FAIL_IF(mode != QK_VERIFY_FULL && mode != QK_VERIFY_LAZY && mode != QK_VERIFY_NONE, kInvalidArgument,
             "verify mode %d is not a valid value", mode);
  return static_cast<qk::qkw::Verify>(mode);
}

QK_API qk_status qk_qkw_open_file(const char* path, qk_verify_mode mode, uint64_t memory_budget,
                                  qk_qkw_reader** reader_out) {
  return QK_GUARD({
    QK_REQUIRE_NOT_NULL(path);
    QK_REQUIRE_NOT_NULL(reader_out);
    auto handle = std::make_unique<qk_qkw_reader>();
    handle->reader = qk::qkw::Reader::open_file(path, verify_mode(&mode), memory_budget);
    *reader_out = handle.release();
  });
}

QK_API qk_status qk_qkw_open_memory(const void* data, size_t size, qk_verify_mode mode, uint64_t memory_budget,
                                    qk_qkw_reader** reader_out) {
  return QK_GUARD({
    QK_FAIL_IF(data == nullptr && size > 0, kInvalidArgument, "argument 'data' is NULL");
    QK_REQUIRE_NOT_NULL(reader_out);
    auto handle = std::make_unique<qk_qkw_reader>();
    handle->reader = qk::qkw::Reader::open_memory(data, size, verify_mode(&mode), memory_budget);
    *reader_out = handle.release();
  });
}

QK_API void qk_qkw_close(qk_qkw_reader* reader) { delete reader; }

QK_API qk_status qk_qkw_verify(const qk_qkw_reader* reader) {
  return QK_GUARD({ reader_of(reader).verify_all(); });
}

QK_API qk_status qk_qkw_tensor_count(const qk_qkw_reader* reader, size_t* count_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_REQUIRE_NOT_NULL(count_out);
    *count_out = r.tensor_count();
  });
}

QK_API qk_status qk_qkw_find(const qk_qkw_reader* reader, const char* name, size_t* index_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_REQUIRE_NOT_NULL(name);
    QK_REQUIRE_NOT_NULL(index_out);
    *index_out = r.find(name);
  });
}

QK_API qk_status qk_qkw_tensor_name(const qk_qkw_reader* reader, size_t index, const char** name_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_REQUIRE_NOT_NULL(name_out);
    *name_out = r.desc(index).name.c_str();
  });
}

QK_API qk_status qk_qkw_tensor_shape(const qk_qkw_reader* reader, size_t index, int64_t* shape_out, size_t capacity,
                                     size_t* rank_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_REQUIRE_NOT_NULL(rank_out);
    const qk::Shape& s = r.desc(index).shape;
    QK_FAIL_IF(s.rank > 0 && shape_out == nullptr && capacity > 0, kInvalidArgument, "argument 'shape_out' is NULL");
    if (capacity < s.rank) {
      *rank_out = s.rank;
      qk::fail(qk::Status::kBufferTooSmall, "the shape has %zu dimensions, capacity is %zu", s.rank, capacity);
    }
    if (s.rank) std::memcpy(shape_out, s.dims, s.rank * sizeof(int64_t));
    *rank_out = s.rank;
  });
}

QK_API qk_status qk_qkw_tensor_info_get(const qk_qkw_reader* reader, size_t index, qk_qkw_tensor_info* info_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_REQUIRE_NOT_NULL(info_out);
    const qk::qkw::TensorDesc& d = r.desc(index);
    qk_qkw_tensor_info info;
    std::memset(&info, 0, sizeof info);
    info.codec = static_cast<qk_codec>(d.codec);
    info.dtype = static_cast<qk_dtype>(d.dtype);
    info.rank = static_cast<uint32_t>(d.shape.rank);
    info.axis = d.axis;
    info.group_size = d.group_size;
    info.levels = d.levels;
    info.bits = qk::qkw::code_bits(d);
    info.element_count = d.shape.count;
    info.stored_bytes = d.stored_size;
    info.decoded_bytes = d.decoded_size;
    info.sqnr_db = d.sqnr_db;
    info.max_abs_error = d.max_abs_error;
    info.compressed = d.entropy != qk::qkw::kEntropyNone;
    if (r.supported(index)) {
      const qk::qkw::Geometry g = r.geometry_of(index);
      info.code_bytes = g.code_bytes;
      info.param_count = g.param_count;
      info.mappable = d.entropy == qk::qkw::kEntropyNone;
      info.status = QK_OK;
    } else {
      info.status = QK_ERR_UNSUPPORTED;
    }
    *info_out = info;
  });
}

QK_API qk_status qk_qkw_decode_f32(const qk_qkw_reader* reader, size_t index, float* dst, size_t dst_count) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_FAIL_IF(dst == nullptr && dst_count > 0, kInvalidArgument, "argument 'dst' is NULL");
    r.decode_f32(index, dst, dst_count);
  });
}

QK_API qk_status qk_qkw_read_codes(const qk_qkw_reader* reader, size_t index, void* codes, size_t codes_bytes) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_FAIL_IF(codes == nullptr && codes_bytes > 0, kInvalidArgument, "argument 'codes' is NULL");
    r.read_codes(index, codes, codes_bytes);
  });
}

QK_API qk_status qk_qkw_read_params(const qk_qkw_reader* reader, size_t index, float* params, size_t param_count) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_FAIL_IF(params == nullptr && param_count > 0, kInvalidArgument, "argument 'params' is NULL");
    r.read_params(index, params, param_count);
  });
}

QK_API qk_status qk_qkw_tensor_qparams(const qk_qkw_reader* reader, size_t index, qk_qparams** qparams_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_REQUIRE_NOT_NULL(qparams_out);
    auto handle = std::make_unique<qk_qparams>();
    handle->qp = r.qparams(index);
    *qparams_out = handle.release();
  });
}

QK_API qk_status qk_qkw_map_codes(const qk_qkw_reader* reader, size_t index, const void** codes_out,
                                  size_t* bytes_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_REQUIRE_NOT_NULL(codes_out);
    QK_REQUIRE_NOT_NULL(bytes_out);
    size_t bytes = 0;
    const uint8_t* p = r.map_codes(index, &bytes);
    *codes_out = p;
    *bytes_out = bytes;
  });
}

QK_API qk_status qk_qkw_metadata_count(const qk_qkw_reader* reader, size_t* count_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_REQUIRE_NOT_NULL(count_out);
    *count_out = r.metadata().size();
  });
}

QK_API qk_status qk_qkw_metadata_at(const qk_qkw_reader* reader, size_t index, const char** key_out,
                                    const char** value_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_REQUIRE_NOT_NULL(key_out);
    QK_REQUIRE_NOT_NULL(value_out);
    QK_FAIL_IF(index >= r.metadata().size(), kInvalidArgument, "index %zu is not below the metadata count %zu", index,
               r.metadata().size());
    *key_out = r.metadata()[index].first.c_str();
    *value_out = r.metadata()[index].second.c_str();
  });
}

QK_API qk_status qk_qkw_metadata_get(const qk_qkw_reader* reader, const char* key, const char** value_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    QK_REQUIRE_NOT_NULL(key);
    QK_REQUIRE_NOT_NULL(value_out);
    for (const auto& kv : r.metadata())
      if (kv.first == key) {
        *value_out = kv.second.c_str();
        return;
      }
    qk::fail(qk::Status::kNotFound, "no metadata key '%s'", key);
  });
}

QK_API qk_status qk_qkw_file_info(const qk_qkw_reader* reader, uint32_t* version_major_out,
                                  uint32_t* version_minor_out, uint32_t* alignment_out, uint64_t* file_size_out) {
  return QK_GUARD({
    const qk::qkw::Reader& r = reader_of(reader);
    if (version_major_out) *version_major_out = r.version_major();
    if (version_minor_out) *version_minor_out = r.version_minor();
    if (alignment_out) *alignment_out = r.alignment();
    if (file_size_out) *file_size_out = r.file_size();
  });
}

}  // extern "C"
