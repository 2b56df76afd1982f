// SPDX-License-Identifier: Apache-2.0
// The numpy .npy format (versions 1.0, 2.0, 3.0): header parsing with every size checked before
// anything is allocated, and writing (version 1.0, or 2.0 for a header above 64 KiB).
// Supported dtypes: <f4 <f8 <f2 <i8 <i4 <i2 |i1 |u1 |b1 (any byte-order mark for 1-byte types).
#pragma once

#include <string>
#include <vector>

#include "common.h"

namespace qkcli {

constexpr size_t kNpyPrefixSize = 12;        // enough bytes to know the whole header's length
constexpr size_t kNpyMaxHeaderSize = 100000;  // numpy's own safety limit is 10000

struct NpyHeader {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  bool fortran_order = false;
  size_t header_size = 0;   // bytes before the array data (magic .. '\n')
  uint64_t data_bytes = 0;  // count * element size
};

// Total header size from the first min(n, 12) bytes of the stream (n may be less than 12 only
// if the whole entry is shorter). Checks magic, version and the header length limit.
// Throws Error("<ctx>: ...").
size_t npy_header_size(const uint8_t* p, size_t n, const std::string& ctx);
// Parses a complete header of `n` bytes (n >= npy_header_size()).
NpyHeader parse_npy_header(const uint8_t* p, size_t n, const std::string& ctx);
// Reads a whole .npy image (header + data, nothing after) into a tensor called `name`;
// Fortran-order arrays are converted to C order.
Tensor parse_npy(const uint8_t* p, size_t n, const std::string& name, const std::string& ctx);
// Reads a .npy file; the tensor is named after the file (without ".npy").
Tensor read_npy_file(const std::string& path);

// The .npy header for a tensor (64-byte aligned data, as numpy writes). BF16 has no numpy dtype:
// convert first (throws Error).
std::string npy_header(DType dtype, const std::vector<int64_t>& shape);

}  // namespace qkcli
