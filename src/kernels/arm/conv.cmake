# SPDX-License-Identifier: Apache-2.0
# AArch64 depthwise kernel (included from src/CMakeLists.txt after quantkit_arm is defined). The
# file always compiles; without QK_BUILD_NEON on aarch64 (defined on quantkit_arm by
# src/CMakeLists.txt when QK_ENABLE_SIMD) it is a stub whose have_built_depthwise__neon() returns
# false. Base NEON needs no extra flags on aarch64.
get_target_property(_qk_arm_conv_core_sources quantkit_core SOURCES)
list(FILTER _qk_arm_conv_core_sources INCLUDE REGEX "ops/depthwise\\.cc$")
if(NOT _qk_arm_conv_core_sources)
  return()
endif()

target_sources(quantkit_arm PRIVATE ${CMAKE_CURRENT_LIST_DIR}/depthwise_neon.cc)
