# SPDX-License-Identifier: Apache-2.0
"""Calibration memory stays bounded: an imported ONNX model (torchvision MobileNetV2, 3x64x64,
exported by torch in this process) calibrated on N batches of 8 random images; prints peak RSS
after import, after 10 batches and after N batches, and calibration throughput. QuantKit's
observers stream (no activation is kept across batches), so the peak after N batches should equal
the peak after 10. A measurement, not a test.

    PYTHONPATH=build/bindings/python /usr/bin/python3 tests/bench/calibration_memory.py [N]
"""
import io
import resource
import sys
import time

import numpy as np
import torch
import torchvision

import quantkit as qk


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v2().eval()
    buf = io.BytesIO()
    torch.onnx.export(model, torch.randn(1, 3, 64, 64), buf, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13)
    del model
    m = qk.Model.load_onnx(buf.getvalue())
    m.fuse()
    m.prepare()
    rng = np.random.default_rng(0)
    batch = rng.standard_normal((8, 3, 64, 64)).astype(np.float32)
    print(f"after import and prepare: peak RSS {peak_mib():.0f} MiB")
    t0 = time.perf_counter()
    for i in range(n):
        batch[:] = rng.standard_normal(batch.shape, dtype=np.float32)
        m.calibrate_named({"x": batch})
        if i + 1 in (10, 50, 100, 200, 400, 800, 1600):
            print(f"after {i + 1} batches: peak RSS {peak_mib():.0f} MiB")
    dt = time.perf_counter() - t0
    print(f"after {n} batches: peak RSS {peak_mib():.0f} MiB; {n / dt:.1f} batches/s ({8 * n / dt:.0f} images/s)")
    m.convert()
    print(f"after convert: peak RSS {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
