# SPDX-License-Identifier: Apache-2.0
# Kernel-path tests (included by tests/CMakeLists.txt): every kernel path against the scalar spec
# and a naive oracle, once with each supported path selected by qk_set_isa() and once per path
# forced through QK_ISA; plus the NEON kernels under qemu-aarch64 when the tools are installed.
qk_add_cmocka_test(test_kernels_isa SOURCES unit/test_kernels_isa.c LABELS unit isa)

# Same program, path chosen by the environment. A known path this CPU lacks (and "bogus") must
# make qk_isa_name() "invalid" and dispatched calls fail; the comparisons then skip.
foreach(isa IN ITEMS scalar avx2 avxvnni avx512vnni neon neondot)
  add_test(NAME test_kernels_isa_env_${isa} COMMAND test_kernels_isa)
  set_tests_properties(test_kernels_isa_env_${isa} PROPERTIES ENVIRONMENT "QK_ISA=${isa}" LABELS "isa;per_isa")
endforeach()
add_test(NAME test_kernels_isa_env_bogus COMMAND test_kernels_isa)
set_tests_properties(test_kernels_isa_env_bogus PROPERTIES ENVIRONMENT "QK_ISA=bogus" LABELS "isa")

# NEON vs scalar, cross-compiled and run under qemu (tests/cross/run-aarch64.sh), registered
# only when both tools are installed: apt-get install g++-aarch64-linux-gnu qemu-user.
find_program(QK_AARCH64_CXX aarch64-linux-gnu-g++)
find_program(QK_QEMU_AARCH64 qemu-aarch64)
if(NOT CMAKE_CROSSCOMPILING AND QK_AARCH64_CXX AND QK_QEMU_AARCH64)
  add_test(NAME cross_aarch64_neon
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/cross/run-aarch64.sh ${CMAKE_CURRENT_BINARY_DIR}/cross-aarch64)
  set_tests_properties(cross_aarch64_neon PROPERTIES
    ENVIRONMENT "QK_AARCH64_CXX=${QK_AARCH64_CXX};QK_QEMU_AARCH64=${QK_QEMU_AARCH64}"
    LABELS "isa;cross" TIMEOUT 600)
else()
  message(STATUS "QuantKit: cross_aarch64_neon test off (apt-get install g++-aarch64-linux-gnu qemu-user)")
endif()
