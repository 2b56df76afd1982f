# SPDX-License-Identifier: Apache-2.0
# Graph v2 (include()d by src/CMakeLists.txt): values, nodes, the op registry, the executor,
# quantization and its passes, and the C shim. Op files are globbed (CONFIGURE_DEPENDS) so that
# adding an op is its file, its registry row and its test, with no list to edit here.
file(GLOB _qk_graph_op_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/ops/*.cc)
file(GLOB _qk_graph_pass_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/passes/*.cc)
target_sources(quantkit_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/tensor.cc
  ${CMAKE_CURRENT_LIST_DIR}/attributes.cc
  ${CMAKE_CURRENT_LIST_DIR}/graph.cc
  ${CMAKE_CURRENT_LIST_DIR}/registry.cc
  ${CMAKE_CURRENT_LIST_DIR}/op_helpers.cc
  ${CMAKE_CURRENT_LIST_DIR}/executor.cc
  ${CMAKE_CURRENT_LIST_DIR}/quantize.cc
  ${CMAKE_CURRENT_LIST_DIR}/serialize.cc
  ${CMAKE_CURRENT_LIST_DIR}/report.cc
  ${_qk_graph_op_sources}
  ${_qk_graph_pass_sources}
  ${CMAKE_CURRENT_LIST_DIR}/../capi/capi_graph.cc
  ${CMAKE_CURRENT_LIST_DIR}/../capi/capi_model_layers.cc
)
