# SPDX-License-Identifier: Apache-2.0
# Model graphs (qk_model_*): build errors, fusion equivalence, convert == step-by-step kernel
# composition (bit-exact), save/load, threads, hostile graphs, the digits CNN end to end.
if(NOT EXISTS ${PROJECT_SOURCE_DIR}/src/model/sources.cmake)
  return()
endif()
qk_add_cmocka_test(test_model
  SOURCES model/test_model.c ${PROJECT_SOURCE_DIR}/examples/c/digits_model.c ${PROJECT_SOURCE_DIR}/examples/c/tensor_bundle.c
  LABELS unit)
target_include_directories(test_model PRIVATE ${PROJECT_SOURCE_DIR}/examples/c)
target_compile_definitions(test_model PRIVATE QK_EXAMPLES_DATA_DIR="${PROJECT_SOURCE_DIR}/examples/data")
qk_add_cmocka_test(test_model_layers SOURCES model/test_model_layers.c LABELS unit)
# the expected values repeat the library's f32 expressions: no FMA contraction on either side
target_compile_options(test_model_layers PRIVATE -ffp-contract=off)
# Loading: the issue-17 hostile converted-layer reproducers (leak-checked: `hardening` runs under
# ASan/LSan in `make test`) and qk_model_load_memory == qk_model_load.
qk_add_cmocka_test(test_model_load
  SOURCES model/test_model_load.c ${PROJECT_SOURCE_DIR}/examples/c/digits_model.c ${PROJECT_SOURCE_DIR}/examples/c/tensor_bundle.c
  LABELS unit hardening)
target_include_directories(test_model_load PRIVATE ${PROJECT_SOURCE_DIR}/examples/c)
target_compile_definitions(test_model_load PRIVATE QK_EXAMPLES_DATA_DIR="${PROJECT_SOURCE_DIR}/examples/data"
                                                  QK_MODEL_V1_DIR="${PROJECT_SOURCE_DIR}/tests/data/model_v1")
