// SPDX-License-Identifier: Apache-2.0
// Command-line parsing shared by the subcommands: long options (--name VALUE, --name=VALUE),
// short options (-o VALUE, -oVALUE), "--" ends the options; -h/--help is always known.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace qkcli {

struct OptSpec {
  const char* long_name;  // without "--"
  char short_name;        // 0 if none
  bool takes_value;
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // flags get one "" per occurrence
  bool has(const std::string& name) const { return values.count(name) != 0; }
  // Last value given (options given twice: the last wins), or `def`.
  std::string get(const std::string& name, const std::string& def = "") const;
  std::vector<std::string> all(const std::string& name) const;
};

// Throws UsageError for an unknown option or a missing value.
Args parse_args(const std::vector<std::string>& argv, const std::vector<OptSpec>& specs);

// Strict number parsing (the whole string), in [lo, hi]; throws UsageError naming the option.
long long parse_int(const std::string& option, const std::string& text, long long lo, long long hi);
double parse_double(const std::string& option, const std::string& text, double lo, double hi);

}  // namespace qkcli
