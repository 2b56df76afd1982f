// SPDX-License-Identifier: Apache-2.0
// for_each_scale_run(): the element-to-scale mapping of SYMMETRIC and AFFINE* tensors. It is the
// mapping qk_quantize uses for per-channel and per-group qparams, so it delegates to that one
// (core/quantize.h) rather than spelling it out a second time.
#pragma once

#include "core/qparams.h"
#include "core/quantize.h"
#include "format/codec.h"

namespace qk {
namespace qkw {

template <typename Fn>
void for_each_scale_run(const TensorDesc& d, Fn&& fn) {
  QParams layout;  // only scheme, axis and group_size are read
  layout.scheme = d.axis < 0 ? QScheme::kPerTensorAffine
                             : (d.group_size == 0 ? QScheme::kPerChannelSymmetric : QScheme::kPerGroupSymmetric);
  layout.axis = d.axis < 0 ? 0 : d.axis;
  layout.group_size = d.group_size == 0 ? 1 : d.group_size;
  for_each_param_run(layout, d.shape, std::forward<Fn>(fn));
}

}  // namespace qkw
}  // namespace qk
