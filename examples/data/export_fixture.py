# SPDX-License-Identifier: Apache-2.0
# Converts the shared digits fixture (../shared/fixtures, see its README.md) into the small
# tensor bundles the C examples read, so the project builds and runs without ../shared.
# Run by hand with Debian's numpy:  /usr/bin/python3 examples/data/export_fixture.py [fixtures_dir]
#
# Bundle format (little-endian): "QKTB" magic, u32 tensor count, then per tensor:
# u32 name length, name bytes (UTF-8), u32 rank, rank x i64 dims, f32 data (row-major).
import os
import struct
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
fixtures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared", "fixtures")


def write_bundle(path, tensors):
    with open(path + ".tmp", "wb") as f:
        f.write(b"QKTB")
        f.write(struct.pack("<I", len(tensors)))
        for name, array in tensors:
            a = np.ascontiguousarray(array, dtype="<f4")
            raw = name.encode("utf-8")
            f.write(struct.pack("<I", len(raw)))
            f.write(raw)
            f.write(struct.pack("<I", a.ndim))
            f.write(struct.pack("<%dq" % a.ndim, *a.shape))
            f.write(a.tobytes())
    os.replace(path + ".tmp", path)


weights = np.load(os.path.join(fixtures, "digits_cnn.npz"))
# num_batches_tracked is an int64 training counter, not a weight: left out.
write_bundle(os.path.join(here, "digits_cnn.qktb"),
             [(k, v) for k, v in weights.items() if not k.endswith("num_batches_tracked")])

digits = np.load(os.path.join(fixtures, "digits_16x16.npz"))
images, labels = digits["images"], digits["labels"]
train, test = digits["train_idx"], digits["test_idx"]
# 128 training images for calibration, the 450 test images with labels for accuracy checks, and
# all 1797 images (fp32 / int8 top-1 agreement is measured over the whole set).
write_bundle(os.path.join(here, "digits_images.qktb"), [
    ("calibration", images[train[:128]]),
    ("test_images", images[test]),
    ("test_labels", labels[test].astype(np.float32)),
    ("all_images", images),
])
print("wrote digits_cnn.qktb and digits_images.qktb")
