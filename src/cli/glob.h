// SPDX-License-Identifier: Apache-2.0
// Tensor-name patterns for --include / --exclude / --exact: shell globs (fnmatch without
// FNM_PATHNAME, so '*' also matches '.' and '/': 'conv*' matches "conv1.weight").
#pragma once

#include <string>
#include <vector>

namespace qkcli {

bool glob_match(const std::string& pattern, const std::string& name);
bool glob_any(const std::vector<std::string>& patterns, const std::string& name);

// A selection: a name is selected if it matches one --include (or there is none) and no --exclude.
struct Selection {
  std::vector<std::string> include, exclude;
  bool selected(const std::string& name) const;
};

}  // namespace qkcli
