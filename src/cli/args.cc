// SPDX-License-Identifier: Apache-2.0
#include "args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "common.h"

namespace qkcli {

std::string Args::get(const std::string& name, const std::string& def) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? def : it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

Args parse_args(const std::vector<std::string>& argv, const std::vector<OptSpec>& specs_in) {
  std::vector<OptSpec> specs = specs_in;
  specs.push_back({"help", 'h', false});
  Args a;
  bool options_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      a.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    const OptSpec* spec = nullptr;
    std::string value;
    bool have_value = false;
    std::string shown;
    if (arg[1] == '-') {
      std::string name = arg.substr(2);
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        have_value = true;
      }
      shown = "--" + name;
      for (const OptSpec& s : specs) {
        if (name == s.long_name) spec = &s;
      }
      if (!spec) throw UsageError("unknown option '" + shown + "'");
      if (have_value && !spec->takes_value) throw UsageError("option '" + shown + "' takes no value");
    } else {
      shown = arg.substr(0, 2);
      for (const OptSpec& s : specs) {
        if (s.short_name && arg[1] == s.short_name) spec = &s;
      }
      if (!spec) throw UsageError("unknown option '" + shown + "'");
      if (arg.size() > 2) {
        if (!spec->takes_value) throw UsageError("unknown option '" + arg + "'");
        value = arg.substr(2);
        have_value = true;
      }
    }
    if (spec->takes_value && !have_value) {
      if (i + 1 >= argv.size()) throw UsageError("option '" + shown + "' needs a value");
      value = argv[++i];
    }
    a.values[spec->long_name].push_back(spec->takes_value ? value : std::string());
  }
  return a;
}

long long parse_int(const std::string& option, const std::string& text, long long lo, long long hi) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    throw UsageError("option '" + option + "': '" + text + "' is not an integer");
  if (v < lo || v > hi)
    throw UsageError("option '" + option + "': " + text + " is out of range [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  return v;
}

double parse_double(const std::string& option, const std::string& text, double lo, double hi) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    throw UsageError("option '" + option + "': '" + text + "' is not a number");
  if (v < lo || v > hi)
    throw UsageError("option '" + option + "': " + text + " is out of range [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  return v;
}

}  // namespace qkcli
