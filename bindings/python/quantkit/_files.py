# SPDX-License-Identifier: Apache-2.0
"""Python sugar on the .qkw classes (WeightWriter, WeightFile, TensorInfo, Encoding).

The SWIG classes take tensor indices and flat argument lists (what Java and C# need too); this
module adds what Python users expect: tensors by name or index, keyword arguments with
defaults, dtype and shape taken from the numpy array, and dict/list views of the table.
Imported by ``quantkit/__init__.py`` after the enums and errors exist.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as _np

from . import Codec, DType, VerifyMode
from .core import Encoding, QParams, TensorInfo, WeightFile, WeightWriter

TensorKey = Union[int, str]

# numpy dtype -> the dtype add_raw() records (float16 arrays are stored as F16; bf16 has no numpy
# dtype, so uint16 bits are stored as BF16 only when asked for explicitly).
_RAW_DTYPES = {
    _np.dtype(_np.float32): DType.F32, _np.dtype(_np.float16): DType.F16, _np.dtype(_np.int8): DType.S8,
    _np.dtype(_np.uint8): DType.U8, _np.dtype(_np.int32): DType.S32, _np.dtype(_np.int64): DType.S64,
}


def _fspath(path: Union[str, "os.PathLike[str]"]) -> str:
    return os.fsdecode(os.fspath(path))


# ---- WeightWriter ---------------------------------------------------------------------------
def _writer_init(self: WeightWriter, path: Union[str, "os.PathLike[str]"]) -> None:
    _writer_swig_init(self, _fspath(path))


def _writer_add_f32(self: WeightWriter, name: str, data, codec: int = Codec.RAW, *, dtype: int = DType.F32,
                    bits: int = 8, axis: int = 0, group_size: int = 0) -> Encoding:
    """Adds a float32 tensor encoded with ``codec`` (see qk_qkw_writer_add_f32 for the codec's
    parameters; e.g. ``Codec.SYMMETRIC, bits=4, axis=0, group_size=32``). Returns the measured
    :class:`Encoding` (``sqnr_db``, ``max_abs_error``)."""
    return self._add_f32_raw(name, data, int(codec), int(dtype), bits, axis, group_size)


def _writer_add_budget(self: WeightWriter, name: str, data, target_sqnr_db: float = 0.0,
                       max_bits: int = 8) -> Encoding:
    """Adds a float32 tensor with an error budget: the cheapest encoding whose SQNR is at least
    ``target_sqnr_db`` within ``max_bits`` (small tensors stay exact). Returns the choice made."""
    return self._add_budget_raw(name, data, float(target_sqnr_db), int(max_bits))


def _writer_add_quantized(self: WeightWriter, name: str, codes, qparams: QParams, source=None,
                          shape: Optional[Sequence[int]] = None) -> None:
    """Adds codes that are already quantized (as ``qparams.quantize()`` returns them), stored as
    they are. ``shape`` defaults to ``codes.shape`` (give it for packed 4-bit codes); ``source``,
    the float32 tensor they came from, lets the file record their SQNR."""
    codes = _np.ascontiguousarray(codes)
    if shape is None:
        shape = codes.shape
    self._add_quantized_raw(name, codes, [int(d) for d in shape], qparams, source)


def _writer_add_raw(self: WeightWriter, name: str, data, dtype: Optional[int] = None) -> None:
    """Adds an array stored bit for bit, in its own dtype (float32/float16/int8/uint8/int32/int64;
    ``dtype=DType.BF16`` stores uint16 bits as bfloat16)."""
    a = _np.ascontiguousarray(data)
    if dtype is None:
        if a.dtype not in _RAW_DTYPES:
            raise TypeError(f"add_raw: no .qkw dtype for numpy dtype {a.dtype}")
        dtype = _RAW_DTYPES[a.dtype]
    self._add_raw_raw(name, a, int(dtype), [int(d) for d in a.shape])


def _writer_exit(self: WeightWriter, exc_type, exc, tb) -> None:
    """A ``with`` block that ends normally writes the file; one left by an exception does not."""
    try:
        if exc_type is None and not self.closed and not self.finished:
            self.finish()
    finally:
        self.close()


_writer_swig_init = WeightWriter.__init__
WeightWriter.__init__ = _writer_init
WeightWriter.add_f32 = _writer_add_f32
WeightWriter.add_budget = _writer_add_budget
WeightWriter.add_quantized = _writer_add_quantized
WeightWriter.add_raw = _writer_add_raw
WeightWriter.__exit__ = _writer_exit


# ---- WeightFile -----------------------------------------------------------------------------
def _file_open(path: Union[str, "os.PathLike[str]"], verify: int = VerifyMode.FULL,
               memory_budget: int = 0) -> WeightFile:
    """Opens a .qkw file (memory-mapped). ``verify``: FULL checks every checksum now, LAZY on first
    use, NONE only the table. Raises CorruptDataError / QuantKitIOError / UnsupportedError."""
    return WeightFile._open_raw(_fspath(path), int(verify), int(memory_budget))


def _file_from_bytes(data, verify: int = VerifyMode.FULL, memory_budget: int = 0) -> WeightFile:
    """Opens a .qkw image held in memory (bytes, bytearray, memoryview; copied once)."""
    return WeightFile._from_bytes_raw(data, int(verify), int(memory_budget))


def _file_index(self: WeightFile, key: TensorKey) -> int:
    if isinstance(key, str):
        return self._find_raw(key)
    if isinstance(key, (int, _np.integer)) and not isinstance(key, bool):
        count = self.tensor_count
        i = int(key)
        if not -count <= i < count:
            raise IndexError(f"tensor index {i} out of range ({count} tensors)")
        return i % count
    raise TypeError(f"tensor key must be a name or an index, got {type(key).__name__}")


def _file_find(self: WeightFile, name: str) -> int:
    """Index of tensor ``name`` (NotFoundError otherwise)."""
    return self._find_raw(name)


def _file_names(self: WeightFile) -> List[str]:
    return [self.tensor_name(i) for i in range(self.tensor_count)]


def _file_metadata(self: WeightFile) -> Dict[str, str]:
    return {self.metadata_key(i): self.metadata_value(i) for i in range(self.metadata_count)}


def _by_key(raw_name: str, doc: str):
    def method(self: WeightFile, key: TensorKey):
        return getattr(self, raw_name)(_file_index(self, key))
    method.__doc__ = doc
    return method


WeightFile.open = staticmethod(_file_open)
WeightFile.from_bytes = staticmethod(_file_from_bytes)
WeightFile.find = _file_find
WeightFile.names = property(_file_names, doc="Tensor names, in file (byte-wise name) order.")
WeightFile.metadata = property(_file_metadata, doc="All metadata pairs as a dict (key order).")
WeightFile.info = _by_key("_info_raw", "TensorInfo of a tensor (by name or index).")
WeightFile.decode_f32 = _by_key("_decode_f32_raw", "The tensor decoded to a float32 array of its shape.")
WeightFile.read_codes = _by_key(
    "_read_codes_raw", "The stored codes: one per element (int8/uint8/raw dtype, tensor shape), or flat "
    "uint8 bytes for the ggml block codecs and int64 data.")
WeightFile.read_params = _by_key("_read_params_raw", "The codec's float32 parameters (scales, zero points, LUT).")
WeightFile.qparams = _by_key("_qparams_raw", "QParams of a SYMMETRIC/AFFINE tensor (UnsupportedError otherwise).")
WeightFile.__len__ = lambda self: self.tensor_count
WeightFile.__iter__ = lambda self: iter(_file_names(self))
WeightFile.__contains__ = lambda self, name: isinstance(name, str) and name in _file_names(self)
WeightFile.__getitem__ = lambda self, key: self.decode_f32(key)


# ---- TensorInfo / Encoding -----------------------------------------------------------------
def _info_shape(self: TensorInfo) -> Tuple[int, ...]:
    return tuple(self._dim_raw(i) for i in range(self.rank))


def _info_repr(self: TensorInfo) -> str:
    if self.closed:
        return "<quantkit.TensorInfo closed>"
    return (f"<quantkit.TensorInfo {self.name!r} shape={self.shape} codec={Codec(self.codec).name} "
            f"dtype={DType(self.dtype).name} bits={self.bits} stored={self.stored_bytes}B "
            f"sqnr={self.sqnr_db:.2f}dB>")


def _encoding_repr(self: Encoding) -> str:
    if self.closed:
        return "<quantkit.Encoding closed>"
    return (f"<quantkit.Encoding codec={Codec(self.codec).name} levels={self.levels} "
            f"sqnr={self.sqnr_db:.2f}dB max_abs_error={self.max_abs_error:.3g}>")


TensorInfo.shape = property(_info_shape, doc="The tensor's shape.")
TensorInfo.__repr__ = _info_repr
Encoding.__repr__ = _encoding_repr


WeightWriter.finish.__doc__ = ("finish(): writes the file atomically (temporary file, fsync, rename). "
                               "Afterwards only close() is left.")
WeightWriter.set_metadata.__doc__ = "set_metadata(key, value): printable-ASCII key without spaces, UTF-8 value."
WeightWriter.set_zstd_level.__doc__ = "set_zstd_level(level): 1..22, or 0 to store chunks uncompressed."
WeightFile.verify.__doc__ = "verify(): check every chunk now (CorruptDataError names the first bad tensor)."
WeightFile.metadata_get.__doc__ = "metadata_get(key) -> str (NotFoundError if absent)."
