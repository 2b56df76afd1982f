# SPDX-License-Identifier: Apache-2.0
# The .qkw weight file tests, written from docs/FORMAT.md and the header (not from src/format/):
#   test_qkw_api      writer -> reader round trips of every codec, every argument error, atomicity,
#                     verify modes, threads, memory budget;
#   test_qkw_hostile  hand-built hostile files (qkw_builder.c), truncation and byte-flip sweeps.
# The reader's fuzz target (fuzz_qkw_replay) is registered with the others in tests/fuzz/fuzz.cmake.
# Registered only once the library has the weight-file sources (they link against qk_qkw_*).
if(NOT EXISTS ${PROJECT_SOURCE_DIR}/src/format/sources.cmake)
  return()
endif()

set(QK_QKW_BUILDER ${CMAKE_CURRENT_SOURCE_DIR}/format/qkw_builder.c)

foreach(t test_qkw_api test_qkw_hostile)
  qk_add_cmocka_test(${t} SOURCES format/${t}.c ${QK_QKW_BUILDER} LINK qk_xxhash ${QK_ZSTD_TARGET} LABELS unit)
  target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/format)
  # decoded values are compared bit for bit with float32 expressions: no FMA contraction
  target_compile_options(${t} PRIVATE -ffp-contract=off)
  # a hostile file must never hang the reader: a hang fails the test instead of blocking CTest
  set_tests_properties(${t} PROPERTIES TIMEOUT 300)
endforeach()
