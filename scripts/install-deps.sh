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
group_core=(build-essential cmake pkg-config libeigen3-dev libcmocka-dev libzstd-dev libxxhash-dev)
# The NEON kernels are cross-compiled and run under user-mode qemu on every `make test`.
# shellcheck disable=SC2034
group_cross_arm64=(g++-aarch64-linux-gnu qemu-user)

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

missing=()
for p in "${wanted[@]}"; do
  # db:Status-Status is "installed" only for fully installed packages (not "config-files").
  if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) != installed ]]; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#wanted[@]} packages present (${groups[*]})"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing Debian packages. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh container has no package lists; refreshing them is needed before the first install.
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
