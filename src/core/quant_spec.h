// SPDX-License-Identifier: Apache-2.0
// QuantSpec: the target of a quantization (dtype, scheme, range, eps, axis, group, convention).
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace qk {

// Values mirror qk_qscheme.
enum class QScheme : int {
  kPerTensorAffine = 1,
  kPerTensorSymmetric = 2,
  kPerChannelAffine = 3,
  kPerChannelSymmetric = 4,
  kPerGroupSymmetric = 5,
  kPerChannelAffineFloatQParams = 6,
};

// Values mirror qk_convention.
enum class Convention : int { kPyTorch = 0, kOnnxRuntime = 1, kTflite = 2 };

bool is_valid_qscheme(int value);
bool is_valid_convention(int value);
bool is_symmetric(QScheme scheme);
bool is_per_tensor(QScheme scheme);
bool is_per_channel(QScheme scheme);  // includes the float-qparams scheme
const char* qscheme_name(QScheme scheme);

struct QuantSpec {
  DType dtype = DType::kU8;
  QScheme scheme = QScheme::kPerTensorAffine;
  bool has_custom_range = false;
  int32_t custom_min = 0;
  int32_t custom_max = 0;
  bool reduce_range = false;
  float eps = 1.1920928955078125e-07f;  // FLT_EPSILON, PyTorch's default
  int32_t axis = 0;
  int64_t group_size = 32;
  Convention convention = Convention::kPyTorch;

  // Validates the dtype/scheme pair.
  static QuantSpec make(DType dtype, QScheme scheme);
  void set_range(int32_t quant_min, int32_t quant_max);
  void set_eps(float value);
  void set_group_size(int64_t value);

  // The range used for qparams and clamping, after reduce_range and convention narrowing.
  // Throws kUnsupported for combinations a convention does not define.
  void effective_range(int32_t* quant_min, int32_t* quant_max) const;
  bool operator==(const QuantSpec& other) const;
};

}  // namespace qk
