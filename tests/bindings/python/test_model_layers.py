# SPDX-License-Identifier: Apache-2.0
"""Model, second part: Sigmoid/Hardswish/Concat/Reshape against numpy, NHWC io layout, qconfig
presets, observer state save/merge (split calibration), and the per-layer max-error report."""
import numpy as np
import pytest

import quantkit as qk

RNG = np.random.default_rng(41)


def converted(m, x, batches=1):
    m.prepare()
    for b in np.array_split(x, batches):
        m.calibrate(b)
    m.convert()
    return m


def test_sigmoid_hardswish_concat_reshape_float_and_int8():
    x = RNG.uniform(-4, 4, (5, 2, 4, 4)).astype(np.float32)
    m = qk.Model("x", (2, 4, 4))
    m.add_sigmoid("sig", "x", "s")
    m.add_hardswish("hs", "x", "h")
    m.add_concat("cat", ["s", "h", "x"], "c")
    m.add_reshape("rs", "c", [-1], "f")
    m.set_activation_observer(None, qk.ObserverKind.MINMAX)
    with m:
        assert m.tensor_shape("c") == (6, 4, 4) and m.output_shape == (96,)
        yf = m.run(x)
        sig = 1 / (1 + np.exp(-x.astype(np.float64)))
        hs = x * np.clip(x + 3, 0, 6) / 6
        ref = np.concatenate([sig, hs, x], axis=1).reshape(5, -1)
        np.testing.assert_allclose(yf, ref, rtol=1e-5, atol=1e-6)
        converted(m, x)
        qs = m.tensor_qparams("s")
        assert float(qs.scales[0]) == 1 / 256 and int(qs.zero_points[0]) == 0  # PyTorch's fixed qparams
        y8 = m.run(x)
        qc = m.tensor_qparams("c")
        # Each branch rounds once on its own scale and once when requantized to the concat's.
        assert 0 < np.abs(y8 - ref).max() <= 2 * float(qc.scales[0])
    with qk.Model("x", (4,)) as m:
        with pytest.raises(TypeError):
            m.add_concat("cat", "x", "y")
        with pytest.raises(ValueError):
            m.add_concat("cat", ["x", "a b"], "y")
        with pytest.raises(qk.InvalidArgumentError):
            m.add_concat("cat", ["x"], "y")  # fewer than 2 inputs
        with pytest.raises(qk.NotFoundError):
            m.add_concat("cat", ["x", "nope"], "y")
        with pytest.raises(qk.InvalidArgumentError):
            m.add_reshape("rs", "x", [3], "y")  # 4 elements do not fit


def test_nhwc_layout_is_the_transposed_nchw_model():
    w = RNG.standard_normal((3, 2, 3, 3)).astype(np.float32)
    x = RNG.standard_normal((4, 2, 6, 6)).astype(np.float32)
    xh = np.ascontiguousarray(x.transpose(0, 2, 3, 1))

    def build(layout):
        m = qk.Model("x", (2, 6, 6))
        m.add_conv2d("conv", "x", "y", w, None, padding=1)
        m.add_relu("relu", "y", "r")
        m.set_io_layout(layout)
        return m

    with build(qk.Layout.NCHW) as a, build(qk.Layout.NHWC) as b:
        assert b.io_layout == qk.Layout.NHWC and b.output_shape == (3, 6, 6)
        ya, yb = a.run(x), b.run(xh)
        assert yb.shape == (4, 6, 6, 3)
        np.testing.assert_array_equal(yb, ya.transpose(0, 2, 3, 1))
        converted(a, x)
        converted(b, xh)
        assert b.run(xh).tobytes() == np.ascontiguousarray(a.run(x).transpose(0, 2, 3, 1)).tobytes()
        with pytest.raises(qk.StateError):
            b.set_io_layout(qk.Layout.NCHW)  # converted models are immutable


def test_qconfig_presets():
    w = RNG.standard_normal((4, 8)).astype(np.float32)
    x = RNG.standard_normal((32, 8)).astype(np.float32)
    outs = {}
    for preset in ("x86", "fbgemm", "qnnpack"):
        with qk.Model("x", (8,)) as m:
            m.add_linear("fc", "x", "y", w, None)
            m.set_qconfig_preset(None, preset)
            outs[preset] = converted(m, x).run(x)
    assert outs["x86"].tobytes() == outs["fbgemm"].tobytes()
    assert outs["x86"].tobytes() != outs["qnnpack"].tobytes()  # per-tensor weights differ
    with qk.Model("x", (8,)) as m:
        with pytest.raises(qk.InvalidArgumentError):
            m.set_qconfig_preset(None, "tensorrt")


def test_split_calibration_merges_to_the_whole():
    w = RNG.standard_normal((5, 10)).astype(np.float32)
    x = RNG.standard_normal((64, 10)).astype(np.float32)

    def prepared():
        m = qk.Model("x", (10,))
        m.add_linear("fc", "x", "y", w, None)
        m.set_activation_observer(None, qk.ObserverKind.MINMAX)
        m.prepare()
        return m

    with prepared() as whole, prepared() as a, prepared() as b:
        whole.calibrate(x)
        a.calibrate(x[:32])
        b.calibrate(x[32:])
        state = b.save_observers()
        assert state.dtype == np.uint8 and state.size > 16
        damaged = bytearray(state.tobytes())
        damaged[len(damaged) // 2] ^= 1
        with pytest.raises(qk.CorruptDataError):
            a.merge_observers(bytes(damaged))
        a.merge_observers(state)
        whole.convert()
        a.convert()
        assert a.run(x).tobytes() == whole.run(x).tobytes()
        with pytest.raises(qk.StateError):
            a.save_observers()  # converted
    with prepared() as c, qk.Model("x", (10,)) as other:
        other.add_relu("r", "x", "y")
        other.prepare()
        other.calibrate(x)
        with pytest.raises(qk.InvalidArgumentError):
            c.merge_observers(other.save_observers())  # another graph


def test_layer_max_error_is_the_output_error():
    w = RNG.standard_normal((6, 12)).astype(np.float32)
    x = RNG.standard_normal((16, 12)).astype(np.float32)
    with qk.Model("x", (12,)) as f, qk.Model("x", (12,)) as q:
        for m in (f, q):
            m.add_linear("fc", "x", "y", w, None)
            m.add_relu("relu", "y", "r")
        converted(q, x)
        err = q.layer_max_error(x)
        assert list(err) == q.layer_names
        assert err[q.layer_names[-1]] == pytest.approx(float(np.abs(q.run(x) - f.run(x)).max()), rel=1e-6)
        assert err[q.layer_names[-1]] > 0


def test_run_and_calibrate_release_the_gil():
    """While one thread is inside Model.calibrate / Model.run, Python code keeps running in another
    for most of the call. With the GIL held (checked by building with %nothread on them), the
    main thread's steps cover only ~10 % of the call's time window."""
    import threading
    import time

    w = RNG.standard_normal((512, 1024)).astype(np.float32)
    x = RNG.standard_normal((2048, 1024)).astype(np.float32)
    with qk.Model("x", (1024,)) as m:
        m.add_linear("fc", "x", "y", w, None)
        m.set_activation_observer(None, qk.ObserverKind.MINMAX)
        m.prepare()
        for name in ("calibrate", "run"):
            if name == "run":
                m.convert()
            window = []

            def work():
                t0 = time.perf_counter()
                getattr(m, name)(x)
                window.extend((t0, time.perf_counter()))

            steps = []
            t = threading.Thread(target=work)
            t.start()
            while t.is_alive():
                steps.append(time.perf_counter())
            t.join()
            inside = [s for s in steps if window[0] < s < window[1]]
            span = inside[-1] - inside[0] if len(inside) > 1 else 0.0
            assert span > 0.5 * (window[1] - window[0]), (name, span, window[1] - window[0])
