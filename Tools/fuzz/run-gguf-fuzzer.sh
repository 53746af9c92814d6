#!/usr/bin/env bash
# Builds the GGUF reader alone with libFuzzer + AddressSanitizer (plain swiftc, no SwiftPM, so it
# needs no package resolution) and runs it on the committed seed corpus for a bounded time.
# run-fuzzers.sh builds the same target with the others through Tools/fuzz/Package.swift.
#   usage: Tools/fuzz/run-gguf-fuzzer.sh [seconds=60]
# New inputs that libFuzzer finds go to fuzz-out/gguf/corpus (git-ignored); crashes to fuzz-out/gguf/.
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/fuzz-out/gguf"
build="$out/build"
mkdir -p "$out/corpus" "$build"
flags=(-sanitize=fuzzer,address -parse-as-library -O -swift-version 6)
# Kernels contributes only GGMLType (the type-id table) to the reader.
swiftc "${flags[@]}" -module-name Kernels -emit-module -emit-module-path "$build/Kernels.swiftmodule" \
    -c "$root/Sources/Kernels/Quant/GGMLType.swift" -o "$build/Kernels.o"
swiftc "${flags[@]}" -module-name GGUF -I "$build" -emit-module -emit-module-path "$build/GGUF.swiftmodule" \
    -wmo -c "$root"/Sources/GGUF/*.swift -o "$build/GGUF.o"
swiftc "${flags[@]}" -module-name fuzz_gguf -I "$build" "$build/Kernels.o" "$build/GGUF.o" \
    "$root/Tools/fuzz/Targets/gguf/GGUFFuzzTarget.swift" -o "$out/gguf-fuzzer"
SWIFT_BACKTRACE=enable=no "$out/gguf-fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
    -artifact_prefix="$out/" "$out/corpus" "$root/Tools/fuzz/corpus/gguf"
