// SPDX-License-Identifier: Apache-2.0
// int8 convolution throughput (batch 1, NHWC, 3x3, stride 1, pad 1): QuantKit qconv2d u8 on every
// kernel path this CPU runs next to oneDNN int8 and fp32 convolution and an Eigen im2col+GEMM fp32
// reference, same run, 1 thread and all threads; checks the u8 outputs once. Prints markdown.
// Usage: bench_conv [seconds per measurement, default 0.3] [rounds, default 3]
//   The program makes `rounds` passes over both cases and thread counts; in each pass every
//   implementation gets one round: a warm-up call, then timed calls for >= seconds/rounds (and >= 2
//   calls). A cell is the median of all timed calls of its rounds, which are spread over the run.
//   1-thread calls are timed by the calling thread's CPU time, all-thread calls by the wall clock
//   (QK_BENCH_WALL_CLOCK=1: wall clock for both).
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
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
#if QK_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using namespace qk_bench;  // the timing harness (bench_util.h)

void set_peer_threads(int threads) {
#if QK_BENCH_HAVE_OPENMP
  omp_set_num_threads(threads);  // oneDNN (OpenMP runtime), Eigen, the im2col loop
#endif
  Eigen::setNbThreads(threads);
}

// ---------------------------------------------------------------------------------------------
// The cases: batch 1, NHWC u8 input (zero point 120), OIHW s8 weights over the full range with
// per-output-channel scales, u8 output with a zero point; fp32 peers get the same real values.

struct ConvCase {
  std::string name;
  int64_t h, w, in_c, out_c, groups;
  static constexpr int64_t kKernel = 3, kPad = 1;
  int64_t in_per_group() const { return in_c / groups; }
  double ops() const { return 2.0 * double(h * w * out_c * in_per_group() * kKernel * kKernel); }
};

struct Problem {
  ConvCase c;
  std::vector<uint8_t> x;      // [h][w][in_c]
  std::vector<int8_t> w;       // [out_c][in_c/groups][3][3]
  std::vector<float> w_scale;  // [out_c]
  std::vector<float> xf, wf;   // real values
  float a_scale = 0.02f;
  int32_t a_zp = 120;
  float out_scale = 0.0f;
  int32_t out_zp = 128;
  std::vector<float> requant;  // a_scale * w_scale[o] / out_scale in float32
};

uint64_t g_rng = 0x2545F4914F6CDD1Dull;
uint32_t next_u32() {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return uint32_t(g_rng >> 33);
}

Problem make_problem(const ConvCase& c) {
  g_rng = 0x2545F4914F6CDD1Dull ^ (uint64_t(c.h) << 40) ^ (uint64_t(c.in_c) << 20) ^
          uint64_t(c.groups);  // same data each pass
  Problem p;
  p.c = c;
  const int64_t k = c.in_per_group() * 9;
  p.x.resize(size_t(c.h * c.w * c.in_c));
  p.w.resize(size_t(c.out_c * k));
  p.w_scale.resize(size_t(c.out_c));
  for (auto& v : p.x) v = uint8_t(next_u32() & 0xFF);
  for (auto& v : p.w) v = int8_t(uint8_t(next_u32() & 0xFF));
  for (int64_t o = 0; o < c.out_c; ++o) p.w_scale[size_t(o)] = 0.004f * (1.0f + 0.125f * float(o % 9));
  p.xf.resize(p.x.size());
  for (size_t i = 0; i < p.x.size(); ++i) p.xf[i] = float(int32_t(p.x[i]) - p.a_zp) * p.a_scale;
  p.wf.resize(p.w.size());
  for (int64_t o = 0; o < c.out_c; ++o)
    for (int64_t i = 0; i < k; ++i) p.wf[size_t(o * k + i)] = float(p.w[size_t(o * k + i)]) * p.w_scale[size_t(o)];
  const float sigma = std::sqrt(float(k)) * 74.0f * 74.0f * p.a_scale * 0.0085f;
  p.out_scale = 6.0f * sigma / 255.0f;
  p.requant.resize(size_t(c.out_c));
  for (int64_t o = 0; o < c.out_c; ++o) p.requant[size_t(o)] = p.a_scale * p.w_scale[size_t(o)] / p.out_scale;
  return p;
}

// QuantKit's arithmetic, directly: padded taps read the input zero point (contribute 0).
std::vector<uint8_t> reference_u8(const Problem& p) {
  const ConvCase& c = p.c;
  const int64_t ipg = c.in_per_group(), opg = c.out_c / c.groups;
  std::vector<uint8_t> y(size_t(c.h * c.w * c.out_c));
  for (int64_t oy = 0; oy < c.h; ++oy)
    for (int64_t ox = 0; ox < c.w; ++ox)
      for (int64_t o = 0; o < c.out_c; ++o) {
        const int64_t g = o / opg;
        int64_t acc = 0;
        for (int64_t ky = 0; ky < 3; ++ky)
          for (int64_t kx = 0; kx < 3; ++kx) {
            const int64_t iy = oy + ky - 1, ix = ox + kx - 1;
            if (iy < 0 || ix < 0 || iy >= c.h || ix >= c.w) continue;
            for (int64_t i = 0; i < ipg; ++i)
              acc += int64_t(int32_t(p.x[size_t((iy * c.w + ix) * c.in_c + g * ipg + i)]) - p.a_zp) *
                     int64_t(p.w[size_t(((o * ipg + i) * 3 + ky) * 3 + kx)]);
          }
        const float r = std::nearbyint(float(int32_t(acc)) * p.requant[size_t(o)]) + float(p.out_zp);
        y[size_t((oy * c.w + ox) * c.out_c + o)] = uint8_t(std::min(255.0f, std::max(0.0f, r)));
      }
  return y;
}

std::string compare_u8(const uint8_t* a, const uint8_t* b, size_t count) {
  size_t bad = 0;
  int max_diff = 0;
  for (size_t i = 0; i < count; ++i) {
    const int d = std::abs(int(a[i]) - int(b[i]));
    bad += d != 0;
    max_diff = std::max(max_diff, d);
  }
  if (!bad) return "agree";
  return "DIFFERS (" + std::to_string(bad) + " of " + std::to_string(count) + " entries, max |diff| " +
         std::to_string(max_diff) + ")";
}

// ---------------------------------------------------------------------------------------------
// QuantKit

struct QkCommon {
  qk_qparams *in_qp = nullptr, *w_qp = nullptr, *out_qp = nullptr;
};

QkCommon make_qk_common(const Problem& p) {
  QkCommon q;
  std::vector<int32_t> zeros(size_t(p.c.out_c), 0);
  check(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &p.a_scale, &p.a_zp, nullptr, 1, 0, 255,
                          &q.in_qp),
        "qk_qparams_create (input)");
  check(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 0, 1, p.w_scale.data(), zeros.data(), nullptr,
                          size_t(p.c.out_c), -128, 127, &q.w_qp),
        "qk_qparams_create (weights)");
  check(qk_qparams_create(QK_DTYPE_U8, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &p.out_scale, &p.out_zp, nullptr, 1, 0, 255,
                          &q.out_qp),
        "qk_qparams_create (output)");
  return q;
}

qk_qconv2d* make_qk_conv(const Problem& p, const QkCommon& q, const std::string& isa) {
  const ConvCase& c = p.c;
  const int64_t shape[4] = {c.out_c, c.in_per_group(), 3, 3}, stride[2] = {1, 1}, padding[4] = {1, 1, 1, 1},
                dilation[2] = {1, 1};
  qk_qconv2d* op = nullptr;
  check(qk_set_isa(isa.c_str()), "qk_set_isa");
  check(qk_qconv2d_create(p.w.data(), shape, q.w_qp, nullptr, stride, padding, dilation, c.groups, q.in_qp, q.out_qp,
                          -INFINITY, INFINITY, QK_REQUANT_FLOAT, &op),
        "qk_qconv2d_create");
  check(qk_set_isa("auto"), "qk_set_isa(auto)");
  int64_t oh = 0, ow = 0;
  check(qk_qconv2d_output_size(op, c.h, c.w, &oh, &ow), "qk_qconv2d_output_size");
  if (oh != c.h || ow != c.w) {
    std::fprintf(stderr, "unexpected output size %lldx%lld\n", (long long)oh, (long long)ow);
    std::exit(1);
  }
  return op;
}

// ---------------------------------------------------------------------------------------------
// oneDNN convolution, NHWC source and destination, weights in the primitive's preferred layout
// (format "any", reordered once). int8: u8 -> u8 with per-output-channel scales, with or without
// src/dst zero points; fp32: f32 -> f32.

#if QK_BENCH_HAVE_DNNL
struct DnnlConv {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  dnnl::convolution_forward prim;
  dnnl::memory src, wei, dst;
  std::string impl;

  // kind: 0 = u8 with zero points, 1 = u8 without zero points, 2 = f32
  DnnlConv(const Problem& p, int kind) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const ConvCase& c = p.c;
    const bool f32 = kind == 2;
    const dnnl::memory::dims sd{1, c.in_c, c.h, c.w}, dd{1, c.out_c, c.h, c.w};
    const dnnl::memory::dims wd = c.groups == 1
                                      ? dnnl::memory::dims{c.out_c, c.in_c, 3, 3}
                                      : dnnl::memory::dims{c.groups, c.out_c / c.groups, c.in_per_group(), 3, 3};
    const dnnl::memory::desc src_md(sd, f32 ? dt::f32 : dt::u8, tag::nhwc),
        dst_md(dd, f32 ? dt::f32 : dt::u8, tag::nhwc), wei_any(wd, f32 ? dt::f32 : dt::s8, tag::any);
    dnnl::primitive_attr attr;
    if (!f32) {
      attr.set_output_scales(1 << 1, p.requant);
      if (kind == 0) {
        attr.set_zero_points(DNNL_ARG_SRC, 0, {p.a_zp});
        attr.set_zero_points(DNNL_ARG_DST, 0, {p.out_zp});
      }
    }
    const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                            src_md, wei_any, dst_md, {1, 1}, {1, 1}, {1, 1});
    const dnnl::convolution_forward::primitive_desc pd(d, attr, eng);
    impl = pd.impl_info_str();
    src = dnnl::memory(src_md, eng,
                       f32 ? static_cast<void*>(const_cast<float*>(p.xf.data()))
                           : static_cast<void*>(const_cast<uint8_t*>(p.x.data())));
    dnnl::memory user_w({wd, f32 ? dt::f32 : dt::s8, c.groups == 1 ? tag::oihw : tag::goihw}, eng,
                        f32 ? static_cast<void*>(const_cast<float*>(p.wf.data()))
                            : static_cast<void*>(const_cast<int8_t*>(p.w.data())));
    wei = dnnl::memory(pd.weights_desc(), eng);
    dnnl::reorder(user_w, wei).execute(strm, user_w, wei);
    strm.wait();
    dst = dnnl::memory(pd.dst_desc(), eng);
    prim = dnnl::convolution_forward(pd);
  }
  void run() {
    prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    strm.wait();
  }
};
#endif

// ---------------------------------------------------------------------------------------------
// fp32 reference for the dense case: im2col (taps ky, kx, channel) then one Eigen GEMM.

struct EigenIm2col {
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Problem* p;
  RowMat cols, wmat, out;
  explicit EigenIm2col(const Problem& prob) : p(&prob) {
    const ConvCase& c = prob.c;
    cols.resize(c.h * c.w, 9 * c.in_c);
    out.resize(c.h * c.w, c.out_c);
    wmat.resize(c.out_c, 9 * c.in_c);
    for (int64_t o = 0; o < c.out_c; ++o)
      for (int64_t i = 0; i < c.in_c; ++i)
        for (int64_t t = 0; t < 9; ++t) wmat(o, t * c.in_c + i) = prob.wf[size_t((o * c.in_c + i) * 9 + t)];
  }
  void run(int threads) {
    const ConvCase& c = p->c;
    const int64_t rows = c.h * c.w;
#if QK_BENCH_HAVE_OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
#endif
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t oy = r / c.w, ox = r % c.w;
      float* dst = cols.data() + r * 9 * c.in_c;
      for (int64_t t = 0; t < 9; ++t) {
        const int64_t iy = oy + t / 3 - 1, ix = ox + t % 3 - 1;
        float* d = dst + t * c.in_c;
        if (iy < 0 || ix < 0 || iy >= c.h || ix >= c.w) {
          std::fill(d, d + c.in_c, 0.0f);
        } else {
          const float* s = p->xf.data() + (iy * c.w + ix) * c.in_c;
          std::copy(s, s + c.in_c, d);
        }
      }
    }
    (void)threads;
    out.noalias() = cols * wmat.transpose();
  }
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
  if (!(seconds > 0.0) || rounds < 1) {
    std::fprintf(stderr, "usage: %s [seconds per measurement > 0] [rounds >= 1]\n", argv[0]);
    return 2;
  }
  const std::vector<ConvCase> cases = {{"conv 3x3 56x56 64->64", 56, 56, 64, 64, 1},
                                       {"depthwise 3x3 112x112x32", 112, 112, 32, 32, 32}};
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

  std::printf("# bench_conv\n\n");
  std::printf("- machine: %s, %d hardware threads; load average at start %s\n", cpu_model().c_str(), all_threads,
              load_average().c_str());
  std::printf("- QuantKit %s, default kernel path %s, paths measured:", qk_version_string(), auto_isa);
  for (const auto& i : isas) std::printf(" %s", i.c_str());
  std::printf("; thread pool of %zu threads\n", pool_threads);
#if QK_BENCH_HAVE_DNNL
  {
    const dnnl_version_t* v = dnnl_version();
    const char* max_isa = std::getenv("ONEDNN_MAX_CPU_ISA");
    std::printf("- oneDNN %d.%d.%d (ONEDNN_MAX_CPU_ISA=%s)\n", v->major, v->minor, v->patch,
                max_isa ? max_isa : "(unset)");
  }
#else
  std::printf("- oneDNN: not found at configure time\n");
#endif
  std::printf(
      "- batch 1, NHWC, stride 1, pad 1; u8 input (zero point 120), s8 weights over the full range with\n"
      "  per-output-channel scales, u8 output with a zero point, no bias\n");
  std::printf(
      "- timing: %d passes over all cases, one round of >= %.3f s per implementation and pass (after a warm-up\n"
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
  // row -> case -> median seconds (reported clock; wall_of: wall clock)
  std::map<std::string, std::map<std::string, double>> seconds_of[2], wall_of[2];
  std::vector<std::string> rows;
  std::map<std::string, std::string> details;
  std::vector<std::string> checks;

  std::map<std::string, std::map<std::string, std::vector<double>>> pooled[2], pooled_wall[2];  // [tc][row][case]
  std::map<std::string, LoadStat> load[2];                                                      // [tc][case]
  for (int pass = 0; pass < rounds; ++pass)
    for (const ConvCase& c : cases) {
      Problem p = make_problem(c);
      QkCommon qc = make_qk_common(p);
      std::vector<std::pair<std::string, qk_qconv2d*>> ops;
      for (const auto& isa : isas) ops.emplace_back(isa, make_qk_conv(p, qc, isa));
      const size_t out_count = size_t(c.h * c.w * c.out_c);
      std::vector<uint8_t> out_u8(out_count);

      // Checks, once (single thread).
      if (pass == 0) {
        const std::vector<uint8_t> ref = reference_u8(p);
        std::vector<uint8_t> qk_auto;
        for (const auto& op : ops) {
          check(qk_qconv2d_run(op.second, 1, c.h, c.w, p.x.data(), p.x.size(), out_u8.data(), out_count, nullptr),
                "qk_qconv2d_run");
          checks.push_back(c.name + ": QuantKit (" + op.first + ") u8 vs scalar reference, all outputs: " +
                           compare_u8(out_u8.data(), ref.data(), out_count));
          if (op.first == auto_isa) qk_auto = out_u8;
        }
#if QK_BENCH_HAVE_DNNL
        set_peer_threads(1);
        try {
          DnnlConv d(p, 0);
          d.run();
          checks.push_back(c.name + ": oneDNN u8 with zero points (" + d.impl + ") vs the reference, all outputs: " +
                           compare_u8(static_cast<const uint8_t*>(d.dst.get_data_handle()), ref.data(), out_count));
        } catch (const dnnl::error& e) {
          checks.push_back(c.name + ": oneDNN u8 with zero points unavailable: " + e.what());
        }
        // The same with 7-bit weights [-64, 63] (no u8 x s8 pair sum can saturate int16).
        try {
          Problem p7 = p;
          for (auto& v : p7.w) v = int8_t(v >> 1);
          DnnlConv d(p7, 0);
          d.run();
          checks.push_back(
              c.name + ": oneDNN u8 with zero points (" + d.impl +
              ") and 7-bit weights [-64,63] vs the reference, all outputs: " +
              compare_u8(static_cast<const uint8_t*>(d.dst.get_data_handle()), reference_u8(p7).data(), out_count));
        } catch (const dnnl::error& e) {
          checks.push_back(c.name + ": oneDNN u8 with 7-bit weights unavailable: " + e.what());
        }
#endif
      }

      for (int tc = 0; tc < 2; ++tc) {
        const int threads = thread_configs[tc];
        if (tc == 1 && threads == 1) break;
        qk_threadpool* pool = tc == 0 ? nullptr : pool_all;
        set_peer_threads(threads);
        std::vector<Candidate> cands;
        for (const auto& op : ops) {
          qk_qconv2d* o = op.second;
          cands.push_back({"QuantKit u8 (" + op.first + ")",
                           "qk_qconv2d_run, created with qk_set_isa(\"" + op.first + "\")", [&, o, pool] {
                             check(
                                 qk_qconv2d_run(o, 1, c.h, c.w, p.x.data(), p.x.size(), out_u8.data(), out_count, pool),
                                 "qk_qconv2d_run");
                           }});
        }
#if QK_BENCH_HAVE_DNNL
        std::vector<std::unique_ptr<DnnlConv>> dnnl_ops;
        const char* dnnl_rows[3] = {"oneDNN u8 (src/dst zero points)", "oneDNN u8 (no zero points)", "oneDNN f32"};
        for (int kind = 0; kind < 3; ++kind) {
          try {
            dnnl_ops.emplace_back(new DnnlConv(p, kind));
            DnnlConv* d = dnnl_ops.back().get();
            cands.push_back({dnnl_rows[kind], "convolution_forward " + d->impl, [d] { d->run(); }});
          } catch (const dnnl::error& e) {
            std::fprintf(stderr, "oneDNN %s %s: %s\n", dnnl_rows[kind], c.name.c_str(), e.what());
          }
        }
#endif
        std::unique_ptr<EigenIm2col> eig;
        if (c.groups == 1) {
          eig.reset(new EigenIm2col(p));
          EigenIm2col* e = eig.get();
          cands.push_back(
              {"Eigen f32 im2col+GEMM", "im2col (OpenMP loop) + Eigen GEMM", [e, threads] { e->run(threads); }});
        }
        load[tc][c.name].merge(measure_block(&cands, seconds / rounds, threads, all_threads, tc == 1));
        for (const Candidate& cand : cands) {
          if (std::find(rows.begin(), rows.end(), cand.row) == rows.end()) rows.push_back(cand.row);
          auto& smp = pooled[tc][cand.row][c.name];
          smp.insert(smp.end(), cand.samples.begin(), cand.samples.end());
          auto& wall = pooled_wall[tc][cand.row][c.name];
          wall.insert(wall.end(), cand.wall_samples.begin(), cand.wall_samples.end());
          if (tc == 0 && pass == 0)
            details[cand.row] += (details[cand.row].empty() ? "" : "; ") + c.name + ": " + cand.detail;
        }
        std::fprintf(stderr, "done: pass %d of %d, %s, %s\n", pass + 1, rounds, c.name.c_str(), thread_names[tc]);
      }
      for (auto& op : ops) qk_qconv2d_destroy(op.second);
      qk_qparams_destroy(qc.in_qp);
      qk_qparams_destroy(qc.w_qp);
      qk_qparams_destroy(qc.out_qp);
    }
  set_peer_threads(all_threads);
  for (int tc = 0; tc < 2; ++tc)
    for (const auto& row : pooled[tc])
      for (const auto& cs : row.second) {
        seconds_of[tc][row.first][cs.first] = median(cs.second);
        wall_of[tc][row.first][cs.first] = median(pooled_wall[tc][row.first][cs.first]);
      }

  auto find = [](const std::map<std::string, std::map<std::string, double>>& m, const std::string& row,
                 const std::string& cs) -> double {
    auto r = m.find(row);
    if (r == m.end()) return NAN;
    auto s = r->second.find(cs);
    return s == r->second.end() ? NAN : s->second;
  };
  auto get = [&](int tc, const std::string& row, const std::string& cs) { return find(seconds_of[tc], row, cs); };
  // GOPS table: one column per (case, thread config).
  std::printf("\n## GOPS (median time)\n\n| implementation |");
  for (const ConvCase& c : cases)
    for (int tc = 0; tc < 2; ++tc) std::printf(" %s (%.1f MOP), %s |", c.name.c_str(), c.ops() / 1e6, thread_names[tc]);
  std::printf("\n|---|");
  for (size_t i = 0; i < 2 * cases.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (const std::string& row : rows) {
    std::printf("| %s |", row.c_str());
    for (const ConvCase& c : cases)
      for (int tc = 0; tc < 2; ++tc) {
        const double t = get(tc, row, c.name);
        if (std::isnan(t))
          std::printf(" n/a |");
        else
          std::printf(" %.1f (%.0f us) |", c.ops() / t / 1e9, t * 1e6);
      }
    std::printf("\n");
  }
  const std::string qk = std::string("QuantKit u8 (") + auto_isa + ")";
  const std::vector<std::pair<std::string, std::string>> ratios = {{qk, "oneDNN u8 (src/dst zero points)"},
                                                                   {qk, "oneDNN u8 (no zero points)"},
                                                                   {qk, "oneDNN f32"},
                                                                   {qk, "Eigen f32 im2col+GEMM"},
                                                                   {qk, "QuantKit u8 (scalar)"},
                                                                   {"oneDNN u8 (src/dst zero points)", "oneDNN f32"}};
  std::printf("\n## Ratios (same run; > 1 means the first is faster)\n\n| ratio |");
  for (const ConvCase& c : cases)
    for (int tc = 0; tc < 2; ++tc) std::printf(" %s, %s |", c.name.c_str(), thread_names[tc]);
  std::printf("\n|---|");
  for (size_t i = 0; i < 2 * cases.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (const auto& r : ratios) {
    if (r.first == r.second) continue;
    std::string line = "| " + r.first + " / " + r.second + " |";
    bool any = false;
    for (const ConvCase& c : cases)
      for (int tc = 0; tc < 2; ++tc) {
        const double a = get(tc, r.first, c.name), b = get(tc, r.second, c.name);
        char cell[32];
        if (std::isnan(a) || std::isnan(b)) {
          std::snprintf(cell, sizeof cell, " n/a |");
        } else {
          std::snprintf(cell, sizeof cell, " %.2fx |", b / a);
          any = true;
        }
        line += cell;
      }
    if (any) std::printf("%s\n", line.c_str());
  }
  if (all_threads > 1) {
    std::printf("\n## Scaling, all threads (%d) / 1 thread, both by the wall clock\n\n| implementation |", all_threads);
    for (const ConvCase& c : cases) std::printf(" %s |", c.name.c_str());
    std::printf("\n|---|");
    for (size_t i = 0; i < cases.size(); ++i) std::printf("---:|");
    std::printf("\n");
    for (const std::string& row : rows) {
      std::printf("| %s |", row.c_str());
      for (const ConvCase& c : cases) {
        const double t1 = find(wall_of[0], row, c.name), tn = find(wall_of[1], row, c.name);
        if (std::isnan(t1) || std::isnan(tn))
          std::printf(" n/a |");
        else
          std::printf(" %.2fx |", t1 / tn);
      }
      std::printf("\n");
    }
  }
  if (use_thread_cpu_clock(1)) {
    double lo = INFINITY, hi = 0.0;
    for (const std::string& row : rows)
      for (const ConvCase& c : cases) {
        const double share = find(seconds_of[0], row, c.name) / find(wall_of[0], row, c.name);
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
  for (const std::string& row : rows) std::printf("- %s: %s\n", row.c_str(), details[row].c_str());
  std::printf("\n## Load from other processes during the measurements\n\n");
  for (int tc = 0; tc < 2; ++tc)
    for (const ConvCase& c : cases)
      if (load[tc].count(c.name))
        std::printf("- %s, %s: %s\n", c.name.c_str(), thread_names[tc],
                    load[tc][c.name].describe(all_threads, rounds).c_str());
  std::printf("\n## Checks\n\n");
  for (const std::string& c : checks) std::printf("- %s\n", c.c_str());
  std::printf("\nLoad average at the end: %s\n", load_average().c_str());
  qk_threadpool_destroy(pool_all);
  return 0;
}
