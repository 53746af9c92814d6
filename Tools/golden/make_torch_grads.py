#!/usr/bin/env python3
"""Float64 PyTorch goldens for gradients with respect to input embeddings, on the tiny fixtures.

Inputs: Tests/ModelsTests/Fixtures/tiny-{llama,qwen2,gemma3}.gguf, written by the Swift test
"committed tiny GGUFs equal TinyModel.serialized() byte for byte" (RMAS_RECORD_FIXTURES=1; the
settings are TorchGradientGolden.tinyModel(_:) in Sources/TestSupport). Output, per model:
Tests/ModelsTests/Fixtures/torch-grads-tiny-<arch>.json (fields documented in
Sources/TestSupport/TorchGradientGolden.swift and under "conventions" in the file itself).

Pinned versions (CPU only, the venv of make_torch_logits.py):
    Python 3.11.7, torch==2.13.0+cpu, transformers==5.23.0, gguf==0.19.0, numpy==2.4.6

Exact command (from the package root):

    /work/ref/venv/bin/python Tools/golden/make_torch_grads.py

What it does, per model:
  * loads AutoModelForCausalLM.from_pretrained(Fixtures, gguf_file=tiny-<arch>.gguf, dtype=float64,
    attn_implementation="eager"): transformers 5.23's legacy GGUF path for these architectures
    (gguf-py dequantization, llama Q/K rows un-permuted from GGUF's adjacent-pair RoPE layout to
    rotate_half, 1 subtracted from gemma3 norm weights since HF multiplies by 1 + w). Its warning
    "weights packed ... kernels compute in float32" is spurious here: the layers are plain float64
    nn.Linear (checked). Gemma-3 gets query_pre_attn_scalar = key_length, so the attention scale is
    1/sqrt(head_dim) as in llama.cpp (HF's default, 256, fits only the real model).
  * makes the arithmetic float64 end to end: HF upcasts to float32 in RMSNorm, RoPE (float32
    inv_freq and cos/sin) and eager softmax; see FLOAT64_PATCHES. Gemma's embed_scale is set to
    float32(sqrt(D)), the factor llama.cpp and our engine use.
  * checks, recorded under "reference" (any failure aborts): every GGUF tensor re-dequantized with
    gguf.quants.dequantize equals its HF parameter bitwise after re-applying the converter's
    transform, and every parameter is covered; constants (RoPE base per layer type, gemma3 sliding
    layers 10000; scale 1/sqrt(head_dim); eps; window; layer types; activation); a TorchDispatchMode
    sees only float64 tensors in forward and backward; an unpatched float32 copy gives the same
    hidden states to float32 accuracy (the patches keep HF's semantics); hidden_states[-1] is the
    final-norm output; the attention probabilities are exactly zero where the window hides a key
    (query p sees key s iff s <= p and p - s < window); torch's gradients match Richardson central
    differences along two random directions to 1e-8.
  * protocol: ids = T=24 seeded token ids; X = embed_tokens(ids) rounded to float32 (stored); the
    input is exactly X in float64 with requires_grad; H = final-norm hidden states; logits = lm_head(H).
      loss 1 (cross-entropy): mean over p in P = 8..22 of -log softmax(logits_p)[ids[p + 1]]
      loss 2 (hidden): over Q = [3, 7, 11, 15, 19, 23] with float32 targets C_q ~ N(0, 1):
          mean_q (1 - cos(H_q, C_q)) + 0.1 * mean_q mean_d (H_q - C_q)^2
    each with dL/dX from torch.autograd.grad. Numbers: X and C exactly as float32 (shortest repr),
    gradients 10 and H/logits 9 significant digits, losses full float64 repr.
"""
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import types

import gguf
import numpy as np
import torch
import torch.nn.functional as F
import transformers
from torch.utils._python_dispatch import TorchDispatchMode
from transformers import AutoModelForCausalLM

ARCHS = ["llama", "qwen2", "gemma3"]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "ModelsTests", "Fixtures")
COMMAND = "/work/ref/venv/bin/python Tools/golden/make_torch_grads.py"
SEED = 20240601
T = 24
CE_POSITIONS = list(range(8, 23))
HIDDEN_POSITIONS = [3, 7, 11, 15, 19, 23]
MSE_WEIGHT = 0.1
GEMMA3_SLIDING_ROPE_BASE = 10000.0  # hard-coded in llama.cpp, not in the GGUF

LAYER_NAMES = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm",
}
LAYER_NAMES_BY_ARCH = {
    "llama": dict(LAYER_NAMES, ffn_norm="post_attention_layernorm"),
    "qwen2": dict(LAYER_NAMES, ffn_norm="post_attention_layernorm"),
    "gemma3": dict(LAYER_NAMES, post_attention_norm="post_attention_layernorm",
                   ffn_norm="pre_feedforward_layernorm", post_ffw_norm="post_feedforward_layernorm",
                   attn_q_norm="self_attn.q_norm", attn_k_norm="self_attn.k_norm"),
}
GLOBAL_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def field(reader, key):
    f = reader.fields.get(key)
    return None if f is None else f.contents()


# ---------------------------------------------------------------- float64 end to end
def rms_norm_forward(self, x):
    """LlamaRMSNorm / Qwen2RMSNorm: w * x / sqrt(mean(x^2) + eps), without the float32 upcast."""
    return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon))


def gemma3_rms_norm_forward(self, x):
    """Gemma3RMSNorm: (1 + w) * x / sqrt(mean(x^2) + eps), without the float32 upcast."""
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)) * (1.0 + self.weight)


def make_rotary_forward(bases, head_dim):
    """cos/sin of p * base^(-2i/head_dim) in float64; rotate_half layout (angles repeated)."""
    inv = {k: 1.0 / (b ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)) for k, b in bases.items()}

    def forward(self, x, position_ids, layer_type=None):
        freqs = position_ids[..., None].to(torch.float64) * inv[layer_type]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)
    forward.inv_freq = inv
    return forward


_softmax = F.softmax


def softmax_keeping_float64(x, dim=None, _stacklevel=3, dtype=None):
    if x.dtype == torch.float64:
        dtype = None
    return _softmax(x, dim=dim, _stacklevel=_stacklevel, dtype=dtype)


FLOAT64_PATCHES = [
    "RMSNorm modules: forward without the float32 upcast (same formula)",
    "rotary embedding: cos/sin in float64 from base ** (-arange(0, Dh, 2) / Dh) in float64",
    "torch.nn.functional.softmax: dtype=float32 ignored for float64 inputs (eager attention)",
    "gemma3 embed_tokens.embed_scale = float32(sqrt(D)) (llama.cpp / our engine)",
]


def make_float64(model, arch):
    cfg = model.config
    for module in model.modules():
        name = type(module).__name__
        if name in ("LlamaRMSNorm", "Qwen2RMSNorm"):
            module.forward = types.MethodType(rms_norm_forward, module)
        elif name == "Gemma3RMSNorm":
            module.forward = types.MethodType(gemma3_rms_norm_forward, module)
    if arch == "gemma3":
        bases = {"full_attention": cfg.rope_parameters["full_attention"]["rope_theta"],
                 "sliding_attention": cfg.rope_parameters["sliding_attention"]["rope_theta"]}
        model.model.embed_tokens.embed_scale = torch.tensor(float(np.float32(math.sqrt(cfg.hidden_size))), dtype=torch.float64)
    else:
        bases = {None: cfg.rope_parameters["rope_theta"]}
    rot = model.model.rotary_emb
    rot.forward = types.MethodType(make_rotary_forward(bases, model.model.layers[0].self_attn.head_dim), rot)
    torch.nn.functional.softmax = softmax_keeping_float64


class DtypeRecorder(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.dtypes = set()

    def __torch_dispatch__(self, func, types_, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor) and t.is_floating_point():
                self.dtypes.add(str(t.dtype))
        return out


# ---------------------------------------------------------------- checks
def llama_permute(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute, re-applied to the HF rows (rotate_half -> adjacent)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def check_weights(model, reader, arch):
    cfg = model.config
    params = dict(model.named_parameters(remove_duplicate=False))
    covered, transforms = set(), {}
    for t in reader.tensors:
        base, kind = t.name.rsplit(".", 1)
        if base.startswith("blk."):
            _, layer, short = base.split(".", 2)
            hf = f"model.layers.{layer}.{LAYER_NAMES_BY_ARCH[arch][short]}.{kind}"
        else:
            short, hf = base, f"{GLOBAL_NAMES[base]}.{kind}"
        ref = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        got = params[hf].detach().numpy()
        how = "none"
        if arch == "llama" and short in ("attn_q", "attn_k") and kind == "weight":
            heads = cfg.num_attention_heads if short == "attn_q" else cfg.num_key_value_heads
            got, how = llama_permute(got, heads), f"permute({heads} heads)"
        elif arch == "gemma3" and short.endswith("norm"):
            got, how = got + 1.0, "hf + 1"
        transforms[f"{short}.{kind}"] = how
        if got.shape != ref.shape or not np.array_equal(got, ref):
            raise SystemExit(f"weights: {t.name} -> {hf} ({how}) differs")
        covered.add(hf)
    tied = "lm_head.weight" not in covered
    if tied:
        if model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
            raise SystemExit("weights: no output.weight in the GGUF but lm_head is not tied")
        covered.add("lm_head.weight")
    if set(params) != covered:
        raise SystemExit(f"weights: HF parameters not from the GGUF: {sorted(set(params) - covered)}")
    return {"result": "pass", "gguf_tensors_compared_bitwise": len(reader.tensors),
            "lm_head_tied_to_embedding": tied, "transform_reapplied_before_compare": transforms,
            "method": "gguf.quants.dequantize vs the float64 parameter, np.array_equal"}


def check_constants(model, reader, arch):
    cfg = model.config
    dh = int(field(reader, f"{arch}.attention.key_length"))
    eps = float(np.float32(field(reader, f"{arch}.attention.layer_norm_rms_epsilon")))
    base = float(field(reader, f"{arch}.rope.freq_base"))
    if {layer.self_attn.head_dim for layer in model.model.layers} != {dh} or cfg.rms_norm_eps != eps:
        raise SystemExit(f"constants: head_dim / eps {cfg.rms_norm_eps}")
    scales = {float(layer.self_attn.scaling) for layer in model.model.layers}
    if scales != {dh ** -0.5}:
        raise SystemExit(f"constants: attention scaling {scales}")
    inv = model.model.rotary_emb.forward.inv_freq
    out = {"head_dim": dh, "rms_norm_eps": eps, "attention_scaling": dh ** -0.5,
           "attn_implementation": cfg._attn_implementation}
    if arch == "gemma3":
        want_types = ["full_attention" if (i + 1) % 6 == 0 else "sliding_attention" for i in range(cfg.num_hidden_layers)]
        window = int(field(reader, "gemma3.attention.sliding_window"))
        bases = {"full_attention": base, "sliding_attention": GEMMA3_SLIDING_ROPE_BASE}
        if (cfg.layer_types != want_types or cfg.sliding_window != window
                or cfg.hidden_activation != "gelu_pytorch_tanh" or cfg.final_logit_softcapping is not None
                or cfg.attn_logit_softcapping is not None or cfg.use_bidirectional_attention):
            raise SystemExit("constants: gemma3 config")
        out.update(layer_types=cfg.layer_types, sliding_window=window, hidden_activation=cfg.hidden_activation,
                   embed_scale=float(model.model.embed_tokens.embed_scale))
    else:
        bases = {None: base}
        if cfg.hidden_act != "silu" or getattr(cfg, "use_sliding_window", False):
            raise SystemExit("constants: activation / sliding window")
        out["hidden_act"] = cfg.hidden_act
    for key, b in bases.items():
        ref = torch.tensor([b ** (-2 * i / dh) for i in range(dh // 2)], dtype=torch.float64)
        if not torch.allclose(inv[key], ref, rtol=1e-15, atol=0):
            raise SystemExit(f"constants: RoPE base {key}")
    out["rope_base"] = {str(k): v for k, v in bases.items()} if arch == "gemma3" else base
    if cfg._attn_implementation != "eager":
        raise SystemExit("constants: attention is not eager")
    return out


def check_sliding_window(model, x):
    """Zero attention weight exactly where the window (or causality) hides a key."""
    out = model(inputs_embeds=x, output_attentions=True)
    window = model.config.sliding_window
    report = {}
    for layer, (kind, att) in enumerate(zip(model.config.layer_types, out.attentions)):
        p = torch.arange(att.shape[-1])
        hidden = (p[None, :] > p[:, None])
        if kind == "sliding_attention":
            hidden |= (p[:, None] - p[None, :] >= window)
        zero = (att[0] == 0).all(dim=0)
        if not torch.equal(zero, hidden):
            raise SystemExit(f"sliding window: layer {layer} masks differently")
        report[layer] = kind
    return {"result": "pass", "rule": f"query p sees key s iff s <= p and (global layer or p - s < {window})",
            "layers": report}


def directional_fd(loss_fn, x, v, h=1e-4):
    central = lambda h: (loss_fn(x + h * v).item() - loss_fn(x - h * v).item()) / (2 * h)  # noqa: E731
    return (4 * central(h / 2) - central(h)) / 3


# ---------------------------------------------------------------- protocol
def losses(model, x, labels, targets):
    base = model.model(inputs_embeds=x)
    h = base.last_hidden_state[0]
    logits = model.lm_head(h)
    ce = F.cross_entropy(logits[CE_POSITIONS], labels, reduction="mean")
    hq = h[HIDDEN_POSITIONS]
    cos = (hq * targets).sum(-1) / (hq.norm(dim=-1) * targets.norm(dim=-1))
    hidden = (1 - cos).mean() + MSE_WEIGHT * ((hq - targets) ** 2).mean()
    return h, logits, ce, hidden


def fmt(values, digits=None, float32=False):
    if float32:
        return [float(str(np.float32(v))) for v in np.asarray(values, dtype=np.float32).ravel()]
    return [float(f"{float(v):.{digits}g}") for v in np.asarray(values).ravel()]


def dumps(doc, rows):
    """One key per line; the large arrays broken into rows of `rows[key]` numbers."""
    lines = ["{"]
    for i, (k, v) in enumerate(doc.items()):
        comma = "," if i < len(doc) - 1 else ""
        if isinstance(v, list) and k in rows:
            n = rows[k]
            chunks = [json.dumps(v[j:j + n])[1:-1] for j in range(0, len(v), n)]
            lines.append(f' "{k}": [\n  ' + ",\n  ".join(chunks) + f"\n ]{comma}")
        elif isinstance(v, dict) and any(isinstance(w, list) and len(w) > 64 for w in v.values()):
            inner = dumps(v, rows).replace("\n", "\n ")
            lines.append(f' "{k}": {inner}{comma}')
        elif isinstance(v, dict):
            lines.append(f' "{k}": ' + json.dumps(v, indent=1).replace("\n", "\n ") + comma)
        else:
            lines.append(f' "{k}": {json.dumps(v)}{comma}')
    return "\n".join(lines) + "\n}"


def load(arch, reader, dtype):
    extra = {}
    if arch == "gemma3":  # HF's default 256 is the real model's head_dim; llama.cpp scales by 1/sqrt(key_length)
        extra["query_pre_attn_scalar"] = int(field(reader, "gemma3.attention.key_length"))
    model = AutoModelForCausalLM.from_pretrained(FIXTURES, gguf_file=f"tiny-{arch}.gguf", dtype=dtype,
                                                 attn_implementation="eager", **extra)
    if {type(m).__name__ for m in model.modules() if "Linear" in type(m).__name__} != {"Linear"}:
        raise SystemExit("model: expected plain nn.Linear layers")
    return model.eval()


def self_checks(model, f32, x, x32, h, logits, losses_fn, grads):
    """hidden_states[-1], float64 patches vs plain HF float32, sliding window, finite differences."""
    with torch.no_grad():
        full = model(inputs_embeds=x, output_hidden_states=True)
        if not (torch.equal(full.hidden_states[-1][0], h) and torch.equal(full.logits[0], logits)):
            raise SystemExit("hidden_states[-1] is not the final-norm output")
        h32 = f32.model(inputs_embeds=x32).last_hidden_state[0].double()
        f32_diff = float((h32 - h).abs().max() / h.abs().max())
        if f32_diff > 1e-5:
            raise SystemExit(f"float64 patches: unpatched float32 model differs by {f32_diff}")
        window = check_sliding_window(model, x) if model.config.model_type == "gemma3_text" else None
        fd, g = {}, torch.Generator().manual_seed(SEED)
        for (name, grad), pick in zip(grads.items(), (2, 3)):
            worst = 0.0
            for _ in range(2):
                direction = torch.randn(x.shape, generator=g, dtype=torch.float64)
                numeric = directional_fd(lambda y: losses_fn(y)[pick], x, direction)
                analytic = float((grad * direction).sum())
                worst = max(worst, abs(numeric - analytic) / abs(analytic))
            if worst > 1e-8:
                raise SystemExit(f"finite differences: {name} relative error {worst}")
            fd[name] = float(f"{worst:.3g}")
    return {
        "float64_check": "every floating-point tensor produced in forward and backward was float64",
        "unpatched_float32_hidden_max_rel_diff": float(f"{f32_diff:.3g}"),
        "hidden_states_last_is_final_norm": True,
        "sliding_window_check": window,
        "finite_difference_max_rel_error": fd,
    }


def make(arch):
    path = os.path.join(FIXTURES, f"tiny-{arch}.gguf")
    reader = gguf.GGUFReader(path)
    model, f32 = load(arch, reader, torch.float64), load(arch, reader, torch.float32)
    make_float64(model, arch)
    weights, constants = check_weights(model, reader, arch), check_constants(model, reader, arch)
    d, v = model.config.hidden_size, model.config.vocab_size

    rng = np.random.default_rng(SEED)
    ids = [int(i) for i in rng.integers(0, v, size=T)]
    targets32 = rng.standard_normal((len(HIDDEN_POSITIONS), d)).astype(np.float32)
    with torch.no_grad():
        x32 = model.model.embed_tokens(torch.tensor([ids])).to(torch.float32)
    x = x32.to(torch.float64).clone().requires_grad_(True)
    labels = torch.tensor([ids[p + 1] for p in CE_POSITIONS])
    targets = torch.from_numpy(targets32.astype(np.float64))
    losses_fn = lambda y: losses(model, y, labels, targets)  # noqa: E731

    recorder = DtypeRecorder()
    with recorder:
        h, logits, ce, hidden = losses_fn(x)
        grad_ce, = torch.autograd.grad(ce, x, retain_graph=True)
        grad_hidden, = torch.autograd.grad(hidden, x)
    if recorder.dtypes != {"torch.float64"}:
        raise SystemExit(f"float64: tensors of {recorder.dtypes} were produced")
    checks = self_checks(model, f32, x, x32, h, logits, losses_fn,
                         {"cross_entropy": grad_ce, "hidden_loss": grad_hidden})

    reference = {
        "generator": "Tools/golden/make_torch_grads.py", "command": COMMAND,
        "python": platform.python_version(), "torch": torch.__version__,
        "transformers": transformers.__version__, "gguf_py": importlib.metadata.version("gguf"),
        "numpy": np.__version__, "torch_threads": torch.get_num_threads(),
        "hf_class": type(model).__name__, "dtype": "float64 parameters and arithmetic",
        "float64_patches": FLOAT64_PATCHES, "weights_check": weights, "constants": constants, **checks,
    }
    doc = {
        "architecture": arch, "model_file": f"tiny-{arch}.gguf",
        "model_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
        "count": T, "width": d, "vocabulary_size": v, "seed": SEED,
        "conventions": ("flat row-major arrays: inputs/hidden/gradients [count x width], logits "
                        "[count x vocabulary_size], targets [positions x width]; the input is exactly the "
                        "float32 `inputs` in float64; see Sources/TestSupport/TorchGradientGolden.swift"),
        "reference": reference,
        "token_ids": ids,
        "inputs": fmt(x32[0], float32=True),
        "cross_entropy": {"positions": CE_POSITIONS, "labels": labels.tolist(), "loss": ce.item(),
                          "gradient": fmt(grad_ce[0], 10)},
        "hidden_loss": {"positions": HIDDEN_POSITIONS, "mse_weight": MSE_WEIGHT,
                        "targets": fmt(targets32, float32=True), "loss": hidden.item(),
                        "gradient": fmt(grad_hidden[0], 10)},
        "hidden": fmt(h.detach(), 9),
        "logits": fmt(logits.detach(), 9),
    }
    out = os.path.join(FIXTURES, f"torch-grads-tiny-{arch}.json")
    with open(out, "w") as f:
        f.write(dumps(doc, {"inputs": d, "gradient": d, "targets": d, "hidden": d, "logits": v}) + "\n")
    print(f"[{arch}] loss_ce {ce.item():.10g} loss_hidden {hidden.item():.10g}; {checks['finite_difference_max_rel_error']}"
          f"; wrote {out} ({os.path.getsize(out)} bytes)", flush=True)


def main():
    torch.set_num_threads(2)
    for arch in ARCHS:
        make(arch)


if __name__ == "__main__":
    main()
