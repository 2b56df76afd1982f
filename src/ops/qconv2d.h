// SPDX-License-Identifier: Apache-2.0
// Quantized 2-D convolution on NHWC tensors. Dense and grouped convolutions run as GEMMs on the
// int8 driver (one per group): the input is unfolded (im2col) into rows of kh*kw*(in/groups)
// bytes, a row block at a time, against weights repacked from OIHW to [out][kh][kw][in/groups];
// 1x1 stride-1 unpadded convolutions use the input itself as the GEMM's A. Depthwise convolutions
// (groups == in_channels) run the direct kernel of ops/depthwise.h. Every path gives the same
// bytes: the operator contract of quantkit.h with the output stage of ops/qlinear.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/qparams.h"
#include "ops/qgemm_driver.h"

namespace qk {

class ThreadPool;
class DepthwiseConv;
struct OutputStage;

struct ConvGeometry {
  int64_t out_c = 0, in_c = 0, groups = 1;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0, dh = 1, dw = 1;

  int64_t cin_g() const { return in_c / groups; }
  int64_t cout_g() const { return out_c / groups; }
  bool depthwise() const { return groups == in_c; }
  // Output height/width (floor mode). Throws kInvalidArgument if in_h or in_w is < 1 or the
  // (dilated) kernel is larger than the padded input.
  void output_size(int64_t in_h, int64_t in_w, int64_t* out_h, int64_t* out_w) const;
};

// Validates qk_qconv2d_create's geometry arguments (dims >= 1, stride/dilation >= 1, padding >= 0,
// all <= 2^31; groups divides out_channels; kh*kw*in/groups <= kMaxGemmDepth). Throws
// kInvalidArgument naming the argument.
ConvGeometry conv_geometry(const int64_t weight_shape[4], const int64_t stride[2], const int64_t padding[4],
                           const int64_t dilation[2], int64_t groups);

class QConv2d {
 public:
  // weights: OIHW s8 (geometry from conv_geometry); weight_qp: s8 per-tensor or per-channel
  // symmetric on axis 0 with out_c scales; bias: nullptr or out_c finite floats. Packs for the
  // ISA active now. Throws qk::Error.
  QConv2d(const int8_t* weights, const ConvGeometry& g, const QParams& weight_qp, const float* bias,
          const QParams& input_qp, const QParams& output_qp, float output_min, float output_max, bool fixed_point);
  ~QConv2d();

  const ConvGeometry& geometry() const { return g_; }

  // Validates sizes, byte lengths, pointers and overlap, then computes; output is untouched on
  // error. input: {batch, in_h, in_w, in_c} NHWC; output: {batch, out_h, out_w, out_c}.
  void run(int64_t batch, int64_t in_h, int64_t in_w, const void* input, size_t input_bytes, void* output,
           size_t output_bytes, ThreadPool* pool) const;

 private:
  struct Group {
    std::shared_ptr<const PackedWeights> weights;
    std::unique_ptr<OutputStage> stage;
  };

  void run_gemm(int64_t batch, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, const uint8_t* input,
                uint8_t* output, ThreadPool* pool) const;

  ConvGeometry g_;
  bool a_signed_ = false;
  int32_t a_zero_point_ = 0;
  bool direct_1x1_ = false;  // 1x1, stride 1, no padding: A is the input itself
  std::vector<Group> groups_;
  std::unique_ptr<DepthwiseConv> depthwise_;
};

}  // namespace qk
