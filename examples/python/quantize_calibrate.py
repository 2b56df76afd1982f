# SPDX-License-Identifier: Apache-2.0
"""Calibrate an observer, quantize a tensor, run a dynamic linear layer: QuantKit from Python."""
import numpy as np

import quantkit as qk

rng = np.random.default_rng(0)
x = rng.standard_normal((64, 16)).astype(np.float32)

with qk.QuantSpec(qk.DType.U8, qk.QScheme.PER_TENSOR_AFFINE) as spec, \
        qk.Observer(qk.ObserverKind.HISTOGRAM, spec) as obs:
    for batch in np.split(x, 4):
        obs.update(batch)
    qp = obs.compute_qparams()
    q = qp.quantize(x)
    back = qp.dequantize(q)
    print(f"u8 histogram: scale {qp.scales[0]:.6f} zero point {qp.zero_points[0]}, "
          f"SQNR {qk.sqnr(x, back):.1f} dB")

w = rng.standard_normal((8, 16)).astype(np.float32)
with qk.QuantSpec(qk.DType.S8, qk.QScheme.PER_CHANNEL_SYMMETRIC) as wspec:
    wq = qk.QParams.from_tensor(wspec, w)
with qk.PackedWeights(wq.quantize(w), wq, None) as pw, qk.DynamicLinear(pw, qk.DType.U8, False) as lin:
    y = lin.run(x)
    ref = x @ wq.dequantize(wq.quantize(w)).T
    print(f"dynamic linear [{lin.k} -> {lin.n}] on {pw.isa}: max |y - float| = {np.abs(y - ref).max():.4f}")
