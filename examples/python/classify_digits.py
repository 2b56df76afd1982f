# SPDX-License-Identifier: Apache-2.0
"""Classify the digits test images with the CNN of examples/data, in fp32 and in int8.

    classify_digits.py [--min-accuracy 0.95] [--save digits_int8.qkw]

Builds the float model from the weights, fuses conv+bn+relu, calibrates on 128 training images
(histogram observers), converts to int8, and prints both accuracies, the top-1 agreement, the
worst per-layer SQNR and the int8 file size. Exits 1 if int8 accuracy is below --min-accuracy.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import digits_model  # noqa: E402

import quantkit as qk  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-accuracy", type=float, default=0.0, help="fail below this int8 accuracy (0..1)")
    ap.add_argument("--save", help="also write the int8 model to this .qkw file")
    args = ap.parse_args()

    weights, images = digits_model.load_data()
    test, labels = images["test_images"], images["test_labels"]
    print(f"QuantKit {qk.version()} ({qk.isa_name()}): digits CNN, {len(test)} test images")

    with digits_model.build(weights) as fp32, digits_model.int8_model(weights, images["calibration"]) as int8:
        fp32.fuse()
        t0 = time.perf_counter()
        p32 = digits_model.predict(fp32, test)
        t1 = time.perf_counter()
        p8 = digits_model.predict(int8, test)
        t2 = time.perf_counter()
        acc32 = float((p32 == labels).mean())
        acc8 = float((p8 == labels).mean())
        print(f"fused: {', '.join(int8.fused)}")
        print(f"fp32 accuracy {acc32:.4f} ({(t1 - t0) * 1e3:.1f} ms), int8 accuracy {acc8:.4f} "
              f"({(t2 - t1) * 1e3:.1f} ms); top-1 agreement {(p32 == p8).mean():.4f}")
        report = int8.layer_sqnr(test[:64])
        worst = min(report, key=report.get)
        print(f"per-layer SQNR (64 images): worst {worst} {report[worst]:.1f} dB, output {report['fc2']:.1f} dB")
        with tempfile.TemporaryDirectory() as tmp:
            path = args.save or os.path.join(tmp, "digits_int8.qkw")
            int8.save(path)
            with qk.Model.load(path) as loaded:
                same = loaded.run(test[:64]).tobytes() == int8.run(test[:64]).tobytes()
            print(f"int8 model file: {os.path.getsize(path)} bytes; reloaded outputs "
                  f"{'bit-identical' if same else 'DIFFER'}")
    if not same:
        return 1
    if acc8 < args.min_accuracy:
        print(f"FAIL: int8 accuracy {acc8:.4f} < {args.min_accuracy}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
