# SPDX-License-Identifier: Apache-2.0
# bench_qkw: the .qkw weight file on the digits CNN (sizes, SQNR, accuracy, decode/verify/open).
add_executable(bench_qkw bench_qkw.c ${PROJECT_SOURCE_DIR}/examples/c/tensor_bundle.c)
target_include_directories(bench_qkw PRIVATE ${PROJECT_SOURCE_DIR}/examples/c)
target_compile_definitions(bench_qkw PRIVATE QK_BENCH_DATA_DIR="${PROJECT_SOURCE_DIR}/examples/data")
target_link_libraries(bench_qkw PRIVATE QuantKit::quantkit qk_xxhash m)
