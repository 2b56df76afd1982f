# SPDX-License-Identifier: Apache-2.0
"""Cross-language fixture: the int8 digits CNN built, calibrated and converted through the
Python API, and what every language's runner must reproduce bit for bit.

    write_model.py DIR           writes DIR/model.qkw, input.f32, input.shape, expected.f32
    write_model.py --check DIR   builds again in a temporary folder and fails unless all four
                                 files are byte-identical to DIR's (the writer is deterministic)

input.f32 / expected.f32: raw little-endian float32 (NCHW input of 16 test images; the model's
f32 output {16, 10} from Model.run). input.shape: the input dims as text ("16 1 16 16").
The Java and C# runners read the same four files: keep this contract.
"""
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples", "python"))
import digits_model  # noqa: E402

FILES = ("model.qkw", "input.f32", "input.shape", "expected.f32")


def write(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    weights, images = digits_model.load_data()
    x = np.ascontiguousarray(images["test_images"][:16])
    with digits_model.int8_model(weights, images["calibration"]) as model:
        model.save(os.path.join(out_dir, "model.qkw"))
        y = model.run(x)
    # Python's output must be the saved model's output too: the runners only see the file.
    with digits_model.qk.Model.load(os.path.join(out_dir, "model.qkw")) as loaded:
        if loaded.run(x).tobytes() != y.tobytes():
            sys.exit("the reloaded model's output differs from the converted model's")
    x.astype("<f4").tofile(os.path.join(out_dir, "input.f32"))
    with open(os.path.join(out_dir, "input.shape"), "w") as f:
        f.write(" ".join(str(d) for d in x.shape) + "\n")
    y.astype("<f4").tofile(os.path.join(out_dir, "expected.f32"))
    print(f"wrote {', '.join(FILES)} to {out_dir} (input {x.shape}, output {y.shape})")


def check(ref_dir):
    with tempfile.TemporaryDirectory() as tmp:
        write(tmp)
        for name in FILES:
            with open(os.path.join(ref_dir, name), "rb") as a, open(os.path.join(tmp, name), "rb") as b:
                ra, rb = a.read(), b.read()
            if ra != rb:
                first = next((i for i, (p, q) in enumerate(zip(ra, rb)) if p != q), min(len(ra), len(rb)))
                sys.exit(f"{name}: second run differs (sizes {len(ra)} / {len(rb)}, first difference at byte {first})")
    print(f"second run: {', '.join(FILES)} byte-identical")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    elif len(sys.argv) == 2:
        write(sys.argv[1])
    else:
        sys.exit(__doc__)
