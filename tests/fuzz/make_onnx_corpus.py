#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Seed corpus of the ONNX importer's fuzz target (tests/fuzz/fuzz_onnx_load.c).

Writes small ONNX models, built with python3-onnx's helper API, to
tests/fuzz/corpus/onnx_load/ (or the folder given): every op type the importer takes
(src/onnx/op_table.cc), old and new opset forms of the ops whose inputs moved (Clip, Pad,
Slice, Squeeze, Unsqueeze, ReduceMean, Resize / Upsample, Softmax), the exporters' shape
arithmetic with a symbolic batch (Shape -> Gather -> Unsqueeze -> Concat -> Reshape), initializers
in raw and typed fields and of several element types, Constant nodes of every form, several
inputs and outputs, and a few that are refused (external data from memory, an unsupported op).
Deterministic: the same bytes on every run. Keeps regress-* files. Run it after changing the
importer's op set and commit the result:

    /usr/bin/python3 tests/fuzz/make_onnx_corpus.py
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64
RNG = np.random.RandomState(20240611)


def w(shape, scale=0.5):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def ints(name, values):
    return init(name, np.asarray(values, dtype=np.int64))


def vi(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def model(name, nodes, inputs, outputs, inits=(), opset=13, ir=8):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, producer_name="quantkit-fuzz-corpus", opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir
    return m


N = helper.make_node
MODELS = {}


def add(name, m):
    MODELS[name] = m


# ---- convolutional ---------------------------------------------------------------------
add("conv_relu", model("conv_relu", [
    N("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
    N("Relu", ["c"], ["y"], name="relu")],
    [vi("x", [1, 2, 5, 5])], [vi("y", [1, 3, 5, 5])], [init("w", w([3, 2, 3, 3])), init("b", w([3]))]))

add("conv_bn_pool", model("conv_bn_pool", [
    N("Conv", ["x", "w"], ["c"], name="conv", strides=[2, 2], kernel_shape=[3, 3]),
    N("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"], name="bn", epsilon=1e-5),
    N("MaxPool", ["n"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
    N("GlobalAveragePool", ["p"], ["g"], name="gap"),
    N("Flatten", ["g"], ["y"], name="flat", axis=1)],
    [vi("x", ["batch", 3, 9, 9])], [vi("y", ["batch", 4])],
    [init("w", w([4, 3, 3, 3])), init("s", w([4]) + 1), init("bb", w([4])), init("m", w([4])),
     init("v", np.abs(w([4])) + 0.5)], opset=11))

add("convtranspose_avgpool", model("convtranspose_avgpool", [
    N("ConvTranspose", ["x", "w", "b"], ["t"], name="deconv", strides=[2, 2], kernel_shape=[2, 2]),
    N("AveragePool", ["t"], ["a"], name="avg", kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=0),
    N("GlobalMaxPool", ["a"], ["y"], name="gmp")],
    [vi("x", [1, 2, 3, 3])], [vi("y", [1, 3, 1, 1])], [init("w", w([2, 3, 2, 2])), init("b", w([3]))]))

add("conv_group_dilation", model("conv_group_dilation", [
    N("Conv", ["x", "w"], ["c"], name="dw", group=4, dilations=[2, 2], pads=[2, 2, 2, 2], kernel_shape=[3, 3]),
    N("HardSwish", ["c"], ["h"], name="hswish"),
    N("Conv", ["h", "pw", "pb"], ["y"], name="pw", kernel_shape=[1, 1])],
    [vi("x", [1, 4, 6, 6])], [vi("y", [1, 2, 6, 6])],
    [init("w", w([4, 1, 3, 3])), init("pw", w([2, 4, 1, 1])), init("pb", w([2]))], opset=14))

add("resize_concat", model("resize_concat", [
    N("Resize", ["x", "", "scales"], ["r"], name="up", mode="nearest"),
    N("Conv", ["r", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
    N("Concat", ["c", "r"], ["y"], name="cat", axis=1)],
    [vi("x", [1, 2, 3, 3])], [vi("y", [1, 4, 6, 6])],
    [init("scales", np.array([1, 1, 2, 2], dtype=np.float32)), init("w", w([2, 2, 1, 1]))]))

add("resize_linear_sizes", model("resize_linear_sizes", [
    N("Resize", ["x", "", "", "sizes"], ["y"], name="resize", mode="linear",
      coordinate_transformation_mode="align_corners")],
    [vi("x", [1, 1, 3, 4])], [vi("y", [1, 1, 5, 7])], [ints("sizes", [1, 1, 5, 7])], opset=18))

add("upsample_opset9", model("upsample_opset9", [
    N("Upsample", ["x", "scales"], ["y"], name="up", mode="nearest")],
    [vi("x", [1, 1, 2, 3])], [vi("y", [1, 1, 4, 6])],
    [init("scales", np.array([1, 1, 2, 2], dtype=np.float32))], opset=9, ir=4))

add("upsample_opset7", model("upsample_opset7", [
    N("Upsample", ["x"], ["y"], name="up", mode="linear", scales=[1.0, 1.0, 2.0, 2.0])],
    [vi("x", [1, 1, 2, 2])], [vi("y", [1, 1, 4, 4])], opset=7, ir=3))

add("pad_modes", model("pad_modes", [
    N("Pad", ["x", "pads", "cv"], ["p"], name="pad_const", mode="constant"),
    N("Pad", ["p", "pads2"], ["y"], name="pad_reflect", mode="reflect")],
    [vi("x", [1, 1, 3, 3])], [vi("y", [1, 1, 7, 7])],
    [ints("pads", [0, 0, 1, 1, 0, 0, 1, 1]), init("cv", np.array(0.5, dtype=np.float32)),
     ints("pads2", [0, 0, 1, 1, 0, 0, 1, 1])], opset=13))

add("pad_opset18_axes", model("pad_opset18_axes", [
    N("Pad", ["x", "pads", "", "axes"], ["y"], name="pad", mode="edge")],
    [vi("x", [1, 2, 3])], [vi("y", [1, 2, 6])], [ints("pads", [1, 2]), ints("axes", [-1])], opset=18))

add("pad_opset7_attr", model("pad_opset7_attr", [
    N("Pad", ["x"], ["y"], name="pad", pads=[0, 1, 0, 1], value=2.0)],
    [vi("x", [2, 2])], [vi("y", [2, 4])], opset=7, ir=3))

# ---- fully connected / transformer-ish -------------------------------------------------
add("matmul_add_relu", model("matmul_add_relu", [
    N("MatMul", ["x", "w"], ["m"], name="mm"),
    N("Add", ["m", "b"], ["a"], name="add"),
    N("Relu", ["a"], ["y"], name="relu")],
    [vi("x", ["batch", 4])], [vi("y", ["batch", 3])], [init("w", w([4, 3])), init("b", w([3]))]))

add("gemm_linear", model("gemm_linear", [
    N("Gemm", ["x", "w", "c"], ["g"], name="fc", transB=1, alpha=0.5, beta=2.0),
    N("Sigmoid", ["g"], ["y"], name="sig")],
    [vi("x", ["n", 5])], [vi("y", ["n", 2])], [init("w", w([2, 5])), init("c", w([1, 2]))], opset=11))

add("gemm_general", model("gemm_general", [
    N("Gemm", ["a", "b", "c"], ["y"], name="gemm", transA=1, alpha=2.0, beta=0.5)],
    [vi("a", [3, 2]), vi("b", [3, 4]), vi("c", [2, 4])], [vi("y", [2, 4])]))

add("transformer_block", model("transformer_block", [
    N("LayerNormalization", ["x", "g", "bt"], ["ln"], name="ln", axis=-1, epsilon=1e-5),
    N("MatMul", ["ln", "wq"], ["q"], name="q"),
    N("Transpose", ["q"], ["qt"], name="qt", perm=[0, 2, 1]),
    N("MatMul", ["q", "qt"], ["s"], name="scores"),
    N("Div", ["s", "scale"], ["sd"], name="scale"),
    N("Softmax", ["sd"], ["p"], name="softmax", axis=-1),
    N("MatMul", ["p", "q"], ["o"], name="ctx"),
    N("Gelu", ["o"], ["ge"], name="gelu"),
    N("Add", ["ge", "x"], ["y"], name="residual")],
    [vi("x", ["batch", "seq", 8])], [vi("y", ["batch", "seq", 8])],
    [init("g", w([8]) + 1), init("bt", w([8])), init("wq", w([8, 8])),
     init("scale", np.array(2.0, dtype=np.float32))], opset=17))

add("softmax_opset11_reducemean", model("softmax_opset11_reducemean", [
    N("Softmax", ["x"], ["s"], name="sm", axis=2),
    N("ReduceMean", ["s"], ["y"], name="rm", axes=[1], keepdims=0)],
    [vi("x", [2, 3, 4])], [vi("y", [2, 4])], opset=11))

add("reducemean_opset18", model("reducemean_opset18", [
    N("ReduceMean", ["x", "axes"], ["y"], name="rm", keepdims=1)],
    [vi("x", [2, 3, 4])], [vi("y", [2, 1, 4])], [ints("axes", [1])], opset=18))

# ---- the exporters' shape arithmetic ---------------------------------------------------
add("shape_gather_reshape", model("shape_gather_reshape", [
    N("Shape", ["x"], ["s"], name="shape"),
    N("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
    N("Unsqueeze", ["n", "ax0"], ["n1"], name="unsq"),
    N("Concat", ["n1", "rest"], ["shp"], name="cat", axis=0),
    N("Reshape", ["x", "shp"], ["r"], name="reshape"),
    N("MatMul", ["r", "w"], ["y"], name="fc")],
    [vi("x", ["batch", 2, 3, 3])], [vi("y", ["batch", 4])],
    [ints("zero", 0), ints("ax0", [0]), ints("rest", [-1]), init("w", w([18, 4]))]))

add("shape_slice_cast_opset11", model("shape_slice_cast_opset11", [
    N("Shape", ["x"], ["s"], name="shape"),
    N("Slice", ["s", "st", "en"], ["s0"], name="slice"),
    N("Cast", ["s0"], ["s0c"], name="cast", to=I64),
    N("Constant", [], ["minus1"], name="const", value=helper.make_tensor("v", I64, [1], [-1])),
    N("Concat", ["s0c", "minus1"], ["shp"], name="cat", axis=0),
    N("Reshape", ["x", "shp"], ["r"], name="reshape"),
    N("Unsqueeze", ["r"], ["u"], name="unsq", axes=[1]),
    N("Squeeze", ["u"], ["y"], name="sq", axes=[1])],
    [vi("x", ["n", 3, 2])], [vi("y", ["n", 6])],
    [ints("st", [0]), ints("en", [1])], opset=11))

add("shape_opset15_start_end", model("shape_opset15_start_end", [
    N("Shape", ["x"], ["s"], name="shape", start=1, end=3),
    N("ConstantOfShape", ["s"], ["c"], name="cos", value=helper.make_tensor("v", F, [1], [0.25])),
    N("Add", ["x", "c"], ["y"], name="add")],
    [vi("x", ["b", 2, 3])], [vi("y", ["b", 2, 3])], opset=15))

add("constants_all_forms", model("constants_all_forms", [
    N("Constant", [], ["c1"], name="c_tensor", value=helper.make_tensor("t", F, [2], [1.5, -2.0])),
    N("Constant", [], ["c2"], name="c_float", value_float=3.0),
    N("Constant", [], ["c3"], name="c_floats", value_floats=[0.5, 0.25]),
    N("Constant", [], ["c4"], name="c_ints", value_ints=[1, 2]),
    N("Constant", [], ["c5"], name="c_int", value_int=1),
    N("Mul", ["x", "c1"], ["m"], name="mul"),
    N("Add", ["m", "c2"], ["a"], name="add"),
    N("Sub", ["a", "c3"], ["s"], name="sub"),
    N("Gather", ["s", "c5"], ["gt"], name="gather", axis=1),
    N("Pow", ["gt", "c2"], ["y"], name="pow")],
    [vi("x", [3, 2])], [vi("y", [3])], opset=13))

add("elementwise_chain", model("elementwise_chain", [
    N("Sigmoid", ["x"], ["a"], name="sig"),
    N("Tanh", ["a"], ["b"], name="tanh"),
    N("Exp", ["b"], ["c"], name="exp"),
    N("Sqrt", ["c"], ["d"], name="sqrt"),
    N("Erf", ["d"], ["e"], name="erf"),
    N("LeakyRelu", ["e"], ["f"], name="lrelu", alpha=0.2),
    N("HardSigmoid", ["f"], ["g"], name="hsig", alpha=0.3, beta=0.4),
    N("Clip", ["g", "lo", "hi"], ["h"], name="clip"),
    N("Dropout", ["h"], ["i"], name="drop"),
    N("Identity", ["i"], ["y"], name="id")],
    [vi("x", [2, 5])], [vi("y", [2, 5])],
    [init("lo", np.array(0.1, dtype=np.float32)), init("hi", np.array(0.9, dtype=np.float32))], opset=12))

add("clip_opset7_attrs", model("clip_opset7_attrs", [
    N("Clip", ["x"], ["c"], name="clip", min=-0.5, max=0.5),
    N("Dropout", ["c"], ["y"], name="drop", ratio=0.5)],
    [vi("x", [4])], [vi("y", [4])], opset=7, ir=3))

add("slice_gather_concat", model("slice_gather_concat", [
    N("Slice", ["x", "st", "en", "ax", "sp"], ["s"], name="slice"),
    N("Gather", ["x", "idx"], ["g"], name="gather", axis=1),
    N("Concat", ["s", "g"], ["y"], name="cat", axis=1)],
    [vi("x", [2, 6])], [vi("y", [2, 5])],
    [ints("st", [0]), ints("en", [6]), ints("ax", [1]), ints("sp", [2]), ints("idx", [5, 0])], opset=13))

add("slice_opset9_attrs_two_outputs", model("slice_opset9_attrs_two_outputs", [
    N("Slice", ["x"], ["s"], name="slice", starts=[1], ends=[3], axes=[0]),
    N("Relu", ["s"], ["y1"], name="relu"),
    N("Transpose", ["x"], ["y2"], name="tr", perm=[1, 0])],
    [vi("x", [4, 3])], [vi("y1", [2, 3]), vi("y2", [3, 4])], opset=9, ir=4))

add("two_inputs_broadcast", model("two_inputs_broadcast", [
    N("Mul", ["a", "b"], ["m"], name="mul"),
    N("Div", ["m", "c"], ["d"], name="div"),
    N("Sub", ["d", "a"], ["y"], name="sub")],
    [vi("a", [2, 1, 3]), vi("b", [4, 1])], [vi("y", [2, 4, 3])],
    [init("c", np.array([2.0, 4.0, 8.0], dtype=np.float32))]))

# initializers of several element types and in the typed fields
add("initializer_types", model("initializer_types", [
    N("Cast", ["i8"], ["i8f"], name="cast_i8", to=F),
    N("Cast", ["u8"], ["u8f"], name="cast_u8", to=F),
    N("Cast", ["i32"], ["i32f"], name="cast_i32", to=F),
    N("Cast", ["bo"], ["bof"], name="cast_bool", to=F),
    N("Add", ["x", "f16"], ["a"], name="add_f16"),
    N("Add", ["a", "f64"], ["b"], name="add_f64"),
    N("Mul", ["b", "i8f"], ["c"], name="mul_i8"),
    N("Add", ["c", "u8f"], ["d"], name="add_u8"),
    N("Sub", ["d", "i32f"], ["e"], name="sub_i32"),
    N("Add", ["e", "typed"], ["f"], name="add_typed"),
    N("Mul", ["f", "bof"], ["y"], name="mul_bool")],
    [vi("x", [3])], [vi("y", [3])],
    [init("f16", np.array([0.5, 1.5, -2.0], dtype=np.float16)),
     init("f64", np.array([0.25, 0.0, 1.0], dtype=np.float64)),
     init("i8", np.array([-1, 2, 3], dtype=np.int8)),
     init("u8", np.array([1, 200, 3], dtype=np.uint8)),
     init("i32", np.array([7, -8, 9], dtype=np.int32)),
     init("bo", np.array([True, False, True])),
     helper.make_tensor("typed", F, [3], [1.0, 2.0, 3.0])]))

# IR 3: initializers are listed as graph inputs too
add("ir3_initializer_inputs", model("ir3_initializer_inputs", [
    N("Gemm", ["x", "w", "b"], ["y"], name="fc", transB=1)],
    [vi("x", [1, 3]), vi("w", [2, 3]), vi("b", [2])], [vi("y", [1, 2])],
    [helper.make_tensor("w", F, [2, 3], w([2, 3]).flatten().tolist()),
     helper.make_tensor("b", F, [2], [0.5, -0.5])], opset=8, ir=3))

add("flatten_squeeze_unsqueeze_opset13", model("flatten_squeeze_unsqueeze_opset13", [
    N("Unsqueeze", ["x", "ax"], ["u"], name="unsq"),
    N("Squeeze", ["u", "ax"], ["s"], name="sq"),
    N("Flatten", ["s"], ["y"], name="flat", axis=0)],
    [vi("x", [2, 3])], [vi("y", [1, 6])], [ints("ax", [0])]))

# refused ones: they reach the external-data and unsupported-op paths
ext = init("w", w([2, 2]))
ext.ClearField("raw_data")
ext.data_location = TensorProto.EXTERNAL
for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "16")):
    e = ext.external_data.add()
    e.key, e.value = k, v
add("refused_external_data", model("refused_external_data", [N("MatMul", ["x", "w"], ["y"], name="mm")],
                                   [vi("x", [1, 2])], [vi("y", [1, 2])], [ext]))
add("refused_unsupported_ops", model("refused_unsupported_ops", [
    N("LSTM", ["x"], ["l"], name="lstm"), N("NonMaxSuppression", ["l"], ["y"], name="nms"),
    N("Relu", ["x"], ["z"], name="relu")],
    [vi("x", [1, 2])], [vi("y", [1, 2])]))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "corpus", "onnx_load")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".onnx") and not f.startswith("regress-"):
            os.unlink(os.path.join(out, f))
    total = 0
    for name, m in MODELS.items():
        data = m.SerializeToString()
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"make_onnx_corpus: {len(MODELS)} models, {total} bytes in {out}")


if __name__ == "__main__":
    main()
