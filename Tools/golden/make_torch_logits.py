#!/usr/bin/env python3
"""Independent fp32 reference logits: PyTorch (transformers, eager attention) on the same GGUFs.

Purpose: llama.cpp (Tests/ModelsTests/Fixtures/logits-<model>.json) quantizes activations to 8 bits
inside its quantized matmuls and keeps K/V in f16, so it is itself only approximate. This script
evaluates the same weights -- dequantized once to float32 by gguf-py -- with all arithmetic in
float32, to separate "llama.cpp noise" from real bugs in a forward pass.

Pinned reference versions (CPU only, in /work/ref/venv next to the llama.cpp reference):
    Python 3.11.7, torch==2.13.0+cpu (wheel from /opt/wheels), transformers==5.23.0,
    accelerate==1.15.0, tokenizers==0.23.3, safetensors==0.8.0, huggingface_hub==2.4.0,
    gguf==0.19.0, numpy==2.4.6, llama-cpp-python==0.3.36 (vocab-only: EOG flags and text only)

Installed with:
    . /work/ref/venv/bin/activate
    pip install --find-links /opt/wheels "torch==2.13.0+cpu"
    pip install --find-links /opt/wheels "torch==2.13.0+cpu" transformers==5.23.0 accelerate==1.15.0

Exact command (from the package root; models as in /work/ref/models or $RMAS_MODELS_DIR):

    . /work/ref/venv/bin/activate
    RMAS_MODELS_DIR=/work/ref/models python Tools/golden/make_torch_logits.py

It writes Tests/ModelsTests/Fixtures/torch-logits-<model>.json for smollm2-135m, qwen2.5-0.5b and
gemma3-270m (pass model names as arguments to do only some of them). It needs the llama.cpp
goldens Tests/ModelsTests/Fixtures/logits-<model>.json: their prompt_ids and sample_ids are the
inputs here, and the output ends with a comparison against them ("vs_llama_cpp").

What it does, per model:
  * loads AutoModelForCausalLM.from_pretrained(models_dir, gguf_file=<model>.gguf,
    dtype=torch.float32, attn_implementation="eager"). For llama / qwen2 / gemma3, transformers
    5.23 uses its legacy GGUF loader (modeling_gguf_pytorch_utils.load_gguf_checkpoint): config
    from the GGUF metadata, every tensor dequantized with gguf-py (gguf.dequantize) to float32,
    then per architecture: llama Q/K rows un-permuted (the converter's permute for rotate_half
    RoPE is undone), gemma3 `1` subtracted from every *norm.weight (the converter adds 1; HF's
    Gemma3RMSNorm multiplies by (1 + w)). Nothing stays quantized.
  * checks those weights independently (weights_check): every GGUF tensor is dequantized again
    with gguf.quants.dequantize, mapped by a hand-written name table (WEIGHT_NAMES below), the
    converter's transform re-applied to the HF tensor (llama: permute Q/K again) or inverted on
    the GGUF side (gemma3 norms: GGUF - 1 in float32) and compared bitwise; every HF parameter must be covered, and a tied lm_head must be the
    embedding. It also checks the derived constants (RoPE inv_freq per layer type, Gemma3 embed
    scale sqrt(640) in float32, attention scaling, sliding-window layers).
  * per prompt of the llama.cpp golden (same prompt_ids, same sample_ids): one forward over the
    whole prompt (use_cache=True), logits of the last position: top-64 (descending, ties by
    ascending id), the logits at sample_ids, logsumexp (float64 over float32), argmax. Then 32
    greedy steps, one token per forward on the float32 DynamicCache: argmax (ties to the lowest
    id), margins = top1 - top2, top-8 per step, logsumexp per step; no stopping at EOG (is_eog
    flags them, from llama.cpp's vocab-only load, which also gives `text`).
  * self checks: the cached decode of the longest prompt is compared with a full recompute
    without cache of prompt + 31 generated tokens (covers the KV cache and, for gemma3, the
    512-token sliding window across the cache); the first prompt is evaluated twice, bitwise.
  * vs_llama_cpp, per prompt: max |torch - llama.cpp| over every logit the llama.cpp golden
    recorded at the last prompt position (its top-64 and its 512 sample ids), the same after
    subtracting each side's logsumexp (log-probabilities), argmax agreement, greedy agreement
    and the first differing step, and max |diff| of the per-step top-8 logits over the steps
    whose context is still identical.
Logits are written rounded to 7 significant digits; margins and diffs are computed before rounding.

Cross-check (done once by hand, not by this script): llama.cpp itself, run on F32 copies of the
same GGUFs (made with llama_model_quantize(ftype=ALL_F32); ggml's dequantization is bitwise equal
to gguf-py's for every tensor of the three files) with an F32 K/V cache, gives the same logits as
this script to <= 6e-5 (SmolLM2, Qwen2.5) and the same 32-token greedy continuations for all 13
prompts. For Gemma 3 the residual is <= 0.02 because ggml computes GELU through an fp16 lookup
table (GGML_GELU_FP16 in ggml-cpu/vec.h: x rounded to fp16, result rounded to fp16), where
transformers computes tanh-GELU exactly in float32; with the table emulated in torch, layer 0
matches llama.cpp to 2e-7 relative. So the gap to the llama.cpp goldens is llama.cpp's quantized
path: 8-bit activations in its quantized matmuls and the f16 K/V cache (with it Q and the softmax
probabilities are also rounded to f16), plus, for Gemma 3, the fp16 GELU table.
"""
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import sys
import time

import gguf
import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

MODELS = ["smollm2-135m", "qwen2.5-0.5b", "gemma3-270m"]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "ModelsTests", "Fixtures")
TOP_K = 64
STEP_TOP_K = 8
N_GEN = 32
SIG_DIGITS = 7
N_THREADS = 2
COMMAND = ("RMAS_MODELS_DIR=/work/ref/models python Tools/golden/make_torch_logits.py "
           "(in /work/ref/venv)")

# GGUF tensor name (after "blk.N.") -> HF parameter name (after "model.layers.N.").
LAYER_NAMES_COMMON = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
    "attn_norm": "input_layernorm",
}
WEIGHT_NAMES = {
    "llama": dict(LAYER_NAMES_COMMON, ffn_norm="post_attention_layernorm"),
    "qwen2": dict(LAYER_NAMES_COMMON, ffn_norm="post_attention_layernorm"),
    "gemma3": dict(LAYER_NAMES_COMMON, post_attention_norm="post_attention_layernorm",
                   ffn_norm="pre_feedforward_layernorm", post_ffw_norm="post_feedforward_layernorm",
                   attn_q_norm="self_attn.q_norm", attn_k_norm="self_attn.k_norm"),
}
GLOBAL_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def sig(x):
    return float(f"{float(x):.{SIG_DIGITS}g}")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def logsumexp(x):
    x = x.astype(np.float64)
    m = float(x.max())
    return m + math.log(float(np.exp(x - m).sum()))


def top(x, k):
    idx = np.argsort(-x, kind="stable")[:k]  # ties by ascending id
    return [int(i) for i in idx], [sig(x[i]) for i in idx]


# ---------------------------------------------------------------- weights
def gguf_field(reader, key):
    f = reader.fields.get(key)
    return None if f is None else f.contents()


def llama_permute(w, n_head, n_head_kv):
    """convert_hf_to_gguf.py LlamaModel.permute (HF rotate_half layout -> GGUF interleaved)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def check_weights(model, reader, arch):
    """Every GGUF tensor vs the loaded HF parameter, bitwise, with the converter's transform
    re-applied to the HF side. Raises on any mismatch."""
    cfg = model.config
    params = dict(model.named_parameters(remove_duplicate=False))
    covered = set()
    table = WEIGHT_NAMES[arch]
    n_exact = 0
    norm_roundtrip = 0.0
    transforms = {}
    for t in reader.tensors:
        base, kind = t.name.rsplit(".", 1)
        if base.startswith("blk."):
            _, layer, short = base.split(".", 2)
            hf = f"model.layers.{layer}.{table[short]}.{kind}"
        else:
            short = base
            hf = f"{GLOBAL_NAMES[base]}.{kind}"
        if hf not in params:
            raise SystemExit(f"weights_check: GGUF {t.name} -> {hf} is not a parameter of the model")
        ref = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        got = params[hf].detach().numpy()
        if arch == "llama" and short == "attn_q" and kind == "weight":
            got, how = llama_permute(got, cfg.num_attention_heads, cfg.num_attention_heads), "permute(n_head)"
        elif arch == "llama" and short == "attn_k" and kind == "weight":
            got, how = llama_permute(got, cfg.num_attention_heads, cfg.num_key_value_heads), "permute(n_head_kv)"
        elif arch == "gemma3" and short.endswith("norm"):
            # the loader stores fl(w_gguf - 1); Gemma3RMSNorm then multiplies by fl(1 + w)
            norm_roundtrip = max(norm_roundtrip, float(np.abs((got + np.float32(1)) - ref).max()))
            ref, how = ref - np.float32(1.0), "compared with (gguf - 1) in float32"
        else:
            how = "none"
        transforms.setdefault(f"{short}.{kind}", how)
        if got.shape != ref.shape or not np.array_equal(got, ref):
            diff = float(np.abs(got - ref).max()) if got.shape == ref.shape else None
            raise SystemExit(f"weights_check: {t.name} -> {hf} ({how}) differs: shapes "
                             f"{got.shape} vs {ref.shape}, max|diff| {diff}")
        covered.add(hf)
        n_exact += 1
    tied = None
    if "lm_head.weight" not in covered:
        tied = model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
        if not tied:
            raise SystemExit("weights_check: no output.weight in the GGUF but lm_head is not tied")
        covered.add("lm_head.weight")
    missing = sorted(set(params) - covered)
    if missing:
        raise SystemExit(f"weights_check: HF parameters not loaded from the GGUF: {missing[:10]}")
    types = {}
    for t in reader.tensors:
        types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
    extra = {}
    if arch == "gemma3":
        extra["gemma3_norm_roundtrip_max_abs"] = norm_roundtrip
        extra["gemma3_norm_note"] = ("max |(1 + w_hf) - w_gguf| over all norm weights: what "
                                     "HF's (1 + w) differs from the GGUF's stored (w + 1)")
    return {
        "result": "pass",
        "gguf_tensors_compared_bitwise": n_exact,
        "hf_parameters": len(params),
        "gguf_tensor_types": types,
        "lm_head_tied_to_embedding": bool(tied) if tied is not None else False,
        "transform_reapplied_to_hf_weight_before_compare": transforms,
        "method": ("gguf.quants.dequantize(tensor.data, tensor.tensor_type) vs the loaded float32 "
                   "parameter, names mapped with WEIGHT_NAMES/GLOBAL_NAMES in this script, the "
                   "llama.cpp converter's transform re-applied to the HF tensor, np.array_equal"),
        **extra,
    }


def check_constants(model, reader, arch):
    cfg = model.config
    out = {}
    rot = model.model.rotary_emb
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    expo = torch.arange(0, head_dim, 2, dtype=torch.int64).to(torch.float32) / head_dim
    if arch == "gemma3":
        want = {"sliding_attention": 10000.0, "full_attention": float(gguf_field(reader, "gemma3.rope.freq_base"))}
        for lt, base in want.items():
            inv = getattr(rot, f"{lt}_inv_freq")
            ref = 1.0 / (base ** expo)
            if not torch.allclose(inv, ref, rtol=1e-6, atol=0):
                raise SystemExit(f"constants: {lt} inv_freq is not base {base}")
            if getattr(rot, f"{lt}_attention_scaling") != 1.0:
                raise SystemExit(f"constants: {lt} attention_scaling != 1")
        out["rope_base"] = want
        global_layers = [i for i, t in enumerate(cfg.layer_types) if t == "full_attention"]
        if global_layers != [5, 11, 17]:
            raise SystemExit(f"constants: global layers {global_layers}")
        out["global_layers"] = global_layers
        out["sliding_window"] = cfg.sliding_window
        if cfg.sliding_window != gguf_field(reader, "gemma3.attention.sliding_window"):
            raise SystemExit("constants: sliding_window")
        scale = model.model.embed_tokens.embed_scale
        if scale.dtype != torch.float32 or float(scale) != float(np.float32(math.sqrt(cfg.hidden_size))):
            raise SystemExit(f"constants: embed_scale {scale!r}")
        out["embed_scale"] = float(scale)
        att = model.model.layers[0].self_attn
        out["attention_scaling"] = att.scaling
        if att.scaling != 256 ** -0.5:
            raise SystemExit(f"constants: attention scaling {att.scaling}")
        out["final_logit_softcapping"] = cfg.final_logit_softcapping
        out["attn_logit_softcapping"] = cfg.attn_logit_softcapping
        out["hidden_activation"] = cfg.hidden_activation
        if cfg.final_logit_softcapping is not None or cfg.attn_logit_softcapping is not None:
            raise SystemExit("constants: softcapping set")
    else:
        base = float(gguf_field(reader, f"{arch}.rope.freq_base"))
        ref = 1.0 / (base ** expo)
        if not torch.allclose(rot.inv_freq, ref, rtol=1e-6, atol=0) or rot.attention_scaling != 1.0:
            raise SystemExit("constants: inv_freq")
        out["rope_base"] = base
        out["attention_scaling"] = model.model.layers[0].self_attn.scaling
        if out["attention_scaling"] != head_dim ** -0.5:
            raise SystemExit("constants: attention scaling")
        out["hidden_act"] = cfg.hidden_act
        if getattr(cfg, "use_sliding_window", False):
            raise SystemExit("constants: qwen2 sliding window on")
    out["head_dim"] = head_dim
    out["rms_norm_eps"] = cfg.rms_norm_eps
    out["attn_implementation"] = cfg._attn_implementation
    if cfg._attn_implementation != "eager":
        raise SystemExit("constants: attention is not eager")
    dtypes = {str(p.dtype) for p in model.parameters()} | {str(b.dtype) for b in model.buffers()}
    if dtypes != {"torch.float32"}:
        raise SystemExit(f"constants: dtypes {dtypes}")
    out["all_parameters_and_buffers"] = "float32"
    return out


# ---------------------------------------------------------------- evaluation
@torch.no_grad()
def forward(model, ids, past=None):
    out = model(input_ids=torch.tensor([ids], dtype=torch.long), past_key_values=past,
                use_cache=True, logits_to_keep=1)
    return out.logits[0, -1].float().numpy().copy(), out.past_key_values


def run_prompt(model, ids, sample_ids, eog):
    logits, past = forward(model, ids)
    prefill = logits.copy()
    top_ids, top_logits = top(logits, TOP_K)
    last = {
        "argmax": int(np.argmax(logits)),
        "top_ids": top_ids,
        "top_logits": top_logits,
        "sample_logits": [sig(v) for v in logits[sample_ids]],
        "logsumexp": sig(logsumexp(logits)),
    }
    steps = {"ids": [], "margins": [], "is_eog": [], "top_ids": [], "top_logits": [], "logsumexp": []}
    raw_steps = []
    for step in range(N_GEN):
        raw_steps.append(logits)
        tid = int(np.argmax(logits))
        order = np.argsort(-logits, kind="stable")[:STEP_TOP_K]
        steps["ids"].append(tid)
        steps["margins"].append(sig(float(logits[order[0]]) - float(logits[order[1]])))
        steps["is_eog"].append(tid in eog)
        steps["top_ids"].append([int(i) for i in order])
        steps["top_logits"].append([sig(logits[i]) for i in order])
        steps["logsumexp"].append(sig(logsumexp(logits)))
        if step + 1 < N_GEN:
            logits, past = forward(model, [tid], past)
    return last, steps, prefill, raw_steps


def compare(gold_p, last_raw, raw_steps, torch_steps, sample_ids):
    gl = gold_p["last"]
    ids = list(gl["top_ids"]) + list(sample_ids)
    vals = list(gl["top_logits"]) + list(gl["sample_logits"])
    t = last_raw[np.array(ids)].astype(np.float64)
    g = np.array(vals, dtype=np.float64)
    d = np.abs(t - g)
    worst = int(np.argmax(d))
    lse_t = logsumexp(last_raw)
    dlp = np.abs((t - lse_t) - (g - gl["logsumexp"]))
    gg = gold_p["greedy"]
    first_diff = next((i for i, (a, b) in enumerate(zip(gg["ids"], torch_steps["ids"])) if a != b), None)
    # steps whose context (prompt + ids[:k]) is identical on both sides: k <= first_diff
    n_same_ctx = N_GEN if first_diff is None else first_diff + 1
    step_max = 0.0
    for k in range(n_same_ctx):
        tk = raw_steps[k][np.array(gg["top_ids"][k])].astype(np.float64)
        step_max = max(step_max, float(np.abs(tk - np.array(gg["top_logits"][k])).max()))
    top1, top2 = np.sort(last_raw)[-1], np.sort(last_raw)[-2]
    return {
        "id": gold_p["id"],
        "n_prompt_tokens": gold_p["n_prompt_tokens"],
        "last_max_abs_diff": sig(float(d.max())),
        "last_max_abs_diff_at_id": int(ids[worst]),
        "last_mean_abs_diff": sig(float(d.mean())),
        "last_max_abs_diff_logprob": sig(float(dlp.max())),
        "last_logsumexp_diff": sig(lse_t - gl["logsumexp"]),
        "argmax_torch": int(np.argmax(last_raw)),
        "argmax_llama_cpp": int(gl["argmax"]),
        "argmax_agree": int(np.argmax(last_raw)) == int(gl["argmax"]),
        "torch_top1_margin": sig(float(top1 - top2)),
        "top64_overlap": len(set(gl["top_ids"]) & set(int(i) for i in np.argsort(-last_raw, kind="stable")[:TOP_K])),
        "greedy_equal": first_diff is None,
        "greedy_first_diff_step": first_diff,
        "greedy_steps_same_context": n_same_ctx,
        "greedy_top8_max_abs_diff_same_context": sig(step_max),
        "llama_cpp_margin_at_first_diff": None if first_diff is None else gg["margins"][first_diff],
        "torch_margin_at_first_diff": None if first_diff is None else torch_steps["margins"][first_diff],
    }


# ---------------------------------------------------------------- JSON writing
def dumps(obj, indent=0):
    """JSON with one key per line but lists of scalars on a single line."""
    pad = " " * indent
    if isinstance(obj, dict):
        items = [f'{pad} {json.dumps(k)}: {dumps(v, indent + 1).lstrip()}' for k, v in obj.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        if all(isinstance(v, list) and not any(isinstance(w, (dict, list)) for w in v) for v in obj):
            inner = [pad + "  " + json.dumps(v, ensure_ascii=False) for v in obj]
        else:
            inner = [dumps(v, indent + 1) for v in obj]
        return pad + "[\n" + ",\n".join(inner) + "\n" + pad + "]"
    return pad + json.dumps(obj, ensure_ascii=False)


def vocab_helper(path):
    """llama.cpp vocab-only load: EOG flags and detokenized text for readability only."""
    try:
        import llama_cpp
        from llama_cpp import Llama
        llm = Llama(model_path=path, vocab_only=True, verbose=False)
        vocab = llm._model.vocab
        eog = {i for i in range(llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, i)}
        return eog, lambda ids: llm.detokenize(ids, special=True).decode("utf-8", errors="replace")
    except Exception as e:  # the logits do not depend on it
        print(f"(no llama_cpp vocab helper: {e})", file=sys.stderr)
        return set(), lambda ids: None


def make_model(name, models_dir):
    path = os.path.join(models_dir, name + ".gguf")
    gold_path = os.path.join(FIXTURES, f"logits-{name}.json")
    with open(gold_path) as f:
        gold = json.load(f)
    sample_ids = np.array(gold["sample_ids"], dtype=np.int64)
    reader = gguf.GGUFReader(path)
    arch = gguf_field(reader, "general.architecture")

    t0 = time.time()
    model = AutoModelForCausalLM.from_pretrained(
        models_dir, gguf_file=name + ".gguf", dtype=torch.float32, attn_implementation="eager")
    model.eval()
    load_s = time.time() - t0
    weights = check_weights(model, reader, arch)
    constants = check_constants(model, reader, arch)
    n_vocab = model.config.vocab_size
    if n_vocab != gold["model"]["n_vocab"]:
        raise SystemExit(f"{name}: n_vocab {n_vocab} vs golden {gold['model']['n_vocab']}")
    eog, detok = vocab_helper(path)
    print(f"[{name}] loaded in {load_s:.0f}s; weights and constants checked", flush=True)

    out_prompts, comparisons, raw = [], [], {}
    t0 = time.time()
    for gp in gold["prompts"]:
        ids = [int(i) for i in gp["prompt_ids"]]
        last, steps, prefill, raw_steps = run_prompt(model, ids, sample_ids, eog)
        steps["text"] = detok(steps["ids"])
        raw[gp["id"]] = (ids, prefill, raw_steps, steps["ids"])
        out_prompts.append({"id": gp["id"], "n_prompt_tokens": len(ids), "prompt_ids": ids,
                            "last": last, "greedy": steps})
        c = compare(gp, prefill, raw_steps, steps, sample_ids)
        comparisons.append(c)
        print(f"[{name}] {gp['id']}: {len(ids)} tok  max|d| {c['last_max_abs_diff']:.4g} "
              f"(logprob {c['last_max_abs_diff_logprob']:.4g})  argmax {'=' if c['argmax_agree'] else '!='}  "
              f"greedy {'equal' if c['greedy_equal'] else 'differs at ' + str(c['greedy_first_diff_step'])}"
              f"  step-top8 max|d| {c['greedy_top8_max_abs_diff_same_context']:.4g}\n"
              f"    -> {steps['text']!r}", flush=True)
    eval_s = time.time() - t0

    # self checks
    first = gold["prompts"][0]["id"]
    ids, prefill, _, _ = raw[first]
    again, _ = forward(model, ids)
    if not np.array_equal(again, prefill):
        raise SystemExit(f"{name}/{first}: re-evaluation differs")
    longest = max(gold["prompts"], key=lambda p: p["n_prompt_tokens"])["id"]
    ids, _, raw_steps, gen = raw[longest]
    full, _ = forward(model, ids + gen[:N_GEN - 1])
    cache_diff = float(np.abs(full - raw_steps[N_GEN - 1]).max())
    if cache_diff > 1e-3 or int(np.argmax(full)) != gen[N_GEN - 1]:
        raise SystemExit(f"{name}/{longest}: cached decode vs full recompute differ by {cache_diff}")
    print(f"[{name}] self checks ok (cache vs recompute max|d| {cache_diff:.3g}); "
          f"eval {eval_s:.0f}s", flush=True)

    doc = {
        "generator": "Tools/golden/make_torch_logits.py",
        "command": COMMAND,
        "inputs_from": f"Tests/ModelsTests/Fixtures/logits-{name}.json",
        "inputs_sha256": sha256_file(gold_path),
        "model": {
            "name": name, "file": name + ".gguf", "sha256": sha256_file(path),
            "size_bytes": os.path.getsize(path), "architecture": arch, "n_vocab": n_vocab,
            "hf_class": type(model).__name__, "hf_model_type": model.config.model_type,
        },
        "reference": {
            "runtime": "PyTorch CPU, transformers eager attention, float32 weights and arithmetic",
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "accelerate": importlib.metadata.version("accelerate"),
            "gguf_py": importlib.metadata.version("gguf"),
            "numpy": np.__version__,
            "torch_threads": torch.get_num_threads(),
            "load": ("AutoModelForCausalLM.from_pretrained(models_dir, gguf_file=..., "
                     "dtype=torch.float32, attn_implementation='eager'); transformers' legacy GGUF "
                     "loader dequantizes every tensor with gguf-py to float32"),
            "prompt_eval": "one forward over the whole prompt (no chunking), DynamicCache in float32",
            "decode": "one token per forward on that cache",
            "weights_check": weights,
            "constants": constants,
            "self_checks": {
                "determinism": f"{first} re-evaluated: last logits bitwise identical",
                "cache_vs_recompute": {
                    "prompt": longest,
                    "what": "logits of greedy step 31 from the cached decode vs one uncached forward "
                            "over prompt + the 31 generated ids",
                    "max_abs_diff": sig(cache_diff),
                },
            },
        },
        "conventions": {
            "inputs": "prompt_ids and sample_ids exactly as in the llama.cpp golden (inputs_from)",
            "last": ("logits of the last prompt position: top_ids/top_logits (top-64, descending, "
                     "ties by ascending id), sample_logits aligned with sample_ids, logsumexp of "
                     "the full row (float64 over the float32 logits), argmax"),
            "greedy": (f"{N_GEN} steps; step 0 uses the prompt's last logits, step k>0 the logits "
                       "after feeding ids[k-1]; argmax with ties to the lowest id; no sampling; "
                       "does not stop at EOG tokens (is_eog flags them, llama.cpp vocab); margins = "
                       "top1 - top2 logit before rounding; top_ids/top_logits = top-8 per step; "
                       "text = llama.cpp detokenize(ids, special=True)"),
            "vs_llama_cpp": ("last_*: over the 64 + 512 logits the llama.cpp golden recorded at the "
                             "last prompt position (its top-64 ids and sample_ids); _logprob: after "
                             "subtracting each side's logsumexp; greedy_top8_max_abs_diff_same_context: "
                             "llama.cpp's per-step top-8 logits vs torch's logits at those ids, over "
                             "the steps 0..first_diff whose context is identical"),
            "rounding": f"all logits, logsumexps, margins and diffs rounded to {SIG_DIGITS} significant digits",
        },
        "sample_ids": [int(i) for i in sample_ids],
        "prompts": out_prompts,
        "vs_llama_cpp": {
            "max_last_abs_diff": max(c["last_max_abs_diff"] for c in comparisons),
            "max_last_abs_diff_logprob": max(c["last_max_abs_diff_logprob"] for c in comparisons),
            "argmax_agree": sum(c["argmax_agree"] for c in comparisons),
            "greedy_equal": sum(c["greedy_equal"] for c in comparisons),
            "n_prompts": len(comparisons),
            "per_prompt": comparisons,
        },
    }
    out_path = os.path.join(FIXTURES, f"torch-logits-{name}.json")
    with open(out_path, "w") as f:
        f.write(dumps(doc) + "\n")
    print(f"[{name}] wrote {out_path} ({os.path.getsize(out_path)} bytes)", flush=True)


def main():
    torch.set_num_threads(N_THREADS)
    torch.manual_seed(0)
    models_dir = os.environ.get("RMAS_MODELS_DIR", os.path.expanduser("~/.cache/rmas/models"))
    names = sys.argv[1:] or MODELS
    for name in names:
        if name not in MODELS:
            raise SystemExit(f"unknown model {name}; known: {MODELS}")
        make_model(name, models_dir)


if __name__ == "__main__":
    main()
