# SPDX-License-Identifier: Apache-2.0
# x86 depthwise kernel (included from src/CMakeLists.txt after quantkit_x86 is defined). The file
# always compiles; without its flags (QK_ENABLE_SIMD off, or not x86-64) it is a stub whose
# have_built_depthwise__avx2() returns false. It needs the depthwise driver in quantkit_core
# (ops/conv.cmake) for gemm_epilogue_scalar and the kernel contract.
get_target_property(_qk_x86_conv_core_sources quantkit_core SOURCES)
list(FILTER _qk_x86_conv_core_sources INCLUDE REGEX "ops/depthwise\\.cc$")
if(NOT _qk_x86_conv_core_sources)
  return()
endif()

target_sources(quantkit_x86 PRIVATE ${CMAKE_CURRENT_LIST_DIR}/depthwise_avx2.cc)
if(QK_ENABLE_SIMD AND QK_X86_64)
  # QK_BUILD_X86_SIMD is already defined on quantkit_x86 (src/CMakeLists.txt).
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/depthwise_avx2.cc PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
endif()
