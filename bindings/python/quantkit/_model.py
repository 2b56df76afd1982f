# SPDX-License-Identifier: Apache-2.0
"""Python sugar on :class:`quantkit.Model`: keyword arguments with PyTorch-like defaults
(``stride=1``, ``padding=0``, ints or tuples), shapes as tuples, the per-layer SQNR report as a
dict. Imported by ``quantkit/__init__.py`` after the enums and errors exist."""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as _np

from . import Layout, LayerKind
from .core import Model

IntOrPair = Union[int, Sequence[int]]


def _pair(v: IntOrPair, what: str) -> List[int]:
    """2 values from an int or a pair (PyTorch's conv/pool arguments)."""
    if isinstance(v, (int, _np.integer)):
        return [int(v), int(v)]
    v = [int(x) for x in v]
    if len(v) != 2:
        raise ValueError(f"{what}: expected an int or 2 values, got {len(v)}")
    return v


def _padding(v: IntOrPair) -> List[int]:
    """{top, left, bottom, right} from an int, (ph, pw) (symmetric, as torch) or 4 values."""
    if isinstance(v, (int, _np.integer)):
        return [int(v)] * 4
    v = [int(x) for x in v]
    if len(v) == 2:
        return [v[0], v[1], v[0], v[1]]
    if len(v) == 4:
        return v
    raise ValueError(f"padding: expected an int, 2 or 4 values, got {len(v)}")


def _model_init(self: Model, input_name: str, sample_shape: Sequence[int]) -> None:
    """An empty float model with one input of per-sample shape ``sample_shape`` ({C, H, W} or {F})."""
    _model_swig_init(self, input_name, [int(d) for d in sample_shape])


def _add_conv2d(self: Model, name: str, input: str, output: str, weight, bias=None, stride: IntOrPair = 1,
                padding: IntOrPair = 0, dilation: IntOrPair = 1, groups: int = 1) -> None:
    """Conv2d (PyTorch semantics): weight float32 OIHW, bias None or out_channels float32."""
    self._add_conv2d_raw(name, input, output, weight, bias, _pair(stride, "stride"),
                         _padding(padding), _pair(dilation, "dilation"), int(groups))


def _add_linear(self: Model, name: str, input: str, output: str, weight, bias=None) -> None:
    """Linear: weight float32 [out_features, in_features], bias None or out_features float32."""
    self._add_linear_raw(name, input, output, weight, bias)


def _add_batchnorm(self: Model, name: str, input: str, output: str, running_mean, running_var, weight=None,
                   bias=None, eps: float = 1e-5) -> None:
    """Inference BatchNorm1d/2d: running statistics, affine weight (gamma) and bias (beta) or None."""
    self._add_batchnorm_raw(name, input, output, running_mean, running_var, weight, bias, float(eps))


def _add_max_pool2d(self: Model, name: str, input: str, output: str, kernel_size: IntOrPair,
                    stride: Optional[IntOrPair] = None, padding: IntOrPair = 0, dilation: IntOrPair = 1) -> None:
    """MaxPool2d (floor mode); stride defaults to the kernel size, as in torch."""
    k = _pair(kernel_size, "kernel_size")
    self._add_max_pool2d_raw(name, input, output, k, k if stride is None else _pair(stride, "stride"),
                             _padding(padding), _pair(dilation, "dilation"))


def _add_avg_pool2d(self: Model, name: str, input: str, output: str, kernel_size: IntOrPair,
                    stride: Optional[IntOrPair] = None, padding: IntOrPair = 0,
                    count_include_pad: bool = True) -> None:
    """AvgPool2d (floor mode); stride defaults to the kernel size, as in torch."""
    k = _pair(kernel_size, "kernel_size")
    self._add_avg_pool2d_raw(name, input, output, k, k if stride is None else _pair(stride, "stride"),
                             _padding(padding), bool(count_include_pad))


def _add_concat(self: Model, name: str, inputs: Sequence[str], output: str) -> None:
    """Concatenation of 2..64 tensors along their first per-sample axis (torch.cat(dim=1))."""
    if isinstance(inputs, str):
        raise TypeError("add_concat: inputs must be a sequence of tensor names, not one string")
    names = [str(n) for n in inputs]
    if any(" " in n or not n for n in names):
        raise ValueError("add_concat: tensor names are non-empty and contain no spaces")
    self._add_concat_raw(name, " ".join(names), output)


def _add_reshape(self: Model, name: str, input: str, shape: Sequence[int], output: str) -> None:
    """Reshape to a per-sample shape of rank 1 or 3 (one dimension may be -1)."""
    self._add_reshape_raw(name, input, [int(d) for d in shape], output)


def _layer_max_error(self: Model, x) -> Dict[str, float]:
    """{layer name: largest |int8 output - float output|} on batch ``x`` (CONVERTED models)."""
    return {name: float(v) for name, v in zip(_layer_names(self), self._layer_max_error_raw(x))}


def _tensor_shape(self: Model, tensor: str) -> Tuple[int, ...]:
    """Per-sample shape of a tensor (without the batch dimension)."""
    return tuple(self._tensor_dim_raw(tensor, i) for i in range(self._tensor_rank_raw(tensor)))


def _output_shape(self: Model) -> Tuple[int, ...]:
    return tuple(self._output_dim_raw(i) for i in range(self._output_rank_raw()))


def _layer_names(self: Model) -> List[str]:
    return [self.layer_name(i) for i in range(self.layer_count)]


def _layers(self: Model) -> List[Tuple[str, LayerKind]]:
    return [(self.layer_name(i), LayerKind(self.layer_kind(i))) for i in range(self.layer_count)]


def _fused(self: Model) -> List[str]:
    return [self.fused_name(i) for i in range(self.fused_count)]


def _io_layout(self: Model) -> Layout:
    return Layout(self.get_io_layout())


def _set_io_layout(self: Model, layout: int) -> None:
    """Layout.NCHW (default) or Layout.NHWC for run/calibrate/report data (FLOAT models; saved)."""
    self._set_io_layout_swig(int(layout))


def _layer_sqnr(self: Model, x) -> Dict[str, float]:
    """{layer name: SQNR in dB of its int8 output against the float model} on batch ``x``
    (CONVERTED models built in this process; StateError for a loaded model)."""
    values = self._layer_sqnr_raw(x)
    return {name: float(v) for name, v in zip(_layer_names(self), values)}


def _save(self: Model, path: Union[str, "os.PathLike[str]"]) -> None:
    """Writes the model to a .qkw file (FLOAT, CONVERTED or DYNAMIC)."""
    self._save_swig(os.fsdecode(os.fspath(path)))


def _load(path: Union[str, "os.PathLike[str]"]) -> Model:
    """A model saved by :meth:`save`; a converted model runs bit-identically."""
    return Model._load_raw(os.fsdecode(os.fspath(path)))


def _repr(self: Model) -> str:
    if self.closed:
        return "<quantkit.Model closed>"
    return f"<quantkit.Model {self.state.name} {self.layer_count} layers -> {self.output_shape}>"


_model_swig_init = Model.__init__
Model.__init__ = _model_init
Model.add_conv2d = _add_conv2d
Model.add_linear = _add_linear
Model.add_batchnorm = _add_batchnorm
Model.add_max_pool2d = _add_max_pool2d
Model.add_avg_pool2d = _add_avg_pool2d
Model.tensor_shape = _tensor_shape
Model.output_shape = property(_output_shape, doc="Per-sample output shape (without the batch dimension).")
Model.layer_names = property(_layer_names, doc="Layer names in execution order.")
Model.layers = property(_layers, doc="(name, LayerKind) of every layer in execution order.")
Model.fused = property(_fused, doc="Descriptions of the fusions made so far ('conv1+bn1+relu1').")
Model.layer_sqnr = _layer_sqnr
Model.layer_max_error = _layer_max_error
Model.add_concat = _add_concat
Model.add_reshape = _add_reshape
Model._save_swig = Model.save
Model.save = _save
Model.load = staticmethod(_load)
Model.__repr__ = _repr
Model._set_io_layout_swig = Model.set_io_layout
Model.set_io_layout = _set_io_layout
Model.io_layout = property(_io_layout, doc="Layout of run/calibrate data (Layout.NCHW or NHWC).")

# Docstrings for the methods SWIG generates (its autodoc only gives the C signature).
_DOCS = {
    "run": "run(x, pool=None) -> float32 array {N, output sample...}. x: float32 {N, sample...}; "
           "FLOAT/PREPARED run in f32, CONVERTED in int8, DYNAMIC with int8 linears. Releases the GIL.",
    "calibrate": "calibrate(batch): one float32 batch {N, sample...} through a PREPARED model, "
                 "updating every observer (non-finite values: InvalidArgumentError). Releases the GIL.",
    "prepare": "prepare(): FLOAT -> PREPARED, attaching the activation observers.",
    "convert": "convert(): PREPARED -> CONVERTED (StateError if an observed tensor saw no data).",
    "quantize_dynamic": "quantize_dynamic(): FLOAT -> DYNAMIC (int8 Linear weights, activations at run time).",
    "fuse": "fuse(): conv+bn(+relu), linear+bn1d, linear/conv+relu/hardtanh, add+relu (FLOAT models).",
    "set_activation_observer": "set_activation_observer(layer, kind): layer None = the model default.",
    "set_activation_dtype": "set_activation_dtype(layer, dtype): DType.U8 or S8; layer None = default.",
    "set_weight_scheme": "set_weight_scheme(layer, scheme): per-channel/per-tensor symmetric or affine s8.",
    "set_layer_skip": "set_layer_skip(layer, skip): keep a layer in f32 after conversion.",
    "set_tensor_qparams": "set_tensor_qparams(tensor, qparams): per-tensor qparams (e.g. from QAT) "
                          "instead of the tensor's observer.",
    "tensor_qparams": "tensor_qparams(tensor) -> QParams of a tensor of a CONVERTED model.",
    "save_observers": "save_observers() -> uint8 array: the observer states of a PREPARED model.",
    "merge_observers": "merge_observers(state): fold another copy's save_observers() into this one.",
    "load_memory": "Model.load_memory(data) -> Model from a .qkw image (bytes-like), equal to Model.load "
                   "on a file holding it; the bytes are not kept.",
    "set_qconfig_preset": "set_qconfig_preset(layer, preset): 'x86'/'fbgemm' or 'qnnpack'.",
}
for _name, _doc in _DOCS.items():
    getattr(Model, _name).__doc__ = _doc
