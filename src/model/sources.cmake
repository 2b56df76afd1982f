# SPDX-License-Identifier: Apache-2.0
# Model graphs (include()d by src/CMakeLists.txt): build, fuse, float run, calibrate, convert to
# the int8 operators, dynamic quantization, .qkw save/load, and the C shim. Built on the conv
# operators (ops/conv.cmake) and the weight file (format/sources.cmake).
get_target_property(_qk_model_core_sources quantkit_core SOURCES)
list(FILTER _qk_model_core_sources INCLUDE REGEX "(ops/qconv2d|format/reader)\\.cc$")
list(LENGTH _qk_model_core_sources _qk_model_n)
if(NOT _qk_model_n EQUAL 2)
  message(STATUS "QuantKit: model graphs off until the conv operators and the weight file are in quantkit_core")
  return()
endif()
target_sources(quantkit_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/model.cc
  ${CMAKE_CURRENT_LIST_DIR}/model_io.cc
  ${CMAKE_CURRENT_LIST_DIR}/model_observers.cc
  ${CMAKE_CURRENT_LIST_DIR}/../capi/capi_model.cc
)
