#!/usr/bin/env python3
"""AdamW + global-norm clipping + warmup-cosine schedule, 30 steps in PyTorch: the golden for
Sources/Training (AdamW, GradientClipping, WarmupCosineSchedule).

Pinned reference versions (CPU only, /work/ref/venv):
    Python 3.11.7, torch==2.13.0+cpu, transformers==5.23.0, numpy==2.4.6

Exact command (from the package root):

    /work/ref/venv/bin/python Tools/golden/make_adamw_golden.py

It writes Tests/TrainingTests/Fixtures/adamw-torch.json (~50 KB) and prints a summary. The script
is deterministic (numpy seed below; torch does no random draws), so rerunning it with the pinned
versions reproduces the file byte for byte.

The problem: a linear map y = W x + b, W [4 x 6] (decays), b [4] (no decay), loss
0.5 * mean_n ||W x_n + b - y_n||^2 over a batch of 4 samples, in float32 with autograd. Three
fixed batches are used in turn (step k uses batch k % 3). Batch 0's targets are far from the
model, so its gradient norm is above max_norm = 1 and clipping scales it; batches 1 and 2 are
near the model, so their norms stay below 1 and clipping leaves them alone. The script asserts
this and records `clipped` for each step; no norm lies within 5% of max_norm, so rounding
differences cannot flip a decision.

Per step k = 0..29, in torch's usual order:
    loss.backward(); norm = clip_grad_norm_(params, 1.0); optimizer.step(); scheduler.step()
with torch.optim.AdamW(betas=(0.9, 0.95), eps=1e-8), param groups {W: weight_decay 0.1},
{b: weight_decay 0.0}, base lr 5e-3, and transformers.get_cosine_schedule_with_warmup(opt,
num_warmup_steps=3, num_training_steps=30) (num_cycles 0.5). Recorded per step: the batch
index, the lr the step used (param_groups' lr, a Python float), the loss, the pre-clip gradients
and their global norm (what clip_grad_norm_ returns), whether clipping scaled them, and W, b
after the step. All float32 values are written as the Python float equal to them, so they
parse back exactly.

`schedule_checks` holds transformers' learning rates (param_groups' lr after each
scheduler.step()) for a few other settings, including the edge cases warmup 0 and
warmup == total, and steps past num_training_steps.
"""
import json
import pathlib
import re
import sys

import numpy as np
import torch
import transformers
from transformers import get_cosine_schedule_with_warmup

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/TrainingTests/Fixtures/adamw-torch.json"
SEED = 20251122
INPUTS, OUTPUTS, BATCH, BATCHES, STEPS = 6, 4, 4, 3, 30
CONFIG = dict(peak_lr=5e-3, warmup_steps=3, total_steps=STEPS, cycles=0.5, beta1=0.9, beta2=0.95,
              epsilon=1e-8, weight_decay=0.1, max_norm=1.0)
SCHEDULE_SETTINGS = [  # (peak, warmup, total, cycles, steps recorded)
    (5e-3, 3, 30, 0.5, 36),
    (3e-4, 10, 100, 0.5, 105),
    (1e-3, 0, 20, 0.5, 21),
    (2e-3, 5, 5, 0.5, 8),
    (1e-2, 4, 40, 1.5, 41),
]


def f32_list(t):
    """A float32 tensor/array as a flat list of Python floats equal to its elements."""
    return [float(v) for v in np.asarray(t, dtype=np.float32).reshape(-1)]


def make_data(rng):
    w0 = (rng.standard_normal((OUTPUTS, INPUTS)) * 0.3).astype(np.float32)
    b0 = (rng.standard_normal(OUTPUTS) * 0.3).astype(np.float32)
    batches = []
    for index in range(BATCHES):
        x = rng.standard_normal((BATCH, INPUTS)).astype(np.float32)
        if index == 0:  # far targets: large residual, norm > max_norm
            y = (rng.standard_normal((BATCH, OUTPUTS)) * 2.0 + 1.5).astype(np.float32)
        else:  # targets near the initial model: small residual, norm < max_norm
            y = (x @ w0.T + b0 + rng.standard_normal((BATCH, OUTPUTS)) * 0.15).astype(np.float32)
        batches.append((x, y))
    return w0, b0, batches


def train(w0, b0, batches):
    weight = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    bias = torch.nn.Parameter(torch.from_numpy(b0.copy()))
    c = CONFIG
    optimizer = torch.optim.AdamW(
        [{"params": [weight], "weight_decay": c["weight_decay"]}, {"params": [bias], "weight_decay": 0.0}],
        lr=c["peak_lr"], betas=(c["beta1"], c["beta2"]), eps=c["epsilon"])
    scheduler = get_cosine_schedule_with_warmup(optimizer, c["warmup_steps"], c["total_steps"], c["cycles"])
    steps = []
    for k in range(STEPS):
        x, y = (torch.from_numpy(a) for a in batches[k % BATCHES])
        optimizer.zero_grad(set_to_none=False)
        residual = x @ weight.T + bias - y
        loss = 0.5 * (residual * residual).sum(dim=1).mean()
        loss.backward()
        weight_grad, bias_grad = weight.grad.clone(), bias.grad.clone()
        norm = torch.nn.utils.clip_grad_norm_([weight, bias], c["max_norm"])
        clipped = not torch.equal(weight.grad, weight_grad)
        if abs(norm.item() - c["max_norm"]) < 0.05 * c["max_norm"]:
            sys.exit(f"step {k}: norm {norm.item()} too close to max_norm; choose other data")
        if clipped != (norm.item() > c["max_norm"]):
            sys.exit(f"step {k}: clipping decision {clipped} disagrees with norm {norm.item()}")
        lrs = [group["lr"] for group in optimizer.param_groups]
        assert lrs[0] == lrs[1]
        optimizer.step()
        scheduler.step()
        steps.append(dict(
            step=k, batch=k % BATCHES, lr=lrs[0], loss=float(loss.item()), grad_norm=float(norm.item()),
            clipped=clipped, weight_grad=f32_list(weight_grad), bias_grad=f32_list(bias_grad),
            weight=f32_list(weight.detach()), bias=f32_list(bias.detach())))
    return steps


def schedule_checks():
    checks = []
    for peak, warmup, total, cycles, count in SCHEDULE_SETTINGS:
        dummy = torch.nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.AdamW([dummy], lr=peak)
        scheduler = get_cosine_schedule_with_warmup(optimizer, warmup, total, cycles)
        lrs = []
        for _ in range(count):
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()  # no gradient: a no-op that keeps the scheduler's order check quiet
            scheduler.step()
        checks.append(dict(peak=peak, warmup_steps=warmup, total_steps=total, cycles=cycles,
                           learning_rates=lrs))
    return checks


def main():
    # The Swift test compares the optimizer bit for bit; another torch build may round differently.
    if torch.__version__ != "2.13.0+cpu" or transformers.__version__ != "5.23.0":
        sys.exit(f"expected torch 2.13.0+cpu and transformers 5.23.0, found {torch.__version__}, "
                 f"{transformers.__version__}")
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    w0, b0, batches = make_data(rng)
    steps = train(w0, b0, batches)
    golden = dict(
        generator="Tools/golden/make_adamw_golden.py",
        versions=dict(python=sys.version.split()[0], torch=torch.__version__,
                      transformers=transformers.__version__, numpy=np.__version__),
        seed=SEED, config=CONFIG, inputs=INPUTS, outputs=OUTPUTS, batch_size=BATCH,
        initial_weight=f32_list(w0), initial_bias=f32_list(b0),
        batches=[dict(x=f32_list(x), y=f32_list(y)) for x, y in batches],
        steps=steps, schedule_checks=schedule_checks())
    # One line per list of numbers keeps the file small and diffable (numbers are untouched).
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]",
                  json.dumps(golden, indent=1))
    OUT.write_text(text + "\n")
    clipped = [s["step"] for s in steps if s["clipped"]]
    print(f"wrote {OUT} ({len(text)} bytes)")
    print(f"clipped at steps {clipped}; not clipped at the other {STEPS - len(clipped)}")
    print("norms:", " ".join(f"{s['grad_norm']:.3f}" for s in steps))
    print("losses:", " ".join(f"{s['loss']:.4f}" for s in steps))


if __name__ == "__main__":
    main()
