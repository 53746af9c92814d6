#!/usr/bin/env python3
"""Chat-template goldens for Tests/TokenizationTests/ChatTemplateTests.swift.

Pinned reference versions: Python 3, gguf==0.19.0, jinja2==3.1.6 (numpy as gguf-py needs).

Exact command (from the package root; models as in /work/ref/models or $RMAS_MODELS_DIR):

    . /work/ref/venv/bin/activate
    RMAS_MODELS_DIR=/work/ref/models python Tools/golden/make_chat_golden.py \
        > Tests/TokenizationTests/Fixtures/chat_golden.json

What it does: for each model it reads the GGUF's own `tokenizer.chat_template` with gguf-py and
renders it with jinja2 the way Hugging Face's `apply_chat_template` does (sandboxed environment,
trim_blocks, lstrip_blocks, loop controls, a `raise_exception` global, special tokens passed as
variables). Gemma 3's GGUF carries no chat template, so for it the template below
(GEMMA3_HANDWRITTEN_TEMPLATE) is rendered instead: it is written for this project to express the
published Gemma 3 turn format and is marked as such in the output ("template_source").
A conversation the template rejects (raise_exception) is recorded with "error" instead of
"expected".
"""
import hashlib
import importlib.metadata
import json
import os
import sys

import gguf
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

MODELS = ["smollm2-135m", "qwen2.5-0.5b", "gemma3-270m"]

# Written for this project (not taken from the model release): the published Gemma 3 turn format.
#  - starts with the BOS text;
#  - an optional leading system message is folded into the first user turn as
#    "<system content>\n\n<user content>";
#  - after that, roles must alternate user/assistant/user/...; "assistant" is written "model";
#  - each turn's content is stripped of surrounding whitespace (Jinja `trim`);
#  - each turn is "<start_of_turn>ROLE\nCONTENT<end_of_turn>\n";
#  - the generation prompt is "<start_of_turn>model\n".
GEMMA3_HANDWRITTEN_TEMPLATE = """\
{{- bos_token -}}
{%- if messages and messages[0]['role'] == 'system' -%}
    {%- set folded_system = messages[0]['content'] + '\\n\\n' -%}
    {%- set turns = messages[1:] -%}
{%- else -%}
    {%- set folded_system = '' -%}
    {%- set turns = messages -%}
{%- endif -%}
{%- for m in turns -%}
    {%- if m['role'] == 'system' -%}
        {{- raise_exception('a system message may only come first') -}}
    {%- endif -%}
    {%- if (m['role'] == 'user') != (loop.index0 is even) -%}
        {{- raise_exception('roles must alternate user/assistant starting with user') -}}
    {%- endif -%}
    {{- '<start_of_turn>' + ('model' if m['role'] == 'assistant' else m['role']) + '\\n' -}}
    {%- if loop.first -%}{{- folded_system -}}{%- endif -%}
    {{- m['content'] | trim -}}
    {{- '<end_of_turn>\\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{- '<start_of_turn>model\\n' -}}
{%- endif -%}
"""

CONVERSATIONS = {
    "single_user": [
        {"role": "user", "content": "Hello!"},
    ],
    "system_single": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+2?"},
    ],
    # >= 3 user/assistant turns, newlines and unicode (accents, CJK, emoji, a combining mark
    # that must not be normalised away: "e\u0301").
    "multi_turn": [
        {"role": "user", "content": "Écris un haïku sur la mer 🌊\nen trois lignes."},
        {"role": "assistant", "content": "Vagues d'argent\nle vent se tait —\nle sel reste."},
        {"role": "user", "content": "日本語で？"},
        {"role": "assistant", "content": "銀の波\n風は黙りて\n塩残る"},
        {"role": "user", "content": "Merci, cafe\u0301 ☕ !"},
    ],
    # system + multi-turn ending with an assistant turn; content padded with ASCII and Unicode
    # whitespace (Gemma trims turns as Python str.strip() does: U+3000, U+00A0, U+001F).
    "multi_turn_system": [
        {"role": "system", "content": "Answer in English.\nBe brief."},
        {"role": "user", "content": "  Name a prime.\n"},
        {"role": "assistant", "content": "\n7\n\n"},
        {"role": "user", "content": "\u3000Another one,\tplease.\u00a0\u001f"},
        {"role": "assistant", "content": "11"},
    ],
    # A system message after the start: ChatML renders it as a system turn; Gemma 3 rejects it.
    "system_mid": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "system", "content": "Switch to French."},
        {"role": "user", "content": "How are you?"},
    ],
    # Only a system message: ChatML writes it; Gemma 3 has no user turn to fold it into.
    "system_only": [
        {"role": "system", "content": "Be kind."},
    ],
    # Two user turns in a row: fine for ChatML, rejected by Gemma 3.
    "consecutive_users": [
        {"role": "user", "content": "First."},
        {"role": "user", "content": "Second."},
    ],
}


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def make_env():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    return env


def field_string(reader, key):
    field = reader.fields.get(key)
    return None if field is None else field.contents()


def token_text(reader, key):
    token_id = field_string(reader, key)
    if token_id is None:
        return ""
    return reader.fields["tokenizer.ggml.tokens"].contents(int(token_id))


def main():
    models_dir = os.environ.get("RMAS_MODELS_DIR", os.path.expanduser("~/.cache/rmas/models"))
    env = make_env()
    models = []
    cases = []
    for name in MODELS:
        reader = gguf.GGUFReader(os.path.join(models_dir, name + ".gguf"))
        gguf_template = field_string(reader, "tokenizer.chat_template")
        source = gguf_template
        if source is not None:
            template_source = "gguf tokenizer.chat_template"
        else:
            source = GEMMA3_HANDWRITTEN_TEMPLATE
            template_source = ("HANDWRITTEN in Tools/golden/make_chat_golden.py: the published "
                               "Gemma 3 turn format; the GGUF has no tokenizer.chat_template")
        template = env.from_string(source)
        bos = token_text(reader, "tokenizer.ggml.bos_token_id")
        eos = token_text(reader, "tokenizer.ggml.eos_token_id")
        add_bos = field_string(reader, "tokenizer.ggml.add_bos_token")
        models.append({
            "name": name,
            "architecture": field_string(reader, "general.architecture"),
            "template_source": template_source,
            "template_sha256": hashlib.sha256(source.encode("utf-8")).hexdigest(),
            # The GGUF's own template text (null when it has none), so template detection can be
            # tested without the model files.
            "gguf_chat_template": gguf_template,
            "bos_token": bos,
            "eos_token": eos,
            "add_bos_token": bool(add_bos) if add_bos is not None else None,
        })
        for conv_name, messages in CONVERSATIONS.items():
            for add_generation_prompt in (True, False):
                case = {"model": name, "conversation": conv_name,
                        "add_generation_prompt": add_generation_prompt}
                try:
                    case["expected"] = template.render(
                        messages=messages, add_generation_prompt=add_generation_prompt,
                        bos_token=bos, eos_token=eos)
                except jinja2.exceptions.TemplateError as error:
                    case["error"] = str(error)
                cases.append(case)
    golden = {
        "generator": "Tools/golden/make_chat_golden.py",
        "versions": {"gguf": importlib.metadata.version("gguf"),
                     "jinja2": jinja2.__version__},
        "note": ("expected strings are the full template output, including any BOS text the "
                 "template writes (Gemma 3: '<bos>')."),
        "models": models,
        "conversations": CONVERSATIONS,
        "cases": cases,
    }
    json.dump(golden, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
