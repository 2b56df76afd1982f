// SPDX-License-Identifier: Apache-2.0
// "On error no output is written", for allocation failures: every operator run call (qlinear,
// dynamic linear per tensor and per row, conv through the direct 1x1 GEMM, im2col blocks run in
// turn or in parallel, grouped, depthwise with multipliers 1 and 2, pooling and the layout
// helpers) is made to fail at each of its heap allocations in turn, on the caller and with a
// 2-thread pool. Each failing call must return QK_ERR_OUT_OF_MEMORY with the output buffer still
// holding its fill pattern; the same call without a failure must give the reference bytes.
//
// The failure is injected by replacing the global operator new/delete in this program (which
// links the static library, so every allocation the library makes goes through them): armed with
// n, the n-th allocation from then on throws std::bad_alloc and disarms. No library hook needed.
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include "quantkit/quantkit.h"

// ---- allocation failure injection -----------------------------------------------------------

namespace {

std::atomic<bool> g_armed{false};
std::atomic<bool> g_counting{false};
std::atomic<long> g_left{0};
std::atomic<long> g_count{0};

void* checked_alloc(size_t size, size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_count.fetch_add(1, std::memory_order_relaxed);
  if (g_armed.load(std::memory_order_relaxed) && g_left.fetch_sub(1) == 1) {
    g_armed.store(false);
    throw std::bad_alloc();
  }
  if (size == 0) size = 1;
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else if (posix_memalign(&p, align, size) != 0) {
    p = nullptr;
  }
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* nothrow_alloc(size_t size, size_t align) noexcept {
  try {
    return checked_alloc(size, align);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

void* operator new(size_t size) { return checked_alloc(size, 0); }
void* operator new[](size_t size) { return checked_alloc(size, 0); }
void* operator new(size_t size, std::align_val_t a) { return checked_alloc(size, size_t(a)); }
void* operator new[](size_t size, std::align_val_t a) { return checked_alloc(size, size_t(a)); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return nothrow_alloc(size, 0); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return nothrow_alloc(size, 0); }
void* operator new(size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return nothrow_alloc(size, size_t(a));
}
void* operator new[](size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return nothrow_alloc(size, size_t(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

// ---- harness --------------------------------------------------------------------------------

namespace {

int g_passed = 0, g_failed = 0;

#define CHECK_OK(call)                                                                          \
  do {                                                                                          \
    const qk_status s_ = (call);                                                                \
    if (s_ != QK_OK) {                                                                          \
      std::fprintf(stderr, "%s:%d: %s = %s (%s)\n", __FILE__, __LINE__, #call, qk_status_string(s_), \
                   qk_last_error());                                                            \
      std::exit(1);                                                                             \
    }                                                                                           \
  } while (0)

uint64_t g_rng = 0x9E3779B97F4A7C15ull;
uint32_t next_u32() {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return static_cast<uint32_t>(g_rng >> 16);
}
float uniform(float lo, float hi) { return lo + (hi - lo) * float(next_u32() % 1000000) / 1000000.0f; }

std::vector<uint8_t> random_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(next_u32());
  return v;
}

std::vector<int8_t> random_weights(size_t n) {
  std::vector<int8_t> v(n);
  for (auto& b : v) b = static_cast<int8_t>(static_cast<uint8_t>(next_u32()));
  return v;
}

qk_qparams* per_tensor(qk_dtype dtype, float scale, int32_t zp) {
  qk_qparams* qp = nullptr;
  const bool s = dtype == QK_DTYPE_S8;
  CHECK_OK(qk_qparams_create(dtype, QK_QSCHEME_PER_TENSOR_AFFINE, 0, 1, &scale, &zp, nullptr, 1, s ? -128 : 0,
                             s ? 127 : 255, &qp));
  return qp;
}

qk_qparams* per_channel_weights(size_t n) {
  std::vector<float> scales(n);
  std::vector<int32_t> zps(n, 0);
  for (auto& s : scales) s = uniform(0.002f, 0.02f);
  qk_qparams* qp = nullptr;
  CHECK_OK(qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_CHANNEL_SYMMETRIC, 0, 1, scales.data(), zps.data(), nullptr,
                             n, -128, 127, &qp));
  return qp;
}

// Runs `run` (which writes `out_bytes` bytes at `out`) once to get the reference bytes and the
// number of allocations, then once per allocation with that allocation failing.
void check_case(const std::string& name, uint8_t* out, size_t out_bytes, const std::function<qk_status()>& run) {
  constexpr uint8_t kFill = 0xA5;
  std::memset(out, kFill, out_bytes);
  g_count.store(0);
  g_counting.store(true);
  const qk_status ref_status = run();
  g_counting.store(false);
  const long allocations = g_count.load();
  if (ref_status != QK_OK) {
    std::fprintf(stderr, "FAIL %s: reference run returned %s (%s)\n", name.c_str(), qk_status_string(ref_status),
                 qk_last_error());
    ++g_failed;
    return;
  }
  const std::vector<uint8_t> reference(out, out + out_bytes);
  size_t untouched_in_ref = 0;
  for (uint8_t b : reference) untouched_in_ref += b == kFill;
  if (untouched_in_ref == out_bytes) {
    std::fprintf(stderr, "FAIL %s: the reference run wrote nothing\n", name.c_str());
    ++g_failed;
    return;
  }

  bool ok = true;
  long failed_calls = 0;
  for (long n = 1; n <= allocations + 1 && ok; ++n) {
    std::memset(out, kFill, out_bytes);
    g_left.store(n);
    g_armed.store(true);
    const qk_status s = run();
    const bool injected = !g_armed.exchange(false);
    if (s == QK_OK) {
      // Allocation n did not happen (thread timing can change the count by one) or was not
      // needed: then the output must be complete.
      if (std::memcmp(out, reference.data(), out_bytes) != 0) {
        std::fprintf(stderr, "FAIL %s: allocation %ld of %ld: returned QK_OK with wrong output\n", name.c_str(), n,
                     allocations);
        ok = false;
      }
      if (injected) {
        std::fprintf(stderr, "FAIL %s: allocation %ld of %ld failed but the call returned QK_OK\n", name.c_str(), n,
                     allocations);
        ok = false;
      }
      continue;
    }
    ++failed_calls;
    if (s != QK_ERR_OUT_OF_MEMORY) {
      std::fprintf(stderr, "FAIL %s: allocation %ld of %ld: returned %s, not QK_ERR_OUT_OF_MEMORY (%s)\n",
                   name.c_str(), n, allocations, qk_status_string(s), qk_last_error());
      ok = false;
      continue;
    }
    size_t written = 0, first = 0;
    for (size_t i = 0; i < out_bytes; ++i)
      if (out[i] != kFill && written++ == 0) first = i;
    if (written != 0) {
      std::fprintf(stderr,
                   "FAIL %s: allocation %ld of %ld failed: QK_ERR_OUT_OF_MEMORY, but %zu of %zu output bytes were "
                   "written (the first at byte %zu)\n",
                   name.c_str(), n, allocations, written, out_bytes, first);
      ok = false;
    }
  }
  // The call still works after the failures.
  std::memset(out, kFill, out_bytes);
  if (ok && (run() != QK_OK || std::memcmp(out, reference.data(), out_bytes) != 0)) {
    std::fprintf(stderr, "FAIL %s: a run after the injected failures differs from the reference\n", name.c_str());
    ok = false;
  }
  if (ok && allocations > 0 && failed_calls == 0) {
    std::fprintf(stderr, "FAIL %s: %ld allocations counted, but no injected failure reached the caller\n",
                 name.c_str(), allocations);
    ok = false;
  }
  std::printf("%s %s: %ld allocations per call, each made to fail\n", ok ? "ok  " : "FAIL", name.c_str(),
              allocations);
  ++(ok ? g_passed : g_failed);
}

// ---- cases ----------------------------------------------------------------------------------

struct Pools {
  qk_threadpool* two = nullptr;
  std::vector<std::pair<const char*, qk_threadpool*>> list() const { return {{"no pool", nullptr}, {"2 threads", two}}; }
};

void linear_cases(const Pools& pools) {
  const int64_t m = 150, n = 70, k = 90;
  const std::vector<int8_t> w = random_weights(size_t(n * k));
  const std::vector<uint8_t> a = random_bytes(size_t(m * k));
  std::vector<float> bias(n);
  for (auto& b : bias) b = uniform(-2.0f, 2.0f);
  for (int wzp : {0, 3}) {  // a weight zero point makes the driver compute row offsets
    qk_qparams* w_qp = wzp ? per_tensor(QK_DTYPE_S8, 0.01f, wzp) : per_channel_weights(size_t(n));
    qk_packed_weights* pw = nullptr;
    CHECK_OK(qk_packed_weights_create(w.data(), n, k, k, w_qp, bias.data(), QK_DTYPE_F32, &pw));
    qk_qparams* in_qp = per_tensor(QK_DTYPE_U8, 0.02f, 120);
    qk_qparams* out_qp = per_tensor(QK_DTYPE_U8, 0.5f, 100);
    qk_qlinear* op = nullptr;
    CHECK_OK(qk_qlinear_create(pw, in_qp, QK_OUTPUT_QUANTIZED, out_qp, -INFINITY, INFINITY, QK_REQUANT_FLOAT, &op));
    std::vector<uint8_t> out(size_t(m * n));
    for (const auto& p : pools.list())
      check_case(std::string("qlinear u8, w_zp ") + std::to_string(wzp) + ", " + p.first, out.data(), out.size(),
                 [&] { return qk_qlinear_run(op, m, a.data(), k, a.size(), out.data(), n, out.size(), p.second); });

    std::vector<float> x(size_t(m * k));
    for (auto& v : x) v = uniform(-3.0f, 3.0f);
    for (int per_row : {0, 1}) {
      qk_dynamic_linear* dl = nullptr;
      CHECK_OK(qk_dynamic_linear_create(pw, QK_DTYPE_S8, per_row, &dl));
      std::vector<float> y(size_t(m * n));
      for (const auto& p : pools.list())
        check_case(std::string("dynamic linear ") + (per_row ? "per row" : "per tensor") + ", w_zp " +
                       std::to_string(wzp) + ", " + p.first,
                   reinterpret_cast<uint8_t*>(y.data()), y.size() * sizeof(float), [&] {
                     return qk_dynamic_linear_run(dl, m, x.data(), k, x.size(), y.data(), n, y.size(), p.second);
                   });
      qk_dynamic_linear_destroy(dl);
    }
    qk_qlinear_destroy(op);
    qk_qparams_destroy(out_qp);
    qk_qparams_destroy(in_qp);
    qk_packed_weights_destroy(pw);
    qk_qparams_destroy(w_qp);
  }
}

struct ConvCase {
  const char* what;
  int64_t batch, h, w, in_c, out_c, groups, kh, kw, stride, pad;
  int32_t w_zp;  // per-tensor weights with this zero point; -1000: per-channel
};

void conv_cases(const Pools& pools) {
  const ConvCase cases[] = {
      {"conv 1x1 direct", 1, 9, 9, 16, 24, 1, 1, 1, 1, 0, -1000},
      {"conv 1x1 direct, 2 groups", 2, 7, 5, 16, 24, 2, 1, 1, 1, 0, 4},
      {"conv 3x3 im2col, several blocks", 1, 20, 20, 64, 32, 1, 3, 3, 1, 1, -1000},
      {"conv 3x3 im2col, several blocks, w_zp", 2, 12, 13, 64, 16, 1, 3, 3, 1, 1, -5},
      {"conv 3x3 im2col, 3 groups", 2, 9, 11, 12, 9, 3, 3, 3, 1, 1, -1000},
      {"conv 3x3, 3 groups, one block (the pool inside the driver)", 1, 4, 4, 12, 9, 3, 3, 3, 1, 1, 2},
      {"conv 5x5 stride 2", 1, 17, 15, 8, 10, 1, 5, 5, 2, 2, 2},
      {"depthwise 3x3", 2, 13, 11, 40, 40, 40, 3, 3, 1, 1, -1000},
      {"depthwise 3x3, multiplier 2", 1, 10, 12, 12, 24, 12, 3, 3, 2, 1, 7},
  };
  for (const ConvCase& c : cases) {
    const int64_t cin_g = c.in_c / c.groups;
    const std::vector<int8_t> w = random_weights(size_t(c.out_c * cin_g * c.kh * c.kw));
    const std::vector<uint8_t> in = random_bytes(size_t(c.batch * c.h * c.w * c.in_c));
    std::vector<float> bias(size_t(c.out_c));
    for (auto& b : bias) b = uniform(-1.0f, 1.0f);
    qk_qparams* w_qp = c.w_zp == -1000 ? per_channel_weights(size_t(c.out_c)) : per_tensor(QK_DTYPE_S8, 0.01f, c.w_zp);
    qk_qparams* in_qp = per_tensor(QK_DTYPE_U8, 0.02f, 110);
    qk_qparams* out_qp = per_tensor(QK_DTYPE_U8, 0.3f + 0.05f * float(c.kh * c.kw * cin_g) / 9.0f, 128);
    const int64_t shape[4] = {c.out_c, cin_g, c.kh, c.kw};
    const int64_t stride[2] = {c.stride, c.stride}, dilation[2] = {1, 1};
    const int64_t padding[4] = {c.pad, c.pad, c.pad, c.pad};
    qk_qconv2d* op = nullptr;
    CHECK_OK(qk_qconv2d_create(w.data(), shape, w_qp, bias.data(), stride, padding, dilation, c.groups, in_qp, out_qp,
                               -INFINITY, INFINITY, QK_REQUANT_FLOAT, &op));
    int64_t oh = 0, ow = 0;
    CHECK_OK(qk_qconv2d_output_size(op, c.h, c.w, &oh, &ow));
    std::vector<uint8_t> out(size_t(c.batch * oh * ow * c.out_c));
    for (const auto& p : pools.list())
      check_case(std::string(c.what) + ", " + p.first, out.data(), out.size(), [&] {
        return qk_qconv2d_run(op, c.batch, c.h, c.w, in.data(), in.size(), out.data(), out.size(), p.second);
      });
    qk_qconv2d_destroy(op);
    qk_qparams_destroy(out_qp);
    qk_qparams_destroy(in_qp);
    qk_qparams_destroy(w_qp);
  }
}

void pool_and_layout_cases() {
  const int64_t shape[4] = {2, 9, 10, 24};
  const std::vector<uint8_t> in = random_bytes(size_t(2 * 9 * 10 * 24));
  qk_qparams* in_qp = per_tensor(QK_DTYPE_U8, 0.02f, 110);
  qk_qparams* out_qp = per_tensor(QK_DTYPE_U8, 0.03f, 100);
  const int64_t kernel[2] = {3, 3}, stride[2] = {2, 2}, padding[4] = {1, 1, 1, 1};
  std::vector<uint8_t> out(size_t(2 * 5 * 5 * 24));
  check_case("avg_pool2d", out.data(), out.size(), [&] {
    return qk_avg_pool2d(in_qp, out_qp, in.data(), in.size(), shape, kernel, stride, padding, 0, out.data(),
                         out.size());
  });
  std::vector<uint8_t> gout(2 * 24);
  check_case("global_avg_pool2d", gout.data(), gout.size(),
             [&] { return qk_global_avg_pool2d(in_qp, out_qp, in.data(), in.size(), shape, gout.data(), gout.size()); });
  const int64_t nchw[4] = {2, 24, 9, 10};
  std::vector<float> x(in.size());
  for (auto& v : x) v = uniform(-2.0f, 2.0f);
  std::vector<uint8_t> q(in.size());
  check_case("quantize_nchw_to_nhwc", q.data(), q.size(), [&] {
    uint64_t nans = 0;
    return qk_quantize_nchw_to_nhwc(in_qp, x.data(), nchw, q.data(), q.size(), &nans);
  });
  std::vector<float> y(in.size());
  check_case("dequantize_nhwc_to_nchw", reinterpret_cast<uint8_t*>(y.data()), y.size() * sizeof(float),
             [&] { return qk_dequantize_nhwc_to_nchw(in_qp, in.data(), in.size(), nchw, y.data()); });
  qk_qparams_destroy(out_qp);
  qk_qparams_destroy(in_qp);
}

}  // namespace

int main() {
  {  // a QK_ISA path this CPU lacks: nothing to test (CTest: skipped)
    const int8_t w = 1;
    qk_qparams* qp = per_tensor(QK_DTYPE_S8, 0.01f, 0);
    qk_packed_weights* pw = nullptr;
    const qk_status s = qk_packed_weights_create(&w, 1, 1, 1, qp, nullptr, QK_DTYPE_F32, &pw);
    qk_packed_weights_destroy(pw);
    qk_qparams_destroy(qp);
    if (s == QK_ERR_UNSUPPORTED) {
      std::printf("skipped: %s\n", qk_last_error());
      return 77;
    }
    CHECK_OK(s);
  }
  Pools pools;
  CHECK_OK(qk_threadpool_create(2, &pools.two));
  std::printf("kernel path %s\n", qk_isa_name());
  linear_cases(pools);
  conv_cases(pools);
  pool_and_layout_cases();
  qk_threadpool_destroy(pools.two);
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
