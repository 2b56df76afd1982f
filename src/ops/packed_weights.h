// SPDX-License-Identifier: Apache-2.0
// Packed weights from the public description (s8 matrix + qparams + optional bias): the checks
// that make a weight tensor usable by the int8 operators, then the driver's packing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/dtype.h"
#include "core/qparams.h"
#include "ops/qgemm_driver.h"

namespace qk {

// Throws kInvalidArgument unless `qp` describes s8 weights with `n` output channels: per-tensor
// (any zero point) or per-channel with zero points 0 on axis 0 (or -2) holding n scales.
// `what` names the argument in messages. Shared with the conv operator.
void check_weight_qparams(const QParams& qp, size_t n, const char* what);

// Packs weights[n][k] (row stride ldw) with the active ISA's family. bias: nullptr, or n values
// of bias_dtype F32 (finite) or S32. bias_dtype must be F32 or S32 even without a bias.
std::shared_ptr<const PackedWeights> make_packed_weights(const int8_t* weights, size_t n, size_t k, size_t ldw,
                                                         const QParams& qp, const void* bias, DType bias_dtype);

}  // namespace qk
