#!/bin/sh
# Regenerate the benchmark clip from ../shared/music (needs ffmpeg; made with 5.1):
# a 30-s excerpt shaped like a GTZAN clip (mono, 22 050 Hz, Ogg Vorbis quality 2).
# Keep CREDITS in step with any change here.
set -eu
cd "$(dirname "$0")"
M=${MUSIC:-../../../shared/music}
ffmpeg -hide_banner -loglevel error -y -ss 60 -t 30 -i "$M/singularity-nebula.ogg" -map_metadata -1 \
  -ac 1 -ar 22050 -c:a libvorbis -q:a 2 -fflags +bitexact -flags:a +bitexact nebula-30s.ogg
