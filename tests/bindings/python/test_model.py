# SPDX-License-Identifier: Apache-2.0
"""Model: float runs against numpy math for every layer kind, fusion, calibrate/convert within
quantization tolerance, every activation observer kind, QAT qparams, dynamic mode, save/load
bit-identity, threads, and the error mapping of every build/run mistake."""
import threading

import numpy as np
import pytest

import quantkit as qk

RNG = np.random.default_rng(21)


def sqnr_db(ref, approx):
    ref, approx = ref.astype(np.float64), approx.astype(np.float64)
    return 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - approx) ** 2))


def linear_model(w, b, observer=qk.ObserverKind.MINMAX):
    m = qk.Model("x", (w.shape[1],))
    m.add_linear("fc", "x", "y", w, b)
    m.set_activation_observer(None, observer)
    return m


def conv2d_ref(x, w, b, pad):
    """NCHW conv, stride 1, symmetric zero padding, in float64."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, wd = xp.shape
    o, _, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    cols = np.stack([xp[:, :, i:i + oh, j:j + ow] for i in range(kh) for j in range(kw)], axis=-1)
    out = np.einsum("nchwk,ock->nohw", cols, w.reshape(o, w.shape[1], kh * kw).astype(np.float64))
    return out + b[None, :, None, None]


def pool2x2(x, op):
    n, c, h, w = x.shape
    return op(x.reshape(n, c, h // 2, 2, w // 2, 2), axis=(3, 5))


def test_linear_float_and_int8_against_numpy():
    w = RNG.standard_normal((5, 12)).astype(np.float32)
    b = RNG.standard_normal(5).astype(np.float32)
    x = RNG.uniform(-2, 2, (64, 12)).astype(np.float32)
    ref = x.astype(np.float64) @ w.T.astype(np.float64) + b
    with linear_model(w, b) as m:
        assert m.state == qk.ModelState.FLOAT and m.output_shape == (5,)
        np.testing.assert_allclose(m.run(x), ref, rtol=1e-5, atol=1e-5)
        m.prepare()
        assert m.state == qk.ModelState.PREPARED
        m.calibrate(x)
        m.convert()
        assert m.state == qk.ModelState.CONVERTED
        y = m.run(x)
        in_qp, out_qp = m.tensor_qparams("x"), m.tensor_qparams("y")
    # Error bound: input rounding (<= s_in/2 per element, times sum|w|), per-channel weight
    # rounding, output rounding (s_out/2).
    s_in, s_out = float(in_qp.scales[0]), float(out_qp.scales[0])
    w_step = np.abs(w).max(axis=1) / 127
    bound = (s_in / 2 * np.abs(w).sum(axis=1) + w_step / 2 * np.abs(x).max() * w.shape[1] + s_out / 2) * 1.01
    assert y.shape == (64, 5) and y.dtype == np.float32
    assert np.all(np.abs(y - ref) <= bound[None, :])
    assert sqnr_db(ref, y) > 30
    assert s_in == pytest.approx(np.float32(x.max() - x.min()) / 255, rel=1e-6)


def test_conv_bn_relu_pool_float_against_numpy_and_fusion():
    w = RNG.standard_normal((4, 2, 3, 3)).astype(np.float32) * 0.5
    b = RNG.standard_normal(4).astype(np.float32)
    mean, var = RNG.standard_normal(4).astype(np.float32), RNG.uniform(0.5, 2, 4).astype(np.float32)
    gamma, beta = RNG.uniform(0.5, 1.5, 4).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
    x = RNG.standard_normal((3, 2, 8, 8)).astype(np.float32)

    def build():
        m = qk.Model("x", (2, 8, 8))
        m.add_conv2d("conv", "x", "c", w, b, padding=1)
        m.add_batchnorm("bn", "c", "n", mean, var, gamma, beta, eps=1e-5)
        m.add_relu("relu", "n", "r")
        m.add_max_pool2d("pool", "r", "p", 2)
        m.add_flatten("flat", "p", "f")
        return m

    bn = lambda t: (t - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5) * \
        gamma[None, :, None, None] + beta[None, :, None, None]
    ref = pool2x2(np.maximum(bn(conv2d_ref(x, w, b, 1)), 0), np.max).reshape(3, -1)
    with build() as plain, build() as fused:
        assert plain.layers[:3] == [("conv", qk.LayerKind.CONV2D), ("bn", qk.LayerKind.BATCHNORM),
                                    ("relu", qk.LayerKind.RELU)]
        assert plain.tensor_shape("p") == (4, 4, 4) and plain.output_shape == (64,)
        y = plain.run(x)
        np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
        fused.fuse()
        assert fused.fused == ["conv+bn+relu"] and fused.layer_names == ["conv", "pool", "flat"]
        fused.fuse()  # again: nothing new
        assert fused.fused_count == 1
        np.testing.assert_allclose(fused.run(x), y, rtol=1e-5, atol=1e-5)


def every_layer_model():
    """conv -> hardtanh -> avg pool -> (add with a skip conv) -> global avg pool -> flatten ->
    dropout -> linear -> softmax, plus max pool on a side branch as the output of no one."""
    m = qk.Model("x", (3, 8, 8))
    m.add_conv2d("c1", "x", "a", RNG.standard_normal((4, 3, 3, 3)).astype(np.float32) * 0.3,
                 None, padding=(1, 1))
    m.add_hardtanh("ht", "a", "h", -1.0, 1.0)
    m.add_avg_pool2d("ap", "h", "p", 2)
    m.add_conv2d("c2", "p", "q", RNG.standard_normal((4, 4, 1, 1)).astype(np.float32) * 0.5,
                 RNG.standard_normal(4).astype(np.float32) * 0.1)
    m.add_add("sum", "p", "q", "s")
    m.add_relu("relu", "s", "r")
    m.add_global_avg_pool2d("gap", "r", "g")
    m.add_flatten("flat", "g", "f")
    m.add_dropout("drop", "f", "d")
    m.add_linear("fc", "d", "logits", RNG.standard_normal((6, 4)).astype(np.float32), None)
    m.add_softmax("softmax", "logits", "prob")
    return m


def test_every_layer_kind_float_reference_and_int8():
    x = RNG.uniform(-1, 1, (8, 3, 8, 8)).astype(np.float32)
    with every_layer_model() as m:
        kinds = {k for _, k in m.layers}
        assert kinds >= {qk.LayerKind.CONV2D, qk.LayerKind.HARDTANH, qk.LayerKind.AVG_POOL2D, qk.LayerKind.ADD,
                         qk.LayerKind.RELU, qk.LayerKind.GLOBAL_AVG_POOL2D, qk.LayerKind.FLATTEN,
                         qk.LayerKind.DROPOUT, qk.LayerKind.LINEAR, qk.LayerKind.SOFTMAX}
        yf = m.run(x)
        np.testing.assert_allclose(yf.sum(axis=1), 1, rtol=1e-5)
        m.fuse()  # add + relu
        assert "sum+relu" in m.fused
        np.testing.assert_allclose(m.run(x), yf, rtol=1e-5, atol=1e-6)
        m.prepare()
        for batch in np.split(x, 4):
            m.calibrate(batch)
        m.convert()
        y8 = m.run(x)
        report = m.layer_sqnr(x)
    assert y8.shape == (8, 6)
    np.testing.assert_allclose(y8.sum(axis=1), 1, atol=0.02)
    assert np.abs(y8 - yf).max() < 0.05
    assert list(report) == [n for n in report] and "fc" in report and "softmax" in report
    assert all(v > 15 for v in report.values()), report


def test_max_and_avg_pool_against_numpy():
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    with qk.Model("x", (3, 6, 6)) as m:
        m.add_max_pool2d("mp", "x", "m", 2, stride=2)
        m.set_output("m")
        np.testing.assert_array_equal(m.run(x), pool2x2(x, np.max))
    with qk.Model("x", (3, 6, 6)) as m:
        m.add_avg_pool2d("ap", "x", "a", (2, 2))
        np.testing.assert_allclose(m.run(x), pool2x2(x, np.mean), rtol=1e-6, atol=1e-6)
    with qk.Model("x", (3, 6, 6)) as m:
        m.add_max_pool2d("mp", "x", "m", 3, stride=1, padding=1)
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
        ref = np.max(np.stack([xp[:, :, i:i + 6, j:j + 6] for i in range(3) for j in range(3)]), axis=0)
        np.testing.assert_array_equal(m.run(x), ref)


@pytest.mark.parametrize("kind", [k for k in qk.ObserverKind if "PER_CHANNEL" not in k.name])
def test_every_activation_observer_kind_converts(kind):
    w = RNG.standard_normal((4, 16)).astype(np.float32)
    x = RNG.standard_normal((128, 16)).astype(np.float32)
    ref = x @ w.T
    with linear_model(w, None, kind) as m:
        m.prepare()
        m.calibrate(x)
        m.convert()
        y = m.run(x)
        qp = m.tensor_qparams("x")
    assert sqnr_db(ref, y) > 20, kind
    # Histogram kinds may clip the input range; none may widen it.
    lo = -float(qp.scales[0]) * int(qp.zero_points[0])
    assert lo >= x.min() - 1e-3 * np.abs(x).max()


def test_per_channel_activation_observer_is_rejected():
    with linear_model(np.eye(2, dtype=np.float32), None) as m:
        with pytest.raises(qk.InvalidArgumentError):
            m.set_activation_observer(None, qk.ObserverKind.PER_CHANNEL_MINMAX)
        with pytest.raises(qk.NotFoundError):
            m.set_activation_observer("nope", qk.ObserverKind.MINMAX)


def test_qat_qparams_override_and_s8_activations():
    w = RNG.standard_normal((3, 8)).astype(np.float32)
    x = RNG.uniform(-1, 1, (16, 8)).astype(np.float32)
    qp = qk.QParams.create(qk.DType.U8, qk.QScheme.PER_TENSOR_AFFINE, [2.0 / 255], [128])
    with linear_model(w, None) as m:
        m.prepare()
        m.set_tensor_qparams("x", qp)
        m.calibrate(x)
        m.convert()
        got = m.tensor_qparams("x")
        assert float(got.scales[0]) == np.float32(2.0 / 255) and int(got.zero_points[0]) == 128
    with linear_model(w, None) as m:
        m.set_activation_dtype(None, qk.DType.S8)
        m.prepare()
        m.calibrate(x)
        m.convert()
        assert m.tensor_qparams("y").dtype == qk.DType.S8
        assert sqnr_db(x @ w.T, m.run(x)) > 25


def test_quantize_dynamic_matches_dynamic_linear():
    w = RNG.standard_normal((6, 16)).astype(np.float32)
    x = RNG.standard_normal((4, 16)).astype(np.float32)
    with linear_model(w, None) as m:
        m.quantize_dynamic()
        assert m.state == qk.ModelState.DYNAMIC
        y = m.run(x)
    with qk.QuantSpec(qk.DType.S8, qk.QScheme.PER_CHANNEL_SYMMETRIC) as spec:
        wq = qk.QParams.from_tensor(spec, w)
    with qk.PackedWeights(wq.quantize(w), wq, None) as pw, qk.DynamicLinear(pw, qk.DType.U8, False) as lin:
        np.testing.assert_allclose(y, lin.run(x), rtol=1e-5, atol=1e-5)
    assert sqnr_db(x @ w.T, y) > 30


@pytest.mark.parametrize("mode", ["float", "converted", "dynamic"])
def test_save_load_is_bit_identical(tmp_path, mode):
    x = RNG.uniform(-1, 1, (8, 3, 8, 8)).astype(np.float32)
    path = tmp_path / f"{mode}.qkw"
    with every_layer_model() as m:
        if mode == "converted":
            m.fuse()
            m.prepare()
            m.calibrate(x)
            m.convert()
        elif mode == "dynamic":
            m.quantize_dynamic()
        y = m.run(x)
        m.save(path)
        names = m.layer_names
    with qk.Model.load(path) as back:
        assert back.state == {"float": qk.ModelState.FLOAT, "converted": qk.ModelState.CONVERTED,
                              "dynamic": qk.ModelState.DYNAMIC}[mode]
        assert back.layer_names == names
        assert back.run(x).tobytes() == y.tobytes()
        if mode == "converted":
            with pytest.raises(qk.StateError):
                back.layer_sqnr(x)  # no float weights in the file
    with qk.WeightFile.open(path) as f:
        assert "model.graph" in f.metadata


@pytest.mark.parametrize("mode", ["float", "converted", "dynamic"])
def test_load_memory_equals_load(tmp_path, mode):
    x = RNG.uniform(-1, 1, (4, 3, 8, 8)).astype(np.float32)
    path = tmp_path / f"{mode}.qkw"
    with every_layer_model() as m:
        if mode == "converted":
            m.prepare()
            m.calibrate(x)
            m.convert()
        elif mode == "dynamic":
            m.quantize_dynamic()
        y = m.run(x)
        m.save(path)
    data = path.read_bytes()
    # bytes, bytearray and memoryview all work; the model keeps nothing of the buffer
    for blob in (data, bytearray(data), memoryview(data)):
        with qk.Model.load_memory(blob) as a, qk.Model.load(path) as b:
            assert a.state == b.state and a.layer_names == b.layer_names
            assert a.run(x).tobytes() == y.tobytes() == b.run(x).tobytes()
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0x40
    with pytest.raises(qk.CorruptDataError):
        qk.Model.load_memory(damaged)
    with pytest.raises(qk.CorruptDataError):
        qk.Model.load_memory(b"")
    with pytest.raises(TypeError):
        qk.Model.load_memory(12345)


def test_two_threads_share_a_converted_model():
    w = RNG.standard_normal((32, 64)).astype(np.float32)
    x = RNG.standard_normal((256, 64)).astype(np.float32)
    with linear_model(w, None) as m:
        m.prepare()
        m.calibrate(x)
        m.convert()
        want = m.run(x)
        results, errors = [], []

        def work():
            try:
                for _ in range(20):
                    results.append(m.run(x))
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with qk.ThreadPool(2) as pool:
            assert m.run(x, pool).tobytes() == want.tobytes()
    assert not errors and len(results) == 40
    assert all(r.tobytes() == want.tobytes() for r in results)


def test_state_errors():
    x = np.zeros((2, 4), np.float32)
    with linear_model(np.eye(3, 4, dtype=np.float32), None) as m:
        with pytest.raises(qk.StateError):
            m.convert()
        with pytest.raises(qk.StateError):
            m.calibrate(x)
        m.prepare()
        with pytest.raises(qk.StateError, match="calibration"):
            m.convert()
        with pytest.raises(qk.StateError):
            m.add_relu("r", "y", "z")
        with pytest.raises(qk.StateError):
            m.save("/tmp/never-written.qkw")
        bad = x.copy()
        bad[0, 0] = np.inf
        with pytest.raises(qk.InvalidArgumentError):
            m.calibrate(bad)
        m.calibrate(x + 1)
        m.convert()
        with pytest.raises(qk.StateError):
            m.fuse()
        with pytest.raises(qk.InvalidArgumentError, match="shape mismatch"):
            m.layer_sqnr(np.zeros((1, 3), np.float32))
        assert list(m.layer_sqnr(x + 1)) == ["fc"]


def test_build_and_run_errors(tmp_path):
    w = np.zeros((4, 2, 3, 3), np.float32)
    with pytest.raises(qk.InvalidArgumentError):
        qk.Model("x", (2, 6))  # rank 2 sample shape
    with pytest.raises(qk.InvalidArgumentError):
        qk.Model("bad name", (4,))
    with qk.Model("x", (2, 6, 6)) as m:
        with pytest.raises(qk.NotFoundError, match="nope"):
            m.add_conv2d("c", "nope", "y", w)
        with pytest.raises(qk.InvalidArgumentError, match="shape mismatch"):
            m.add_conv2d("c", "x", "y", np.zeros((4, 3, 3, 3), np.float32))
        with pytest.raises(qk.InvalidArgumentError, match="4-D"):
            m.add_conv2d("c", "x", "y", np.zeros((4, 18), np.float32))
        with pytest.raises(qk.InvalidArgumentError, match="bias"):
            m.add_conv2d("c", "x", "y", w, np.zeros(3, np.float32))
        with pytest.raises(TypeError, match="float32"):
            m.add_conv2d("c", "x", "y", w.astype(np.float64))
        with pytest.raises(ValueError, match="padding"):
            m.add_conv2d("c", "x", "y", w, padding=(1, 1, 1))
        m.add_conv2d("c", "x", "y", w, padding=1)
        with pytest.raises(qk.InvalidArgumentError, match="duplicate layer"):
            m.add_relu("c", "y", "z")
        with pytest.raises(qk.InvalidArgumentError, match="duplicate tensor"):
            m.add_relu("r", "y", "x")
        with pytest.raises(qk.InvalidArgumentError):
            m.add_hardtanh("h", "y", "h", 6.0, 0.0)
        with pytest.raises(qk.InvalidArgumentError):
            m.add_batchnorm("bn", "y", "b", np.zeros(4, np.float32), np.zeros(3, np.float32))
        with pytest.raises(qk.InvalidArgumentError):
            m.add_linear("fc", "y", "o", np.zeros((10, 144), np.float32))  # rank-3 input
        with pytest.raises(qk.NotFoundError):
            m.set_output("zzz")
        with pytest.raises(qk.NotFoundError):
            m.tensor_shape("zzz")
        x = np.zeros((2, 2, 6, 6), np.float32)
        assert m.run(x).shape == (2, 4, 6, 6)
        with pytest.raises(qk.InvalidArgumentError):
            m.run(np.zeros((2, 3, 6, 6), np.float32))
        with pytest.raises(qk.InvalidArgumentError):
            m.run(np.zeros((2, 6, 6), np.float32).reshape(2, 36))
        with pytest.raises(TypeError, match="float32"):
            m.run(x.astype(np.float64))
        with pytest.raises(TypeError):
            m.run(None)
        # Non-contiguous input is copied, not misread.
        big = RNG.standard_normal((2, 2, 6, 12)).astype(np.float32)
        np.testing.assert_array_equal(m.run(big[:, :, :, ::2]), m.run(np.ascontiguousarray(big[:, :, :, ::2])))
    m.close()
    m.close()
    with pytest.raises(qk.ClosedError):
        m.run(x)
    with pytest.raises(qk.ClosedError):
        _ = m.layer_count
    assert repr(m) == "<quantkit.Model closed>"


def test_load_errors(tmp_path):
    with pytest.raises(qk.QuantKitIOError):
        qk.Model.load(tmp_path / "missing.qkw")
    path = tmp_path / "m.qkw"
    with linear_model(np.eye(3, 4, dtype=np.float32), None) as m:
        m.save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(qk.CorruptDataError):
        qk.Model.load(path)
    # A valid .qkw that is not a model (no graph).
    with qk.WeightWriter(tmp_path / "w.qkw") as w:
        w.add_f32("x", np.zeros(4, np.float32))
    with pytest.raises((qk.CorruptDataError, qk.NotFoundError)):
        qk.Model.load(tmp_path / "w.qkw")
