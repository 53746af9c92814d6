#!/bin/bash
# The full evaluation table of issues 17 and 18: the shipped default system with every method and
# control, at rounds 1–3, on 200 held-out GSM-symbolic questions (unseen templates), 200
# MMLU-medicine questions and the 164 HumanEval problems, B = 32 (B = 8 before 2026-12-05 12:02,
# then 16 until the end of that day's sessions).
#
# Usage: Tools/eval/full-table.sh STAGE   (data | math | mmlu | humaneval | report | tally | snapshot)
# The whole table is ~15–20 hours of a 2-core machine. Every stage is an `rmas compare` run that
# resumes where it stopped (recorded answers are kept; other settings are refused), so the table
# can be built in pieces: rerun the same stage until it reports, on any machine with WORK's files.
# Answers outlive the machine through Evidence/full-table/: `snapshot` copies each task's recorded
# answers there (outcomes.jsonl.gz + settings.json, to be committed), and a task stage whose run
# directory is missing starts from that snapshot, so the next session continues where the last
# stopped (same WORK path, since settings.json records the data and system paths).
# SYSTEM names another system file (default: a copy of the shipped default system in WORK); EXTRA adds arguments
# (e.g. EXTRA="--limit 40" for a first slice; a later run without it continues the same directory).
set -euo pipefail
RMAS=${RMAS:-.build/release/rmas}
W=${WORK:-runs/full-table}
T=${THREADS:-2}
# 32 items in flight: 1.07× the answers per hour of 16, which gave 1.11× over 8 on the HumanEval
# workload, same answers (BENCHMARKS "The table's HumanEval workload at B = 32 / 16 / 8"); the batch
# is not a recorded setting. To stop a stage without losing its answers in flight, send SIGTERM
# (or Ctrl-C) once: it finishes and records them, then exits.
B=${BATCH:-32}
# OpenBLAS's idle workers sleep at once: builds from the one that adds this line do so themselves at
# --batch above 1; set here so that older builds continuing a stage get the same 1.09–1.10× (BENCHMARKS
# "OpenBLAS's idle workers in a batched compare"; answers do not depend on it).
export OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-4}
# STOP_AFTER=2h30m: the stage stops by itself (as one SIGTERM) once that wall time has passed —
# fit a stage into a session; the same stage continues it later. Builds before it lack the option.
STOP_AFTER=${STOP_AFTER:-}
# The exact prefills of the recorded answers ran on OpenBLAS's SkylakeX kernel, which rmas picks by
# itself on AVX-512 CPUs unless the environment names another core; some machine images pin
# OPENBLAS_CORETYPE=Haswell, whose rounding a continuation refuses. TABLE_CORETYPE overrides.
if [ -n "${TABLE_CORETYPE:-}" ]; then export OPENBLAS_CORETYPE=$TABLE_CORETYPE
elif grep -q -m1 ' avx512f' /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=SkylakeX; fi
EXTRA=${EXTRA:-}
# fp32 prompt prefill: the math answers recorded so far ran with it (a run continues only with its
# format), and it is the same on every CPU, so sessions on machines without AVX512-BF16 continue too.
PREFILL=${PREFILL:-float32}
# Decode steps: int8 (the row-major 8-bit kernels) — the math and MMLU answers so far ran with it;
# DECODE=int8-tiled is ~1.4–1.6× faster at --batch 8 (BENCHMARKS "Tiled int8 decode") for a task
# started fresh. Builds before f2e9b91 have no --decode: run them with DECODE= (empty).
DECODE=${DECODE-int8}
decode() { if [ -n "$DECODE" ]; then echo --decode "$DECODE"; fi; }
stop_after() { if [ -n "$STOP_AFTER" ]; then echo --stop-after "$STOP_AFTER"; fi; }
mkdir -p "$W"
# The shipped default system, copied next to the data so the path a run records does not depend
# on where rmas was built (builds before system_digest compared system paths on continuation).
if [ -z "${SYSTEM:-}" ]; then
    SYSTEM="$W/default-system/system.json"
    [ -f "$SYSTEM" ] || { mkdir -p "$W/default-system" && cp -r Sources/CLI/Resources/DefaultSystem/. "$W/default-system/"; }
fi
system() { echo --system "$SYSTEM"; }
# Every method and control. self-consistency's k is matched to latent's time at r = 3 (auto).
# single-tuned is the solver with the soft prompt of Tools/train/self-targets.sh (the strongest
# single-agent baseline on validation, BENCHMARKS part 5), committed under Runs/; latent-tuned is
# the system with the same rows at its solver (whether the latents add to a tuned solver).
METHODS=${METHODS:-single,single-tuned,latent,latent-tuned,text,self-consistency,latent-zero,latent-shuffled,solver-inner}
SOFT_PROMPT=${SOFT_PROMPT:-Runs/default-system-v2/solver-prompt-self}

EVIDENCE=${EVIDENCE:-Evidence/full-table}
# Restores task $1's recorded answers from the committed snapshot when its run directory is missing.
restore() {
    if [ ! -f "$W/$1/outcomes.jsonl" ] && [ -f "$EVIDENCE/$1/outcomes.jsonl.gz" ]; then
        mkdir -p "$W/$1"
        cp "$EVIDENCE/$1/settings.json" "$W/$1/settings.json"
        gunzip -c "$EVIDENCE/$1/outcomes.jsonl.gz" > "$W/$1/outcomes.jsonl"
        echo "restored $(wc -l < "$W/$1/outcomes.jsonl") recorded answers of $1 from $EVIDENCE/$1" >&2
    fi
}

case "${1:-}" in
data)
    # Math: the 200 held-out questions of the earlier table (Evidence/compare-200, sha256
    # 6c7fbe1a…b576494), a seeded shuffle of the test split's unseen templates.
    [ -f "$W/gsm/test.jsonl" ] || $RMAS data gsm --out "$W/gsm"
    python3 -c "import random,sys; r=open(sys.argv[1]).read().splitlines(); random.Random(11).shuffle(r); print('\n'.join(r[:200]))" \
        "$W/gsm/test.jsonl" > "$W/math-200.jsonl"
    # MMLU-medicine: 200 of the 945 test questions, evenly spaced, so all five subjects come in
    # proportion (the file is ordered by subject).
    $RMAS data mmlu --out "$W" --group medicine
    python3 -c "import sys; r=open(sys.argv[1]).read().splitlines(); n=len(r); print('\n'.join(r[i * n // 200] for i in range(200)))" \
        "$W/mmlu-medicine.jsonl" > "$W/mmlu-medicine-200.jsonl"
    $RMAS data humaneval --out "$W"
    sha256sum "$W/math-200.jsonl" "$W/mmlu-medicine-200.jsonl" "$W/HumanEval.jsonl"
    ;;
math)
    restore math
    $RMAS compare $(system) --data "$W/math-200.jsonl" --rounds 1,2,3 --methods $METHODS --soft-prompt "$SOFT_PROMPT" --sc-samples auto \
        --batch $B --max-tokens 512 --prefill $PREFILL $(decode) --out "$W/math" --threads $T $(stop_after) $EXTRA
    ;;
mmlu)
    restore mmlu
    $RMAS compare $(system) --data "$W/mmlu-medicine-200.jsonl" --rounds 1,2,3 --methods $METHODS --soft-prompt "$SOFT_PROMPT" --sc-samples auto \
        --batch $B --max-tokens 512 --prefill $PREFILL $(decode) --out "$W/mmlu" --threads $T $(stop_after) $EXTRA
    ;;
humaneval)
    # Started 2026-12-05 on bf16 prefill and int8 tiles (faster, and every CPU seen so far has
    # AVX512-BF16 and VNNI): a continuation must keep them, so they are this task's defaults.
    restore humaneval
    $RMAS compare $(system) --data "$W/HumanEval.jsonl" --data-format humaneval --rounds 1,2,3 --methods $METHODS --soft-prompt "$SOFT_PROMPT" \
        --sc-samples auto --batch $B --max-tokens 512 --prefill ${PREFILL_HUMANEVAL:-bfloat16} --decode ${DECODE_HUMANEVAL:-int8-tiled} \
        --out "$W/humaneval" --threads $T $(stop_after) $EXTRA
    ;;
report)
    for task in math mmlu humaneval; do
        [ -f "$W/$task/report.md" ] && { echo "## $task"; cat "$W/$task/report.md"; }
    done
    ;;
tally)
    # Correct / answered per (method, rounds) of each task's committed snapshot, over the
    # questions every (method, rounds) has answered, and the answers a stage of which hit the cap.
    for task in math mmlu humaneval; do
        [ -f "$EVIDENCE/$task/outcomes.jsonl.gz" ] || continue
        echo "## $task"
        gunzip -c "$EVIDENCE/$task/outcomes.jsonl.gz" | python3 -c "
import collections, json, sys
cap = json.load(open(sys.argv[1]))['max_tokens']
rows = [json.loads(l) for l in sys.stdin]
per = collections.Counter(r['index'] for r in rows)
full = max(per.values())
complete = sorted(i for i, n in per.items() if n == full)
print(f'{len(rows)} answers; {len(complete)} questions answered by every method and round count')
tally = collections.defaultdict(lambda: [0, 0, 0])
for r in rows:
    if per[r['index']] == full:
        t = tally[(r['method'], r['rounds'])]
        t[0] += r['correct']; t[1] += 1; t[2] += any(s['generated_tokens'] >= cap for s in r['stages'])
print(f'| method | rounds | correct / answered | answers with a stage at the {cap}-token cap |'); print('|---|---:|---:|---:|')
for (m, k), (c, n, a) in sorted(tally.items(), key=lambda x: (x[0][1], x[0][0])): print(f'| {m} | {k} | {c} / {n} | {a} |')
" "$EVIDENCE/$task/settings.json"
    done
    ;;
snapshot)
    # Complete lines only: a run still writing may have a partial last line.
    for task in math mmlu humaneval; do
        [ -f "$W/$task/outcomes.jsonl" ] || continue
        mkdir -p "$EVIDENCE/$task"
        cp "$W/$task/settings.json" "$EVIDENCE/$task/settings.json"
        python3 -c "import sys; d=open(sys.argv[1]).read(); sys.stdout.write(d[:d.rfind(chr(10)) + 1])" "$W/$task/outcomes.jsonl" \
            | gzip -9n > "$EVIDENCE/$task/outcomes.jsonl.gz"
        for f in report.md report.json plot.svg; do [ -f "$W/$task/$f" ] && cp "$W/$task/$f" "$EVIDENCE/$task/"; done
        echo "$task: $(gunzip -c "$EVIDENCE/$task/outcomes.jsonl.gz" | wc -l) answers → $EVIDENCE/$task"
    done
    ;;
*)
    echo "usage: $0 data|math|mmlu|humaneval|report|tally|snapshot" >&2; exit 2 ;;
esac
