#!/usr/bin/env python3
"""Tokenizer goldens for Tests/TokenizationTests (llama.cpp's token ids for the corpus).

Pinned reference versions: Python 3.11, llama-cpp-python==0.3.36 (built from its sdist, which
vendors the llama.cpp sources it runs), gguf==0.19.0, numpy.

Exact command (from the package root; models as in /work/ref/models or $RMAS_MODELS_DIR):

    . /work/ref/venv/bin/activate
    RMAS_MODELS_DIR=/work/ref/models python Tools/golden/make_tokenizer_golden.py

It writes Tests/TokenizationTests/Fixtures/tokens-<name>.json for each model below. For every
string of tokenizer_corpus.CORPUS, llama.cpp (loaded with vocab_only) is asked for:
  - "ids":           llama_tokenize(add_special=False, parse_special=True)
  - "ids_plain":     llama_tokenize(add_special=False, parse_special=False)
  - "ids_special":   llama_tokenize(add_special=True,  parse_special=True) (adds BOS if the model does)
  - "detokenized":   llama_detokenize("ids", remove_special=False, unparse_special=True)
  - "detokenized_plain": the same with unparse_special=False
Detokenized bytes that are not valid UTF-8 are stored as "detokenized_hex" instead.
Per file it also records the model's sha256, the llama-cpp-python version, bos/eos/eot ids,
add_bos, and the end-of-generation ids (every id for which llama_vocab_is_eog is true).

Two extra fixtures exercise the "gpt-2" and "default" pre-tokenizers, which none of the
models uses: a copy of SmolLM2's GGUF is written to a temporary directory with only its
metadata (no tensors) and `tokenizer.ggml.pre` replaced, and is tokenized the same way
(tokens-smollm2-135m-pre-gpt-2.json, tokens-smollm2-135m-pre-default.json).

The goldens come from llama.cpp only; never edit them by hand or regenerate them from Swift.
"""
import ctypes
import hashlib
import importlib.metadata
import json
import os
import sys
import tempfile

import gguf
import llama_cpp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_corpus import CORPUS  # noqa: E402

MODELS = ["smollm2-135m", "qwen2.5-0.5b", "gemma3-270m"]
PRE_OVERRIDES = [("smollm2-135m", "gpt-2"), ("smollm2-135m", "default")]
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "TokenizationTests", "Fixtures")


def models_dir():
    return os.environ.get("RMAS_MODELS_DIR") or os.path.expanduser("~/.cache/rmas/models")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tokenize(vocab, text, add_special, parse_special):
    data = text.encode("utf-8")
    capacity = len(data) + 16
    buf = (llama_cpp.llama_token * capacity)()
    n = llama_cpp.llama_tokenize(vocab, data, len(data), buf, capacity, add_special, parse_special)
    if n < 0:
        raise RuntimeError(f"llama_tokenize failed ({n}) for {text!r}")
    return list(buf[:n])


def detokenize(vocab, ids, unparse_special):
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    capacity = 64 + 8 * len(ids)
    while True:
        out = ctypes.create_string_buffer(capacity)
        n = llama_cpp.llama_detokenize(vocab, arr, len(ids), out, capacity, False, unparse_special)
        if n >= 0:
            return out.raw[:n]
        capacity = -n + 1


def optional_id(value):
    return None if value < 0 else value


def put_text(entry, key, raw):
    try:
        entry[key] = raw.decode("utf-8")
    except UnicodeDecodeError:
        entry[key + "_hex"] = raw.hex()


def golden(model_path, name, pre_override=None):
    llm = llama_cpp.Llama(model_path=model_path, vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    cases = []
    for text in CORPUS:
        ids = tokenize(vocab, text, False, True)
        entry = {
            "text": text,
            "ids": ids,
            "ids_plain": tokenize(vocab, text, False, False),
            "ids_special": tokenize(vocab, text, True, True),
        }
        put_text(entry, "detokenized", detokenize(vocab, ids, True))
        put_text(entry, "detokenized_plain", detokenize(vocab, ids, False))
        cases.append(entry)
    result = {
        "model": name,
        "tokenizer_pre_override": pre_override,
        "model_sha256": None,
        "llama_cpp_python": importlib.metadata.version("llama-cpp-python"),
        "n_vocab": n_vocab,
        "bos": optional_id(llama_cpp.llama_vocab_bos(vocab)),
        "eos": optional_id(llama_cpp.llama_vocab_eos(vocab)),
        "eot": optional_id(llama_cpp.llama_vocab_eot(vocab)),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "eog_ids": [i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i)],
        "cases": cases,
    }
    del llm
    return result


def metadata_only_copy(src, dst, pre):
    """Writes `src`'s metadata (no tensors) to `dst` with tokenizer.ggml.pre = `pre`."""
    reader = gguf.GGUFReader(src)
    arch = reader.get_field("general.architecture").contents()
    writer = gguf.GGUFWriter(dst, arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        value = pre if field.name == "tokenizer.ggml.pre" else field.contents()
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, value, field.types[0], sub_type=sub_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write(result, file_name):
    path = os.path.normpath(os.path.join(OUT_DIR, file_name))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {path} ({len(result['cases'])} cases)")


def main():
    assert len(CORPUS) == len(set(CORPUS)), "duplicate corpus strings"
    os.makedirs(OUT_DIR, exist_ok=True)
    for name in MODELS:
        path = os.path.join(models_dir(), f"{name}.gguf")
        result = golden(path, name)
        result["model_sha256"] = sha256(path)
        write(result, f"tokens-{name}.json")
    with tempfile.TemporaryDirectory() as tmp:
        for name, pre in PRE_OVERRIDES:
            src = os.path.join(models_dir(), f"{name}.gguf")
            dst = os.path.join(tmp, f"{name}-pre-{pre}.gguf")
            metadata_only_copy(src, dst, pre)
            result = golden(dst, name, pre_override=pre)
            result["model_sha256"] = sha256(src)
            write(result, f"tokens-{name}-pre-{pre}.json")


if __name__ == "__main__":
    main()
