#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cross-compiles neon_check.cc (element-wise kernels) and neon_qgemm_check.cc (int8 GEMM families)
# with only the scalar and NEON kernel files for aarch64 and runs them under qemu-aarch64, so the
# NEON kernels are checked against the scalar spec on an x86 machine without the library build.
# Usage: tests/cross/run-aarch64.sh [build-dir]   (default: $TMPDIR/qk-cross-aarch64)
# Exits 0 with "skipped: ..." when the cross compiler or qemu is not installed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-${TMPDIR:-/tmp}/qk-cross-aarch64}
cxx=${QK_AARCH64_CXX:-aarch64-linux-gnu-g++}
qemu=${QK_QEMU_AARCH64:-qemu-aarch64}
sysroot=${QK_AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "skipped: install g++-aarch64-linux-gnu (apt-get install g++-aarch64-linux-gnu)"
  exit 0
fi
if ! command -v "$qemu" >/dev/null 2>&1; then
  echo "skipped: install qemu-user (apt-get install qemu-user)"
  exit 0
fi

mkdir -p "$out"
# The same flags that matter in the library build: -O2 and no FMA contraction; the dot-product
# GEMM file gets its own -march like in src/kernels/arm/gemm.cmake.
flags=(-std=c++17 -O2 -ffp-contract=off -Wall -Wextra -DQK_BUILD_NEON=1 -I"$root/src")
"$cxx" "${flags[@]}" \
  "$here/neon_check.cc" "$root/src/kernels/reference/quantize_scalar.cc" "$root/src/kernels/arm/quantize_neon.cc" \
  -o "$out/neon_check"
gemm_objs=()
for src in tests/cross/neon_qgemm_check.cc src/kernels/gemm/qgemm_scalar.cc src/kernels/gemm/qgemm_epilogue.cc \
           src/kernels/arm/qgemm_neon.cc src/kernels/arm/qgemm_neondot.cc; do
  obj="$out/$(basename "$src" .cc).o"
  extra=()
  [[ $src == */qgemm_neondot.cc ]] && extra=(-march=armv8.2-a+dotprod)
  "$cxx" "${flags[@]}" "${extra[@]}" -c "$root/$src" -o "$obj"
  gemm_objs+=("$obj")
done
"$cxx" "${gemm_objs[@]}" -o "$out/neon_qgemm_check"

# -cpu max has every extension (dot product included): the element-wise kernels need only base
# NEON, the GEMM check runs both families. A Cortex-A53 (ARMv8.0, no dot product) then proves the
# base "neon" family uses no later instruction; the check skips "neondot" there by HWCAP.
status=0
for run in "max neon_check" "max neon_qgemm_check" "cortex-a53 neon_qgemm_check"; do
  read -r cpu prog <<<"$run"
  echo "== $prog (qemu -cpu $cpu)"
  # The sysroot's libc before the multiarch one: a loader and libc from two different glibc
  # builds must never meet (see cmake/toolchains/aarch64-linux-gnu.cmake).
  "$qemu" -cpu "$cpu" -L "$sysroot" -E LD_LIBRARY_PATH="$sysroot/lib" "$out/$prog" || status=1
done
exit $status
