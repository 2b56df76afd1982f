// SPDX-License-Identifier: Apache-2.0
// Binned histogram: torch.histc-exact bin placement, the fast batch pass, and moving a histogram
// onto a wider range (see histogram.h). The batch pass is the hot loop of every histogram
// observer: a min/max scan, then a multiply per value (SSE2, 8 values per step); only values in a
// narrow band around a bin edge pay for torch's exact formula.
#include "observers/histogram.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace qk {
namespace hist {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
// Batches of at least this many values (and a bin count) are binned through a BinningPlan.
constexpr uint64_t kPlanMinValues = 4096;
// Up to this many bins the estimate band is at most 1/128 and flagged values are placed with
// torch's formula, and four sub-histograms stay in cache; above, flagged values go through a
// table of bin boundaries and one sub-histogram is used.
constexpr uint32_t kTableMaxFreeBins = 16384;
// Per-lane 32-bit sub-histograms are flushed into the double counts before they can overflow.
constexpr uint64_t kFlushEvery = uint64_t(1) << 30;

inline bool finite(float v) { return std::fabs(v) <= FLT_MAX; }

// Floats in increasing order as integers (-0 and +0 share 0), so we can bisect over floats.
int64_t key_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return (u & 0x80000000u) ? -static_cast<int64_t>(u & 0x7fffffffu) : static_cast<int64_t>(u);
}
float float_of(int64_t k) {
  const uint32_t u = k >= 0 ? static_cast<uint32_t>(k) : (0x80000000u | static_cast<uint32_t>(-k));
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

BatchStats scan_batch(const float* x, uint64_t n) {
  float mn = kInf, mx = -kInf;
  uint64_t bad = 0, i = 0;
#if defined(__SSE2__)
  // Non-finite lanes (exponent all ones) are replaced by +Inf/-Inf before min/max and counted.
  const __m128i exp_mask = _mm_set1_epi32(0x7f800000);
  const __m128 pinf = _mm_set1_ps(kInf), minf = _mm_set1_ps(-kInf);
  __m128 mn0 = pinf, mn1 = pinf, mx0 = minf, mx1 = minf;
  while (i + 8 <= n) {
    const uint64_t block_end = i + std::min<uint64_t>((n - i) & ~uint64_t(7), uint64_t(1) << 24);
    __m128i bad0 = _mm_setzero_si128(), bad1 = _mm_setzero_si128();
    for (; i < block_end; i += 8) {
      const __m128 v0 = _mm_loadu_ps(x + i), v1 = _mm_loadu_ps(x + i + 4);
      const __m128i n0 = _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(v0), exp_mask), exp_mask);
      const __m128i n1 = _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(v1), exp_mask), exp_mask);
      bad0 = _mm_sub_epi32(bad0, n0);
      bad1 = _mm_sub_epi32(bad1, n1);
      const __m128 m0 = _mm_castsi128_ps(n0), m1 = _mm_castsi128_ps(n1);
      mn0 = _mm_min_ps(mn0, _mm_or_ps(_mm_andnot_ps(m0, v0), _mm_and_ps(m0, pinf)));
      mn1 = _mm_min_ps(mn1, _mm_or_ps(_mm_andnot_ps(m1, v1), _mm_and_ps(m1, pinf)));
      mx0 = _mm_max_ps(mx0, _mm_or_ps(_mm_andnot_ps(m0, v0), _mm_and_ps(m0, minf)));
      mx1 = _mm_max_ps(mx1, _mm_or_ps(_mm_andnot_ps(m1, v1), _mm_and_ps(m1, minf)));
    }
    alignas(16) uint32_t lanes[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes), bad0);
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes + 4), bad1);
    for (uint32_t c : lanes) bad += c;
  }
  alignas(16) float lo4[4], hi4[4];
  _mm_store_ps(lo4, _mm_min_ps(mn0, mn1));
  _mm_store_ps(hi4, _mm_max_ps(mx0, mx1));
  for (int k = 0; k < 4; ++k) {
    mn = std::min(mn, lo4[k]);
    mx = std::max(mx, hi4[k]);
  }
#endif
  for (; i < n; ++i) {
    const float v = x[i];
    if (!finite(v)) {
      ++bad;
      continue;
    }
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
  // -0 and +0 compare equal but would serialize differently depending on lane order.
  if (mn == 0.0f) mn = 0.0f;
  if (mx == 0.0f) mx = 0.0f;
  return {mn, mx, bad};
}

// ---------------------------------------------------------------------------------------------
BinLocator::BinLocator(float lo, float hi, uint32_t bins)
    : lo_(lo), hi_(hi), bins_(bins), point_(!(lo < hi)) {
  range_f_ = hi - lo;
  bins_f_ = static_cast<float>(bins);
  use_f32_ = !point_ && std::isfinite(range_f_) && range_f_ > 0.0f && std::isfinite(range_f_ * bins_f_);
  lo_d_ = lo;
  range_d_ = static_cast<double>(hi) - static_cast<double>(lo);
}

uint32_t BinLocator::operator()(float x) const {
  if (point_) return 0;
  if (use_f32_) {
    // torch 1.13 histc (LINEAR_INTERPOLATION): (elt - leftmost) * (edges - 1) / (rightmost - leftmost).
    const float q = ((x - lo_) * bins_f_) / range_f_;
    if (!(q > 0.0f)) return 0;
    if (q >= bins_f_) return bins_ - 1;
    return static_cast<uint32_t>(q);
  }
  const double q = ((static_cast<double>(x) - lo_d_) * bins_) / range_d_;
  if (!(q > 0.0)) return 0;
  if (q >= bins_) return bins_ - 1;
  return static_cast<uint32_t>(q);
}

double Histogram::total() const {
  double t = 0.0;
  for (double c : counts) t += c;
  return t;
}

double Histogram::edge(uint32_t k) const {
  if (k >= bins()) return hi;
  return lo + (static_cast<double>(hi) - lo) * k / bins();
}

// ---------------------------------------------------------------------------------------------
BinningPlan::BinningPlan(float lo, float hi, uint32_t bins) : loc_(lo, hi, bins) {
  est_lo_ = lo;
  const double range_d = static_cast<double>(hi) - lo;
  est_direct_ = std::isfinite(hi - lo);
  est_scale_ = range_d > 0.0 ? static_cast<float>(bins / range_d) : 0.0f;
  est_offset_ = range_d > 0.0 ? static_cast<float>(lo * (bins / range_d)) : 0.0f;
  est_band_ = std::min(std::ldexp(static_cast<float>(bins), -21), 0.5f);
  if (!std::isfinite(est_scale_)) {
    // A range below ~bins/FLT_MAX (subnormal widths): no usable estimate, so a band of 1 flags
    // every value and each is placed with torch's formula.
    est_scale_ = est_offset_ = 0.0f;
    est_band_ = 1.0f;
    return;
  }
  if (!(lo < hi) || bins <= kTableMaxFreeBins) return;
  // Many bins make the band wide, so flagged values are common: precompute the boundaries.
  // lower_[k] = smallest float x in [lo, hi] with locator(x) >= k. The locator is monotone in x,
  // so bisect over the float ordering, starting from the ideal edge lo + k*(hi-lo)/bins and
  // widening the bracket geometrically (a handful of evaluations per edge).
  lower_.assign(bins + 1, kInf);
  lower_[0] = -kInf;
  const int64_t lo_key = key_of(lo), hi_key = key_of(hi);
  for (uint32_t k = 1; k < bins; ++k) {
    auto reaches = [&](int64_t key) { return loc_(float_of(key)) >= k; };
    const double ideal = static_cast<double>(lo) + range_d * k / bins;
    const int64_t g = std::min(std::max(key_of(static_cast<float>(ideal)), lo_key), hi_key);
    int64_t bad, good;  // invariant: !reaches(bad) (or bad < lo_key), reaches(good) (or good > hi_key)
    if (reaches(g)) {
      good = g;
      bad = lo_key - 1;
      for (int64_t step = 1;; step *= 2) {
        const int64_t c = good - step;
        if (c < lo_key) break;
        if (reaches(c)) good = c;
        else { bad = c; break; }
      }
    } else {
      bad = g;
      good = hi_key + 1;
      for (int64_t step = 1;; step *= 2) {
        const int64_t c = bad + step;
        if (c > hi_key) break;
        if (reaches(c)) { good = c; break; }
        bad = c;
      }
    }
    while (good - bad > 1) {
      const int64_t mid = bad + (good - bad) / 2;
      if (reaches(mid)) good = mid;
      else bad = mid;
    }
    lower_[k] = good > hi_key ? kInf : float_of(good);
  }
}

bool BinningPlan::matches(float lo, float hi, uint32_t bins) const {
  return loc_.bins() == bins && key_of(loc_.lo()) == key_of(lo) && key_of(loc_.hi()) == key_of(hi);
}

namespace {

// Estimate-and-flag kernel. For x in [lo, hi] the estimate e = (x - lo) * fl(bins / range) (or
// x * scale - offset for ranges wider than FLT_MAX) and torch's q = ((x - lo) * bins) / range
// each carry at most three float32 roundings of a quotient below `bins`, so
// |e - q| <= 5 * bins * 2^-24, and trunc(e) is torch's bin unless e lies within `band` =
// bins * 2^-21 of an interior bin edge. e is clamped to [0.5, bins - 0.5] first: the edges at 0
// and `bins` do not change the bin. Flagged lanes (about 2 * band of the values) are placed
// exactly by `fix`. Non-finite lanes go to a scratch bin `bins` that is never read.
struct Kernel {
  float lo, scale, offset, band;
  uint32_t bins;
};

template <bool Abs, bool Direct, bool Checked, typename Fix>
void bin_chunk(const float* x, uint64_t n, const Kernel& kp, uint32_t* sub, size_t stride, Fix fix) {
  (void)stride;  // only the SSE2 path uses it
  const float low = 0.5f, high = static_cast<float>(kp.bins) - 0.5f;
  uint64_t i = 0;
#if defined(__SSE2__)
  const __m128 vlo = _mm_set1_ps(kp.lo), vsc = _mm_set1_ps(kp.scale), voff = _mm_set1_ps(kp.offset);
  const __m128 vlow = _mm_set1_ps(low), vhigh = _mm_set1_ps(high);
  const __m128 vband = _mm_set1_ps(kp.band), vband_hi = _mm_set1_ps(1.0f - kp.band);
  const __m128 vabs = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
  const __m128i exp_mask = _mm_set1_epi32(0x7f800000), scratch = _mm_set1_epi32(static_cast<int>(kp.bins));
  uint32_t *s0 = sub, *s1 = sub + stride, *s2 = sub + 2 * stride, *s3 = sub + 3 * stride;
  alignas(16) int32_t idx[8];
  auto lanes = [&](const float* p, int32_t* out) {
    const __m128 raw = _mm_loadu_ps(p);
    const __m128 v = Abs ? _mm_and_ps(raw, vabs) : raw;
    __m128 e = Direct ? _mm_mul_ps(_mm_sub_ps(v, vlo), vsc) : _mm_sub_ps(_mm_mul_ps(v, vsc), voff);
    e = _mm_min_ps(_mm_max_ps(e, vlow), vhigh);
    __m128i k = _mm_cvttps_epi32(e);
    const __m128 frac = _mm_sub_ps(e, _mm_cvtepi32_ps(k));
    __m128 near = _mm_or_ps(_mm_cmplt_ps(frac, vband), _mm_cmpgt_ps(frac, vband_hi));
    if (Checked) {
      const __m128i bad = _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(raw), exp_mask), exp_mask);
      k = _mm_or_si128(_mm_andnot_si128(bad, k), _mm_and_si128(bad, scratch));
      near = _mm_andnot_ps(_mm_castsi128_ps(bad), near);
    }
    _mm_store_si128(reinterpret_cast<__m128i*>(out), k);
    return _mm_movemask_ps(near);
  };
  for (; i + 8 <= n; i += 8) {
    const int mask = lanes(x + i, idx) | (lanes(x + i + 4, idx + 4) << 4);
    if (mask) {
      for (int l = 0; l < 8; ++l)
        if (mask & (1 << l)) idx[l] = static_cast<int32_t>(fix(Abs ? std::fabs(x[i + l]) : x[i + l], idx[l]));
    }
    // Four sub-histograms so runs of equal bins do not serialise on one counter.
    ++s0[idx[0]];
    ++s1[idx[1]];
    ++s2[idx[2]];
    ++s3[idx[3]];
    ++s0[idx[4]];
    ++s1[idx[5]];
    ++s2[idx[6]];
    ++s3[idx[7]];
  }
#endif
  for (; i < n; ++i) {
    const float v = Abs ? std::fabs(x[i]) : x[i];
    if (!finite(v)) continue;
    float e = Direct ? (v - kp.lo) * kp.scale : v * kp.scale - kp.offset;
    e = std::min(std::max(e, low), high);
    const int32_t k = static_cast<int32_t>(e);
    const float frac = e - static_cast<float>(k);
    ++sub[frac < kp.band || frac > 1.0f - kp.band ? fix(v, k) : static_cast<uint32_t>(k)];
  }
}

template <bool Abs, typename Fix>
void bin_dispatch(const float* x, uint64_t n, bool direct, bool checked, const Kernel& kp, uint32_t* sub,
                  size_t stride, Fix fix) {
  if (direct) {
    if (checked) bin_chunk<Abs, true, true>(x, n, kp, sub, stride, fix);
    else bin_chunk<Abs, true, false>(x, n, kp, sub, stride, fix);
  } else {
    if (checked) bin_chunk<Abs, false, true>(x, n, kp, sub, stride, fix);
    else bin_chunk<Abs, false, false>(x, n, kp, sub, stride, fix);
  }
}

}  // namespace

void BinningPlan::add(const float* x, uint64_t n, bool abs, bool has_nonfinite, double* counts) const {
  const uint32_t bins = loc_.bins();
  if (!(loc_.lo() < loc_.hi())) {  // point mass: every finite value lands in bin 0
    uint64_t finite_count = 0;
    for (uint64_t i = 0; i < n; ++i) finite_count += finite(x[i]) ? 1 : 0;
    counts[0] += static_cast<double>(finite_count);
    return;
  }
  // 4 lanes x (bins + 1 scratch) 32-bit counters, flushed into the doubles every 2^30 values;
  // one lane when there are so many bins that four copies would not stay in cache.
  const size_t stride = static_cast<size_t>(bins) + 1;
  const int lanes = bins <= kTableMaxFreeBins ? 4 : 1;
  std::vector<uint32_t> sub(lanes * stride, 0u);
  const Kernel kp{est_lo_, est_scale_, est_offset_, est_band_, bins};
  const BinLocator& loc = loc_;
  const float* lower = lower_.data();
  // Fix-up of a flagged value: walk the boundary table from the estimate, or evaluate torch's
  // formula (one division) when the table was not built.
  const auto fix = [&](float v, int32_t k) -> uint32_t {
    if (lower_.empty()) return loc(v);
    k -= v < lower[k];  // the usual one-bin correction without a mispredicted branch
    k += v >= lower[k + 1];
    while (v < lower[k]) --k;
    while (v >= lower[k + 1]) ++k;
    return static_cast<uint32_t>(k);
  };
  for (uint64_t done = 0; done < n;) {
    const uint64_t m = std::min(n - done, kFlushEvery);
    const size_t lane_stride = lanes == 4 ? stride : 0;
    if (abs) bin_dispatch<true>(x + done, m, est_direct_, has_nonfinite, kp, sub.data(), lane_stride, fix);
    else bin_dispatch<false>(x + done, m, est_direct_, has_nonfinite, kp, sub.data(), lane_stride, fix);
    for (int s = 0; s < lanes; ++s) {
      uint32_t* row = sub.data() + s * stride;
      for (uint32_t k = 0; k < bins; ++k) counts[k] += row[k];
      std::fill(row, row + stride, 0u);
    }
    done += m;
  }
}

void add_batch(Histogram* h, const float* data, uint64_t n, bool abs, bool has_nonfinite,
               std::shared_ptr<const BinningPlan>* plan) {
  const uint32_t bins = h->bins();
  if (*plan && (*plan)->matches(h->lo, h->hi, bins)) {
    (*plan)->add(data, n, abs, has_nonfinite, h->counts.data());
    return;
  }
  if (n >= std::max<uint64_t>(kPlanMinValues, bins)) {
    auto fresh = std::make_shared<const BinningPlan>(h->lo, h->hi, bins);
    fresh->add(data, n, abs, has_nonfinite, h->counts.data());
    *plan = std::move(fresh);
    return;
  }
  const BinLocator loc(h->lo, h->hi, bins);
  for (uint64_t i = 0; i < n; ++i) {
    const float v = abs ? std::fabs(data[i]) : data[i];
    if (finite(v)) h->counts[loc(v)] += 1.0;
  }
}

// ---------------------------------------------------------------------------------------------
void add_rebinned(Histogram* dst, const Histogram& src) {
  if (src.empty()) return;
  const uint32_t nb = dst->bins();
  if (src.bins() == nb && key_of(src.lo) == key_of(dst->lo) && key_of(src.hi) == key_of(dst->hi)) {
    for (uint32_t k = 0; k < nb; ++k) dst->counts[k] += src.counts[k];
    return;
  }
  if (!(src.lo < src.hi)) {
    dst->counts[BinLocator(dst->lo, dst->hi, nb)(src.lo)] += src.total();
    return;
  }
  if (!(dst->lo < dst->hi)) {  // only reachable with a range that does not contain src: clamp
    dst->counts[0] += src.total();
    return;
  }
  // Source bin i covers [u, v) in destination-bin units; its count is spread uniformly.
  const double dlo = dst->lo, dwidth = (static_cast<double>(dst->hi) - dlo) / nb;
  const double slo = src.lo, swidth = (static_cast<double>(src.hi) - slo) / src.bins();
  for (uint32_t i = 0; i < src.bins(); ++i) {
    const double c = src.counts[i];
    if (c == 0.0) continue;
    double u = (slo + swidth * i - dlo) / dwidth;
    double v = (slo + swidth * (i + 1.0) - dlo) / dwidth;
    u = std::min(std::max(u, 0.0), static_cast<double>(nb));
    v = std::min(std::max(v, 0.0), static_cast<double>(nb));
    if (!(v > u)) {
      dst->counts[std::min(static_cast<uint32_t>(u), nb - 1)] += c;
      continue;
    }
    const double density = c / (v - u);
    for (uint32_t j = std::min(static_cast<uint32_t>(u), nb - 1); j < nb && j < v; ++j) {
      const double overlap = std::min(v, j + 1.0) - std::max(u, static_cast<double>(j));
      if (overlap > 0.0) dst->counts[j] += density * overlap;
    }
  }
}

void add_torch_combined(Histogram* dst, const Histogram& src, int64_t upsample, int64_t downsample, int64_t start) {
  const int64_t bins = dst->bins();
  const int64_t cells = bins * downsample;
  // Sum whole cells first and divide by the upsample rate once, as torch's cumsum difference does,
  // so integer counts give bit-identical results.
  std::vector<double> mass(static_cast<size_t>(bins), 0.0);
  for (int64_t i = 0; i < static_cast<int64_t>(src.bins()); ++i) {
    const double c = src.counts[i];
    if (c == 0.0) continue;
    int64_t a = start + i * upsample, b = a + upsample;
    if (b > cells) {  // torch would fail on the slice; keep the mass in the last bin
      mass[bins - 1] += c * static_cast<double>(b - std::max(a, cells));
      b = cells;
    }
    for (int64_t j = a / downsample; a < b; ++j) {
      const int64_t end = std::min(b, (j + 1) * downsample);
      mass[j] += c * static_cast<double>(end - a);
      a = end;
    }
  }
  for (int64_t j = 0; j < bins; ++j) dst->counts[j] += mass[j] / static_cast<double>(upsample);
}

}  // namespace hist
}  // namespace qk
