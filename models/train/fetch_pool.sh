#!/usr/bin/env bash
# The unlabelled pool: real, freely licensed music from Debian's game/music packages, fetched
# by package name (apt-get download + dpkg-deb -x; nothing is installed, no root needed for the
# extraction). Never committed: it is cached under work-data/pool (resumable per package).
#
#     bash models/train/fetch_pool.sh            every package of the list below
#     bash models/train/fetch_pool.sh PKG ...    only these
#
# Per package: the music files (paths per package below; zip/pk3 members where the game keeps
# them), files shorter than MIN_SEC (default 30 s: jingles, stingers, effects) dropped, Opus
# (warzone2100) re-encoded to Ogg Vorbis (earmark's decoder has no Opus), Frets-on-Fire stems
# mixed into one song, the package's copyright file kept beside the audio. Then, over the whole
# pool: exact duplicates removed by sha256 (the same tracks ship in several packages) and
# work-data/pool/manifest.tsv written: package, version, licence, file, duration_s, sha256.
# The list is ../shared/notes/debian-music.md's default: free licences, no tracker modules.
# Needs apt-get (run `apt-get update` once), dpkg-deb, unzip, ffmpeg, ffprobe.
# Measured: ~20 min on 2 cores, 5.3 GB downloaded, ~2 GB kept, peak temp disk ~4.5 GB.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
POOL=${EARMARK_POOL:-$ROOT/work-data/pool}
AUDIO=$POOL/audio
TMP=${EARMARK_POOL_TMP:-$POOL/.tmp}
MIN_SEC=${MIN_SEC:-30}
mkdir -p "$AUDIO" "$POOL/done" "$POOL/copyright"

# package ; egrep on the path inside the unpacked tree ; zip/pk3 file:member glob ; egrep of names to drop
SPEC='
0ad-data;-;public.zip:audio/music/*;-
ufoai-music;-;0music.pk3:music/*;dynamictest
warzone2100-music;/music/.*\.opus$;-;-
wesnoth-1.16-music;/music/.*\.ogg$;-;-
naev-data;/snd/music/.*\.ogg$;-;-
supertux-data;/supertux2/music/.*\.ogg$;-;-
hedgewars-data;/Data/Music/.*\.ogg$;-;-
widelands-data;/data/music/.*\.ogg$;-;-
nexuiz-music;-;music.pk3:sound/cdtracks/*;thunder
colobot-common-sounds;/music/.*\.ogg$;-;-
singularity-music;/music/.*\.ogg$;-;-
marsshooter-data;/audio/(music/.*|menu|tutorial)\.ogg$;-;-
supertuxkart-data;/data/music/.*\.ogg$;-;_fast\.ogg|_f\.ogg
freedroidrpg-data;/(sound/music|titles)/.*\.ogg$;-;-
flare-game;/music/.*\.ogg$;-;ambient
pushover-data;/themes/.*\.ogg$;-;-
megaglest-data;/music/.*\.ogg$;-;-
starfighter-data;/starfighter/music/.*\.ogg$;-;-
warmux-data;/warmux/music/.*\.ogg$;-;-
openclonk-data;/Music\.ocg/.*\.ogg$;-;-
fillets-ng-data;/fillets-ng/music/.*\.ogg$;-;-
hyperrogue-music;/music/.*\.ogg$;-;-
zaz-data;/zaz/mus[0-9]+\.ogg$;-;-
asc-music;/music/.*\.mp3$;-;-
ardentryst;/ardentryst/Music/.*\.ogg$;-;-
fretsonfire-songs-muldjord;/songs/.*/(song|guitar)\.ogg$;-;-
fretsonfire-songs-sectoid;/songs/.*/(song|guitar)\.ogg$;-;-
frozen-bubble-data;/snd/.*zik.*\.ogg$;-;-
xmoto-data;/Musics/.*\.ogg$;-;-
btanks-data;/data/tunes/.*\.ogg$;-;-
openarena-088-data;-;pak6-patch088.pk3:music/*;-
freeorion-data;artificial_intelligence.*\.ogg$;-;-
lincity-ng-data;/lincity-ng/music/.*\.ogg$;-;-
neverball-common;/neverball/bgm/.*\.ogg$;-;-
extremetuxracer-data;/etr/music/.*\.ogg$;-;-
pathological;/pathological/music/.*\.ogg$;-;-
powermanga-data;/handheld_console/music_.*\.ogg$;-;-
pinball-data;/pinball/(professor/professor|tux/(game|intro))\.ogg$;-;-
scorched3d-data;/data/music/.*\.ogg$;-;-
'

dur() { ffprobe -v quiet -show_entries format=duration -of csv=p=0 "$1" 2>/dev/null || echo 0; }

# The licence as the package's machine-readable copyright file states it (first License: line),
# else "see copyright" (the file itself is kept in $POOL/copyright/PKG).
licence_of() {
  local f=$1 l
  l=$(grep -m1 -E '^License:' "$f" 2>/dev/null | sed 's/^License:[[:space:]]*//') || true
  printf '%s' "${l:-see copyright}"
}

fetch_one() {
  local pkg=$1 re=$2 zipspec=$3 drop=$4
  local t="$TMP/$pkg" o="$AUDIO/$pkg"
  rm -rf "$t" "$o"; mkdir -p "$t/root" "$o"
  ( cd "$t" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null )
  local deb; deb=$(ls "$t"/*.deb)
  local ver; ver=$(dpkg-deb -f "$deb" Version)
  dpkg-deb -x "$deb" "$t/root"
  rm -f "$deb"
  local cp_file; cp_file=$(find "$t/root" -path "*/doc/$pkg/copyright" | head -n1)
  if [ -n "$cp_file" ]; then cp -- "$cp_file" "$POOL/copyright/$pkg"; else : > "$POOL/copyright/$pkg"; fi
  if [ "$re" != "-" ]; then
    find "$t/root" -type f | grep -E -- "$re" | while IFS= read -r f; do
      rel=${f#"$t/root/"}; rel=${rel#usr/share/}; rel=${rel#games/}
      cp -- "$f" "$o/$(printf '%s' "$rel" | tr '/ ' '__')"
    done || true
  fi
  if [ "$zipspec" != "-" ]; then
    local z=${zipspec%%:*} glob=${zipspec#*:}
    find "$t/root" -type f -name "$z" | while IFS= read -r zf; do
      unzip -q -j -o "$zf" "$glob" -d "$o" || true
    done
  fi
  rm -rf "$t"
  if [ "$drop" != "-" ]; then
    find "$o" -type f | grep -E -- "$drop" | while IFS= read -r f; do rm -f -- "$f"; done || true
  fi
  find "$o" -type f | while IFS= read -r f; do
    d=$(dur "$f"); awk -v d="$d" -v m="$MIN_SEC" 'BEGIN{exit !(d+0 < m+0)}' && rm -f -- "$f" || true
  done
  find "$o" -type f -name '*.opus' | while IFS= read -r f; do
    ffmpeg -nostdin -v error -y -i "$f" -c:a libvorbis -q:a 5 "${f%.opus}.ogg" && rm -f -- "$f"
  done
  if [[ $pkg == fretsonfire-songs-* ]]; then
    for s in "$o"/*_song.ogg; do
      g=${s%_song.ogg}_guitar.ogg
      [ -f "$g" ] || continue
      ffmpeg -nostdin -v error -y -i "$s" -i "$g" \
        -filter_complex amix=inputs=2:duration=longest:normalize=0 \
        -c:a libvorbis -q:a 5 "${s%_song.ogg}_mix.ogg" && rm -f -- "$s" "$g"
    done
  fi
  printf '%s\t%s\n' "$ver" "$(licence_of "$POOL/copyright/$pkg")" > "$POOL/done/$pkg"
  printf '%-28s %-24s %4d files %7.1f MB\n' "$pkg" "$ver" "$(find "$o" -type f | wc -l)" \
    "$(du -sm "$o" | cut -f1)" >&2
}

echo "$SPEC" | while IFS=';' read -r pkg re zipspec drop; do
  [ -z "$pkg" ] && continue
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx -- "$pkg"; then continue; fi
  [ -f "$POOL/done/$pkg" ] && continue   # resumable: a finished package is kept
  fetch_one "$pkg" "$re" "$zipspec" "$drop" || echo "FAILED $pkg (see above)" >&2
done
rm -rf "$TMP"

# Exact duplicates across the pool (keep the first by path order), then the manifest.
MAN=$POOL/manifest.tsv
printf 'package\tversion\tlicence\tfile\tduration_s\tsha256\n' > "$MAN.tmp"
declare -A seen=()
while IFS= read -r f; do
  h=$(sha256sum -- "$f" | cut -d' ' -f1)
  if [ -n "${seen[$h]:-}" ]; then rm -f -- "$f"; echo "duplicate removed: $f (= ${seen[$h]})" >&2; continue; fi
  seen[$h]=$f
  rel=${f#"$AUDIO/"}; pkg=${rel%%/*}
  IFS=$'\t' read -r ver lic < "$POOL/done/$pkg"
  printf '%s\t%s\t%s\t%s\t%.1f\t%s\n' "$pkg" "$ver" "$lic" "$rel" "$(dur "$f")" "$h" >> "$MAN.tmp"
done < <(find "$AUDIO" -type f | LC_ALL=C sort)
mv "$MAN.tmp" "$MAN"
awk -F'\t' 'NR>1{n++; s+=$5; p[$1]=1} END{np=0; for(k in p) np++;
  printf "pool: %d files, %.1f hours, %d packages -> %s\n", n, s/3600, np, FILENAME}' "$MAN"
