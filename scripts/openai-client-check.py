#!/usr/bin/env python3
"""Checks an `rmas serve` server with the official `openai` client (pinned in .ci/run: openai==3.57.0).

usage: openai-client-check.py BASE_URL SYSTEM_MODEL BASE_MODEL [API_KEY]

Lists models, completes a chat with a system and with a base model, streams one (content chunks,
stage events in the `rmas` extension field, usage and timings in the last chunk), and checks that
an unknown model and a wrong key raise the client's NotFoundError and AuthenticationError.
Prints one line per check and exits non-zero on the first failure.
"""
import sys

import openai


def check(condition, text):
    print(("ok   " if condition else "FAIL ") + text)
    if not condition:
        sys.exit(1)


def main():
    base, system, model = sys.argv[1], sys.argv[2], sys.argv[3]
    key = sys.argv[4] if len(sys.argv) > 4 else "unused"
    client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=900)

    ids = [m.id for m in client.models.list()]
    check(system in ids and model in ids, f"models.list() names {system} and {model}: {ids}")

    for name in (system, model):
        reply = client.chat.completions.create(
            model=name, messages=[{"role": "user", "content": "What is 2 + 3?"}], max_tokens=8)
        check(reply.object == "chat.completion" and reply.choices[0].message.role == "assistant",
              f"{name}: chat.completion with an assistant message")
        check(reply.usage.completion_tokens >= 1 and reply.usage.prompt_tokens > 0,
              f"{name}: usage {reply.usage.prompt_tokens} prompt + {reply.usage.completion_tokens} completion tokens")
        timings = (reply.model_extra or {}).get("timings")
        check(isinstance(timings, list) and len(timings) >= 1, f"{name}: {len(timings or [])} per-stage timings")

    stream = client.chat.completions.create(
        model=system, messages=[{"role": "user", "content": "What is 2 + 3?"}], max_tokens=8, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    stages = [c.model_extra.get("rmas") for c in chunks if c.model_extra and c.model_extra.get("rmas")]
    check(len(chunks) >= 3 and chunks[-1].usage is not None, f"stream: {len(chunks)} chunks, usage in the last")
    check(any(s.get("event") == "stage_started" for s in stages), f"stream: {len(stages)} stage events")
    check(chunks[-1].choices[0].finish_reason in ("stop", "length"), f"stream: finish_reason {chunks[-1].choices[0].finish_reason}, text {text!r}")

    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
        check(False, "unknown model raises NotFoundError")
    except openai.NotFoundError as error:
        check(error.status_code == 404, "unknown model raises NotFoundError (404)")

    if len(sys.argv) > 4:
        wrong = openai.OpenAI(base_url=base + "/v1", api_key=key + "x", max_retries=0, timeout=900)
        try:
            wrong.models.list()
            check(False, "a wrong key raises AuthenticationError")
        except openai.AuthenticationError as error:
            check(error.status_code == 401, "a wrong key raises AuthenticationError (401)")


if __name__ == "__main__":
    main()
