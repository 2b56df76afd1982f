# SPDX-License-Identifier: Apache-2.0
# qk_add_cmocka_test(<name> SOURCES <files...> [LINK <libs...>] [ENVIRONMENT <VAR=value...>] [LABELS <labels...>])
# Builds one cmocka test program against the shared library and registers it with CTest
# (libssh's AddCMockaTest idea).
function(qk_add_cmocka_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK;ENVIRONMENT;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  find_package(Threads REQUIRED)
  target_link_libraries(${name} PRIVATE QuantKit::quantkit PkgConfig::CMOCKA Threads::Threads m ${ARG_LINK})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
  target_compile_definitions(${name} PRIVATE QK_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests")
  add_test(NAME ${name} COMMAND ${name})
  if(ARG_ENVIRONMENT)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ARG_ENVIRONMENT}")
  endif()
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()
