# SPDX-License-Identifier: Apache-2.0
# C# binding: namespace QuantKit in <build>/bindings/csharp/QuantKit.dll (mcs), P/Invoking
# libquantkit_cs.so (unversioned: DllImport("quantkit_cs") finds only that name), which needs
# libquantkit.so.1 through RUNPATH $ORIGIN; a copy of it sits beside the glue. Everything a
# program needs is in that one folder: QuantKit.dll, libquantkit_cs.so, libquantkit.so.1.
find_program(QK_MCS mcs)
find_program(QK_MONO mono)
if(NOT QK_MCS OR NOT QK_MONO)
  message(STATUS "QuantKit C# binding: off (needs mono-mcs and mono-runtime)")
  return()
endif()

set(_qk_cs ${CMAKE_CURRENT_BINARY_DIR}/csharp)
set(_qk_cs_gen ${_qk_cs}/generated)
set(_qk_cs_wrap ${QK_SWIG_GENERATED}/quantkit_csharp_wrap.c)
set(_qk_cs_dll ${_qk_cs}/QuantKit.dll)
add_custom_command(
  OUTPUT ${_qk_cs_wrap} ${_qk_cs}/swig.stamp
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${_qk_cs_gen}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_qk_cs_gen}
  COMMAND ${SWIG_EXECUTABLE} -csharp -namespace QuantKit -dllimport quantkit_cs ${QK_SWIG_FLAGS}
          -outdir ${_qk_cs_gen} -o ${_qk_cs_wrap} ${QK_BINDINGS_DIR}/quantkit.i
  COMMAND ${CMAKE_COMMAND} -E touch ${_qk_cs}/swig.stamp
  DEPENDS ${QK_SWIG_DEPENDS}
  COMMENT "SWIG: C# wrapper"
  VERBATIM)

add_library(quantkit_cs MODULE ${_qk_cs_wrap})
qk_binding_glue(quantkit_cs)
set_target_properties(quantkit_cs PROPERTIES
  OUTPUT_NAME quantkit_cs
  LIBRARY_OUTPUT_DIRECTORY ${_qk_cs}
  BUILD_WITH_INSTALL_RPATH ON
  INSTALL_RPATH "$ORIGIN")
add_custom_command(TARGET quantkit_cs POST_BUILD
  COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:quantkit> ${_qk_cs}/$<TARGET_SONAME_FILE_NAME:quantkit>
  VERBATIM)
add_dependencies(quantkit_cs quantkit_swig_exports)

# SWIG decides the file list, so the generated folder is globbed when mcs runs (a script, not
# a configure-time glob).
file(GLOB _qk_cs_own ${QK_BINDINGS_DIR}/csharp/src/*.cs)
add_custom_command(
  OUTPUT ${_qk_cs_dll}
  COMMAND ${CMAKE_COMMAND} -DMCS=${QK_MCS} -DOUT=${_qk_cs_dll} -DTARGET=library
          "-DSOURCES=${_qk_cs_gen}/*.cs;${QK_BINDINGS_DIR}/csharp/src/*.cs" -P ${QK_BINDINGS_DIR}/csharp/mcs.cmake
  DEPENDS ${_qk_cs}/swig.stamp ${_qk_cs_own} quantkit_cs ${QK_BINDINGS_DIR}/csharp/mcs.cmake
  COMMENT "C#: QuantKit.dll"
  VERBATIM)
add_custom_target(quantkit_csharp ALL DEPENDS ${_qk_cs_dll})
message(STATUS "QuantKit C# binding: on (${QK_MCS}, ${QK_MONO})")

if(NOT QK_BUILD_TESTS)
  return()
endif()
# Test and example programs, each an .exe beside QuantKit.dll and the glue.
set(_qk_cs_exes)
function(qk_cs_exe name)
  set(_srcs ${ARGN})
  add_custom_command(
    OUTPUT ${_qk_cs}/${name}.exe
    COMMAND ${CMAKE_COMMAND} -DMCS=${QK_MCS} -DOUT=${_qk_cs}/${name}.exe -DTARGET=exe -DREFS=${_qk_cs_dll}
            "-DSOURCES=${_srcs}" -P ${QK_BINDINGS_DIR}/csharp/mcs.cmake
    DEPENDS ${_qk_cs_dll} ${_srcs} ${QK_BINDINGS_DIR}/csharp/mcs.cmake
    COMMENT "C#: ${name}.exe"
    VERBATIM)
  set(_qk_cs_exes ${_qk_cs_exes} ${_qk_cs}/${name}.exe PARENT_SCOPE)
endfunction()
set(_qk_cs_t ${QK_BINDINGS_TESTS_DIR}/csharp)
qk_cs_exe(QuantKitTests ${_qk_cs_t}/TestRunner.cs ${_qk_cs_t}/QuantKitTests.cs)
qk_cs_exe(CrossRun ${_qk_cs_t}/CrossRun.cs)
qk_cs_exe(ClassifyDigits ${PROJECT_SOURCE_DIR}/examples/csharp/ClassifyDigits.cs)
qk_cs_exe(QuantizeOnnx ${PROJECT_SOURCE_DIR}/examples/csharp/QuantizeOnnx.cs)
add_custom_target(quantkit_csharp_tests ALL DEPENDS ${_qk_cs_exes})
# Target order too: otherwise a parallel make could run the dll rule in both targets at once.
add_dependencies(quantkit_csharp_tests quantkit_csharp)

# LD_LIBRARY_PATH: mono's DllImport then finds libquantkit_cs.so wherever the program runs from.
set(_qk_cs_env "LD_LIBRARY_PATH=${_qk_cs}")
add_test(NAME bindings_csharp COMMAND ${QK_MONO} --debug ${_qk_cs}/QuantKitTests.exe)
set_tests_properties(bindings_csharp PROPERTIES ENVIRONMENT "${_qk_cs_env}" LABELS "bindings;csharp" TIMEOUT 300)
# Same bytes as Python's output (the Python binding writes the fixture: only with it).
if(TEST bindings_cross_write)
  add_test(NAME bindings_cross_csharp
    COMMAND ${QK_MONO} ${_qk_cs}/CrossRun.exe ${CMAKE_BINARY_DIR}/tests/bindings/cross)
  set_tests_properties(bindings_cross_csharp PROPERTIES ENVIRONMENT "${_qk_cs_env}"
    FIXTURES_REQUIRED qk_cross_model LABELS "bindings;cross;csharp" TIMEOUT 300)
else()
  message(STATUS "QuantKit C#: bindings_cross_csharp off (the Python binding writes its fixture)")
endif()
# The example makes its model file when it is missing: removed first, so every run does both.
add_test(NAME example_csharp_clean COMMAND ${CMAKE_COMMAND} -E rm -f ${_qk_cs}/digits_int8_csharp.qkw)
set_tests_properties(example_csharp_clean PROPERTIES FIXTURES_SETUP qk_example_csharp LABELS "bindings;examples;csharp")
add_test(NAME example_csharp
  COMMAND ${QK_MONO} ${_qk_cs}/ClassifyDigits.exe ${PROJECT_SOURCE_DIR}/examples/data ${_qk_cs}/digits_int8_csharp.qkw)
set_tests_properties(example_csharp PROPERTIES ENVIRONMENT "${_qk_cs_env}" FIXTURES_REQUIRED qk_example_csharp
  LABELS "bindings;examples;csharp" TIMEOUT 300)
# ONNX import + static int8 quantization through the graph API (fails below 20 dB SQNR).
add_test(NAME example_csharp_onnx
  COMMAND ${QK_MONO} ${_qk_cs}/QuantizeOnnx.exe ${PROJECT_SOURCE_DIR}/tests/cli/data/tiny_cnn.onnx)
set_tests_properties(example_csharp_onnx PROPERTIES ENVIRONMENT "${_qk_cs_env}" LABELS "bindings;examples;csharp"
  TIMEOUT 300)
