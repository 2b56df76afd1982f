# SPDX-License-Identifier: Apache-2.0
# Fuzz targets (docs/FUZZING.md). Each target is one .c file defining LLVMFuzzerTestOneInput and
# qk_fuzz_target_info (fuzz_target.h), plus a seed folder tests/fuzz/corpus/<name>/ written by a
# generator program. One qk_add_fuzz_target() line registers it for both uses:
#   normal builds: fuzz_<name>_replay = target + fuzz_driver.c, a CTest test (labels unit, fuzz)
#     replaying the freshly generated seeds, the committed seeds (with regression inputs) and
#     deterministic mutants of each; the generator runs first as a CTest fixture;
#   -DQK_FUZZ=ON (clang, `make fuzz`): fuzz_<name> = target + fuzz_mutator.c linked with
#     -fsanitize=fuzzer, listed in fuzz_targets.txt for scripts/run-fuzz.sh.
#
# qk_add_fuzz_target(<name> SOURCES <files...> [GENERATOR <file> [GENERATOR_SOURCES <files...>]]
#                    [LINK <libs...>] [ROUNDS <n>] [MAX_LEN <bytes>] [TIMEOUT <s>])
set(QK_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(QK_FUZZ_LIST ${CMAKE_BINARY_DIR}/tests/fuzz/fuzz_targets.txt)
file(WRITE ${QK_FUZZ_LIST} "")
if(QK_FUZZ AND NOT TARGET qk_fuzz_targets)
  add_custom_target(qk_fuzz_targets)
endif()

function(qk_add_fuzz_target name)
  cmake_parse_arguments(ARG "" "GENERATOR;ROUNDS;MAX_LEN;TIMEOUT" "SOURCES;GENERATOR_SOURCES;LINK" ${ARGN})
  if(NOT ARG_ROUNDS)
    set(ARG_ROUNDS 1000)
  endif()
  if(NOT ARG_MAX_LEN)
    set(ARG_MAX_LEN 65536)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  if(CMAKE_CROSSCOMPILING)
    # Under an emulator (the aarch64 build runs under qemu) the replay checks portability, not
    # depth: a quarter of the mutants keeps it within the emulated test budget.
    math(EXPR ARG_ROUNDS "${ARG_ROUNDS} / 4")
  endif()
  set(corpus ${QK_FUZZ_DIR}/corpus/${name})
  set(generated ${CMAKE_BINARY_DIR}/tests/fuzz/${name}_corpus)
  set(libs QuantKit::quantkit ${ARG_LINK})
  if(ARG_GENERATOR)
    add_executable(make_${name}_corpus ${ARG_GENERATOR} ${ARG_GENERATOR_SOURCES})
    target_include_directories(make_${name}_corpus PRIVATE ${QK_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/tests/format)
    target_link_libraries(make_${name}_corpus PRIVATE ${libs} m)
  endif()
  if(QK_FUZZ)
    add_executable(fuzz_${name} ${ARG_SOURCES} ${QK_FUZZ_DIR}/fuzz_mutator.c)
    target_include_directories(fuzz_${name} PRIVATE ${QK_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/tests/format)
    target_link_libraries(fuzz_${name} PRIVATE ${libs} m)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    # the C++ UBSan runtime comes with the C++ library: link with clang++
    set_target_properties(fuzz_${name} PROPERTIES LINKER_LANGUAGE CXX)
    add_dependencies(qk_fuzz_targets fuzz_${name})
    file(APPEND ${QK_FUZZ_LIST} "${name} ${ARG_MAX_LEN}\n")
    return()
  endif()
  add_executable(fuzz_${name}_replay ${ARG_SOURCES} ${QK_FUZZ_DIR}/fuzz_driver.c)
  target_include_directories(fuzz_${name}_replay PRIVATE ${QK_FUZZ_DIR} ${PROJECT_SOURCE_DIR}/tests/format)
  target_link_libraries(fuzz_${name}_replay PRIVATE ${libs} m)
  set(dirs ${corpus})
  if(ARG_GENERATOR)
    add_test(NAME fuzz_${name}_corpus COMMAND make_${name}_corpus ${generated})
    set_tests_properties(fuzz_${name}_corpus PROPERTIES LABELS "unit;fuzz" FIXTURES_SETUP ${name}_corpus)
    set(dirs ${generated} ${corpus})
  endif()
  add_test(NAME fuzz_${name}_replay COMMAND fuzz_${name}_replay --rounds ${ARG_ROUNDS} ${dirs})
  set_tests_properties(fuzz_${name}_replay PROPERTIES LABELS "unit;fuzz" TIMEOUT ${ARG_TIMEOUT})
  if(ARG_GENERATOR)
    set_tests_properties(fuzz_${name}_replay PROPERTIES FIXTURES_REQUIRED ${name}_corpus)
  endif()
endfunction()

# The targets. The .qkw reader and the model loader mutate whole .qkw images through the
# test-only builder (re-signing); the observer state has its own XXH64.
set(QK_QKW_BUILDER_SOURCES ${PROJECT_SOURCE_DIR}/tests/format/qkw_builder.c ${QK_FUZZ_DIR}/fuzz_qkw_fields.c)
set(QK_QKW_BUILDER_LIBS qk_xxhash ${QK_ZSTD_TARGET})

qk_add_fuzz_target(qkw
  SOURCES ${QK_FUZZ_DIR}/fuzz_qkw_open.c ${QK_QKW_BUILDER_SOURCES}
  GENERATOR ${QK_FUZZ_DIR}/make_qkw_corpus.c GENERATOR_SOURCES ${PROJECT_SOURCE_DIR}/tests/format/qkw_builder.c
  LINK ${QK_QKW_BUILDER_LIBS} ROUNDS 6000 MAX_LEN 65536)
qk_add_fuzz_target(observer_load
  SOURCES ${QK_FUZZ_DIR}/fuzz_observer_load.c
  GENERATOR ${QK_FUZZ_DIR}/make_observer_load_corpus.c
  LINK qk_xxhash ROUNDS 800 MAX_LEN 8192)
qk_add_fuzz_target(model_load
  SOURCES ${QK_FUZZ_DIR}/fuzz_model_load.c ${QK_FUZZ_DIR}/fuzz_model_text.c ${QK_QKW_BUILDER_SOURCES}
  GENERATOR ${QK_FUZZ_DIR}/make_model_load_corpus.c
  LINK ${QK_QKW_BUILDER_LIBS} ROUNDS 300 MAX_LEN 32768)
# The ONNX importer (src/onnx): serialized ModelProtos. Seeds are written by
# tests/fuzz/make_onnx_corpus.py (python3-onnx) and committed: no generator runs at build time.
if(EXISTS ${PROJECT_SOURCE_DIR}/src/onnx/sources.cmake)
  qk_add_fuzz_target(onnx_load
    SOURCES ${QK_FUZZ_DIR}/fuzz_onnx_load.c
    ROUNDS 200 MAX_LEN 65536 TIMEOUT 300)
endif()
