// SPDX-License-Identifier: Apache-2.0
#include "graph/attributes.h"

#include <cmath>

#include "core/error.h"

namespace qk {
namespace graph {

const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::kInt: return "int";
    case AttrType::kFloat: return "float";
    case AttrType::kString: return "string";
    case AttrType::kInts: return "int list";
    case AttrType::kFloats: return "float list";
  }
  return "unknown";
}

void Attributes::set_int(const std::string& name, int64_t v) {
  Attr a;
  a.type = AttrType::kInt;
  a.i = v;
  items_[name] = std::move(a);
}
void Attributes::set_float(const std::string& name, float v) {
  Attr a;
  a.type = AttrType::kFloat;
  a.f = v;
  items_[name] = std::move(a);
}
void Attributes::set_string(const std::string& name, const std::string& v) {
  Attr a;
  a.type = AttrType::kString;
  a.s = v;
  items_[name] = std::move(a);
}
void Attributes::set_ints(const std::string& name, std::vector<int64_t> v) {
  Attr a;
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  items_[name] = std::move(a);
}
void Attributes::set_floats(const std::string& name, std::vector<float> v) {
  Attr a;
  a.type = AttrType::kFloats;
  a.floats = std::move(v);
  items_[name] = std::move(a);
}

int64_t Attributes::get_int(const std::string& name, int64_t dflt) const {
  auto it = items_.find(name);
  return it != items_.end() && it->second.type == AttrType::kInt ? it->second.i : dflt;
}
float Attributes::get_float(const std::string& name, float dflt) const {
  auto it = items_.find(name);
  return it != items_.end() && it->second.type == AttrType::kFloat ? it->second.f : dflt;
}
std::string Attributes::get_string(const std::string& name, const std::string& dflt) const {
  auto it = items_.find(name);
  return it != items_.end() && it->second.type == AttrType::kString ? it->second.s : dflt;
}
std::vector<int64_t> Attributes::get_ints(const std::string& name, std::vector<int64_t> dflt) const {
  auto it = items_.find(name);
  return it != items_.end() && it->second.type == AttrType::kInts ? it->second.ints : dflt;
}
std::vector<float> Attributes::get_floats(const std::string& name, std::vector<float> dflt) const {
  auto it = items_.find(name);
  return it != items_.end() && it->second.type == AttrType::kFloats ? it->second.floats : dflt;
}

void Attributes::validate(const char* op, const AttrSpec* schema, size_t schema_size) const {
  QK_FAIL_IF(items_.size() > kMaxAttrs, kInvalidArgument, "%s: %zu attributes (at most %zu)", op, items_.size(),
             kMaxAttrs);
  for (const auto& kv : items_) {
    const AttrSpec* spec = nullptr;
    for (size_t i = 0; i < schema_size; ++i)
      if (kv.first == schema[i].name) spec = &schema[i];
    if (!spec) {
      std::string known;
      for (size_t i = 0; i < schema_size; ++i) known += std::string(i ? ", " : "") + schema[i].name;
      fail(Status::kInvalidArgument, "%s has no attribute '%s' (it takes: %s)", op, kv.first.c_str(),
           known.empty() ? "none" : known.c_str());
    }
    const Attr& a = kv.second;
    QK_FAIL_IF(a.type != spec->type, kInvalidArgument, "%s attribute '%s' must be a %s (got a %s)", op,
               kv.first.c_str(), attr_type_name(spec->type), attr_type_name(a.type));
    QK_FAIL_IF(a.type == AttrType::kFloat && !std::isfinite(a.f), kInvalidArgument,
               "%s attribute '%s' is not finite", op, kv.first.c_str());
    QK_FAIL_IF(a.ints.size() > kMaxAttrListLength || a.floats.size() > kMaxAttrListLength, kInvalidArgument,
               "%s attribute '%s' has more than %zu elements", op, kv.first.c_str(), kMaxAttrListLength);
    QK_FAIL_IF(a.s.size() > kMaxAttrStringLength, kInvalidArgument, "%s attribute '%s' is longer than %zu bytes", op,
               kv.first.c_str(), kMaxAttrStringLength);
    for (float f : a.floats)
      QK_FAIL_IF(!std::isfinite(f), kInvalidArgument, "%s attribute '%s' has a non-finite element", op,
                 kv.first.c_str());
  }
  for (size_t i = 0; i < schema_size; ++i)
    QK_FAIL_IF(schema[i].required && !items_.count(schema[i].name), kInvalidArgument,
               "%s needs attribute '%s' (%s)", op, schema[i].name, attr_type_name(schema[i].type));
}

}  // namespace graph
}  // namespace qk
