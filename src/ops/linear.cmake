# SPDX-License-Identifier: Apache-2.0
# Linear operators (include()d by src/CMakeLists.txt): the GEMM driver, packed weights, quantized
# and dynamic linear, the thread pool they run on, and their C shims.
target_sources(quantkit_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/qgemm_driver.cc
  ${CMAKE_CURRENT_LIST_DIR}/packed_weights.cc
  ${CMAKE_CURRENT_LIST_DIR}/qlinear.cc
  ${CMAKE_CURRENT_LIST_DIR}/dynamic_linear.cc
  ${CMAKE_CURRENT_LIST_DIR}/../core/threadpool.cc
  ${CMAKE_CURRENT_LIST_DIR}/../capi/capi_linear.cc
)
