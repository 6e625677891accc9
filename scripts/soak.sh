#!/usr/bin/env bash
# Tag-writer soak tests (ignored by `cargo test`; minutes):
# - CYCLES write/undo cycles (default 1000) on copies of ../shared/music files,
#   checking the decoded audio after every step;
# - 1 000 generated quirky files tagged while `earmark tag` is SIGKILLed at
#   random moments (EARMARK_SOAK_FILES, EARMARK_SOAK_KILLS, EARMARK_SOAK_SEED),
#   then checked with mutagen and ffmpeg: 0 damaged, 0 leftovers.
# Usage: bash scripts/soak.sh [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
EARMARK_SOAK_CYCLES="${1:-1000}" cargo test --test tags_soak -- --ignored --nocapture --test-threads 1
