# SPDX-License-Identifier: Apache-2.0
# cmake -DSRC=<project> -DBUILD=<dir> -DTOOLCHAIN=<file> -DJOBS=<n> -P cross_core.cmake
#
# Builds only libquantkit.so.1 for another architecture (the jar's linux-aarch64 folder): a
# nested build of this project with the cross toolchain file, no tests, tools or bindings.
# Configured once; later runs are incremental (make decides what changed).
if(NOT EXISTS ${BUILD}/CMakeCache.txt)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S ${SRC} -B ${BUILD} -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN} -DCMAKE_BUILD_TYPE=Release
            -DQK_BUILD_TESTS=OFF -DQK_BUILD_EXAMPLES=OFF -DQK_BUILD_BENCHMARKS=OFF -DQK_BUILD_CLI=OFF
            -DQK_BUILD_BINDINGS=OFF -DQK_BUILD_STATIC=OFF -DQK_INSTALL=OFF
    OUTPUT_FILE ${BUILD}.configure.log ERROR_FILE ${BUILD}.configure.log
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    file(READ ${BUILD}.configure.log log)
    file(REMOVE ${BUILD}/CMakeCache.txt)
    message(FATAL_ERROR "aarch64 core: configure failed:\n${log}")
  endif()
endif()
# The parent make's jobserver descriptors are not valid in the nested make.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env --unset=MAKEFLAGS --unset=MFLAGS --unset=MAKELEVEL
          ${CMAKE_COMMAND} --build ${BUILD} --target quantkit -j ${JOBS}
  OUTPUT_FILE ${BUILD}.build.log ERROR_FILE ${BUILD}.build.log
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(READ ${BUILD}.build.log log)
  message(FATAL_ERROR "aarch64 core: build failed:\n${log}")
endif()
