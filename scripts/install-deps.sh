#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages QuantKit needs (`make deps`). Only missing packages are installed
# (checked with dpkg-query), so repeated runs never touch apt. As root it runs apt-get; otherwise
# it prints the exact `sudo apt-get install ...` line and fails.
#
# usage: scripts/install-deps.sh [group...]      (default: core)
#        scripts/install-deps.sh --list [group...]   print the packages of the groups
set -euo pipefail

# Package groups: `core` (build + C tests) and `cross-arm64` (NEON tests under qemu); later work
# adds its own groups (e.g. `python`) for `make deps DEPS_GROUPS=...`.
# shellcheck disable=SC2034  # read through ${!var} below
group_core=(build-essential cmake pkg-config libeigen3-dev libcmocka-dev libzstd-dev libxxhash-dev
            protobuf-c-compiler libprotobuf-c-dev libonnx-dev)
# The NEON kernels, and the whole library with its C tests (CTest cross_aarch64_ctest), are
# cross-compiled and run under user-mode qemu on every `make test`. The library's dependencies
# come as Debian multiarch arm64 packages (`:arm64`), which need the arm64 architecture added to
# dpkg first; this script does that (as root) when a `:arm64` package is missing. Only packages
# that are "Multi-Arch: same" may be listed here: any other `:arm64` package replaces its amd64
# twin and everything depending on it (libpthreadpool-dev:arm64 would remove python3-torch).
# shellcheck disable=SC2034
group_cross_arm64=(g++-aarch64-linux-gnu qemu-user libxxhash-dev:arm64 libzstd-dev:arm64 libcmocka-dev:arm64
                   libprotobuf-c-dev:arm64)
# The qk command-line tool: .npz input/output (zip) and .safetensors headers (JSON).
# shellcheck disable=SC2034
group_cli=(libzip-dev nlohmann-json3-dev)
# The SWIG bindings and their tests: Python (Debian's python3 with numpy and pytest), Java
# (JDK 17, JUnit 4) and C# (mono's compiler and runtime).
# shellcheck disable=SC2034
group_bindings=(swig python3-dev python3-numpy python3-pytest openjdk-17-jdk-headless junit4 libhamcrest-java
                mono-mcs mono-runtime)
# The ONNX importer's tests: the ONNX backend test suite (models, inputs and expected outputs)
# and ONNX's Python package, which reads the suite's tensors for the conformance run; PyTorch and
# torchvision export the real architectures the import tests compare against (the peer itself).
# shellcheck disable=SC2034
group_onnx_tests=(libonnx-testdata python3-onnx python3-torch python3-torchvision)
# `make fuzz` only (not part of `make test`, whose fuzz replays build with the default compiler):
# clang with libFuzzer and the sanitizer runtimes.
# shellcheck disable=SC2034
group_fuzz=(clang-14 libclang-rt-14-dev)

list_only=0
if [[ ${1:-} == --list ]]; then list_only=1; shift; fi
groups=("$@")
[[ ${#groups[@]} -gt 0 ]] || groups=(core)

wanted=()
for g in "${groups[@]}"; do
  var="group_${g//-/_}[@]"
  if ! declare -p "group_${g//-/_}" >/dev/null 2>&1; then
    echo "install-deps: unknown package group '$g' (known: $(compgen -v group_ | sed 's/^group_//' | tr '\n' ' '))" >&2
    exit 2
  fi
  wanted+=("${!var}")
done

if [[ $list_only -eq 1 ]]; then
  printf '%s\n' "${wanted[@]}"
  exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  # Not Debian: CMake's configure step names any missing dependency itself.
  echo "install-deps: dpkg-query not found (not a Debian system); install these equivalents yourself:" >&2
  echo "  ${wanted[*]}" >&2
  exit 0
fi

native_arch=$(dpkg --print-architecture)
# `pkg` means the native (or arch-independent) package, `pkg:arch` that architecture's. A plain
# name matches every installed architecture's instance (one line each), so the check looks for
# the right one. db:Status-Status is "installed" only when fully installed (not "config-files").
is_installed() {
  local want=$native_arch
  [[ $1 == *:* ]] && want=${1##*:}
  dpkg-query -W -f='${Architecture} ${db:Status-Status}\n' "$1" 2>/dev/null | grep -Eq "^($want|all) installed\$"
}
missing=()
for p in "${wanted[@]}"; do
  is_installed "$p" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#wanted[@]} packages present (${groups[*]})"
  exit 0
fi

# Foreign architectures the missing packages need (`pkg:arm64` on an amd64 host) that dpkg does
# not know yet; installing such a package fails until the architecture is added.
new_archs=()
for p in "${missing[@]}"; do
  [[ $p == *:* ]] || continue
  arch=${p##*:}
  [[ $arch == "$native_arch" ]] && continue
  if ! dpkg --print-foreign-architectures | grep -qx "$arch" && [[ " ${new_archs[*]} " != *" $arch "* ]]; then
    new_archs+=("$arch")
  fi
done

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing Debian packages. Install them with:" >&2
  for arch in "${new_archs[@]}"; do echo "  sudo dpkg --add-architecture $arch" >&2; done
  [[ ${#new_archs[@]} -eq 0 ]] || echo "  sudo apt-get update" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

for arch in "${new_archs[@]}"; do
  echo "install-deps: dpkg --add-architecture $arch"
  dpkg --add-architecture "$arch"
done
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh container has no package lists, and a newly added architecture has none either;
# refreshing them is needed before the install.
apt-get update -q
# --no-remove: installing must never uninstall anything (a conflicting foreign-architecture
# package would otherwise silently take its native twin and all its dependents with it).
apt-get install -y -q --no-install-recommends --no-remove "${missing[@]}"
