// SPDX-License-Identifier: Apache-2.0
// NEON quantize / dequantize / cast kernels (placeholder: not built yet, scalar is used).
#include "kernels/quantize_kernels.h"

namespace qk {
bool have_built__neon() { return false; }
void fill_quantize_kernels__neon(QuantizeKernels*) {}
}  // namespace qk
