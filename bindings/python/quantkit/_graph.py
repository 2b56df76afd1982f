# SPDX-License-Identifier: Apache-2.0
"""Python sugar for the EXPERIMENTAL general-graph API (quantkit.h, "General model graphs"):
``Model.graph()``, ``add_input`` / ``add_constant`` / ``add_node`` / ``add_output``, ``run_named`` /
``calibrate_named`` with dicts of numpy arrays, ``nodes()``, ``value_shape()`` and
``quantkit.op_types()``. The life cycle (fuse, prepare, convert, quantize_dynamic, save, load, the
qconfig setters, tensor_qparams) is the ordinary Model API: the C library dispatches on the model
kind. Imported by ``quantkit/__init__.py`` after ``_model``."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as _np

from . import DType, core
from .core import Attrs, Model, Run

_BOOL = 10  # QK_DTYPE_BOOL: graph values only (a #define in the header, not a DType member)

# numpy dtype -> qk dtype of constants (any of them) and run inputs (f32, s32, s64, bool).
_NP_TO_QK = {
    _np.dtype(_np.float32): int(DType.F32),
    _np.dtype(_np.float16): int(DType.F16),
    _np.dtype(_np.int8): int(DType.S8),
    _np.dtype(_np.uint8): int(DType.U8),
    _np.dtype(_np.int32): int(DType.S32),
    _np.dtype(_np.int64): int(DType.S64),
    _np.dtype(_np.bool_): _BOOL,
}
_QK_TO_NP = {v: k for k, v in _NP_TO_QK.items()}
_DTYPE_NAMES = {
    "f32": int(DType.F32), "float32": int(DType.F32), "s32": int(DType.S32), "int32": int(DType.S32),
    "s64": int(DType.S64), "int64": int(DType.S64), "bool": _BOOL,
}
_GRAPH_TEXT = "model.graph.v2"
_OUTPUTS = "_qk_graph_outputs"  # instance attributes: the graph outputs and inputs in model order
_INPUTS = "_qk_graph_inputs"


def _qk_dtype(dtype: Any) -> int:
    """A graph input dtype from "f32"/"s32"/"s64"/"bool", a DType or a numpy dtype."""
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return _DTYPE_NAMES[dtype]
    if isinstance(dtype, (int, _np.integer)) and not isinstance(dtype, bool):
        return int(dtype)
    try:
        return _NP_TO_QK[_np.dtype(dtype)]
    except (TypeError, KeyError):
        raise TypeError(f"dtype {dtype!r}: expected 'f32', 's32', 's64', 'bool', a DType or a numpy dtype") from None


def _names(what: str, names: Sequence[Optional[str]], allow_absent: bool) -> str:
    """The space-terminated list classes/graph.i takes (names never contain a space)."""
    if isinstance(names, (str, bytes)):
        raise TypeError(f"{what}: expected a sequence of value names, not one string")
    out = []
    for n in names:
        if n is None or n == "":
            if not allow_absent:
                raise ValueError(f"{what}: names must be non-empty")
            n = ""
        elif not isinstance(n, str):
            raise TypeError(f"{what}: expected str names, got {type(n).__name__}")
        elif any(c.isspace() for c in n):
            raise ValueError(f"{what}: name {n!r} contains white space")
        out.append(n + " ")
    return "".join(out)


def _make_attrs(attrs: Mapping[str, Any]) -> Optional[Attrs]:
    """Attrs from a dict: int (and bool) -> int, float -> float, str -> string, a sequence (or
    1-D array) of ints -> ints, of numbers with a float among them -> floats."""
    if not attrs:
        return None
    a = Attrs()
    try:
        for key, v in attrs.items():
            if not isinstance(key, str):
                raise TypeError(f"attribute names are str, got {type(key).__name__}")
            if isinstance(v, (bool, _np.bool_, int, _np.integer)):
                a.set_int(key, int(v))
            elif isinstance(v, (float, _np.floating)):
                a.set_float(key, float(v))
            elif isinstance(v, str):
                a.set_string(key, v)
            elif isinstance(v, (list, tuple, _np.ndarray)):
                arr = _np.asarray(v)
                if arr.ndim != 1 and arr.size != 0:
                    raise ValueError(f"attribute {key!r}: expected a flat list, got shape {arr.shape}")
                if arr.dtype.kind in "biu" or arr.size == 0:
                    a.set_ints(key, _np.ascontiguousarray(arr.reshape(-1), dtype=_np.int64))
                elif arr.dtype.kind == "f":
                    a.set_floats(key, _np.ascontiguousarray(arr.reshape(-1), dtype=_np.float32))
                else:
                    raise TypeError(f"attribute {key!r}: a list of ints or floats expected, got {arr.dtype}")
            else:
                raise TypeError(f"attribute {key!r}: unsupported type {type(v).__name__} "
                                "(int, float, str, or a list of ints or floats)")
    except BaseException:
        a.close()
        raise
    return a


def _graph() -> Model:
    m = _graph_swig()
    m.__dict__[_OUTPUTS] = []
    m.__dict__[_INPUTS] = []
    return m


def _add_input(self: Model, name: str, shape: Sequence[Union[int, str]], dtype: Any = "f32") -> None:
    """A graph input. ``shape`` entries are sizes (ints >= 0) or symbol names (str), e.g.
    ``("batch", 128)``; equal names are the same size within one run. dtype: "f32" (default),
    "s32", "s64", "bool" (or a DType / numpy dtype)."""
    if isinstance(shape, (str, bytes)):
        raise TypeError("add_input: shape must be a sequence of ints and symbol names")
    dims: List[int] = []
    syms: List[str] = []
    for d in shape:
        if isinstance(d, str):
            if not d or any(c.isspace() for c in d):
                raise ValueError(f"add_input: symbol {d!r} must be non-empty without white space")
            dims.append(-1)
            syms.append(d)
        elif isinstance(d, (int, _np.integer)) and not isinstance(d, bool):
            if d < 0:
                raise ValueError(f"add_input: size {d} < 0 (name a symbolic dim with a str)")
            dims.append(int(d))
            syms.append("")
        else:
            raise TypeError(f"add_input: shape entries are ints or str, got {type(d).__name__}")
    names = "".join(s + " " for s in syms) if any(syms) else None
    self._add_input_raw(name, _qk_dtype(dtype), dims, names)
    self.__dict__.setdefault(_INPUTS, []).append(name)


def _add_constant(self: Model, name: str, value: Any) -> None:
    """A constant (weights, biases, index tensors), copied; its dtype is the array's: float32,
    float16, int8, uint8, int32, int64 or bool (float64 raises TypeError: never narrowed). Lists
    and scalars become arrays first (Python floats as float32, ints as int64)."""
    if isinstance(value, _np.ndarray):
        arr = value
    else:
        arr = _np.asarray(value)
        if arr.dtype == _np.float64:
            arr = arr.astype(_np.float32)
    qk = _NP_TO_QK.get(arr.dtype)
    if qk is None:
        raise TypeError(f"add_constant: dtype {arr.dtype} is not a constant dtype "
                        "(float32, float16, int8, uint8, int32, int64, bool)")
    arr = _np.asarray(arr, order="C")  # ascontiguousarray would make a 0-d array 1-d
    self._add_constant_raw(name, qk, arr, [int(d) for d in arr.shape])


def _add_node(self: Model, op_type: str, name: str, inputs: Sequence[Optional[str]], outputs: Sequence[str],
              attrs: Optional[Mapping[str, Any]] = None, **kwattrs: Any) -> None:
    """A node applying the registered op ``op_type`` (ONNX names: see op_types()) to ``inputs``
    (value names; None or "" leaves an optional input out) and defining ``outputs``. Attributes
    as ``attrs=dict`` and/or keywords: int -> int, float -> float, str -> string, list of ints ->
    ints, list of floats -> floats."""
    merged: Dict[str, Any] = dict(attrs or {})
    merged.update(kwattrs)
    a = _make_attrs(merged)
    try:
        self._add_node_raw(op_type, name, _names("add_node inputs", inputs, True),
                           _names("add_node outputs", outputs, False), a)
    finally:
        if a is not None:
            a.close()


def _add_output(self: Model, name: str) -> None:
    """Marks a value as a graph output (outputs keep this call order)."""
    self._add_output_swig(name)
    self.__dict__.setdefault(_OUTPUTS, []).append(name)


def _names_of_text(text: str, keyword: str) -> List[str]:
    """Second token of every `keyword` line of the graph text (docs/MODEL_GRAPH.md, v2)."""
    return [line.split(" ")[1] for line in text.splitlines() if line.startswith(keyword + " ")]


def _remember_outputs(m: Model, f: Any) -> Model:
    """A loaded graph model's input and output names, from the graph text of its file (the C API
    lists neither yet)."""
    if _GRAPH_TEXT in f:
        text = bytes(f.read_codes(_GRAPH_TEXT)).decode("ascii", "replace")
        m.__dict__[_INPUTS] = _names_of_text(text, "input")
        m.__dict__[_OUTPUTS] = _names_of_text(text, "output")
    return m


def _graph_names(self: Model, which: str) -> List[str]:
    names = self.__dict__.get(which)
    if names is None:
        raise ValueError("the input/output names of this model are unknown (a graph model not made by "
                         "Model.graph() or Model.load()): pass outputs=[...] to run_named")
    return list(names)


def _graph_outputs(self: Model) -> List[str]:
    return _graph_names(self, _OUTPUTS)


def _load(path: Union[str, "os.PathLike[str]"]) -> Model:
    """A model saved by :meth:`save`; a converted model runs bit-identically."""
    m = _load_prev(path)
    if not m._is_graph_raw():
        return m
    from . import WeightFile
    with WeightFile.open(path) as f:
        return _remember_outputs(m, f)


def _load_memory(data: Any) -> Model:
    m = _load_memory_prev(data)
    if not m._is_graph_raw():
        return m
    from . import WeightFile
    with WeightFile.from_bytes(data) as f:
        return _remember_outputs(m, f)


def _with_io_names(m: Model) -> Model:
    """Records a graph model's input and output names (from the C API) for run_named."""
    m.__dict__[_INPUTS] = [m._io_name_raw(0, i) for i in range(m._io_count_raw(0))]
    m.__dict__[_OUTPUTS] = [m._io_name_raw(1, i) for i in range(m._io_count_raw(1))]
    return m


def _load_onnx(source: Any) -> Model:
    """Model.load_onnx(path_or_bytes) -> a FLOAT graph model imported from ONNX (opsets 7..18).

    A path (str / os.PathLike) may keep tensors in external data files inside its folder; bytes
    (a serialized ModelProto, e.g. from ``torch.onnx.export`` into a BytesIO) may not. Quantize it
    like any model: prepare / calibrate_named / convert, or quantize_dynamic."""
    if isinstance(source, (str, os.PathLike)):
        m = Model._load_onnx_raw(os.fspath(source))
    else:
        m = Model._load_onnx_memory_raw(bytes(source))
    return _with_io_names(m)


def _new_run(self: Model, inputs: Mapping[str, Any]) -> Run:
    run = Run(self)
    run.__dict__["_model"] = self  # the C context needs the model alive
    try:
        for name, value in inputs.items():
            want = int(self._value_dtype_raw(name))
            np_want = _QK_TO_NP.get(want)
            if np_want is None:
                raise TypeError(f"input {name!r} has dtype {want}, which runs cannot set")
            if isinstance(value, _np.ndarray):
                if value.dtype != np_want:
                    raise TypeError(f"input {name!r}: expected a numpy array of dtype {np_want}, got {value.dtype}")
                arr = _np.asarray(value, order="C")
            else:
                arr = _np.asarray(value, dtype=np_want, order="C")
            run.set_input_raw(name, want, arr, [int(d) for d in arr.shape])
    except BaseException:
        run.close()
        raise
    return run


def _run_named(self: Model, inputs: Mapping[str, Any], pool: Any = None,
               outputs: Optional[Sequence[str]] = None) -> Dict[str, _np.ndarray]:
    """Runs the model on ``{input name: array}`` and returns ``{output name: array}`` in model
    order (or the values named in ``outputs``). Arrays of the inputs' declared dtype (float32,
    int32, int64, bool; lists are converted); f32 outputs come back float32 (a CONVERTED model's
    quantized outputs dequantized), integer and bool outputs in their own dtype. One run context
    per call: several threads may run one CONVERTED / DYNAMIC / FLOAT model at once."""
    names = list(outputs) if outputs is not None else _graph_outputs(self)
    run = _new_run(self, inputs)
    try:
        run.invoke(pool)
        return {n: run.get_output(n) for n in names}
    finally:
        run.close()


def _calibrate_named(self: Model, inputs: Mapping[str, Any]) -> None:
    """One calibration step of a PREPARED graph model on ``{input name: array}``."""
    run = _new_run(self, inputs)
    try:
        run.calibrate()
    finally:
        run.close()


def _run(self: Model, x: Any, pool: Any = None) -> _np.ndarray:
    """run(x, pool=None): see the docstring of the layer models; a graph model with one input and
    one output takes and returns arrays of its own shapes (no per-sample convention)."""
    if not self._is_graph_raw():
        return _run_swig(self, x, pool)
    ins, outs = _graph_names(self, _INPUTS), _graph_outputs(self)
    if len(ins) != 1 or len(outs) != 1:
        raise ValueError(f"run: the model has {len(ins)} inputs and {len(outs)} outputs: use run_named")
    return _run_named(self, {ins[0]: x}, pool)[outs[0]]


def _nodes(self: Model) -> List[Tuple[str, str]]:
    """(name, op type) of every node in execution order (after convert: with the inserted
    qk.Quantize / qk.Dequantize / qk.Reorder nodes)."""
    return [(self._node_name_raw(i), self._node_op_type_raw(i)) for i in range(self._node_count_raw())]


def _value_shape(self: Model, name: str) -> Tuple[Union[int, str, None], ...]:
    """Declared shape of a value: sizes as ints, symbolic dims as their symbol name (None for a
    dim derived at run time without a name)."""
    out: List[Union[int, str, None]] = []
    for i in range(self._value_rank_raw(name)):
        d = self._value_dim_raw(name, i)
        out.append(int(d) if d >= 0 else (self._value_dim_name_raw(name, i) or None))
    return tuple(out)


def _value_dtype(self: Model, name: str) -> Union[DType, int]:
    """Declared dtype of a value (a DType; 10 for bool, which DType does not list)."""
    t = int(self._value_dtype_raw(name))
    try:
        return DType(t)
    except ValueError:
        return t


def op_types() -> List[str]:
    """Names of the registered graph ops (ONNX's names where ONNX has the op)."""
    return [core._op_name_raw(i) for i in range(core._op_count_raw())]


def _repr(self: Model) -> str:
    if not self.closed and self._is_graph_raw():
        return f"<quantkit.Model graph {self.state.name} {self._node_count_raw()} nodes>"
    return _repr_prev(self)


_repr_prev = Model.__repr__
Model.__repr__ = _repr
_graph_swig = Model.graph
Model.graph = staticmethod(_graph)
Model.add_input = _add_input
Model.add_constant = _add_constant
Model.add_node = _add_node
_add_output_swig = Model.add_output
Model._add_output_swig = _add_output_swig
Model.add_output = _add_output
_run_swig = Model.run
Model.run = _run
_run.__doc__ = (_run_swig.__doc__ or "") + (" Graph models with one input and one output: arrays of the graph's "
                                             "own shapes (run_named for the general case).")
Model.run_named = _run_named
Model.calibrate_named = _calibrate_named
Model.nodes = _nodes
Model.value_shape = _value_shape
Model.value_dtype = _value_dtype
Model.is_graph = property(lambda self: bool(self._is_graph_raw()),
                          doc="True for a model from Model.graph() (or a loaded graph model).")
_load_prev = Model.load
Model.load = staticmethod(_load)
Model.load_onnx = staticmethod(_load_onnx)

if hasattr(Model, "load_memory"):
    _load_memory_prev = Model.load_memory
    Model.load_memory = staticmethod(_load_memory)
    _load_memory.__doc__ = _load_memory_prev.__doc__
Model.graph.__doc__ = "Model.graph() -> an empty FLOAT graph model (EXPERIMENTAL API): add_input, add_constant, " \
                      "add_node, add_output, then the usual life cycle and run_named."
