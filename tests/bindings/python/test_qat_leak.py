# SPDX-License-Identifier: Apache-2.0
"""LSQ (learnable fake-quant) gradients against a numpy transcription of torch's backward, and
10,000 create/run/close cycles of the model and weight-file classes without RSS growth."""
import numpy as np
import pytest

import quantkit as qk


def lsq_reference(x, gy, scale, zp, qmin, qmax, grad_factor):
    """torch._fake_quantize_learnable_per_tensor_affine backward, in float64."""
    x, gy = x.astype(np.float64), gy.astype(np.float64)
    z = np.clip(np.round(zp), qmin, qmax)  # np.round is half-to-even, like torch's nearbyint
    r = np.round(x / scale)
    xq = r + z
    below, above = xq < qmin, xq > qmax
    inside = ~below & ~above
    gx = gy * inside
    gs = np.where(below, qmin - z, np.where(above, qmax - z, r - x / scale))
    gz = np.where(inside, 0.0, -scale)
    return gx, np.sum(gy * gs) * grad_factor, np.sum(gy * gz) * grad_factor


@pytest.mark.parametrize("grad_factor", [1.0, 0.25])
def test_learnable_backward_per_tensor(grad_factor):
    rng = np.random.default_rng(31)
    x = rng.uniform(-3, 3, (7, 9)).astype(np.float32)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    scale, zp = 0.0157, 100.3
    gx, gs, gz = qk.fake_quantize_learnable_backward(x, gy, [scale], [zp], 0, 255, grad_factor=grad_factor)
    rx, rs, rz = lsq_reference(x, gy, np.float32(scale), np.float32(zp), 0, 255, grad_factor)
    assert gx.shape == x.shape and gs.shape == (1,) and gz.shape == (1,)
    assert np.sum(rx == 0) > 5  # some values clamp: both gradient branches are exercised
    np.testing.assert_array_equal(gx, rx.astype(np.float32))
    assert gs[0] == pytest.approx(rs, rel=1e-4, abs=1e-4)
    assert gz[0] == pytest.approx(rz, rel=1e-4, abs=1e-6)


def test_learnable_backward_per_channel_and_errors():
    rng = np.random.default_rng(32)
    x = rng.uniform(-1, 1, (3, 50)).astype(np.float32)
    gy = np.ones_like(x)
    scales, zps = np.array([0.004, 0.01, 0.02], np.float32), np.array([0, 5, -3], np.float32)
    gx, gs, gz = qk.fake_quantize_learnable_backward(x, gy, scales, zps, -128, 127, axis=0)
    for c in range(3):
        rx, rs, rz = lsq_reference(x[c], gy[c], scales[c], zps[c], -128, 127, 1.0)
        np.testing.assert_array_equal(gx[c], rx.astype(np.float32))
        assert gs[c] == pytest.approx(rs, rel=1e-4, abs=1e-4) and gz[c] == pytest.approx(rz, rel=1e-4, abs=1e-6)
    with pytest.raises(qk.InvalidArgumentError, match="grad_y"):
        qk.fake_quantize_learnable_backward(x, gy[:2], scales, zps, -128, 127, axis=0)
    with pytest.raises(qk.InvalidArgumentError, match="zero_points"):
        qk.fake_quantize_learnable_backward(x, gy, scales, zps[:2], -128, 127, axis=0)
    with pytest.raises(TypeError):
        qk.fake_quantize_learnable_backward(x.astype(np.float64), gy, scales, zps, -128, 127, axis=0)
    with pytest.raises(qk.InvalidArgumentError):
        qk.fake_quantize_learnable_backward(x, gy, [-1.0], [0.0], 0, 255)


def _rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


W = np.random.default_rng(33).standard_normal((8, 16)).astype(np.float32)
XB = np.random.default_rng(34).standard_normal((4, 16)).astype(np.float32)


def _model_cycle():
    with qk.Model("x", (16,)) as m:
        m.add_linear("fc", "x", "y", W, None)
        m.add_relu("r", "y", "z")
        m.set_activation_observer(None, qk.ObserverKind.MINMAX)
        m.fuse()
        m.prepare()
        m.calibrate(XB)
        m.convert()
        y = m.run(XB)
        with m.tensor_qparams("z"):
            pass
    return y


def _file_cycle(path, blob):
    with qk.WeightFile.from_bytes(blob) as f, f.info(0) as info:
        f.decode_f32(0)
        assert info.element_count == W.size


def test_model_and_file_cycles_do_not_leak(tmp_path):
    path = tmp_path / "w.qkw"
    with qk.WeightWriter(path) as w:
        w.add_f32("w", W, qk.Codec.SYMMETRIC)
    blob = path.read_bytes()
    first = _model_cycle()
    for _ in range(500):  # warm-up: allocator pools, numpy caches
        _model_cycle()
        _file_cycle(path, blob)
    before = _rss_kb()
    for _ in range(10000):
        assert _model_cycle().shape == first.shape
        _file_cycle(path, blob)
    grown = _rss_kb() - before
    # A leak of even one 512-byte weight copy per cycle would add ~5 MB; allow 8 MB of noise.
    assert grown < 8 * 1024, f"RSS grew by {grown} kB over 10,000 cycles"
    np.testing.assert_array_equal(_model_cycle(), first)
