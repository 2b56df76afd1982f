// SPDX-License-Identifier: Apache-2.0
// Picks the int8 GEMM family of the active ISA. A family is only referenced when its build file
// declared it (QK_HAVE_QGEMM_<ISA>, see qgemm_kernel.h note 4), so the tree links without it.
#include <cstdlib>

#include "core/error.h"
#include "dispatch/isa.h"
#include "kernels/gemm/qgemm_kernel.h"

namespace qk {
namespace {

constexpr int kIsaCount = static_cast<int>(Isa::kInvalid);

// Fills `k` with the family built for exactly `isa`; leaves it empty (isa == nullptr) if none.
void family_for(Isa isa, QGemmKernel* k) {
  *k = QGemmKernel();
  switch (isa) {
    case Isa::kScalar: get_qgemm_kernel__scalar(k); break;
#if defined(QK_HAVE_QGEMM_AVX2)
    case Isa::kAvx2: if (have_built_qgemm__avx2()) get_qgemm_kernel__avx2(k); break;
#endif
#if defined(QK_HAVE_QGEMM_AVXVNNI)
    case Isa::kAvxVnni: if (have_built_qgemm__avxvnni()) get_qgemm_kernel__avxvnni(k); break;
#endif
#if defined(QK_HAVE_QGEMM_AVX512VNNI)
    case Isa::kAvx512Vnni: if (have_built_qgemm__avx512vnni()) get_qgemm_kernel__avx512vnni(k); break;
#endif
#if defined(QK_HAVE_QGEMM_NEON)
    case Isa::kNeon: if (have_built_qgemm__neon()) get_qgemm_kernel__neon(k); break;
#endif
#if defined(QK_HAVE_QGEMM_NEONDOT)
    case Isa::kNeonDot: if (have_built_qgemm__neondot()) get_qgemm_kernel__neondot(k); break;
#endif
    default: break;
  }
}

// Next path to try when `isa` has no family: every CPU with the VNNI levels has AVX2, every
// dotprod CPU has NEON, and scalar runs everywhere.
Isa fallback(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni: case Isa::kAvxVnni: return Isa::kAvx2;
    case Isa::kNeonDot: return Isa::kNeon;
    default: return Isa::kScalar;
  }
}

struct Families {
  QGemmKernel by_isa[kIsaCount];
  Families() {
    for (int i = 0; i < kIsaCount; ++i) {
      Isa isa = static_cast<Isa>(i);
      // Never touch an ISA's code on a CPU without it; those slots are never selected anyway.
      if (!isa_supported(isa)) continue;
      for (;;) {
        family_for(isa, &by_isa[i]);
        if (by_isa[i].isa != nullptr || isa == Isa::kScalar) break;
        isa = fallback(isa);
      }
    }
  }
};

}  // namespace

const QGemmKernel& active_qgemm_kernel() {
  static const Families families;
  const Isa isa = active_isa();
  if (isa == Isa::kInvalid) {
    const char* env = std::getenv("QK_ISA");
    fail(Status::kUnsupported,
         "QK_ISA='%s' is not a kernel path this build and CPU support (known: scalar, avx2, avxvnni, "
         "avx512vnni, neon, neondot)",
         env ? env : "");
  }
  return families.by_isa[static_cast<int>(isa)];
}

}  // namespace qk
