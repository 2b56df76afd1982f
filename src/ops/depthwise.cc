// SPDX-License-Identifier: Apache-2.0
// Depthwise convolution driver: picks the kernel, prepares weights and the output stage once,
// and per output row hands the kernel one input pointer per tap: once for the run of columns
// that read no horizontal padding (the pointers then advance by a fixed stride), and per border
// column otherwise. Padded taps point at input zero points, so the kernels have no bounds checks.
// A multiplier > 1 becomes multiplier 1 by expanding the input rows an output row needs (each
// channel repeated `multiplier` times), which keeps the kernels to one case. Rows are independent,
// so they are shared among threads with identical results for every thread count.
#include "ops/depthwise.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/threadpool.h"
#include "dispatch/isa.h"
#include "ops/qgemm_driver.h"
#include "ops/qlinear.h"

namespace qk {
namespace {

constexpr int kIsaCount = static_cast<int>(Isa::kInvalid);

struct Kernels {
  DepthwiseKernel by_isa[kIsaCount];
  Kernels() {
    for (int i = 0; i < kIsaCount; ++i) {
      const Isa isa = static_cast<Isa>(i);
      DepthwiseKernel& k = by_isa[i];
      get_depthwise_kernel__scalar(&k);
      // Never run an ISA's code (even its filler) on a CPU without it.
      if (!isa_supported(isa)) continue;
      switch (isa) {
        case Isa::kAvx2:
        case Isa::kAvxVnni:
        case Isa::kAvx512Vnni:
          if (have_built_depthwise__avx2()) get_depthwise_kernel__avx2(&k);
          break;
        case Isa::kNeon:
        case Isa::kNeonDot:
          if (have_built_depthwise__neon()) get_depthwise_kernel__neon(&k);
          break;
        default:
          break;
      }
    }
  }
};

// Per-thread scratch: the tap pointers of one kernel call and, for multiplier > 1, the expanded
// input rows of an output row's kh taps.
struct Scratch {
  std::vector<const uint8_t*> taps;
  std::vector<const uint8_t*> rows;  // per ky: the (expanded) input row, or the zero points
  std::vector<uint8_t> expanded;
};

}  // namespace

const DepthwiseKernel& active_depthwise_kernel() {
  static const Kernels kernels;
  const Isa isa = active_isa();
  // An invalid QK_ISA: quantize_kernels() throws the library's kUnsupported message for it.
  if (isa == Isa::kInvalid) quantize_kernels();
  QK_FAIL_IF(isa == Isa::kInvalid, kUnsupported, "no kernel path is active");
  return kernels.by_isa[static_cast<int>(isa)];
}

DepthwiseConv::DepthwiseConv(const DepthwiseGeometry& g, const int8_t* weights, const QParams& weight_qp,
                             const float* bias, const QParams& input_qp, const QParams& output_qp, float output_min,
                             float output_max, bool fixed_point)
    : g_(g), kernel_(active_depthwise_kernel()) {
  const size_t oc = static_cast<size_t>(g.out_channels());
  const size_t taps = static_cast<size_t>(g.kh * g.kw);
  const bool per_tensor = is_per_tensor(weight_qp.scheme);
  const int32_t w_zp = per_tensor ? weight_qp.zero_points[0] : 0;

  // The output stage is the GEMM's: it only reads the shape, column sums, scales, zero point and
  // bias of the weights, which this unpacked stand-in carries (the raw weights as a [oc][taps]
  // matrix: exactly the GEMM the depthwise conv replaces).
  PackedWeights shape;
  shape.n = oc;
  shape.k = taps;
  shape.col_sum.resize(oc);
  shape.w_scale.assign(oc, weight_qp.scales[0]);
  if (!per_tensor) shape.w_scale.assign(weight_qp.scales.begin(), weight_qp.scales.end());
  shape.w_zero_point = w_zp;
  shape.per_channel = !per_tensor && oc > 1;
  if (bias != nullptr) shape.bias_f32.assign(bias, bias + oc);
  std::vector<int16_t> w16(oc * taps);
  std::vector<int32_t> w16_sum(oc);
  for (size_t c = 0; c < oc; ++c) {
    int32_t sum = 0, sum16 = 0;
    for (size_t t = 0; t < taps; ++t) {
      const int32_t w = weights[c * taps + t];
      sum += w;
      sum16 += w - w_zp;
      w16[c * taps + t] = static_cast<int16_t>(w - w_zp);
    }
    shape.col_sum[c] = sum;
    w16_sum[c] = sum16;
  }
  stage_ = make_output_stage(shape, input_qp, GemmOutput::kQuantized, &output_qp, output_min, output_max, fixed_point);
  // The stage's column offsets are for the GEMM's u8 view of s8 inputs (x + 128, zero point
  // + 128): -(zp + 128) * sum w' + bias_q. The kernels read s8 inputs as they are, so add
  // 128 * sum w' back (all mod 2^32, like the accumulator).
  in_signed_ = input_qp.dtype == DType::kS8;
  col_offset_ = stage_->col_offset;
  if (in_signed_)
    for (size_t c = 0; c < oc; ++c)
      col_offset_[c] =
          static_cast<int32_t>(static_cast<uint32_t>(col_offset_[c]) + 128u * static_cast<uint32_t>(w16_sum[c]));
  ep_ = stage_->epilogue();
  ep_.col_offset = col_offset_.data();

  packed_.resize(kernel_.packed_size(taps, oc));
  kernel_.pack(w16.data(), taps, oc, packed_.data());
  pad_byte_ = static_cast<uint8_t>(input_qp.zero_points[0]);
}

DepthwiseConv::~DepthwiseConv() = default;

void DepthwiseConv::run(int64_t batch, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, const uint8_t* input,
                        uint8_t* output, ThreadPool* pool) const {
  const size_t rows = static_cast<size_t>(batch * out_h);
  if (rows == 0 || out_w == 0) return;
  const size_t c_in = static_cast<size_t>(g_.channels), mult = static_cast<size_t>(g_.multiplier);
  const size_t c_out = c_in * mult;
  const size_t kh = static_cast<size_t>(g_.kh), kw = static_cast<size_t>(g_.kw), taps = kh * kw;
  const size_t ow = static_cast<size_t>(out_w), iw = static_cast<size_t>(in_w);
  const int64_t sw = g_.sw, pl = g_.pad_left, dw = g_.dw;

  // Output columns [ox_lo, ox_hi) read no horizontal padding: their taps all advance by
  // sw * c_out bytes per pixel, so one kernel call covers them from one set of pointers.
  const int64_t ox_lo = std::min<int64_t>(out_w, (pl + sw - 1) / sw);
  const int64_t last = in_w - 1 + pl - (g_.kw - 1) * dw;  // the largest ox * sw allowed
  const int64_t ox_hi = std::max(ox_lo, std::min<int64_t>(out_w, last >= 0 ? last / sw + 1 : 0));
  // Padded rows point at a row of zero points as long as an input row, so interior pixels may
  // walk it like a real row; padded columns point at its start (one pixel is enough for them).
  const bool padded_rows = g_.pad_top > 0 || (out_h - 1) * g_.sh - g_.pad_top + (g_.kh - 1) * g_.dh >= in_h;
  const std::vector<uint8_t> zeros((padded_rows ? iw : 1) * c_out, pad_byte_);

  const size_t threads = pool ? pool->thread_count() : 1;
  // Many small row ranges per thread even out border rows and a busy core (measured on 2 cores:
  // 16 per thread ran the 112x112x32 3x3 case about 10 % faster than 4).
  const size_t tasks = std::min(rows, threads == 1 ? size_t(1) : 16 * threads);
  // Any pool thread may claim a task; a single task runs on the caller (thread 0).
  std::vector<Scratch> scratch(tasks > 1 ? threads : 1);
  for (Scratch& s : scratch) {
    s.taps.resize(taps);
    s.rows.resize(kh);
    if (mult > 1) s.expanded.resize(kh * iw * c_out);
  }

  parallel_for(pool, tasks, [&](size_t thread, size_t task) {
    Scratch& s = scratch[thread];
    const uint8_t** rs = s.rows.data();
    const uint8_t** tp = s.taps.data();
    const size_t per = rows / tasks, extra = rows % tasks;
    const size_t r_begin = task * per + std::min(task, extra), r_end = r_begin + per + (task < extra ? 1 : 0);
    for (size_t r = r_begin; r < r_end; ++r) {
      const int64_t b = static_cast<int64_t>(r) / out_h, oy = static_cast<int64_t>(r) % out_h;
      for (size_t ky = 0; ky < kh; ++ky) {
        const int64_t iy = oy * g_.sh - g_.pad_top + static_cast<int64_t>(ky) * g_.dh;
        if (iy < 0 || iy >= in_h) {
          rs[ky] = zeros.data();
          continue;
        }
        const uint8_t* src = input + static_cast<size_t>((b * in_h + iy) * in_w) * c_in;
        if (mult == 1) {
          rs[ky] = src;
          continue;
        }
        uint8_t* e = s.expanded.data() + ky * iw * c_out;
        for (size_t i = 0; i < iw * c_in; ++i)
          for (size_t m = 0; m < mult; ++m) e[i * mult + m] = src[i];
        rs[ky] = e;
      }
      uint8_t* out_row = output + r * ow * c_out;
      // Pointers of output column ox; padded taps read the zero points.
      auto set_taps = [&](int64_t ox) {
        const uint8_t** t = tp;
        for (size_t ky = 0; ky < kh; ++ky)
          for (size_t kx = 0; kx < kw; ++kx) {
            const int64_t ix = ox * sw - pl + static_cast<int64_t>(kx) * dw;
            *t++ = (ix >= 0 && ix < in_w) ? rs[ky] + static_cast<size_t>(ix) * c_out : zeros.data();
          }
      };
      for (int64_t ox = 0; ox < out_w; ++ox) {
        if (ox == ox_lo && ox_hi > ox_lo) {
          set_taps(ox);
          kernel_.run(static_cast<size_t>(ox_hi - ox_lo), taps, c_out, tp, static_cast<size_t>(sw) * c_out, in_signed_,
                      packed_.data(), ep_, out_row + static_cast<size_t>(ox) * c_out, c_out);
          ox = ox_hi - 1;
          continue;
        }
        set_taps(ox);
        kernel_.run(1, taps, c_out, tp, 0, in_signed_, packed_.data(), ep_, out_row + static_cast<size_t>(ox) * c_out,
                    c_out);
      }
    }
  });
}

}  // namespace qk
