#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end test of `qk quantize` and `qk run`, run the way a user runs them, on the committed
# ONNX fixtures of tests/cli/data (written by tests/cli/make_onnx_fixture.py, with the numpy
# reference output of the float model).
# usage: cli_model.sh QK DATA_DIR WORKDIR
# Every check names what it expected; the script stops at the first failure with status 1.
set -u
QK=$1
DATA=$2
WORK=$3

rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK" || exit 2
unset QK_PROGRESS

checks=0
fail() {
  echo "FAIL: $*" >&2
  echo "--- stdout ---" >&2; cat out.txt >&2 2>/dev/null
  echo "--- stderr ---" >&2; cat err.txt >&2 2>/dev/null
  exit 1
}
# run EXPECTED_STATUS CMD...: runs CMD with stdout in out.txt, stderr in err.txt.
run() {
  local want=$1; shift
  "$@" >out.txt 2>err.txt
  local got=$?
  checks=$((checks + 1))
  [[ $got == "$want" ]] || fail "'$*' exited $got, expected $want"
}
has() {  # has FILE TEXT: FILE contains TEXT
  checks=$((checks + 1))
  grep -qF -- "$2" "$1" || fail "$1 does not contain '$2'"
}
empty() {  # empty FILE: FILE has no bytes
  checks=$((checks + 1))
  [[ ! -s $1 ]] || fail "$1 is not empty"
}

MODEL=$DATA/tiny_cnn.onnx
CALIB=$DATA/calib.npy
X=$DATA/input.npy
REF=$DATA/ref/y.npy             # numpy's float output of tiny_cnn on input.npy
TOL=$(cat "$DATA/tolerance.txt")  # 5% of the reference output's range
mkdir -p f s d b

# --- help --------------------------------------------------------------------------------------
run 0 "$QK" --help;               has out.txt "quantize MODEL -o OUT.qkw"; has out.txt "run MODEL --input X.npy"
run 0 "$QK" quantize --help;      has out.txt "usage: qk quantize"
run 0 "$QK" help run;             has out.txt "usage: qk run"

# --- qk run on the ONNX model: the float graph gives numpy's reference -------------------------
run 0 "$QK" run "$MODEL" --input "$X" -o f/y.npy;  has out.txt "x 6x1x8x8 -> y 6x3"
run 0 "$QK" diff "$REF" f/y.npy --max-err 1e-5;  has out.txt "within tolerance"
run 0 "$QK" run "$MODEL" -i "$X" -o f/y2.npy --output-name y -q;  empty out.txt
checks=$((checks + 1)); cmp -s f/y.npy f/y2.npy || fail "--output-name y wrote a different output"

# --- static quantization: calibrated, converted, saved; qk run runs it close to float ---------
# QK_PROGRESS=1 forces the bar only on a terminal: stderr is a file here, so it stays empty.
run 0 env QK_PROGRESS=1 "$QK" quantize "$MODEL" -o static.qkw --calibration "$CALIB"
has out.txt "static int8, calibrated on 40 samples"; has out.txt "nodes ("; has out.txt "qk.Quantize"
empty err.txt
checks=$((checks + 1)); [[ -s static.qkw ]] || fail "static.qkw not written"
run 0 "$QK" run static.qkw --input "$X" -o s/y.npy
run 0 "$QK" diff "$REF" s/y.npy --max-err "$TOL";  has out.txt "within tolerance"
# the batch size splits the same samples differently (40 = 5 x 7 + 5)
run 0 "$QK" quantize "$MODEL" -o batch7.qkw --calibration "$CALIB" --batch 7 --quiet;  empty out.txt; empty err.txt
run 0 "$QK" run batch7.qkw --input "$X" -o b/y.npy
run 0 "$QK" diff "$REF" b/y.npy --max-err "$TOL"
run 2 "$QK" quantize static.qkw -o again.qkw --dynamic;  has err.txt "already quantized"

# --- dynamic quantization: no calibration data ------------------------------------------------
run 0 "$QK" quantize "$MODEL" -o dynamic.qkw --dynamic;  has out.txt "dynamic int8"
run 0 "$QK" run dynamic.qkw --input "$X" -o d/y.npy
run 0 "$QK" diff "$REF" d/y.npy --max-err "$TOL";  has out.txt "within tolerance"

# --- errors: status 2 and a message naming the problem ----------------------------------------
run 2 "$QK" quantize "$MODEL" -o x.qkw;       has err.txt "needs calibration data (--calibration"
run 2 "$QK" quantize "$MODEL";                has err.txt "no output file given"
run 2 "$QK" quantize "$MODEL" -o x.qkw --dynamic --calibration "$CALIB";  has err.txt "--dynamic takes no"
run 2 "$QK" quantize "$MODEL" -o x.qkw --calibration "$CALIB" --batch 0;  has err.txt "--batch"
run 2 "$QK" quantize "$DATA/two_inputs.onnx" -o x.qkw --calibration "$CALIB"
has err.txt "the model has 2 inputs ('a', 'b')"
run 2 "$QK" run "$DATA/two_inputs.onnx" --input "$X" -o z.npy;  has err.txt "the model has 2 inputs"
run 2 "$QK" quantize "$MODEL" -o x.qkw --calibration "$REF";   has err.txt "shape 6x3 does not fit input 'x'"
run 2 "$QK" run "$MODEL" --input "$REF" -o z.npy;              has err.txt "(batchx1x8x8; the first axis is the batch)"
run 2 "$QK" quantize missing.onnx -o x.qkw --dynamic;          has err.txt "missing.onnx"
run 2 "$QK" quantize "$MODEL" -o x.qkw --calibration missing.npy;  has err.txt "missing.npy"
run 2 "$QK" run missing.qkw --input "$X" -o z.npy;             has err.txt "missing.qkw"
run 2 "$QK" run "$MODEL" --input missing.npy -o z.npy;         has err.txt "missing.npy"
run 2 "$QK" run "$MODEL" -o z.npy;                             has err.txt "no input array given"
run 2 "$QK" run "$MODEL" --input "$X";                         has err.txt "no output file given"
run 2 "$QK" run "$MODEL" --input "$X" -o z.npy --output-name nope;  has err.txt "no output 'nope' (outputs: 'y')"
run 2 "$QK" run "$DATA/calib.npy" --input "$X" -o z.npy;       has err.txt "calib.npy"
checks=$((checks + 1)); [[ ! -e x.qkw && ! -e z.npy ]] || fail "a failed command left x.qkw or z.npy behind"

echo "cli_model: $checks checks passed"
