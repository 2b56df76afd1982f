#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The ONNX importer (src/onnx) against the ONNX backend test suite (Debian's libonnx-testdata:
<data>/{node,pytorch-converted,pytorch-operator,simple}/<test>/model.onnx + test_data_set_N/;
real/ is left out: large models).

Every test model goes through quantkit.Model.load_onnx:
  - not applicable ("n/a"): an op type the importer does not take ("unsupported op type"), an
    opset outside the importer's range, no default-domain opset (the training ops), a graph
    input / element type QuantKit does not take (u8, s8, double, float16, string, sequence ...);
  - otherwise applicable: every test_data_set_* runs (inputs by the model's graph input names,
    initializers excluded) and every output must match: shape, dtype, and values within
    rtol=1e-3, atol=1e-7 (the ONNX backend's defaults; NaN equals NaN; integers and bools exact).

Where the suite packages a model differently from what QuantKit's import conventions take, the
model is adapted, never the expected data, and the test is marked:
  *  frozen: parameter inputs the importer needs as import-time constants (Conv weights, Reshape
     shapes, Slice starts, Clip bounds ...) are graph inputs in many node tests. On "... must be a
     constant" naming a graph input, that input becomes an initializer holding the data set's
     value (one import per data set), as exporters hand such inputs over.
  ^  restamped: a model of an opset below the importer's range (7) whose every op has the same
     schema at opset 7 (onnx.defs since_version unchanged) is imported as opset 7: same semantics.
  +  pruned: an auxiliary output the importer does not compute (BatchNormalization's training
     statistics, Dropout's mask, LayerNormalization's Mean / InvStdDev, MaxPool's Indices) is a
     graph output: it is dropped from the graph outputs and the remaining outputs are compared.
  ~  dtype by design: QuantKit computes double and float16 as f32 and int16 / uint16 as s32
     (src/onnx/onnx_proto.cc dtype_from_onnx), so an expected output of those types is compared
     as the QuantKit type it maps to (values at the suite's tolerance).
--strict turns the adaptations off (diagnostic: a test that needs one then fails, listed or not).

Expectations: tests/onnx/conformance_expected.txt lists the tests that passed when it was last
written (--update rewrites it). The run fails when
  - a listed test fails or errors (a regression),
  - an op type of the importer's table (src/onnx/op_table.cc: the X(Name) list and the
    {"Name", convert_...} rows, parsed at run time) has no listed test whose model uses it, unless
    the file waives it ("waive <Op>: <reason>", for an op the suite has no applicable test of:
    printed as WAIVED on every run).
Newly passing tests are printed as a hint (update the list to keep them passing).

Exit status: 0 passed, 1 failed, 77 skipped (python3-onnx or the test data missing; CTest's
SKIP_RETURN_CODE). Options: --update, --verbose (every detail, the n/a tests), --filter SUBSTRING,
--strict, --data DIR (default $QK_ONNX_TESTDATA or /usr/include/onnx/backend/test/data)."""
import argparse
import collections
import faulthandler
import os
import re
import sys
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXPECTED = os.path.join(HERE, "conformance_expected.txt")
OP_TABLE = os.path.join(ROOT, "src", "onnx", "op_table.cc")
SUITES = ("node", "pytorch-converted", "pytorch-operator", "simple")
RTOL, ATOL = 1e-3, 1e-7
MIN_OPSET = 7      # the importer's lowest default-domain opset
MAX_ADAPT = 8      # adaptations per import at most

# Load errors that make a test not applicable (reason, regex on the error message).
NOT_APPLICABLE = [
    ("op", re.compile(r"unsupported op types?: ")),
    ("opset", re.compile(r"opset \d+ of the default domain")),
    ("opset", re.compile(r"imports no opset of the default ONNX domain")),
    ("dtype", re.compile(r"\(graph inputs are [^)]*\)")),
    ("dtype", re.compile(r"QuantKit models take float32 inputs")),
    ("dtype", re.compile(r"ONNX element type \d+ is not supported")),
    ("dtype", re.compile(r"input '[^']*' is not a tensor")),
]
# "node 'Conv' (Conv): ... weight (input 1) must be a constant" / "min (input 1, 'min') must be a constant"
MUST_BE_CONSTANT = re.compile(r"node '([^']*)' \((\w+)\):.*\(input (\d+)[,)].*must be a constant")
# "node 'Dropout' (Dropout): the Dropout mask output is read" / "training output 1 is read"
AUX_OUTPUT_READ = re.compile(r"node '([^']*)' \((\w+)\):.* outputs? (?:\d+ )?(?:is|are) read")
# The element types QuantKit stores an ONNX type as (dtype_from_onnx).
QK_DTYPE = {"float64": "float32", "float16": "float32", "int16": "int32", "uint16": "int32"}
MARKS = {"frozen": "*", "restamped": "^", "pruned": "+", "dtype": "~"}


def skip(why):
    print(f"SKIPPED: onnx_conformance: {why}", flush=True)
    sys.exit(SKIP)


def table_ops():
    """The op types of the importer's table (src/onnx/op_table.cc), as written there."""
    with open(OP_TABLE, encoding="utf-8") as f:
        text = f.read()
    ops = set(re.findall(r'\{\s*"(\w+)"\s*,\s*convert_\w+\s*\}', text))
    m = re.search(r"#define\s+QK_ONNX_CONVERTERS\(X\)(.*?)\n\s*\n", text, re.S)
    if m:
        ops |= set(re.findall(r"\bX\((\w+)\)", m.group(1)))
    if not ops:
        raise RuntimeError(f"no op rows found in {OP_TABLE}")
    return ops


def read_expected():
    """(tests, waivers): the listed tests, and {op type: reason} of the "waive <Op>: <reason>"
    lines (table ops the suite has no applicable test for)."""
    tests, waivers = [], {}
    if os.path.exists(EXPECTED):
        with open(EXPECTED, encoding="utf-8") as f:
            for ln in f:
                ln = ln.strip()
                if ln.startswith("waive "):
                    op, _, why = ln[len("waive "):].partition(":")
                    waivers[op.strip()] = why.strip()
                elif ln and not ln.startswith("#"):
                    tests.append(ln.split("#", 1)[0].strip())
    return tests, waivers


def write_expected(passing, waivers):
    header = (
        "# ONNX backend tests the ONNX importer passes (tests/onnx/test_conformance.py), one per line.\n"
        "# A listed test that fails is a regression. After fixing or adding ops, regenerate with\n"
        "#   PYTHONPATH=<build>/bindings/python python3 tests/onnx/test_conformance.py --update\n"
        "# (which keeps the waive lines). 'waive <Op>: <reason>': an op of src/onnx/op_table.cc that the\n"
        "# suite has no applicable test for; printed on every run, to be removed once a test covers it.\n")
    with open(EXPECTED, "w", encoding="utf-8") as f:
        f.write(header)
        for op in sorted(waivers):
            f.write(f"waive {op}: {waivers[op]}\n")
        for t in sorted(passing):
            f.write(t + "\n")


class Outcome(Exception):
    """Ends a test early: status "na" or "fail", a short reason, the detail."""

    def __init__(self, status, reason, detail):
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


class Result:
    def __init__(self, test, ops):
        self.test = test          # "node/test_relu"
        self.ops = ops            # op types of the model (other domains as "domain::Op")
        self.status = "pass"      # "pass", "fail", "na"
        self.reason = ""          # na: op / opset / dtype; fail: the failure kind
        self.detail = ""
        self.adapted = {}         # adaptation -> what (frozen inputs, pruned outputs ...)
        self.na_ops = []          # na "op": the unsupported op types the importer names

    def marks(self):
        return "".join(MARKS[k] for k in MARKS if k in self.adapted)


def model_ops(model):
    ops = []
    for n in model.graph.node:
        t = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}"
        if t not in ops:
            ops.append(t)
    return ops


def not_applicable(message):
    for reason, rx in NOT_APPLICABLE:
        if rx.search(message):
            return reason
    return None


def find_node(model, message, rx):
    """The node an importer error names (its name, or its op type when it has none) with the
    regex's match, or (None, None)."""
    m = rx.search(message)
    if not m:
        return None, None
    name, op = m.group(1), m.group(2)
    for n in model.graph.node:
        if n.op_type == op and (n.name == name or (not n.name and name == op)):
            return n, m
    return None, m


# ---- adaptations ------------------------------------------------------------------------------
def default_opset(model):
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def restamped(model):
    """`model` as opset MIN_OPSET when it is older and none of its ops changed up to MIN_OPSET,
    else None."""
    import onnx
    import onnx.defs
    v = default_opset(model)
    if v is None or v >= MIN_OPSET:
        return None
    for n in model.graph.node:
        if n.domain not in ("", "ai.onnx"):
            return None
        try:
            then = onnx.defs.get_schema(n.op_type, v).since_version
            if then != onnx.defs.get_schema(n.op_type, MIN_OPSET).since_version:
                return None
        except onnx.defs.SchemaError:
            return None
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for o in m.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = MIN_OPSET
    return m


def frozen(model, name, value):
    """`model` with graph input `name` turned into an initializer holding `value`."""
    import onnx
    from onnx import numpy_helper
    m = onnx.ModelProto()
    m.CopyFrom(model)
    keep = [i for i in m.graph.input if i.name != name]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    m.graph.initializer.append(numpy_helper.from_array(value, name))
    return m


def pruned(model, node):
    """`model` without the graph outputs that are outputs 1.. of `node`, or None (nothing to
    prune, or nothing would be left)."""
    import onnx
    aux = set(node.output[1:])
    keep = [o for o in model.graph.output if o.name not in aux]
    if len(keep) == len(model.graph.output) or not keep:
        return None
    m = onnx.ModelProto()
    m.CopyFrom(model)
    del m.graph.output[:]
    m.graph.output.extend(keep)
    return m


def note(r, adaptation, names):
    """Records names under an adaptation once (every data set imports again)."""
    seen = r.adapted.setdefault(adaptation, [])
    seen.extend(n for n in names if n not in seen)


def import_adapted(qk, model, model_path, feeds, r, strict):
    """The QuantKit model of `model` (adapted where needed, recorded in r.adapted) and the feeds
    it takes; raises Outcome."""
    work, feeds = model, dict(feeds)
    for _ in range(MAX_ADAPT + 1):
        try:
            src = model_path if work is model else work.SerializeToString()
            return qk.Model.load_onnx(src), work, feeds
        except qk.QuantKitError as e:
            err = e
        msg = err.message
        reason = not_applicable(msg)
        if reason == "opset" and not strict:
            m = restamped(work)
            if m is not None:
                work = m
                r.adapted["restamped"] = f"opset {default_opset(model)} -> {MIN_OPSET}"
                continue
        if reason is not None:
            na_ops = []
            if reason == "op":
                na_ops = re.findall(r"([\w.:]+) \(node '", msg.split("unsupported op type", 1)[1])
            e2 = Outcome("na", reason, msg)
            e2.na_ops = na_ops
            raise e2
        if not strict:
            node, m = find_node(work, msg, MUST_BE_CONSTANT)
            if node is not None:
                pos = int(m.group(3))
                name = node.input[pos] if pos < len(node.input) else ""
                if name in feeds:
                    work = frozen(work, name, feeds.pop(name))
                    note(r, "frozen", [name])
                    continue
            node, m = find_node(work, msg, AUX_OUTPUT_READ)
            if node is not None:
                m2 = pruned(work, node)
                if m2 is not None:
                    kept = {o.name for o in m2.graph.output}
                    note(r, "pruned", [o.name for o in work.graph.output if o.name not in kept])
                    work = m2
                    continue
        raise Outcome("fail", "load " + err.status_name, msg)
    raise Outcome("fail", "load", f"more than {MAX_ADAPT} adaptations: {r.adapted}")


# ---- comparison ---------------------------------------------------------------------------------
def compare(name, actual, expected, r, strict):
    """None when the output matches, else (kind, what differs)."""
    import numpy as np
    if actual.shape != expected.shape:
        return "shape", f"output {name!r}: shape {actual.shape}, expected {expected.shape}"
    if actual.dtype != expected.dtype:
        mapped = None if strict else QK_DTYPE.get(expected.dtype.name)
        if mapped != actual.dtype.name:
            return "dtype", f"output {name!r}: dtype {actual.dtype}, expected {expected.dtype}"
        r.adapted["dtype"] = f"{expected.dtype} as {actual.dtype}"
        expected = expected.astype(actual.dtype)
    if expected.dtype == np.bool_ or expected.dtype.kind in "iu":
        bad = int((actual != expected).sum())
        return None if bad == 0 else ("values", f"output {name!r}: {bad}/{expected.size} elements differ")
    a = actual.astype(np.float64)
    b = expected.astype(np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    err = np.where(same, 0.0, np.abs(a - b))
    err = np.where(np.isnan(err), np.inf, err)
    ok = err <= ATOL + RTOL * np.where(np.isfinite(b), np.abs(b), 0.0)
    if ok.all():
        return None
    i = np.unravel_index(int(np.argmax(np.where(ok, -1.0, err))), err.shape)
    return "values", (f"output {name!r}: {int((~ok).sum())}/{expected.size} elements off (largest at "
                      f"{tuple(int(v) for v in i)}: {a[i]:.6g}, expected {b[i]:.6g}; rtol {RTOL}, atol {ATOL})")


def load_tensor(path):
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def data_sets(test_dir):
    sets = []
    for d in sorted(os.listdir(test_dir)):
        p = os.path.join(test_dir, d)
        if d.startswith("test_data_set_") and os.path.isdir(p):
            def files(prefix):
                fs = [f for f in os.listdir(p) if f.startswith(prefix) and f.endswith(".pb")]
                return [os.path.join(p, f) for f in sorted(fs, key=lambda f: int(f[len(prefix):-3]))]
            sets.append((d, [load_tensor(f) for f in files("input_")], [load_tensor(f) for f in files("output_")]))
    return sets


def run_test(qk, suite_dir, suite, name, strict):
    import onnx
    test_dir = os.path.join(suite_dir, name)
    model_path = os.path.join(test_dir, "model.onnx")
    model = onnx.load(model_path, load_external_data=False)
    r = Result(f"{suite}/{name}", model_ops(model))
    initializers = {i.name for i in model.graph.initializer}
    input_names = [i.name for i in model.graph.input if i.name not in initializers]
    output_names = [o.name for o in model.graph.output]
    try:
        # Not applicable before reading any data; an unadapted model imports once.
        try:
            qk_model = qk.Model.load_onnx(model_path)
        except qk.QuantKitError as e:
            qk_model = None
            reason = not_applicable(e.message)
            if reason is not None and (reason != "opset" or strict or restamped(model) is None):
                import_adapted(qk, model, model_path, {}, r, strict)  # raises the n/a Outcome
        sets = data_sets(test_dir)
        if not sets:
            raise Outcome("fail", "no test data", test_dir)
        for set_name, inputs, outputs in sets:
            if len(inputs) > len(input_names) or len(outputs) != len(output_names):
                raise Outcome("fail", "test data", f"{set_name}: {len(inputs)} inputs / {len(outputs)} outputs for "
                              f"{len(input_names)} / {len(output_names)} graph inputs / outputs")
            feeds = dict(zip(input_names, inputs))
            m, work = qk_model, model
            if m is None:
                m, work, feeds = import_adapted(qk, model, model_path, feeds, r, strict)
            try:
                got = m.run_named(feeds)
            except Exception as e:  # noqa: BLE001 - any run failure is this test's failure
                raise Outcome("fail", "run " + getattr(e, "status_name", type(e).__name__),
                              f"{set_name}: {getattr(e, 'message', e)}")
            want = dict(zip(output_names, outputs))
            for o in work.graph.output:
                if o.name not in got:
                    raise Outcome("fail", "missing output", f"{set_name}: output {o.name!r} not returned")
                diff = compare(o.name, got[o.name], want[o.name], r, strict)
                if diff is not None:
                    raise Outcome("fail", diff[0], f"{set_name}: {diff[1]}")
    except Outcome as o:
        r.status, r.reason, r.detail = o.status, o.reason, o.detail
        r.na_ops = getattr(o, "na_ops", [])
    return r


# ---- report -------------------------------------------------------------------------------------
def adapted_text(r):
    """ " [*+ frozen: W; pruned: mask]" for an adapted test, else ""."""
    parts = [f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in r.adapted.items()]
    return f" [{r.marks()} {'; '.join(parts)}]" if parts else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help="rewrite conformance_expected.txt with the passing tests")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every detail and the n/a tests")
    ap.add_argument("--filter", default="", help="only tests whose 'suite/name' contains this")
    ap.add_argument("--strict", action="store_true", help="no adaptations (see the docstring)")
    ap.add_argument("--data", default=os.environ.get("QK_ONNX_TESTDATA", "/usr/include/onnx/backend/test/data"))
    args = ap.parse_args()

    try:
        import numpy  # noqa: F401
        import onnx  # noqa: F401
        import onnx.defs  # noqa: F401
        from onnx import numpy_helper  # noqa: F401
    except ImportError as e:
        skip(f"python3-onnx (or numpy) is missing for {sys.executable}: {e}")
    suites = [s for s in SUITES if os.path.isdir(os.path.join(args.data, s))]
    if not suites:
        skip(f"no ONNX backend test data under {args.data} (Debian: libonnx-testdata)")
    import quantkit as qk  # not a skip: the binding is what is tested

    faulthandler.enable()
    start = time.monotonic()
    results = []
    for suite in suites:
        suite_dir = os.path.join(args.data, suite)
        for name in sorted(os.listdir(suite_dir)):
            test = f"{suite}/{name}"
            if args.filter not in test or not os.path.isfile(os.path.join(suite_dir, name, "model.onnx")):
                continue
            if args.verbose:
                print(f"  {test} ...", flush=True)
            try:
                results.append(run_test(qk, suite_dir, suite, name, args.strict))
            except Exception as e:  # noqa: BLE001 - a harness error fails this test, the run goes on
                r = Result(test, [])
                r.status, r.reason, r.detail = "fail", "harness " + type(e).__name__, str(e)
                results.append(r)
    elapsed = time.monotonic() - start

    by_test = {r.test: r for r in results}
    applicable = [r for r in results if r.status != "na"]
    passed = [r for r in applicable if r.status == "pass"]
    failed = [r for r in applicable if r.status == "fail"]
    na = [r for r in results if r.status == "na"]

    # ---- per op type -------------------------------------------------------------------------
    table = table_ops()
    per_op = collections.defaultdict(lambda: [0, 0, 0, 0])  # passed, applicable, adapted passes, n/a
    for r in results:
        if r.status == "na":
            for op in (r.na_ops or r.ops):
                per_op[op][3] += 1
            continue
        for op in r.ops:
            per_op[op][1] += 1
            if r.status == "pass":
                per_op[op][0] += 1
                per_op[op][2] += bool(r.adapted)
    print(f"ONNX backend conformance ({', '.join(suites)}: {len(results)} tests)")
    print("T: in the importer's table; a test counts for every op type its model uses; "
          "adapted: passes that needed an adaptation (* frozen, ^ restamped, + pruned, ~ dtype by design)")
    print(f"    {'op type':<22} {'passed/applicable':>17} {'n/a':>5} {'adapted':>8}")
    for op in sorted(set(per_op) | table, key=str.lower):
        p, a, ad, n = per_op[op]
        if a == 0 and op not in table:
            continue
        print(f"  {'T' if op in table else ' '} {op:<22} {p:>8}/{a:<8} {n:>5} {ad if ad else '':>8}")
    na_only = sorted((op for op, v in per_op.items() if v[1] == 0 and op not in table), key=str.lower)
    print(f"  n/a only ({len(na_only)} op types): " + ", ".join(f"{op} {per_op[op][3]}" for op in na_only))
    reasons = collections.Counter(r.reason for r in na)
    marks = collections.Counter(k for r in passed for k in r.adapted)
    print(f"Totals: {len(results)} tests; {len(na)} not applicable ("
          + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))
          + f"); {len(applicable)} applicable: {len(passed)} passed ("
          + (", ".join(f"{MARKS[k]} {k} {v}" for k, v in sorted(marks.items())) or "none adapted")
          + f"), {len(failed)} failed; {elapsed:.1f} s")

    if failed:
        kinds = collections.Counter(r.reason for r in failed)
        print(f"Failing applicable tests ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}):")
        for r in failed:
            detail = r.detail if args.verbose else r.detail[:200]
            print(f"  {r.test}: {r.reason}{adapted_text(r)}: {detail}")
    if args.verbose:
        for r in passed:
            if r.adapted:
                print(f"  passed {r.test}{adapted_text(r)}")
        for r in na:
            print(f"  n/a {r.test}: {r.reason}: {r.detail[:200]}")

    # ---- expectations ------------------------------------------------------------------------
    now_passing = {r.test for r in passed}
    if args.update:
        if args.filter or args.strict:
            print("FAILED: --update with --filter / --strict would drop tests: not written")
            return 1
        write_expected(now_passing, read_expected()[1])
        print(f"wrote {len(now_passing)} tests to {os.path.relpath(EXPECTED, ROOT)}")
    expected, waivers = read_expected()
    if not expected:
        print(f"FAILED: no expectations in {EXPECTED} (run with --update)")
        return 1
    selected = [t for t in expected if args.filter in t]
    regressions = [t for t in selected if t not in now_passing]
    new = sorted(now_passing - set(expected))
    rc = 0
    if new:
        print(f"Hint: {len(new)} test(s) pass but are not in {os.path.relpath(EXPECTED, ROOT)} "
              f"(--update adds them): " + ", ".join(new))
    if regressions:
        rc = 1
        print(f"FAILED: {len(regressions)} expected test(s) no longer pass:")
        for t in regressions:
            r = by_test.get(t)
            why = "not in the test data" if r is None else f"{r.status} {r.reason}{adapted_text(r)}: {r.detail}"
            print(f"  {t}: {why}")
    if not args.filter:
        covered = set()
        for t in expected:
            if t in by_test:
                covered.update(by_test[t].ops)
        for op in sorted(waivers):
            if op in covered:
                print(f"Hint: waived op {op} now has a passing test: remove its waive line")
            elif op not in table:
                print(f"Hint: waived op {op} is not in the table any more: remove its waive line")
            else:
                print(f"WAIVED: op {op} of the table has no test: {waivers[op]}")
        uncovered = sorted(table - covered - set(waivers))
        if uncovered:
            rc = 1
            print(f"FAILED: {len(uncovered)} op type(s) of {os.path.relpath(OP_TABLE, ROOT)} have no passing test "
                  f"in {os.path.basename(EXPECTED)}: " + ", ".join(uncovered))
    print(f"{'PASSED' if rc == 0 else 'FAILED'}: {len(selected) - len(regressions)}/{len(selected)} expected tests "
          f"pass ({elapsed:.1f} s)")
    return rc


if __name__ == "__main__":
    sys.exit(main())
