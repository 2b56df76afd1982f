// SPDX-License-Identifier: Apache-2.0
// Quantized linear: the creation-time output stage (bias quantization, zero-point corrections,
// requantization multipliers, clamp bounds) and the run that hands everything to the driver.
#include "ops/qlinear.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace qk {
namespace {

void check_activation_qparams(const QParams& qp, const char* what) {
  QK_FAIL_IF(qp.dtype != DType::kU8 && qp.dtype != DType::kS8, kInvalidArgument, "%s: dtype %s is not u8 or s8",
             what, dtype_name(qp.dtype));
  QK_FAIL_IF(!is_per_tensor(qp.scheme), kInvalidArgument, "%s: scheme %s is not per-tensor", what,
             qscheme_name(qp.scheme));
}

// round_half_even(bias / (a_scale * w_scale)) in float32, saturated to int32.
int32_t quantize_bias(float bias, float a_times_w_scale) {
  const float q = std::nearbyint(bias / a_times_w_scale);
  if (q >= 2147483648.0f) return std::numeric_limits<int32_t>::max();
  if (q < -2147483648.0f) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(q);
}

// quantize(x) into the dtype range [lo, hi], as qk_quantize rounds: x * (1/scale), half to even.
int32_t quantize_bound(float x, float scale, int32_t zp, int32_t lo, int32_t hi) {
  const double r = double(std::nearbyint(x * (1.0f / scale))) + zp;  // double: no overflow, inf stays inf
  return r < lo ? lo : (r > hi ? hi : static_cast<int32_t>(r));
}

}  // namespace

GemmEpilogue OutputStage::epilogue() const {
  GemmEpilogue ep;
  ep.kind = kind;
  ep.col_offset = col_offset.data();
  ep.scale = scale.empty() ? nullptr : scale.data();
  ep.bias = bias;
  ep.f32_min = f32_min;
  ep.f32_max = f32_max;
  ep.out_zp = out_zp;
  ep.q_min = q_min;
  ep.q_max = q_max;
  ep.out_signed = out_signed;
  ep.fixed_point = fixed_point;
  ep.fp_multiplier = fp_multiplier.empty() ? nullptr : fp_multiplier.data();
  ep.fp_shift = fp_shift.empty() ? nullptr : fp_shift.data();
  return ep;
}

std::unique_ptr<OutputStage> make_output_stage(const PackedWeights& w, const QParams& input_qp, GemmOutput kind,
                                               const QParams* output_qp, float output_min, float output_max,
                                               bool fixed_point) {
  check_activation_qparams(input_qp, "input_qparams");
  QK_FAIL_IF(std::isnan(output_min) || std::isnan(output_max), kInvalidArgument, "output_min/output_max is NaN");
  QK_FAIL_IF(output_min > output_max, kInvalidArgument, "output_min %g is greater than output_max %g",
             double(output_min), double(output_max));
  if (kind == GemmOutput::kQuantized) {
    QK_FAIL_IF(output_qp == nullptr, kInvalidArgument, "output_qparams is NULL but the output is quantized");
    check_activation_qparams(*output_qp, "output_qparams");
  } else {
    QK_FAIL_IF(output_qp != nullptr, kInvalidArgument, "output_qparams must be NULL for %s output",
               kind == GemmOutput::kS32 ? "s32" : "f32");
  }
  QK_FAIL_IF(kind == GemmOutput::kS32 && (output_min != -INFINITY || output_max != INFINITY), kInvalidArgument,
             "s32 output cannot be clamped: output_min/output_max must be -INFINITY/INFINITY");

  auto st = std::make_unique<OutputStage>();
  st->kind = kind;
  st->fixed_point = fixed_point && kind == GemmOutput::kQuantized;
  const size_t n = w.n;
  const float a_scale = input_qp.scales[0];
  const bool a_signed = input_qp.dtype == DType::kS8;

  // Products a_scale * w_scale[j]: the dequantization scale of the accumulator.
  std::vector<float> acc_scale(n);
  for (size_t j = 0; j < n; ++j) {
    acc_scale[j] = a_scale * w.w_scale[j];
    QK_FAIL_IF(!std::isfinite(acc_scale[j]) || acc_scale[j] == 0.0f, kInvalidArgument,
               "input scale %g x weight scale[%zu] %g = %g is not a finite non-zero float", double(a_scale), j,
               double(w.w_scale[j]), double(acc_scale[j]));
  }

  // Bias in accumulator units. An f32 bias stays float for f32 outputs (added after scaling).
  std::vector<int32_t> bias_q;
  if (!w.bias_s32.empty()) {
    bias_q = w.bias_s32;
  } else if (!w.bias_f32.empty()) {
    if (kind == GemmOutput::kF32) {
      st->bias = w.bias_f32.data();
    } else {
      bias_q.resize(n);
      for (size_t j = 0; j < n; ++j) bias_q[j] = quantize_bias(w.bias_f32[j], acc_scale[j]);
    }
  }
  st->col_offset = gemm_col_offsets(w, a_signed, input_qp.zero_points[0], bias_q.empty() ? nullptr : bias_q.data());

  switch (kind) {
    case GemmOutput::kS32:
      break;
    case GemmOutput::kF32:
      st->scale = std::move(acc_scale);
      st->f32_min = output_min;
      st->f32_max = output_max;
      break;
    case GemmOutput::kQuantized: {
      const float out_scale = output_qp->scales[0];
      st->out_zp = output_qp->zero_points[0];
      st->out_signed = output_qp->dtype == DType::kS8;
      int32_t lo, hi;
      dtype_range(output_qp->dtype, &lo, &hi);
      st->q_min = output_min == -INFINITY ? lo : quantize_bound(output_min, out_scale, st->out_zp, lo, hi);
      st->q_max = output_max == INFINITY ? hi : quantize_bound(output_max, out_scale, st->out_zp, lo, hi);
      if (st->fixed_point) {
        st->fp_multiplier.resize(n);
        st->fp_shift.resize(n);
        for (size_t j = 0; j < n; ++j)
          quantize_multiplier(double(a_scale) * double(w.w_scale[j]) / double(out_scale), &st->fp_multiplier[j],
                              &st->fp_shift[j]);
      } else {
        st->scale.resize(n);
        for (size_t j = 0; j < n; ++j) {
          st->scale[j] = acc_scale[j] / out_scale;  // (a_scale * w_scale) / out_scale, PyTorch's order
          QK_FAIL_IF(!std::isfinite(st->scale[j]), kInvalidArgument,
                     "requantization multiplier for channel %zu overflows float", j);
        }
      }
      break;
    }
  }
  return st;
}

QLinear::QLinear(std::shared_ptr<const PackedWeights> weights, const QParams& input_qp, GemmOutput kind,
                 const QParams* output_qp, float output_min, float output_max, bool fixed_point)
    : weights_(std::move(weights)) {
  QK_FAIL_IF(weights_ == nullptr, kInvalidArgument, "weights is NULL");
  stage_ = make_output_stage(*weights_, input_qp, kind, output_qp, output_min, output_max, fixed_point);
  a_signed_ = input_qp.dtype == DType::kS8;
  a_zero_point_ = input_qp.zero_points[0];
}

void QLinear::run(size_t m, const void* input, size_t input_stride, void* output, size_t output_stride,
                  ThreadPool* pool) const {
  qgemm_run(*weights_, m, static_cast<const uint8_t*>(input), input_stride, a_signed_, a_zero_point_,
            stage_->epilogue(), output, output_stride, pool);
}

}  // namespace qk
