// SPDX-License-Identifier: Apache-2.0
#include "progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace qkcli {

static constexpr uint64_t kThreshold = uint64_t(64) << 20;

Progress::Progress(std::string label, uint64_t total, bool enabled) : label_(std::move(label)), total_(total) {
  const char* env = std::getenv("QK_PROGRESS");
  const bool force = env && std::strcmp(env, "1") == 0;
  const bool off = env && std::strcmp(env, "0") == 0;
  active_ = enabled && !off && ::isatty(STDERR_FILENO) && (force || total >= kThreshold);
}

Progress::~Progress() { finish(); }

void Progress::update(uint64_t done, uint64_t total) {
  total_ = total;
  update(done);
}

void Progress::update(uint64_t done) {
  if (!active_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && done < total_) return;
  last_ = now;
  const double frac = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const int width = 30;
  const int fill = static_cast<int>(frac * width + 0.5);
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  std::fprintf(stderr, "\r%s [%s] %3d%% %.1f/%.1f MiB", label_.c_str(), bar, static_cast<int>(frac * 100 + 0.5),
               static_cast<double>(done) / 1048576.0, static_cast<double>(total_) / 1048576.0);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (active_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  drawn_ = false;
  active_ = false;
}

}  // namespace qkcli
