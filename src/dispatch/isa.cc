// SPDX-License-Identifier: Apache-2.0
// Run-time dispatch: one place builds every kernel table (XNNPACK's config idea); call sites
// never branch on the ISA themselves.
#include "dispatch/isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "dispatch/cpu_features.h"

namespace qk {
namespace {

constexpr int kIsaCount = static_cast<int>(Isa::kInvalid);
const char* const kNames[kIsaCount + 1] = {"scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot", "invalid"};

struct Tables {
  QuantizeKernels quantize[kIsaCount];
  Tables() {
    for (int i = 0; i < kIsaCount; ++i) {
      const Isa isa = static_cast<Isa>(i);
      QuantizeKernels& t = quantize[i];
      fill_quantize_kernels__scalar(&t);
      // Never run an ISA's code (even its table filler) on a CPU without that ISA.
      if (!isa_supported(isa)) continue;
      // Element-wise kernels need no dot-product instructions: the VNNI/dotprod levels reuse
      // the AVX2 / AVX-512 / NEON element-wise code.
      switch (isa) {
        case Isa::kAvx2: case Isa::kAvxVnni: fill_quantize_kernels__avx2(&t); break;
        case Isa::kAvx512Vnni: fill_quantize_kernels__avx512(&t); break;
        case Isa::kNeon: case Isa::kNeonDot: fill_quantize_kernels__neon(&t); break;
        default: break;
      }
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

Isa initial_isa() {
  const char* env = std::getenv("QK_ISA");
  if (env == nullptr || *env == '\0' || std::strcmp(env, "auto") == 0) return best_isa();
  Isa isa;
  if (!parse_isa(env, &isa) || !isa_supported(isa)) return Isa::kInvalid;
  return isa;
}

std::atomic<int>& active_slot() {
  static std::atomic<int> slot{static_cast<int>(initial_isa())};
  return slot;
}

}  // namespace

const char* isa_name(Isa isa) {
  const int i = static_cast<int>(isa);
  return (i >= 0 && i <= kIsaCount) ? kNames[i] : "invalid";
}

bool parse_isa(const char* name, Isa* isa) {
  for (int i = 0; i < kIsaCount; ++i) {
    if (std::strcmp(name, kNames[i]) == 0) {
      *isa = static_cast<Isa>(i);
      return true;
    }
  }
  return false;
}

bool isa_supported(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2: return have_built__avx2() && f.avx2;
    case Isa::kAvxVnni: return have_built__avx2() && f.avxvnni;
    case Isa::kAvx512Vnni: return have_built__avx512() && f.avx512vnni;
    case Isa::kNeon: return have_built__neon() && f.neon;
    case Isa::kNeonDot: return have_built__neon() && f.neondot;
    default: return false;
  }
}

Isa best_isa() {
  const Isa order[] = {Isa::kAvx512Vnni, Isa::kAvxVnni, Isa::kAvx2, Isa::kNeonDot, Isa::kNeon};
  for (Isa isa : order)
    if (isa_supported(isa)) return isa;
  return Isa::kScalar;
}

Isa active_isa() { return static_cast<Isa>(active_slot().load(std::memory_order_acquire)); }

void set_active_isa(Isa isa) {
  QK_FAIL_IF(!isa_supported(isa), kUnsupported, "ISA '%s' is not built in or not supported by this CPU",
             isa_name(isa));
  active_slot().store(static_cast<int>(isa), std::memory_order_release);
}

const QuantizeKernels& quantize_kernels() {
  const Isa isa = active_isa();
  if (isa == Isa::kInvalid) {
    const char* env = std::getenv("QK_ISA");
    fail(Status::kUnsupported,
         "QK_ISA='%s' is not a kernel path this build and CPU support (known: scalar, avx2, avxvnni, "
         "avx512vnni, neon, neondot)",
         env ? env : "");
  }
  return tables().quantize[static_cast<int>(isa)];
}

const QuantizeKernels& quantize_kernels_for(Isa isa) {
  QK_FAIL_IF(!isa_supported(isa), kUnsupported, "ISA '%s' is not supported here", isa_name(isa));
  return tables().quantize[static_cast<int>(isa)];
}

}  // namespace qk
