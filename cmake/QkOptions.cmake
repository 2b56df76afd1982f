# SPDX-License-Identifier: Apache-2.0
# Build options. Defaults follow whether QuantKit is the top-level project (fmt's rule).
option(QK_BUILD_SHARED "Build libquantkit.so" ON)
option(QK_BUILD_STATIC "Build libquantkit.a" ON)
option(QK_BUILD_TESTS "Build the cmocka tests" ${QK_TOP_LEVEL})
option(QK_BUILD_EXAMPLES "Build the examples" ${QK_TOP_LEVEL})
option(QK_BUILD_BENCHMARKS "Build the benchmark programs (tests/bench)" ${QK_TOP_LEVEL})
option(QK_BUILD_CLI "Build the qk command-line tool (needs libzip-dev, nlohmann-json3-dev)" ON)
option(QK_INSTALL "Generate the install target" ${QK_TOP_LEVEL})
option(QK_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(QK_WERROR "Treat warnings as errors" OFF)
option(QK_ENABLE_SIMD "Compile the SIMD kernels (AVX2/AVX-512 on x86-64, NEON on aarch64)" ON)

if(NOT QK_BUILD_SHARED AND NOT QK_BUILD_STATIC)
  message(FATAL_ERROR "QuantKit: enable at least one of QK_BUILD_SHARED / QK_BUILD_STATIC")
endif()
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()
