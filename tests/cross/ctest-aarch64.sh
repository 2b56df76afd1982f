#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole library and its C tests, cross-built for aarch64 and run under qemu-aarch64 -cpu max
# (NEON + dot product): the CTest test cross_aarch64_ctest (tests/cross/cross.cmake) runs this.
# Configures <build-dir> with cmake/toolchains/aarch64-linux-gnu.cmake (kept between runs, so
# later runs are incremental), builds, then runs that build's tests labelled unit, golden and
# per_isa: every QK_ISA=neon / QK_ISA=neondot test runs its NEON kernel path for real.
#
# usage: tests/cross/ctest-aarch64.sh <build-dir> [jobs]
# environment: CMAKE, CTEST (default: from PATH), QK_CROSS_GENERATOR, QK_CROSS_CMAKE_ARGS (extra
# -D options, ;-separated), QK_CROSS_LABELS (ctest -L regex).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: ctest-aarch64.sh <build-dir> [jobs]}
jobs=${2:-$(nproc 2>/dev/null || echo 2)}
cmake=${CMAKE:-cmake}
ctest=${CTEST:-ctest}
labels=${QK_CROSS_LABELS:-unit|golden|per_isa}

fail() {
  echo "cross_aarch64_ctest: FAILED: $*" >&2
  exit 1
}

# The compilers and qemu are checked by the CTest registration; the arm64 libraries are not
# (they are only needed here), so a machine that skipped the cross-arm64 deps step fails here,
# loudly, with the fix, instead of deep inside CMake with a misleading host package name.
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  while read -r pkg; do
    [[ $pkg == *:arm64 ]] || continue
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true) != installed ]]; then
      missing+=("$pkg")
    fi
  done < <(bash "$root/scripts/install-deps.sh" --list cross-arm64)
  if [[ ${#missing[@]} -gt 0 ]]; then
    fail "arm64 libraries missing: ${missing[*]}
  Install them as root with:  scripts/install-deps.sh cross-arm64   (or: make deps)
  (it runs dpkg --add-architecture arm64, apt-get update, apt-get install ${missing[*]})"
  fi
fi
for tool in aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (scripts/install-deps.sh cross-arm64)"
done

# A make-driven parent (`make test`) exports its jobserver in MAKEFLAGS; the nested build's make
# cannot use those descriptors. Host compiler flags (CFLAGS & co, e.g. -march=native) must not
# reach the aarch64 compiler either.
unset MAKEFLAGS MFLAGS MAKELEVEL CFLAGS CXXFLAGS CPPFLAGS LDFLAGS

start=$SECONDS
gen=()
[[ -n ${QK_CROSS_GENERATOR:-} && ! -f $build/CMakeCache.txt ]] && gen=(-G "$QK_CROSS_GENERATOR")
extra=()
if [[ -n ${QK_CROSS_CMAKE_ARGS:-} ]]; then IFS=';' read -r -a extra <<<"$QK_CROSS_CMAKE_ARGS"; fi
echo "== configure $build (aarch64, Release)"
"$cmake" -S "$root" -B "$build" "${gen[@]}" \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" -DCMAKE_BUILD_TYPE=Release \
  -DQK_BUILD_TESTS=ON -DQK_BUILD_EXAMPLES=OFF -DQK_BUILD_BENCHMARKS=OFF -DQK_BUILD_CLI=OFF -DQK_INSTALL=OFF "${extra[@]}" \
  >"$build.configure.log" 2>&1 || { cat "$build.configure.log" >&2; fail "configure (log above)"; }
echo "== build ($jobs jobs)"
"$cmake" --build "$build" -j "$jobs" >"$build.build.log" 2>&1 || {
  grep -E -B2 -A12 'error|Error' "$build.build.log" | head -150 >&2
  fail "build (full log: $build.build.log)"
}
built=$SECONDS
echo "== ctest -L '$labels' (each test program under qemu-aarch64 -cpu max, the toolchain file's emulator)"
status=0
"$ctest" --test-dir "$build" -L "$labels" --output-on-failure --no-tests=error -j "$jobs" --timeout 600 || status=$?
echo "cross_aarch64_ctest: configure+build $((built - start)) s, tests $((SECONDS - built)) s"
[[ $status -eq 0 ]] || fail "aarch64 tests (output above)"
