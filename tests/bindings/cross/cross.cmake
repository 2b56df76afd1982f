# SPDX-License-Identifier: Apache-2.0
# Cross-language agreement (include()d at the end of bindings/python/python.cmake, so only when
# the Python binding is built). The Python binding writes the fixture once; every language's
# runner loads the same files and must reproduce Python's output bit for bit.
#
#   bindings_cross_write          write_model.py DIR: model.qkw, input.f32, input.shape,
#                                 expected.f32 in DIR = <build>/tests/bindings/cross (fixture
#                                 qk_cross_model; the Java and C# runners require it too)
#   bindings_cross_c              cross_run DIR: the C API alone reproduces expected.f32
#   bindings_cross_deterministic  a second Python run writes byte-identical files
if(NOT QK_BUILD_TESTS)
  return()
endif()
set(QK_CROSS_DIR ${CMAKE_BINARY_DIR}/tests/bindings/cross)
set(_qk_cross_src ${PROJECT_SOURCE_DIR}/tests/bindings/cross)

add_executable(qk_cross_run ${_qk_cross_src}/cross_run.c)
target_link_libraries(qk_cross_run PRIVATE QuantKit::quantkit)

add_test(NAME bindings_cross_write
  COMMAND ${Python3_EXECUTABLE} ${_qk_cross_src}/write_model.py ${QK_CROSS_DIR})
add_test(NAME bindings_cross_c COMMAND qk_cross_run ${QK_CROSS_DIR})
add_test(NAME bindings_cross_deterministic
  COMMAND ${Python3_EXECUTABLE} ${_qk_cross_src}/write_model.py --check ${QK_CROSS_DIR})
set_tests_properties(bindings_cross_write PROPERTIES FIXTURES_SETUP qk_cross_model)
set_tests_properties(bindings_cross_c bindings_cross_deterministic PROPERTIES FIXTURES_REQUIRED qk_cross_model)
set_tests_properties(bindings_cross_write bindings_cross_c bindings_cross_deterministic PROPERTIES
  ENVIRONMENT "PYTHONPATH=${_qk_py_root};PYTHONDONTWRITEBYTECODE=1"
  LABELS "bindings;cross" TIMEOUT 300)
