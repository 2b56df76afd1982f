// SPDX-License-Identifier: Apache-2.0
// Scalar depthwise kernel: the specification the AVX2 and NEON kernels match bit for bit
// (contract in ops/depthwise.h). Accumulates in uint32 (the contract's wrapping int32 without
// UB) and hands the accumulators to the GEMM's scalar epilogue, so depthwise and GEMM outputs
// come from one formula.
#include <cstring>

#include "kernels/gemm/qgemm_kernel.h"
#include "ops/depthwise.h"

namespace qk {
namespace {

// Packed layout: [taps][channels] int16, so the inner loop walks channels contiguously.
size_t packed_size(size_t taps, size_t channels) { return taps * channels * sizeof(int16_t); }

void pack(const int16_t* w, size_t taps, size_t channels, void* packed) {
  int16_t* p = static_cast<int16_t*>(packed);
  for (size_t c = 0; c < channels; ++c)
    for (size_t t = 0; t < taps; ++t) p[t * channels + c] = w[c * taps + t];
}

// Channels per epilogue call: the accumulators live on the stack.
constexpr size_t kChunk = 256;

template <typename T>
void run_typed(size_t pixels, size_t taps, size_t channels, const uint8_t* const* in, size_t in_stride,
               const int16_t* w, const GemmEpilogue& ep, uint8_t* out, size_t out_stride) {
  uint32_t acc[kChunk];
  int32_t dot[kChunk];
  for (size_t p = 0; p < pixels; ++p) {
    const size_t off = p * in_stride;
    for (size_t c0 = 0; c0 < channels; c0 += kChunk) {
      const size_t n = channels - c0 < kChunk ? channels - c0 : kChunk;
      for (size_t c = 0; c < n; ++c) acc[c] = 0;
      for (size_t t = 0; t < taps; ++t) {
        const T* xt = reinterpret_cast<const T*>(in[t] + off) + c0;
        const int16_t* wt = w + t * channels + c0;
        for (size_t c = 0; c < n; ++c) acc[c] += static_cast<uint32_t>(int32_t(xt[c]) * int32_t(wt[c]));
      }
      std::memcpy(dot, acc, n * sizeof(int32_t));
      gemm_epilogue_scalar(dot, kChunk, 1, n, ep, 0, c0, out + p * out_stride + c0, out_stride);
    }
  }
}

void run(size_t pixels, size_t taps, size_t channels, const uint8_t* const* in, size_t in_stride, bool in_signed,
         const void* packed, const GemmEpilogue& ep, uint8_t* out, size_t out_stride) {
  const int16_t* w = static_cast<const int16_t*>(packed);
  if (in_signed)
    run_typed<int8_t>(pixels, taps, channels, in, in_stride, w, ep, out, out_stride);
  else
    run_typed<uint8_t>(pixels, taps, channels, in, in_stride, w, ep, out, out_stride);
}

}  // namespace

void get_depthwise_kernel__scalar(DepthwiseKernel* k) {
  k->isa = "scalar";
  k->packed_size = packed_size;
  k->pack = pack;
  k->run = run;
}

}  // namespace qk
