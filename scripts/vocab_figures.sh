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
#    among the 10 nearest), for the chosen model (`similar --each`).
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
STAGES="${EARMARK_STAGES:-1 2 3}"   # run only some stages, e.g. EARMARK_STAGES="2 3"
stage() { case " $STAGES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

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
    chmod -R u+w "$LIB"   # shared/ is read-only; the copies must be taggable
    "$BIN" tag --genre "$genre" "$LIB"/"$genre"-* --json > /dev/null
  done
  touch "$LIB/.done"
fi
if stage 1; then
say "learn on GTZAN train ($MODEL)"
"$BIN" learn "$LIB" --model "$MODEL" --min-tracks 1 --jobs "$JOBS" \
  --out "$WORK/gtzan-$MODEL.json" | tee "$WORK/learn-gtzan-$MODEL.txt"
say "valid: learned head vs shipped head ($MODEL)"
"$BIN" eval "$GTZAN/valid" --model "$MODEL" --head "$WORK/gtzan-$MODEL.json" --jobs "$JOBS" \
  > "$WORK/eval-learned-$MODEL.txt"
head -4 "$WORK/eval-learned-$MODEL.txt"
"$BIN" eval "$GTZAN/valid" --model "$MODEL" --jobs "$JOBS" > "$WORK/eval-shipped-$MODEL.txt"
head -4 "$WORK/eval-shipped-$MODEL.txt"
fi

# 2. Soundtrack, leave one track out
EX="$WORK/soundtrack"
if stage 2; then
if [ ! -f "$EX/.done" ]; then
  rm -rf "$EX"
  # one source per track (the folder holds some tracks in several formats,
  # and some deliberately broken files): the first that ffmpeg decodes
  for t in $(ls "$MUSIC" | grep -E '\.(ogg|flac|mp3|m4a|wav|aiff)$' | sed -E 's/(-alac)?\.[a-z0-9]+$//' | sort -u); do
    [ -d "$EX/$t" ] && continue
    # longest first: some formats hold only an excerpt of the track
    for f in $(for c in "$MUSIC/$t".* "$MUSIC/$t"-alac.*; do
        [ -f "$c" ] || continue
        echo "$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$c" 2>/dev/null || echo 0) $c"
      done | sort -rn | awk '{print $2}'); do
      d="$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f" 2>/dev/null)" || continue
      [ -n "$d" ] || continue
      mkdir -p "$EX/$t"
      ok=1
      # 30-s excerpts; a last piece shorter than 20 s is dropped
      for start in $(python3 -c "print(*range(0, max(int(float('$d')) - 19, 1), 30))"); do
        ffmpeg -nostdin -loglevel quiet -ss "$start" -t 30 -i "$f" -c:a libvorbis -q:a 4 \
          "$EX/$t/$t-$(printf '%03d' "$start").ogg" || { ok=0; break; }
      done
      [ "$ok" = 1 ] && break
      rm -rf "${EX:?}/$t"
    done
  done
  chmod -R u+w "$EX"
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

fi

# 3. precision@10 of similar on GTZAN valid: every valid clip is a query
#    against the other valid clips (`similar --each`: one model load)
if stage 3; then
P10="$WORK/p10-$MODEL.json"
"$BIN" similar "$GTZAN/valid" --each --model "$MODEL" --top 10 --json --jobs "$JOBS" > "$P10"
python3 - "$P10" "$MODEL" <<'PY'
import json, os, sys
rows = json.load(open(sys.argv[1]))
genre = lambda p: os.path.basename(os.path.dirname(p))
p = [sum(genre(n["path"]) == genre(r["query"]) for n in r["nearest"]) / max(len(r["nearest"]), 1)
     for r in rows]
print(f"precision@10 of similar on GTZAN valid ({sys.argv[2]}): {sum(p) / len(p):.3f} over {len(p)} queries")
PY
fi
