# SPDX-License-Identifier: Apache-2.0
# The ONNX importer against hostile and malformed files (C, cmocka): the models are built inside
# the test with a small protobuf writer, so there are no binary fixtures. Labels unit;onnx: `make
# test` also runs it under ASan+UBSan. Cases named pending_* (fuzz findings waiting for their
# fix) are skipped unless QK_ONNX_TEST_PENDING=1.
if(NOT EXISTS ${PROJECT_SOURCE_DIR}/src/onnx/sources.cmake)
  return()
endif()
qk_add_cmocka_test(test_onnx_hostile SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_onnx_hostile.c LABELS "unit;onnx")
