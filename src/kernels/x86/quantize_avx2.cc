// SPDX-License-Identifier: Apache-2.0
// avx2 quantize / dequantize / cast kernels (placeholder: not built yet, scalar is used).
#include "kernels/quantize_kernels.h"

namespace qk {
bool have_built__avx2() { return false; }
void fill_quantize_kernels__avx2(QuantizeKernels*) {}
}  // namespace qk
