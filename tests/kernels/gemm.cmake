# SPDX-License-Identifier: Apache-2.0
# int8 GEMM / linear operator tests (include()d by tests/CMakeLists.txt): test_qgemm against the
# naive oracle, once on the default path and once per kernel path forced through QK_ISA (paths
# this CPU lacks make the comparisons skip).
qk_add_cmocka_test(test_qgemm SOURCES kernels/test_qgemm.c kernels/qgemm_oracle.c LABELS unit gemm)
set_tests_properties(test_qgemm PROPERTIES TIMEOUT 300)
foreach(isa IN ITEMS scalar avx2 avxvnni avx512vnni neon neondot)
  add_test(NAME test_qgemm_${isa} COMMAND test_qgemm)
  set_tests_properties(test_qgemm_${isa} PROPERTIES ENVIRONMENT "QK_ISA=${isa}" LABELS "gemm;per_isa" TIMEOUT 300)
endforeach()
