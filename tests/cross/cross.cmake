# SPDX-License-Identifier: Apache-2.0
# aarch64 coverage (include()d by tests/CMakeLists.txt).
#
# In an aarch64 build (native, or cross with cmake/toolchains/aarch64-linux-gnu.cmake):
#   neon_qgemm_check  the NEON GEMM families of the library's own objects (built with
#                     src/kernels/arm/gemm.cmake's flags) against the scalar family, every
#                     partial tile, k 1..130 and the deepest k, every epilogue mode.
# In a host build (x86-64) with g++-aarch64-linux-gnu and qemu-user installed:
#   cross_aarch64_ctest  configures, builds and tests the whole library for aarch64 under qemu
#                        (tests/cross/ctest-aarch64.sh), in <build>/cross-aarch64-build.

if(QK_AARCH64)
  if(NOT TARGET quantkit_static)  # the kernels' symbols are internal: only the archive has them
    message(STATUS "QuantKit: neon_qgemm_check off (needs QK_BUILD_STATIC)")
    return()
  endif()
  add_executable(neon_qgemm_check ${CMAKE_CURRENT_LIST_DIR}/neon_qgemm_check.cc)
  target_include_directories(neon_qgemm_check PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(neon_qgemm_check PRIVATE quantkit_static)
  set(_qk_neon_check_args)
  if(CMAKE_CROSSCOMPILING AND CMAKE_CROSSCOMPILING_EMULATOR MATCHES "-cpu;max")
    # The emulated CPU is known to have the dot product: a neondot family that silently built as
    # a stub (the dispatcher would quietly fall back to neon) is then a failure, not a skip.
    set(_qk_neon_check_args --require-dotprod)
  endif()
  add_test(NAME neon_qgemm_check COMMAND neon_qgemm_check ${_qk_neon_check_args})
  set_tests_properties(neon_qgemm_check PROPERTIES LABELS "unit;isa;gemm" TIMEOUT 600)
  return()
endif()

if(CMAKE_CROSSCOMPILING OR NOT QK_X86_64)
  return()
endif()
find_program(QK_AARCH64_CC aarch64-linux-gnu-gcc)
find_program(QK_AARCH64_CXX aarch64-linux-gnu-g++)
find_program(QK_QEMU_AARCH64 qemu-aarch64)
if(NOT QK_AARCH64_CC OR NOT QK_AARCH64_CXX OR NOT QK_QEMU_AARCH64)
  message(STATUS "QuantKit: cross_aarch64_ctest off (scripts/install-deps.sh cross-arm64)")
  return()
endif()
cmake_host_system_information(RESULT _qk_cores QUERY NUMBER_OF_LOGICAL_CORES)
if(_qk_cores LESS 1)
  set(_qk_cores 2)
endif()
add_test(NAME cross_aarch64_ctest
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/ctest-aarch64.sh ${CMAKE_BINARY_DIR}/cross-aarch64-build ${_qk_cores})
# The nested build uses this build's cmake, ctest, generator and warning policy.
set(_qk_cross_env CMAKE=${CMAKE_COMMAND} CTEST=${CMAKE_CTEST_COMMAND} "QK_CROSS_GENERATOR=${CMAKE_GENERATOR}"
    QK_CROSS_CMAKE_ARGS=-DQK_WERROR=${QK_WERROR})
set_tests_properties(cross_aarch64_ctest PROPERTIES
  ENVIRONMENT "${_qk_cross_env}"
  # It builds with every core: a parallel ctest then runs nothing else beside it.
  PROCESSORS ${_qk_cores}
  LABELS "cross" TIMEOUT 3600)
