#!/bin/bash
# Retraining the default system at scale (issue 18): the same three agents (planner Qwen2.5-0.5B →
# refiner SmolLM2-135M → solver Qwen2.5-0.5B), inner links whose outputs start at the embeddings'
# scale, the solver reading the question before the refined plan (its slot then comes late, so the
# outer objective skips more backward work), outer links trained at two rounds on 2,835 rows.
#
# Usage: Tools/train/default-system-v2.sh STAGE   (data | inner | outer | rollout | self | prompt | validate | evidence | snapshot)
# LINKS=outer-rollout makes validate and evidence judge the rollout-trained links (outputs tagged -rollout).
# Every stage is resumable: rerun the same command after a kill and it continues from the last
# checkpoint (checkpoints every few steps). Nothing before `evidence` reads the test split
# (`data` only writes it); checkpoints and settings are chosen on the validation split.
#
# A run outlives its machine through `snapshot`, which copies each stage's latest weights (fp16, as
# shipped, no optimizer moments) and its log into Runs/default-system-v2/ for committing. A stage
# whose run directory is missing starts from that snapshot: the same step, data order and learning
# rate schedule, AdamW's moments restarted (bias-corrected) — close to, but not bit-identical with,
# an uninterrupted run. On one machine a resume is exact (full fp32 checkpoints every few steps).
set -euo pipefail
RMAS=${RMAS:-.build/release/rmas}
W=${WORK:-runs/default-system-v2}
T=${THREADS:-2}
STATE=${STATE:-Runs/default-system-v2}
# The links validate and evidence judge: outer (teacher-forced, the reference) or outer-rollout.
LINKS=${LINKS:-outer}
case "$LINKS" in outer) SYSTEM=system-v2 TAG= ;; outer-rollout) SYSTEM=system-v2-rollout TAG=-rollout ;; *) echo "LINKS must be outer or outer-rollout" >&2; exit 2 ;; esac
mkdir -p "$W"
resume() { [ -f "$1/manifest.json" ] && echo --resume || true; }
. "$(dirname "$0")/run-state.sh"
restore() { run_state_restore "$W" "$STATE" "$1"; }

case "${1:-}" in
data)
    # reasoning-gym GSM-symbolic, 45 rows per training template (the first 30 of each are the
    # rows of the default 30-per-template build; test.jsonl is unchanged: sha256 5a4867a5…).
    $RMAS data gsm --out "$W/data" --builder-arguments --per-train=45
    # Validation = 4 whole training templates (every 16th, 180 rows), so validation questions
    # come from templates the links never train on, as the test's do.
    python3 - "$W" <<'PY'
import sys
w = sys.argv[1]
rows = open(f"{w}/data/train.jsonl").read().splitlines()
assert len(rows) == 67 * 45, len(rows)
train = [r for i, r in enumerate(rows) if (i // 45) % 16 != 15]
val = [r for i, r in enumerate(rows) if (i // 45) % 16 == 15]
def write(name, part):
    open(f"{w}/{name}", "w").write("\n".join(part) + "\n")
write("train.jsonl", train); write("val.jsonl", val)
write("train-945.jsonl", train[::3]); write("val-60.jsonl", val[::3]); write("val-16.jsonl", val[::11][:16])
PY
    # The system: the shipped prompts, except that the solver reads the question first.
    python3 - "$W" Sources/CLI/Resources/DefaultSystem/system.json <<'PY'
import json, sys
w, src = sys.argv[1], sys.argv[2]
s = json.load(open(src))
for n in s["nodes"]:
    n["inner_link"] = n["id"] + "-inner"
    if n["id"] == "solver":
        n["prompts"]["first_round"] = ("You are the solver agent in a multi-agent system.\nHere is the question.\n"
            "Question:\n{question}\n\nHere is the refined plan.\nRefined Plan:\n{slot:refined}\n\n{instruction}")
# Training reads the graph without outer checkpoints (they are what it makes); the system that
# answers names them.
for e in s["edges"]:
    e.pop("checkpoint", None)
json.dump(s, open(f"{w}/system-v2-train.json", "w"), indent=2)
for e in s["edges"]:
    e["checkpoint"] = "outer"
json.dump(s, open(f"{w}/system-v2.json", "w"), indent=2)
# The self-refinement control (the "identical sender" of anchors §2.2): the same graph without
# the SmolLM2 refiner, so the solver's model hears only itself (the planner is Qwen2.5-0.5B too).
# Trained on the same rows and budget, it tells what the refiner adds beyond self-refinement.
c = json.loads(json.dumps(s))
c["nodes"] = [n for n in c["nodes"] if n["id"] != "refiner"]
solver = next(n for n in c["nodes"] if n["id"] == "solver")
solver["prompts"]["first_round"] = solver["prompts"]["first_round"].replace(
    "Here is the refined plan.\nRefined Plan:\n{slot:refined}", "Here is the plan.\nPlan:\n{slot:planner}")
c["edges"] = [e for e in c["edges"] if e["from"] != "refiner" and e["to"] != "refiner"]
c["edges"].insert(0, {"from": "planner", "to": "solver", "slot": "planner", "direction": "forward",
                      "link": "outer_ln_res_adapter", "checkpoint": "outer-self"})
for e in c["edges"]:
    e["checkpoint"] = "outer-self"
c["schedule"]["order"] = ["planner", "solver"]
json.dump(c, open(f"{w}/system-v2-self.json", "w"), indent=2)
for e in c["edges"]:
    del e["checkpoint"]
json.dump(c, open(f"{w}/system-v2-self-train.json", "w"), indent=2)
PY
    ;;
inner)
    # Inner links (spec §1.3), γ of the output LayerNorm = the model's embedding RMS (the default
    # --output-scale embedding), cosine + MSE, 945 rows (every 3rd training row), 1000 steps × 4.
    # Each finished link is rounded to fp16 (the form it ships and is committed in) before any
    # outer training reads it; the fp32 checkpoint stays beside it as <node>-inner-f32.
    for node in refiner planner solver; do
        restore $node-inner
        run_state_finished "$W" $node-inner && continue
        model=qwen2.5-0.5b; [ $node = refiner ] && model=smollm2-135m
        $RMAS train inner --model $model --node $node --prompts-from "$W/system-v2-train.json" \
            --data "$W/train-945.jsonl" --held-out "$W/val-60.jsonl" --out "$W/$node-inner" \
            --steps 1000 --batch-size 4 --mse-weight 1 --eval-every 100 --checkpoint-every 100 \
            --threads $T $(resume "$W/$node-inner")
        run_state_freeze "$RMAS" "$W" $node-inner
    done
    ;;
outer)
    restore outer
    # Outer links (spec §2.4) at two rounds (the feedback link trained), bridge-initialised from
    # 100 rows, 2,000 distinct training rows (1,000 steps × 2 of one shuffled pass over 2,835), validation CE every 100.
    # Back-propagation through the final round only: on the first 16 steps of a full-gradient run
    # the paths that cross back into round 1 carried at most 2.5e-5 of the gradient's norm, and
    # dropping them ran 1.19× skip-keep alone (median of 7 alternating pairs) and 2.05× the full
    # path (3 pairs; BENCHMARKS "Truncated back-propagation through rounds").
    $RMAS train outer --system "$W/system-v2-train.json" --data "$W/train.jsonl" --held-out "$W/val-16.jsonl" \
        --out "$W/outer" --rounds 2 --steps 1000 --batch-size 2 --warmup 20 --bridge-init 100 \
        --checkpoint-every 5 --eval-every 100 --backprop-rounds 1 --threads $T $(resume "$W/outer")
    ;;
self)
    restore outer-self
    # The self-refinement control's outer links, at the same rows, rounds and budget.
    $RMAS train outer --system "$W/system-v2-self-train.json" --data "$W/train.jsonl" --held-out "$W/val-16.jsonl" \
        --out "$W/outer-self" --rounds 2 --steps 1000 --batch-size 2 --warmup 20 --bridge-init 100 \
        --checkpoint-every 5 --eval-every 100 --backprop-rounds 1 --threads $T $(resume "$W/outer-self")
    ;;
rollout)
    restore outer-rollout
    # Outer links trained on the latents inference sends (--latents rollout: each upstream node's
    # 16-step rollout from its own prompt instead of its teacher-forced text's hidden states, so the
    # objective's loss is the inference-latent loss), otherwise the outer stage's settings.
    # The teacher-forced links lost half their validation gain under inference's latents (0.6144 →
    # 0.7263 at step 100, solver alone 0.7854); this run asks whether training on them keeps it.
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
for e in s["edges"]: e["checkpoint"] = "outer-rollout"
json.dump(s, open(sys.argv[2], "w"), indent=2)' "$W/system-v2.json" "$W/system-v2-rollout.json"
    $RMAS train outer --system "$W/system-v2-train.json" --data "$W/train.jsonl" --held-out "$W/val-16.jsonl" \
        --out "$W/outer-rollout" --rounds 2 --steps 1000 --batch-size 2 --warmup 20 --bridge-init 100 \
        --latents rollout --checkpoint-every 5 --eval-every 50 --backprop-rounds 1 --threads $T $(resume "$W/outer-rollout")
    ;;
prompt)
    restore solver-prompt
    # The tuned single-agent baseline on the same rows and step budget.
    $RMAS train prompt --system "$W/system-v2-train.json" --data "$W/train.jsonl" --held-out "$W/val-16.jsonl" \
        --out "$W/solver-prompt" --steps 1000 --batch-size 2 --warmup 20 \
        --checkpoint-every 50 --eval-every 100 --keep-activations --threads $T $(resume "$W/solver-prompt")
    ;;
validate)
    # Validation split only (never the test split): the trained system with every control and
    # baseline at r = 1, 2, then the self-refinement control's system on the same questions.
    tuned=""; [ -f "$W/solver-prompt/manifest.json" ] && tuned=",single-tuned --soft-prompt $W/solver-prompt"
    $RMAS compare --system "$W/$SYSTEM.json" --data "$W/val-60.jsonl" --limit 60 --rounds 1,2 \
        --methods single,latent,latent-zero,latent-shuffled,solver-inner,text,self-consistency$tuned --sc-samples auto \
        --batch 8 --decode ${DECODE:-int8} --max-tokens 512 --out "$W/validate$TAG" --threads $T
    if [ -f "$W/outer-self/manifest.json" ]; then
        $RMAS compare --system "$W/system-v2-self.json" --data "$W/val-60.jsonl" --limit 60 --rounds 1,2 \
            --methods single,latent --batch 8 --decode ${DECODE:-int8} --max-tokens 512 --out "$W/validate-self" --threads $T
    fi
    ;;
evidence)
    # The test table (issues 17/18), once the validation split has chosen nothing else to change:
    # 200 unseen-template GSM-symbolic questions, 200 MMLU-medicine questions (a fixed seeded
    # sample of the 5 subjects) and all 164 HumanEval problems, every method and control,
    # r = 1, 2, 3. Each compare resumes where it stopped.
    $RMAS data mmlu --group medicine --out "$W/tasks"
    $RMAS data humaneval --out "$W/tasks"
    python3 -c 'import random, sys
rows = open(sys.argv[1]).read().splitlines()
random.Random(18).shuffle(rows)
open(sys.argv[2], "w").write("\n".join(rows[:200]) + "\n")' "$W/tasks/mmlu-medicine.jsonl" "$W/tasks/mmlu-medicine-200.jsonl"
    tuned=""; [ -f "$W/solver-prompt/manifest.json" ] && tuned=",single-tuned --soft-prompt $W/solver-prompt"
    methods="single,latent,latent-zero,latent-shuffled,solver-inner,text,self-consistency$tuned --sc-samples auto"
    $RMAS compare --system "$W/$SYSTEM.json" --data "$W/data/test.jsonl" --limit 200 --rounds 1,2,3 \
        --methods $methods --batch 8 --decode ${DECODE:-int8} --max-tokens 512 --out "$W/evidence-math$TAG" --threads $T
    $RMAS compare --system "$W/$SYSTEM.json" --data "$W/tasks/mmlu-medicine-200.jsonl" --rounds 1,2,3 \
        --methods $methods --batch 8 --decode ${DECODE:-int8} --max-tokens 512 --out "$W/evidence-mmlu-medicine$TAG" --threads $T
    $RMAS compare --system "$W/$SYSTEM.json" --data "$W/tasks/HumanEval.jsonl" --data-format humaneval --rounds 1,2,3 \
        --methods $methods --batch 8 --decode ${DECODE:-int8} --max-tokens 512 --out "$W/evidence-humaneval$TAG" --threads $T
    ;;
snapshot)
    # What a later machine resumes from (see the top): every stage's latest weights in fp16 and
    # its log, small enough to commit (the outer links: 18.8 MB).
    run_state_snapshot "$RMAS" "$W" "$STATE" refiner-inner planner-inner solver-inner outer outer-rollout outer-self solver-prompt
    ;;
*)
    echo "usage: $0 data|inner|outer|rollout|self|prompt|validate|evidence|snapshot" >&2; exit 2 ;;
esac
