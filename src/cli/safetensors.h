// SPDX-License-Identifier: Apache-2.0
// The safetensors format: u64 header length N, N bytes of JSON, then the data region. Checked as
// hostile input: N <= 100 MB and inside the file, a JSON object without duplicate keys, dtypes
// F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL, shape x dtype size == data_offsets range, offsets
// inside the data region, sorted ranges contiguous from 0 to its end (no overlap, no hole).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common.h"

namespace qkcli {

constexpr uint64_t kSafetensorsMaxHeader = 100000000;

struct SafetensorsFile {
  std::vector<Tensor> tensors;                   // in data order
  std::map<std::string, std::string> metadata;  // "__metadata__"
};

// Parses a whole file image. Throws Error("<ctx>: ...") naming the tensor at fault.
SafetensorsFile parse_safetensors(const uint8_t* p, size_t n, const std::string& ctx);
SafetensorsFile read_safetensors_file(const std::string& path);

}  // namespace qkcli
