#!/bin/bash
# Can the latent channel carry a question at all? (issue 18; anchors.md's "blind receiver" control)
#
# Every control so far found the default system's latents interchangeable: another question's do as
# well as the question's own (held-out CE gap 0.0002–0.0003 nats per token; BENCHMARKS "A margin only
# the question's own latents can lower"). The solver reads the question itself, so the objective
# never needs the messages to carry it. Here the solver does not see the question: its prompt holds
# only the refined plan's slot and the answer instruction, so whatever lowers its answer CE below
# another question's messages must have come through the refiner → solver link (the refiner, a
# SmolLM2-135M, still reads the question; the planner too).
#
# Usage: Tools/train/blind-receiver.sh STAGE   (setup | measure NAME | spread NAME | train | train-tf | snapshot)
#   setup    the blind system files in $WORK (needs default-system-v2.sh data there), the committed
#            inner links and the rollout-trained outer links (the start) restored from Runs/
#   measure  held-out CE with the question's own latents and with another row's (shuffled-latents),
#            16 validation rows (templates never trained on), one round; NAME = a checkpoint dir
#            under $WORK (start = the committed outer-rollout links), or sighted-start for the
#            sighted system on the same rows
#   train    outer links trained for the blind solver: rollout latents (what inference sends), one
#            round, batch 2, bf16 products; resumable (rerun after a kill); START=<checkpoint dir under
#            WORK> to start elsewhere (e.g. one written by scale-link-norm.py), OUT=<run name>,
#            LR=<peak learning rate, default 5e-4>
#   spread   rmas system latents on the same 16 validation rows: how much of each slot's rows differs
#            between questions, after and before each link
#   train-tf the same from the same start with teacher-forced latents (the hidden states of the
#            refiner's reference plan text): whether the link itself can carry the question when the
#            latents hold it; measure its checkpoints with LATENTS=teacher-forced
# Pre-registered reading: a gap (shuffled − own) of ≥ 0.05 nats per token on the 16 validation rows
# says the channel can carry question-specific information when the objective needs it.
set -euo pipefail
RMAS=${RMAS:-.build/release/rmas}
W=${WORK:-runs/default-system-v2}
T=${THREADS:-2}
STATE=${STATE:-Runs/default-system-v2}
STEPS=${STEPS:-400}
resume() { [ -f "$1/manifest.json" ] && echo --resume || true; }
. "$(dirname "$0")/run-state.sh"

# blind_system SRC OUT CHECKPOINT: SRC with the solver's question removed and every outer link read
# from CHECKPOINT (relative to W).
blind_system() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
src, out, ckpt = sys.argv[1:]
s = json.load(open(src))
solver = next(n for n in s["nodes"] if n["id"] == "solver")
solver["prompts"] = {"first_round": "You are the solver agent in a multi-agent system.\n"
                     "Here is the refined plan.\nRefined Plan:\n{slot:refined}\n\n{instruction}"}
for e in s["edges"]:
    e["checkpoint"] = ckpt
json.dump(s, open(out, "w"), indent=2)
PY
}

# system_named NAME: the system file measure and spread read — start, sighted-start, or the blind
# system with its links read from the checkpoint directory NAME under W.
system_named() {
    case "$1" in
    start) echo "$W/system-blind-start.json" ;;
    sighted-start) echo "$W/system-sighted-start.json" ;;
    *) blind_system "$W/system-v2-train.json" "$W/system-blind-$1.json" "$1" && echo "$W/system-blind-$1.json" ;;
    esac
}

# train_blind START OUT STEPS LATENTS: the blind system's outer links from checkpoint START into run
# OUT (one round, batch 2, warmup 20, peak lr LR, bf16 products), resumed when OUT holds a checkpoint.
train_blind() {
    blind_system "$W/system-v2-train.json" "$W/system-blind-from-$1.json" "$1"
    $RMAS train outer --system "$W/system-blind-from-$1.json" --data "$W/train.jsonl" --held-out "$W/val-16.jsonl" \
        --out "$W/$2" --rounds 1 --steps "$3" --batch-size 2 --warmup 20 --lr ${LR:-5e-4} \
        --latents "$4" --matmul bfloat16 --checkpoint-every 10 --eval-every 50 --threads $T \
        $(resume "$W/$2")
}

case "${1:-}" in
setup)
    [ -f "$W/system-v2-train.json" ] || { echo "run Tools/train/default-system-v2.sh data first" >&2; exit 2; }
    for n in planner-inner refiner-inner solver-inner outer-rollout; do run_state_restore "$W" "$STATE" $n; done
    blind_system "$W/system-v2-train.json" "$W/system-blind-start.json" outer-rollout
    blind_system "$W/system-v2-train.json" "$W/system-blind.json" outer-blind
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
for e in s["edges"]: e["checkpoint"] = "outer-rollout"
json.dump(s, open(sys.argv[2], "w"), indent=2)' "$W/system-v2-train.json" "$W/system-sighted-start.json"
    ;;
measure)
    sys=$(system_named "${2:?measure NAME}")
    $RMAS train bench --system "$sys" --data "$W/val-16.jsonl" --examples 16 --rounds 1 \
        --latents ${LATENTS:-rollout} --variants skip-keep,shuffled-latents --pairs 1 --threads $T
    ;;
train)
    # START (default outer-rollout) is the checkpoint the links start from, OUT the run's name.
    train_blind "${START:-outer-rollout}" "${OUT:-outer-blind}" "$STEPS" rollout
    ;;
spread)
    # How question-specific the delivered rows are (rmas system latents), NAME as for measure.
    sys=$(system_named "${2:?spread NAME}")
    $RMAS system latents --system "$sys" --data "$W/val-16.jsonl" --examples 16 --rounds 1 --threads $T
    ;;
train-tf)
    train_blind outer-rollout outer-blind-tf "${STEPS_TF:-150}" teacher-forced
    ;;
snapshot)
    run_state_snapshot "$RMAS" "$W" "$STATE" outer-blind outer-blind-tf
    ;;
*)
    echo "usage: $0 setup|measure NAME|spread NAME|train|train-tf|snapshot" >&2; exit 2 ;;
esac
