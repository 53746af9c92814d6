#!/bin/bash
# The distillation system (issue 18, spec §2.5): expert Qwen2.5-Coder-1.5B → learner
# Qwen2.5-Coder-0.5B, one round, trained on the GSM-symbolic rows and validation split of the
# default system's retraining (Tools/train/default-system-v2.sh `data` must have run; WORK names
# its directory). The claim to test: the learner with the expert's latents well above the learner
# alone, and faster than the expert alone.
#
# Usage: Tools/train/distillation-system.sh STAGE   (setup | inner | outer | validate | latent-tuned | expert-gen | expert-targets
#   | outer-expert | validate-expert | validate-expert-controls | prompt-expert
#   | validate-prompt-expert | evidence | snapshot)
# Every stage resumes after a kill: rerun the same command. Nothing before `evidence` reads the
# test split; checkpoints and settings are chosen on the validation split. `snapshot` copies the
# latest weights (fp16) into Runs/distillation/ for committing, and a stage whose run directory is
# missing starts from there (as in default-system-v2.sh; Runs/README.md).
set -euo pipefail
RMAS=${RMAS:-.build/release/rmas}
W=${WORK:-runs/default-system-v2}
D=${DISTILL:-$W/distillation}
T=${THREADS:-2}
STATE=${STATE:-Runs/distillation}
mkdir -p "$D"
resume() { [ -f "$1/manifest.json" ] && echo --resume || true; }
. "$(dirname "$0")/run-state.sh"
restore() { run_state_restore "$D" "$STATE" "$1"; }
# with_checkpoint DIR OUT: the distillation system with its link read from DIR (relative to D).
with_checkpoint() {
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
for e in s["edges"]: e["checkpoint"] = sys.argv[3]
json.dump(s, open(sys.argv[2], "w"), indent=2)' "$D/system.json" "$2" "$1"
}
# table DATA LIMIT OUT: the system's methods and controls (METHODS narrows them), the expert alone,
# and the two paired.
table() {
    $RMAS compare --system "$D/system.json" --data "$1" --limit "$2" --rounds 1 \
        --methods ${METHODS:-single,latent,latent-zero,latent-shuffled,text} --batch 8 --decode ${DECODE:-int8} --max-tokens 512 --out "$3" --threads $T
    $RMAS compare --system "$D/expert-alone.json" --data "$1" --limit "$2" --rounds 1 \
        --methods single --batch 8 --decode ${DECODE:-int8} --max-tokens 512 --out "$3-expert" --threads $T
    $RMAS compare-runs --run system="$3" --run expert="$3-expert" \
        --pair system:latent@1,system:single@1 --pair system:latent@1,expert:single@1 --out "$3-paired"
}

case "${1:-}" in
setup)
    # The shipped preset, at one round (an expert pass per question is the expensive part), the
    # learner reading the question before the expert's rows (its slot then comes late, so outer
    # training skips more backward work), inner links named; and the expert alone as a one-node
    # graph, for the speed and accuracy baseline.
    $RMAS system show --system distillation > "$D/preset.json"
    python3 - "$D" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(f"{d}/preset.json"))
s["schedule"]["rounds"] = 1
s["edges"] = [e for e in s["edges"] if e["direction"] == "forward"]
for n in s["nodes"]:
    n["inner_link"] = n["id"] + "-inner"
    if n["id"] == "expert":
        n["prompts"].pop("later_rounds", None)
    if n["id"] == "learner":
        n["prompts"]["first_round"] = ("You are the learner executor in a multi-agent system.\nQuestion:\n{question}\n\n"
            "Expert plan:\n{slot:expert}\n\nUse the expert plan as guidance, but where it conflicts with the question, "
            "keep to the question's constraints.\n\n{instruction}")
for e in s["edges"]:
    e.pop("checkpoint", None)
json.dump(s, open(f"{d}/system-train.json", "w"), indent=2)
for e in s["edges"]:
    e["checkpoint"] = "outer"
json.dump(s, open(f"{d}/system.json", "w"), indent=2)
expert = next(n for n in s["nodes"] if n["id"] == "expert")
alone = {"defaults": s["defaults"], "edges": [], "instructions": s["instructions"], "single_prompt": s["single_prompt"],
         "style": "sequential", "system_prompt": s["system_prompt"], "schedule": {"answer": "expert", "order": ["expert"], "rounds": 1},
         "nodes": [{"id": "expert", "model": expert["model"], "decoder": "plain", "target": "answer",
                    "prompts": {"first_round": s["single_prompt"]}}]}
json.dump(alone, open(f"{d}/expert-alone.json", "w"), indent=2)
PY
    $RMAS system check --system "$D/system-train.json"
    $RMAS system check --system "$D/expert-alone.json"
    ;;
inner)
    # The expert's inner link, as the default system's were trained (γ = the embedding RMS,
    # cosine + MSE, 945 rows, batch 4, validation every 100), but 200 steps instead of 1,000:
    # the 1.5B model costs ~3.5× the 0.5B planner's ~25 min. (The committed run was started as
    # 400 steps and resumed at step 100 with 200, so its cosine schedule was shortened there;
    # held-out 1 − cos 0.777 at step 0, 0.319 at 100.) The learner is the v2 solver's model
    # reading answers too: its inner link is the v2 solver's.
    # Finished, it is rounded to fp16 (as committed and shipped) before outer training reads it.
    restore expert-inner
    if ! run_state_finished "$D" expert-inner; then
        $RMAS train inner --model qwen2.5-coder-1.5b --node expert --prompts-from "$D/system-train.json" \
            --data "$W/train-945.jsonl" --held-out "$W/val-60.jsonl" --out "$D/expert-inner" \
            --steps 200 --batch-size 4 --mse-weight 1 --eval-every 100 --checkpoint-every 50 \
            --threads $T $(resume "$D/expert-inner")
        run_state_freeze "$RMAS" "$D" expert-inner
    fi
    ln -sfn "$(cd "$W/solver-inner" && pwd)" "$D/learner-inner"
    ;;
outer)
    # The expert → learner link: bridge-initialised from 100 rows, then OUTER_STEPS (default 80,
    # the committed run's length) steps × 2 distinct training rows, validation CE every 50.
    # Trained on the latents inference sends
    # (--latents rollout: the expert's 16-step rollout from its prompt), because links trained
    # on teacher-forced latents lost half their validation gain under inference's in the
    # default system (BENCHMARKS "Retraining at scale, part 3"). The edge feeds the answering
    # node, so the rollout objective's backward is exact here.
    restore outer
    $RMAS train outer --system "$D/system-train.json" --data "$W/train.jsonl" --held-out "$W/val-16.jsonl" \
        --out "$D/outer" --rounds 1 --steps ${OUTER_STEPS:-80} --batch-size 2 --warmup 20 --bridge-init 100 \
        --latents rollout --checkpoint-every 5 --eval-every 50 --threads $T $(resume "$D/outer")
    ;;
validate)
    # Validation split only: the system with its controls against the learner alone, then the
    # expert alone on the same questions, paired across the two runs.
    table "$W/val-60.jsonl" 60 "$D/validate"
    ;;
latent-tuned)
    # Whether the expert's latents add to a tuned learner: the learner with the soft prompt of
    # Tools/train/self-targets.sh (SOFT_PROMPT; trained on the same model as the default system's
    # solver) alone and with the expert's latents, on the same validation questions.
    $RMAS compare --system "$D/system.json" --data "$W/val-60.jsonl" --limit 60 --rounds 1 --methods single-tuned,latent-tuned \
        --soft-prompt "${SOFT_PROMPT:-Runs/default-system-v2/solver-prompt-self}" --batch 8 --decode ${DECODE:-int8} --max-tokens 512 \
        --out "$D/validate-tuned" --threads $T
    ;;
evidence)
    # The test table: 200 unseen-template GSM-symbolic questions, the same methods.
    table "$W/data/test.jsonl" 200 "$D/evidence-math"
    ;;
expert-gen)
    # Targets with working (issue 18): the expert alone (single-agent prompt, greedy, no answer
    # retry, 512 cap) on GEN_PER_TEMPLATE (default 6) training rows of each of the 63 training
    # templates, ordered so every template comes up once before any twice; stopped early, the rows
    # answered so far are usable. Why: trained on the dataset's terse answers the link taught the
    # learner to drop the working it needs (5.0% vs 13.3% alone); here the learner is asked, given
    # the expert's latents, to write what the expert writes when it is right.
    python3 - "$W" "$D" "${GEN_PER_TEMPLATE:-6}" <<'PY'
import sys
w, d, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = open(f"{w}/train.jsonl").read().splitlines()
assert len(rows) == 63 * 45, len(rows)
sub = [rows[t * 45 + j] for j in range(k) for t in range(63)]
open(f"{d}/expert-gen-rows.jsonl", "w").write("\n".join(sub) + "\n")
PY
    $RMAS compare --system "$D/expert-alone.json" --data "$D/expert-gen-rows.jsonl" --rounds 1 --methods single \
        --no-answer-retry --batch 8 --max-tokens 512 --decode int8-tiled --out "$D/expert-gen" --threads $T
    ;;
expert-targets)
    # Training rows: each row the expert answered right, `answer` replaced by its reply. Held-out
    # rows: the validation questions the expert alone answered right in the committed validation
    # run (Evidence/validate-distillation/validate-expert), its reply as target (loss tracking only).
    python3 Tools/train/reply-targets.py train "$D/expert-gen-rows.jsonl" "$D/expert-gen/outcomes.jsonl" "$D/train-expert.jsonl"
    python3 Tools/train/reply-targets.py held-out "$W/val-60.jsonl" Evidence/validate-distillation/validate-expert/outcomes.jsonl \
        "$D/val-expert.jsonl"
    ;;
outer-expert)
    # The committed expert → learner link (80 steps on the dataset's answers) continued on the
    # expert's own correct replies: EXPERT_STEPS (default 60) × 2 rows, fresh AdamW, warmup 5,
    # rollout latents as inference sends them.
    with_checkpoint outer-expert "$D/system-expert.json"
    $RMAS train outer --system "$D/system.json" --data "$D/train-expert.jsonl" --held-out "$D/val-expert.jsonl" \
        --out "$D/outer-expert" --rounds 1 --steps ${EXPERT_STEPS:-60} --batch-size 2 --warmup 5 \
        --latents rollout --checkpoint-every 5 --eval-every 30 --threads $T $(resume "$D/outer-expert")
    ;;
validate-expert)
    # Validation split only: the learner alone, the system with the expert-target link and its
    # shuffled control on the same 60 questions (the expert alone is the committed run's).
    $RMAS compare --system "$D/system-expert.json" --data "$W/val-60.jsonl" --limit 60 --rounds 1 \
        --methods ${METHODS:-latent,single,latent-shuffled} --batch 8 --max-tokens 512 --decode int8-tiled \
        --out "$D/validate-expert-targets" --threads $T
    ;;
validate-expert-controls)
    # The same questions: zeroed expert rows, and the learner with the soft prompt tuned on its
    # own correct replies (Tools/train/self-targets.sh) — the fair single-agent bar when another
    # question's latents do as well as the question's own.
    $RMAS compare --system "$D/system-expert.json" --data "$W/val-60.jsonl" --limit 60 --rounds 1 \
        --methods latent-zero,single-tuned --soft-prompt "${SOFT_PROMPT:-Runs/default-system-v2/solver-prompt-self}" \
        --batch 8 --max-tokens 512 --decode int8-tiled --out "$D/validate-expert-controls" --threads $T
    $RMAS compare-runs --run targets="$D/validate-expert-targets" --run controls="$D/validate-expert-controls" \
        --pair targets:latent@1,targets:single@1 --pair targets:latent@1,targets:latent-shuffled@1 \
        --pair targets:latent@1,controls:latent-zero@1 --pair targets:latent@1,controls:single-tuned@1 \
        --pair targets:latent-shuffled@1,controls:single-tuned@1 --out "$D/validate-expert-paired"
    ;;
prompt-expert)
    # The learner-side control of the expert-target link (issue 18): the same 145 expert replies
    # and step budget (EXPERT_STEPS × 2 rows, fresh AdamW, warmup 5) spent on the learner's soft
    # prompt instead, no expert at inference — continued from the tuned learner of
    # Tools/train/self-targets.sh (SOFT_PROMPT). If it matches the system, the link taught a
    # prompt (the expert's answer style), not a channel for the expert's latents.
    restore prompt-expert
    $RMAS train prompt --system "$D/system.json" --data "$D/train-expert.jsonl" --held-out "$D/val-expert.jsonl" \
        --init-from "${SOFT_PROMPT:-Runs/default-system-v2/solver-prompt-self}" --out "$D/prompt-expert" \
        --steps ${EXPERT_STEPS:-60} --batch-size 2 --warmup 5 --checkpoint-every 5 --eval-every 30 \
        --keep-activations --threads $T $(resume "$D/prompt-expert")
    ;;
validate-prompt-expert)
    # Validation split only: the learner with that prompt, paired with the system and its controls
    # (validate-expert-targets, validate-expert-controls: this run's or restored from Evidence).
    $RMAS compare --system "$D/system-expert.json" --data "$W/val-60.jsonl" --limit 60 --rounds 1 \
        --methods single-tuned --soft-prompt "$D/prompt-expert" \
        --batch 8 --max-tokens 512 --decode int8-tiled --out "$D/validate-prompt-expert" --threads $T
    $RMAS compare-runs --run targets="$D/validate-expert-targets" --run controls="$D/validate-expert-controls" \
        --run prompt="$D/validate-prompt-expert" \
        --pair targets:latent@1,prompt:single-tuned@1 --pair prompt:single-tuned@1,controls:single-tuned@1 \
        --pair prompt:single-tuned@1,targets:single@1 --pair targets:latent-shuffled@1,prompt:single-tuned@1 \
        --out "$D/validate-prompt-paired"
    ;;
outer-margin)
    # outer-expert's run (same start, rows, steps and schedule) plus the hinge that only the
    # question's own expert latents can lower: CE_own + max(0, MARGIN + CE_own − CE_donor), the
    # donor being another training row's conversation (BENCHMARKS "A margin only the question's
    # own latents can lower").
    with_checkpoint outer-margin "$D/system-margin.json"
    $RMAS train outer --system "$D/system.json" --data "$D/train-expert.jsonl" --held-out "$D/val-expert.jsonl" \
        --out "$D/outer-margin" --rounds 1 --steps ${EXPERT_STEPS:-60} --batch-size 2 --warmup 5 \
        --latents rollout --checkpoint-every 5 --eval-every 30 --threads $T --latent-margin ${MARGIN:-0.05} \
        $(resume "$D/outer-margin")
    ;;
validate-margin)
    # Validation split only: the margin-trained system and its shuffled control on validate-expert's
    # 60 questions, paired with the expert-target link's run and the expert-reply prompt.
    $RMAS compare --system "$D/system-margin.json" --data "$W/val-60.jsonl" --limit 60 --rounds 1 \
        --methods latent,latent-shuffled --batch 8 --max-tokens 512 --decode int8-tiled \
        --out "$D/validate-margin" --threads $T
    $RMAS compare-runs --run margin="$D/validate-margin" --run targets="$D/validate-expert-targets" \
        --run prompt="$D/validate-prompt-expert" \
        --pair margin:latent@1,margin:latent-shuffled@1 --pair margin:latent@1,targets:latent@1 \
        --pair margin:latent@1,prompt:single-tuned@1 --pair margin:latent@1,targets:single@1 \
        --out "$D/validate-margin-paired"
    ;;
snapshot)
    run_state_snapshot "$RMAS" "$D" "$STATE" expert-inner outer outer-expert
    # The soft prompt as validated (fp32, 57 KB), as Runs/default-system-v2/solver-prompt-self.
    RUN_STATE_DTYPE=f32 run_state_snapshot "$RMAS" "$D" "$STATE" prompt-expert
    ;;
*)
    echo "usage: $0 setup|inner|outer|validate|latent-tuned|expert-gen|expert-targets|outer-expert|validate-expert|validate-expert-controls|prompt-expert|validate-prompt-expert|outer-margin|validate-margin|evidence|snapshot" >&2; exit 2 ;;
esac
