# SPDX-License-Identifier: Apache-2.0
# Convolution, depthwise, pooling, add and layout operators (include()d by src/CMakeLists.txt),
# with the scalar depthwise kernel (the specification) and their C shims. They are built on the
# linear operators' output stage and the GEMM driver (ops/linear.cmake), so they join the library
# only together with those (the shared library links with --no-undefined).
get_target_property(_qk_conv_core_sources quantkit_core SOURCES)
list(FILTER _qk_conv_core_sources INCLUDE REGEX "ops/qlinear\\.cc$")
if(NOT _qk_conv_core_sources)
  message(STATUS "QuantKit: conv operators off until ops/qlinear.cc is in quantkit_core")
  return()
endif()

target_sources(quantkit_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/qconv2d.cc
  ${CMAKE_CURRENT_LIST_DIR}/depthwise.cc
  ${CMAKE_CURRENT_LIST_DIR}/pooling.cc
  ${CMAKE_CURRENT_LIST_DIR}/qadd.cc
  ${CMAKE_CURRENT_LIST_DIR}/layout.cc
  ${CMAKE_CURRENT_LIST_DIR}/../kernels/reference/depthwise_scalar.cc
  ${CMAKE_CURRENT_LIST_DIR}/../capi/capi_conv.cc
)
