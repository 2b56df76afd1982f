# SPDX-License-Identifier: Apache-2.0
# int8 GEMM core (include()d by src/CMakeLists.txt): the scalar family (the specification and
# fallback), the scalar epilogue and the per-ISA family dispatcher. SIMD families live in
# kernels/x86 and kernels/arm and announce themselves with QK_HAVE_QGEMM_<ISA> (qgemm_kernel.h).
target_sources(quantkit_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/qgemm_scalar.cc
  ${CMAKE_CURRENT_LIST_DIR}/qgemm_epilogue.cc
  ${CMAKE_CURRENT_LIST_DIR}/qgemm_dispatch.cc
)
