# SPDX-License-Identifier: Apache-2.0
# CTest "install" test: install this build into a scratch prefix and build/run a C consumer
# against it via the CMake package and pkg-config, shared and static (check_install.sh).
# Included from tests/CMakeLists.txt.

# Needs both libraries and the install rules. Under sanitizers the installed library needs the
# sanitizer runtimes in every consumer, which is not what this test is about.
if(NOT QK_INSTALL OR NOT TARGET quantkit OR NOT TARGET quantkit_static OR QK_SANITIZE)
  return()
endif()
if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  return()
endif()
include(GNUInstallDirs)
find_program(QK_BASH bash)
find_program(QK_READELF readelf)
find_package(PkgConfig QUIET)
if(NOT QK_BASH OR NOT QK_READELF OR NOT PKG_CONFIG_EXECUTABLE)
  message(STATUS "QuantKit: install test disabled (needs bash, readelf, pkg-config)")
  return()
endif()

add_test(NAME install_consumer
  COMMAND ${QK_BASH} ${CMAKE_CURRENT_LIST_DIR}/check_install.sh
    ${PROJECT_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR}/install-test ${CMAKE_CURRENT_LIST_DIR}
    ${CMAKE_INSTALL_LIBDIR} ${CMAKE_INSTALL_INCLUDEDIR})
set_tests_properties(install_consumer PROPERTIES
  LABELS install
  TIMEOUT 600
  ENVIRONMENT "CC=${CMAKE_C_COMPILER};CMAKE=${CMAKE_COMMAND};READELF=${QK_READELF};PKG_CONFIG=${PKG_CONFIG_EXECUTABLE};CMAKE_GENERATOR=${CMAKE_GENERATOR}")
