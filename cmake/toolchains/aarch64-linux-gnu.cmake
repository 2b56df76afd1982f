# SPDX-License-Identifier: Apache-2.0
# Cross build for 64-bit ARM Linux on a Debian/Ubuntu x86-64 host, run under user-mode qemu:
#   cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
#   cmake --build build-arm && ctest --test-dir build-arm
# Packages (scripts/install-deps.sh cross-arm64): g++-aarch64-linux-gnu qemu-user, plus the arm64
# multiarch dev packages of the dependencies (libxxhash-dev:arm64 libzstd-dev:arm64
# libcmocka-dev:arm64 libpthreadpool-dev:arm64) after `dpkg --add-architecture arm64`.
# Eigen is header-only: the host's libeigen3-dev serves both builds.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(QK_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${QK_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${QK_CROSS_TRIPLE}-g++)

# Debian multiarch: arm64 libraries live in /usr/lib/aarch64-linux-gnu (found through
# CMAKE_LIBRARY_ARCHITECTURE, also for <prefix>/lib/<arch>/cmake package files), arch-specific
# headers in /usr/include/aarch64-linux-gnu, the cross C library in /usr/aarch64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE ${QK_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH /usr/${QK_CROSS_TRIPLE} /)
list(APPEND CMAKE_LIBRARY_PATH /usr/lib/${QK_CROSS_TRIPLE})
list(APPEND CMAKE_INCLUDE_PATH /usr/include/${QK_CROSS_TRIPLE})
# Never let a host (x86-64) library or package file stand in for a missing arm64 one: the build
# would then fail at link time with a far less helpful message than "xxHash not found".
list(APPEND CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/include/x86_64-linux-gnu)
list(APPEND CMAKE_IGNORE_PREFIX_PATH /usr/lib/x86_64-linux-gnu)
# Programs (bash, pkg-config, qemu) are the host's; libraries, headers and packages come only
# from the roots above.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (cmocka, zstd fallback) must read the arm64 .pc files only. The toolchain file is
# read on every configure run, so re-configures see the same setting.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${QK_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# CTest (and add_custom_command with target executables) runs the aarch64 test programs under
# qemu: -cpu max has NEON, dot product and i8mm, so every aarch64 kernel path can be selected.
# -L makes the programs' dynamic loader the cross sysroot's (/usr/aarch64-linux-gnu/lib). The
# loader would then take libc.so.6 from /lib/aarch64-linux-gnu (the host's ld.so.cache lists the
# multiarch libc6:arm64), and a loader and libc from two different glibc builds break in
# pthread_create (it spins forever). So the guest's LD_LIBRARY_PATH (-E: the guest only, not
# qemu itself) puts the sysroot's libc, libstdc++ and libgcc_s first; the arm64 dependencies
# (cmocka, xxhash, zstd) follow from the multiarch directory.
# Override with e.g. -DQK_CROSS_CPU=cortex-a53 to emulate an ARMv8.0 CPU (per-ISA tests then
# skip neondot).
set(QK_CROSS_SYSROOT /usr/${QK_CROSS_TRIPLE})
if(NOT DEFINED QK_CROSS_CPU)
  set(QK_CROSS_CPU max)
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-aarch64 -cpu ${QK_CROSS_CPU} -L ${QK_CROSS_SYSROOT}
    -E LD_LIBRARY_PATH=${QK_CROSS_SYSROOT}/lib:/usr/lib/${QK_CROSS_TRIPLE})
