# SPDX-License-Identifier: Apache-2.0
# Install rules: header, libquantkit.so.<abi> + libquantkit.a, the QuantKit CMake package and
# quantkit.pc. Included from the top-level CMakeLists.txt (after src/) when QK_INSTALL is ON.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Cache variable so distributions can move the package (e.g. to share/cmake).
set(QK_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/QuantKit"
    CACHE STRING "Where QuantKitConfig.cmake is installed (relative to the prefix)")
set(QK_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
    CACHE STRING "Where quantkit.pc is installed (relative to the prefix)")

# The library targets live in src/; the variables there are directory-scoped, so ask for the
# targets themselves.
set(_qk_install_targets)
foreach(_qk_t IN ITEMS quantkit quantkit_static)
  if(TARGET ${_qk_t})
    list(APPEND _qk_install_targets ${_qk_t})
  endif()
endforeach()
# quantkit_static links this INTERFACE target publicly (it carries the archive's link-only
# dependencies), so it has to be in the export set too. Give it a name that says what it is.
if(TARGET quantkit_static)
  list(APPEND _qk_install_targets qk_xxhash_static_link)
  set_target_properties(qk_xxhash_static_link PROPERTIES EXPORT_NAME quantkit_static_deps)
endif()

install(TARGETS ${_qk_install_targets}
  EXPORT QuantKitTargets
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT Runtime
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT Runtime
          NAMELINK_COMPONENT Development
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT Development)
install(FILES "${PROJECT_SOURCE_DIR}/include/quantkit/quantkit.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/quantkit" COMPONENT Development)

# --- CMake package -------------------------------------------------------------------------
install(EXPORT QuantKitTargets
  NAMESPACE QuantKit::
  FILE QuantKitTargets.cmake
  DESTINATION "${QK_INSTALL_CMAKEDIR}"
  COMPONENT Development)

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/QuantKitConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/cmake/QuantKitConfig.cmake"
  INSTALL_DESTINATION "${QK_INSTALL_CMAKEDIR}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
# SameMajorVersion: find_package(QuantKit 0.1) accepts any 0.y >= 0.1 but never 1.x. Binary
# compatibility of libquantkit.so itself is what the SONAME (QK_ABI_VERSION) states.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/cmake/QuantKitConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/cmake/QuantKitConfig.cmake"
  "${PROJECT_BINARY_DIR}/cmake/QuantKitConfigVersion.cmake"
  DESTINATION "${QK_INSTALL_CMAKEDIR}"
  COMPONENT Development)

# --- pkg-config ----------------------------------------------------------------------------
# The prefix line is written at install time, when the real prefix (`cmake --install --prefix`)
# is known:
# - a system prefix (/usr, /usr/local) is written as is, because pkg-config drops -I/-L flags
#   only when they equal its system directories textually (a relative form would put
#   -I/usr/include on consumers' command lines);
# - any other prefix is written relative to the .pc file (${pcfiledir}), so an installed tree
#   can be moved or unpacked anywhere.
# Absolute CMAKE_INSTALL_* directories cannot be expressed relative to the prefix; then the .pc
# file uses them verbatim.
if(IS_ABSOLUTE "${QK_INSTALL_PKGCONFIGDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}"
   OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(QK_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(QK_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
  set(_qk_pc_up "")
else()
  set(QK_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(QK_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
  # From the .pc directory up to the prefix, e.g. lib/x86_64-linux-gnu/pkgconfig -> ../../..
  file(RELATIVE_PATH _qk_pc_up "/qk_prefix/${QK_INSTALL_PKGCONFIGDIR}" "/qk_prefix")
  string(REGEX REPLACE "/+$" "" _qk_pc_up "${_qk_pc_up}")
endif()
# Stage 1 (now): everything but the prefix; @QK_PC_PREFIX@ survives for stage 2.
set(QK_PC_PREFIX "@QK_PC_PREFIX@")
configure_file("${CMAKE_CURRENT_LIST_DIR}/quantkit.pc.in" "${PROJECT_BINARY_DIR}/quantkit.pc.stage" @ONLY)
# Stage 2 (install time): fill in the prefix, then install the result like any file.
install(CODE "set(_qk_pc_stage \"${PROJECT_BINARY_DIR}/quantkit.pc.stage\")
set(_qk_pc_out \"${PROJECT_BINARY_DIR}/quantkit.pc\")
set(_qk_pc_up \"${_qk_pc_up}\")" COMPONENT Development)
install(CODE [[
  string(REGEX REPLACE "/+$" "" _qk_pc_abs "${CMAKE_INSTALL_PREFIX}")
  if(_qk_pc_up STREQUAL "" OR _qk_pc_abs MATCHES "^(/usr|/usr/local|)$")
    set(QK_PC_PREFIX "${_qk_pc_abs}")
  else()
    set(QK_PC_PREFIX "\${pcfiledir}/${_qk_pc_up}")
  endif()
  configure_file("${_qk_pc_stage}" "${_qk_pc_out}" @ONLY)
]] COMPONENT Development)
install(FILES "${PROJECT_BINARY_DIR}/quantkit.pc"
  DESTINATION "${QK_INSTALL_PKGCONFIGDIR}"
  COMPONENT Development)
