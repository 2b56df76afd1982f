# SPDX-License-Identifier: Apache-2.0
"""Python binding: values against numpy math, observers, operators, and every error mapping."""
import numpy as np
import pytest

import quantkit as qk


def u8_spec():
    return qk.QuantSpec(qk.DType.U8, qk.QScheme.PER_TENSOR_AFFINE)


def test_quantize_round_trip_matches_numpy():
    x = np.linspace(-1.0, 2.0, 301, dtype=np.float32).reshape(7, 43)
    with u8_spec() as spec:
        qp = qk.QParams.from_tensor(spec, x)
    scale, zp = np.float32(qp.scales[0]), int(qp.zero_points[0])
    assert scale == np.float32(3.0) / np.float32(255)
    q = qp.quantize(x)
    assert q.dtype == np.uint8 and q.shape == x.shape
    inv = np.float32(1.0) / scale
    expect = np.clip(np.rint(x * inv) + zp, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(q, expect)
    back = qp.dequantize(q)
    np.testing.assert_array_equal(back, ((q.astype(np.int32) - zp).astype(np.float32) * scale))


@pytest.mark.parametrize("kind", list(qk.ObserverKind))
def test_every_observer_kind(kind):
    per_channel = "PER_CHANNEL" in kind.name
    scheme = qk.QScheme.PER_CHANNEL_AFFINE if per_channel else qk.QScheme.PER_TENSOR_AFFINE
    x = np.random.default_rng(1).standard_normal((3, 200)).astype(np.float32)
    with qk.QuantSpec(qk.DType.U8, scheme) as spec, qk.Observer(kind, spec) as obs:
        obs.update(x)
        assert obs.kind == kind
        lo, hi = obs.range
        assert lo.shape == ((3,) if per_channel else (1,))
        assert np.all(lo <= 0) and np.all(hi >= 0) and np.all(hi <= x.max()) and np.all(lo >= x.min())
        qp = obs.compute_qparams()
        assert qp.count == lo.shape[0] and np.all(qp.scales > 0)


def test_observer_merge_save_load_exact():
    x = np.random.default_rng(2).standard_normal(1000).astype(np.float32)
    with u8_spec() as spec, qk.Observer(qk.ObserverKind.MINMAX, spec) as a, \
            qk.Observer(qk.ObserverKind.MINMAX, spec) as b:
        a.update(x[:500])
        b.update(x[500:])
        a.merge(b)
        assert a.range[0][0] == x.min() and a.range[1][0] == x.max()
        blob = a.save()
        with qk.Observer.load(blob) as c:
            np.testing.assert_array_equal(c.compute_qparams().scales, a.compute_qparams().scales)
        with pytest.raises(qk.CorruptDataError):
            qk.Observer.load(bytes(blob[:-3]))


def test_fake_quant_forward_backward():
    qp = qk.QParams.create(qk.DType.U8, qk.QScheme.PER_TENSOR_AFFINE, [0.1], [10])
    x = np.array([-2.0, -0.5, 0.0, 0.26, 30.0], dtype=np.float32)
    y, mask = qp.fake_quantize_with_mask(x)
    q = np.clip(np.rint(x * np.float32(1 / np.float32(0.1))) + 10, 0, 255)
    np.testing.assert_array_equal(y, ((q - 10) * np.float32(0.1)).astype(np.float32))
    np.testing.assert_array_equal(mask, [False, True, True, True, False])
    g = qp.fake_quantize_backward(x, np.ones_like(x))
    np.testing.assert_array_equal(g, mask.astype(np.float32))


def _s8_weights(rng, n, k):
    w = rng.integers(-127, 128, size=(n, k), dtype=np.int8)
    return w, qk.QParams.create(qk.DType.S8, qk.QScheme.PER_TENSOR_SYMMETRIC, [0.02], [0])


def test_qlinear_s32_matches_int32_math():
    rng = np.random.default_rng(3)
    w, wq = _s8_weights(rng, 5, 9)
    a = rng.integers(0, 256, size=(4, 9), dtype=np.uint8)
    aq = qk.QParams.create(qk.DType.U8, qk.QScheme.PER_TENSOR_AFFINE, [0.05], [128])
    with qk.PackedWeights(w, wq, None) as pw, qk.QLinear(pw, aq, qk.OutputKind.S32) as op:
        out = op.run(a)
    expect = (a.astype(np.int32) - 128) @ w.astype(np.int32).T
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, expect)


def test_dynamic_linear_close_to_float():
    rng = np.random.default_rng(4)
    w, wq = _s8_weights(rng, 6, 16)
    x = rng.standard_normal((3, 16)).astype(np.float32)
    with qk.PackedWeights(w, wq, None) as pw, qk.DynamicLinear(pw, qk.DType.U8, False) as lin:
        y = lin.run(x)
    ref = x @ (w.astype(np.float32) * np.float32(0.02)).T
    assert y.shape == (3, 6)
    assert np.abs(y - ref).max() < 0.05 * np.abs(ref).max()


def test_qconv2d_1x1_matches_int32_math():
    rng = np.random.default_rng(5)
    w = rng.integers(-127, 128, size=(4, 3, 1, 1), dtype=np.int8)
    wq = qk.QParams.create(qk.DType.S8, qk.QScheme.PER_TENSOR_SYMMETRIC, [0.01], [0])
    iq = qk.QParams.create(qk.DType.U8, qk.QScheme.PER_TENSOR_AFFINE, [0.1], [100])
    oq = qk.QParams.create(qk.DType.U8, qk.QScheme.PER_TENSOR_AFFINE, [1.0], [128])
    a = rng.integers(0, 256, size=(1, 2, 2, 3), dtype=np.uint8)
    with qk.QConv2d(w, wq, None, [1, 1], [0, 0, 0, 0], [1, 1], 1, iq, oq) as conv:
        assert conv.output_size(2, 2) == (2, 2)
        out = conv.run(a)
    acc = (a.astype(np.int32) - 100).reshape(4, 3) @ w.reshape(4, 3).astype(np.int32).T
    m = np.float32(0.1) * np.float32(0.01) / np.float32(1.0)
    expect = np.clip(np.rint(acc.astype(np.float32) * m) + 128, 0, 255).astype(np.uint8).reshape(1, 2, 2, 4)
    np.testing.assert_array_equal(out, expect)


def test_errors_are_precise_exceptions():
    with u8_spec() as spec, qk.Observer(qk.ObserverKind.MINMAX, spec) as obs:
        with pytest.raises(TypeError, match="float32"):
            obs.update(np.zeros(4, dtype=np.float64))
        with pytest.raises(qk.StateError):
            obs.compute_qparams()
        with pytest.raises(qk.InvalidArgumentError) as e:
            qk.Observer(qk.ObserverKind.PER_CHANNEL_MINMAX, spec)
        assert e.value.status == qk.Status.INVALID_ARGUMENT and "per-channel" in e.value.message
    with pytest.raises(ValueError):
        qk.QParams.create(qk.DType.U8, qk.QScheme.PER_TENSOR_AFFINE, [-1.0], [0])
    w, wq = _s8_weights(np.random.default_rng(6), 2, 3)
    with qk.PackedWeights(w, wq, None) as pw, qk.DynamicLinear(pw, qk.DType.U8, False) as lin:
        with pytest.raises(qk.InvalidArgumentError, match="k=3"):
            lin.run(np.zeros((2, 4), np.float32))


def test_use_after_close_raises():
    spec = u8_spec()
    obs = qk.Observer(qk.ObserverKind.MINMAX, spec)
    obs.close()
    obs.close()
    assert obs.closed
    with pytest.raises(qk.ClosedError):
        obs.update(np.zeros(3, np.float32))
    spec.close()
    with pytest.raises(qk.ClosedError):
        spec.get_dtype()
    with pytest.raises(qk.InvalidArgumentError):
        qk.Observer(qk.ObserverKind.MINMAX, spec)


def test_flat_functions_wrapped_by_pattern():
    assert qk.core.qk_shape_element_count([2, 3, 4]) == 24
    with u8_spec() as spec:
        qp, nonfinite = qk.core.qk_qparams_from_tensor(spec, np.array([0.0, np.nan, 1.0], np.float32))
    assert nonfinite == 1 and isinstance(qp, qk.QParams)


def _rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_create_run_close_does_not_leak():
    x = np.random.default_rng(7).standard_normal(256).astype(np.float32)

    def cycle():
        with u8_spec() as spec, qk.Observer(qk.ObserverKind.HISTOGRAM, spec) as obs:
            obs.update(x)
            with obs.compute_qparams() as qp:
                qp.dequantize(qp.quantize(x))

    for _ in range(500):
        cycle()
    before = _rss_kb()
    for _ in range(10000):
        cycle()
    assert _rss_kb() - before < 20 * 1024
