// SPDX-License-Identifier: Apache-2.0
#include "safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

namespace qkcli {

namespace {

bool st_dtype(const std::string& s, DType* out) {
  static const struct { const char* n; DType d; } table[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"F64", DType::F64}, {"I64", DType::I64},
      {"I32", DType::I32}, {"I16", DType::I16}, {"I8", DType::I8},     {"U8", DType::U8},   {"BOOL", DType::Bool}};
  for (const auto& e : table) {
    if (s == e.n) {
      *out = e.d;
      return true;
    }
  }
  return false;
}

struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

uint64_t get_uint(const nlohmann::json& v, const std::string& ctx, const char* what) {
  if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
    throw Error(ctx + ": " + what + " must be a non-negative integer");
  return v.get<uint64_t>();
}

}  // namespace

SafetensorsFile parse_safetensors(const uint8_t* p, size_t n, const std::string& ctx) {
  if (n < 8) throw Error(ctx + ": truncated safetensors file (" + std::to_string(n) + " bytes, needs at least 8)");
  uint64_t hlen;
  std::memcpy(&hlen, p, 8);
  if (hlen > kSafetensorsMaxHeader)
    throw Error(ctx + ": safetensors header length " + std::to_string(hlen) + " is above the limit of 100 MB");
  if (hlen > n - 8)
    throw Error(ctx + ": truncated: safetensors header length " + std::to_string(hlen) + " exceeds the file (" +
                std::to_string(n) + " bytes)");
  const char* text = reinterpret_cast<const char*>(p + 8);
  if (hlen == 0 || text[0] != '{') throw Error(ctx + ": safetensors header is not a JSON object");
  nlohmann::json root;
  std::string dup;
  try {
    // Duplicate keys at the top level would silently hide a tensor: reject them.
    std::set<std::string> keys;
    auto cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
      if (ev == nlohmann::json::parse_event_t::key && depth == 1 && parsed.is_string()) {
        if (!keys.insert(parsed.get<std::string>()).second && dup.empty()) dup = parsed.get<std::string>();
      }
      return true;
    };
    root = nlohmann::json::parse(text, text + hlen, cb);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ctx + ": safetensors header is not valid JSON: " + e.what());
  }
  if (!dup.empty()) throw Error(ctx + ": safetensors header names '" + dup + "' twice");
  if (!root.is_object()) throw Error(ctx + ": safetensors header is not a JSON object");
  const uint64_t data_size = n - 8 - hlen;
  SafetensorsFile out;
  std::vector<Entry> entries;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) throw Error(ctx + ": __metadata__ must be an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) throw Error(ctx + ": __metadata__ '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string tctx = ctx + ": tensor '" + key + "'";
    if (key.empty()) throw Error(ctx + ": empty tensor name");
    if (!v.is_object()) throw Error(tctx + ": entry is not an object");
    for (auto f = v.begin(); f != v.end(); ++f) {
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets")
        throw Error(tctx + ": unexpected field '" + f.key() + "'");
    }
    if (!v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw Error(tctx + ": needs 'dtype', 'shape' and 'data_offsets'");
    Entry e;
    e.name = key;
    if (!v["dtype"].is_string()) throw Error(tctx + ": dtype must be a string");
    const std::string ds = v["dtype"].get<std::string>();
    if (!st_dtype(ds, &e.dtype))
      throw Error(tctx + ": unsupported dtype '" + ds + "' (supported: F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL)");
    const nlohmann::json& shape = v["shape"];
    if (!shape.is_array()) throw Error(tctx + ": shape must be an array");
    if (shape.size() > kMaxRank) throw Error(tctx + ": rank " + std::to_string(shape.size()) + " is above 8");
    for (const auto& d : shape) {
      uint64_t dim = get_uint(d, tctx, "every dimension");
      if (dim > kMaxElements) throw Error(tctx + ": dimension " + std::to_string(dim) + " is above 2^48");
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    const nlohmann::json& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2) throw Error(tctx + ": data_offsets must be [begin, end]");
    e.begin = get_uint(off[0], tctx, "data_offsets[0]");
    e.end = get_uint(off[1], tctx, "data_offsets[1]");
    if (e.begin > e.end)
      throw Error(tctx + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                  ") end before they begin");
    if (e.end > data_size)
      throw Error(tctx + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                  ") are outside the data region (" + std::to_string(data_size) + " bytes): truncated file?");
    const uint64_t count = checked_count(e.shape, dtype_size(e.dtype), tctx);
    const uint64_t bytes = count * dtype_size(e.dtype);
    if (bytes != e.end - e.begin)
      throw Error(tctx + ": shape " + shape_str(e.shape) + " of " + ds + " needs " + std::to_string(bytes) +
                  " bytes, data_offsets give " + std::to_string(e.end - e.begin));
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < pos)
      throw Error(ctx + ": tensors '" + prev->name + "' [" + std::to_string(prev->begin) + ", " +
                  std::to_string(prev->end) + ") and '" + e.name + "' [" + std::to_string(e.begin) + ", " +
                  std::to_string(e.end) + ") overlap");
    if (e.begin > pos)
      throw Error(ctx + ": " + std::to_string(e.begin - pos) + " unused bytes before tensor '" + e.name +
                  "' (the data region must be contiguous)");
    pos = e.end;
    prev = &e;
  }
  if (pos != data_size)
    throw Error(ctx + ": " + std::to_string(data_size - pos) + " unused bytes after the last tensor");
  const uint8_t* data = p + 8 + hlen;
  for (Entry& e : entries) {
    Tensor t;
    t.name = std::move(e.name);
    t.dtype = e.dtype;
    t.shape = std::move(e.shape);
    t.data.assign(data + e.begin, data + e.end);
    out.tensors.push_back(std::move(t));
  }
  return out;
}

SafetensorsFile read_safetensors_file(const std::string& path) {
  MappedFile f(path);
  return parse_safetensors(f.data() ? f.data() : reinterpret_cast<const uint8_t*>(""), f.size(), path);
}

}  // namespace qkcli
