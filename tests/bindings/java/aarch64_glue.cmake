# SPDX-License-Identifier: Apache-2.0
# CTest bindings_java_aarch64_glue: checks the linux-aarch64 natives of quantkit.jar.
#   cmake -DCC=<aarch64 gcc> -DQEMU=<qemu-aarch64> -DDIR=<native/linux-aarch64> -DJAR=<quantkit.jar>
#         -DJAR_TOOL=<jar> -DWORK=<scratch> -DSRC=aarch64_dlopen.c -P aarch64_glue.cmake
# 1. the jar holds native/linux-aarch64/{files, libquantkit_jni.so, libquantkit.so.1};
# 2. the glue is an AArch64 ELF, needs libquantkit.so.1 (unversioned glue, versioned core), has
#    RUNPATH $ORIGIN and every LOAD segment aligned to >= 16 KB (Android 15+ 16 KB pages);
# 3. under qemu, dlopen(RTLD_NOW) resolves every symbol and two JNI entry points return the
#    header's ABI and version numbers.
get_filename_component(_include ${CMAKE_CURRENT_LIST_DIR}/../../../include ABSOLUTE)
execute_process(COMMAND ${JAR_TOOL} tf ${JAR} OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
foreach(f files libquantkit_jni.so libquantkit.so.1)
  string(FIND "${listing}" "native/linux-aarch64/${f}" at)
  if(rc OR at EQUAL -1)
    message(FATAL_ERROR "quantkit.jar lacks native/linux-aarch64/${f}")
  endif()
endforeach()

find_program(READELF NAMES aarch64-linux-gnu-readelf readelf REQUIRED)
execute_process(COMMAND ${READELF} -hldW ${DIR}/libquantkit_jni.so OUTPUT_VARIABLE elf RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "readelf failed on ${DIR}/libquantkit_jni.so")
endif()
if(NOT elf MATCHES "Machine:[ \t]+AArch64")
  message(FATAL_ERROR "libquantkit_jni.so is not an AArch64 ELF")
endif()
if(NOT elf MATCHES "NEEDED\\)[^\n]*\\[libquantkit\\.so\\.1\\]")
  message(FATAL_ERROR "libquantkit_jni.so does not need libquantkit.so.1")
endif()
if(NOT elf MATCHES "RUNPATH\\)[^\n]*\\[\\$ORIGIN\\]")
  message(FATAL_ERROR "libquantkit_jni.so has no RUNPATH $ORIGIN")
endif()
string(REGEX MATCHALL "LOAD[^\n]+" loads "${elf}")
list(LENGTH loads nloads)
if(nloads EQUAL 0)
  message(FATAL_ERROR "no LOAD segments")
endif()
foreach(l IN LISTS loads)
  string(REGEX MATCH "0x[0-9a-f]+$" align "${l}")
  math(EXPR a "${align}")
  if(a LESS 16384)
    message(FATAL_ERROR "LOAD segment aligned to ${align} (< 16 KB): ${l}")
  endif()
endforeach()
message(STATUS "ELF: AArch64, NEEDED libquantkit.so.1, RUNPATH $ORIGIN, ${nloads} LOAD segments >= 16 KB aligned")

file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${CC} -std=gnu11 -O1 -Wall -Wextra -I${_include} -o ${WORK}/aarch64_dlopen ${SRC} -ldl
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "cannot compile ${SRC}")
endif()
if(NOT QEMU)
  message(FATAL_ERROR "qemu-aarch64 not found: the glue could not be loaded")
endif()
# The sysroot's loader and libc, then its libraries, then the multiarch arm64 ones (zstd, xxhash),
# as cmake/toolchains/aarch64-linux-gnu.cmake runs the cross tests.
execute_process(COMMAND ${QEMU} -cpu max -L /usr/aarch64-linux-gnu
                        -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib:/usr/lib/aarch64-linux-gnu
                        ${WORK}/aarch64_dlopen ${DIR}/libquantkit_jni.so
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the aarch64 glue did not load or run under qemu (exit ${rc})")
endif()
