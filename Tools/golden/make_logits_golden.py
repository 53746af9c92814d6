#!/usr/bin/env python3
"""Forward-pass fidelity goldens from llama.cpp (the independent reference runtime).

Pinned reference versions (CPU only):
    Python 3.11, llama-cpp-python==0.3.36 (built from the sdist for the native CPU),
    gguf==0.19.0, numpy==2.4.6, jinja2==3.1.6

Exact command (from the package root; models as in /work/ref/models or $RMAS_MODELS_DIR):

    . /work/ref/venv/bin/activate
    RMAS_MODELS_DIR=/work/ref/models python Tools/golden/make_logits_golden.py

It writes Tests/ModelsTests/Fixtures/logits-<model>.json for smollm2-135m, qwen2.5-0.5b and
gemma3-270m (pass model names as arguments to do only some of them). The output does not depend
on the run (no timestamps, fixed seeds, 2 threads); the script re-evaluates two prompts at the
end and fails unless their logits are bitwise identical to the first evaluation.

What it does, per model, for every prompt of Tools/golden/logits_prompts.json:
  * prompt text: format "raw" is used as is; format "chat" is rendered with the GGUF's own
    `tokenizer.chat_template` through jinja2 the way Hugging Face's apply_chat_template does
    (sandboxed environment, trim_blocks, lstrip_blocks, loop controls, `raise_exception`,
    add_generation_prompt=True, bos_token/eos_token texts passed in). Gemma 3's GGUF has no
    template, so it gets the plain Gemma 3 turn format
    "<start_of_turn>user\\n...<end_of_turn>\\n<start_of_turn>model\\n" (a leading system message is
    folded into the first user turn as "SYSTEM\\n\\nUSER", contents stripped, as in
    make_chat_golden.py) WITHOUT a "<bos>" text: BOS comes from the tokenizer instead.
  * tokens: llama.cpp's own tokenizer, llm.tokenize(text.encode(), add_bos=<GGUF
    tokenizer.ggml.add_bos_token: gemma3 True, SmolLM2/Qwen2.5 False>, special=True).
  * prompt evaluation: one fresh KV cache, llm.eval(prompt_ids) in n_batch=512 chunks; the logits
    of the LAST prompt position are read with llama_get_logits_ith(ctx, -1). Recorded: top-64
    (id, logit), the logits at 512 fixed token ids (model-level `sample_ids`, drawn once with
    numpy default_rng(SAMPLE_SEED), sorted, the same for every prompt of the model), the
    logsumexp of the full vocabulary row (float64 over the float32 logits), and the argmax.
  * greedy decoding of 32 new tokens, one token per llm.eval call (the KV-cache decode path):
    argmax of the float32 logits (ties go to the lowest id), no sampling, no penalties. It does
    NOT stop at end-of-generation tokens: it always runs 32 steps and flags EOG steps
    (`is_eog`). Per step: chosen id, margin = top1 - top2 logit, top-8 (id, logit), logsumexp.
Logits are written rounded to 7 significant digits; margins are computed before rounding.

Weights stay in the plain CPU buffer: llama_model_params.use_extra_bufts=False, i.e. no AMX and no
CPU_REPACK re-layout (llama-cpp-python has no argument for it, so load_llama() patches the
default model params). Reason: on the 2-core build VM (Xeon with AMX_INT8, Firecracker kernel
6.18) the AMX buffer type makes every multi-token llama_decode segfault; the plain path is also
the simplest, most portable reference numerics (ggml vec_dot / llamafile sgemm).
"""
import glob
import hashlib
import importlib.metadata
import json
import math
import io
import os
import re
import sys
import time

import gguf
import jinja2
import llama_cpp
import llama_cpp._logger as llama_logger
import numpy as np
from jinja2.sandbox import ImmutableSandboxedEnvironment
from llama_cpp import Llama

MODELS = ["smollm2-135m", "qwen2.5-0.5b", "gemma3-270m"]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PROMPTS_PATH = os.path.join(HERE, "logits_prompts.json")
OUT_DIR = os.path.join(ROOT, "Tests", "ModelsTests", "Fixtures")

# Settings that affect numerics. Flash attention off, f16 K and V cache (llama.cpp's default,
# set explicitly), 2 threads for both batch and single-token evaluation.
SETTINGS = dict(n_ctx=2048, n_batch=512, n_ubatch=512, n_threads=2, n_threads_batch=2,
                seed=0, flash_attn=False, logits_all=False,
                type_k=llama_cpp.GGML_TYPE_F16, type_v=llama_cpp.GGML_TYPE_F16,
                use_mmap=True, n_gpu_layers=0, verbose=False)
SAMPLE_SEED = 20250101
N_SAMPLE = 512
TOP_K = 64
STEP_TOP_K = 8
N_GEN = 32
SIG_DIGITS = 7
COMMAND = ("RMAS_MODELS_DIR=/work/ref/models python Tools/golden/make_logits_golden.py "
           "(in /work/ref/venv)")


def sig(x):
    return float(f"{float(x):.{SIG_DIGITS}g}")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- prompt rendering
def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def make_env():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    return env


def render_gemma3(messages):
    """Plain Gemma 3 turn format, no BOS text (the tokenizer adds BOS)."""
    folded = ""
    turns = messages
    if messages and messages[0]["role"] == "system":
        folded = messages[0]["content"] + "\n\n"
        turns = messages[1:]
    out = []
    for i, m in enumerate(turns):
        if m["role"] == "system" or (m["role"] == "user") != (i % 2 == 0):
            raise ValueError("gemma3: roles must alternate user/assistant after one system")
        role = "model" if m["role"] == "assistant" else m["role"]
        content = (folded if i == 0 else "") + m["content"].strip()
        out.append(f"<start_of_turn>{role}\n{content}<end_of_turn>\n")
    out.append("<start_of_turn>model\n")
    return "".join(out)


class ModelMeta:
    def __init__(self, path):
        reader = gguf.GGUFReader(path)

        def field(key):
            f = reader.fields.get(key)
            return None if f is None else f.contents()

        def token_text(key):
            tid = field(key)
            return "" if tid is None else reader.fields["tokenizer.ggml.tokens"].contents(int(tid))

        self.architecture = field("general.architecture")
        self.chat_template = field("tokenizer.chat_template")
        self.add_bos = bool(field("tokenizer.ggml.add_bos_token"))
        self.bos_id = field("tokenizer.ggml.bos_token_id")
        self.eos_id = field("tokenizer.ggml.eos_token_id")
        self.bos_text = token_text("tokenizer.ggml.bos_token_id")
        self.eos_text = token_text("tokenizer.ggml.eos_token_id")
        self.sliding_window = field(f"{self.architecture}.attention.sliding_window")


def render(prompt, meta, env):
    if prompt["format"] == "raw":
        return prompt["text"], "raw"
    if meta.chat_template is None:
        return render_gemma3(prompt["messages"]), "plain Gemma 3 turn format (GGUF has no template)"
    text = env.from_string(meta.chat_template).render(
        messages=prompt["messages"], add_generation_prompt=True,
        bos_token=meta.bos_text, eos_token=meta.eos_text)
    return text, "gguf tokenizer.chat_template"


# ---------------------------------------------------------------- llama.cpp access
def load_llama(path):
    """Llama(...) with use_extra_bufts=False (see the module docstring), and llama.cpp's
    own account of the model (parsed from its load log)."""
    import llama_cpp.llama as llama_module
    original = llama_module.llama_cpp.llama_model_default_params

    def patched():
        params = original()
        params.use_extra_bufts = False
        return params

    # Load verbosely with stderr captured, to record what llama.cpp itself derived from the
    # GGUF (hyper-parameters it defaults, EOG tokens, sliding-window layers, context settings).
    llama_module.llama_cpp.llama_model_default_params = patched
    captured = io.StringIO()
    saved_stderr = sys.stderr
    sys.stderr = captured
    try:
        llm = Llama(model_path=path, **dict(SETTINGS, verbose=True))
    finally:
        sys.stderr = saved_stderr
        llama_module.llama_cpp.llama_model_default_params = original
        llama_logger.set_verbose(False)
    llm.verbose = False
    if llm.model_params.use_extra_bufts:
        raise SystemExit("could not disable use_extra_bufts")
    return llm, parse_llama_log(captured.getvalue())


def parse_llama_log(text):
    info = {"print_info": {}, "eog_tokens": [], "swa_layers": [], "context": {}, "kv_cache": []}
    for line in text.splitlines():
        m = re.match(r"print_info: (.+?)\s*=\s*(.*)$", line)
        if m:
            key, value = m.group(1).strip(), m.group(2).strip()
            if key == "EOG token":
                info["eog_tokens"].append(value)
            elif key not in ("file size",):
                info["print_info"].setdefault(key, value)
            continue
        m = re.match(r"load_tensors: layer\s+(\d+) assigned to device \w+, is_swa = 1", line)
        if m:
            info["swa_layers"].append(int(m.group(1)))
            continue
        m = re.match(r"llama_context: (\w+)\s*=\s*(.*)$", line)
        if m:
            info["context"][m.group(1)] = m.group(2).strip()
            continue
        if re.match(r"llama_kv_cache(_iswa)?: (size|using|creating)", line):
            info["kv_cache"].append(line.strip())
    return info


def last_logits(llm):
    ptr = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).astype(np.float32, copy=True)


def fresh(llm):
    llm.reset()
    mem = llama_cpp.llama_get_memory(llm._ctx.ctx)
    llama_cpp.llama_memory_clear(mem, True)


def logsumexp(x):
    x = x.astype(np.float64)
    m = float(x.max())
    return m + math.log(float(np.exp(x - m).sum()))


def top(x, k):
    # stable sort on -x: ties ordered by ascending id
    idx = np.argsort(-x, kind="stable")[:k]
    return [int(i) for i in idx], [sig(x[i]) for i in idx]


def run_prompt(llm, ids, sample_ids):
    fresh(llm)
    llm.eval(ids)
    logits = last_logits(llm)
    prefill_raw = logits.copy()
    top_ids, top_logits = top(logits, TOP_K)
    last = {
        "argmax": int(np.argmax(logits)),
        "top_ids": top_ids,
        "top_logits": top_logits,
        "sample_logits": [sig(v) for v in logits[sample_ids]],
        "logsumexp": sig(logsumexp(logits)),
    }
    vocab = llm._model.vocab
    steps = {"ids": [], "margins": [], "is_eog": [], "top_ids": [], "top_logits": [],
             "logsumexp": []}
    for step in range(N_GEN):
        tid = int(np.argmax(logits))  # first maximal index: lowest id on ties
        order = np.argsort(-logits, kind="stable")[:STEP_TOP_K]
        steps["ids"].append(tid)
        steps["margins"].append(sig(float(logits[order[0]]) - float(logits[order[1]])))
        steps["is_eog"].append(bool(llama_cpp.llama_vocab_is_eog(vocab, tid)))
        steps["top_ids"].append([int(i) for i in order])
        steps["top_logits"].append([sig(logits[i]) for i in order])
        steps["logsumexp"].append(sig(logsumexp(logits)))
        if step + 1 < N_GEN:
            llm.eval([tid])
            logits = last_logits(llm)
    steps["text"] = llm.detokenize(steps["ids"], special=True).decode("utf-8", errors="replace")
    return last, steps, prefill_raw


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


def lib_versions():
    libdir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
    out = {}
    for name in ("libllama.so", "libggml.so", "libggml-cpu.so"):
        full = sorted(glob.glob(os.path.join(libdir, name + ".*.*.*")))
        out[name] = os.path.basename(full[-1])[len(name) + 1:] if full else None
    return out


def make_model(name, models_dir, prompts, env):
    path = os.path.join(models_dir, name + ".gguf")
    meta = ModelMeta(path)
    llm, llama_log = load_llama(path)
    n_vocab = llm.n_vocab()
    rng = np.random.default_rng(SAMPLE_SEED)
    sample_ids = np.sort(rng.choice(n_vocab, size=N_SAMPLE, replace=False))
    cp = llm.context_params
    settings = {
        "n_ctx": llm.n_ctx(), "n_batch": llm.n_batch, "n_ubatch": cp.n_ubatch,
        "n_threads": cp.n_threads, "n_threads_batch": cp.n_threads_batch,
        "flash_attn": "disabled" if cp.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        else str(cp.flash_attn_type),
        "type_k": "f16" if cp.type_k == llama_cpp.GGML_TYPE_F16 else int(cp.type_k),
        "type_v": "f16" if cp.type_v == llama_cpp.GGML_TYPE_F16 else int(cp.type_v),
        "swa_full": bool(cp.swa_full), "offload_kqv": bool(cp.offload_kqv),
        "rope_freq_base_override": cp.rope_freq_base, "rope_freq_scale_override": cp.rope_freq_scale,
        "n_gpu_layers": 0, "use_mmap": True, "seed": 0,
        "use_extra_bufts": False,
        "weights_layout": "plain CPU buffer as stored in the GGUF (no AMX, no CPU_REPACK)",
        "logits": "only requested outputs (logits_all=False); last prompt position read with "
                  "llama_get_logits_ith(ctx, -1)",
        "prompt_eval": "llm.eval(prompt_ids): chunks of n_batch=512 tokens, then one token per "
                       "call while decoding",
    }
    out_prompts = []
    raw_by_id = {}
    t0 = time.time()
    for p in prompts:
        text, source = render(p, meta, env)
        ids = llm.tokenize(text.encode("utf-8"), add_bos=meta.add_bos, special=True)
        if len(ids) + N_GEN > llm.n_ctx():
            raise SystemExit(f"{name}/{p['id']}: {len(ids)} tokens does not fit")
        last, steps, raw = run_prompt(llm, ids, sample_ids)
        raw_by_id[p["id"]] = (ids, raw)
        entry = {"id": p["id"], "format": p["format"], "purpose": p.get("purpose", "")}
        if p["format"] == "chat":
            entry["messages"] = p["messages"]
            entry["template_source"] = source
        entry.update({"text": text, "n_prompt_tokens": len(ids), "prompt_ids": [int(i) for i in ids],
                      "last": last, "greedy": steps})
        out_prompts.append(entry)
        print(f"[{name}] {p['id']}: {len(ids)} tokens, min margin "
              f"{min(steps['margins']):.4g}, eog at "
              f"{[i for i, e in enumerate(steps['is_eog']) if e]}\n    -> {steps['text']!r}",
              flush=True)
    # determinism self-check: the first and the longest prompt again, bitwise
    longest = max(out_prompts, key=lambda e: e["n_prompt_tokens"])["id"]
    for pid in dict.fromkeys([out_prompts[0]["id"], longest]):
        ids, raw = raw_by_id[pid]
        fresh(llm)
        llm.eval(ids)
        again = last_logits(llm)
        if not np.array_equal(raw, again):
            raise SystemExit(f"{name}/{pid}: re-evaluation differs (max abs diff "
                             f"{float(np.abs(raw - again).max())})")
    elapsed = time.time() - t0
    all_margins = [(m, e["id"], i) for e in out_prompts for i, m in enumerate(e["greedy"]["margins"])]
    doc = {
        "generator": "Tools/golden/make_logits_golden.py",
        "command": COMMAND,
        "prompt_set": "Tools/golden/logits_prompts.json",
        "model": {
            "name": name, "file": name + ".gguf", "sha256": sha256_file(path),
            "size_bytes": os.path.getsize(path), "architecture": meta.architecture,
            "n_vocab": n_vocab, "add_bos": meta.add_bos, "bos_id": meta.bos_id,
            "eos_id": meta.eos_id, "sliding_window": meta.sliding_window,
            "has_chat_template": meta.chat_template is not None,
        },
        "llama_cpp_model_info": llama_log,
        "reference": {
            "runtime": "llama.cpp via llama-cpp-python (CPU backend)",
            "llama_cpp_python": importlib.metadata.version("llama_cpp_python"),
            "lib_versions": lib_versions(),
            "gguf_py": importlib.metadata.version("gguf"),
            "numpy": np.__version__, "jinja2": jinja2.__version__,
            "system_info": llama_cpp.llama_print_system_info().decode().strip(),
            "settings": settings,
            "determinism": ("the first and the longest prompt were re-evaluated in the same run "
                            "and their last-position logits were bitwise identical"),
        },
        "conventions": {
            "tokenize": f"llm.tokenize(text.encode('utf-8'), add_bos={meta.add_bos}, special=True)",
            "last": ("logits of the last prompt position: top_ids/top_logits (top-64, descending, "
                     "ties by ascending id), sample_logits aligned with sample_ids, logsumexp of "
                     "the full row (float64 over the float32 logits), argmax"),
            "sample_ids": (f"{N_SAMPLE} distinct ids: np.sort(np.random.default_rng({SAMPLE_SEED})"
                           f".choice(n_vocab, size={N_SAMPLE}, replace=False))"),
            "greedy": (f"{N_GEN} steps; step 0 uses the prompt's last logits, step k>0 the logits "
                       "after feeding ids[k-1]; argmax with ties to the lowest id; no sampling, no "
                       "penalties; does not stop at EOG tokens (is_eog flags them); margins = "
                       "top1 - top2 logit before rounding; top_ids/top_logits = top-8 per step; "
                       "text = llama.cpp detokenize(ids, special=True)"),
            "rounding": f"all logits, logsumexps and margins rounded to {SIG_DIGITS} significant digits",
        },
    }
    if meta.sliding_window:
        doc["conventions"]["sliding_window"] = (
            f"llama.cpp LLAMA_SWA_TYPE_STANDARD on the layers in llama_cpp_model_info.swa_layers: "
            f"a query at position p attends keys at positions p-{meta.sliding_window - 1}..p "
            f"(masked when p - key_pos >= {meta.sliding_window}); the other layers are global; "
            f"full-size SWA cache (swa_full), so nothing is evicted")
    doc.update({
        "summary": {
            "n_prompts": len(out_prompts),
            "prompt_tokens": {e["id"]: e["n_prompt_tokens"] for e in out_prompts},
            "smallest_margins": [{"margin": m, "prompt": pid, "step": s}
                                 for m, pid, s in sorted(all_margins)[:5]],
        },
        "sample_ids": [int(i) for i in sample_ids],
        "prompts": out_prompts,
    })
    os.makedirs(OUT_DIR, exist_ok=True)
    out_path = os.path.join(OUT_DIR, f"logits-{name}.json")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(dumps(doc))
        f.write("\n")
    print(f"[{name}] wrote {os.path.relpath(out_path, ROOT)} "
          f"({os.path.getsize(out_path)} bytes) in {elapsed:.1f} s", flush=True)
    llm.close()


def main():
    models_dir = os.environ.get("RMAS_MODELS_DIR", os.path.expanduser("~/.cache/rmas/models"))
    names = sys.argv[1:] or MODELS
    for n in names:
        if n not in MODELS:
            raise SystemExit(f"unknown model {n}; expected one of {MODELS}")
    with open(PROMPTS_PATH, encoding="utf-8") as f:
        prompts = json.load(f)["prompts"]
    env = make_env()
    for n in names:
        make_model(n, models_dir, prompts, env)


if __name__ == "__main__":
    main()
