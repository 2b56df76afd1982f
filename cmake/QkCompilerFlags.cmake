# SPDX-License-Identifier: Apache-2.0
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_C_STANDARD 99)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
# Only symbols marked QK_API leave the shared library.
set(CMAKE_CXX_VISIBILITY_PRESET hidden)
set(CMAKE_C_VISIBILITY_PRESET hidden)
set(CMAKE_VISIBILITY_INLINES_HIDDEN ON)

if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  # -ffp-contract=off: no FMA contraction anywhere, so the scalar reference computes exactly the
  # roundings it spells out (x*inv_scale, then round) on every compiler and ISA.
  add_compile_options(-Wall -Wextra -ffp-contract=off)
  if(QK_WERROR)
    add_compile_options(-Werror)
  endif()
  if(QK_SANITIZE)
    # float-cast-overflow: GCC's `undefined` leaves out float -> int casts of out-of-range values
    # (clang's includes them); fuzzing found two such casts in zero-point code.
    add_compile_options(-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
                        -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined,float-cast-overflow)
  endif()
  if(QK_FUZZ)
    # libFuzzer's coverage instrumentation in the library too; only the targets link the fuzzer.
    add_compile_options(-fsanitize=fuzzer-no-link)
  endif()
  if(QK_TSAN)
    add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
    add_link_options(-fsanitize=thread)
  endif()
endif()

# Which SIMD kernel files to compile with their ISA flags.
set(QK_X86_64 OFF)
set(QK_AARCH64 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(QK_X86_64 ON)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(QK_AARCH64 ON)
endif()
