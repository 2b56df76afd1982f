// SPDX-License-Identifier: Apache-2.0
// Typed node attributes (int, float, string, int list, float list) and the schema an op declares
// for them. Validation against the schema happens once, when the node is added; ops then read
// attributes without re-checking their types.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qk {
namespace graph {

enum class AttrType : int { kInt = 1, kFloat = 2, kString = 3, kInts = 4, kFloats = 5 };
const char* attr_type_name(AttrType t);

struct Attr {
  AttrType type = AttrType::kInt;
  int64_t i = 0;
  float f = 0.0f;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
};

// One row of an op's attribute schema.
struct AttrSpec {
  const char* name;
  AttrType type;
  bool required;
};

// Bounds for hostile inputs (graph text, the C builder): list lengths and string sizes.
constexpr size_t kMaxAttrListLength = 4096;
constexpr size_t kMaxAttrStringLength = 256;
constexpr size_t kMaxAttrs = 64;

class Attributes {
 public:
  void set_int(const std::string& name, int64_t v);
  void set_float(const std::string& name, float v);
  void set_string(const std::string& name, const std::string& v);
  void set_ints(const std::string& name, std::vector<int64_t> v);
  void set_floats(const std::string& name, std::vector<float> v);
  void erase(const std::string& name) { items_.erase(name); }

  bool has(const std::string& name) const { return items_.count(name) != 0; }
  // Typed reads with a default for absent attributes (types were checked against the schema).
  int64_t get_int(const std::string& name, int64_t dflt) const;
  float get_float(const std::string& name, float dflt) const;
  std::string get_string(const std::string& name, const std::string& dflt) const;
  std::vector<int64_t> get_ints(const std::string& name, std::vector<int64_t> dflt = {}) const;
  std::vector<float> get_floats(const std::string& name, std::vector<float> dflt = {}) const;

  const std::map<std::string, Attr>& items() const { return items_; }
  // Every attribute is in the schema with its type and every required one is present; finite
  // floats, bounded lists. Throws kInvalidArgument naming `op` and the attribute.
  void validate(const char* op, const AttrSpec* schema, size_t schema_size) const;

 private:
  std::map<std::string, Attr> items_;
};

}  // namespace graph
}  // namespace qk
