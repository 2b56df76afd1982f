#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/golden/histogram_torch.txt: PyTorch 1.13 HistogramObserver qparams for the
QK_OBSERVER_HISTOGRAM golden test (tests/unit/test_golden_histogram.c).

Run by hand with Debian's interpreter (it has torch 1.13):  /usr/bin/python3 tests/golden/gen_torch_histogram.py

torch 1.13's HistogramObserver.forward bins each batch with
    torch.histc(x, bins, min=int(combined_min), max=int(combined_max))
so the range is truncated toward zero and samples outside [int(min), int(max)] are dropped (when
int(min) == int(max), histc falls back to the batch's own min/max instead). QuantKit bins over the
true float range. The two agree exactly only where the truncation changes nothing, which is:
  * a first batch whose min and max are integers, or lie in (-1, 1) (both truncate to 0, so histc
    uses the batch's exact extremes);
  * a later batch whose combined range after _adjust_min_max has integer ends, or ends in (-1, 1)
    that are exactly this batch's min and max.
Every "torch_bug 0" case below is checked for that (replaying _adjust_min_max in float32), and its
torch histogram must hold every sample. "torch_bug 1" cases are inputs where torch drops samples:
the test shows that QuantKit keeps them all and therefore answers differently.

File format: one "data NAME N V1 ... VN" line per input batch (shared between cases), then
"case NAME" ... "end" blocks of "key token..." lines. Floats are float32 bit patterns ("0x3f800000")
so parsing is exact.
  config DTYPE SCHEME REDUCE_RANGE BINS UPSAMPLE   (dtype u8|s8|s32, scheme affine|symmetric)
  torch_bug 0|1
  batches NAME...                                   (data blocks, one forward() call each)
  scale BITS / zero_point INT                       (torch's calculate_qparams)
  torch_hist_total BITS                             (sum of torch's histogram afterwards)
"""
import os
import struct
import warnings

import numpy as np
import torch
from torch.ao.quantization import HistogramObserver

warnings.filterwarnings("ignore")
f32 = np.float32
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "histogram_torch.txt")
DTYPES = {"u8": torch.quint8, "s8": torch.qint8, "s32": torch.qint32}
SCHEMES = {"affine": torch.per_tensor_affine, "symmetric": torch.per_tensor_symmetric}


def bits(v):
    return "0x%08x" % struct.unpack("<I", struct.pack("<f", float(v)))[0]


def histc_keeps_everything(batches, bins, upsample):
    """Replays torch's range bookkeeping; True if int() truncation drops or misplaces nothing."""
    lo = hi = None
    for x in batches:
        bmin, bmax = f32(x.min()), f32(x.max())
        if lo is None or lo == hi:
            new_lo, new_hi = bmin, bmax
        else:
            new_lo, new_hi = min(bmin, lo), max(bmax, hi)
            cell = f32(f32(hi - lo) / f32(bins * upsample))
            old_bin = f32(f32(bins) * cell)
            down = int(np.ceil(f32(f32(new_hi - new_lo) / old_bin)))
            new_hi = f32(new_hi + f32(f32(f32(down) * old_bin) - f32(new_hi - new_lo)))
        if int(new_lo) == int(new_hi):  # histc falls back to this batch's extremes
            ok = bmin == new_lo and bmax == new_hi
        else:
            ok = int(new_lo) == new_lo and int(new_hi) == new_hi
        if not ok:
            return False
        lo, hi = new_lo, new_hi
    return True


def run_torch(batches, dtype, scheme, reduce_range, bins, upsample):
    obs = HistogramObserver(bins=bins, upsample_rate=upsample, dtype=DTYPES[dtype], qscheme=SCHEMES[scheme],
                            reduce_range=reduce_range)
    for x in batches:
        obs(torch.from_numpy(x))
    scale, zero_point = obs.calculate_qparams()
    return float(scale[0]), int(zero_point[0]), float(obs.histogram.sum())


def main():
    rng = np.random.default_rng(20240613)

    def normal(n, sigma, lo=-0.999, hi=0.999):
        return np.clip(rng.standard_normal(n) * sigma, lo, hi).astype(f32)

    def with_ends(x, lo, hi):
        x = x.copy()
        x[0], x[-1] = lo, hi
        return x.astype(f32)

    data = {}  # name -> array, written once
    cases = []  # (name, dtype, scheme, reduce_range, bins, upsample, torch_bug, batch names)

    def batch(name, x):
        data[name] = np.asarray(x, f32)
        return name

    def add(name, dtype, scheme, batches, reduce_range=False, bins=2048, upsample=128, bug=False):
        cases.append((name, dtype, scheme, reduce_range, bins, upsample, bug, batches))

    # One batch inside (-1, 1): histc falls back to the exact extremes.
    x = batch("normal", normal(256, 0.3))
    add("normal_u8_affine", "u8", "affine", [x])
    add("normal_s8_symmetric", "s8", "symmetric", [x])
    add("normal_u8_symmetric", "u8", "symmetric", [x])
    add("normal_s8_affine", "s8", "affine", [x])
    add("normal_s32_symmetric", "s32", "symmetric", [x])
    lap = batch("laplace", np.clip(rng.laplace(size=300) * 0.1, -0.999, 0.999))
    add("laplace_u8_affine_reduce", "u8", "affine", [lap], reduce_range=True)
    add("laplace_s8_symmetric_reduce", "s8", "symmetric", [lap], reduce_range=True)
    add("laplace_s8_affine_reduce", "s8", "affine", [lap], reduce_range=True)
    outl = batch("outliers", np.concatenate([rng.standard_normal(300) * 0.03, [0.97, -0.6]]))
    add("outliers_u8_affine", "u8", "affine", [outl])
    add("outliers_s8_symmetric", "s8", "symmetric", [outl])
    relu = batch("relu", np.clip(np.abs(rng.standard_normal(256)) * 0.25, 0.0, 0.999))
    add("relu_u8_affine", "u8", "affine", [relu])
    add("uniform_s8_affine", "s8", "affine", [batch("uniform", rng.uniform(-0.5, 0.95, 256))])
    add("constant_u8_affine", "u8", "affine", [batch("constant", np.full(64, 0.25))])
    add("bins1000_u8_affine", "u8", "affine", [batch("normal2", normal(300, 0.25))], bins=1000, upsample=16)
    # One batch with integer min and max.
    wide = batch("wide", with_ends(np.clip(rng.standard_normal(300) * 1.5, -4, 6), -4.0, 6.0))
    add("int_range_u8_affine", "u8", "affine", [wide])
    add("int_range_s8_symmetric_reduce", "s8", "symmetric", [wide], reduce_range=True)
    # Later batches inside the first batch's integer range: histograms add.
    inside = batch("inside", np.clip(rng.standard_normal(200) * 1.2 + 0.5, -3.9, 5.9))
    add("two_batches_inside_u8_affine", "u8", "affine", [wide, inside])
    add("two_batches_inside_s8_symmetric", "s8", "symmetric", [wide, inside])
    # Range growth through _adjust_min_max / _combine_histograms with exact (integer) ends.
    # Each new range is a whole number of old bins (old range / 128 with the defaults), so
    # _adjust_min_max adds nothing to the max: [-2, 2] -> [-5, 8] (416 old bins) -> [-13, 13] (256).
    b1 = batch("grow1", with_ends(np.clip(rng.standard_normal(200) * 0.8, -2, 2), -2.0, 2.0))
    b2 = batch("grow2", with_ends(np.clip(rng.standard_normal(200) * 2.0, -5, 8), -5.0, 8.0))
    b3 = batch("grow3", with_ends(np.clip(rng.standard_normal(200) * 4.0, -13, 13), -13.0, 13.0))
    add("grow_integer_u8_affine", "u8", "affine", [b1, b2])
    add("grow_integer_s8_symmetric", "s8", "symmetric", [b1, b2, b3])
    add("grow_integer_bins256_up4", "u8", "affine", [b1, b2, b3], bins=256, upsample=4)
    # Growth inside (-1, 1) where the new batch holds the combined extremes.
    g1 = batch("sub1", with_ends(normal(200, 0.2, -0.5, 0.5), -0.5, 0.5))
    g2 = batch("sub2", with_ends(normal(200, 0.3, -0.75, 0.75), -0.75, 0.75))
    add("grow_sub1_u8_affine", "u8", "affine", [g1, g2])
    add("grow_sub1_s8_symmetric_reduce", "s8", "symmetric", [g1, g2], reduce_range=True)

    # torch 1.13 drops samples here (its histogram holds fewer than the batch had).
    # A batch in [0.5, 2.7] is binned over [0, 2]: everything above 2 is lost.
    add("bug_single_batch_u8_affine", "u8", "affine", [batch("bug1", rng.uniform(0.5, 2.7, 300))], bug=True)
    # Growth to a non-integer range: the new batch is binned over a truncated range.
    add("bug_growth_s8_symmetric", "s8", "symmetric", [g1, batch("bug2", rng.standard_normal(200) * 0.9 + 0.4)],
        bug=True)

    lines = ["# Generated by tests/golden/gen_torch_histogram.py; do not edit by hand.",
             "# torch %s, numpy %s. See the script's docstring for the format and the torch_bug cases."
             % (torch.__version__, np.__version__)]
    for name, x in data.items():
        lines.append("data %s %d %s" % (name, x.size, " ".join(bits(v) for v in x)))
    for name, dtype, scheme, reduce_range, bins, upsample, bug, names in cases:
        batches = [data[n] for n in names]
        scale, zero_point, hist_total = run_torch(batches, dtype, scheme, reduce_range, bins, upsample)
        samples = sum(x.size for x in batches)
        keeps = histc_keeps_everything(batches, bins, upsample)
        if bug:
            assert not keeps and hist_total < samples - 0.5, name
        else:
            assert keeps, name
            assert abs(hist_total - samples) < 1e-3 * samples, (name, hist_total, samples)
        lines.append("case " + name)
        lines.append("config %s %s %d %d %d" % (dtype, scheme, int(reduce_range), bins, upsample))
        lines.append("torch_bug %d" % int(bug))
        lines.append("batches " + " ".join(names))
        lines.append("scale " + bits(scale))
        lines.append("zero_point %d" % zero_point)
        lines.append("torch_hist_total " + bits(hist_total))
        lines.append("end")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s (%d cases)" % (OUT, len(cases)))


if __name__ == "__main__":
    main()
