// SPDX-License-Identifier: Apache-2.0
#include "glob.h"

#include <fnmatch.h>

namespace qkcli {

bool glob_match(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

bool glob_any(const std::vector<std::string>& patterns, const std::string& name) {
  for (const std::string& p : patterns) {
    if (glob_match(p, name)) return true;
  }
  return false;
}

bool Selection::selected(const std::string& name) const {
  if (!include.empty() && !glob_any(include, name)) return false;
  return !glob_any(exclude, name);
}

}  // namespace qkcli
