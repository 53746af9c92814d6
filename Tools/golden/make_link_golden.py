#!/usr/bin/env python3
"""Every RecursiveLink variant in PyTorch float64 autograd: the golden for Sources/Links.

Pinned reference versions (CPU only, /work/ref/venv):
    Python 3.11.7, torch==2.13.0+cpu, numpy==2.4.6

Exact command (from the package root):

    /work/ref/venv/bin/python Tools/golden/make_link_golden.py

It writes Tests/LinksTests/Fixtures/links-torch.json (~160 KB) and prints a summary. It draws
only from torch's seeded CPU generator, so rerunning it with the pinned versions reproduces the
file byte for byte.

The modules below are transcribed from the formula tables of the RecursiveMAS specification
(docs/recursivemas-spec.md §1.1 inner `Adapter`, §2.1 outer `CrossModelAdapter`), one explicit
formula per type, with torch.nn.Linear, torch.nn.LayerNorm (eps 1e-5, affine) and torch.nn.GELU()
(exact erf). Submodules are registered in the order RecursiveMAS train/model.py creates them
(proj1, proj2, the norms, residual_proj), so named_parameters() lists the released state-dict
keys in their order.

Per variant (inner: d = 12; outer: d_s = 10, d_t = 14; R = 5 rows):
  * parameters: torch's default Linear init (seeded), LayerNorm gamma = 1 + 0.25 N(0,1) and
    beta = 0.25 N(0,1) (so that both affine terms are exercised), then every value rounded to
    float32, so the Swift side (fp32) loads exactly the numbers torch used;
  * input x [R x in] = 0.3 + N(0,1) and upstream weights U [R x out] = N(0,1), float32-rounded;
  * in float64: out = link(x), loss = sum(out * U), loss.backward().
Recorded: parameters (name, torch shape, values, grad), x, U, out, loss, dloss/dx.

Number format: float32-exact values (parameters, x, U) are written with 9 significant digits,
which identify a float32 uniquely (decode as Double, convert to Float: exact; asserted below);
float64 results with 12 significant digits (relative rounding <= 5e-13).
"""
import json
import pathlib
import sys

import numpy as np
import torch
from torch import nn

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/LinksTests/Fixtures/links-torch.json"
SEED = 20251123
ROWS = 5
INNER_WIDTH = 12
OUTER_IN, OUTER_OUT = 10, 14

INNER_KINDS = ["linear_adapter", "linear_res_adapter", "adapter", "res_adapter", "ln_res_adapter"]
OUTER_KINDS = ["outer_linear_adapter", "outer_linear_res_adapter", "outer_adapter", "outer_res_adapter",
               "outer_ln_adapter", "outer_ln_res_adapter"]


class InnerLinkReference(nn.Module):
    """Spec §1.1: all Linear layers d -> d; pre_ln/post_ln only for ln_res_adapter."""

    def __init__(self, d, kind):
        super().__init__()
        self.kind = kind
        self.proj1 = nn.Linear(d, d)
        self.act = nn.GELU()
        if kind not in ("linear_adapter", "linear_res_adapter"):
            self.proj2 = nn.Linear(d, d)
        if kind == "ln_res_adapter":
            self.pre_ln = nn.LayerNorm(d)
            self.post_ln = nn.LayerNorm(d)

    def forward(self, x):
        k = self.kind
        if k == "linear_adapter":
            return self.proj1(x)
        if k == "linear_res_adapter":
            return x + self.proj1(x)
        if k == "adapter":
            return self.proj2(self.act(self.proj1(x)))
        if k == "res_adapter":
            return x + self.proj2(self.act(self.proj1(x)))
        if k == "ln_res_adapter":
            return self.post_ln(x + self.proj2(self.act(self.proj1(self.pre_ln(x)))))
        raise ValueError(k)


class OuterLinkReference(nn.Module):
    """Spec §2.1: d_s -> d_t, hidden width 2 d_t for the LN types, else d_t; W3 = residual_proj."""

    def __init__(self, d_s, d_t, kind):
        super().__init__()
        self.kind = kind
        uses_ln = kind in ("outer_ln_adapter", "outer_ln_res_adapter")
        hidden = 2 * d_t if uses_ln else d_t
        if kind in ("outer_linear_adapter", "outer_linear_res_adapter"):
            self.proj1 = nn.Linear(d_s, d_t)
        else:
            self.proj1 = nn.Linear(d_s, hidden)
            self.proj2 = nn.Linear(hidden, d_t)
        self.act = nn.GELU()
        if uses_ln:
            self.ln_source = nn.LayerNorm(d_s)
            self.ln_target = nn.LayerNorm(d_t)
        if kind in ("outer_linear_res_adapter", "outer_res_adapter", "outer_ln_res_adapter"):
            self.residual_proj = nn.Linear(d_s, d_t)

    def forward(self, x):
        k = self.kind
        if k == "outer_linear_adapter":
            return self.proj1(x)
        if k == "outer_linear_res_adapter":
            return self.proj1(x) + self.residual_proj(x)
        if k == "outer_adapter":
            return self.proj2(self.act(self.proj1(x)))
        if k == "outer_res_adapter":
            return self.proj2(self.act(self.proj1(x))) + self.residual_proj(x)
        if k == "outer_ln_adapter":
            return self.ln_target(self.proj2(self.act(self.proj1(self.ln_source(x)))))
        if k == "outer_ln_res_adapter":
            return self.ln_target(self.proj2(self.act(self.proj1(self.ln_source(x)))) + self.residual_proj(x))
        raise ValueError(k)


def f32_exact(t):
    """Rounds a float64 tensor to float32 values (kept in float64)."""
    return t.float().double()


def f32_list(t):
    """float32-exact values as 9-digit decimals, checked to round back to the same float32."""
    values = t.detach().reshape(-1).tolist()
    out = [float("%.9g" % v) for v in values]
    assert all(np.float32(a) == np.float32(b) for a, b in zip(out, values)), "9 digits must round-trip"
    return out


def f64_list(t):
    return [float("%.12g" % v) for v in t.detach().reshape(-1).tolist()]


def run(module, kind, in_width, out_width):
    with torch.no_grad():  # the Linear layers were initialised from the seeded stream on construction
        for layer in module.modules():
            if isinstance(layer, nn.LayerNorm):
                layer.weight.copy_(1 + 0.25 * torch.randn(layer.weight.shape, dtype=torch.float64))
                layer.bias.copy_(0.25 * torch.randn(layer.bias.shape, dtype=torch.float64))
        for p in module.parameters():
            p.copy_(f32_exact(p))
    x = f32_exact(0.3 + torch.randn(ROWS, in_width, dtype=torch.float64)).requires_grad_(True)
    upstream = f32_exact(torch.randn(ROWS, out_width, dtype=torch.float64))
    out = module(x)
    assert out.shape == (ROWS, out_width)
    loss = (out * upstream).sum()
    loss.backward()
    parameters = [dict(name=name, shape=list(p.shape), values=f32_list(p), grad=f64_list(p.grad))
                  for name, p in module.named_parameters()]
    return dict(kind=kind, input_width=in_width, output_width=out_width, rows=ROWS,
                input=f32_list(x), upstream=f32_list(upstream), parameters=parameters,
                output=f64_list(out), loss=float("%.15g" % loss.item()), input_grad=f64_list(x.grad))


def main():
    torch.manual_seed(SEED)
    variants = []
    for kind in INNER_KINDS:
        module = InnerLinkReference(INNER_WIDTH, kind).double()
        variants.append(run(module, kind, INNER_WIDTH, INNER_WIDTH))
    for kind in OUTER_KINDS:
        module = OuterLinkReference(OUTER_IN, OUTER_OUT, kind).double()
        variants.append(run(module, kind, OUTER_IN, OUTER_OUT))
    golden = dict(
        generator="Tools/golden/make_link_golden.py",
        versions=dict(python=sys.version.split()[0], torch=torch.__version__, numpy=np.__version__),
        seed=SEED, layer_norm_eps=1e-5, variants=variants)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, separators=(",", ":")).replace('{"kind"', '\n{"kind"') + "\n")
    for v in variants:
        names = ", ".join(f"{p['name']}{p['shape']}" for p in v["parameters"])
        print(f"{v['kind']:>26}: loss {v['loss']:+.6f}  {names}")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
