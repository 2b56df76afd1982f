# SPDX-License-Identifier: Apache-2.0
# The .qkw weight file (include()d by src/CMakeLists.txt): codecs, entropy stage, writer, reader
# and their C shims. zstd and xxHash are linked into the library there.
target_sources(quantkit_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/codec.cc
  ${CMAKE_CURRENT_LIST_DIR}/encode.cc
  ${CMAKE_CURRENT_LIST_DIR}/entropy.cc
  ${CMAKE_CURRENT_LIST_DIR}/writer.cc
  ${CMAKE_CURRENT_LIST_DIR}/reader.cc
  ${CMAKE_CURRENT_LIST_DIR}/../capi/capi_format.cc
)
target_link_libraries(quantkit_core PRIVATE ${QK_ZSTD_TARGET})
