#!/bin/bash
# The exact commands that trained the links shipped in Sources/CLI/Resources/DefaultSystem
# (planner Qwen2.5-0.5B → critic SmolLM2-135M → solver Qwen2.5-0.5B). Run from the repository
# root after `swift build -c release`; results and timings are in BENCHMARKS.md. Everything is
# seeded (seed 42 for link init and data order), so a rerun reproduces the weights up to
# floating-point summation order of the BLAS in use.
set -euo pipefail
RMAS=${RMAS:-.build/release/rmas}
W=${WORK:-runs/default-system}
mkdir -p "$W"

# Role data: reasoning-gym 0.1.25 GSM-symbolic, split by template (sha256 3ae5a9e6… / 5a4867a5…).
$RMAS data gsm --out Tools/data/out
# Subsets that keep every one of the 67 training templates (the files are sorted by template).
awk 'NR%2==1' Tools/data/out/train.jsonl > "$W/train-1005.jsonl"
awk 'NR%5==1' Tools/data/out/train.jsonl > "$W/train-402.jsonl"
awk 'NR%5==1' Tools/data/out/test.jsonl > "$W/heldout-72.jsonl"
head -8 "$W/heldout-72.jsonl" > "$W/heldout-8.jsonl"
# The solver's link was trained earlier on a seeded random sample.
python3 -c "import random,sys; r=open(sys.argv[1]).read().splitlines(); random.Random(7).shuffle(r); print('\n'.join(r[:240]))" \
    Tools/data/out/train.jsonl > "$W/gsm-train-240.jsonl"
python3 -c "import random,sys; r=open(sys.argv[1]).read().splitlines(); random.Random(7).shuffle(r); print('\n'.join(r[:32]))" \
    Tools/data/out/test.jsonl > "$W/gsm-heldout-32.jsonl"

# Inner links (spec §1.3; --mse-weight 1 adds the scale term the cosine objective lacks).
$RMAS train inner --model smollm2-135m --role refiner --data "$W/train-1005.jsonl" --held-out "$W/heldout-72.jsonl" \
    --out "$W/refiner-inner" --steps 1200 --batch-size 4 --mse-weight 1 --eval-every 100 --threads 2
$RMAS train inner --model qwen2.5-0.5b --role planner --data "$W/train-402.jsonl" --held-out "$W/heldout-72.jsonl" \
    --out "$W/planner-inner" --steps 800 --batch-size 4 --mse-weight 1 --eval-every 100 --threads 2
$RMAS train inner --model qwen2.5-0.5b --role solver --data "$W/gsm-train-240.jsonl" --held-out "$W/gsm-heldout-32.jsonl" \
    --out "$W/solver-inner" --steps 300 --batch-size 4 --eval-every 25 --checkpoint-every 50

# Outer links (spec §2.4): bridge-initialised from 100 rows, then trained one round deep.
cat > "$W/system-train.json" <<JSON
{"style": "sequential",
 "agents": [{"role": "planner", "model": "qwen2.5-0.5b", "inner_link": "planner-inner"},
            {"role": "refiner", "model": "smollm2-135m", "inner_link": "refiner-inner"},
            {"role": "solver", "model": "qwen2.5-0.5b", "inner_link": "solver-inner"}],
 "links": [{"from": "planner", "to": "refiner", "kind": "outer_ln_res_adapter"},
           {"from": "refiner", "to": "solver", "kind": "outer_ln_res_adapter"},
           {"from": "solver", "to": "planner", "kind": "outer_ln_res_adapter"}],
 "defaults": {"rounds": 1, "latent_steps": 16, "max_tokens": 256}}
JSON
$RMAS train outer --system "$W/system-train.json" --data "$W/train-402.jsonl" --held-out "$W/heldout-8.jsonl" \
    --out "$W/outer" --rounds 1 --steps 60 --batch-size 2 --warmup 5 --bridge-init 100 \
    --checkpoint-every 10 --eval-every 20 --threads 2

# Compact copies (fp16, no optimizer state) into the shipped system.
D=Sources/CLI/Resources/DefaultSystem/links
for link in planner-inner refiner-inner solver-inner outer; do
    $RMAS links export --from "$W/$link" --to "$D/$link"
done

# Evidence (BENCHMARKS.md, "RecursiveMAS against its baselines"): 200 held-out questions, a seeded
# shuffle of test.jsonl (unseen templates), every method at rounds 1–3 with the shipped system.
# Resumable: rerun the same command after an interruption; answers already recorded are kept.
python3 -c "import random,sys; r=open(sys.argv[1]).read().splitlines(); random.Random(11).shuffle(r); print('\n'.join(r[:200]))" \
    Tools/data/out/test.jsonl > "$W/heldout-200.jsonl"
$RMAS compare --data "$W/heldout-200.jsonl" --limit 200 --rounds 1,2,3 --methods latent,text,single \
    --out "$W/compare-200" --threads 2
