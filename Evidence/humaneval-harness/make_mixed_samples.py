#!/usr/bin/env python3
"""Writes mixed.jsonl: one sample per HumanEval problem, cycling through the canonical solution, a
wrong return, an exception or an endless loop, and an empty body — so that a harness must tell
passed, failed and timed out apart. Standard library only.
Usage: python3 make_mixed_samples.py HumanEval.jsonl > mixed.jsonl"""
import json, sys

for i, line in enumerate(open(sys.argv[1])):
    r = json.loads(line)
    m = i % 4
    if m == 0:
        c = r["canonical_solution"]
    elif m == 1:
        c = "    return None\n"
    elif m == 2:
        c = "    while True:\n        pass\n" if i % 8 == 2 else "    raise ValueError('nope')\n"
    else:
        c = r["canonical_solution"] if i % 3 else "    pass\n"
    print(json.dumps({"task_id": r["task_id"], "completion": c}))
