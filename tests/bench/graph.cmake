# SPDX-License-Identifier: Apache-2.0
# bench_graph: the digits CNN on the layer engine (v1 files) vs graph v2, and the executor's per-node cost.
add_executable(bench_graph bench_graph.c ${PROJECT_SOURCE_DIR}/examples/c/tensor_bundle.c
                           ${PROJECT_SOURCE_DIR}/examples/c/digits_model.c)
target_include_directories(bench_graph PRIVATE ${PROJECT_SOURCE_DIR}/examples/c)
target_compile_definitions(bench_graph PRIVATE QK_BENCH_DATA_DIR="${PROJECT_SOURCE_DIR}/examples/data"
                                              QK_BENCH_V1_DIR="${PROJECT_SOURCE_DIR}/tests/data/model_v1")
target_link_libraries(bench_graph PRIVATE QuantKit::quantkit m)
