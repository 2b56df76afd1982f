// SPDX-License-Identifier: Apache-2.0
// What the running CPU (and OS, for register state) supports.
#pragma once

namespace qk {

struct CpuFeatures {
  bool avx2 = false;       // AVX2 + FMA + F16C, OS saves ymm
  bool avxvnni = false;    // AVX-VNNI (ymm vpdpbusd)
  bool avx512 = false;     // AVX-512 F/BW/DQ/VL, OS saves zmm
  bool avx512vnni = false; // AVX-512 VNNI
  bool neon = false;       // ARMv8 Advanced SIMD (always on aarch64)
  bool neondot = false;    // ARMv8.2 dot product (sdot/udot)
};

// Detected once (cpuid/xgetbv on x86, HWCAP on Linux/Android arm64) and cached.
const CpuFeatures& cpu_features();

}  // namespace qk
