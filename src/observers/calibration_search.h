// SPDX-License-Identifier: Apache-2.0
// Turning a histogram into a clipping range: PyTorch's L2 search (HISTOGRAM), quantiles
// (PERCENTILE), TensorRT's KL-divergence threshold (ENTROPY) and an expected-MSE search (MSE).
#pragma once

#include <cstdint>

#include "core/quant_spec.h"
#include "observers/histogram.h"

namespace qk {
namespace hist {

struct ClipRange {
  float lo;
  float hi;
};

// HistogramObserver._non_linear_param_search (PyTorch 1.13): greedy walk of the two ends inwards
// in quantile steps of 1e-5, stopping when the L2 quantization error to a `dst_bins`-level grid
// grows. Reproduces torch's float32 arithmetic (including torch.sum's summation order) so the
// same histogram gives the same range bit for bit. Ranges outside [2^-24, 2^24] or more than 2^40
// samples, where torch's float32 error terms overflow or underflow, are searched in double in
// bin units instead. Defined in torch_l2_search.cc.
ClipRange torch_l2_search(const Histogram& h, double dst_bins);

// The value below which `fraction` of the histogram's mass lies, spreading each bin's count
// uniformly over the bin (linear interpolation inside the bin that crosses the target).
// fraction 0 gives the lower edge of the first non-empty bin, 1 the upper edge of the last.
double histogram_quantile(const Histogram& h, double fraction);

// TensorRT / pytorch-quantization _compute_amax_entropy on a histogram of |x| over [0, hi]:
// bins[0] is replaced by bins[1]; for each candidate i in [quant_bins, bins] the reference P is
// bins[0..i) with the mass beyond folded into bin i-1, the candidate Q merges bins[0..i) into
// quant_bins groups (bin j in group floor(j*quant_bins/i)) and spreads each group's mass evenly
// over its non-empty bins; the last i with the smallest KL(P||Q) wins and amax is edge i.
// A candidate whose P has mass where Q has none scores +Inf (as scipy.stats.entropy does).
// With fewer bins than quant_bins, or no finite score, amax is the histogram's upper edge.
double entropy_amax(const Histogram& h, int64_t quant_bins);

// The clipping range minimising the expected squared quantize-dequantize error of the histogram
// (each bin's mass uniform over the bin) under the qparams the spec derives from that range.
// Candidates (documented in docs/OBSERVER_STATE.md): symmetric specs scan amax over 256 even
// steps of max|edge|, then refine twice around the best with 16 sub-steps each side; affine specs
// scan a 33x33 grid of (lo, hi) fractions of (min(lo,0), max(hi,0)), then refine twice with a
// 17x17 grid of 1/8 steps. Ties keep the wider range; a range the spec cannot turn into qparams
// (its scale overflows) scores +Inf. Histograms over 4096 bins are evaluated on bins merged in
// groups (ceil(bins/4096) per group).
ClipRange mse_search(const Histogram& h, const QuantSpec& spec);

}  // namespace hist
}  // namespace qk
