#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install test: installs a QuantKit build into a scratch prefix, checks the installed layout and
# the SONAME, then builds consumer.c against that prefix four ways (CMake package shared/static,
# pkg-config shared/static) and runs each. Nothing outside the prefix may be used: pkg-config
# sees only the prefix's .pc directory and shared consumers must resolve libquantkit there.
#
# usage: check_install.sh <build-dir> <work-dir> <consumer-src-dir> <libdir> <includedir>
# environment: CC, CMAKE, READELF, PKG_CONFIG, CMAKE_GENERATOR (all optional)
set -euo pipefail

build_dir=$1
work_dir=$2
src_dir=$3
rel_libdir=$4
rel_includedir=$5
CC=${CC:-cc}
CMAKE=${CMAKE:-cmake}
READELF=${READELF:-readelf}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

fail() { echo "check_install: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# A fresh prefix every run, so files from an older layout cannot make the test pass.
rm -rf "$work_dir"
mkdir -p "$work_dir"
prefix=$work_dir/prefix
libdir=$prefix/$rel_libdir
includedir=$prefix/$rel_includedir
# The consumers must not pick anything up from the caller's environment.
unset LD_LIBRARY_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH QuantKit_DIR || true

step "cmake --install $build_dir --prefix $prefix"
"$CMAKE" --install "$build_dir" --prefix "$prefix" >"$work_dir/install.log" ||
  { cat "$work_dir/install.log"; fail "cmake --install failed"; }

# --- installed layout -------------------------------------------------------------------
header=$includedir/quantkit/quantkit.h
[[ -f $header ]] || fail "missing $header"
abi=$(sed -n 's/^#define QK_ABI_VERSION \([0-9][0-9]*\).*/\1/p' "$header")
[[ -n $abi ]] || fail "cannot read QK_ABI_VERSION from $header"
for f in libquantkit.a cmake/QuantKit/QuantKitConfig.cmake cmake/QuantKit/QuantKitConfigVersion.cmake \
         cmake/QuantKit/QuantKitTargets.cmake pkgconfig/quantkit.pc; do
  [[ -f $libdir/$f ]] || fail "missing $libdir/$f"
done
# libquantkit.so -> libquantkit.so.<abi> -> libquantkit.so.<abi>.<minor>.<patch> (a real file).
[[ -L $libdir/libquantkit.so ]] || fail "$libdir/libquantkit.so is not a symlink (dev link)"
[[ -L $libdir/libquantkit.so.$abi ]] || fail "$libdir/libquantkit.so.$abi is not a symlink (SONAME link)"
[[ $(readlink "$libdir/libquantkit.so") == "libquantkit.so.$abi" ]] ||
  fail "libquantkit.so points to $(readlink "$libdir/libquantkit.so"), expected libquantkit.so.$abi"
real=$(readlink "$libdir/libquantkit.so.$abi")
[[ $real =~ ^libquantkit\.so\.$abi\.[0-9]+\.[0-9]+$ ]] || fail "libquantkit.so.$abi points to '$real'"
[[ -f $libdir/$real && ! -L $libdir/$real ]] || fail "$libdir/$real is not a regular file"
soname=$("$READELF" -d "$libdir/$real" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[[ $soname == "libquantkit.so.$abi" ]] || fail "SONAME of $real is '$soname', expected libquantkit.so.$abi"
# CMake strips the build-tree RPATH at install; an installed library must not search there.
rpath=$("$READELF" -d "$libdir/$real" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\].*/\2/p')
[[ -z $rpath ]] || fail "installed $real carries an RPATH/RUNPATH: $rpath"
echo "layout ok: $real, SONAME $soname, header ABI $abi"

needed_of() { "$READELF" -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p'; }

# Runs a consumer and checks how it got libquantkit. $1 = shared|static, $2 = binary, rest = env.
run_consumer() {
  local kind=$1 exe=$2
  shift 2
  local needed
  needed=$(needed_of "$exe")
  if [[ $kind == shared ]]; then
    grep -qx "libquantkit.so.$abi" <<<"$needed" ||
      fail "$exe: NEEDED is not libquantkit.so.$abi: $(tr '\n' ' ' <<<"$needed")"
    # Must resolve to the scratch prefix, never to the build tree or a system copy.
    local resolved
    resolved=$(env "$@" ldd "$exe" | sed -n "s/^[[:space:]]*libquantkit\.so\.$abi => \([^ ]*\).*/\1/p")
    [[ $(readlink -f "$resolved") == $(readlink -f "$libdir/$real") ]] ||
      fail "$exe loads libquantkit from '$resolved', expected $libdir"
  else
    if grep -q '^libquantkit' <<<"$needed"; then fail "$exe: static consumer NEEDS $(tr '\n' ' ' <<<"$needed")"; fi
  fi
  env "$@" "$exe" || fail "$exe exited with $?"
}

cmake_gen=()
if [[ -n ${CMAKE_GENERATOR:-} ]]; then cmake_gen=(-G "$CMAKE_GENERATOR"); fi

# Builds and runs the CMake consumer. $1 = shared|static, $2 = build dir; uses $prefix/$libdir.
cmake_consumer() {
  local kind=$1 bdir=$2 static=OFF
  [[ $kind == static ]] && static=ON
  "$CMAKE" -S "$src_dir" -B "$bdir" "${cmake_gen[@]}" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DQK_CONSUMER_STATIC=$static \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
    >"$bdir.configure.log" 2>&1 || { cat "$bdir.configure.log"; fail "consumer configure ($kind) failed"; }
  grep -q "qk_install_consumer: QuantKit .* from $libdir/cmake/QuantKit\$" "$bdir.configure.log" ||
    { cat "$bdir.configure.log"; fail "find_package did not use $libdir/cmake/QuantKit"; }
  "$CMAKE" --build "$bdir" >"$bdir.build.log" 2>&1 || { cat "$bdir.build.log"; fail "consumer build ($kind) failed"; }
  # The build tree's RPATH (CMake adds the imported library's directory) points at the prefix.
  run_consumer "$kind" "$bdir/qk_install_consumer"
}

# PKG_CONFIG_LIBDIR replaces the default search path: only the installed quantkit.pc is visible.
pc() { PKG_CONFIG_LIBDIR=$libdir/pkgconfig "$PKG_CONFIG" "$@"; }
cflags=(-std=c99 -pedantic -Wall -Wextra -Werror)

# Builds and runs the pkg-config consumer. $1 = shared|static, $2 = output binary.
pc_consumer() {
  local kind=$1 exe=$2
  pc --exists quantkit || fail "pkg-config cannot find quantkit in $libdir/pkgconfig"
  if [[ $kind == shared ]]; then
    echo "pkg-config --cflags --libs quantkit: $(pc --cflags --libs quantkit)"
    # shellcheck disable=SC2046  # word splitting of pkg-config output is intended
    "$CC" "${cflags[@]}" -o "$exe" "$src_dir/consumer.c" $(pc --cflags --libs quantkit) -lm ||
      fail "pkg-config shared build failed"
    run_consumer shared "$exe" LD_LIBRARY_PATH="$libdir"
  else
    echo "pkg-config --static --cflags --libs quantkit: $(pc --static --cflags --libs quantkit)"
    # A fully static executable: every dependency of libquantkit.a must come from Libs.private,
    # with no shared library around to pull anything in behind the .pc file's back.
    # shellcheck disable=SC2046
    "$CC" "${cflags[@]}" -static -o "$exe" "$src_dir/consumer.c" $(pc --static --cflags --libs quantkit) ||
      fail "pkg-config static build failed"
    run_consumer static "$exe"
  fi
}

# --- 1, 2: CMake package; 3, 4: pkg-config ----------------------------------------------
for kind in shared static; do
  step "find_package(QuantKit CONFIG), $kind"
  cmake_consumer $kind "$work_dir/cmake-$kind"
done
for kind in shared static; do
  step "pkg-config, $kind"
  pc_consumer $kind "$work_dir/pc-$kind"
done

# --- relocation: the installed tree works after being moved ------------------------------
# The CMake package (configure_package_config_file) and quantkit.pc (${pcfiledir}) locate the
# prefix from their own position; nothing may still point at the original prefix.
step "relocated prefix"
mv "$prefix" "$work_dir/moved"
prefix=$work_dir/moved
libdir=$prefix/$rel_libdir
cmake_consumer shared "$work_dir/cmake-moved"
pc_consumer shared "$work_dir/pc-moved"

echo "check_install: OK (QuantKit $(pc --modversion quantkit), SONAME libquantkit.so.$abi, 4 consumers + relocation)"
