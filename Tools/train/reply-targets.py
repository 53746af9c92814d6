#!/usr/bin/env python3
"""Training rows whose target is a model's own correct reply (rejection sampling of greedy
replies, as in STaR / rejection-sampling fine-tuning), for Tools/train/self-targets.sh and
Tools/train/distillation-system.sh.

Usage: reply-targets.py LABEL ROWS OUTCOMES OUT
  ROWS      the JSONL rows a `rmas compare --methods single` run answered (its --data)
  OUTCOMES  that run's outcomes.jsonl
  OUT       each correctly answered row, in row order, with `answer` replaced by the reply
Prints how many of the answered rows were right. Standard library only.
"""
import json
import sys


def main():
    label, rows_file, outcomes_file, out = sys.argv[1:5]
    rows = open(rows_file).read().splitlines()
    kept, answered = [], set()
    for line in open(outcomes_file):
        o = json.loads(line)
        if o["method"] == "single":
            answered.add(o["index"])
        if o["method"] != "single" or not o["correct"]:
            continue
        row = json.loads(rows[o["index"]])
        assert str(row["final_answer"]) == o["expected"], (row, o["expected"])
        row["answer"] = o["stages"][-1]["text"]
        kept.append((o["index"], json.dumps(row)))
    kept.sort()
    open(out, "w").write("".join(r + "\n" for _, r in kept))
    print("%s: %d of %d answered rows correct (%d rows in %s)" % (label, len(kept), len(answered), len(rows), rows_file))


if __name__ == "__main__":
    main()
