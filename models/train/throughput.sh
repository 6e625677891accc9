#!/usr/bin/env bash
# Library throughput: `earmark classify --jobs J` over a folder of N long tracks, and the
# projection for 10 000 tracks.
#
#     bash models/train/throughput.sh [N=500] [MODEL=fast] [JOBS=2] [WINDOWS=default]
#
# The folder is N symlinks cycling over the tracks longer than 45 s in ../shared/music
# (EARMARK_MUSIC), so every track is a real multi-minute file analysed with the default
# windows; they sit in the page cache after the first pass (a cold disk adds read time).
# Uses target/release/earmark (EARMARK_BIN to override).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${1:-500}"; MODEL="${2:-fast}"; JOBS="${3:-2}"; WINDOWS="${4:-}"
MUSIC="${EARMARK_MUSIC:-$ROOT/../shared/music}"
BIN="${EARMARK_BIN:-$ROOT/target/release/earmark}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
mapfile -t LONG < <(for f in "$MUSIC"/*; do
  d=$("$BIN" info --json "$f" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["audio"]["duration_s"] or 0)' 2>/dev/null || echo 0)
  python3 -c "import sys; sys.exit(0 if float('$d') > 45 else 1)" && echo "$f"
done)
[ "${#LONG[@]}" -gt 0 ] || { echo "no tracks > 45 s in $MUSIC" >&2; exit 2; }
for i in $(seq 0 $((N - 1))); do
  src="${LONG[$((i % ${#LONG[@]}))]}"
  ln -s "$(realpath "$src")" "$TMP/$(printf %05d "$i").${src##*.}"
done
"$BIN" classify --jobs "$JOBS" --model "$MODEL" ${WINDOWS:+--windows "$WINDOWS"} "$TMP" > /dev/null 2>&1 || true   # warm the page cache
S=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$TMP/cpu" \
  "$BIN" classify --jobs "$JOBS" --model "$MODEL" ${WINDOWS:+--windows "$WINDOWS"} --csv "$TMP" > "$TMP/out.csv" 2> /dev/null
E=$(date +%s.%N)
ok=$(cut -d, -f1 "$TMP/out.csv" | tail -n +2 | sort -u | wc -l)
python3 - "$N" "$ok" "$S" "$E" "$MODEL" "$JOBS" "${#LONG[@]}" "$(tail -1 "$TMP/cpu")" <<'PY'
import sys
n, ok, s, e, model, jobs, distinct, cpu = sys.argv[1:]
n, ok, t, jobs = int(n), int(ok), float(e) - float(s), int(jobs)
cpu = sum(float(x) for x in cpu.split())
print(f"model {model}, --jobs {jobs}: {ok}/{n} tracks ({distinct} distinct long files) in {t:.1f} s wall = "
      f"{n / t:.1f} tracks/s, projected 10 000 tracks: {10000 * t / n / 60:.1f} min; "
      f"CPU {1000 * cpu / n:.0f} ms per track, i.e. {10000 * cpu / n / jobs / 60:.1f} min for 10 000 "
      f"tracks on {jobs} idle cores")
PY
