// SPDX-License-Identifier: Apache-2.0
// The kernel path in use and its kernel table, chosen once per process (or forced).
#pragma once

#include "kernels/quantize_kernels.h"

namespace qk {

enum class Isa : int { kScalar, kAvx2, kAvxVnni, kAvx512Vnni, kNeon, kNeonDot, kInvalid };

const char* isa_name(Isa isa);
// Parses a QK_ISA name; returns false for an unknown name.
bool parse_isa(const char* name, Isa* isa);
// Built into this library and runnable on this CPU.
bool isa_supported(Isa isa);
// Best supported path.
Isa best_isa();

// Current path: QK_ISA if set (kInvalid if it names an unknown/unsupported path), else best.
Isa active_isa();
// Forces a path (throws kUnsupported if not supported). "auto" selects best_isa().
void set_active_isa(Isa isa);

// Kernel table of the active path; throws kUnsupported when QK_ISA was invalid.
const QuantizeKernels& quantize_kernels();
// Table for a specific supported path (tests and benchmarks compare paths with it).
const QuantizeKernels& quantize_kernels_for(Isa isa);

}  // namespace qk
