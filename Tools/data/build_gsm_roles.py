#!/usr/bin/env python3
"""Role data (question / plan / refined_plan / answer) from reasoning-gym's GSM-symbolic generators.

Run at data-build time only; nothing in the Swift package needs Python.

Pinned versions:
    Python 3.11.7, reasoning-gym==0.1.25 (Apache-2.0; pure Python, from PyPI)

Exact commands (from the package root):

    pip install --target /tmp/rg reasoning-gym==0.1.25
    PYTHONPATH=/tmp/rg python3 Tools/data/build_gsm_roles.py \
        --out Tools/data/out --sample Tests/RoleDataTests/Fixtures/gsm_symbolic_sample.jsonl

Outputs (rows in the schema of Sources/RoleData/RoleExample.swift, one compact JSON object per
line, keys in schema order, so Swift's RoleJSONL.encodeRow reproduces every line byte for byte):
    OUT/train.jsonl, OUT/test.jsonl   the split (OUT is git-ignored)
    OUT/manifest.json                 versions, seed, split, per-generator counts, sha256 of both files
    --sample FILE                     the first row of every generator (a small committed fixture)

What the items are. reasoning_gym/arithmetic/gsm_symbolic holds 100 hand-written generators, each
a GSM8K test problem turned into a template: it draws names and numbers with a random.Random and
returns the question, the answer (a number as a string) and metadata["answer_cot"], a worked
solution in GSM8K style (one reasoning sentence per line, or numbered sections with bullets,
ending in a line "#### <answer>"), plus the variables. Upstream lists 85 of them as correct
(`tasks_ok`) and 15 as needing fixes; only `tasks_ok` is used. The cot text is the generator's
own: its float formatting ("12.0", "18.083333333333332") and occasional slips (a "$" for a "£")
are kept as they are.

Split rule: generator id g (an integer 0..99, in tasks_ok) goes to the test split when g % 5 == 4
and to the train split otherwise, so no test template is ever seen in training (18 test, 67 train
generators). Item k of generator g is drawn with random.Random(f"{seed}/{g}/{k}") (string seeds
are hashed with SHA-512 by CPython, so this does not depend on PYTHONHASHSEED), for k = 0, 1, …
until the generator has produced --per-train (or --per-test) rows with questions not seen before,
or 20 times that many draws. Rows whose "#### x" line disagrees numerically with the item's
answer are dropped (counted in the manifest).

Derivation rule for the role texts, from the worked solution (cot):
    steps        the cot's lines, stripped; blank lines, the "####" line and a lead-in line
                 "Let's solve this step by step:" are dropped; a numbered section header
                 ("2. Bought at store:") and the bullet lines under it ("• …", "- …") become one
                 step, "Bought at store: <bullet>; <bullet>; …".
    plan         "Step i: <step>" with computed values hidden, so the plan says what to compute
                 but not what it comes to. A computed value is a number right of an "=" that ends
                 an expression (not followed by an operator; an optional $ £ € sign, thousands
                 commas, decimals, a fraction or % included). (1) Every such "= <number>" becomes
                 "= ?"; (2) every other occurrence of a computed value in the steps (a later step
                 reusing it, "... 60 minutes because 44 + 16 = 60", a closing "Therefore, ... 211
                 items") becomes "?", unless the same number also appears in the question, where
                 it may be a given and is kept. Rule (1) also hides a given restated as
                 "Mary = 248 points"; rule (2) keeps a computed value that happens to equal a
                 number of the question.
    refined_plan "Step i: <step>" unmasked: every step with its quantities and values.
    answer       the cot, lines stripped and runs of blank lines collapsed, with the "#### x"
                 line replaced by "The answer is \\boxed{<answer>}." (<answer> is the item's own
                 answer string, e.g. "72" or "1687.5").
    final_answer the item's answer string.
    question     the generator's question. (The dataset class appends "Give the result as your
                 final answer. Do not include units."; we do not, as the solver prompt asks for
                 \\boxed{}.)
"""
import argparse
import hashlib
import importlib.metadata
import json
import pathlib
import re
import sys
from random import Random

try:
    from reasoning_gym.arithmetic.gsm_symbolic import gsm_symbolic
except ImportError as error:  # pragma: no cover - a setup problem, reported plainly
    sys.exit(f"reasoning-gym is not importable ({error}); see the install command at the top of this file")

PINNED_VERSION = "0.1.25"
SOURCE = "reasoning-gym/gsm_symbolic"
FIELD_ORDER = ["question", "plan", "refined_plan", "answer", "final_answer", "type", "fn_name", "source", "generator"]

NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
# "= <number>" ending an expression; group 1 is the number.
RESULT = re.compile(r"=\s*[$£€]?\s*(-?" + NUMBER + r"(?:/\d+)?)%?(?!\d|[.,]\d|\s*[-+*/×÷^])")
# A number standing alone (not part of a word or of a longer number).
TOKEN = re.compile(r"(?<![\w.,])" + NUMBER + r"(?!\w|[.,]\d)")
SECTION = re.compile(r"^\d+\.\s+(.*?):?\s*$")
BULLET = re.compile(r"^[•\-]\s*(.*)$")
LEAD_IN = re.compile(r"^let'?s solve this step by step:?$", re.IGNORECASE)


def is_test_generator(g: int) -> bool:
    """The split rule: every fifth template (id % 5 == 4) is held out for testing."""
    return g % 5 == 4


def steps_of(cot: str) -> list[str]:
    """The reasoning steps of a worked solution (see the module docstring)."""
    steps: list[str] = []
    section: list[str] | None = None
    for raw in cot.splitlines():
        line = raw.strip()
        if not line or line.startswith("####") or LEAD_IN.match(line):
            continue
        header = SECTION.match(line)
        bullet = BULLET.match(line)
        if header:
            section = [header.group(1)]
            steps.append("")
        elif bullet and section is not None:
            section.append(bullet.group(1))
        else:
            section = None
            steps.append(line)
        if section is not None:
            steps[-1] = section[0] + ": " + "; ".join(section[1:]) if len(section) > 1 else section[0]
    return steps


def canonical(number: str) -> str:
    return number.replace(",", "").lstrip("-")


def masked_plan(steps: list[str], question: str) -> str:
    """The plan: steps with computed values hidden (see the module docstring)."""
    computed = {canonical(m.group(1)) for step in steps for m in RESULT.finditer(step)}
    given = {canonical(m.group(0)) for m in TOKEN.finditer(question)}
    hidden = computed - given

    def hide(step: str) -> str:
        step = RESULT.sub("= ?", step)
        return TOKEN.sub(lambda m: "?" if canonical(m.group(0)) in hidden else m.group(0), step)

    return "\n".join(f"Step {i}: {hide(s)}" for i, s in enumerate(steps, 1))


def worked_answer(cot: str, answer: str) -> str:
    lines: list[str] = []
    for raw in cot.splitlines():
        line = raw.strip()
        if line.startswith("####"):
            continue
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    lines.append(f"The answer is \\boxed{{{answer}}}.")
    return "\n".join(lines)


def role_row(item: dict, g: int) -> dict | None:
    cot = item["metadata"]["answer_cot"]
    answer = item["answer"]
    marked = [line.strip() for line in cot.splitlines() if line.strip().startswith("####")]
    if len(marked) != 1 or float(marked[0][4:].strip()) != float(answer):
        return None
    steps = steps_of(cot)
    row = {
        "question": item["question"],
        "plan": masked_plan(steps, item["question"]),
        "refined_plan": "\n".join(f"Step {i}: {s}" for i, s in enumerate(steps, 1)),
        "answer": worked_answer(cot, answer),
        "final_answer": answer,
        "source": SOURCE,
        "generator": f"gsm_symbolic/{g}",
    }
    return {k: row[k] for k in FIELD_ORDER if k in row}


def line_of(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def build(seed: int, per_train: int, per_test: int):
    generators = gsm_symbolic.GSMSymbolicDataset(gsm_symbolic.GSMSymbolicDatasetConfig(seed=seed, size=1)).generators
    splits = {"train": [], "test": []}
    report = {}
    seen: set[str] = set()
    for g in sorted(gsm_symbolic.tasks_ok):
        split = "test" if is_test_generator(g) else "train"
        wanted = per_test if split == "test" else per_train
        rows, dropped, draws = [], 0, 0
        while len(rows) < wanted and draws < 20 * wanted:
            item = generators[g](Random(f"{seed}/{g}/{draws}"), 1.0)
            draws += 1
            if item["question"] in seen:
                continue
            row = role_row(item, g)
            if row is None:
                dropped += 1
                continue
            seen.add(item["question"])
            rows.append(row)
        splits[split].extend(rows)
        report[str(g)] = {"split": split, "rows": len(rows), "draws": draws, "dropped_inconsistent": dropped}
    return splits, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("Tools/data/out"))
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--per-train", type=int, default=30, help="rows per train generator (default 30)")
    parser.add_argument("--per-test", type=int, default=20, help="rows per test generator (default 20)")
    parser.add_argument("--sample", type=pathlib.Path, help="also write the first row of every generator here")
    args = parser.parse_args()
    # The distribution's metadata, not reasoning_gym.__version__: the 0.1.25 wheel still says "0.1.19".
    installed = importlib.metadata.version("reasoning_gym")
    if installed != PINNED_VERSION:
        sys.exit(f"reasoning-gym {installed} is installed; this script is pinned to {PINNED_VERSION}")

    splits, report = build(args.seed, args.per_train, args.per_test)
    args.out.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name, rows in splits.items():
        text = "".join(line_of(r) for r in rows)
        (args.out / f"{name}.jsonl").write_text(text, encoding="utf-8")
        digests[name] = {"rows": len(rows), "bytes": len(text.encode()), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    manifest = {
        "generator_script": "Tools/data/build_gsm_roles.py",
        "python": sys.version.split()[0],
        "reasoning_gym": installed,
        "seed": args.seed,
        "split_rule": "test iff generator id % 5 == 4, over reasoning-gym's tasks_ok",
        "files": digests,
        "generators": report,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    if args.sample:
        firsts = {}
        for rows in splits.values():
            for r in rows:
                firsts.setdefault(r["generator"], r)
        ordered = sorted(firsts.values(), key=lambda r: int(r["generator"].split("/")[1]))
        args.sample.write_text("".join(line_of(r) for r in ordered), encoding="utf-8")
    for name, d in digests.items():
        print(f"{name}: {d['rows']} rows, {d['bytes']} bytes, sha256 {d['sha256']}")
    short = {g: r["rows"] for g, r in report.items() if r["rows"] < (args.per_test if r["split"] == "test" else args.per_train)}
    print(f"generators short of their quota: {short or 'none'}")
    print(f"rows dropped as inconsistent: {sum(r['dropped_inconsistent'] for r in report.values())}")


if __name__ == "__main__":
    main()
