# SPDX-License-Identifier: Apache-2.0
# Every dependency is a Debian package; a missing one stops configuration with the package name.
find_package(PkgConfig QUIET)

function(qk_missing what package)
  message(FATAL_ERROR "QuantKit needs ${what}. Install it with:\n  sudo apt-get install ${package}\n"
                      "(or run 'make deps' as root).")
endfunction()

# Eigen 3: fp32 math (batch-norm folding, error metrics, the float reference).
find_package(Eigen3 3.3 NO_MODULE QUIET)
if(NOT TARGET Eigen3::Eigen)
  qk_missing("Eigen 3" "libeigen3-dev")
endif()

# xxHash: XXH64 checksums of serialized observer state (and of weight-file chunks).
find_path(XXHASH_INCLUDE_DIR xxhash.h)
find_library(XXHASH_LIBRARY NAMES xxhash)
if(NOT XXHASH_INCLUDE_DIR OR NOT XXHASH_LIBRARY)
  qk_missing("xxHash" "libxxhash-dev")
endif()
add_library(qk_xxhash INTERFACE)
target_include_directories(qk_xxhash INTERFACE ${XXHASH_INCLUDE_DIR})
target_link_libraries(qk_xxhash INTERFACE ${XXHASH_LIBRARY})

# zstd: the weight-file entropy stage. Debian 12 ships zstdConfig.cmake with
# zstd::libzstd_shared / zstd::libzstd_static only; fall back to pkg-config.
find_package(zstd CONFIG QUIET)
if(TARGET zstd::libzstd_shared)
  set(QK_ZSTD_TARGET zstd::libzstd_shared)
elseif(PkgConfig_FOUND)
  pkg_check_modules(QK_ZSTD QUIET IMPORTED_TARGET libzstd)
  if(QK_ZSTD_FOUND)
    set(QK_ZSTD_TARGET PkgConfig::QK_ZSTD)
  endif()
endif()
if(NOT QK_ZSTD_TARGET)
  qk_missing("zstd" "libzstd-dev")
endif()

# cmocka: the C test framework (tests only).
if(QK_BUILD_TESTS)
  if(PkgConfig_FOUND)
    pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
  endif()
  if(NOT CMOCKA_FOUND)
    qk_missing("cmocka" "libcmocka-dev pkg-config")
  endif()
endif()

# protobuf-c + ONNX's onnx.proto: the ONNX importer (src/onnx). The C code for onnx.proto is
# generated at build time by protoc-c from the file Debian's libonnx-dev ships. protobuf-c rather
# than C++ protobuf: its symbols (protobuf_c_*, and the generated onnx__*, hidden by the version
# script) cannot clash with the C++ protobuf that torch and onnx load into a Python process.
find_program(QK_PROTOC_C protoc-c)
find_path(PROTOBUF_C_INCLUDE_DIR protobuf-c/protobuf-c.h)
find_library(PROTOBUF_C_LIBRARY NAMES protobuf-c)
# The .proto is build input, not a target file: the host's copy serves a cross build too.
find_file(QK_ONNX_PROTO onnx.proto PATHS /usr/include/onnx /usr/local/include/onnx NO_DEFAULT_PATH
          NO_CMAKE_FIND_ROOT_PATH)
if(NOT QK_PROTOC_C OR NOT PROTOBUF_C_INCLUDE_DIR OR NOT PROTOBUF_C_LIBRARY OR NOT QK_ONNX_PROTO)
  qk_missing("protobuf-c and ONNX's onnx.proto (the ONNX importer)" "protobuf-c-compiler libprotobuf-c-dev libonnx-dev")
endif()
add_library(qk_protobuf_c INTERFACE)
target_include_directories(qk_protobuf_c INTERFACE ${PROTOBUF_C_INCLUDE_DIR})
target_link_libraries(qk_protobuf_c INTERFACE ${PROTOBUF_C_LIBRARY})
