// SPDX-License-Identifier: Apache-2.0
// Dynamic linear (PyTorch quantize_dynamic): each run derives the input's qparams from its
// min/max, quantizes it, runs the int8 GEMM and writes f32 (+ f32 bias).
#pragma once

#include <cstddef>
#include <memory>

#include "core/dtype.h"
#include "ops/qgemm_driver.h"

namespace qk {

class ThreadPool;

class DynamicLinear {
 public:
  // activation: U8 or S8 (affine, PyTorch convention); per_row: one scale/zero point per row.
  // The weights' bias must be f32 or absent (an s32 bias has no meaning with a varying scale).
  DynamicLinear(std::shared_ptr<const PackedWeights> weights, DType activation, bool per_row);

  size_t n() const { return weights_->n; }
  size_t k() const { return weights_->k; }

  // input: m rows of k floats (stride input_stride); output: m rows of n floats (stride
  // output_stride). Throws kInvalidArgument for a non-finite input (output untouched).
  void run(size_t m, const float* input, size_t input_stride, float* output, size_t output_stride,
           ThreadPool* pool) const;

 private:
  std::shared_ptr<const PackedWeights> weights_;
  DType activation_;
  bool per_row_;
};

}  // namespace qk
