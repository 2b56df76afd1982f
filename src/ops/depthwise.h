// SPDX-License-Identifier: Apache-2.0
// Depthwise convolution (groups == in_channels, out_channels = in_channels * multiplier) as a
// direct NHWC kernel, and the contract its per-ISA kernels implement. The scalar kernel
// (kernels/reference/depthwise_scalar.cc) is the specification; AVX2 and NEON match it bit for
// bit. Results equal the GEMM path's (same integer accumulator, same epilogue), so a depthwise
// conv is indistinguishable from the same conv run as one GEMM per group.
//
// Arithmetic. Inputs are read as their dtype's values (u8, or s8 sign-extended), weights as
// w' = w - w_zp (|w'| <= 255, int16). For output channel c:
//   dot[c] = sum_t x_t[c] * w'_t[c]             (int32, wrapping; padded taps read the zero point)
//   acc[c] = dot[c] + col_offset[c]             (col_offset = bias_q - in_zp * sum_t w'_t, mod 2^32)
//          = sum_t (x_t - in_zp)(w_t - w_zp) + bias_q[c]
// then the quantized GemmEpilogue rule (kernels/gemm/qgemm_kernel.h), whose scales, multipliers
// and clamps come from the GEMM's output stage (ops/qlinear.h) for the same weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/qparams.h"
#include "kernels/gemm/qgemm_kernel.h"

namespace qk {

class ThreadPool;
struct OutputStage;

// ---- kernel contract ------------------------------------------------------------------------

struct DepthwiseKernel {
  const char* isa = nullptr;  // "scalar", "avx2", "neon"
  // Bytes of the packed weights of `channels` channels with `taps` taps each.
  size_t (*packed_size)(size_t taps, size_t channels) = nullptr;
  // Packs w'[c][t] (int16, channel-major as OIHW stores it) into the kernel's layout.
  void (*pack)(const int16_t* w, size_t taps, size_t channels, void* packed) = nullptr;
  // Computes `pixels` output pixels of `channels` channels. Tap t of pixel p reads `channels`
  // input bytes at in[t] + p * in_stride (s8 when in_signed, else u8). The epilogue `ep` is of
  // kind kQuantized with row_offset == nullptr and col_offset as above; output pixel p is written
  // at out + p * out_stride (bytes). Packed weights are read-only: one kernel may run on many
  // threads at once.
  void (*run)(size_t pixels, size_t taps, size_t channels, const uint8_t* const* in, size_t in_stride, bool in_signed,
              const void* packed, const GemmEpilogue& ep, uint8_t* out, size_t out_stride) = nullptr;
};

void get_depthwise_kernel__scalar(DepthwiseKernel* k);
// Each ISA file always compiles; without its flags it is a stub whose have_built_* returns false.
bool have_built_depthwise__avx2();
void get_depthwise_kernel__avx2(DepthwiseKernel* k);
bool have_built_depthwise__neon();
void get_depthwise_kernel__neon(DepthwiseKernel* k);

// The kernel of the active ISA: avx2 for every x86 level (the VNNI levels run the AVX2 kernel),
// neon for both ARM levels, scalar otherwise or when a family is not built. Throws kUnsupported
// when QK_ISA is invalid.
const DepthwiseKernel& active_depthwise_kernel();

// ---- operator -------------------------------------------------------------------------------

struct DepthwiseGeometry {
  int64_t channels = 0;    // input channels (= groups)
  int64_t multiplier = 1;  // output channels per input channel
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, pad_top = 0, pad_left = 0, dh = 1, dw = 1;
  int64_t out_channels() const { return channels * multiplier; }
};

class DepthwiseConv {
 public:
  // weights: OIHW with I == 1, i.e. [channels * multiplier][kh][kw]; weight_qp already validated
  // (s8, per-tensor or per-channel symmetric with out_channels scales); bias: nullptr or
  // out_channels finite floats. The kernel is that of the ISA active now.
  DepthwiseConv(const DepthwiseGeometry& g, const int8_t* weights, const QParams& weight_qp, const float* bias,
                const QParams& input_qp, const QParams& output_qp, float output_min, float output_max,
                bool fixed_point);
  ~DepthwiseConv();

  const char* isa() const { return kernel_.isa; }

  // NHWC in, NHWC out; sizes and buffers validated by the caller.
  void run(int64_t batch, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, const uint8_t* input,
           uint8_t* output, ThreadPool* pool) const;

 private:
  DepthwiseGeometry g_;
  DepthwiseKernel kernel_;
  std::vector<uint8_t> packed_;
  std::unique_ptr<OutputStage> stage_;
  std::vector<int32_t> col_offset_;  // bias_q - in_zp * sum_t w'_t
  GemmEpilogue ep_;                  // the stage's, with col_offset_
  bool in_signed_ = false;
  uint8_t pad_byte_ = 0;  // the input zero point: what padded taps read
};

}  // namespace qk
