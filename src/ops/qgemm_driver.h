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
// Immutable once built; operators share it through std::shared_ptr<const PackedWeights>.
struct PackedWeights {
  QGemmKernel kernel;            // the family the weights were packed for
  size_t n = 0, k = 0;
  std::vector<uint8_t> packed;   // kernel layout; use packed_b(), which is 64-byte aligned
  size_t packed_offset = 0;      // packed.data() + packed_offset is the aligned start
  std::vector<int32_t> col_sum;  // sum_k w[n][k]
  std::vector<float> w_scale;    // n entries (per-tensor replicated)
  int32_t w_zero_point = 0;      // per-tensor only (per-channel is symmetric)
  bool per_channel = false;
  std::vector<float> bias_f32;   // n or empty
  std::vector<int32_t> bias_s32; // n or empty

  const uint8_t* packed_b() const { return packed.data() + packed_offset; }
};

// Largest depth: no int32 accumulator can overflow up to here (qgemm_kernel.h note 2).
constexpr size_t kMaxGemmDepth = 65536;

// Packs with the family of the active ISA. Throws qk::Error: kUnsupported (QK_ISA names an
// unusable path), kInvalidArgument (n or k out of [1, 2^31), k > kMaxGemmDepth, ldw < k,
// scale_count not 1 or n, a per-channel zero point, both biases), kOutOfMemory.
// w_scales: 1 (per-tensor) or n (per-channel, symmetric: w_zero_point must be 0) values.
// bias_f32 / bias_s32: n values or nullptr (at most one of them).
std::shared_ptr<const PackedWeights> pack_weights(const int8_t* w, size_t n, size_t k, size_t ldw,
                                                   const float* w_scales, size_t scale_count, int32_t w_zero_point,
                                                   const float* bias_f32, const int32_t* bias_s32);

// out[m][n] = epilogue(dot(A, W) corrected), A: m rows of k bytes (u8, or s8 with xor 0x80),
// row stride lda bytes. `a_zero_point` is the zero point of A as given (before the xor).
// row sums of A are computed here when the weights have a non-zero zero point.
//
// Contract details (for operators built on the driver):
//  - ep_template.col_offset must hold w.n entries, normally from gemm_col_offsets() below; scale,
//    bias, fp_multiplier and fp_shift (when the kind uses them) w.n entries too.
//  - When w.w_zero_point != 0 the driver computes row_offset[i] = -w_zp * sum_k A'[i][k] (A' the
//    u8 view) and ignores ep_template.row_offset; otherwise ep_template.row_offset (m entries or
//    nullptr) is used as given.
//  - `a_zero_point` is accepted for symmetry with the operators; the zero-point terms of A live
//    in col_offset (gemm_col_offsets), so the driver itself does not use it.
//  - out has m rows of w.n elements of the epilogue's output type (4 bytes for kS32/kF32, 1 for
//    kQuantized) with row stride ldo elements. A and out must not overlap.
//  - Results are identical for every pool and thread count. Runs on the caller when pool is null.
//  - The only allocation is growing the scratch (`scratch`, or a local one when it is null) to
//    qgemm_scratch_bytes(w, m, threads), before anything is written: it throws std::bad_alloc
//    and then nothing is written. With a scratch already that large, nothing can fail.
class GemmScratch;
void qgemm_run(const PackedWeights& w, size_t m, const uint8_t* a, size_t lda, bool a_signed, int32_t a_zero_point,
               const GemmEpilogue& ep_template, void* out, size_t ldo, ThreadPool* pool,
               GemmScratch* scratch = nullptr);

// Scratch bytes qgemm_run needs for m rows of A against w with a pool of `threads` threads (1
// for no pool): per thread that can claim a task, packed A tiles and an accumulator block; plus
// m row offsets when the weights have a zero point.
size_t qgemm_scratch_bytes(const PackedWeights& w, size_t m, size_t threads);

// Scratch memory for qgemm_run, reusable by calls in turn (not at once). An operator that writes
// one output through several driver calls (conv: per row block and per group) reserves, before
// the first call, what the largest needs, so that no call fails after another has written.
class GemmScratch {
 public:
  // Grows to qgemm_scratch_bytes(w, m, threads) (never shrinks). Throws std::bad_alloc.
  void reserve(const PackedWeights& w, size_t m, size_t threads) { reserve_bytes(qgemm_scratch_bytes(w, m, threads)); }
  void reserve_bytes(size_t bytes) {
    if (bytes <= size_) return;
    bytes_.reset();  // the contents need not survive: free first, so peak memory is one buffer
    size_ = 0;
    // Uninitialized on purpose: packing overwrites every byte the micro-kernel reads.
    bytes_.reset(new uint8_t[bytes]);
    size_ = bytes;
  }
  uint8_t* data() const { return bytes_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t[]> bytes_;
  size_t size_ = 0;
};

// col_offset[j] = -za' * col_sum[j] + k * za' * w_zp + bias_q[j] (wrapping int32), with za' the
// zero point of A in the u8 view (a_zero_point + 128 for s8 activations). bias_q may be nullptr.
std::vector<int32_t> gemm_col_offsets(const PackedWeights& w, bool a_signed, int32_t a_zero_point,
                                      const int32_t* bias_q);

}  // namespace qk
