// SPDX-License-Identifier: Apache-2.0
// Quantized element-wise add (PyTorch's quantized::add / add_relu rule, float multipliers).
#pragma once

#include <cstddef>

#include "core/qparams.h"

namespace qk {

// out[i] = clamp(round_half_even(float(a[i] - a_zp) * (a_scale / out_scale)
//                                + float(b[i] - b_zp) * (b_scale / out_scale)) + out_zp)
// clamped to the output range and [quantize(output_min), quantize(output_max)]. All qparams
// per-tensor u8/s8 (each may differ). output may be a or b exactly (in place), but must not
// partially overlap either.
void qadd(const QParams& a_qp, const void* a, const QParams& b_qp, const void* b, const QParams& out_qp, size_t count,
          float output_min, float output_max, void* output);

}  // namespace qk
