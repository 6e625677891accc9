#!/usr/bin/env bash
# Smoke test of the recipe's feature -> head -> export path on a handful of clips (a few
# minutes on 2 cores; not part of CI: it needs the training venv, TensorFlow and GTZAN).
#
#     bash models/train/smoke_test.sh
#
# Takes PER_GENRE clips of each genre from GTZAN train and valid (default 3; CV needs >= 5 per
# genre over both splits, so at least 3), runs
# `earmark features` on them, exports the MSD_musicnn backbone (reused from target/train when
# there), runs cv.py (1 repeat, clip-mean route only) and train.py on the result, then loads
# the exported model in onnxruntime and checks it gives one probability row per patch that sums
# to 1. Fails (non-zero) on any error. Scratch in target/train-smoke.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
GTZAN="${EARMARK_GTZAN:-../shared/gtzan}"
PER_GENRE="${PER_GENRE:-3}"
WORK=target/train-smoke
PY=models/train/.venv/bin/python
EARMARK="${EARMARK_BIN:-target/debug/earmark}"
[ -x "$PY" ] || { echo "no venv: create it as models/train/run.sh does" >&2; exit 2; }
[ -x "$EARMARK" ] || cargo build --quiet
export TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES="" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

rm -rf "$WORK"; mkdir -p "$WORK/clips"
for split in train valid; do
  for g in "$GTZAN/$split"/*/; do
    genre=$(basename "$g")
    mkdir -p "$WORK/clips/$split/$genre"
    find "$g" -type f | sort | head -n "$PER_GENRE" | while IFS= read -r f; do
      ln -s "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$WORK/clips/$split/$genre/"
    done
  done
  "$EARMARK" features "$WORK/clips/$split" --out "$WORK/features/$split" --jobs 2
done
BACKBONE=target/train/musicnn_msd.onnx
if [ ! -f "$BACKBONE" ]; then
  BACKBONE="$WORK/musicnn_msd.onnx"
  "$PY" models/train/export_musicnn.py --out "$BACKBONE"
fi
"$PY" models/train/cv.py --features "$WORK/features" --backbones "msd=$BACKBONE" --work "$WORK" \
  --splits "$GTZAN/splits" --repeats 1 --only "clipmean[msd_pen]"
"$PY" models/train/train.py --features "$WORK/features" --backbone "$BACKBONE" --work "$WORK" \
  --out "$WORK/genre.onnx" --cv "$WORK/cv_results.json" --threads 1
"$PY" - "$WORK" <<'PYEOF'
import os
import sys

import numpy as np

sys.path.insert(0, "models/train")
from earmark_train.data import Clips
from earmark_train.onnx_utils import session

work = sys.argv[1]
patches, _ = Clips(os.path.join(work, "features", "valid"), "valid").patches()
(p,) = session(os.path.join(work, "genre.onnx")).run(["probs"], {"mel": patches[:8]})
assert p.shape == (min(8, len(patches)), 10), p.shape
assert np.allclose(p.sum(1), 1.0, atol=1e-5), p.sum(1)
print(f"smoke test passed: {p.shape[0]} patches -> probs rows summing to 1")
PYEOF
