#!/bin/sh
# Regenerate the demo clips from ../shared/music (needs ffmpeg; made with 5.1).
# Keep CREDITS in step with any change here.
set -eu
cd "$(dirname "$0")"
M=${MUSIC:-../../shared/music}
FF="ffmpeg -hide_banner -loglevel error -y"
mkdir -p "Max McCracken" HyperRogue
$FF -ss 40 -t 15 -i "$M/singularity-awakening.ogg" -map_metadata -1 -c:a libmp3lame -q:a 5 -id3v2_version 3 \
  -metadata title="Awakening (excerpt)" -metadata artist="Max McCracken" -metadata album="Endgame: Singularity" \
  -metadata genre="Soundtrack" "Max McCracken/awakening.mp3"
$FF -ss 60 -t 10 -i "$M/singularity-nebula.ogg" -map_metadata -1 -ar 44100 -sample_fmt s16 -c:a flac -compression_level 8 \
  -metadata title="Nebula (excerpt)" -metadata artist="Max McCracken" -metadata album="Endgame: Singularity" \
  "Max McCracken/nebula.flac"
$FF -ss 45 -t 15 -i "$M/singularity-enemy-unknown.ogg" -map_metadata -1 -c:a aac -b:a 96k \
  -metadata title="Enemy Unknown (excerpt)" -metadata artist="Max McCracken" -metadata album="Endgame: Singularity" \
  "Max McCracken/enemy-unknown.m4a"
$FF -ss 10 -t 15 -i "$M/hyperrogue-desert.ogg" -map_metadata -1 -c:a libvorbis -q:a 2 \
  -metadata title="Desert (excerpt)" -metadata artist="Shawn Parrotte" -metadata album="HyperRogue 3" \
  "HyperRogue/desert.ogg"
$FF -ss 5 -t 15 -i "$M/hyperrogue-caribbean.m4a" -map_metadata -1 -c:a aac -b:a 96k \
  -metadata title="Caribbean (excerpt)" -metadata artist="Will Savino" -metadata album="HyperRogue" \
  "HyperRogue/caribbean.m4a"
$FF -ss 20 -t 10 -i "$M/hyperrogue-hell.ogg" -map_metadata -1 -ac 1 -ar 22050 -c:a pcm_s16le \
  -fflags +bitexact -flags:a +bitexact "HyperRogue/hell.wav"
$FF -ss 100 -t 15 -i "$M/hyperrogue-hell.ogg" -map_metadata -1 -c:a libvorbis -q:a 1 "hell-reprise.ogg"
