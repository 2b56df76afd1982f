// SPDX-License-Identifier: Apache-2.0
// Dynamic linear: min/max -> qparams (PyTorch convention, the code behind qk_qparams_compute) ->
// quantize (the active qk_quantize kernel) -> int8 GEMM with f32 output. Per-tensor runs take the
// ordinary f32 output stage. Per-row qparams give every row its own zero point and scale, which
// the column-indexed epilogue cannot express, so that path takes s32 from the GEMM and applies
// the per-row terms itself (an O(m*n) pass after the O(m*n*k) GEMM).
#include "ops/dynamic_linear.h"

#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/qparams.h"
#include "core/threadpool.h"
#include "dispatch/isa.h"
#include "ops/qlinear.h"

namespace qk {
namespace {

// Min and max of every row (per_row) or of the whole input; rejects NaN and infinities.
void input_ranges(const float* x, size_t m, size_t k, size_t stride, bool per_row, std::vector<float>* mins,
                  std::vector<float>* maxs) {
  const size_t count = per_row ? m : 1;
  mins->assign(count, INFINITY);
  maxs->assign(count, -INFINITY);
  for (size_t i = 0; i < m; ++i) {
    const float* row = x + i * stride;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t j = 0; j < k; ++j) {
      const float v = row[j];
      QK_FAIL_IF(!std::isfinite(v), kInvalidArgument, "input[%zu][%zu] = %g is not finite", i, j, double(v));
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    const size_t r = per_row ? i : 0;
    (*mins)[r] = lo < (*mins)[r] ? lo : (*mins)[r];
    (*maxs)[r] = hi > (*maxs)[r] ? hi : (*maxs)[r];
  }
}

}  // namespace

DynamicLinear::DynamicLinear(std::shared_ptr<const PackedWeights> weights, DType activation, bool per_row)
    : weights_(std::move(weights)), activation_(activation), per_row_(per_row) {
  QK_FAIL_IF(weights_ == nullptr, kInvalidArgument, "weights is NULL");
  QK_FAIL_IF(activation != DType::kU8 && activation != DType::kS8, kInvalidArgument,
             "activation_dtype %s is not u8 or s8", dtype_name(activation));
  QK_FAIL_IF(!weights_->bias_s32.empty(), kInvalidArgument,
             "dynamic linear needs an f32 bias (an s32 bias depends on the input scale, which changes per run)");
}

void DynamicLinear::run(size_t m, const float* input, size_t input_stride, float* output, size_t output_stride,
                        ThreadPool* pool) const {
  if (m == 0) return;
  const PackedWeights& w = *weights_;
  const size_t n = w.n, k = w.k;

  std::vector<float> mins, maxs;
  input_ranges(input, m, k, input_stride, per_row_, &mins, &maxs);
  QuantSpec spec = QuantSpec::make(activation_, per_row_ ? QScheme::kPerChannelAffine : QScheme::kPerTensorAffine);
  const QParams qp = compute_qparams(spec, mins.data(), maxs.data(), mins.size());

  // Quantize exactly as qk_quantize does (same kernel, same reciprocal), row by row.
  const QuantizeKernels& kern = quantize_kernels();
  std::vector<uint8_t> a(m * k);
  const bool a_signed = activation_ == DType::kS8;
  for (size_t i = 0; i < m; ++i) {
    const size_t r = per_row_ ? i : 0;
    const float inv_scale = 1.0f / qp.scales[r];
    if (a_signed)
      kern.quantize_s8(input + i * input_stride, k, inv_scale, qp.zero_points[r], qp.quant_min, qp.quant_max,
                       reinterpret_cast<int8_t*>(a.data() + i * k));
    else
      kern.quantize_u8(input + i * input_stride, k, inv_scale, qp.zero_points[r], qp.quant_min, qp.quant_max,
                       a.data() + i * k);
  }

  if (!per_row_) {
    QParams input_qp = qp;  // per-tensor affine u8/s8: exactly what qk_qlinear takes
    const auto stage = make_output_stage(w, input_qp, GemmOutput::kF32, nullptr, -INFINITY, INFINITY, false);
    qgemm_run(w, m, a.data(), k, a_signed, qp.zero_points[0], stage->epilogue(), output, output_stride, pool);
    return;
  }

  // Per row: the GEMM gives dot' - w_zp*rowsum' (zero column offsets); the row's zero point and
  // scale are applied here with the same arithmetic as the per-tensor stage.
  // Rounding is monotonic, so the extreme products bound every a_scale[i] * w_scale[j].
  float a_lo = qp.scales[0], a_hi = qp.scales[0], w_lo = w.w_scale[0], w_hi = w.w_scale[0];
  for (float s : qp.scales) a_lo = s < a_lo ? s : a_lo, a_hi = s > a_hi ? s : a_hi;
  for (float s : w.w_scale) w_lo = s < w_lo ? s : w_lo, w_hi = s > w_hi ? s : w_hi;
  QK_FAIL_IF(a_lo * w_lo == 0.0f || !std::isfinite(a_hi * w_hi), kInvalidArgument,
             "input scale x weight scale leaves the float range (input scales [%g, %g], weight scales [%g, %g])",
             double(a_lo), double(a_hi), double(w_lo), double(w_hi));
  std::vector<int32_t> zero_cols(n, 0);
  GemmEpilogue ep;
  ep.kind = GemmOutput::kS32;
  ep.col_offset = zero_cols.data();
  std::vector<int32_t> acc(m * n);
  qgemm_run(w, m, a.data(), k, a_signed, 0, ep, acc.data(), n, pool);

  const float* bias = w.bias_f32.empty() ? nullptr : w.bias_f32.data();
  constexpr size_t kRowsPerTask = 16;
  parallel_for(pool, (m + kRowsPerTask - 1) / kRowsPerTask, [&](size_t, size_t task) {
    const size_t end = m < (task + 1) * kRowsPerTask ? m : (task + 1) * kRowsPerTask;
    for (size_t i = task * kRowsPerTask; i < end; ++i) {
      const uint32_t za = static_cast<uint32_t>(qp.zero_points[i] + (a_signed ? 128 : 0));
      const uint32_t k_za_zw = static_cast<uint32_t>(k) * za * static_cast<uint32_t>(w.w_zero_point);
      for (size_t j = 0; j < n; ++j) {
        const uint32_t v = static_cast<uint32_t>(acc[i * n + j]) + k_za_zw - za * static_cast<uint32_t>(w.col_sum[j]);
        float y = static_cast<float>(static_cast<int32_t>(v)) * (qp.scales[i] * w.w_scale[j]);
        if (bias) y = y + bias[j];  // two roundings, as the f32 epilogue
        output[i * output_stride + j] = y;
      }
    }
  });
}

}  // namespace qk
