// SPDX-License-Identifier: Apache-2.0
// Internal int8 GEMM driver used by every operator (linear, dynamic linear, conv as GEMM).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/gemm/qgemm_kernel.h"

namespace qk {

class ThreadPool;  // src/core/threadpool.h

// Weights packed for one kernel family, plus what every operator derives from them.
struct PackedWeights {
  QGemmKernel kernel;            // the family the weights were packed for
  size_t n = 0, k = 0;
  std::vector<uint8_t> packed;   // kernel layout (aligned by the driver on use if needed)
  std::vector<int32_t> col_sum;  // sum_k w[n][k]
  std::vector<float> w_scale;    // n entries (per-tensor replicated)
  int32_t w_zero_point = 0;      // per-tensor only (per-channel is symmetric)
  bool per_channel = false;
  std::vector<float> bias_f32;   // n or empty
  std::vector<int32_t> bias_s32; // n or empty
};

// Packs with the family of the active ISA. Throws qk::Error.
std::shared_ptr<const PackedWeights> pack_weights(const int8_t* w, size_t n, size_t k, size_t ldw,
                                                   const float* w_scales, size_t scale_count, int32_t w_zero_point,
                                                   const float* bias_f32, const int32_t* bias_s32);

// out[m][n] = epilogue(dot(A, W) corrected), A: m rows of k bytes (u8, or s8 with xor 0x80),
// row stride lda bytes. `a_zero_point` is the zero point of A as given (before the xor).
// row sums of A are computed here when the weights have a non-zero zero point.
void qgemm_run(const PackedWeights& w, size_t m, const uint8_t* a, size_t lda, bool a_signed, int32_t a_zero_point,
               const GemmEpilogue& ep_template, void* out, size_t ldo, ThreadPool* pool);

}  // namespace qk
