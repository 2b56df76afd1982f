# SPDX-License-Identifier: Apache-2.0
# Dynamic int8 linear in one process: PyTorch's torch.ops.quantized.linear_dynamic (every quantized
# engine this torch build has) next to QuantKit's qk_dynamic_linear through ctypes, plus torch's fp32
# F.linear; 1 thread and all threads; prints a markdown table with GOPS and ratios.
# Usage: python3 tests/bench/bench_dynamic_linear_torch.py path/to/libquantkit.so [seconds] [rounds]
#   Exits 0 with a message when torch (or numpy) cannot be imported. The script makes `rounds` passes
#   over every shape and thread count; in each pass every implementation gets one round (a warm-up
#   call, then timed calls for >= seconds/rounds, >= 2 calls); a cell is the median of all its timed
#   calls. A benchmark, not a test: nothing is asserted.
import ctypes
import os
import platform
import statistics
import sys
import time

SHAPES = [(1024, 1024, 1024), (64, 768, 3072)]  # M x N x K: input [M][K], weight [N][K]

QK_DTYPE_S8, QK_DTYPE_U8, QK_DTYPE_F32 = 4, 5, 1
QK_QSCHEME_PER_TENSOR_SYMMETRIC = 2


def load_quantkit(path):
    lib = ctypes.CDLL(path)
    c_int, c_size, c_i64, vp = ctypes.c_int, ctypes.c_size_t, ctypes.c_int64, ctypes.c_void_p
    lib.qk_status_string.restype = ctypes.c_char_p
    lib.qk_status_string.argtypes = [c_int]
    lib.qk_last_error.restype = ctypes.c_char_p
    lib.qk_version_string.restype = ctypes.c_char_p
    lib.qk_isa_name.restype = ctypes.c_char_p
    lib.qk_qparams_create.restype = c_int
    lib.qk_qparams_create.argtypes = [c_int, c_int, ctypes.c_int32, c_i64, vp, vp, vp, c_size, ctypes.c_int32,
                                      ctypes.c_int32, ctypes.POINTER(vp)]
    lib.qk_qparams_destroy.argtypes = [vp]
    lib.qk_threadpool_create.restype = c_int
    lib.qk_threadpool_create.argtypes = [c_size, ctypes.POINTER(vp)]
    lib.qk_threadpool_destroy.argtypes = [vp]
    lib.qk_threadpool_get_thread_count.restype = c_int
    lib.qk_threadpool_get_thread_count.argtypes = [vp, ctypes.POINTER(c_size)]
    lib.qk_packed_weights_create.restype = c_int
    lib.qk_packed_weights_create.argtypes = [vp, c_i64, c_i64, c_i64, vp, vp, c_int, ctypes.POINTER(vp)]
    lib.qk_packed_weights_destroy.argtypes = [vp]
    lib.qk_dynamic_linear_create.restype = c_int
    lib.qk_dynamic_linear_create.argtypes = [vp, c_int, c_int, ctypes.POINTER(vp)]
    lib.qk_dynamic_linear_run.restype = c_int
    lib.qk_dynamic_linear_run.argtypes = [vp, c_i64, vp, c_i64, c_size, vp, c_i64, c_size, vp]
    lib.qk_dynamic_linear_destroy.argtypes = [vp]
    return lib


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def set_openblas_threads(threads):
    """torch.set_num_threads does not reach the OpenBLAS that Debian's torch uses for fp32 GEMM
    (its own pthread pool): set it directly when that library is loaded. Returns the core name."""
    try:
        blas = ctypes.CDLL("libopenblas.so.0")
        blas.openblas_set_num_threads(ctypes.c_int(threads))
        blas.openblas_get_corename.restype = ctypes.c_char_p
        return blas.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return None


def check(lib, status, what):
    if status != 0:
        raise RuntimeError("%s failed: %s (%s)" % (what, lib.qk_status_string(status).decode(),
                                                    lib.qk_last_error().decode()))


def use_thread_cpu_clock(threads):
    """1 thread: CPU time of this thread (everything runs in it, and the slices other processes take
    on a shared core are not counted); all threads, or QK_BENCH_WALL_CLOCK=1: wall time."""
    return threads == 1 and os.environ.get("QK_BENCH_WALL_CLOCK", "0") in ("", "0")


def time_rounds(cands, seconds, rounds, cpu_clock):
    """cands: list of [name, fn, samples]; appends per-call times to samples."""
    clock = time.thread_time if cpu_clock else time.perf_counter
    for _ in range(rounds):
        for cand in cands:
            fn, samples = cand[1], cand[2]
            fn()  # warm-up
            total, calls = 0.0, 0
            while True:
                t0 = clock()
                fn()
                t = clock() - t0
                samples.append(t)
                total += t
                calls += 1
                if calls >= 2 and total >= seconds / rounds:
                    break


def cpu_snapshot():
    """(busy CPU seconds of the machine from /proc/stat, CPU seconds of this process, wall time)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return None
    t = os.times()
    return (sum(v[i] for i in (0, 1, 2, 5, 6, 7)) / os.sysconf("SC_CLK_TCK"), t.user + t.system,
            time.perf_counter())


def foreign_load(a, b, cpus):
    """Share of the whole machine that other processes used between two snapshots."""
    if a is None or b is None or b[2] <= a[2]:
        return float("nan")
    return max(0.0, ((b[0] - a[0]) - (b[1] - a[1])) / ((b[2] - a[2]) * cpus))


def measure_block(cands, seconds, threads, cpus, retry):
    """Times one round of every candidate (samples are appended). With QK_BENCH_QUIET_WAIT=<s>
    (all-thread blocks only), first waits until other processes use < 5 % of the CPUs and repeats a
    block during which they used > 10 %, waiting at most <s> seconds in all.
    Returns (share of the machine other processes used, tries, seconds waited)."""
    budget = float(os.environ.get("QK_BENCH_QUIET_WAIT", "0") or 0) if retry else 0.0
    waited, tries = 0.0, 0
    while True:
        while waited < budget:
            a = cpu_snapshot()
            time.sleep(1.0)
            waited += 1.0
            if foreign_load(a, cpu_snapshot(), cpus) < 0.05:
                break
        sizes = [len(cand[2]) for cand in cands]
        a = cpu_snapshot()
        time_rounds(cands, seconds, 1, use_thread_cpu_clock(threads))
        foreign = foreign_load(a, cpu_snapshot(), cpus)
        tries += 1
        if budget <= 0.0 or not foreign > 0.10 or waited >= budget:
            break
        for cand, size in zip(cands, sizes):  # drop the disturbed block's samples
            del cand[2][size:]
    return foreign, tries, waited


def main():
    if len(sys.argv) < 2:
        print("usage: %s path/to/libquantkit.so [seconds per measurement] [rounds]" % sys.argv[0])
        return 2
    lib_path = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print("bench_dynamic_linear_torch: skipped, cannot import torch/numpy here (%s)" % e)
        return 0

    lib = load_quantkit(lib_path)
    engines = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    all_threads = os.cpu_count() or 1
    pool = ctypes.c_void_p()
    check(lib, lib.qk_threadpool_create(0, ctypes.byref(pool)), "qk_threadpool_create")
    pool_threads = ctypes.c_size_t()
    check(lib, lib.qk_threadpool_get_thread_count(pool, ctypes.byref(pool_threads)), "qk_threadpool_get_thread_count")

    print("# bench_dynamic_linear_torch\n")
    print("- machine: %s, %d hardware threads; load average at start %s" % (
        cpu_model(), all_threads, load_average()))
    print("- torch %s, torch.backends.quantized.supported_engines = %s (default engine %s)" % (
        torch.__version__, torch.backends.quantized.supported_engines, torch.backends.quantized.engine))
    blas_core = set_openblas_threads(all_threads)
    print("- torch's fp32 BLAS: %s (OPENBLAS_CORETYPE=%s)" % (
        "OpenBLAS, core %s, threads set with openblas_set_num_threads" % blas_core if blas_core
        else "not OpenBLAS (thread count left to torch)", os.environ.get("OPENBLAS_CORETYPE", "(unset)")))
    print("- QuantKit %s (%s), kernel path %s, thread pool of %d threads" % (
        lib.qk_version_string().decode(), lib_path, lib.qk_isa_name().decode(), pool_threads.value))
    print("- f32 input ~ N(0,1), f32 weight ~ N(0,0.05) quantized per-tensor symmetric s8 (torch.quantize_per_tensor,"
          " zero point 0), f32 bias;\n  both quantize the input to u8 per tensor at run time (MinMax) and return f32")
    print("- timing: %d passes over all shapes, one round of >= %.3f s per implementation and pass (after a warm-up\n"
          "  call), median of all timed calls;\n"
          "  clock: %s" % (rounds, seconds / rounds,
                           "CPU time of the calling thread for 1 thread, wall time for all threads"
                           if use_thread_cpu_clock(1) else "wall time (QK_BENCH_WALL_CLOCK)"))
    quiet_wait = os.environ.get("QK_BENCH_QUIET_WAIT", "0")
    if float(quiet_wait or 0) > 0:
        print("- QK_BENCH_QUIET_WAIT=%s: all-thread blocks wait up to that long for other processes to use < 5 %% of"
              "\n  the CPUs and are repeated when they used > 10 %% during the block" % quiet_wait)
    sys.stdout.flush()

    results = {}  # (threads, row) -> {shape: seconds}
    rows = []
    notes = []
    gen = torch.Generator().manual_seed(7)
    thread_counts = sorted({1, all_threads})
    prepared = []  # (shape, {threads: candidates}, cleanup handles)
    for (m, n, k) in SHAPES:
        shape = "%dx%dx%d" % (m, n, k)
        x = torch.randn(m, k, generator=gen, dtype=torch.float32)
        w = torch.randn(n, k, generator=gen, dtype=torch.float32) * 0.05
        bias = torch.randn(n, generator=gen, dtype=torch.float32) * 0.1
        w_scale = float(w.abs().max()) / 127.5  # torch's symmetric qint8 rule: amax / ((qmax - qmin) / 2)
        w_q = torch.quantize_per_tensor(w, w_scale, 0, torch.qint8)
        w_int8 = np.ascontiguousarray(w_q.int_repr().numpy())
        x_np = np.ascontiguousarray(x.numpy())
        bias_np = np.ascontiguousarray(bias.numpy())
        y_qk = np.zeros((m, n), dtype=np.float32)
        w_deq = w_q.dequantize()
        y_ref = torch.nn.functional.linear(x, w_deq, bias)

        # QuantKit: per-tensor symmetric s8 weights (zero point 0), f32 bias, u8 dynamic activations.
        scale_c = ctypes.c_float(w_scale)
        zp_c = ctypes.c_int32(0)
        wqp = ctypes.c_void_p()
        check(lib, lib.qk_qparams_create(QK_DTYPE_S8, QK_QSCHEME_PER_TENSOR_SYMMETRIC, 0, 1, ctypes.byref(scale_c),
                                         ctypes.byref(zp_c), None, 1, -128, 127, ctypes.byref(wqp)),
              "qk_qparams_create")
        packed = ctypes.c_void_p()
        check(lib, lib.qk_packed_weights_create(w_int8.ctypes.data, n, k, k, wqp, bias_np.ctypes.data, QK_DTYPE_F32,
                                                ctypes.byref(packed)), "qk_packed_weights_create")
        op = ctypes.c_void_p()
        check(lib, lib.qk_dynamic_linear_create(packed, QK_DTYPE_U8, 0, ctypes.byref(op)), "qk_dynamic_linear_create")

        def qk_run(pool_handle, op=op, m=m, n=n, k=k, x_np=x_np, y_qk=y_qk):
            st = lib.qk_dynamic_linear_run(op, m, x_np.ctypes.data, k, m * k, y_qk.ctypes.data, n, m * n, pool_handle)
            if st != 0:
                check(lib, st, "qk_dynamic_linear_run")

        qk_run(None)
        scale_y = float(y_ref.abs().max())
        notes.append("%s: QuantKit vs fp32 F.linear on the dequantized weights: max |diff| %.4g (max |y| %.3g)" % (
            shape, float(np.abs(y_qk - y_ref.numpy()).max()), scale_y))

        torch_ops = {}
        for eng in engines:
            torch.backends.quantized.engine = eng
            try:
                prepacked = torch.ops.quantized.linear_prepack(w_q, bias)
                y_t = torch.ops.quantized.linear_dynamic(x, prepacked, False)
            except RuntimeError as e:
                notes.append("%s: torch %s linear_dynamic unavailable: %s" % (shape, eng, str(e).splitlines()[0]))
                continue
            torch_ops[eng] = prepacked
            notes.append("%s: torch %s vs QuantKit: max |diff| %.4g; torch %s vs fp32: max |diff| %.4g" % (
                shape, eng, float(np.abs(y_t.numpy() - y_qk).max()), eng, float((y_t - y_ref).abs().max())))

        by_threads = {}
        for threads in thread_counts:
            pool_handle = None if threads == 1 else pool
            cands = [["QuantKit qk_dynamic_linear (u8)", lambda ph=pool_handle, f=qk_run: f(ph), []]]
            for eng, prepacked in torch_ops.items():
                def run_torch(eng=eng, prepacked=prepacked, x=x):
                    torch.backends.quantized.engine = eng
                    torch.ops.quantized.linear_dynamic(x, prepacked, False)
                cands.append(["torch linear_dynamic (%s)" % eng, run_torch, []])

            def run_fp32(x=x, w_deq=w_deq, b=bias):
                torch.nn.functional.linear(x, w_deq, b)
            cands.append(["torch fp32 F.linear", run_fp32, []])
            by_threads[threads] = cands
        prepared.append((shape, by_threads, (op, packed, wqp)))

    # `rounds` passes over every shape and thread count, one round per implementation each.
    load = {}  # (shape, threads) -> [max share, tries, waited]
    for pass_index in range(rounds):
        for shape, by_threads, _ in prepared:
            for threads in thread_counts:
                torch.set_num_threads(threads)
                set_openblas_threads(threads)
                with torch.no_grad():
                    foreign, tries, waited = measure_block(by_threads[threads], seconds / rounds, threads,
                                                           all_threads, threads > 1)
                entry = load.setdefault((shape, threads), [0.0, 0, 0.0])
                entry[0] = max(entry[0], foreign) if foreign == foreign else entry[0]
                entry[1] += tries
                entry[2] += waited
                print("done: pass %d of %d, %s, %d thread(s)" % (pass_index + 1, rounds, shape, threads),
                      file=sys.stderr)
    load_notes = []
    for shape, by_threads, handles in prepared:
        for threads in thread_counts:
            for name, _, samples in by_threads[threads]:
                if name not in rows:
                    rows.append(name)
                results.setdefault((threads, name), {})[shape] = statistics.median(samples)
            share, tries, waited = load[(shape, threads)]
            load_notes.append("%s, %d thread%s: other processes used at most %.0f %% of the %d CPUs "
                              "(%d blocks, %d tries, waited %.0f s)" % (
                                  shape, threads, "" if threads == 1 else "s", 100.0 * share, all_threads, rounds,
                                  tries, waited))
        op, packed, wqp = handles
        lib.qk_dynamic_linear_destroy(op)
        lib.qk_packed_weights_destroy(packed)
        lib.qk_qparams_destroy(wqp)

    shapes = ["%dx%dx%d" % s for s in SHAPES]
    ops = {"%dx%dx%d" % s: 2.0 * s[0] * s[1] * s[2] for s in SHAPES}
    print("\n## GOPS (median time)\n")
    header = "| implementation |" + "".join(" %s, %d thread%s |" % (s, t, "" if t == 1 else "s")
                                           for s in shapes for t in thread_counts)
    print(header)
    print("|---|" + "---:|" * (len(shapes) * len(thread_counts)))
    for row in rows:
        cells = []
        for s in shapes:
            for t in thread_counts:
                sec = results.get((t, row), {}).get(s)
                cells.append(" n/a |" if sec is None else " %.1f (%.2f ms) |" % (ops[s] / sec / 1e9, sec * 1e3))
        print("| %s |%s" % (row, "".join(cells)))
    print("\n## Ratios (same process; > 1 means QuantKit is faster)\n")
    print(header.replace("implementation", "ratio"))
    print("|---|" + "---:|" * (len(shapes) * len(thread_counts)))
    qk_row = rows[0]
    for row in rows[1:]:
        cells = []
        for s in shapes:
            for t in thread_counts:
                a = results.get((t, qk_row), {}).get(s)
                b = results.get((t, row), {}).get(s)
                cells.append(" n/a |" if a is None or b is None else " %.2fx |" % (b / a))
        print("| QuantKit / %s |%s" % (row, "".join(cells)))
    print("\n## Load from other processes during the measurements\n")
    for note in load_notes:
        print("- " + note)
    print("\n## Checks\n")
    for note in notes:
        print("- " + note)
    print("\ntorch parallel info: " + " / ".join(
        line.strip() for line in torch.__config__.parallel_info().splitlines()
        if "threads" in line.lower() or "backend" in line.lower()))
    print("Load average at the end: %s" % load_average())
    lib.qk_threadpool_destroy(pool)
    return 0


if __name__ == "__main__":
    sys.exit(main())
