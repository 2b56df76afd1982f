# SPDX-License-Identifier: Apache-2.0
"""The digits CNN of examples/data (the one examples/c/digits_model.c builds) as a quantkit.Model.

Shared by classify_digits.py, qat_digits.py and tests/bindings/cross/write_model.py:
``load_bundle`` reads the examples' .qktb tensor bundles (format in examples/data/export_fixture.py),
``build`` makes the float graph, ``int8_model`` fuses, calibrates and converts it.
"""
import os
import struct

import numpy as np

import quantkit as qk

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")


def load_bundle(path):
    """{name: float32 array} from a .qktb file (bounds-checked: a bad file raises ValueError)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:4] != b"QKTB" or len(raw) < 8:
        raise ValueError(f"{path}: not a tensor bundle")
    (count,), pos, out = struct.unpack_from("<I", raw, 4), 8, {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<I", raw, pos)
        name = raw[pos + 4:pos + 4 + name_len].decode("utf-8")
        pos += 4 + name_len
        (rank,) = struct.unpack_from("<I", raw, pos)
        shape = struct.unpack_from("<%dq" % rank, raw, pos + 4)
        pos += 4 + 8 * rank
        n = int(np.prod(shape, dtype=np.int64))
        if pos + 4 * n > len(raw):
            raise ValueError(f"{path}: truncated at tensor {name}")
        out[name] = np.frombuffer(raw, dtype="<f4", count=n, offset=pos).reshape(shape).astype(np.float32)
        pos += 4 * n
    if pos != len(raw):
        raise ValueError(f"{path}: trailing bytes")
    return out


def load_data(data_dir=DATA_DIR):
    """(weights, images): the CNN's parameters and the image splits (calibration, test_images,
    test_labels, all_images)."""
    return (load_bundle(os.path.join(data_dir, "digits_cnn.qktb")),
            load_bundle(os.path.join(data_dir, "digits_images.qktb")))


def build(w):
    """conv1-bn1-relu1, conv2-bn2-relu2-pool2, conv3-bn3-relu3-pool3, flatten, fc1-bn4-relu4,
    dropout, fc2: input "image" {1, 16, 16}, output "logits" {10}."""
    m = qk.Model("image", (1, 16, 16))

    def conv_bn_relu(i, src):
        m.add_conv2d(f"conv{i}", src, f"c{i}", w[f"conv{i}.weight"], w[f"conv{i}.bias"], padding=1)
        bn_block(f"bn{i}", f"c{i}", f"b{i}")
        m.add_relu(f"relu{i}", f"b{i}", f"r{i}")
        return f"r{i}"

    def bn_block(name, src, dst):
        m.add_batchnorm(name, src, dst, w[f"{name}.running_mean"], w[f"{name}.running_var"], w[f"{name}.weight"],
                        w[f"{name}.bias"])

    r1 = conv_bn_relu(1, "image")
    r2 = conv_bn_relu(2, r1)
    m.add_max_pool2d("pool2", r2, "p2", 2)
    r3 = conv_bn_relu(3, "p2")
    m.add_max_pool2d("pool3", r3, "p3", 2)
    m.add_flatten("flatten", "p3", "flat")
    m.add_linear("fc1", "flat", "f1", w["fc1.weight"], w["fc1.bias"])
    bn_block("bn4", "f1", "b4")
    m.add_relu("relu4", "b4", "r4")
    m.add_dropout("dropout", "r4", "d4")
    m.add_linear("fc2", "d4", "logits", w["fc2.weight"], w["fc2.bias"])
    return m


def int8_model(weights, calibration, batch=32):
    """The fused CNN calibrated on ``calibration`` (histogram observers) and converted to int8."""
    m = build(weights)
    m.fuse()
    m.prepare()
    for i in range(0, len(calibration), batch):
        m.calibrate(calibration[i:i + batch])
    m.convert()
    return m


def predict(model, images, batch=64):
    """Top-1 class of every image."""
    return np.concatenate([model.run(images[i:i + batch]).argmax(axis=1) for i in range(0, len(images), batch)])


def accuracy(model, images, labels):
    return float(np.mean(predict(model, images) == labels.astype(np.int64)))
