# SPDX-License-Identifier: Apache-2.0
# Convolution / pooling / add / layout tests (include()d by tests/CMakeLists.txt). test_qconv
# compares qk_qconv2d with the direct-convolution oracle on the default path and then once per
# kernel path forced through QK_ISA (every depthwise and GEMM path; a path this CPU lacks must
# make creation fail with QK_ERR_UNSUPPORTED). test_pool_add checks pooling, add and the layout
# converters against hand-computed values and oracles, also once per forced path.
get_target_property(_qk_conv_test_sources quantkit_core SOURCES)
list(FILTER _qk_conv_test_sources INCLUDE REGEX "ops/qconv2d\\.cc$")
if(NOT _qk_conv_test_sources)  # the operators are not in the build (src/ops/conv.cmake)
  return()
endif()

qk_add_cmocka_test(test_qconv SOURCES kernels/test_qconv.c kernels/conv_oracle.c LABELS unit conv)
qk_add_cmocka_test(test_pool_add SOURCES kernels/test_pool_add.c LABELS unit conv)
foreach(t IN ITEMS test_qconv test_pool_add)
  set_tests_properties(${t} PROPERTIES TIMEOUT 300)
  foreach(isa IN ITEMS scalar avx2 avxvnni avx512vnni neon neondot)
    add_test(NAME ${t}_${isa} COMMAND ${t})
    set_tests_properties(${t}_${isa} PROPERTIES ENVIRONMENT "QK_ISA=${isa}" LABELS "conv;per_isa" TIMEOUT 300)
  endforeach()
endforeach()

# test_alloc_failure: every operator run made to fail at each of its heap allocations in turn
# (global operator new replaced in the test program) must return QK_ERR_OUT_OF_MEMORY with the
# output untouched. It links the static library so that the replacement sees every allocation.
if(TARGET quantkit_static)
  add_executable(test_alloc_failure ${CMAKE_CURRENT_LIST_DIR}/test_alloc_failure.cc)
  target_include_directories(test_alloc_failure PRIVATE ${PROJECT_SOURCE_DIR}/include)
  find_package(Threads REQUIRED)
  target_link_libraries(test_alloc_failure PRIVATE quantkit_static Threads::Threads)
  add_test(NAME test_alloc_failure COMMAND test_alloc_failure)
  set_tests_properties(test_alloc_failure PROPERTIES LABELS "unit;conv;gemm" TIMEOUT 300)
  foreach(isa IN ITEMS scalar avx2 avxvnni avx512vnni neon neondot)  # 77: a path this CPU lacks
    add_test(NAME test_alloc_failure_${isa} COMMAND test_alloc_failure)
    set_tests_properties(test_alloc_failure_${isa} PROPERTIES ENVIRONMENT "QK_ISA=${isa}" LABELS "conv;per_isa"
                         SKIP_RETURN_CODE 77 TIMEOUT 300)
  endforeach()
endif()
