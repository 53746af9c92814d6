#!/usr/bin/env bash
# Builds every libFuzzer target of Tools/fuzz/Package.swift (GGUF reader, tokenizer, checkpoint
# reader, system files, task/data files) with -sanitize=fuzzer,address on all Swift modules, then
# runs each for a bounded time on its committed seed corpus (Tools/fuzz/corpus/<target>).
#   usage: Tools/fuzz/run-fuzzers.sh [seconds-per-target=45] [target…]
# Keys and tokens of each format are in dict/<target>.dict (libFuzzer -dict).
# Per target, fuzz-out/<target>/ (git-ignored) receives new corpus entries (corpus/), the log
# (fuzz.log) and any crash-*/timeout-*/oom-* reproducer. Exits non-zero if any target failed.
# Environment: FUZZ_BUILD_PATH (default Tools/fuzz/.build, git-ignored), FUZZ_JOBS (build jobs).
# Leak detection is off: Foundation's Data(contentsOf:) leaks a 4 KiB buffer per empty file read
# (swift-6.3.1, Linux), which LeakSanitizer would report for any input that is empty.
# Written for this project.
set -euo pipefail
seconds="${1:-45}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${FUZZ_BUILD_PATH:-$here/.build}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gguf tokenizer checkpoint system data)

# Longest input per target: a GGUF header with tensor data, files of a few KiB otherwise.
max_len() {
    case "$1" in
        gguf) echo 65536 ;;
        data) echo 16384 ;;
        *) echo 8192 ;;
    esac
}

jobs=()
[ -n "${FUZZ_JOBS:-}" ] && jobs=(-j "$FUZZ_JOBS")
start=$SECONDS
# -enable-testing: the data target reaches RoleData's internal LineReader (@testable import).
mkdir -p "$root/fuzz-out"
if ! swift build -c release --package-path "$here" --build-path "$build" "${jobs[@]}" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing >"$root/fuzz-out/build.log" 2>&1; then
    tail -n 40 "$root/fuzz-out/build.log" >&2
    echo "fuzz build failed (log: fuzz-out/build.log)" >&2
    exit 1
fi
bin="$(swift build -c release --package-path "$here" --build-path "$build" --show-bin-path)"
echo "fuzz targets built in $((SECONDS - start)) s"

failed=()
for target in "${targets[@]}"; do
    out="$root/fuzz-out/$target"
    mkdir -p "$out/corpus"
    dict=()
    [ -f "$here/dict/$target.dict" ] && dict=(-dict="$here/dict/$target.dict")
    # libFuzzer writes new inputs to the first corpus directory and reads the committed seeds
    # from the second; -print_final_stats gives the run count and exec/s.
    # SWIFT_BACKTRACE off: the Swift runtime's crash handler reads memory in ways ASan reports,
    # burying the real failure; libFuzzer's own handler prints the (symbolized) stack instead.
    if SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" "$bin/fuzz-$target" \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" -rss_limit_mb=2048 -timeout=10 \
        -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$out/" "${dict[@]}" \
        "$out/corpus" "$here/corpus/$target" >"$out/fuzz.log" 2>&1; then
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log")"
        speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/fuzz.log")"
        echo "fuzz $target: ok, $runs runs, $speed exec/s"
    else
        echo "fuzz $target: FAILED (log and reproducer in $out)" >&2
        grep -E "ERROR|SUMMARY|Fatal error|Swift runtime failure|in .* /.*/(Sources|Tools)/" "$out/fuzz.log" \
            | head -n 8 | swift demangle --simplified >&2 || true
        failed+=("$target")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]}" >&2
    exit 1
fi
