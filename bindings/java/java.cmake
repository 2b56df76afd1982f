# SPDX-License-Identifier: Apache-2.0
# Java binding: package org.quantkit in <build>/bindings/java/quantkit.jar =
#   SWIG proxies (generated from quantkit.i with java/quantkit_java.i) + java/src (exception,
#   loader) + native/linux-<arch>/{libquantkit_jni.so, libquantkit.so.1, files} for x86_64 and,
#   with the aarch64 cross compiler, aarch64 (NativeLoader extracts the folder of the running JVM).
# The glue is unversioned (System.loadLibrary finds only libquantkit_jni.so) and reaches the
# versioned core through DT_NEEDED libquantkit.so.1 + RUNPATH $ORIGIN.
find_package(Java 11 COMPONENTS Development QUIET)
# jni.h: FindJNI without JAVA_HOME misses Debian's /usr/bin/javac -> /usr/lib/jvm/<jdk>/bin/javac,
# so the JDK that javac belongs to is searched first (its headers match the java that runs the tests).
if(Java_JAVAC_EXECUTABLE)
  get_filename_component(_qk_j_home ${Java_JAVAC_EXECUTABLE} REALPATH)
  get_filename_component(_qk_j_home ${_qk_j_home} DIRECTORY)
  get_filename_component(_qk_j_home ${_qk_j_home} DIRECTORY)
  find_path(JAVA_INCLUDE_PATH jni.h HINTS ${_qk_j_home}/include NO_DEFAULT_PATH)
  find_path(JAVA_INCLUDE_PATH2 jni_md.h HINTS ${_qk_j_home}/include/linux ${_qk_j_home}/include/darwin
            NO_DEFAULT_PATH)
endif()
if(NOT JAVA_INCLUDE_PATH OR NOT JAVA_INCLUDE_PATH2)
  find_package(JNI QUIET)
endif()
if(NOT Java_FOUND OR NOT JAVA_INCLUDE_PATH OR NOT JAVA_INCLUDE_PATH2)
  message(STATUS "QuantKit Java binding: off (needs a JDK >= 11 with jni.h: default-jdk-headless)")
  return()
endif()

set(_qk_j ${CMAKE_CURRENT_BINARY_DIR}/java)
set(_qk_j_gen ${_qk_j}/generated/org/quantkit)
set(_qk_j_wrap ${QK_SWIG_GENERATED}/quantkit_java_wrap.c)
set(_qk_j_native ${_qk_j}/native)
set(_qk_j_jar ${_qk_j}/quantkit.jar)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(_qk_j_platform linux-x86_64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(_qk_j_platform linux-aarch64)
else()
  set(_qk_j_platform linux-${CMAKE_SYSTEM_PROCESSOR})
endif()

# SWIG writes one .java per class; the folder is emptied first so a removed class leaves no file.
add_custom_command(
  OUTPUT ${_qk_j_wrap} ${_qk_j}/swig.stamp
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${_qk_j_gen}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_qk_j_gen}
  COMMAND ${SWIG_EXECUTABLE} -java -package org.quantkit ${QK_SWIG_FLAGS} -outdir ${_qk_j_gen}
          -o ${_qk_j_wrap} ${QK_BINDINGS_DIR}/quantkit.i
  COMMAND ${CMAKE_COMMAND} -E touch ${_qk_j}/swig.stamp
  DEPENDS ${QK_SWIG_DEPENDS}
  COMMENT "SWIG: Java wrapper"
  VERBATIM)

add_library(quantkit_jni MODULE ${_qk_j_wrap})
qk_binding_glue(quantkit_jni)
target_include_directories(quantkit_jni PRIVATE ${JAVA_INCLUDE_PATH} ${JAVA_INCLUDE_PATH2})
# SWIG's Java glue moves pointers through jlong with *(T**)&jarg, which strict aliasing does not
# allow; the SWIG manual's remedy is to compile it without that assumption.
target_compile_options(quantkit_jni PRIVATE -fno-strict-aliasing)
# Built straight into the jar's native folder, next to a copy of the core library: the same
# layout the loader extracts, so the build tree and the jar run the same RUNPATH.
set_target_properties(quantkit_jni PROPERTIES
  OUTPUT_NAME quantkit_jni
  LIBRARY_OUTPUT_DIRECTORY ${_qk_j_native}/${_qk_j_platform}
  BUILD_WITH_INSTALL_RPATH ON
  INSTALL_RPATH "$ORIGIN")
add_custom_command(TARGET quantkit_jni POST_BUILD
  COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:quantkit>
          ${_qk_j_native}/${_qk_j_platform}/$<TARGET_SONAME_FILE_NAME:quantkit>
  VERBATIM)
add_dependencies(quantkit_jni quantkit_swig_exports)
file(GENERATE OUTPUT ${_qk_j_native}/${_qk_j_platform}/files
  CONTENT "libquantkit_jni.so\n$<TARGET_SONAME_FILE_NAME:quantkit>\n")
set(_qk_j_native_deps quantkit_jni ${_qk_j_native}/${_qk_j_platform}/files)

# --- linux-aarch64 glue (cross) -----------------------------------------------------------
# A nested cross build of the core library only (bindings/java/cross_core.cmake, in
# <build>/bindings/java/aarch64-core), then the same generated wrapper compiled and linked
# against it by the cross compiler, 16 KB-page aligned for Android 15+ devices.
set(_qk_j_arm_default OFF)
if(_qk_j_platform STREQUAL "linux-x86_64")
  find_program(QK_JAVA_AARCH64_CC aarch64-linux-gnu-gcc)
  if(QK_JAVA_AARCH64_CC AND EXISTS /usr/lib/aarch64-linux-gnu/libzstd.so
     AND EXISTS /usr/lib/aarch64-linux-gnu/libxxhash.so)
    set(_qk_j_arm_default ON)
  endif()
endif()
option(QK_JAVA_AARCH64 "Also put linux-aarch64 JNI glue into quantkit.jar (cross build of the core)"
       ${_qk_j_arm_default})
set(_qk_j_platforms ${_qk_j_platform})
if(QK_JAVA_AARCH64)
  set(_qk_j_arm_core ${_qk_j}/aarch64-core)
  set(_qk_j_arm ${_qk_j_native}/linux-aarch64)
  cmake_host_system_information(RESULT _qk_j_jobs QUERY NUMBER_OF_LOGICAL_CORES)
  add_custom_command(
    OUTPUT ${_qk_j_arm}/libquantkit_jni.so ${_qk_j_arm}/libquantkit.so.1
    COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR} -DBUILD=${_qk_j_arm_core}
            -DTOOLCHAIN=${PROJECT_SOURCE_DIR}/cmake/toolchains/aarch64-linux-gnu.cmake -DJOBS=${_qk_j_jobs}
            -P ${QK_BINDINGS_DIR}/java/cross_core.cmake
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_qk_j_arm}
    COMMAND ${CMAKE_COMMAND} -E copy ${_qk_j_arm_core}/src/libquantkit.so.1 ${_qk_j_arm}/libquantkit.so.1
    COMMAND ${QK_JAVA_AARCH64_CC} -std=gnu11 -O2 -fPIC -shared -fvisibility=hidden -fno-strict-aliasing -Wall -Wextra
            -Wno-unused-parameter -Wno-missing-field-initializers -Wno-cast-function-type -Wno-sign-compare
            -Wno-unused-function -Wno-unused-variable
            -I${PROJECT_SOURCE_DIR}/include -I${JAVA_INCLUDE_PATH} -I${JAVA_INCLUDE_PATH2}
            -o ${_qk_j_arm}/libquantkit_jni.so ${_qk_j_wrap}
            -L${_qk_j_arm} -l:libquantkit.so.1 -Wl,--no-undefined -Wl,--as-needed "-Wl,-rpath,$ORIGIN"
            -Wl,-z,max-page-size=16384
    # jni_md.h of linux-x86_64 and linux-aarch64 JDKs are the same file (JNIEXPORT/jlong only).
    DEPENDS ${_qk_j_wrap} quantkit ${QK_BINDINGS_DIR}/java/cross_core.cmake
    COMMENT "JNI glue for linux-aarch64 (cross build of libquantkit.so.1 in ${_qk_j_arm_core})"
    VERBATIM)
  file(WRITE ${_qk_j_arm}/files "libquantkit_jni.so\nlibquantkit.so.1\n")
  list(APPEND _qk_j_native_deps ${_qk_j_arm}/libquantkit_jni.so)
  list(APPEND _qk_j_platforms linux-aarch64)
endif()

# --- the jar ------------------------------------------------------------------------------
file(GLOB _qk_j_own ${QK_BINDINGS_DIR}/java/src/org/quantkit/*.java)
add_custom_command(
  OUTPUT ${_qk_j_jar}
  COMMAND ${CMAKE_COMMAND} -DJAVAC=${Java_JAVAC_EXECUTABLE} -DJAR=${Java_JAR_EXECUTABLE} -DGEN=${_qk_j_gen}
          -DSRC=${QK_BINDINGS_DIR}/java/src/org/quantkit -DNATIVE=${_qk_j} -DCLASSES=${_qk_j}/classes
          -DOUT=${_qk_j_jar} -P ${QK_BINDINGS_DIR}/java/build_jar.cmake
  DEPENDS ${_qk_j}/swig.stamp ${_qk_j_own} ${_qk_j_native_deps} ${QK_BINDINGS_DIR}/java/build_jar.cmake
  COMMENT "Java: quantkit.jar (${_qk_j_platforms})"
  VERBATIM)
add_custom_target(quantkit_java ALL DEPENDS ${_qk_j_jar})
message(STATUS "QuantKit Java binding: on (${Java_JAVAC_EXECUTABLE}; jar natives: ${_qk_j_platforms})")

# --- tests and examples -------------------------------------------------------------------
if(NOT QK_BUILD_TESTS)
  return()
endif()
find_file(QK_JUNIT4_JAR NAMES junit4.jar junit.jar PATHS /usr/share/java)
find_file(QK_HAMCREST_JAR NAMES hamcrest-core.jar PATHS /usr/share/java)
set(_qk_j_tests ${_qk_j}/test-classes)
file(GLOB _qk_j_test_src ${QK_BINDINGS_TESTS_DIR}/java/*.java)
file(GLOB _qk_j_example_src ${PROJECT_SOURCE_DIR}/examples/java/*.java)
set(_qk_j_cp ${_qk_j_jar})
set(_qk_j_test_cp ${_qk_j_jar}:${_qk_j_tests})
set(_qk_j_junit OFF)
if(QK_JUNIT4_JAR AND QK_HAMCREST_JAR)
  set(_qk_j_junit ON)
  set(_qk_j_cp ${_qk_j_jar}:${QK_JUNIT4_JAR}:${QK_HAMCREST_JAR})
  set(_qk_j_test_cp ${_qk_j_test_cp}:${QK_JUNIT4_JAR}:${QK_HAMCREST_JAR})
else()
  # Without JUnit only the JUnit suite is left out; CrossRun and the example still build.
  list(FILTER _qk_j_test_src EXCLUDE REGEX "Test\\.java$")
  message(STATUS "QuantKit Java tests: JUnit suite off (needs junit4 and libhamcrest-java)")
endif()
add_custom_command(
  OUTPUT ${_qk_j_tests}/stamp
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${_qk_j_tests}
  COMMAND ${Java_JAVAC_EXECUTABLE} --release 11 -Xlint:all -encoding UTF-8 -cp ${_qk_j_cp} -d ${_qk_j_tests}
          ${_qk_j_test_src} ${_qk_j_example_src}
  COMMAND ${CMAKE_COMMAND} -E touch ${_qk_j_tests}/stamp
  DEPENDS ${_qk_j_jar} ${_qk_j_test_src} ${_qk_j_example_src}
  COMMENT "Java: tests and examples"
  VERBATIM)
add_custom_target(quantkit_java_tests ALL DEPENDS ${_qk_j_tests}/stamp)
# Target order too: otherwise a parallel make could run the jar rule in both targets at once.
add_dependencies(quantkit_java_tests quantkit_java)

if(_qk_j_junit)
  add_test(NAME bindings_java
    # A fixed, pre-touched heap and the serial collector (no concurrent GC's native bookkeeping):
    # the leak test reads the process RSS, which must then move only with native allocations.
    COMMAND ${Java_JAVA_EXECUTABLE} -Xms96m -Xmx96m -XX:+AlwaysPreTouch -XX:+UseSerialGC -cp ${_qk_j_test_cp} org.junit.runner.JUnitCore
            org.quantkit.tests.QuantKitTest)
  set_tests_properties(bindings_java PROPERTIES LABELS "bindings;java" TIMEOUT 300)
endif()
# Same bytes as Python's output for the model the cross fixture wrote (tests/bindings/cross;
# registered only with the Python binding, which writes the fixture).
if(TEST bindings_cross_write)
  add_test(NAME bindings_cross_java
    COMMAND ${Java_JAVA_EXECUTABLE} -cp ${_qk_j_test_cp} CrossRun ${CMAKE_BINARY_DIR}/tests/bindings/cross)
  set_tests_properties(bindings_cross_java PROPERTIES
    FIXTURES_REQUIRED qk_cross_model LABELS "bindings;cross;java" TIMEOUT 300)
else()
  message(STATUS "QuantKit Java: bindings_cross_java off (the Python binding writes its fixture)")
endif()
# The example makes its model file when it is missing: removed first, so every run does both.
add_test(NAME example_java_clean COMMAND ${CMAKE_COMMAND} -E rm -f ${_qk_j}/digits_int8_java.qkw)
set_tests_properties(example_java_clean PROPERTIES FIXTURES_SETUP qk_example_java LABELS "bindings;examples;java")
add_test(NAME example_java
  COMMAND ${Java_JAVA_EXECUTABLE} -cp ${_qk_j_test_cp} ClassifyDigits ${PROJECT_SOURCE_DIR}/examples/data
          ${_qk_j}/digits_int8_java.qkw)
set_tests_properties(example_java PROPERTIES FIXTURES_REQUIRED qk_example_java LABELS "bindings;examples;java"
  TIMEOUT 300)
# ONNX import + static int8 quantization through the graph API (fails below 20 dB SQNR).
add_test(NAME example_java_onnx
  COMMAND ${Java_JAVA_EXECUTABLE} -cp ${_qk_j_test_cp} QuantizeOnnx ${PROJECT_SOURCE_DIR}/tests/cli/data/tiny_cnn.onnx)
set_tests_properties(example_java_onnx PROPERTIES LABELS "bindings;examples;java" TIMEOUT 300)

# The aarch64 glue: an ELF check (machine, 16 KB LOAD alignment, RUNPATH, DT_NEEDED) and a
# dlopen of the glue + its core under qemu (every symbol resolved, RTLD_NOW).
if(QK_JAVA_AARCH64)
  find_program(QK_QEMU_AARCH64 qemu-aarch64)
  add_test(NAME bindings_java_aarch64_glue
    COMMAND ${CMAKE_COMMAND} -DCC=${QK_JAVA_AARCH64_CC} -DQEMU=${QK_QEMU_AARCH64} -DDIR=${_qk_j_arm}
            -DJAR=${_qk_j_jar} -DJAR_TOOL=${Java_JAR_EXECUTABLE} -DWORK=${_qk_j}/aarch64-check
            -DSRC=${QK_BINDINGS_TESTS_DIR}/java/aarch64_dlopen.c -P ${QK_BINDINGS_TESTS_DIR}/java/aarch64_glue.cmake)
  set_tests_properties(bindings_java_aarch64_glue PROPERTIES LABELS "bindings;java;cross" TIMEOUT 300)
endif()
