#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the libFuzzer binaries of a QK_FUZZ build (`make fuzz`), one after the other, each
# coverage-guided for SECONDS: the committed seeds tests/fuzz/corpus/<target>/ (read-only) plus a
# working corpus <build>/fuzz-corpus/<target>/ that keeps what earlier runs found. Crashes, leaks,
# timeouts and sanitizer reports land in <build>/fuzz-findings/<target>/ (minimize one with
# `./<build>/tests/fuzz_<target> -minimize_crash=1 -runs=10000 FILE`, then commit it as
# tests/fuzz/corpus/<target>/regress-<what>: the CTest replay runs it from then on). A dictionary
# tests/fuzz/<target>.dict is used when present. Prints one summary line per target and exits 1
# if any target found something.
#
# usage: scripts/run-fuzz.sh BUILD_DIR SECONDS [TARGET...]   (default: every target of the build)
# environment: FUZZ_ARGS (extra libFuzzer flags, e.g. -jobs=2), FUZZ_NICE (default 19)
set -euo pipefail

build=${1:?usage: run-fuzz.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: run-fuzz.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
list=$build/tests/fuzz/fuzz_targets.txt
[[ -f $list ]] || { echo "run-fuzz: $list missing (configure with -DQK_FUZZ=ON)" >&2; exit 2; }

declare -A max_len=()
all=()
while read -r name len; do
  [[ -n $name ]] || continue
  max_len[$name]=$len
  all+=("$name")
done <"$list"
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")

status=0
summary=()
for t in "${targets[@]}"; do
  [[ -n ${max_len[$t]:-} ]] || { echo "run-fuzz: unknown target '$t' (known: ${all[*]})" >&2; exit 2; }
  bin=$build/tests/fuzz_$t
  work=$build/fuzz-corpus/$t
  findings=$build/fuzz-findings/$t
  log=$build/fuzz-logs/$t.log
  mkdir -p "$work" "$findings" "$(dirname "$log")"
  dict=()
  [[ -f $root/tests/fuzz/$t.dict ]] && dict=(-dict="$root/tests/fuzz/$t.dict")
  echo "== fuzz_$t for ${seconds}s (log: $log)"
  before=$(find "$findings" -type f | wc -l)
  # -fork=1: a finding is recorded and the run goes on until the time is up (one process at a
  # time: the machine's other cores stay free). -ignore_crashes etc. keep it going after one.
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  nice -n "${FUZZ_NICE:-19}" "$bin" -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout=20 \
    -rss_limit_mb=2560 -malloc_limit_mb=2048 -print_final_stats=1 -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
    -ignore_ooms=1 -artifact_prefix="$findings/" "${dict[@]}" ${FUZZ_ARGS:-} \
    "$work" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1 || true
  after=$(find "$findings" -type f | wc -l)
  # fork mode reports cumulative lines "#N: cov: C ft: F corp: K exec/s E oom/timeout/crash:
  # a/b/c time: Ts"; the last one sums the run up (the rate over the whole run: N / T)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  secs=$(sed -nE 's/.* time: ([0-9]+)s.*/\1/p' <<<"$last")
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  otc=$(sed -nE 's/.*oom\/timeout\/crash: ([0-9]+\/[0-9]+\/[0-9]+).*/\1/p' <<<"$last")
  rate=?
  [[ -n $execs && -n $secs && $secs -gt 0 ]] && rate=$((execs / secs))
  line="fuzz_$t: ${secs:-?}s, ${execs:-?} execs, $rate exec/s, cov ${cov:-?}, corpus $(find "$work" -type f | wc -l) files, oom/timeout/crash ${otc:-?}, $((after - before)) new findings"
  echo "$line"
  summary+=("$line")
  [[ $after -eq $before ]] || status=1
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
