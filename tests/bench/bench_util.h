// SPDX-License-Identifier: Apache-2.0
// The timing harness shared by the operator benchmarks (bench_gemm.cc, bench_conv.cc): clocks,
// timed rounds, the load other processes put on the machine (and waiting for it to go), medians,
// and the machine description. Header-only; each benchmark is one translation unit.
#pragma once

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "quantkit/quantkit.h"

namespace qk_bench {

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Single-thread calls are timed by the calling thread's CPU time: every implementation then runs in
// this thread, and its CPU time does not count the slices other processes take on a shared core.
// Multi-threaded calls (and all calls with QK_BENCH_WALL_CLOCK=1) are timed by the wall clock.
inline bool use_thread_cpu_clock(int threads) {
  const char* wall = std::getenv("QK_BENCH_WALL_CLOCK");
  return threads == 1 && !(wall && *wall && std::strcmp(wall, "0") != 0);
}

// One round: a warm-up call, then timed calls until their times add up to `seconds` and >= 2 ran.
// `samples` receives the reported clock (CPU time when cpu_clock), `wall_samples` the wall time.
inline void time_round(const std::function<void()>& run, double seconds, bool cpu_clock, std::vector<double>* samples,
                std::vector<double>* wall_samples) {
  run();
  double total = 0.0;
  for (int calls = 1;; ++calls) {
    const double c0 = cpu_clock ? thread_cpu_seconds() : 0.0, w0 = now_seconds();
    run();
    const double w = now_seconds() - w0, t = cpu_clock ? thread_cpu_seconds() - c0 : w;
    samples->push_back(t);
    wall_samples->push_back(w);
    total += t;
    if (calls >= 2 && total >= seconds) break;
  }
}

// ---------------------------------------------------------------------------------------------
// Load from other processes: /proc/stat busy time of all CPUs minus this process's own CPU time.

struct CpuSnapshot {
  double busy = 0.0, self = 0.0, wall = 0.0;
  bool ok = false;
};

inline CpuSnapshot cpu_snapshot() {
  CpuSnapshot s;
  std::ifstream in("/proc/stat");
  std::string cpu;
  unsigned long long v[8] = {};  // user nice system idle iowait irq softirq steal
  if (in >> cpu) {
    for (auto& x : v) in >> x;
    s.ok = cpu == "cpu" && bool(in);
  }
  const double tick = double(sysconf(_SC_CLK_TCK));
  s.busy = double(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / tick;  // steal: the hypervisor ran others
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  s.self = double(ru.ru_utime.tv_sec) + 1e-6 * double(ru.ru_utime.tv_usec) + double(ru.ru_stime.tv_sec) +
           1e-6 * double(ru.ru_stime.tv_usec);
  s.wall = now_seconds();
  return s;
}

// Share of the whole machine (all `cpus`) that other processes used between two snapshots.
inline double foreign_load(const CpuSnapshot& a, const CpuSnapshot& b, int cpus) {
  if (!a.ok || !b.ok || b.wall <= a.wall) return NAN;
  return std::max(0.0, ((b.busy - a.busy) - (b.self - a.self)) / ((b.wall - a.wall) * cpus));
}

// QK_BENCH_QUIET_WAIT=<seconds>: before an all-threads block, wait (in 1 s samples) until other
// processes use < 5 % of the machine, and repeat a block during which they used > 10 %, for at most
// that many seconds of waiting per block. 0 (default): measure at once, only report the load.
inline double quiet_wait_budget() {
  const char* v = std::getenv("QK_BENCH_QUIET_WAIT");
  return v ? std::max(0.0, std::atof(v)) : 0.0;
}

// Returns the seconds waited.
inline double wait_for_quiet(double budget, int cpus) {
  double waited = 0.0;
  while (waited < budget) {
    const CpuSnapshot a = cpu_snapshot();
    timespec one_second = {1, 0};
    nanosleep(&one_second, nullptr);
    waited += 1.0;
    if (foreign_load(a, cpu_snapshot(), cpus) < 0.05) break;
  }
  return waited;
}

// Load seen by one measurement block (or several, merged).
struct LoadStat {
  double foreign = 0.0;  // largest share of the machine other processes used during an accepted block
  int tries = 0;
  double waited = 0.0;
  void merge(const LoadStat& o) {
    foreign = std::isnan(o.foreign) ? foreign : std::max(foreign, o.foreign);
    tries += o.tries;
    waited += o.waited;
  }
  std::string describe(int cpus, int blocks) const {
    char note[200];
    std::snprintf(note, sizeof note,
                  "other processes used at most %.0f %% of the %d CPUs (%d blocks, %d tries, waited %.0f s)",
                  100.0 * foreign, cpus, blocks, tries, waited);
    return note;
  }
};

// Times every candidate for `seconds` (one round each, in order); for all-thread blocks (`retry`),
// waits for a quiet machine and retries under QK_BENCH_QUIET_WAIT.
template <class Cand>
LoadStat measure_block(std::vector<Cand>* cands, double seconds, int threads, int cpus, bool retry) {
  const double budget = retry ? quiet_wait_budget() : 0.0;
  LoadStat st;
  st.foreign = NAN;
  for (;;) {
    if (budget > 0.0) st.waited += wait_for_quiet(budget - st.waited, cpus);
    std::vector<size_t> sizes;
    for (Cand& c : *cands) sizes.push_back(c.samples.size());
    const CpuSnapshot a = cpu_snapshot();
    for (Cand& c : *cands) time_round(c.run, seconds, use_thread_cpu_clock(threads), &c.samples, &c.wall_samples);
    st.foreign = foreign_load(a, cpu_snapshot(), cpus);
    ++st.tries;
    if (budget <= 0.0 || !(st.foreign > 0.10) || st.waited >= budget) break;
    for (size_t i = 0; i < cands->size(); ++i) {  // drop the disturbed block's samples
      (*cands)[i].samples.resize(sizes[i]);
      (*cands)[i].wall_samples.resize(sizes[i]);
    }
  }
  return st;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

inline void check(qk_status s, const char* what) {
  if (s != QK_OK) {
    std::fprintf(stderr, "%s failed: %s (%s)\n", what, qk_status_string(s), qk_last_error());
    std::exit(1);
  }
}

inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

inline std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  if (!(in >> a >> b >> c)) return "unknown";
  return a + " " + b + " " + c;
}

inline int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();  // online CPUs, as qk_threadpool_create(0)
  return n ? int(n) : 1;
}

}  // namespace qk_bench
