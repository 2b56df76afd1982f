// SPDX-License-Identifier: Apache-2.0
// Quantized conv2d: validation, weight repacking, and the run loop (direct 1x1 GEMM, im2col GEMM
// per row block, or the depthwise kernel).
//
// im2col works on row blocks sized to stay in L2 together with the driver's packed copy, rather
// than unfolding the whole image (kh*kw times the input). Padded taps are filled with the input
// zero point, whose contribution the GEMM's zero-point correction cancels exactly. With several
// threads and enough blocks, each thread unfolds and multiplies its own blocks (the driver then
// runs single-threaded inside a block), so unfolding is parallel too and a block is consumed by
// the core that wrote it (3x3 64->64 on 56x56, 2 cores: 0.99 ms, against 1.66 ms with serial
// unfolding and the pool inside the driver); otherwise the blocks run in turn and the pool goes
// to the driver. Both give the same bytes: every output element is computed the same way
// whoever computes it.
#include "ops/qconv2d.h"
#include "ops/window_geometry.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/shape.h"
#include "core/threadpool.h"
#include "ops/depthwise.h"
#include "ops/layout.h"
#include "ops/packed_weights.h"
#include "ops/qlinear.h"

namespace qk {
namespace {

// Target size of one unfolded row block (the driver packs it once more, widened on AVX2).
constexpr size_t kIm2colBlockBytes = 96 * 1024;
constexpr size_t kRowAlign = 16;

size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

inline void copy_bytes(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n <= 16) {
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    std::memcpy(dst, src, n);
  }
}

inline void fill_bytes(uint8_t* dst, uint8_t value, size_t n) {
  if (n <= 16) {
    for (size_t i = 0; i < n; ++i) dst[i] = value;
  } else {
    std::memset(dst, value, n);
  }
}

// Dimensions of one run, as sizes.
struct RunDims {
  size_t in_h, in_w, out_h, out_w;
};

// Unfolds output rows [r0, r0 + rows) (flattened n, oy, ox) of group `grp` into `dst`, one row of
// kh*kw*cin_g bytes per output pixel in [ky][kx][ci] order (the repacked weights' order).
void im2col(const ConvGeometry& g, const RunDims& d, const uint8_t* in, size_t grp, size_t r0, size_t rows, uint8_t pad,
            uint8_t* dst) {
  const size_t c = static_cast<size_t>(g.in_c), cg = static_cast<size_t>(g.cin_g());
  const size_t kh = static_cast<size_t>(g.kh), kw = static_cast<size_t>(g.kw);
  const size_t k = kh * kw * cg;
  const int64_t in_h = static_cast<int64_t>(d.in_h), in_w = static_cast<int64_t>(d.in_w);
  // With groups == 1 and no horizontal dilation, the kw taps of one kernel row are kw*c
  // consecutive input bytes: one copy when they are all inside the image.
  const bool runs = g.groups == 1 && g.dw == 1;
  size_t ox = r0 % d.out_w, oy = (r0 / d.out_w) % d.out_h, b = r0 / d.out_w / d.out_h;
  for (size_t i = 0; i < rows; ++i) {
    uint8_t* row = dst + i * k;
    const int64_t iy0 = static_cast<int64_t>(oy) * g.sh - g.pad_top;
    const int64_t ix0 = static_cast<int64_t>(ox) * g.sw - g.pad_left;
    const bool x_inside = ix0 >= 0 && ix0 + (g.kw - 1) * g.dw < in_w;
    for (size_t ky = 0; ky < kh; ++ky) {
      uint8_t* dk = row + ky * kw * cg;
      const int64_t iy = iy0 + static_cast<int64_t>(ky) * g.dh;
      if (iy < 0 || iy >= in_h) {
        fill_bytes(dk, pad, kw * cg);
        continue;
      }
      const uint8_t* src = in + ((b * d.in_h + static_cast<size_t>(iy)) * d.in_w) * c + grp * cg;
      if (runs && x_inside) {
        std::memcpy(dk, src + static_cast<size_t>(ix0) * c, kw * c);
        continue;
      }
      for (size_t kx = 0; kx < kw; ++kx) {
        const int64_t ix = ix0 + static_cast<int64_t>(kx) * g.dw;
        if (ix >= 0 && ix < in_w)
          copy_bytes(dk + kx * cg, src + static_cast<size_t>(ix) * c, cg);
        else
          fill_bytes(dk + kx * cg, pad, cg);
      }
    }
    if (++ox == d.out_w) {
      ox = 0;
      if (++oy == d.out_h) {
        oy = 0;
        ++b;
      }
    }
  }
}

// Weight qparams for OIHW weights: as the linear operator's rule, with the per-channel axis
// given as 0 or -4 (the output-channel axis of a rank-4 tensor).
void check_conv_weight_qparams(const QParams& qp, size_t out_c) {
  if (!is_per_tensor(qp.scheme) && qp.axis == -4) {
    QParams copy = qp;
    copy.axis = 0;
    check_weight_qparams(copy, out_c, "weight_qparams");
    return;
  }
  QK_FAIL_IF(!is_per_tensor(qp.scheme) && qp.axis != 0, kInvalidArgument,
             "weight_qparams: per-channel axis %d must be 0 (the O of OIHW)", qp.axis);
  check_weight_qparams(qp, out_c, "weight_qparams");
}

}  // namespace

void ConvGeometry::output_size(int64_t in_h, int64_t in_w, int64_t* out_h, int64_t* out_w) const {
  QK_FAIL_IF(in_h < 1 || in_w < 1, kInvalidArgument, "input height/width %lld x %lld must be >= 1", (long long)in_h,
             (long long)in_w);
  QK_FAIL_IF(in_h > (int64_t(1) << 62) || in_w > (int64_t(1) << 62), kInvalidArgument,
             "input height/width %lld x %lld is too large", (long long)in_h, (long long)in_w);
  *out_h = window_output_length(in_h, kh, sh, pad_top, pad_bottom, dh, "height");
  *out_w = window_output_length(in_w, kw, sw, pad_left, pad_right, dw, "width");
}

ConvGeometry conv_geometry(const int64_t weight_shape[4], const int64_t stride[2], const int64_t padding[4],
                           const int64_t dilation[2], int64_t groups) {
  check_window_params(weight_shape, 4, 1, "weight_shape");
  check_window_params(stride, 2, 1, "stride");
  check_window_params(padding, 4, 0, "padding");
  check_window_params(dilation, 2, 1, "dilation");
  QK_FAIL_IF(groups < 1 || groups > kMaxWindowParam, kInvalidArgument, "groups %lld is outside [1, 2^31]", (long long)groups);
  ConvGeometry g;
  g.out_c = weight_shape[0];
  g.groups = groups;
  QK_FAIL_IF(g.out_c % groups != 0, kInvalidArgument, "groups %lld does not divide the %lld output channels",
             (long long)groups, (long long)g.out_c);
  g.in_c = weight_shape[1] * groups;
  QK_FAIL_IF(g.in_c > kMaxWindowParam, kInvalidArgument, "in_channels %lld (weight_shape[1] x groups) is above 2^31",
             (long long)g.in_c);
  g.kh = weight_shape[2];
  g.kw = weight_shape[3];
  // Each factor is checked first so that the product cannot overflow.
  const int64_t max_depth = int64_t(kMaxGemmDepth);
  QK_FAIL_IF(
      g.kh > max_depth || g.kw > max_depth || weight_shape[1] > max_depth || g.kh * g.kw * weight_shape[1] > max_depth,
      kInvalidArgument, "kh*kw*in_channels/groups = %lld x %lld x %lld is above %lld (int32 accumulators)",
      (long long)g.kh, (long long)g.kw, (long long)weight_shape[1], (long long)max_depth);
  g.sh = stride[0];
  g.sw = stride[1];
  g.pad_top = padding[0];
  g.pad_left = padding[1];
  g.pad_bottom = padding[2];
  g.pad_right = padding[3];
  g.dh = dilation[0];
  g.dw = dilation[1];
  return g;
}

QConv2d::QConv2d(const int8_t* weights, const ConvGeometry& g, const QParams& weight_qp, const float* bias,
                 const QParams& input_qp, const QParams& output_qp, float output_min, float output_max,
                 bool fixed_point)
    : g_(g) {
  QK_FAIL_IF(weights == nullptr, kInvalidArgument, "argument 'weights' is NULL");
  const ActivationQuant in_q = activation_quant(input_qp, "input_qparams");
  (void)activation_quant(output_qp, "output_qparams");
  const size_t out_c = static_cast<size_t>(g.out_c);
  check_conv_weight_qparams(weight_qp, out_c);
  if (bias != nullptr)
    for (size_t j = 0; j < out_c; ++j)
      QK_FAIL_IF(!std::isfinite(bias[j]), kInvalidArgument, "bias[%zu] = %g is not finite", j, double(bias[j]));
  a_signed_ = in_q.is_signed;
  a_zero_point_ = in_q.zero_point;

  if (g.depthwise()) {
    DepthwiseGeometry dg;
    dg.channels = g.in_c;
    dg.multiplier = g.out_c / g.in_c;
    dg.kh = g.kh;
    dg.kw = g.kw;
    dg.sh = g.sh;
    dg.sw = g.sw;
    dg.pad_top = g.pad_top;
    dg.pad_left = g.pad_left;
    dg.dh = g.dh;
    dg.dw = g.dw;
    depthwise_ = std::make_unique<DepthwiseConv>(dg, weights, weight_qp, bias, input_qp, output_qp, output_min,
                                                 output_max, fixed_point);
    return;
  }

  // OIHW -> [out][kh][kw][in/groups]: the order im2col writes a row in.
  const size_t cg = static_cast<size_t>(g.cin_g()), kh = static_cast<size_t>(g.kh), kw = static_cast<size_t>(g.kw);
  const size_t k = kh * kw * cg;
  std::vector<int8_t> repacked(out_c * k);
  for (size_t o = 0; o < out_c; ++o)
    for (size_t ci = 0; ci < cg; ++ci)
      for (size_t y = 0; y < kh; ++y)
        for (size_t x = 0; x < kw; ++x)
          repacked[o * k + (y * kw + x) * cg + ci] = weights[((o * cg + ci) * kh + y) * kw + x];

  const bool per_tensor = is_per_tensor(weight_qp.scheme);
  const size_t cout_g = static_cast<size_t>(g.cout_g());
  groups_.resize(static_cast<size_t>(g.groups));
  for (size_t grp = 0; grp < groups_.size(); ++grp) {
    const size_t o0 = grp * cout_g;
    Group& G = groups_[grp];
    G.weights = pack_weights(
        repacked.data() + o0 * k, cout_g, k, k, per_tensor ? weight_qp.scales.data() : weight_qp.scales.data() + o0,
        per_tensor ? 1 : cout_g, per_tensor ? weight_qp.zero_points[0] : 0, bias ? bias + o0 : nullptr, nullptr);
    G.stage = make_output_stage(*G.weights, input_qp, GemmOutput::kQuantized, &output_qp, output_min, output_max,
                                fixed_point);
  }
  direct_1x1_ = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pad_top == 0 && g.pad_left == 0 &&
                g.pad_bottom == 0 && g.pad_right == 0;
}

QConv2d::~QConv2d() = default;

void QConv2d::run(int64_t batch, int64_t in_h, int64_t in_w, const void* input, size_t input_bytes, void* output,
                  size_t output_bytes, ThreadPool* pool) const {
  QK_FAIL_IF(batch < 0, kInvalidArgument, "batch %lld is negative", (long long)batch);
  int64_t out_h = 0, out_w = 0;
  g_.output_size(in_h, in_w, &out_h, &out_w);
  const int64_t in_shape[4] = {batch, in_h, in_w, g_.in_c};
  const int64_t out_shape[4] = {batch, out_h, out_w, g_.out_c};
  const uint64_t in_count = Shape::from(in_shape, 4, "input shape").count;
  const uint64_t out_count = Shape::from(out_shape, 4, "output shape").count;
  QK_FAIL_IF(input_bytes < in_count, kInvalidArgument, "input_bytes %zu is smaller than the %llu bytes needed",
             input_bytes, (unsigned long long)in_count);
  QK_FAIL_IF(output_bytes < out_count, kInvalidArgument, "output_bytes %zu is smaller than the %llu bytes needed",
             output_bytes, (unsigned long long)out_count);
  if (out_count == 0) return;
  QK_FAIL_IF(input == nullptr, kInvalidArgument, "argument 'input' is NULL");
  QK_FAIL_IF(output == nullptr, kInvalidArgument, "argument 'output' is NULL");
  QK_FAIL_IF(bytes_overlap(input, in_count, output, out_count), kInvalidArgument, "input and output overlap");
  const uint8_t* in = static_cast<const uint8_t*>(input);
  uint8_t* out = static_cast<uint8_t*>(output);
  if (depthwise_) {
    depthwise_->run(batch, in_h, in_w, out_h, out_w, in, out, pool);
    return;
  }
  run_gemm(batch, in_h, in_w, out_h, out_w, in, out, pool);
}

void QConv2d::run_gemm(int64_t batch, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, const uint8_t* in,
                       uint8_t* out, ThreadPool* pool) const {
  const size_t m = static_cast<size_t>(batch * out_h * out_w);
  const size_t in_c = static_cast<size_t>(g_.in_c), out_c = static_cast<size_t>(g_.out_c);
  const size_t cin_g = static_cast<size_t>(g_.cin_g()), cout_g = static_cast<size_t>(g_.cout_g());
  std::vector<GemmEpilogue> eps(groups_.size());
  for (size_t grp = 0; grp < groups_.size(); ++grp) eps[grp] = groups_[grp].stage->epilogue();

  // Every driver call below writes part of the output, so all their scratch is allocated here,
  // before the first: an allocation failure then leaves the output untouched.
  const size_t threads = pool ? pool->thread_count() : 1;
  if (direct_1x1_) {  // every input pixel is one GEMM row; a group reads its channel slice
    GemmScratch gemm_scratch;
    for (const Group& G : groups_) gemm_scratch.reserve(*G.weights, m, threads);
    for (size_t grp = 0; grp < groups_.size(); ++grp)
      qgemm_run(*groups_[grp].weights, m, in + grp * cin_g, in_c, a_signed_, a_zero_point_, eps[grp],
                out + grp * cout_g, out_c, pool, &gemm_scratch);
    return;
  }

  const size_t k = static_cast<size_t>(g_.kh * g_.kw) * cin_g;
  size_t block_rows = std::max(kRowAlign, kIm2colBlockBytes / k / kRowAlign * kRowAlign);
  // Enough blocks for every thread to get a few (load balance).
  if (threads > 1)
    block_rows = std::min(block_rows, std::max(kRowAlign, round_up((m + 4 * threads - 1) / (4 * threads), kRowAlign)));
  block_rows = std::min(block_rows, m);
  const size_t blocks = (m + block_rows - 1) / block_rows;
  const bool parallel_blocks = threads > 1 && blocks >= threads;
  const RunDims dims{static_cast<size_t>(in_h), static_cast<size_t>(in_w), static_cast<size_t>(out_h),
                     static_cast<size_t>(out_w)};
  const uint8_t pad = static_cast<uint8_t>(a_zero_point_);
  const size_t slots = parallel_blocks ? threads : 1;
  std::vector<uint8_t> scratch(slots * block_rows * k);
  // Per slot, the driver's scratch for a full block and for the last (shorter) one, on one thread
  // when the blocks run in parallel, else on the pool.
  std::vector<GemmScratch> gemm_scratch(slots);
  const size_t inner_threads = parallel_blocks ? 1 : threads;
  for (GemmScratch& gs : gemm_scratch)
    for (const Group& G : groups_) {
      gs.reserve(*G.weights, block_rows, inner_threads);
      gs.reserve(*G.weights, m - (blocks - 1) * block_rows, inner_threads);
    }

  auto run_block = [&](size_t slot, size_t blk, ThreadPool* inner_pool) {
    uint8_t* a = scratch.data() + slot * block_rows * k;
    const size_t r0 = blk * block_rows, rows = std::min(block_rows, m - r0);
    for (size_t grp = 0; grp < groups_.size(); ++grp) {
      im2col(g_, dims, in, grp, r0, rows, pad, a);
      qgemm_run(*groups_[grp].weights, rows, a, k, a_signed_, a_zero_point_, eps[grp], out + r0 * out_c + grp * cout_g,
                out_c, inner_pool, &gemm_scratch[slot]);
    }
  };
  if (parallel_blocks) {
    parallel_for(pool, blocks, [&](size_t thread, size_t blk) { run_block(thread, blk, nullptr); });
  } else {
    for (size_t blk = 0; blk < blocks; ++blk) run_block(0, blk, pool);
  }
}

}  // namespace qk
