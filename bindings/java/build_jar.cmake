# SPDX-License-Identifier: Apache-2.0
# cmake -DJAVAC=.. -DJAR=.. -DGEN=<swig java dir> -DSRC=<hand-written java dir> -DNATIVE=<dir with
#       native/<platform>/ folders> -DCLASSES=<scratch dir> -DOUT=<quantkit.jar> -P build_jar.cmake
#
# Compiles the SWIG-generated and hand-written classes of org.quantkit and packs them with the
# native folders into one jar. A script (not add_jar) because SWIG decides the file list.
file(GLOB gen_sources ${GEN}/*.java)
file(GLOB own_sources ${SRC}/*.java)
if(NOT gen_sources)
  message(FATAL_ERROR "build_jar: no generated sources in ${GEN}")
endif()
file(REMOVE_RECURSE ${CLASSES})
file(MAKE_DIRECTORY ${CLASSES})
# --release 8: bytecode and API of Java 8, which Android's toolchain (D8) takes for any API level.
execute_process(COMMAND ${JAVAC} --release 8 -Xlint:all,-serial,-static -encoding UTF-8 -d ${CLASSES}
                        ${gen_sources} ${own_sources}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "build_jar: javac failed")
endif()
file(COPY ${NATIVE}/native DESTINATION ${CLASSES})
execute_process(COMMAND ${JAR} cf ${OUT}.tmp -C ${CLASSES} . RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "build_jar: jar failed")
endif()
file(RENAME ${OUT}.tmp ${OUT})
