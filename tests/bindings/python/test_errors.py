# SPDX-License-Identifier: Apache-2.0
"""The status -> exception mapping: one class per qk_status, with the builtin base Python code
expects, raised by real failures of the weight-file and model classes."""
import numpy as np
import pytest

import quantkit as qk

MAPPING = {
    qk.Status.INVALID_ARGUMENT: (qk.InvalidArgumentError, ValueError),
    qk.Status.OUT_OF_MEMORY: (qk.OutOfMemoryError, MemoryError),
    qk.Status.UNSUPPORTED: (qk.UnsupportedError, NotImplementedError),
    qk.Status.STATE: (qk.StateError, RuntimeError),
    qk.Status.CORRUPT: (qk.CorruptDataError, ValueError),
    qk.Status.IO: (qk.QuantKitIOError, OSError),
    qk.Status.BUFFER_TOO_SMALL: (qk.BufferTooSmallError, ValueError),
    qk.Status.NOT_FOUND: (qk.NotFoundError, KeyError),
    qk.Status.INTERNAL: (qk.InternalError, RuntimeError),
    -1: (qk.ClosedError, ValueError),
}


def test_every_status_has_its_class():
    assert set(MAPPING) - {-1} == set(qk.Status) - {qk.Status.OK}
    for status, (cls, builtin) in MAPPING.items():
        e = qk._make_error(int(status), "detail")
        assert type(e) is cls and isinstance(e, builtin) and isinstance(e, qk.QuantKitError)
        assert e.status == status and e.message == "detail"
        assert str(e) == f"{e.status_name}: detail"
        assert e.status_name == ("CLOSED" if status == -1 else "QK_ERR_" + qk.Status(status).name)
    assert type(qk._make_error(12345, "x")) is qk.QuantKitError  # a status this version does not know


def test_real_failures_raise_the_mapped_class(tmp_path):
    path = tmp_path / "w.qkw"
    big = np.random.default_rng(51).standard_normal((256, 256)).astype(np.float32)
    with qk.WeightWriter(path) as w:
        w.add_f32("big", big, qk.Codec.SYMMETRIC)
        w.add_f32("q8", big, qk.Codec.GGML_Q8_0)
    with qk.WeightFile.open(path, memory_budget=1024) as f:  # the table fits, a decoded tensor does not
        with pytest.raises(qk.OutOfMemoryError):
            f.decode_f32("big")
    with qk.WeightFile.open(path) as f:
        with pytest.raises(qk.UnsupportedError):
            f.qparams("q8")
        with pytest.raises(qk.NotFoundError) as e:
            f.metadata_get("nope")
        assert "nope" in e.value.message
    with pytest.raises(qk.QuantKitIOError):
        qk.Model.load(tmp_path / "nope.qkw")


def test_errors_carry_the_library_message_and_are_thread_local():
    import threading
    seen = {}

    def fail(tag):
        try:
            qk.Model("x", (4,)).add_relu(tag, "missing_" + tag, "y")
        except qk.NotFoundError as e:
            seen[tag] = e.message

    threads = [threading.Thread(target=fail, args=(f"t{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == [f"t{i}" for i in range(8)]
    assert all(f"missing_{tag}" in msg for tag, msg in seen.items())
