# SPDX-License-Identifier: Apache-2.0
# x86 int8 GEMM families against the scalar spec through the kernel contract (no driver):
# tests/kernels/x86_qgemm_check.cc. It links the static library's objects (the kernel symbols are
# internal, hidden in the shared library). Families whose ISA this CPU lacks are reported as
# skipped, so two test-only variants run their code here anyway:
#   qk_avxvnni_emulated     qgemm_avxvnni.cc with -mavx2 and QK_EMULATE_VPDPBUSD: vpdpbusd
#                           replaced by an exact AVX2 sequence (any AVX2 machine);
#   qk_avx512vnni_emulated  qgemm_avx512vnni.cc with QK_EMULATE_AVX512VNNI: its intrinsics from
#                           the scalar model x86_avx512_emulation.h (any x86-64 machine).
# They exercise the families' packing, tiling, masks and tails; only the real instructions'
# behaviour is left to machines that have them.
if(NOT TARGET quantkit_static OR NOT QK_X86_64)
  return()
endif()
get_target_property(_qk_x86_sources quantkit_x86 SOURCES)
list(FILTER _qk_x86_sources INCLUDE REGEX "qgemm_avx2\\.cc$")
if(NOT _qk_x86_sources)  # the families are not in the build (see src/kernels/x86/gemm.cmake)
  return()
endif()

add_executable(x86_qgemm_check ${CMAKE_CURRENT_LIST_DIR}/x86_qgemm_check.cc)
target_include_directories(x86_qgemm_check PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(x86_qgemm_check PRIVATE quantkit_static)
if(QK_ENABLE_SIMD)
  add_library(qk_avxvnni_emulated OBJECT ${PROJECT_SOURCE_DIR}/src/kernels/x86/qgemm_avxvnni.cc)
  target_compile_definitions(qk_avxvnni_emulated PRIVATE QK_BUILD_X86_SIMD=1 QK_EMULATE_VPDPBUSD=1)
  target_compile_options(qk_avxvnni_emulated PRIVATE -mavx2 -mfma -mf16c)

  add_library(qk_avx512vnni_emulated OBJECT ${PROJECT_SOURCE_DIR}/src/kernels/x86/qgemm_avx512vnni.cc)
  target_compile_definitions(qk_avx512vnni_emulated PRIVATE QK_EMULATE_AVX512VNNI=1)
  target_include_directories(qk_avx512vnni_emulated PRIVATE ${CMAKE_CURRENT_LIST_DIR})

  foreach(lib qk_avxvnni_emulated qk_avx512vnni_emulated)
    target_include_directories(${lib} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
    target_compile_definitions(${lib} PRIVATE QK_BUILDING=1)
    target_sources(x86_qgemm_check PRIVATE $<TARGET_OBJECTS:${lib}>)
  endforeach()
  target_compile_definitions(x86_qgemm_check PRIVATE QK_TEST_AVXVNNI_EMULATED=1 QK_TEST_AVX512VNNI_EMULATED=1)
endif()
add_test(NAME x86_qgemm_check COMMAND x86_qgemm_check)
set_tests_properties(x86_qgemm_check PROPERTIES LABELS "kernels;gemm;isa" TIMEOUT 600)
