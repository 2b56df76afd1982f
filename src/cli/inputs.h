// SPDX-License-Identifier: Apache-2.0
// Loading a tensor file of any supported format, recognised by its first bytes (then by its
// extension): .npz (zip), .npy, .safetensors, and .qkw (decoded through the C API).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common.h"

namespace qkcli {

enum class Format { Npz, Npy, Safetensors, Qkw };
const char* format_name(Format f);  // "npz", "npy", "safetensors", "qkw"

// Throws Error("<path>: not a .npz, .npy, .safetensors or .qkw file") when nothing matches.
Format detect_format(const std::string& path);

struct Input {
  Format format;
  std::vector<Tensor> tensors;
  std::map<std::string, std::string> metadata;  // safetensors __metadata__, .qkw metadata
};

// `allow_qkw` false: a .qkw input is an error (pack). .qkw tensors come back with their source
// dtypes restored (see QkwFile::read).
Input load_input(const std::string& path, bool allow_qkw, bool quiet, bool progress);

}  // namespace qkcli
