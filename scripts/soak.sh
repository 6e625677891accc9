#!/usr/bin/env bash
# Tag-writer soak test: CYCLES write/undo cycles (default 1000) on copies of
# ../shared/music files, checking the decoded audio after every step.
# Usage: bash scripts/soak.sh [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
EARMARK_SOAK_CYCLES="${1:-1000}" cargo test --release --test tags_soak -- --ignored --nocapture
