# SPDX-License-Identifier: Apache-2.0
# x86 int8 GEMM micro-kernel families (included from src/CMakeLists.txt after quantkit_x86 is
# defined). One ISA per file; every file always compiles, and without its flags (QK_ENABLE_SIMD
# off, or not x86-64) it is a stub whose have_built_qgemm__<isa>() returns false.
#   qgemm_avx2.cc        AVX2 (vpmaddwd on int16-widened operands: exact, no reduce_range)
#   qgemm_avxvnni.cc     AVX-VNNI (ymm {vex} vpdpbusd)
#   qgemm_avx512vnni.cc  AVX-512 VNNI (zmm vpdpbusd)
# They call the scalar spec (gemm_epilogue_scalar) for epilogue tails, so they join the library
# together with kernels/gemm/qgemm_scalar.cc (the shared library links with --no-undefined).
set(_qk_x86_gemm_dir ${CMAKE_CURRENT_LIST_DIR})
get_target_property(_qk_core_sources quantkit_core SOURCES)
list(FILTER _qk_core_sources INCLUDE REGEX "qgemm_scalar\\.cc$")
if(NOT _qk_core_sources)
  message(STATUS "QuantKit: x86 GEMM kernels off until kernels/gemm/qgemm_scalar.cc is in quantkit_core")
  return()
endif()

target_sources(quantkit_x86 PRIVATE
  ${_qk_x86_gemm_dir}/qgemm_avx2.cc
  ${_qk_x86_gemm_dir}/qgemm_avxvnni.cc
  ${_qk_x86_gemm_dir}/qgemm_avx512vnni.cc)

if(QK_ENABLE_SIMD AND QK_X86_64)
  set_source_files_properties(${_qk_x86_gemm_dir}/qgemm_avx2.cc PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
  set_source_files_properties(${_qk_x86_gemm_dir}/qgemm_avxvnni.cc PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mavxvnni")
  set_source_files_properties(${_qk_x86_gemm_dir}/qgemm_avx512vnni.cc PROPERTIES
    COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl;-mavx512vnni;-mavx2;-mfma;-mf16c")
  # QK_BUILD_X86_SIMD is already defined on quantkit_x86 (src/CMakeLists.txt).
endif()
# The dispatcher (kernels/gemm/qgemm_dispatch.cc, in quantkit_core) references a family only
# when its definition is set; set whenever the files are compiled (qgemm_kernel.h note 4): the
# stubs' have_built_qgemm__<isa>() and the CPU's features still decide at run time.
target_compile_definitions(quantkit_core PRIVATE
  QK_HAVE_QGEMM_AVX2=1 QK_HAVE_QGEMM_AVXVNNI=1 QK_HAVE_QGEMM_AVX512VNNI=1)
