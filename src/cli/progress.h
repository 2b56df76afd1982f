// SPDX-License-Identifier: Apache-2.0
// A one-line progress bar on stderr, drawn only when stderr is a terminal and the work is large
// (>= 64 MiB by default, or QK_PROGRESS=1 to force it, QK_PROGRESS=0 to disable it); redrawn at
// most every 100 ms and erased when done.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace qkcli {

class Progress {
 public:
  // `enabled` false (e.g. --quiet) never draws.
  Progress(std::string label, uint64_t total, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void update(uint64_t done);
  void update(uint64_t done, uint64_t total);
  void finish();  // erases the line

 private:
  std::string label_;
  uint64_t total_;
  bool active_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace qkcli
