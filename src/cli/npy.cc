// SPDX-License-Identifier: Apache-2.0
#include "npy.h"

#include <cstring>

namespace qkcli {

namespace {

const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

// A cursor over the Python-literal dict numpy writes:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class Lit {
 public:
  Lit(const char* p, size_t n, const std::string& ctx) : p_(p), end_(p + n), ctx_(ctx) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ctx_ + ": bad .npy header: " + what);
  }
  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool peek(char c) {
    ws();
    return p_ < end_ && *p_ == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "'");
    ++p_;
  }
  std::string str() {
    ws();
    if (p_ >= end_ || (*p_ != '\'' && *p_ != '"')) fail("expected a quoted string");
    char q = *p_++;
    std::string s;
    while (p_ < end_ && *p_ != q) {
      if (*p_ == '\\') fail("escapes are not supported in strings");
      s += *p_++;
      if (s.size() > 64) fail("string too long");
    }
    if (p_ >= end_) fail("unterminated string");
    ++p_;
    return s;
  }
  bool boolean() {
    ws();
    if (match("True")) return true;
    if (match("False")) return false;
    fail("expected True or False");
  }
  std::vector<int64_t> tuple() {
    expect('(');
    std::vector<int64_t> dims;
    for (;;) {
      if (peek(')')) break;
      ws();
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') fail("expected a non-negative integer dimension");
      uint64_t v = 0;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
        v = v * 10 + static_cast<uint64_t>(*p_ - '0');
        if (v > kMaxElements) fail("dimension above 2^48");
        ++p_;
      }
      if (p_ < end_ && *p_ == 'L') ++p_;  // Python 2 long
      if (dims.size() >= kMaxRank) fail("more than 8 dimensions");
      dims.push_back(static_cast<int64_t>(v));
      if (peek(',')) {
        ++p_;
        continue;
      }
      if (!peek(')')) fail("expected ',' or ')' in the shape");
    }
    ++p_;
    return dims;
  }
  bool at_end() {
    ws();
    return p_ >= end_;
  }

 private:
  bool match(const char* w) {
    size_t n = std::strlen(w);
    if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, w, n) == 0) {
      p_ += n;
      return true;
    }
    return false;
  }
  const char* p_;
  const char* end_;
  const std::string& ctx_;
};

bool parse_descr(const std::string& d, DType* out) {
  if (d.size() != 3) return false;
  const char order = d[0];
  const std::string t = d.substr(1);
  const bool one_byte = t == "i1" || t == "u1" || t == "b1";
  if (order == '>' && !one_byte) return false;
  if (order != '<' && order != '|' && order != '=' && !(order == '>' && one_byte)) return false;
  if (order == '|' && !one_byte) return false;
  static const struct { const char* t; DType d; } table[] = {
      {"f4", DType::F32}, {"f8", DType::F64}, {"f2", DType::F16}, {"i8", DType::I64}, {"i4", DType::I32},
      {"i2", DType::I16}, {"i1", DType::I8},  {"u1", DType::U8},  {"b1", DType::Bool}};
  for (const auto& e : table) {
    if (t == e.t) {
      *out = e.d;
      return true;
    }
  }
  return false;
}

}  // namespace

size_t npy_header_size(const uint8_t* p, size_t n, const std::string& ctx) {
  if (n < 10 || std::memcmp(p, kMagic, 6) != 0) {
    if (n >= 6 && std::memcmp(p, kMagic, 6) != 0) throw Error(ctx + ": not a .npy file (bad magic)");
    throw Error(ctx + ": truncated .npy header (" + std::to_string(n) + " bytes)");
  }
  const uint8_t major = p[6], minor = p[7];
  size_t len, prefix;
  if (major == 1 && minor == 0) {
    len = static_cast<size_t>(p[8]) | static_cast<size_t>(p[9]) << 8;
    prefix = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (n < 12) throw Error(ctx + ": truncated .npy header (" + std::to_string(n) + " bytes)");
    len = static_cast<size_t>(p[8]) | static_cast<size_t>(p[9]) << 8 | static_cast<size_t>(p[10]) << 16 |
          static_cast<size_t>(p[11]) << 24;
    prefix = 12;
  } else {
    throw Error(ctx + ": unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor));
  }
  if (len > kNpyMaxHeaderSize)
    throw Error(ctx + ": .npy header length " + std::to_string(len) + " is above the limit of " +
                std::to_string(kNpyMaxHeaderSize));
  return prefix + len;
}

NpyHeader parse_npy_header(const uint8_t* p, size_t n, const std::string& ctx) {
  const size_t total = npy_header_size(p, n, ctx);
  if (n < total)
    throw Error(ctx + ": truncated .npy header (needs " + std::to_string(total) + " bytes, have " +
                std::to_string(n) + ")");
  const size_t prefix = p[6] == 1 ? 10 : 12;
  const char* text = reinterpret_cast<const char*>(p + prefix);
  const size_t len = total - prefix;
  for (size_t i = 0; i < len; ++i) {
    if (text[i] == '\0') throw Error(ctx + ": bad .npy header: NUL byte");
  }
  Lit lit(text, len, ctx);
  NpyHeader h;
  h.header_size = total;
  bool have_descr = false, have_order = false, have_shape = false;
  lit.expect('{');
  while (!lit.peek('}')) {
    std::string key = lit.str();
    lit.expect(':');
    if (key == "descr") {
      if (have_descr) lit.fail("duplicate key 'descr'");
      have_descr = true;
      if (lit.peek('[')) throw Error(ctx + ": structured (record) dtypes are not supported");
      std::string d = lit.str();
      if (!parse_descr(d, &h.dtype)) {
        if (d.size() == 3 && d[0] == '>')
          throw Error(ctx + ": big-endian dtype '" + d + "' is not supported (use arr.astype('<" + d.substr(1) +
                      "'))");
        throw Error(ctx + ": unsupported dtype '" + d + "' (supported: <f4 <f8 <f2 <i8 <i4 <i2 |i1 |u1 |b1)");
      }
    } else if (key == "fortran_order") {
      if (have_order) lit.fail("duplicate key 'fortran_order'");
      have_order = true;
      h.fortran_order = lit.boolean();
    } else if (key == "shape") {
      if (have_shape) lit.fail("duplicate key 'shape'");
      have_shape = true;
      h.shape = lit.tuple();
    } else {
      lit.fail("unexpected key '" + key + "'");
    }
    if (lit.peek(',')) {
      lit.expect(',');
    } else if (!lit.peek('}')) {
      lit.fail("expected ',' or '}'");
    }
  }
  lit.expect('}');
  if (!lit.at_end()) lit.fail("trailing characters after the dict");
  if (!have_descr || !have_order || !have_shape) lit.fail("missing one of 'descr', 'fortran_order', 'shape'");
  const uint64_t count = checked_count(h.shape, dtype_size(h.dtype), ctx);
  h.data_bytes = count * dtype_size(h.dtype);
  return h;
}

Tensor parse_npy(const uint8_t* p, size_t n, const std::string& name, const std::string& ctx) {
  NpyHeader h = parse_npy_header(p, n, ctx);
  const uint64_t have = n - h.header_size;
  if (have < h.data_bytes)
    throw Error(ctx + ": truncated: shape " + shape_str(h.shape) + " of " + dtype_name(h.dtype) + " needs " +
                std::to_string(h.data_bytes) + " data bytes, the file has " + std::to_string(have));
  if (have > h.data_bytes)
    throw Error(ctx + ": " + std::to_string(have - h.data_bytes) + " unexpected bytes after the array data");
  Tensor t;
  t.name = name;
  t.dtype = h.dtype;
  t.shape = h.shape;
  t.data.assign(p + h.header_size, p + h.header_size + h.data_bytes);
  if (h.fortran_order) fortran_to_c_order(t);
  return t;
}

Tensor read_npy_file(const std::string& path) {
  MappedFile f(path);
  std::string name = base_name(path);
  if (extension(name) == ".npy") name.resize(name.size() - 4);
  if (name.empty()) name = "array";
  return parse_npy(f.data(), f.size(), name, path);
}

std::string npy_header(DType dtype, const std::vector<int64_t>& shape) {
  const char* descr = nullptr;
  switch (dtype) {
    case DType::F32: descr = "<f4"; break;
    case DType::F64: descr = "<f8"; break;
    case DType::F16: descr = "<f2"; break;
    case DType::I64: descr = "<i8"; break;
    case DType::I32: descr = "<i4"; break;
    case DType::I16: descr = "<i2"; break;
    case DType::I8: descr = "|i1"; break;
    case DType::U8: descr = "|u1"; break;
    case DType::Bool: descr = "|b1"; break;
    case DType::BF16: throw Error("bf16 has no numpy dtype");
  }
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dict += ",";
    if (i + 1 < shape.size()) dict += " ";
  }
  dict += "), }";
  // Pad with spaces so that the data starts on a 64-byte boundary; the header ends with '\n'.
  size_t prefix = 10;
  size_t total = prefix + dict.size() + 1;
  if (total > 65535 + 10) prefix = 12;
  total = prefix + dict.size() + 1;
  const size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';
  const size_t len = dict.size();
  std::string out(reinterpret_cast<const char*>(kMagic), 6);
  out += static_cast<char>(prefix == 10 ? 1 : 2);
  out += '\0';
  out += static_cast<char>(len & 0xFF);
  out += static_cast<char>((len >> 8) & 0xFF);
  if (prefix == 12) {
    out += static_cast<char>((len >> 16) & 0xFF);
    out += static_cast<char>((len >> 24) & 0xFF);
  }
  return out + dict;
}

}  // namespace qkcli
