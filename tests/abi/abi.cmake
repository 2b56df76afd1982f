# SPDX-License-Identifier: Apache-2.0
# CTest "abi" test: the public header, the exports of libquantkit.so and the frozen list
# tests/abi/quantkit-<abi>.symbols must match (check_abi.sh). Included from tests/CMakeLists.txt.
if(NOT TARGET quantkit OR NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  return()
endif()
find_program(QK_BASH bash)
find_program(QK_PERL perl)
if(NOT QK_BASH OR NOT QK_PERL OR NOT CMAKE_NM OR NOT CMAKE_CXX_COMPILER)
  message(STATUS "QuantKit: abi test disabled (needs bash, perl, nm and a C++ compiler)")
  return()
endif()

add_test(NAME abi_symbols
  COMMAND ${QK_BASH} ${CMAKE_CURRENT_LIST_DIR}/check_abi.sh
    ${PROJECT_SOURCE_DIR}/include/quantkit/quantkit.h $<TARGET_FILE:quantkit>
    ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_CURRENT_BINARY_DIR}/abi-test)
set_tests_properties(abi_symbols PROPERTIES
  LABELS abi
  TIMEOUT 120
  ENVIRONMENT "NM=${CMAKE_NM};PERL=${QK_PERL};CC=${CMAKE_C_COMPILER};CXX=${CMAKE_CXX_COMPILER}")
