# SPDX-License-Identifier: Apache-2.0
# AArch64 int8 GEMM families (include()d by src/CMakeLists.txt): "neon" (ARMv8.0) and "neondot"
# (ARMv8.2 dot product). Both files always compile; off aarch64 or without QK_ENABLE_SIMD they
# are stubs whose have_built_qgemm__<isa>() is false. quantkit_arm already carries
# QK_BUILD_NEON=1 when SIMD is on for aarch64.
# The families call gemm_epilogue_scalar for epilogue tails, so they join the library only with
# the scalar family (the shared library links with --no-undefined).
get_target_property(_qk_arm_core_sources quantkit_core SOURCES)
list(FILTER _qk_arm_core_sources INCLUDE REGEX "qgemm_epilogue\\.cc$")
if(NOT _qk_arm_core_sources)
  message(STATUS "QuantKit: NEON GEMM kernels off until kernels/gemm/qgemm_epilogue.cc is in quantkit_core")
  return()
endif()

target_sources(quantkit_arm PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/qgemm_neon.cc
  ${CMAKE_CURRENT_LIST_DIR}/qgemm_neondot.cc
)
if(QK_ENABLE_SIMD AND QK_AARCH64)
  # Only this file may use SDOT: the dispatcher runs it only where HWCAP reports asimddp. The
  # base family keeps the default ARMv8.0 target so it runs on every aarch64 CPU.
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/qgemm_neondot.cc PROPERTIES
    COMPILE_OPTIONS "-march=armv8.2-a+dotprod")
endif()
# The dispatcher (kernels/gemm/qgemm_dispatch.cc) references a family only when its file is in
# the build (qgemm_kernel.h note 4); whether it has real code is have_built_qgemm__<isa>()'s answer.
target_compile_definitions(quantkit_core PRIVATE QK_HAVE_QGEMM_NEON=1 QK_HAVE_QGEMM_NEONDOT=1)
