#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cross-compiles neon_check.cc with the scalar and NEON kernel files for aarch64 and runs it under
# qemu-aarch64, so the NEON kernels are checked against the scalar spec on an x86 machine.
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
# The same flags that matter in the library build: -O2 and no FMA contraction.
"$cxx" -std=c++17 -O2 -ffp-contract=off -Wall -Wextra -DQK_BUILD_NEON=1 -I"$root/src" \
  "$here/neon_check.cc" "$root/src/kernels/reference/quantize_scalar.cc" "$root/src/kernels/arm/quantize_neon.cc" \
  -o "$out/neon_check"
# -cpu max also enables the dot-product extension; the element-wise kernels need only base NEON.
exec "$qemu" -cpu max -L "$sysroot" "$out/neon_check"
