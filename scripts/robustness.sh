#!/usr/bin/env bash
# How much a genre depends on how the file was made: every clip of a labelled
# folder (<genre>/<file>) re-made by ffmpeg as a library holds music (MP3 and
# AAC at 44.1 kHz stereo, Opus, FLAC at 48 kHz, and the same clip 12 and 6 dB
# quieter and 6 dB louder), classified by each shipped model; printed per
# variant: accuracy, how often the top genre stays that of the clip as it came,
# and how far the probabilities move (total variation, median / 90th pct / max).
# Usage: bash scripts/robustness.sh [LABELLED_DIR]   (default ../shared/gtzan/valid)
# Env:   EARMARK_BIN (default: cargo build --release), ROBUSTNESS_MODELS
#        (default "accurate fast"). Work under target/robustness.
# The shipped models are fitted on train + valid: on valid, read the agreement
# columns, not accuracy, as the held-out figure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SRC="$(realpath "${1:-../shared/gtzan/valid}")"
WORK="$ROOT/target/robustness"
MODELS="${ROBUSTNESS_MODELS:-accurate fast}"
[ -d "$SRC" ] || { echo "no labelled folder at $SRC" >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo "ffmpeg is needed to make the variants" >&2; exit 2; }
if [ -z "${EARMARK_BIN:-}" ]; then
  cargo build --release --quiet
  EARMARK_BIN="$ROOT/target/release/earmark"
fi
export EARMARK_CACHE_DIR="$WORK/cache"   # never touch the user's cache
mkdir -p "$WORK"

declare -A ARGS=(
  [mp3]="-ar 44100 -ac 2 -c:a libmp3lame -b:a 192k|mp3"
  [aac]="-ar 44100 -ac 2 -c:a aac -b:a 128k|m4a"
  [opus]="-ac 2 -c:a libopus -b:a 96k|opus"
  [flac48]="-ar 48000 -ac 2 -c:a flac|flac"
  [gain-12]="-af volume=-12dB -c:a flac|flac"
  [gain-6]="-af volume=-6dB -c:a flac|flac"
  [gain+6]="-af volume=6dB -c:a pcm_f32le|wav"
)
VARIANTS="mp3 aac opus flac48 gain-12 gain-6 gain+6"
mapfile -t CLIPS < <(cd "$SRC" && find . -mindepth 2 -maxdepth 2 -type f | sort)
echo "== ${#CLIPS[@]} clips from $SRC" >&2
for v in $VARIANTS; do
  IFS='|' read -r opts ext <<<"${ARGS[$v]}"
  for c in "${CLIPS[@]}"; do
    out="$WORK/$v/${c%.*}.$ext"
    [ -s "$out" ] && continue
    mkdir -p "$(dirname "$out")"
    # shellcheck disable=SC2086 # the options are words
    ffmpeg -v error -y -i "$SRC/$c" $opts "$out"
  done
done
for m in $MODELS; do
  "$EARMARK_BIN" classify --json --no-cache --model "$m" "$SRC" >"$WORK/as-made_$m.json"
  for v in $VARIANTS; do
    "$EARMARK_BIN" classify --json --no-cache --model "$m" "$WORK/$v" >"$WORK/${v}_$m.json"
  done
  echo "== model $m" >&2
  python3 scripts/robustness.py "$WORK/as-made_$m.json" $(for v in $VARIANTS; do echo "$WORK/${v}_$m.json"; done)
done
