#!/usr/bin/env bash
# Distil earmark's fast model (models/fast) from the accurate one (models/accurate), on CPU:
#
#     bash models/train/distill.sh          (or: bash models/train/run.sh --distill-only)
#
# run.sh calls this as its last stage. Alone, it needs the outputs of a previous run.sh in
# $EARMARK_TRAIN_WORK (the train-only teacher genre-trainonly.onnx + .json, and
# genre-ft-trainonly.onnx when the fine-tuned network ships).
#
# Two student architectures (EARMARK_STUDENT):
#   lite  musicnn-lite (lite.py, distill_lite.py): the teacher's own graph on
#         a coarser time/frequency grid with pruned front-end filters, initialised from musicnn's
#         weights and fine-tuned to reproduce the teacher's outputs, features and front-end map
#   cnn   (default, shipped) a small 1-D CNN over time trained from scratch (distill.py)
# Both see the same training pool (pool.py); models/fast/MODEL_CARD.md compares them.
#
# 1. earmark features on GTZAN train/valid/excerpts (unless run.sh just made them) and on the
#    long tracks in ../shared/music (teacher labels only; 24 windows of 6 s per long track)
# 2. honest protocol: distil a student from the TRAIN-ONLY teacher (the shipped teacher's twin:
#    genre-ft-trainonly.onnx when the fine-tuned network ships) on train (+excerpts/train)
#    + music (+ the pool less 4 held-out packages), and `earmark eval` it on valid (the card's
#    metrics, comparable with the teacher's); fidelity.py: its agreement with the teacher on
#    train, valid and the held-out packages; with the pool, the same without it beside it
# 3. the shipped student: the same settings, from the shipped teacher (models/accurate), on
#    train + valid + excerpts + music (+ the whole pool) -> models/fast/genre.onnx
# 4. long tracks: windows table (models/train/windows_table.py)
# 5. speed: cargo bench --bench classify (skip with EARMARK_SKIP_BENCH=1)
# 6. write_card.py --fast: models/fast/model.json and models/fast/MODEL_CARD.md;
#    add_embedding_output.py: the second ONNX output `embedding` (learn, similar)
#
# Environment overrides (as run.sh): EARMARK_GTZAN, EARMARK_TRAIN_WORK, EARMARK_JOBS,
# EARMARK_SEED, EARMARK_BIN, plus
#   EARMARK_MUSIC            unlabelled training audio (default ../shared/music); any folder of
#                            audio works, a file under a <genre>/ folder also gets a hard label
#   EARMARK_REUSE_FEATURES   1: keep the GTZAN features already in $WORK/features
#   EARMARK_STUDENT          cnn (default) or lite, see above
#   EARMARK_DISTILL_POOL     0: leave the pool out of the students (default 1: they learn on it
#                            whenever run.sh stage 5b made its features)
#   EARMARK_DISTILL_ARGS     extra arguments for distill.py / distill_lite.py (e.g. "--epochs 20")
#   EARMARK_EMB_WEIGHT       weight of the teacher's-embedding target (default 0.3; 0: off)
set -euo pipefail

START=$(date +%s)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
GTZAN="${EARMARK_GTZAN:-../shared/gtzan}"
MUSIC="${EARMARK_MUSIC:-../shared/music}"
WORK="${EARMARK_TRAIN_WORK:-target/train}"
JOBS="${EARMARK_JOBS:-2}"
SEED="${EARMARK_SEED:-0}"
PY=models/train/.venv/bin/python
export TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES="" PYTHONHASHSEED="$SEED"
export OMP_NUM_THREADS="$JOBS"
# shellcheck disable=SC2206
EXTRA=(${EARMARK_DISTILL_ARGS:-})
case "${EARMARK_STUDENT:-cnn}" in
  cnn) DISTILL=models/train/distill.py ;;
  lite) DISTILL=models/train/distill_lite.py ;;
  *) echo "EARMARK_STUDENT is cnn or lite, not ${EARMARK_STUDENT}" >&2; exit 2 ;;
esac

step() { echo "== distill [$(( $(date +%s) - START ))s] $*" >&2; }

[ -d "$GTZAN/train" ] && [ -d "$GTZAN/valid" ] || {
  echo "GTZAN not found at $GTZAN (set EARMARK_GTZAN)" >&2; exit 2; }
"$PY" -c "import tensorflow, tf2onnx, onnx, onnxruntime" 2>/dev/null || {
  echo "no training venv at models/train/.venv: run bash models/train/run.sh once" >&2; exit 2; }
[ -f "$WORK/genre-trainonly.onnx" ] && [ -f "$WORK/genre-trainonly.json" ] || {
  echo "no train-only teacher in $WORK: run bash models/train/run.sh (it makes it)" >&2; exit 2; }
# the train-only twin of the teacher that ships: the fine-tuned network when finetune_cv.py
# exported one (ft_export.json), else the head train.py made
TEACHER_TO="$WORK/genre-trainonly.onnx"
if [ -f "$WORK/ft_export.json" ] && [ -f "$WORK/genre-ft-trainonly.onnx" ]; then
  TEACHER_TO="$WORK/genre-ft-trainonly.onnx"
  # musicnn-lite copies the teacher's genre head (head_W0...) into its graph: the fine-tuned
  # network has its own back-end instead, so lite cannot start from it
  [ "$DISTILL" = models/train/distill_lite.py ] && {
    echo "EARMARK_STUDENT=lite needs a teacher whose genre head is a logistic regression on" \
      "[penultimate, taggram]; the shipped teacher is the fine-tuned network ($WORK/ft_export.json)" >&2
    exit 2; }
fi

# the auxiliary tag targets: the fine-tuned teacher's graph has no taggram, so MSD_musicnn's own
# 50 tags (the backbone run.sh exported), as stage 9's fold students learn them (distill.py only)
# The students also learn the teacher's embedding (MSD_musicnn's penultimate, the accurate model's
# `embedding` output) through a linear head exported as their own `embedding`, so that `learn` and
# `similar` see the teacher's space with fast too (weight EARMARK_EMB_WEIGHT, default 0.3: the CV
# test in next_steps kept it on non-inferiority; 0 gives the student's own last hidden layer instead)
TAGS=()
if [ "$DISTILL" = models/train/distill.py ] && [ -f "$WORK/musicnn_msd.onnx" ]; then
  TAGS=(--tags-from "$WORK/musicnn_msd.onnx" --emb-weight "${EARMARK_EMB_WEIGHT:-0.3}")
fi

if [ -n "${EARMARK_BIN:-}" ]; then
  EARMARK="$(cd "$(dirname "$EARMARK_BIN")" && pwd)/$(basename "$EARMARK_BIN")"
else
  step "cargo build --release"
  cargo build --release --quiet
  EARMARK="$ROOT/target/release/earmark"
fi

# 1. features
if [ "${EARMARK_REUSE_FEATURES:-0}" != 1 ]; then
  for pair in train:train valid:valid ex_train:excerpts/train ex_valid:excerpts/valid; do
    name="${pair%%:*}"; src="$GTZAN/${pair#*:}"
    rm -rf "$WORK/features/$name"
    if [ -d "$src" ]; then
      step "earmark features $src"
      "$EARMARK" features "$src" --out "$WORK/features/$name" --jobs "$JOBS" >&2
    fi
  done
fi
rm -rf "$WORK/features/music"
if [ -d "$MUSIC" ]; then
  step "earmark features $MUSIC (24 windows per long track)"
  "$EARMARK" features "$MUSIC" --out "$WORK/features/music" --jobs "$JOBS" --windows 24 >&2
fi
SETS_TR=train
for s in ex_train music; do [ -f "$WORK/features/$s/index.json" ] && SETS_TR="$SETS_TR,$s"; done
# the unlabelled pool (run.sh stage 5b made its features): the teacher alone teaches there. The
# train-only student never sees the held-out packages (pool.HELD_OUT_PACKAGES), so its agreement with
# the teacher on whole unseen packages can be measured; the shipped student sees every package.
POOL_FEAT="$WORK/pool_features/pool"
POOL_TR=(); POOL_ALL=(); POOL_FID=()
if [ -f "$POOL_FEAT/index.json" ] && [ "${EARMARK_DISTILL_POOL:-1}" = 1 ]; then
  HOLDOUT="$("$PY" -c 'import sys; sys.path.insert(0, "models/train"); import pool; print(pool.HELD_OUT_PACKAGES)')"
  POOL_TR=(--extra "$POOL_FEAT" --drop-labels "$HOLDOUT")
  POOL_ALL=(--extra "$POOL_FEAT")
  POOL_FID=(--pool "$POOL_FEAT" --packages "$HOLDOUT")
  step "the pool's features are in $POOL_FEAT: the students learn on it too"
fi

# 2. honest protocol: train-only teacher -> student on train-split data, eval on valid, and its
#    agreement with the teacher (fidelity.py). With the pool, the same student without it too
#    (tag trainonly_nopool), so the card shows what the pool gives on the same protocol.
honest_student() {  # TAG, then extra distill.py arguments
  local tag=$1; shift
  local out="$WORK/student-${tag//_/-}.onnx"
  step "distilling the train-only student $tag (sets $SETS_TR $*; monitor valid)"
  "$PY" "$DISTILL" --features "$WORK/features" --sets "$SETS_TR" --monitor valid \
    --teacher "$TEACHER_TO" --out "$out" --work "$WORK" \
    --tag "$tag" --card --seed "$SEED" --threads "$JOBS" ${TAGS[@]+"${TAGS[@]}"} "$@" "${EXTRA[@]}"
  step "earmark eval $GTZAN/valid (train-only student $tag)"
  "$EARMARK" eval "$GTZAN/valid" --model "$out" --json > "$WORK/eval_student_${tag}_valid.json"
  if [ -d "$GTZAN/excerpts/valid" ]; then
    "$EARMARK" eval "$GTZAN/excerpts/valid" --model "$out" --json \
      > "$WORK/eval_student_${tag}_ex_valid.json" || true
  fi
  step "student-teacher agreement (fidelity.py, $tag)"
  "$PY" models/train/fidelity.py --work "$WORK" --teacher "$TEACHER_TO" --student "$out" \
    --tag "$tag" --threads "$JOBS" ${POOL_FID[@]+"${POOL_FID[@]}"} >&2
}
honest_student trainonly ${POOL_TR[@]+"${POOL_TR[@]}"}
if [ ${#POOL_TR[@]} -gt 0 ]; then honest_student trainonly_nopool; fi
# the train-only teacher's figures, measured the same way by the same binary
"$EARMARK" eval "$GTZAN/valid" --model "$TEACHER_TO" --json > "$WORK/eval_teacher_trainonly_valid.json"
if [ -d "$GTZAN/excerpts/valid" ]; then
  "$EARMARK" eval "$GTZAN/excerpts/valid" --model "$TEACHER_TO" --json \
    > "$WORK/eval_teacher_trainonly_ex_valid.json" || true
fi

# 3. the shipped student: shipped teacher, every set
step "distilling the shipped student (every set) from models/accurate"
"$PY" "$DISTILL" --features "$WORK/features" --sets all \
  --teacher models/accurate/genre.onnx --out models/fast/genre.onnx --work "$WORK" \
  --tag shipped --seed "$SEED" --threads "$JOBS" ${TAGS[@]+"${TAGS[@]}"} ${POOL_ALL[@]+"${POOL_ALL[@]}"} "${EXTRA[@]}"

# its `embedding` output now, so the old card (which names it) fits the new file for steps 4-5
"$PY" models/train/add_embedding_output.py models/fast

# 4. long tracks: windows vs whole track, with the new student
if [ -d "$MUSIC" ]; then
  step "windows table on $MUSIC"
  "$PY" models/train/windows_table.py --earmark "$EARMARK" --model models/fast --music "$MUSIC" \
    --json "$WORK/windows_fast.json" >&2
fi

# 5. speed: criterion bench of both shipped models (rebuilds earmark with the new model embedded)
CRITERION="${CARGO_TARGET_DIR:-$ROOT/target}/criterion"
if [ "${EARMARK_SKIP_BENCH:-0}" != 1 ]; then
  step "cargo bench --bench classify"
  cargo bench --quiet --bench classify >&2
fi

# 6. card
step "writing models/fast/model.json and models/fast/MODEL_CARD.md"
"$PY" models/train/write_card.py --fast --work "$WORK" --model models/fast/genre.onnx \
  --data-root "$GTZAN" --criterion "$CRITERION" --wall-s "$(( $(date +%s) - START ))"
step "adding the embedding output (add_embedding_output.py; probs stay bit-identical)"
"$PY" models/train/add_embedding_output.py models/fast
step "done (rebuild earmark to embed the new model)"
