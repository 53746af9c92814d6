#!/usr/bin/env python3
"""Copy an outer-link checkpoint with one link's output LayerNorm rescaled (issue 18 diagnostic).

An outer_ln_res_adapter ends in y = gamma * normalize(s) + beta: whatever differs between
questions reaches the receiver at most at gamma's size, while beta is the same for every question.
`rmas system latents` found the shipped links' gamma (rms ~0.008) a third of beta (~0.021), so the
delivered rows are ~99.9% the same for every question. This writes a copy with gamma *= G and
beta *= B for the named link, nothing else changed, to test whether a larger gamma lets training
use the question.

Usage: scale-link-norm.py SRC_DIR OUT_DIR LINK G B     e.g. ... outer-rollout start-g3 refiner_to_solver 3 1
Standard library only (Python 3.8+); F32 and F16 tensors; the optimizer file is not copied.
"""
import array, json, os, shutil, struct, sys

src, out, link, g, b = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
manifest = json.load(open(os.path.join(src, "manifest.json")))
weights = manifest.get("weights_file") or next(f for f in os.listdir(src) if f.startswith("weights-") and f.endswith(".safetensors"))
manifest.pop("optimizer_file", None)
blob = open(os.path.join(src, weights), "rb").read()
n = struct.unpack("<Q", blob[:8])[0]
header = json.loads(blob[8:8 + n])
data = bytearray(blob[8 + n:])
changed = []
for name, info in header.items():
    if name == "__metadata__" or not name.startswith(link + ".ln_target."):
        continue
    factor = g if name.endswith(".weight") else b
    lo, hi = info["data_offsets"]
    code = {"F32": "f", "F16": "e"}[info["dtype"]]
    count = (hi - lo) // struct.calcsize(code)
    values = struct.unpack(f"<{count}{code}", data[lo:hi])
    data[lo:hi] = struct.pack(f"<{count}{code}", *[v * factor for v in values])
    changed.append(f"{name} x{factor:g}")
if len(changed) != 2:
    sys.exit(f"expected {link}.ln_target.weight and .bias in {src}, changed {changed}")
os.makedirs(out, exist_ok=True)
open(os.path.join(out, weights), "wb").write(blob[:8 + n] + bytes(data))
json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"), indent=2)
print("; ".join(changed))
