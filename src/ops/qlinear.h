// SPDX-License-Identifier: Apache-2.0
// Quantized linear: out = epilogue(input x weights^T) with the output stage fixed at creation.
// The output stage (zero-point corrections, quantized bias, requantization multipliers, clamps)
// is also what the conv operator needs, so it is built by a function of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/qparams.h"
#include "ops/qgemm_driver.h"

namespace qk {

class ThreadPool;

// Everything precomputed to turn the GEMM of packed weights `w` with an input of fixed qparams
// into outputs of one kind. epilogue() points into this object: keep it alive while running.
struct OutputStage {
  GemmOutput kind = GemmOutput::kS32;
  std::vector<int32_t> col_offset;  // gemm_col_offsets() incl. the quantized/s32 bias
  std::vector<float> scale;         // F32: a_scale*w_scale[n]; float requant: M[n]
  std::vector<int32_t> fp_multiplier, fp_shift;
  const float* bias = nullptr;      // F32 output with an f32 bias: the weights' bias_f32
  float f32_min = 0, f32_max = 0;
  int32_t out_zp = 0, q_min = 0, q_max = 0;
  bool out_signed = false, fixed_point = false;

  GemmEpilogue epilogue() const;
};

// Validates and builds the output stage of the operator contract in quantkit.h:
//  input_qp:  per-tensor U8/S8 ("input_qparams" in messages);
//  kind:      kQuantized needs output_qp (per-tensor U8/S8), kS32/kF32 need output_qp == nullptr;
//  output_min/output_max: no NaN, min <= max; kS32 only -INF/+INF;
//  every a_scale*w_scale[n] (and M[n]) must be a finite non-zero float.
// Throws qk::Error kInvalidArgument.
std::unique_ptr<OutputStage> make_output_stage(const PackedWeights& w, const QParams& input_qp, GemmOutput kind,
                                               const QParams* output_qp, float output_min, float output_max,
                                               bool fixed_point);

class QLinear {
 public:
  QLinear(std::shared_ptr<const PackedWeights> weights, const QParams& input_qp, GemmOutput kind,
          const QParams* output_qp, float output_min, float output_max, bool fixed_point);

  size_t n() const { return weights_->n; }
  size_t k() const { return weights_->k; }
  DType input_dtype() const { return a_signed_ ? DType::kS8 : DType::kU8; }
  // Bytes of one output element (1 for quantized outputs, 4 for s32/f32).
  size_t output_element_size() const { return stage_->kind == GemmOutput::kQuantized ? 1 : 4; }

  // input: m rows of k bytes, stride input_stride; output: m rows of n elements, stride
  // output_stride (elements). Arguments are validated by the caller (the C shim).
  void run(size_t m, const void* input, size_t input_stride, void* output, size_t output_stride,
           ThreadPool* pool) const;

 private:
  std::shared_ptr<const PackedWeights> weights_;
  bool a_signed_ = false;
  int32_t a_zero_point_ = 0;
  std::unique_ptr<OutputStage> stage_;
};

}  // namespace qk
