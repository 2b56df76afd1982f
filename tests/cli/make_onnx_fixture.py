#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the committed fixtures of `qk quantize` / `qk run` (tests/cli/cli_model.sh) into
tests/cli/data/:

  tiny_cnn.onnx         Conv(1->8, 3x3, pad 1) + Relu + GlobalAveragePool + Flatten + Gemm(8->3),
                        input "x" [batch, 1, 8, 8] with a symbolic batch, output "y" [batch, 3]
  two_inputs.onnx       Add of inputs "a" and "b" [batch, 4] (refused by quantize / run)
  calib.npy             40 calibration samples [40, 1, 8, 8] f32
  input.npy             6 samples [6, 1, 8, 8] f32 for `qk run`
  ref/y.npy             the float output on input.npy, computed here with numpy (named y.npy so
                        `qk diff` pairs it with the tool's y.npy)
  tolerance.txt         5% of the reference output range (the quantized models' error bound)

Deterministic (seeded); needs numpy and onnx only to regenerate:
  python3 tests/cli/make_onnx_fixture.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def save_model(graph, path):
    model = helper.make_model(graph, producer_name="quantkit-tests",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


def tiny_cnn(rng):
    w = (rng.standard_normal((8, 1, 3, 3)) * 0.5).astype(np.float32)
    b = (rng.standard_normal(8) * 0.1).astype(np.float32)
    fw = (rng.standard_normal((3, 8)) * 0.5).astype(np.float32)
    fb = (rng.standard_normal(3) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "conv.w", "conv.b"], ["c"], name="conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(w, "conv.w"), numpy_helper.from_array(b, "conv.b"),
         numpy_helper.from_array(fw, "fc.w"), numpy_helper.from_array(fb, "fc.b")])
    return graph, (w, b, fw, fb)


def reference(x, params):
    w, b, fw, fb = (p.astype(np.float64) for p in params)
    x = x.astype(np.float64)
    n = x.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    c = np.zeros((n, 8, 8, 8))
    for i in range(3):
        for j in range(3):
            # [n, 1, 8, 8] window times [8, 1] kernel tap -> [n, 8, 8, 8]
            c += np.einsum("nchw,oc->nohw", xp[:, :, i:i + 8, j:j + 8], w[:, :, i, j])
    c += b[None, :, None, None]
    g = np.maximum(c, 0).mean(axis=(2, 3))
    return (g @ fw.T + fb).astype(np.float32)


def two_inputs():
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["s"], name="add")], "two_inputs",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 4]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, ["batch", 4])])
    return graph


def main():
    rng = np.random.default_rng(20261208)
    os.makedirs(os.path.join(DATA, "ref"), exist_ok=True)
    graph, params = tiny_cnn(rng)
    save_model(graph, os.path.join(DATA, "tiny_cnn.onnx"))
    save_model(two_inputs(), os.path.join(DATA, "two_inputs.onnx"))
    calib = rng.standard_normal((40, 1, 8, 8)).astype(np.float32)
    x = rng.standard_normal((6, 1, 8, 8)).astype(np.float32)
    np.save(os.path.join(DATA, "calib.npy"), calib)
    np.save(os.path.join(DATA, "input.npy"), x)
    y = reference(x, params)
    np.save(os.path.join(DATA, "ref", "y.npy"), y)
    with open(os.path.join(DATA, "tolerance.txt"), "w") as f:
        f.write("%.6g\n" % (0.05 * float(y.max() - y.min())))
    print("wrote", DATA, "output range", float(y.min()), float(y.max()))


if __name__ == "__main__":
    main()
