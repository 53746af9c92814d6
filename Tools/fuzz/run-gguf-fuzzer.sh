#!/usr/bin/env bash
# Builds the GGUF reader with libFuzzer + AddressSanitizer and runs it on the committed seed
# corpus for a bounded time.
#   usage: Tools/fuzz/run-gguf-fuzzer.sh [seconds=60]
# New inputs that libFuzzer finds go to fuzz-out/corpus (git-ignored); crashes to fuzz-out/.
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/fuzz-out"
mkdir -p "$out/corpus"
flags=(-sanitize=fuzzer,address -parse-as-library -O -swift-version 6)
# Kernels contributes only GGMLType (the type-id table) to the reader.
swiftc "${flags[@]}" -module-name Kernels -emit-module -emit-module-path "$out/Kernels.swiftmodule" \
    -c "$root/Sources/Kernels/Quant/GGMLType.swift" -o "$out/Kernels.o"
swiftc "${flags[@]}" -module-name GGUF -I "$out" "$out/Kernels.o" "$root"/Sources/GGUF/*.swift \
    "$root/Tools/fuzz/GGUFFuzzTarget.swift" -o "$out/gguf-fuzzer"
"$out/gguf-fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
    -artifact_prefix="$out/" "$out/corpus" "$root/Tools/fuzz/corpus"
