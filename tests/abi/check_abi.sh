#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ABI test: the functions declared QK_API in quantkit.h, the dynamic symbols libquantkit.so
# exports and the frozen list quantkit-<abi>.symbols must agree. Also checks the symbol version
# node, that nothing but C qk_* symbols leaks, and that the header compiles as strict C99 and C++.
#
# usage: check_abi.sh <header> <libquantkit.so> <symbols-dir> <work-dir>
# environment: NM, PERL, CC, CXX (optional)
set -euo pipefail

header=$(readlink -f "$1")
lib=$2
symbols_dir=$3
work_dir=$4
NM=${NM:-nm}
PERL=${PERL:-perl}
CC=${CC:-cc}
CXX=${CXX:-c++}

status=0
fail() { echo "check_abi: FAIL: $*" >&2; status=1; }
rm -rf "$work_dir"
mkdir -p "$work_dir"

abi=$(sed -n 's/^#define QK_ABI_VERSION \([0-9][0-9]*\).*/\1/p' "$header")
[[ -n $abi ]] || { echo "check_abi: cannot read QK_ABI_VERSION from $header" >&2; exit 1; }
node=QK_$abi   # the version node of cmake/quantkit.map for this ABI
frozen=$symbols_dir/quantkit-$abi.symbols

# --- 1. declared: every `QK_API <return type> qk_name(` in the header ----------------------
# Comments and preprocessor lines (the QK_API definition itself) are removed first so that only
# declarations can add names; the whole header is one string, as declarations span lines.
# Perl (Debian's essential perl-base) because a correct comment stripper is a one-liner there.
# shellcheck disable=SC2016  # a Perl program, not shell
"$PERL" -0777 -ne 's{/\*.*?\*/|//[^\n]*}{ }gs; s{^[ \t]*#.*$}{}mg;
  while (/\bQK_API\b[^;(){}]*?\b([A-Za-z_]\w*)\s*\(/g) { print "$1\n" }' "$header" |
  LC_ALL=C sort -u >"$work_dir/declared.txt"
[[ -s $work_dir/declared.txt ]] || { echo "check_abi: found no QK_API declarations in $header" >&2; exit 1; }

# --- 2. exported: nm -D --defined-only, split into name and version -----------------------
"$NM" -D --defined-only "$lib" >"$work_dir/nm.txt"
: >"$work_dir/exported.txt"
while read -r _addr type sym; do
  [[ -n ${sym:-} ]] || { sym=$type; type=$_addr; }   # absolute symbols may lack an address
  name=${sym%%@*}
  version=${sym#"$name"}
  # The version definition itself shows up as an absolute symbol named after the node.
  if [[ $type == A && $name == "$node" && -z $version ]]; then continue; fi
  case $name in
    _Z*) fail "C++ symbol exported: $sym (only extern \"C\" qk_* may leave the library)" ;;
    qk_*) ;;
    *) fail "non-qk_ symbol exported: $sym" ;;
  esac
  # '@@' is the default version a new link binds to; every export must belong to the node.
  [[ $version == "@@$node" ]] || fail "$name has version '${version:-<none>}', expected @@$node (cmake/quantkit.map)"
  [[ $type == T ]] || fail "$name is exported with nm type '$type'; the ABI has functions only"
  echo "$name" >>"$work_dir/exported.txt"
done <"$work_dir/nm.txt"
LC_ALL=C sort -u -o "$work_dir/exported.txt" "$work_dir/exported.txt"

# --- 3. header == library, both directions -------------------------------------------------
only_declared=$(LC_ALL=C comm -23 "$work_dir/declared.txt" "$work_dir/exported.txt")
only_exported=$(LC_ALL=C comm -13 "$work_dir/declared.txt" "$work_dir/exported.txt")
if [[ -n $only_declared ]]; then
  fail "declared QK_API in $(basename "$header") but not exported by $(basename "$lib") (not implemented, or hidden):"
  sed 's/^/    /' <<<"$only_declared" >&2
fi
if [[ -n $only_exported ]]; then
  fail "exported by $(basename "$lib") but not declared QK_API in $(basename "$header"):"
  sed 's/^/    /' <<<"$only_exported" >&2
fi

# --- 4. frozen list: nothing may disappear; additions must be recorded ---------------------
if [[ ! -f $frozen ]]; then
  fail "no frozen symbol list $frozen for ABI $abi. Create it from the current exports with:"
  echo "    { echo '# SPDX-License-Identifier: Apache-2.0'; echo '# Frozen exports of libquantkit.so.$abi (node $node): only additions allowed.'; cat $work_dir/exported.txt; } > $frozen" >&2
else
  grep -vE '^[[:space:]]*(#|$)' "$frozen" | LC_ALL=C sort -u >"$work_dir/frozen.txt"
  removed=$(LC_ALL=C comm -23 "$work_dir/frozen.txt" "$work_dir/exported.txt")
  # Only proper additions (declared and exported) are offered for recording; strays are
  # reported above and must be fixed in the library instead.
  LC_ALL=C comm -12 "$work_dir/declared.txt" "$work_dir/exported.txt" >"$work_dir/public.txt"
  added=$(LC_ALL=C comm -13 "$work_dir/frozen.txt" "$work_dir/public.txt")
  if [[ -n $removed ]]; then
    fail "symbols of the frozen ABI $abi are gone (an ABI break: restore them, or bump QK_ABI_VERSION):"
    sed 's/^/    /' <<<"$removed" >&2
  fi
  if [[ -n $added ]]; then
    fail "new exported symbols are not in $frozen. If they are meant to be public ABI, record them:"
    sed 's/^/    /' <<<"$added" >&2
    echo "  e.g. (the file's order does not matter to this test):" >&2
    printf '    printf %s %s >> %s\n' "'%s\n'" "${added//$'\n'/ }" "$frozen" >&2
  fi
fi

# --- 5. the header compiles on its own as strict C99 and as C++ ----------------------------
printf '#include "%s"\nint qk_abi_check_dummy(void);\nint qk_abi_check_dummy(void) { return QK_ABI_VERSION; }\n' \
  "$header" >"$work_dir/header_c.c"
cp "$work_dir/header_c.c" "$work_dir/header_cxx.cc"
# -Wstrict-prototypes: an empty () in C is an unprototyped declaration, an ABI hazard.
if ! "$CC" -std=c99 -pedantic -Wall -Wextra -Werror -Wstrict-prototypes -fsyntax-only "$work_dir/header_c.c" \
     2>"$work_dir/c99.log"; then
  fail "quantkit.h does not compile as strict C99:"; cat "$work_dir/c99.log" >&2
fi
for std in c++11 c++17; do
  if ! "$CXX" -std=$std -pedantic -Wall -Wextra -Werror -fsyntax-only "$work_dir/header_cxx.cc" \
       2>"$work_dir/$std.log"; then
    fail "quantkit.h does not compile as $std:"; cat "$work_dir/$std.log" >&2
  fi
done

declared_n=$(wc -l <"$work_dir/declared.txt")
exported_n=$(wc -l <"$work_dir/exported.txt")
if [[ $status -ne 0 ]]; then
  echo "check_abi: FAILED (declared $declared_n, exported $exported_n)" >&2
  exit 1
fi
echo "check_abi: OK: $exported_n functions, header == library == $(basename "$frozen"), all @@$node, header OK as C99/C++"
