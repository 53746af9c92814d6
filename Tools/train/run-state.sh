# Sourced by the training scripts: runs that outlive their machine (Runs/README.md). A stage's
# latest weights go into a committed state directory in fp16 with their manifest and log; a stage
# whose run directory is missing starts from there.

# run_state_restore RUNS STATE NAME: copy STATE/NAME into RUNS/NAME when RUNS/NAME holds no checkpoint.
run_state_restore() {
    if [ ! -f "$1/$3/manifest.json" ] && [ -f "$2/$3/manifest.json" ]; then
        mkdir -p "$1/$3" && cp "$2/$3"/* "$1/$3/"
        echo "$3: restored from $2/$3 (step $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$1/$3/manifest.json"))" >&2
    fi
}

# run_state_snapshot RMAS RUNS STATE NAME...: each RUNS/NAME's latest weights (fp16, or
# RUN_STATE_DTYPE; no optimizer moments) and log.jsonl into STATE/NAME, replacing what was there.
run_state_snapshot() {
    local rmas=$1 runs=$2 state=$3 name
    shift 3
    for name in "$@"; do
        [ -f "$runs/$name/manifest.json" ] || continue
        rm -rf "${state:?}/$name"
        $rmas links export --from "$runs/$name" --to "$state/$name" --dtype "${RUN_STATE_DTYPE:-f16}"
        cp "$runs/$name/log.jsonl" "$state/$name/" 2>/dev/null || true
    done
}

# run_state_finished RUNS NAME: whether RUNS/NAME holds a finished, fp16-rounded link (a compact
# checkpoint without optimizer moments, from run_state_freeze or a restore) at its last step. A
# snapshot of a run stopped part-way is compact too, but its step is short of its "steps".
run_state_finished() {
    [ -f "$1/$2/manifest.json" ] && ! grep -q optimizer_file "$1/$2/manifest.json" &&
        python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(0 if m["step"] >= int(m["arguments"].get("steps", m["step"])) else 1)' "$1/$2/manifest.json"
}

# run_state_freeze RMAS RUNS NAME: round a finished training run's link to fp16 (the form it ships
# and is committed in) so that later stages read exactly what a restore gives them; the fp32
# checkpoint stays beside it as NAME-f32.
run_state_freeze() {
    rm -rf "$2/$3-f32" && mv "$2/$3" "$2/$3-f32"
    $1 links export --from "$2/$3-f32" --to "$2/$3" --dtype f16
    cp "$2/$3-f32/log.jsonl" "$2/$3/" 2>/dev/null || true
}
