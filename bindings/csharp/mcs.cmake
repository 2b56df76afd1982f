# SPDX-License-Identifier: Apache-2.0
# cmake -DMCS=<mcs> -DOUT=<file> -DTARGET=library|exe [-DREFS=<dll;...>] -DSOURCES=<globs;...> -P mcs.cmake
# Compiles C# sources whose list is only known at build time (SWIG writes one file per class).
set(files)
foreach(g IN LISTS SOURCES)
  file(GLOB f ${g})
  list(APPEND files ${f})
endforeach()
if(NOT files)
  message(FATAL_ERROR "mcs.cmake: no sources for ${OUT}")
endif()
set(refs)
foreach(r IN LISTS REFS)
  list(APPEND refs -r:${r})
endforeach()
execute_process(COMMAND ${MCS} -nologo -warn:4 -warnaserror+ -optimize+ -debug -target:${TARGET} -out:${OUT}
                        ${refs} ${files}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mcs failed for ${OUT}")
endif()
