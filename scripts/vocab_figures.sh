#!/usr/bin/env bash
# "Your genres" figures for the README (issue 16, item 6), measured on data
# nobody tuned on. Re-run:  bash scripts/vocab_figures.sh [accurate|fast]
#
# 1. GTZAN as a user's library: copies of the `train` clips, in folders of ten
#    consecutive clips (GTZAN's artists come in consecutive blocks: a folder is
#    an "album"), tagged with their genre by `earmark tag`; `earmark learn`
#    on them; then `earmark eval --head` on `valid` (untagged, never seen)
#    next to the shipped GTZAN head on the same clips.
# 2. A genre GTZAN lacks: `Soundtrack`, from ../shared/music (six tracks, cut
#    into 30-s excerpts, one folder per track), learned next to the GTZAN
#    library; leave-one-track-out: is a held-out track's excerpt called
#    Soundtrack, unsure, or something else?
# 3. Retrieval: precision@10 of `earmark similar` on GTZAN valid (same genre
#    among the 10 nearest), for the chosen model.
#
# Needs: ffmpeg (to cut excerpts), python3 (to read JSON). Everything goes under
# $WORK (default target/vocab-figures) with its own cache and XDG_DATA_HOME.
set -euo pipefail
MODEL="${1:-accurate}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
GTZAN="${EARMARK_GTZAN:-../shared/gtzan}"
MUSIC="${EARMARK_MUSIC:-../shared/music}"
WORK="${EARMARK_VOCAB_WORK:-target/vocab-figures}"
JOBS="${EARMARK_JOBS:-2}"
if [ -n "${EARMARK_BIN:-}" ]; then
  BIN="$EARMARK_BIN"
else
  cargo build --release --quiet
  BIN="$ROOT/target/release/earmark"
fi
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
export EARMARK_CACHE_DIR="$WORK/cache" XDG_DATA_HOME="$WORK/data"
say() { echo "== $*" >&2; }

# 1. the tagged GTZAN library (built once; the tags are real writes)
LIB="$WORK/gtzan-lib"
if [ ! -f "$LIB/.done" ]; then
  rm -rf "$LIB"
  for dir in "$GTZAN"/train/*/; do
    genre="$(basename "$dir")"
    for f in "$dir"*; do
      n="$(basename "$f" | sed -E 's/^[a-z]+\.0*([0-9]+)\..*/\1/')"
      album="$LIB/$genre-$(printf '%02d' $(( n / 10 )))"
      mkdir -p "$album"
      cp "$f" "$album/"
    done
    "$BIN" tag --genre "$genre" "$LIB"/"$genre"-* --json > /dev/null
  done
  touch "$LIB/.done"
fi
say "learn on GTZAN train ($MODEL)"
"$BIN" learn "$LIB" --model "$MODEL" --min-tracks 1 --jobs "$JOBS" \
  --out "$WORK/gtzan-$MODEL.json" | tee "$WORK/learn-gtzan-$MODEL.txt"
say "valid: learned head vs shipped head ($MODEL)"
"$BIN" eval "$GTZAN/valid" --model "$MODEL" --head "$WORK/gtzan-$MODEL.json" --jobs "$JOBS" \
  | tee "$WORK/eval-learned-$MODEL.txt" | head -4
"$BIN" eval "$GTZAN/valid" --model "$MODEL" --jobs "$JOBS" \
  | tee "$WORK/eval-shipped-$MODEL.txt" | head -4

# 2. Soundtrack, leave one track out
EX="$WORK/soundtrack"
if [ ! -f "$EX/.done" ]; then
  rm -rf "$EX"
  for f in "$MUSIC"/*.ogg; do
    t="$(basename "$f" .ogg)"
    mkdir -p "$EX/$t"
    ffmpeg -loglevel error -i "$f" -f segment -segment_time 30 -c:a libvorbis -q:a 4 \
      "$EX/$t/$t-%02d.ogg"
  done
  # the last piece of a track may be a few seconds: keep excerpts of >= 20 s
  for f in "$EX"/*/*.ogg; do
    d="$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f")"
    python3 -c "import sys; sys.exit(0 if float('$d') >= 20 else 1)" || rm "$f"
  done
  touch "$EX/.done"
fi
# the six tracks' excerpts tagged once; each round moves one track out
"$BIN" tag --genre Soundtrack "$EX" --json > /dev/null
LOTO="$WORK/loto-$MODEL.txt"
: > "$LOTO"
mkdir -p "$WORK/heldout"
for held in "$EX"/*/; do
  t="$(basename "$held")"
  mv "$EX/$t" "$WORK/heldout/$t"   # mv keeps mtimes; moved back, its cache entries match again
  "$BIN" learn "$LIB" "$EX" --model "$MODEL" --min-tracks 1 --jobs "$JOBS" \
    --out "$WORK/loto-$MODEL.json" > /dev/null
  "$BIN" classify "$WORK/heldout/$t" --model "$MODEL" --head "$WORK/loto-$MODEL.json" \
    --json --jobs "$JOBS" | python3 -c "
import json, sys
for r in json.load(sys.stdin):
    print('$t', r['path'].rsplit('/', 1)[-1], r.get('suggestion'), (r.get('top') or [{}])[0].get('genre'))
" | tee -a "$LOTO"
  mv "$WORK/heldout/$t" "$EX/$t"
done
python3 - "$LOTO" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
n = len(rows)
said = sum(r[2] == "Soundtrack" for r in rows)
unsure = sum(r[2] == "unsure" for r in rows)
top = sum(r[3] == "Soundtrack" for r in rows)
print(f"soundtrack leave-one-track-out: {n} excerpts of 6 tracks; confident 'Soundtrack' {said}, "
      f"unsure {unsure}, another genre {n - said - unsure}; top candidate Soundtrack {top}/{n}")
PY

# 3. precision@10 of similar on GTZAN valid
P10="$WORK/p10-$MODEL.txt"
: > "$P10"
for f in "$GTZAN"/valid/*/*; do
  "$BIN" similar "$f" "$GTZAN/valid" --model "$MODEL" --top 10 --json --jobs "$JOBS" \
    | python3 -c "
import json, os, sys
q = os.path.basename(os.path.dirname('$f'))
near = json.load(sys.stdin)
print(sum(os.path.basename(os.path.dirname(n['path'])) == q for n in near) / max(len(near), 1))
" >> "$P10"
done
python3 -c "
v = [float(l) for l in open('$P10')]
print(f'precision@10 of similar on GTZAN valid ($MODEL): {sum(v)/len(v):.3f} over {len(v)} queries')"
