// SPDX-License-Identifier: Apache-2.0
// numpy .npz archives through libzip: every entry "<name>.npy", stored or deflated.
#pragma once

#include <string>
#include <vector>

#include "common.h"

namespace qkcli {

class Progress;

// Reads every "<name>.npy" entry of an .npz (other entries are skipped with a note on stderr
// unless `quiet`). Each entry's declared size is checked against its compressed size and its
// .npy header before anything is allocated; CRCs are checked by libzip. Throws Error("<path>: ...").
std::vector<Tensor> read_npz(const std::string& path, Progress* progress, bool quiet);

// One entry to write: "<name>.npy" holding `bytes` (header + data).
struct NpzEntry {
  std::string name;
  std::vector<uint8_t> bytes;
};
// Writes an .npz atomically (temporary file next to `path`, fsync, rename): stored entries, or
// deflated with `deflate`; fixed 1980-01-01 timestamps, so the output is deterministic.
void write_npz(const std::string& path, const std::vector<NpzEntry>& entries, bool deflate);

}  // namespace qkcli
