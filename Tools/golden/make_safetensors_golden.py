#!/usr/bin/env python3
"""A safetensors file written by the reference implementation, for our reader's format test.

Pinned: safetensors==0.8.0, numpy==2.4.6 (in /work/ref/venv). Exact command, from the package root:

    /work/ref/venv/bin/python Tools/golden/make_safetensors_golden.py

Writes Tests/TrainingTests/Fixtures/reference.safetensors: tensors "a.weight" F32 [2, 3] =
[[1, -2, 3.5], [0.25, -0, 1e-3]], "b.bias" F16 [3] = [1, -0.5, 65504], "c" BF16 [2] = [1.5, -3]
(bf16 bits written by hand: numpy has no bfloat16), metadata {"format": "pt"}.
"""
import json, struct
import numpy as np
from safetensors.numpy import save_file

out = "Tests/TrainingTests/Fixtures/reference.safetensors"
save_file({"a.weight": np.array([[1, -2, 3.5], [0.25, -0.0, 1e-3]], dtype=np.float32),
           "b.bias": np.array([1, -0.5, 65504], dtype=np.float16)}, out, metadata={"format": "pt"})
# Append a BF16 tensor by rewriting the header (the numpy API cannot express bf16).
raw = open(out, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
body = raw[8 + n:]
bf16 = struct.pack("<HH", 0x3FC0, 0xC040)  # 1.5, -3.0
header["c"] = {"dtype": "BF16", "shape": [2], "data_offsets": [len(body), len(body) + 4]}
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
open(out, "wb").write(struct.pack("<Q", len(text)) + text + body + bf16)
print(json.dumps(json.loads(open(out, "rb").read()[8:8 + len(text)]), indent=1))
