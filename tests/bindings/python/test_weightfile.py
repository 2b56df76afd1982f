# SPDX-License-Identifier: Apache-2.0
"""WeightWriter / WeightFile: every codec decoded against numpy math, info, metadata, codes and
qparams, atomic writing (no file unless finished), and damaged files raising precise errors."""
import os

import numpy as np
import pytest

import quantkit as qk

RNG = np.random.default_rng(11)
X = RNG.standard_normal((32, 64)).astype(np.float32)


def sqnr_db(ref, approx):
    ref, approx = ref.astype(np.float64), approx.astype(np.float64)
    return 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - approx) ** 2))


@pytest.fixture
def qkw(tmp_path):
    """A file with one tensor per codec, uncompressed (so its bytes can be found and damaged)."""
    path = tmp_path / "all.qkw"
    enc = {}
    with qk.WeightWriter(path) as w:
        w.set_zstd_level(0)
        enc["raw"] = w.add_f32("raw", X)
        enc["f16"] = w.add_f32("f16", X, qk.Codec.RAW, dtype=qk.DType.F16)
        enc["sym"] = w.add_f32("sym", X, qk.Codec.SYMMETRIC, bits=8, axis=0)
        enc["sym4g"] = w.add_f32("sym4g", X, qk.Codec.SYMMETRIC, bits=4, axis=1, group_size=16)
        enc["aff"] = w.add_f32("aff", X, qk.Codec.AFFINE, dtype=qk.DType.U8, axis=-1)
        enc["q8"] = w.add_f32("q8", X, qk.Codec.GGML_Q8_0)
        enc["lut"] = w.add_f32("lut", X, qk.Codec.LUT, bits=4)
        w.set_metadata("source.name", "unit test")
        w.set_metadata("note", "first")
        w.set_metadata("note", "ünïcode value")  # replaces the first value
    return path, enc


def test_raw_f32_is_bit_exact_and_info_is_complete(qkw):
    path, enc = qkw
    assert enc["raw"].sqnr_db == float("inf") and enc["raw"].max_abs_error == 0
    with qk.WeightFile.open(path) as f:
        assert f.decode_f32("raw").tobytes() == X.tobytes()
        info = f.info("raw")
        assert (info.name, info.shape, info.codec, info.dtype) == ("raw", (32, 64), qk.Codec.RAW, qk.DType.F32)
        assert info.element_count == X.size and info.code_bytes == X.nbytes and info.param_count == 0
        assert not info.compressed and info.mappable and info.status == 0
        assert f.read_codes("raw").tobytes() == X.tobytes()


def test_f16_raw_rounds_like_numpy(qkw):
    with qk.WeightFile.open(qkw[0]) as f:
        np.testing.assert_array_equal(f.decode_f32("f16"), X.astype(np.float16).astype(np.float32))
        assert f.read_codes("f16").dtype == np.float16


def test_symmetric_per_channel_codes_times_scales(qkw):
    path, enc = qkw
    with qk.WeightFile.open(path) as f:
        codes, scales, dec = f.read_codes("sym"), f.read_params("sym"), f.decode_f32("sym")
        info = f.info("sym")
        qp = f.qparams("sym")
    assert codes.dtype == np.int8 and codes.shape == X.shape and np.abs(codes).max() <= 127
    np.testing.assert_allclose(scales, np.abs(X).max(axis=1) / 127, rtol=1e-6)
    np.testing.assert_array_equal(dec, codes.astype(np.float32) * scales[:, None])
    assert np.all(np.abs(dec - X) <= scales[:, None] / 2 * (1 + 1e-5))
    assert enc["sym"].sqnr_db == pytest.approx(sqnr_db(X, dec), abs=1e-3)
    assert info.sqnr_db == enc["sym"].sqnr_db and info.max_abs_error == pytest.approx(np.abs(dec - X).max())
    assert (info.axis, info.bits, info.levels) == (0, 8, 127)
    assert qp.scheme == qk.QScheme.PER_CHANNEL_SYMMETRIC and qp.count == 32
    np.testing.assert_array_equal(qp.scales, scales)
    np.testing.assert_array_equal(qp.dequantize(codes), dec)


def test_symmetric_per_group_4bit(qkw):
    with qk.WeightFile.open(qkw[0]) as f:
        codes, scales, dec, info = f.read_codes("sym4g"), f.read_params("sym4g"), f.decode_f32("sym4g"), f.info("sym4g")
    assert (info.levels, info.group_size, info.axis) == (7, 16, 1)
    assert scales.shape == (32 * 4,) and np.abs(codes).max() <= 7
    per_elem = np.repeat(scales.reshape(32, 4), 16, axis=1)
    np.testing.assert_array_equal(dec, codes.astype(np.float32) * per_elem)


def test_affine_per_tensor_matches_minmax(qkw):
    with qk.WeightFile.open(qkw[0]) as f:
        codes, params, dec = f.read_codes("aff"), f.read_params("aff"), f.decode_f32("aff")
        qp = f.qparams("aff")
    scale, zp = params
    assert scale == pytest.approx((X.max() - X.min()) / 255, rel=1e-6)
    assert codes.dtype == np.uint8
    np.testing.assert_array_equal(dec, (codes.astype(np.float32) - zp) * scale)
    assert qp.dtype == qk.DType.U8 and int(qp.zero_points[0]) == zp


def test_ggml_and_lut(qkw):
    with qk.WeightFile.open(qkw[0]) as f:
        q8, info8 = f.read_codes("q8"), f.info("q8")
        lut, idx, dec = f.read_params("lut"), f.read_codes("lut"), f.decode_f32("lut")
        with pytest.raises(qk.UnsupportedError, match="q8"):
            f.qparams("q8")
        dec8 = f.decode_f32("q8")
    # Q8_0: per 32 values an f16 scale then 32 int8 codes (34 bytes a block).
    assert q8.dtype == np.uint8 and q8.size == info8.code_bytes == X.size // 32 * 34
    blocks = q8.reshape(-1, 34)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    np.testing.assert_array_equal(dec8.reshape(-1, 32), blocks[:, 2:].view(np.int8).astype(np.float32) * d)
    assert lut.shape == (16,) and idx.max() < 16
    np.testing.assert_array_equal(dec, lut[idx])


def test_metadata_names_and_lookup(qkw):
    with qk.WeightFile.open(qkw[0]) as f:
        assert f.names == sorted(f.names) == ["aff", "f16", "lut", "q8", "raw", "sym", "sym4g"]
        assert len(f) == 7 and "sym" in f and "nope" not in f and list(f) == f.names
        assert f.find("raw") == f.names.index("raw") and f.info(-1).name == "sym4g"
        md = f.metadata
        assert md["note"] == "ünïcode value" and md["source.name"] == "unit test"
        assert f.metadata_get("note") == "ünïcode value"
        with pytest.raises(qk.NotFoundError) as e:
            f.metadata_get("missing")
        assert isinstance(e.value, KeyError) and e.value.status == qk.Status.NOT_FOUND
        with pytest.raises(qk.NotFoundError, match="nope"):
            f.decode_f32("nope")
        with pytest.raises(IndexError):
            f.info(7)
        with pytest.raises(TypeError):
            f.info(1.5)
        assert f.version_major >= 1 and f.alignment == 64 and f.file_size == os.path.getsize(qkw[0])


def test_from_bytes_equals_file(qkw):
    data = qkw[0].read_bytes()
    with qk.WeightFile.from_bytes(data) as a, qk.WeightFile.open(qkw[0]) as b:
        for name in b.names:
            assert a.decode_f32(name).tobytes() == b.decode_f32(name).tobytes()
    with qk.WeightFile.from_bytes(bytearray(data), qk.VerifyMode.LAZY) as c:
        del data  # the reader holds its own copy
        assert c.decode_f32("raw").tobytes() == X.tobytes()


def test_add_quantized_and_raw_round_trip(tmp_path):
    w8 = RNG.standard_normal((6, 40)).astype(np.float32)
    with qk.QuantSpec(qk.DType.S8, qk.QScheme.PER_CHANNEL_SYMMETRIC) as spec:
        qp = qk.QParams.from_tensor(spec, w8)
    codes = qp.quantize(w8)
    ints = np.arange(-5, 7, dtype=np.int32).reshape(3, 4)
    big = np.array([2 ** 40, -3], dtype=np.int64)
    path = tmp_path / "q.qkw"
    with qk.WeightWriter(str(path)) as w:
        w.add_quantized("w8", codes, qp, source=w8)
        w.add_raw("ints", ints)
        w.add_raw("big", big)
        w.add_raw("bytes", np.array([1, 255], np.uint8))
    with qk.WeightFile.open(path) as f:
        np.testing.assert_array_equal(f.read_codes("w8"), codes)
        np.testing.assert_array_equal(f.qparams("w8").scales, qp.scales)
        np.testing.assert_array_equal(f.decode_f32("w8"), qp.dequantize(codes))
        assert f.info("w8").sqnr_db == pytest.approx(sqnr_db(w8, qp.dequantize(codes)), abs=1e-3)
        np.testing.assert_array_equal(f.read_codes("ints"), ints)
        assert f.read_codes("ints").dtype == np.int32
        assert f.read_codes("big").view(np.int64).tolist() == big.tolist()  # int64: flat bytes
        np.testing.assert_array_equal(f.decode_f32("big"), big.astype(np.float32))
        assert f.info("big").dtype == qk.DType.S64
        np.testing.assert_array_equal(f.read_codes("bytes"), [1, 255])


def test_add_budget_meets_target_and_keeps_small_tensors_exact(tmp_path):
    path = tmp_path / "b.qkw"
    w_big = RNG.standard_normal((64, 64)).astype(np.float32)
    bias = RNG.standard_normal(10).astype(np.float32)
    with qk.WeightWriter(path) as w:
        e = w.add_budget("w", w_big, target_sqnr_db=30.0)
        eb = w.add_budget("b", bias, max_bits=4)
        e4 = w.add_budget("w4", w_big, max_bits=4)
    assert e.codec == qk.Codec.SYMMETRIC and e.sqnr_db >= 30.0 and 0 < e.levels < 127
    assert eb.codec == qk.Codec.RAW and eb.sqnr_db == float("inf")
    assert e4.levels == 7
    with qk.WeightFile.open(path) as f:
        assert sqnr_db(w_big, f.decode_f32("w")) == pytest.approx(e.sqnr_db, abs=1e-3)
        assert f.decode_f32("b").tobytes() == bias.tobytes()


def test_unfinished_writer_leaves_no_file(tmp_path):
    path = tmp_path / "never.qkw"
    w = qk.WeightWriter(path)
    w.add_f32("x", X)
    w.close()
    w.close()
    assert not path.exists()
    with pytest.raises(RuntimeError, match="boom"):
        with qk.WeightWriter(path) as w:
            w.add_f32("x", X)
            raise RuntimeError("boom")
    assert not path.exists() and w.closed
    assert os.listdir(tmp_path) == []  # no temporary file either


def test_writer_state_and_argument_errors(tmp_path):
    path = tmp_path / "s.qkw"
    w = qk.WeightWriter(path)
    w.add_f32("x", X)
    with pytest.raises(qk.InvalidArgumentError, match="x"):
        w.add_f32("x", X)  # duplicate
    bad = X.copy()
    bad[3, 3] = np.nan
    with pytest.raises(qk.InvalidArgumentError):
        w.add_f32("nan", bad, qk.Codec.SYMMETRIC)
    with pytest.raises(TypeError, match="float32"):
        w.add_f32("f64", X.astype(np.float64))
    with pytest.raises(qk.InvalidArgumentError):
        w.add_f32("q4", X[:, :40], qk.Codec.GGML_Q4_0)  # last dim not a multiple of 32
    with pytest.raises(qk.InvalidArgumentError):
        w.set_alignment(48)
    with pytest.raises(qk.InvalidArgumentError):
        w.set_metadata("has space", "v")
    with pytest.raises(TypeError):
        w.add_raw("obj", np.array(["a"]))
    w.finish()
    assert w.finished and path.exists()
    with pytest.raises(qk.StateError):
        w.finish()
    with pytest.raises(qk.StateError):
        w.add_f32("late", X)
    w.close()
    with pytest.raises(qk.ClosedError):
        w.add_f32("closed", X)
    with qk.WeightFile.open(path) as f:
        assert f.names == ["x"]  # nothing from the failed calls
    f.close()
    with pytest.raises(qk.ClosedError):
        f.decode_f32(0)
    with pytest.raises(qk.ClosedError):
        _ = f.tensor_count


def _find(data: bytes, needle: bytes) -> int:
    i = data.find(needle)
    assert i > 0
    return i


def test_flipped_byte_in_a_chunk_is_corrupt(qkw, tmp_path):
    data = bytearray(qkw[0].read_bytes())
    i = _find(bytes(data), X.tobytes()[:256]) + 100  # inside the RAW tensor's chunk
    data[i] ^= 0x01
    bad = tmp_path / "bad.qkw"
    bad.write_bytes(bytes(data))
    with pytest.raises(qk.CorruptDataError) as e:
        qk.WeightFile.open(bad)
    assert isinstance(e.value, ValueError) and e.value.status == qk.Status.CORRUPT and "raw" in e.value.message
    # Lazy: the table opens; the damaged tensor fails on use, the others still decode.
    with qk.WeightFile.open(bad, qk.VerifyMode.LAZY) as f:
        np.testing.assert_array_equal(f.decode_f32("f16"), X.astype(np.float16).astype(np.float32))
        with pytest.raises(qk.CorruptDataError, match="raw"):
            f.decode_f32("raw")
        with pytest.raises(qk.CorruptDataError):
            f.verify()
    with pytest.raises(qk.CorruptDataError):
        qk.WeightFile.from_bytes(bytes(data))


def test_damaged_table_truncation_and_io_errors(qkw, tmp_path):
    data = qkw[0].read_bytes()
    for what, blob in [("header", bytes([data[0] ^ 0xFF]) + data[1:]),
                       ("table", data[:40] + bytes([data[40] ^ 0x10]) + data[41:]),
                       ("truncated", data[:len(data) // 2]),
                       ("empty", b""),
                       ("garbage", bytes(range(256)) * 8)]:
        with pytest.raises(qk.CorruptDataError):
            qk.WeightFile.from_bytes(blob, qk.VerifyMode.NONE)
        p = tmp_path / f"{what}.qkw"
        p.write_bytes(blob)
        with pytest.raises((qk.CorruptDataError, qk.QuantKitIOError)):  # an empty file cannot be mapped
            qk.WeightFile.open(p, qk.VerifyMode.NONE)
    with pytest.raises(qk.QuantKitIOError) as e:
        qk.WeightFile.open(tmp_path / "missing.qkw")
    assert isinstance(e.value, OSError)
    with pytest.raises(qk.QuantKitIOError):
        with qk.WeightWriter(tmp_path / "no" / "such" / "dir.qkw") as w:
            w.add_f32("x", X)
    with pytest.raises(TypeError):
        qk.WeightFile.from_bytes(12345)
