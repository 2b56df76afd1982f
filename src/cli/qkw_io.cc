// SPDX-License-Identifier: Apache-2.0
#include "qkw_io.h"

#include <cstring>

namespace qkcli {

void throw_qk(const std::string& ctx, qk_status st) {
  const char* msg = qk_last_error();
  std::string what = msg && *msg ? msg : qk_status_string(st);
  throw QkError(ctx + ": " + what, st);
}

std::string source_dtype_key(const std::string& tensor_name) {
  return "source.dtype." + escape_key_part(tensor_name);
}

QkwFile::QkwFile(const std::string& path, qk_verify_mode mode) : path_(path) {
  qk_status st = qk_qkw_open_file(path.c_str(), mode, 0, &r_);
  if (st != QK_OK) throw_qk(path, st);
  st = qk_qkw_tensor_count(r_, &count_);
  if (st != QK_OK) {
    qk_qkw_close(r_);
    r_ = nullptr;
    throw_qk(path, st);
  }
}

QkwFile::~QkwFile() { qk_qkw_close(r_); }

std::string QkwFile::name(size_t i) const {
  const char* n = nullptr;
  qk_status st = qk_qkw_tensor_name(r_, i, &n);
  if (st != QK_OK) throw_qk(path_ + ": tensor " + std::to_string(i), st);
  return n;
}

std::vector<int64_t> QkwFile::shape(size_t i) const {
  int64_t dims[QK_MAX_RANK];
  size_t rank = 0;
  qk_status st = qk_qkw_tensor_shape(r_, i, dims, QK_MAX_RANK, &rank);
  if (st != QK_OK) throw_qk(path_ + ": tensor '" + name(i) + "'", st);
  return std::vector<int64_t>(dims, dims + rank);
}

qk_qkw_tensor_info QkwFile::info(size_t i) const {
  qk_qkw_tensor_info info;
  std::memset(&info, 0, sizeof info);
  qk_status st = qk_qkw_tensor_info_get(r_, i, &info);
  if (st != QK_OK) throw_qk(path_ + ": tensor '" + name(i) + "'", st);
  return info;
}

bool QkwFile::meta(const std::string& key, std::string* value) const {
  const char* v = nullptr;
  qk_status st = qk_qkw_metadata_get(r_, key.c_str(), &v);
  if (st == QK_ERR_NOT_FOUND) return false;
  if (st != QK_OK) throw_qk(path_ + ": metadata '" + key + "'", st);
  *value = v;
  return true;
}

Tensor QkwFile::read(size_t i, bool restore_source_dtype) const {
  Tensor t;
  t.name = name(i);
  t.shape = shape(i);
  const std::string ctx = path_ + ": tensor '" + t.name + "'";
  qk_qkw_tensor_info in = info(i);
  if (in.status != QK_OK) throw_qk(ctx, in.status == QK_OK ? QK_ERR_UNSUPPORTED : in.status);
  const uint64_t n = in.element_count;
  std::string src;
  bool have_src = restore_source_dtype && meta(source_dtype_key(t.name), &src);
  DType want = DType::F32;
  if (have_src && !dtype_from_name(src, &want)) {
    throw Error(ctx + ": unknown source dtype '" + src + "' in the metadata");
  }
  auto read_codes = [&](DType d) {
    if (in.code_bytes != n * dtype_size(d)) throw Error(ctx + ": unexpected code size");
    t.dtype = d;
    t.data.resize(static_cast<size_t>(in.code_bytes));
    qk_status st = qk_qkw_read_codes(r_, i, t.data.data(), t.data.size());
    if (st != QK_OK) throw_qk(ctx, st);
  };
  const bool raw = in.codec == QK_CODEC_RAW;
  if (raw && in.dtype == QK_DTYPE_S64) read_codes(DType::I64);
  else if (raw && in.dtype == QK_DTYPE_S32) read_codes(DType::I32);
  else if (raw && in.dtype == QK_DTYPE_S8) read_codes(DType::I8);
  else if (raw && in.dtype == QK_DTYPE_U8) read_codes(DType::U8);
  else if (raw && in.dtype == QK_DTYPE_F16 && have_src && want == DType::F16) read_codes(DType::F16);
  else {
    t.dtype = DType::F32;
    t.data.resize(static_cast<size_t>(n * 4));
    qk_status st = qk_qkw_decode_f32(r_, i, reinterpret_cast<float*>(t.data.data()), static_cast<size_t>(n));
    if (st != QK_OK) throw_qk(ctx, st);
  }
  if (!have_src || want == t.dtype) return t;
  // Restore the source dtype recorded by `qk pack`.
  std::vector<uint8_t> out(static_cast<size_t>(n * dtype_size(want)));
  if (want == DType::F64 && t.dtype == DType::F32) {
    for (uint64_t k = 0; k < n; ++k) {
      float f;
      std::memcpy(&f, &t.data[k * 4], 4);
      double d = f;
      std::memcpy(&out[k * 8], &d, 8);
    }
  } else if (want == DType::I16 && t.dtype == DType::I32) {
    for (uint64_t k = 0; k < n; ++k) {
      int32_t v;
      std::memcpy(&v, &t.data[k * 4], 4);
      if (v < INT16_MIN || v > INT16_MAX) throw Error(ctx + ": value " + std::to_string(v) + " does not fit int16");
      int16_t s = static_cast<int16_t>(v);
      std::memcpy(&out[k * 2], &s, 2);
    }
  } else if (want == DType::Bool && t.dtype == DType::U8) {
    out = t.data;
  } else if (want == DType::BF16 || want == DType::F16) {
    return t;  // stored lossy (or bf16, which numpy lacks): the decoded f32 values
  } else {
    throw Error(ctx + ": cannot restore source dtype " + src + " from " + dtype_name(t.dtype));
  }
  t.dtype = want;
  t.data.swap(out);
  return t;
}

std::string describe_codec(const qk_qkw_tensor_info& in) {
  char buf[64];
  switch (in.codec) {
    case QK_CODEC_RAW:
      return std::string("raw ") + qk_dtype_name(in.dtype);
    case QK_CODEC_SYMMETRIC: {
      std::string s;
      const int32_t full = (1 << (in.bits - 1)) - 1;
      if (in.bits >= 2 && in.levels == full) {
        std::snprintf(buf, sizeof buf, "int%d", in.bits);
      } else {
        std::snprintf(buf, sizeof buf, "sym L%d (%db)", in.levels, in.bits);
      }
      s = buf;
      if (in.group_size > 0) std::snprintf(buf, sizeof buf, " g%lld ax%d", static_cast<long long>(in.group_size), in.axis);
      else std::snprintf(buf, sizeof buf, " ch%d", in.axis);
      return s + buf;
    }
    case QK_CODEC_AFFINE:
    case QK_CODEC_AFFINE_OFFSET: {
      std::string s = in.codec == QK_CODEC_AFFINE ? "affine " : "affine+off ";
      s += qk_dtype_name(in.dtype);
      if (in.axis >= 0) s += " ch" + std::to_string(in.axis);
      return s;
    }
    case QK_CODEC_GGML_Q8_0: return "q8_0";
    case QK_CODEC_GGML_Q4_0: return "q4_0";
    case QK_CODEC_LUT: return "lut" + std::to_string(in.levels);
    default:
      return "codec " + std::to_string(static_cast<int>(in.codec)) + "?";
  }
}

}  // namespace qkcli
