# SPDX-License-Identifier: Apache-2.0
# Graph v2 tests: one file per op under ops/ (globbed: adding an op's test needs no edit here),
# plus the graph-level tests (builder, executor, passes, blocks, save/load) in this folder.
if(NOT EXISTS ${PROJECT_SOURCE_DIR}/src/graph/sources.cmake)
  return()
endif()
file(GLOB _qk_graph_op_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/ops/test_*.c)
file(GLOB _qk_graph_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_*.c)
foreach(src IN LISTS _qk_graph_op_tests _qk_graph_tests)
  get_filename_component(name ${src} NAME_WE)
  qk_add_cmocka_test(graph_${name} SOURCES ${src} LABELS "unit;graph")
  target_include_directories(graph_${name} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  # references written as plain f32 expressions: no FMA contraction on either side
  target_compile_options(graph_${name} PRIVATE -ffp-contract=off)
  # aarch64 GCC 12 has an internal compiler error vectorizing the fmax reductions these references
  # use; the tests gain nothing from vectorization.
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    target_compile_options(graph_${name} PRIVATE -fno-tree-vectorize)
  endif()
endforeach()
# The legacy-parity test builds the digits CNN from the examples' weight bundle with both APIs.
if(TARGET graph_test_legacy_parity)
  target_sources(graph_test_legacy_parity PRIVATE ${PROJECT_SOURCE_DIR}/examples/c/digits_model.c
                                                  ${PROJECT_SOURCE_DIR}/examples/c/tensor_bundle.c)
  target_include_directories(graph_test_legacy_parity PRIVATE ${PROJECT_SOURCE_DIR}/examples/c)
  target_compile_definitions(graph_test_legacy_parity PRIVATE QK_EXAMPLES_DATA_DIR="${PROJECT_SOURCE_DIR}/examples/data")
endif()
