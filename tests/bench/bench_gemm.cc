// SPDX-License-Identifier: Apache-2.0
// int8 GEMM throughput: QuantKit qlinear (s32 and requantized u8 output, every kernel path this CPU
// runs) next to fp32 GEMM (Eigen, OpenBLAS) and oneDNN int8 matmul on the same shapes, measured in
// the same run, 1 thread and all threads; checks the s32 outputs once per shape. Prints markdown.
// Usage: bench_gemm [seconds per measurement, default 0.3] [rounds, default 3] [shape filter]
//   The program makes `rounds` passes over every shape and thread count; in each pass every
//   implementation gets one round: a warm-up call, then timed calls for >= seconds/rounds (and >= 2
//   calls). A cell is the median of all timed calls of its rounds, which are spread over the whole
//   run. "1x4096" as filter runs the shapes whose name contains it.
//   1-thread calls are timed by the calling thread's CPU time, all-thread calls by the wall clock
//   (QK_BENCH_WALL_CLOCK=1: wall clock for both).
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "quantkit/quantkit.h"

#if QK_BENCH_HAVE_OPENMP
#include <omp.h>
#endif
#if QK_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif
#if QK_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using namespace qk_bench;  // the timing harness (bench_util.h)

// ---------------------------------------------------------------------------------------------
// Machine description

std::string cpu_flags_of_interest() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      flags = " " + line.substr(line.find(':') + 1) + " ";
      break;
    }
  std::string out;
  for (const char* f : {"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8"}) {
    const bool has = flags.find(std::string(" ") + f + " ") != std::string::npos;
    out += std::string(out.empty() ? "" : " ") + (has ? "+" : "-") + f;
  }
  return out;
}

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

// Sets the thread count of every peer library (they read it when a primitive is created or run).
void set_peer_threads(int threads) {
#if QK_BENCH_HAVE_OPENMP
  omp_set_num_threads(threads);  // oneDNN (OpenMP runtime) and Eigen
#endif
  Eigen::setNbThreads(threads);
#if QK_BENCH_HAVE_OPENBLAS
  openblas_set_num_threads(threads);
#endif
}

// ---------------------------------------------------------------------------------------------
// The problem: u8 activations (zero point 120), per-channel symmetric s8 weights over the full
// range, and fp32 copies holding the same real values.

struct Shape {
  int64_t m, n, k;
  std::string name() const { return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k); }
  double ops() const { return 2.0 * double(m) * double(n) * double(k); }
};

struct Problem {
  Shape s{};
  std::vector<uint8_t> a;      // [m][k]
  std::vector<int8_t> w;       // [n][k]
  std::vector<float> w_scale;  // [n]
  std::vector<float> af, wf;   // real values of a and w
  float a_scale = 0.02f;
  int32_t a_zp = 120;
  float out_scale = 0.0f;
  int32_t out_zp = 128;
  std::vector<float> requant;  // a_scale * w_scale[n] / out_scale (float32), QuantKit's M[n]
};

uint64_t g_rng = 0x9E3779B97F4A7C15ull;
uint32_t next_u32() {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return uint32_t(g_rng >> 33);
}

Problem make_problem(const Shape& s) {
  g_rng = 0x9E3779B97F4A7C15ull ^ (uint64_t(s.m) << 40) ^ (uint64_t(s.n) << 20) ^ uint64_t(s.k);  // same data each pass
  Problem p;
  p.s = s;
  const size_t mk = size_t(s.m * s.k), nk = size_t(s.n * s.k);
  p.a.resize(mk);
  p.w.resize(nk);
  p.w_scale.resize(size_t(s.n));
  for (auto& v : p.a) v = uint8_t(next_u32() & 0xFF);
  for (auto& v : p.w) v = int8_t(uint8_t(next_u32() & 0xFF));  // full range [-128, 127]
  for (int64_t n = 0; n < s.n; ++n) p.w_scale[size_t(n)] = 0.004f * (1.0f + 0.125f * float(n % 9));
  p.af.resize(mk);
  p.wf.resize(nk);
  for (size_t i = 0; i < mk; ++i) p.af[i] = float(int32_t(p.a[i]) - p.a_zp) * p.a_scale;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t k = 0; k < s.k; ++k)
      p.wf[size_t(n * s.k + k)] = float(p.w[size_t(n * s.k + k)]) * p.w_scale[size_t(n)];
  // Accumulators of uniform data have a standard deviation of about sqrt(k) * 74 * 74; the output
  // range covers +-3 of them at the mean weight scale, so few outputs saturate.
  const float sigma = std::sqrt(float(s.k)) * 74.0f * 74.0f * p.a_scale * 0.0085f;
  p.out_scale = 6.0f * sigma / 255.0f;
  p.requant.resize(size_t(s.n));
  for (int64_t n = 0; n < s.n; ++n) p.requant[size_t(n)] = p.a_scale * p.w_scale[size_t(n)] / p.out_scale;
  return p;
}

// Exact accumulator of output (i, j) (no bias).
int64_t reference_acc(const Problem& p, int64_t i, int64_t j) {
  int64_t acc = 0;
  const uint8_t* a = &p.a[size_t(i * p.s.k)];
  const int8_t* w = &p.w[size_t(j * p.s.k)];
  for (int64_t k = 0; k < p.s.k; ++k) acc += int64_t(int32_t(a[k]) - p.a_zp) * int64_t(w[k]);
  return acc;
}

// QuantKit's float requantization rule (quantkit.h), the u8 reference.
int reference_u8(const Problem& p, int64_t acc, int64_t j) {
  const float r = std::nearbyint(float(int32_t(acc)) * p.requant[size_t(j)]) + float(p.out_zp);
  return int(std::min(255.0f, std::max(0.0f, r)));
}

// Rows checked against the int64 reference: the first, the last and up to 14 others.
std::vector<int64_t> sampled_rows(int64_t m) {
  std::vector<int64_t> rows{0};
  if (m > 1) rows.push_back(m - 1);
  for (int i = 0; i < 14 && int64_t(rows.size()) < m; ++i) rows.push_back(int64_t(next_u32() % uint32_t(m)));
  return rows;
}

// ---------------------------------------------------------------------------------------------
// QuantKit

struct QkPath {
  std::string isa;
  qk_packed_weights* weights = nullptr;
  qk_qlinear* s32 = nullptr;
  qk_qlinear* u8 = nullptr;
};

struct QkCommon {
  qk_qparams* in_qp = nullptr;
  qk_qparams* w_qp = nullptr;
  qk_qparams* out_qp = nullptr;
};

QkCommon make_qk_common(const Problem& p) {
  QkCommon c;
  const int32_t out_zp = p.out_zp;
  check(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &p.a_scale, &p.a_zp, nullptr, 1, 0, 255,
                          &c.in_qp),
        "qk_qparams_create (input)");
  std::vector<int32_t> zeros(size_t(p.s.n), 0);
  check(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 0, 1, p.w_scale.data(), zeros.data(), nullptr,
                          size_t(p.s.n), -128, 127, &c.w_qp),
        "qk_qparams_create (weights)");
  check(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &p.out_scale, &out_zp, nullptr, 1, 0, 255,
                          &c.out_qp),
        "qk_qparams_create (output)");
  return c;
}

void destroy_qk_common(QkCommon* c) {
  qk_qparams_destroy(c->in_qp);
  qk_qparams_destroy(c->w_qp);
  qk_qparams_destroy(c->out_qp);
}

QkPath make_qk_path(const Problem& p, const QkCommon& c, const std::string& isa) {
  QkPath q;
  check(qk_set_isa(isa.c_str()), "qk_set_isa");
  check(qk_packed_weights_create(p.w.data(), p.s.n, p.s.k, p.s.k, c.w_qp, nullptr, QK_DTYPE_F32, &q.weights),
        "qk_packed_weights_create");
  const char* packed_isa = "?";
  check(qk_packed_weights_get_isa(q.weights, &packed_isa), "qk_packed_weights_get_isa");
  q.isa = packed_isa;
  check(qk_qlinear_create(q.weights, c.in_qp, QK_OUTPUT_S32, nullptr, -INFINITY, INFINITY, QK_REQUANT_FLOAT, &q.s32),
        "qk_qlinear_create (s32)");
  check(qk_qlinear_create(q.weights, c.in_qp, QK_OUTPUT_QUANTIZED, c.out_qp, -INFINITY, INFINITY, QK_REQUANT_FLOAT,
                          &q.u8),
        "qk_qlinear_create (u8)");
  check(qk_set_isa("auto"), "qk_set_isa(auto)");
  return q;
}

void destroy_qk_path(QkPath* q) {
  qk_qlinear_destroy(q->s32);
  qk_qlinear_destroy(q->u8);
  qk_packed_weights_destroy(q->weights);
}

void run_qlinear(const qk_qlinear* op, const Problem& p, void* out, size_t out_elem_bytes, qk_threadpool* pool) {
  check(qk_qlinear_run(op, p.s.m, p.a.data(), p.s.k, p.a.size(), out, p.s.n, size_t(p.s.m * p.s.n) * out_elem_bytes,
                       pool),
        "qk_qlinear_run");
}

// ---------------------------------------------------------------------------------------------
// oneDNN int8 matmul: u8 [m][k] x s8 [k][n] (our [n][k] rows seen as format "ba"), weights
// reordered once into the primitive's preferred layout; s32 output, or u8 with per-column output
// scales and src/dst zero points (the same arithmetic as QuantKit's u8 output).

#if QK_BENCH_HAVE_DNNL
struct DnnlMatmul {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::matmul prim;
  dnnl::memory src, wei, dst;
  std::string impl;

  DnnlMatmul(const Problem& p, bool u8_out) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const dnnl::memory::dims sd{p.s.m, p.s.k}, wd{p.s.k, p.s.n}, dd{p.s.m, p.s.n};
    const dnnl::memory::desc src_md(sd, dt::u8, tag::ab), wei_any(wd, dt::s8, tag::any),
        dst_md(dd, u8_out ? dt::u8 : dt::s32, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_zero_points(DNNL_ARG_SRC, 0, {p.a_zp});
    if (u8_out) {
      attr.set_output_scales(1 << 1, p.requant);
      attr.set_zero_points(DNNL_ARG_DST, 0, {p.out_zp});
    }
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_any, dst_md), attr, eng);
    impl = pd.impl_info_str();
    src = dnnl::memory(src_md, eng, const_cast<uint8_t*>(p.a.data()));
    dnnl::memory user_w({wd, dt::s8, tag::ba}, eng, const_cast<int8_t*>(p.w.data()));
    wei = dnnl::memory(pd.weights_desc(), eng);
    dnnl::reorder(user_w, wei).execute(strm, user_w, wei);
    strm.wait();
    dst = dnnl::memory(pd.dst_desc(), eng);
    prim = dnnl::matmul(pd);
  }
  void run() {
    prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    strm.wait();
  }
};
#endif

// ---------------------------------------------------------------------------------------------
// Results: GOPS per (thread config, row, shape), in row order of first appearance.

struct Table {
  std::vector<std::string> rows;
  std::map<std::string, std::string> kernel;                        // row -> implementation detail
  std::map<std::string, std::map<std::string, double>> gops, wall;  // row -> shape -> GOPS (wall: wall clock)
  void add(const std::string& row, const std::string& shape, double value, double wall_value,
           const std::string& detail) {
    if (!gops.count(row)) rows.push_back(row);
    gops[row][shape] = value;
    wall[row][shape] = wall_value;
    if (!detail.empty()) kernel[row] = detail;
  }
  static double find(const std::map<std::string, std::map<std::string, double>>& m, const std::string& row,
                     const std::string& shape) {
    auto r = m.find(row);
    if (r == m.end()) return NAN;
    auto s = r->second.find(shape);
    return s == r->second.end() ? NAN : s->second;
  }
  double get(const std::string& row, const std::string& shape) const { return find(gops, row, shape); }
  double get_wall(const std::string& row, const std::string& shape) const { return find(wall, row, shape); }
};

struct Candidate {
  Candidate(std::string r, std::string d, std::function<void()> f)
      : row(std::move(r)), detail(std::move(d)), run(std::move(f)) {}
  std::string row, detail;
  std::function<void()> run;
  std::vector<double> samples, wall_samples;
};

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.3;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string filter = argc > 3 ? argv[3] : "";
  if (!(seconds > 0.0) || rounds < 1) {
    std::fprintf(stderr, "usage: %s [seconds per measurement > 0] [rounds >= 1] [shape filter]\n", argv[0]);
    return 2;
  }
  const std::vector<Shape> all_shapes = {
      {1024, 1024, 1024}, {128, 1024, 1024}, {1, 4096, 4096}, {64, 768, 3072}, {3136, 64, 576}};
  std::vector<Shape> shapes;
  for (const Shape& s : all_shapes)
    if (filter.empty() || s.name().find(filter) != std::string::npos) shapes.push_back(s);

  const char* auto_isa = qk_isa_name();
  std::vector<std::string> isas;
  for (const char* isa : {"scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot"}) {
    int supported = 0;
    if (qk_isa_supported(isa, &supported) == QK_OK && supported) isas.push_back(isa);
  }
  const int all_threads = hardware_threads();
  qk_threadpool* pool_all = nullptr;
  check(qk_threadpool_create(0, &pool_all), "qk_threadpool_create");
  size_t pool_threads = 0;
  check(qk_threadpool_get_thread_count(pool_all, &pool_threads), "qk_threadpool_get_thread_count");

  std::printf("# bench_gemm\n\n");
  std::printf("- machine: %s, %d hardware threads, flags %s; load average at start %s\n", cpu_model().c_str(),
              all_threads, cpu_flags_of_interest().c_str(), load_average().c_str());
  std::printf("- QuantKit %s, default kernel path %s, paths measured:", qk_version_string(), auto_isa);
  for (const auto& i : isas) std::printf(" %s", i.c_str());
  std::printf("; thread pool of %zu threads (qk_threadpool_create(0))\n", pool_threads);
  std::printf("- Eigen %d.%d.%d%s\n", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION,
              QK_BENCH_HAVE_OPENMP ? " (OpenMP)" : " (no OpenMP: single thread only)");
#if QK_BENCH_HAVE_OPENBLAS
  std::printf("- OpenBLAS: %s, core %s, OPENBLAS_CORETYPE=%s\n", openblas_get_config(), openblas_get_corename(),
              env_or("OPENBLAS_CORETYPE", "(unset)"));
#else
  std::printf("- OpenBLAS: not found at configure time (OPENBLAS_CORETYPE=%s)\n",
              env_or("OPENBLAS_CORETYPE", "(unset)"));
#endif
#if QK_BENCH_HAVE_DNNL
  {
    const dnnl_version_t* v = dnnl_version();
    std::printf("- oneDNN %d.%d.%d (ONEDNN_MAX_CPU_ISA=%s)\n", v->major, v->minor, v->patch,
                env_or("ONEDNN_MAX_CPU_ISA", "(unset)"));
  }
#else
  std::printf("- oneDNN: not found at configure time\n");
#endif
  std::printf(
      "- data: u8 activations uniform in [0,255] (zero point 120), s8 weights uniform in [-128,127] with\n"
      "  per-channel scales, no bias; u8 output with a zero point; fp32 libraries get the same real values\n");
  std::printf(
      "- timing: %d passes over all shapes, one round of >= %.3f s per implementation and pass (after a warm-up\n"
      "  call), median of all timed calls;\n"
      "  clock: %s\n",
      rounds, seconds / rounds,
      use_thread_cpu_clock(1) ? "CPU time of the calling thread for 1 thread, wall time for all threads"
                              : "wall time (QK_BENCH_WALL_CLOCK)");
  if (quiet_wait_budget() > 0.0)
    std::printf(
        "- QK_BENCH_QUIET_WAIT=%g: all-thread blocks wait up to that long for other processes to use < 5 %% of\n"
        "  the CPUs and are repeated when they used > 10 %% during the block\n",
        quiet_wait_budget());
  std::fflush(stdout);

  const int thread_configs[2] = {1, all_threads};
  const char* thread_names[2] = {"1 thread", "all threads"};
  Table tables[2];
  std::vector<std::string> checks;
  // Samples pooled over the passes: [thread config][row][shape].
  struct Pooled {
    std::vector<double> samples, wall;
    std::string detail;
  };
  std::map<std::string, std::map<std::string, Pooled>> pooled[2];
  std::vector<std::string> row_order[2];
  std::map<std::string, LoadStat> load[2];  // [thread config][shape]

  for (int pass = 0; pass < rounds; ++pass)
    for (const Shape& s : shapes) {
      Problem p = make_problem(s);
      const std::string sn = s.name();
      QkCommon qc = make_qk_common(p);
      std::vector<QkPath> paths;
      for (const auto& isa : isas) paths.push_back(make_qk_path(p, qc, isa));
      std::vector<int32_t> out_s32(size_t(s.m * s.n));
      std::vector<uint8_t> out_u8(size_t(s.m * s.n));
      std::vector<float> out_f32(size_t(s.m * s.n));

      // Checks, once per shape (single thread).
      if (pass == 0) {
        const std::vector<int64_t> rows = sampled_rows(s.m);
        std::vector<int64_t> ref(rows.size() * size_t(s.n));
        for (size_t r = 0; r < rows.size(); ++r)
          for (int64_t j = 0; j < s.n; ++j) ref[r * size_t(s.n) + size_t(j)] = reference_acc(p, rows[r], j);
        std::vector<int32_t> qk_s32_auto;
        std::vector<uint8_t> qk_u8_auto;
        for (const QkPath& q : paths) {
          run_qlinear(q.s32, p, out_s32.data(), 4, nullptr);
          run_qlinear(q.u8, p, out_u8.data(), 1, nullptr);
          int64_t bad_s32 = 0, bad_u8 = 0, max_s32 = 0, max_u8 = 0;
          for (size_t r = 0; r < rows.size(); ++r)
            for (int64_t j = 0; j < s.n; ++j) {
              const int64_t want = ref[r * size_t(s.n) + size_t(j)];
              const size_t at = size_t(rows[r] * s.n + j);
              const int64_t d = std::abs(int64_t(out_s32[at]) - want);
              const int64_t du = std::abs(int64_t(out_u8[at]) - reference_u8(p, want, j));
              bad_s32 += d != 0;
              bad_u8 += du != 0;
              max_s32 = std::max(max_s32, d);
              max_u8 = std::max(max_u8, du);
            }
          char line[320];
          std::snprintf(
              line, sizeof line,
              "%s: QuantKit %s s32 vs int64 reference on %zu sampled rows: %s%s; u8 vs the float "
              "requantization rule: %s",
              sn.c_str(), q.isa.c_str(), rows.size(), bad_s32 ? "DIFFERS" : "agree",
              bad_s32 ? (" (max |diff| " + std::to_string(max_s32) + ")").c_str() : "",
              bad_u8 ? ("DIFFERS (" + std::to_string(bad_u8) + " entries, max |diff| " + std::to_string(max_u8) + ")")
                           .c_str()
                     : "agree");
          checks.push_back(line);
          if (q.isa == auto_isa) {
            qk_s32_auto = out_s32;
            qk_u8_auto = out_u8;
          }
        }
#if QK_BENCH_HAVE_DNNL
        set_peer_threads(1);
        for (int u8 = 0; u8 < 2 && !qk_s32_auto.empty(); ++u8) {
          try {
            DnnlMatmul d(p, u8 != 0);
            d.run();
            int64_t bad = 0, max_diff = 0;
            const size_t count = size_t(s.m * s.n);
            for (size_t i = 0; i < count; ++i) {
              const int64_t x = u8 ? int64_t(static_cast<const uint8_t*>(d.dst.get_data_handle())[i])
                                   : int64_t(static_cast<const int32_t*>(d.dst.get_data_handle())[i]);
              const int64_t y = u8 ? int64_t(qk_u8_auto[i]) : int64_t(qk_s32_auto[i]);
              bad += x != y;
              max_diff = std::max(max_diff, std::abs(x - y));
            }
            char line[320];
            std::snprintf(
                line, sizeof line, "%s: oneDNN %s (%s) vs QuantKit %s, all %zu outputs: %s", sn.c_str(),
                u8 ? "u8" : "s32", d.impl.c_str(), auto_isa, count,
                bad ? ("DIFFERS (" + std::to_string(bad) + " entries, max |diff| " + std::to_string(max_diff) + ")")
                          .c_str()
                    : "agree");
            checks.push_back(line);
          } catch (const dnnl::error& e) {
            checks.push_back(sn + ": oneDNN " + (u8 ? "u8" : "s32") + " unavailable: " + e.what());
          }
        }
        // The same oneDNN s32 matmul with 7-bit weights [-64, 63], where no u8 x s8 pair sum can
        // saturate int16 (vpmaddubsw): tells a saturation difference from a set-up mistake here.
        try {
          Problem p7 = p;
          for (auto& v : p7.w) v = int8_t(v >> 1);
          DnnlMatmul d(p7, false);
          d.run();
          const int32_t* got = static_cast<const int32_t*>(d.dst.get_data_handle());
          int64_t bad = 0, max_diff = 0;
          for (int64_t i : rows)
            for (int64_t j = 0; j < s.n; ++j) {
              const int64_t diff = std::abs(int64_t(got[size_t(i * s.n + j)]) - reference_acc(p7, i, j));
              bad += diff != 0;
              max_diff = std::max(max_diff, diff);
            }
          checks.push_back(
              sn + ": oneDNN s32 (" + d.impl + ") with 7-bit weights [-64,63] vs int64 reference on " +
              std::to_string(rows.size()) + " sampled rows: " +
              (bad ? "DIFFERS (" + std::to_string(bad) + " entries, max |diff| " + std::to_string(max_diff) + ")"
                   : std::string("agree")));
        } catch (const dnnl::error& e) {
          checks.push_back(sn + ": oneDNN s32 with 7-bit weights unavailable: " + e.what());
        }
#endif
      }

      for (int tc = 0; tc < 2; ++tc) {
        const int threads = thread_configs[tc];
        if (tc == 1 && threads == 1) break;
        qk_threadpool* pool = tc == 0 ? nullptr : pool_all;
        set_peer_threads(threads);
        std::vector<Candidate> cands;
        for (const QkPath& q : paths) {
          cands.push_back({"QuantKit s32 (" + q.isa + ")", "qk_qlinear_run, QK_OUTPUT_S32",
                           [&, q, pool] { run_qlinear(q.s32, p, out_s32.data(), 4, pool); }});
        }
        for (const QkPath& q : paths) {
          cands.push_back({"QuantKit u8 (" + q.isa + ")", "qk_qlinear_run, QK_OUTPUT_QUANTIZED u8, float requant",
                           [&, q, pool] { run_qlinear(q.u8, p, out_u8.data(), 1, pool); }});
        }
#if QK_BENCH_HAVE_DNNL
        std::vector<std::unique_ptr<DnnlMatmul>> dnnl_ops;
        for (int u8 = 0; u8 < 2; ++u8) {
          try {
            dnnl_ops.emplace_back(new DnnlMatmul(p, u8 != 0));
            DnnlMatmul* d = dnnl_ops.back().get();
            cands.push_back({u8 ? "oneDNN u8s8u8 (zero points, scales)" : "oneDNN u8s8s32 (src zero point)",
                             "matmul " + d->impl, [d] { d->run(); }});
          } catch (const dnnl::error& e) {
            std::fprintf(stderr, "oneDNN matmul %s: %s\n", sn.c_str(), e.what());
          }
        }
#endif
        using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        cands.push_back({"Eigen f32", "C.noalias() = A * W.transpose()", [&] {
                           Eigen::Map<const RowMat> A(p.af.data(), s.m, s.k), W(p.wf.data(), s.n, s.k);
                           Eigen::Map<RowMat> C(out_f32.data(), s.m, s.n);
                           C.noalias() = A * W.transpose();
                         }});
#if QK_BENCH_HAVE_OPENBLAS
        cands.push_back({"OpenBLAS f32", "cblas_sgemm(RowMajor, NoTrans, Trans)", [&] {
                           cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(s.m), int(s.n), int(s.k), 1.0f,
                                       p.af.data(), int(s.k), p.wf.data(), int(s.k), 0.0f, out_f32.data(), int(s.n));
                         }});
#endif
        load[tc][sn].merge(measure_block(&cands, seconds / rounds, threads, all_threads, tc == 1));
        for (const Candidate& c : cands) {
          Pooled& pl = pooled[tc][c.row][sn];
          if (std::find(row_order[tc].begin(), row_order[tc].end(), c.row) == row_order[tc].end())
            row_order[tc].push_back(c.row);
          pl.samples.insert(pl.samples.end(), c.samples.begin(), c.samples.end());
          pl.wall.insert(pl.wall.end(), c.wall_samples.begin(), c.wall_samples.end());
          pl.detail = c.detail;
        }
        std::fprintf(stderr, "done: pass %d of %d, %s, %s\n", pass + 1, rounds, sn.c_str(), thread_names[tc]);
      }
      for (QkPath& q : paths) destroy_qk_path(&q);
      destroy_qk_common(&qc);
    }
  set_peer_threads(all_threads);
  for (int tc = 0; tc < 2; ++tc)
    for (const std::string& row : row_order[tc])
      for (const Shape& s : shapes) {
        auto it = pooled[tc][row].find(s.name());
        if (it == pooled[tc][row].end()) continue;
        tables[tc].add(row, s.name(), s.ops() / median(it->second.samples) / 1e9,
                       s.ops() / median(it->second.wall) / 1e9, it->second.detail);
      }

  // Tables.
  const std::string qk_s32 = std::string("QuantKit s32 (") + auto_isa + ")";
  const std::string qk_u8 = std::string("QuantKit u8 (") + auto_isa + ")";
  struct Ratio {
    std::string label, num, den;
  };
  std::vector<Ratio> ratios = {
      {qk_s32 + " / oneDNN u8s8s32", qk_s32, "oneDNN u8s8s32 (src zero point)"},
      {qk_u8 + " / oneDNN u8s8u8", qk_u8, "oneDNN u8s8u8 (zero points, scales)"},
      {qk_u8 + " / Eigen f32", qk_u8, "Eigen f32"},
      {qk_u8 + " / OpenBLAS f32", qk_u8, "OpenBLAS f32"},
  };
  if (std::string(auto_isa) != "scalar")
    ratios.push_back({qk_u8 + " / QuantKit u8 (scalar)", qk_u8, "QuantKit u8 (scalar)"});
  ratios.push_back({"oneDNN u8s8u8 / best fp32", "oneDNN u8s8u8 (zero points, scales)", "*best fp32"});
  ratios.push_back({qk_u8 + " / best fp32", qk_u8, "*best fp32"});

  for (int tc = 0; tc < 2; ++tc) {
    const Table& t = tables[tc];
    if (t.rows.empty()) continue;
    std::printf("\n## GOPS, %s (%d)\n\n| implementation |", thread_names[tc], thread_configs[tc]);
    for (const Shape& s : shapes) std::printf(" %s |", s.name().c_str());
    std::printf("\n|---|");
    for (size_t i = 0; i < shapes.size(); ++i) std::printf("---:|");
    std::printf("\n");
    for (const std::string& row : t.rows) {
      std::printf("| %s |", row.c_str());
      for (const Shape& s : shapes) std::printf(" %.1f |", t.get(row, s.name()));
      std::printf("\n");
    }
    std::printf("\n### Ratios, %s (same run; > 1 means the first is faster)\n\n| ratio |", thread_names[tc]);
    for (const Shape& s : shapes) std::printf(" %s |", s.name().c_str());
    std::printf("\n|---|");
    for (size_t i = 0; i < shapes.size(); ++i) std::printf("---:|");
    std::printf("\n");
    for (const Ratio& r : ratios) {
      bool any = false;
      std::string line = "| " + r.label + " |";
      for (const Shape& s : shapes) {
        const double num = t.get(r.num, s.name());
        double den = NAN;
        if (r.den == "*best fp32") {
          for (const char* f : {"Eigen f32", "OpenBLAS f32"}) {
            const double g = t.get(f, s.name());
            if (!std::isnan(g) && (std::isnan(den) || g > den)) den = g;
          }
        } else {
          den = t.get(r.den, s.name());
        }
        char cell[32];
        if (std::isnan(num) || std::isnan(den)) {
          std::snprintf(cell, sizeof cell, " n/a |");
        } else {
          std::snprintf(cell, sizeof cell, " %.2fx |", num / den);
          any = true;
        }
        line += cell;
      }
      if (any) std::printf("%s\n", line.c_str());
    }
  }
  if (!tables[1].rows.empty()) {
    std::printf("\n## Scaling, all threads (%d) / 1 thread, both by the wall clock\n\n| implementation |", all_threads);
    for (const Shape& s : shapes) std::printf(" %s |", s.name().c_str());
    std::printf("\n|---|");
    for (size_t i = 0; i < shapes.size(); ++i) std::printf("---:|");
    std::printf("\n");
    for (const std::string& row : tables[0].rows) {
      std::printf("| %s |", row.c_str());
      for (const Shape& s : shapes)
        std::printf(" %.2fx |", tables[1].get_wall(row, s.name()) / tables[0].get_wall(row, s.name()));
      std::printf("\n");
    }
  }
  // How much of the core the 1-thread runs had: wall-clock GOPS / CPU-time GOPS (1.00 = not shared).
  if (use_thread_cpu_clock(1)) {
    double lo = INFINITY, hi = 0.0;
    for (const std::string& row : tables[0].rows)
      for (const Shape& s : shapes) {
        const double share = tables[0].get_wall(row, s.name()) / tables[0].get(row, s.name());
        if (std::isnan(share)) continue;
        lo = std::min(lo, share);
        hi = std::max(hi, share);
      }
    std::printf(
        "\nCore share of the 1-thread runs (CPU time / wall time, 1.00 = the core was not shared): "
        "%.2f to %.2f\n",
        lo, hi);
  }
  std::printf("\n## Implementations\n\n");
  for (const std::string& row : tables[0].rows) std::printf("- %s: %s\n", row.c_str(), tables[0].kernel[row].c_str());
  std::printf("\n## Load from other processes during the measurements\n\n");
  for (int tc = 0; tc < 2; ++tc)
    for (const Shape& s : shapes)
      if (load[tc].count(s.name()))
        std::printf("- %s, %s: %s\n", s.name().c_str(), thread_names[tc],
                    load[tc][s.name()].describe(all_threads, rounds).c_str());
  std::printf("\n## Checks (once per shape)\n\n");
  for (const std::string& c : checks) std::printf("- %s\n", c.c_str());
  std::printf("\nLoad average at the end: %s\n", load_average().c_str());
  qk_threadpool_destroy(pool_all);
  return 0;
}
