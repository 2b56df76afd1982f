# SPDX-License-Identifier: Apache-2.0
"""Quantization-aware fine-tuning of the digits CNN in PyTorch, with QuantKit's own fake-quant
numerics, then int8 inference in QuantKit.

    qat_digits.py [--epochs 2]

Needs Debian's python3-torch (optional: without it the script prints that it was skipped and
exits 0). Steps:

1. Fold each batch norm into its conv/linear (numpy) and build that float graph as a
   quantkit.Model; PTQ: calibrate it (histogram observers) and convert -> the PTQ accuracy, and
   the activation scales/zero points QAT starts from.
2. The same graph in PyTorch, with a fake-quant node after the input and after every conv/linear
   (+ReLU) output: a torch.autograd.Function whose forward is QParams.fake_quantize (exactly
   torch.fake_quantize_per_tensor_affine) and whose backward is
   quantkit.fake_quantize_learnable_backward (LSQ: gradients for x, the scale and the zero point).
   Weights are fake-quantized per channel (s8 symmetric) with the straight-through backward.
3. Fine-tune, export the learned scales/zero points with Model.set_tensor_qparams, convert and run
   in QuantKit int8. Prints fp32 / PTQ / QAT accuracy.
"""
import argparse
import os
import sys

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("skipped: needs python3-torch (apt install python3-torch)")
    sys.exit(0)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import digits_model  # noqa: E402

import quantkit as qk  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_NPZ = os.path.join(HERE, "..", "..", "tests", "data", "digits_16x16.npz")
# Tensors with their own activation qparams in the fused graph (conv/linear outputs, the input);
# pools, flatten and dropout keep their input's.
ACT_TENSORS = ("image", "r1", "r2", "r3", "r4", "logits")
QMIN, QMAX = 0, 255


def fold(w, layer, bn, eps=1e-5):
    """BN folded into the preceding layer, as torch.nn.utils.fusion does."""
    k = w[f"{bn}.weight"] / np.sqrt(w[f"{bn}.running_var"] + eps)
    weight = w[f"{layer}.weight"] * k.reshape((-1,) + (1,) * (w[f"{layer}.weight"].ndim - 1))
    bias = (w[f"{layer}.bias"] - w[f"{bn}.running_mean"]) * k + w[f"{bn}.bias"]
    return weight.astype(np.float32), bias.astype(np.float32)


def folded_params(w):
    p = {f"conv{i}": fold(w, f"conv{i}", f"bn{i}") for i in (1, 2, 3)}
    p["fc1"] = fold(w, "fc1", "bn4")
    p["fc2"] = (w["fc2.weight"], w["fc2.bias"])
    return p


def quantkit_model(p):
    """The folded graph; after fuse() the tensors of ACT_TENSORS carry the activation qparams."""
    m = qk.Model("image", (1, 16, 16))
    m.add_conv2d("conv1", "image", "c1", *p["conv1"], padding=1)
    m.add_relu("relu1", "c1", "r1")
    m.add_conv2d("conv2", "r1", "c2", *p["conv2"], padding=1)
    m.add_relu("relu2", "c2", "r2")
    m.add_max_pool2d("pool2", "r2", "p2", 2)
    m.add_conv2d("conv3", "p2", "c3", *p["conv3"], padding=1)
    m.add_relu("relu3", "c3", "r3")
    m.add_max_pool2d("pool3", "r3", "p3", 2)
    m.add_flatten("flatten", "p3", "flat")
    m.add_linear("fc1", "flat", "f1", *p["fc1"])
    m.add_relu("relu4", "f1", "r4")
    m.add_linear("fc2", "r4", "logits", *p["fc2"])
    m.fuse()
    return m


class ActFakeQuant(torch.autograd.Function):
    """u8 per-tensor fake quantization with learnable scale and zero point (LSQ)."""

    @staticmethod
    def forward(ctx, x, scale, zero_point):
        s = float(scale.clamp(min=1e-8))
        z = float(zero_point)
        xs = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        zp = int(np.clip(np.round(z), QMIN, QMAX))
        with qk.QParams.create(qk.DType.U8, qk.QScheme.PER_TENSOR_AFFINE, [s], [zp]) as qp:
            y = qp.fake_quantize(xs)
        ctx.save_for_backward(x)
        ctx.s, ctx.z = s, z
        return torch.from_numpy(y).to(x.device)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        xs = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        gy = np.ascontiguousarray(grad_y.detach().cpu().numpy(), dtype=np.float32)
        gx, gs, gz = qk.fake_quantize_learnable_backward(
            xs, gy, [ctx.s], [ctx.z], QMIN, QMAX, grad_factor=1.0 / np.sqrt(xs.size * QMAX))
        return (torch.from_numpy(gx).to(x.device), torch.tensor(gs, device=x.device),
                torch.tensor(gz, device=x.device))


class WeightFakeQuant(torch.autograd.Function):
    """s8 per-channel symmetric fake quantization (what convert() does to the weights), STE."""

    @staticmethod
    def forward(ctx, w):
        ws = np.ascontiguousarray(w.detach().cpu().numpy(), dtype=np.float32)
        with qk.QuantSpec(qk.DType.S8, qk.QScheme.PER_CHANNEL_SYMMETRIC) as spec:
            qp = qk.QParams.from_tensor(spec, ws)
        ctx.qp, ctx.ws = qp, ws
        return torch.from_numpy(qp.fake_quantize(ws)).to(w.device)

    @staticmethod
    def backward(ctx, grad_y):
        gy = np.ascontiguousarray(grad_y.detach().cpu().numpy(), dtype=np.float32)
        g = ctx.qp.fake_quantize_backward(ctx.ws, gy)
        ctx.qp.close()
        return torch.from_numpy(g).to(grad_y.device)


class QatNet(torch.nn.Module):
    def __init__(self, p, act):
        super().__init__()
        self.w = torch.nn.ParameterDict({k: torch.nn.Parameter(torch.from_numpy(v[0].copy())) for k, v in p.items()})
        self.b = torch.nn.ParameterDict({k: torch.nn.Parameter(torch.from_numpy(v[1].copy())) for k, v in p.items()})
        self.scale = torch.nn.ParameterDict({t: torch.nn.Parameter(torch.tensor([s])) for t, (s, _) in act.items()})
        self.zp = torch.nn.ParameterDict({t: torch.nn.Parameter(torch.tensor([float(z)])) for t, (_, z) in act.items()})

    def fq(self, t, x):
        return ActFakeQuant.apply(x, self.scale[t], self.zp[t])

    def wq(self, k):
        return WeightFakeQuant.apply(self.w[k])

    def forward(self, x):
        x = self.fq("image", x)
        x = self.fq("r1", F.relu(F.conv2d(x, self.wq("conv1"), self.b["conv1"], padding=1)))
        x = self.fq("r2", F.relu(F.conv2d(x, self.wq("conv2"), self.b["conv2"], padding=1)))
        x = F.max_pool2d(x, 2)
        x = self.fq("r3", F.relu(F.conv2d(x, self.wq("conv3"), self.b["conv3"], padding=1)))
        x = torch.flatten(F.max_pool2d(x, 2), 1)
        x = self.fq("r4", F.relu(F.linear(x, self.wq("fc1"), self.b["fc1"])))
        return self.fq("logits", F.linear(x, self.wq("fc2"), self.b["fc2"]))


def int8_from(p, act, calibration):
    """QuantKit int8 model of params p with activation qparams act ({tensor: (scale, zp)})."""
    m = quantkit_model(p)
    m.prepare()
    for t, (s, z) in act.items():
        with qk.QParams.create(qk.DType.U8, qk.QScheme.PER_TENSOR_AFFINE, [s], [z]) as qp:
            m.set_tensor_qparams(t, qp)
    m.calibrate(calibration[:32])  # every observed tensor has qparams; this only satisfies prepare's contract
    m.convert()
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(0)

    weights, images = digits_model.load_data()
    test, labels = images["test_images"], images["test_labels"].astype(np.int64)
    if os.path.exists(TRAIN_NPZ):
        d = np.load(TRAIN_NPZ)
        train_x, train_y = d["images"][d["train_idx"]], d["labels"][d["train_idx"]].astype(np.int64)
    else:  # the examples' own data has only the 128 calibration images (unlabelled)
        sys.exit("needs tests/data/digits_16x16.npz for the training labels")

    p = folded_params(weights)
    with quantkit_model(p) as fp32:
        acc32 = digits_model.accuracy(fp32, test, labels)
    with quantkit_model(p) as ptq:
        ptq.prepare()
        for i in range(0, len(images["calibration"]), 32):
            ptq.calibrate(images["calibration"][i:i + 32])
        ptq.convert()
        acc_ptq = digits_model.accuracy(ptq, test, labels)
        act = {}
        for t in ACT_TENSORS:
            with ptq.tensor_qparams(t) as qp:
                act[t] = (float(qp.scales[0]), int(qp.zero_points[0]))

    net = QatNet(p, act)
    opt = torch.optim.Adam([{"params": list(net.w.values()) + list(net.b.values()), "lr": 1e-4},
                            {"params": list(net.scale.values()) + list(net.zp.values()), "lr": 1e-3}])
    for epoch in range(args.epochs):
        order = np.random.default_rng(epoch).permutation(len(train_x))
        total = 0.0
        for i in range(0, len(order), 64):
            idx = order[i:i + 64]
            loss = F.cross_entropy(net(torch.from_numpy(train_x[idx])), torch.from_numpy(train_y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        print(f"epoch {epoch + 1}: loss {total / len(order):.4f}")

    learned_p = {k: (net.w[k].detach().numpy().copy(), net.b[k].detach().numpy().copy()) for k in p}
    learned_act = {t: (max(float(net.scale[t]), 1e-8), int(np.clip(np.round(float(net.zp[t])), QMIN, QMAX)))
                   for t in ACT_TENSORS}
    for t in ACT_TENSORS:
        print(f"  {t:7s} scale {act[t][0]:.6f} -> {learned_act[t][0]:.6f}, zero point {act[t][1]} -> {learned_act[t][1]}")
    with int8_from(learned_p, learned_act, images["calibration"]) as qat:
        acc_qat = digits_model.accuracy(qat, test, labels)
    print(f"accuracy on {len(test)} test images: fp32 {acc32:.4f}, PTQ int8 {acc_ptq:.4f}, QAT int8 {acc_qat:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
