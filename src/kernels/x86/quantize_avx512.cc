// SPDX-License-Identifier: Apache-2.0
// avx512 quantize / dequantize / cast kernels (placeholder: not built yet, scalar is used).
#include "kernels/quantize_kernels.h"

namespace qk {
bool have_built__avx512() { return false; }
void fill_quantize_kernels__avx512(QuantizeKernels*) {}
}  // namespace qk
