#!/usr/bin/env bash
# One run, one machine, every speed figure earmark claims, with ratios against
# baselines measured in the same run:
#   1. the original Python project's feature path vs `earmark classify`, on the
#      same 50 GTZAN clips (per clip, one process / one job each);
#   2. earmark throughput with --jobs 1 and --jobs 2, per shipped model;
#   3. a 500-track run of 4-minute mp3s, projected to a 10 000-track library;
#   4. library scan of a generated 100 000-file tree and the TUI's first frame
#      (criterion bench `scan`), and TUI frame / key latency while two workers
#      classify (tests/tui_perf.rs, an ignored test run here in release).
# Usage: bash scripts/bench.sh        (from the repo root; ../shared beside it)
# Env:   EARMARK_GTZAN (default ../shared/gtzan), BENCH_SKIP_PYTHON=1,
#        BENCH_TRACKS (default 500), BENCH_MODELS (default "fast accurate").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
GTZAN="${EARMARK_GTZAN:-../shared/gtzan}"
MUSIC="${EARMARK_MUSIC:-../shared/music}"
WORK="$ROOT/target/bench"
TRACKS="${BENCH_TRACKS:-500}"
MODELS="${BENCH_MODELS:-fast accurate}"
mkdir -p "$WORK"
export EARMARK_CACHE_DIR="$WORK/cache"   # never touch the user's cache

say() { echo "== $*" >&2; }
now() { date +%s.%N; }
ratio() { python3 -c "import sys; a,b=map(float,sys.argv[1:]); print(f'{a/b:.1f}')" "$1" "$2"; }
fmt() { python3 -c "import sys; print(f'{float(sys.argv[1]):.{int(sys.argv[2])}f}')" "$1" "$2"; }

command -v ffmpeg >/dev/null || { say "installing ffmpeg (to make the 4-minute mp3)"; apt-get install -y -qq ffmpeg >/dev/null; }

say "cargo build --release"
cargo build --release --quiet
EARMARK="$ROOT/target/release/earmark"

# The same 50 clips for every contender: every 7th file of train+valid, sorted.
[ -d "$GTZAN" ] || { echo "GTZAN not found at $GTZAN (set EARMARK_GTZAN)" >&2; exit 2; }
find "$GTZAN/train" "$GTZAN/valid" -maxdepth 2 -name '*.ogg' | sort | awk 'NR % 7 == 1' | head -50 >"$WORK/clips.txt"
mapfile -t CLIPS <"$WORK/clips.txt"
say "${#CLIPS[@]} GTZAN clips"

time_cmd() { # seconds taken by "$@" (output discarded)
  local t0 t1
  t0=$(now)
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
  t1=$(now)
  python3 -c "print($t1 - $t0)"
}

# 1. The original Python path.
PY_PER_CLIP=""
if [ -z "${BENCH_SKIP_PYTHON:-}" ]; then
  VENV="$WORK/py"
  # The marker is written last: an interrupted install is redone, not trusted.
  if ! cmp -s scripts/bench/requirements.txt "$VENV/.installed"; then
    say "creating $VENV (pinned: scripts/bench/requirements.txt)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r scripts/bench/requirements.txt
    cp scripts/bench/requirements.txt "$VENV/.installed"
  fi
  say "Python: librosa load + MFCC, mel, chroma, HPSS tonnetz, min/max/mean"
  PY_PER_CLIP=$(OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
    "$VENV/bin/python" scripts/bench/original_features.py "${CLIPS[@]}" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['per_clip'])")
fi

# 2. earmark on the same clips, per model.
declare -A PER_CLIP
echo
echo "| what | model | jobs | total s | ms per clip | vs Python |"
echo "|---|---|---|---|---|---|"
if [ -n "$PY_PER_CLIP" ]; then
  echo "| original Python features (no model) | – | 1 | $(fmt "$(python3 -c "print($PY_PER_CLIP*${#CLIPS[@]})")" 1) | $(fmt "$(python3 -c "print($PY_PER_CLIP*1000)")" 0) | 1.0× |"
fi
for m in $MODELS; do
  if ! "$EARMARK" classify --model "$m" --no-cache "${CLIPS[0]}" >/dev/null 2>&1; then
    say "model '$m' not available, skipped"; continue
  fi
  for j in 1 2; do
    t=$(time_cmd "$EARMARK" classify --model "$m" --no-cache --jobs "$j" "${CLIPS[@]}")
    per=$(python3 -c "print($t / ${#CLIPS[@]})")
    PER_CLIP[$m.$j]=$per
    vs="–"
    [ -n "$PY_PER_CLIP" ] && vs="$(ratio "$PY_PER_CLIP" "$per")×"
    echo "| earmark classify (decode + features + model) | $m | $j | $(fmt "$t" 2) | $(fmt "$(python3 -c "print($per*1000)")" 1) | $vs |"
  done
done

# 3. A library of 4-minute mp3s: measured on $TRACKS, projected to 10 000.
LONG="$WORK/four-minutes.mp3"
if [ ! -f "$LONG" ]; then
  ffmpeg -v error -y -i "$MUSIC/singularity-enemy-unknown.ogg" -t 240 -c:a libmp3lame -b:a 192k "$LONG"
fi
LIB="$WORK/library"
rm -rf "$LIB"; mkdir -p "$LIB"
for i in $(seq -w 1 "$TRACKS"); do ln "$LONG" "$LIB/track-$i.mp3"; done
echo
echo "| library run | model | jobs | tracks | total s | ms per track | 10 000 tracks (projected) |"
echo "|---|---|---|---|---|---|---|"
for m in $MODELS; do
  [ -n "${PER_CLIP[$m.1]:-}" ] || continue
  t=$(time_cmd "$EARMARK" classify --model "$m" --no-cache --jobs 2 "$LIB")
  per=$(python3 -c "print($t / $TRACKS)")
  proj=$(python3 -c "s=$per*10000; print(f'{s/60:.1f} min')")
  echo "| 4-minute mp3s | $m | 2 | $TRACKS | $(fmt "$t" 1) | $(fmt "$(python3 -c "print($per*1000)")" 1) | $proj |"
done
rm -rf "$LIB"

# 4. Scan, first frame and frame time under load (criterion).
echo
say "cargo bench --bench scan"
echo "criterion, library of 100 000 files (median in the middle):"
cargo bench --quiet --bench scan -- --warm-up-time 1 2>/dev/null |
  grep -B1 ' time: ' | grep -vE '^(--|Benchmarking)' | sed 's/^/    /'
echo
say "TUI frame time while two workers classify"
cargo test --release --quiet --test tui_perf -- --ignored --nocapture 2>&1 | grep -vE '^(running|test |$)' | sed 's/^/    /'

