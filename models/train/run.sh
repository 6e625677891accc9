#!/usr/bin/env bash
# Rebuild earmark's genre models, end to end, on CPU:
#
#     bash models/train/run.sh                  accurate model, then the fast one distilled from it
#     bash models/train/run.sh --distill-only   only the fast model (models/train/distill.sh)
#
# 1. creates/uses the pinned venv models/train/.venv
# 2. cargo build --release (earmark computes every feature the model sees)
# 3. exports the musicnn MSD and MTT backbones to ONNX (target/train/musicnn_{msd,mtt}.onnx)
# 4. earmark features on GTZAN train, valid, excerpts/train, excerpts/valid
# 5. cv.py: every head route scored by grouped (artist-conscious), repeated 5-fold
#    cross-validation over train + valid (+ excerpts); the best CV score is selected;
#    out-of-fold predictions for every clip (target/train/cv_oof_*.json)
#    train.py: the selected head, exported train-only and refit on train + valid
#    (+ excerpts) -> models/accurate/genre.onnx
# 6. earmark eval of the train-only model on valid (the card's metrics)
# 7. write_card.py: models/accurate/model.json and models/accurate/MODEL_CARD.md;
#    add_embedding_output.py: the second ONNX output `embedding` (learn, similar)
#    optimise_graph.py: exact rewrites that make the graph cheaper in tract (pool the
#    front-end's maps over frequency before their Relu and batch norm; outputs within 1e-5)
#    5a. teacher_profile.py: the accurate model's time per operator (the card's table)
#    5b. with the pool fetched (work-data/pool, EARMARK_POOL): its features, selftrain.py
#    (self-training scored by the same CV) and distill_pool.py (students with/without the pool)
#    5c. finetune_cv.py: fine-tuning musicnn's genre layer, back-end and mid-end with
#    augmentation, scored on cv.py's folds (the card reports it, kept or not)
# 8. distill.sh: the fast student models/fast/ (see that script; it learns on the pool too when
#    5b made the pool's features, unless EARMARK_DISTILL_POOL=0)
# 9. cv_student.py: the student's cross-validated figure on cv.py's folds (per fold, the shipped
#    accurate recipe fitted on the fold's training items (finetune_cv.py --student-teachers: the
#    fold's fine-tuned back-end averaged with the head; the head alone when 5c shipped nothing)
#    teaches a student with the shipped architecture and loss, on the same unlabelled audio as the
#    shipped student; student and teacher scored on the same held-out items), into models/fast's card
#
# Environment overrides:
#   EARMARK_GTZAN       GTZAN root (default ../shared/gtzan, relative to the repo root)
#   EARMARK_TRAIN_WORK  scratch directory (default target/train)
#   EARMARK_JOBS        parallel jobs / threads (default 2)
#   EARMARK_PYTHON      python used to create the venv (default python3.11)
#   EARMARK_SEED        seed (default 0)
#   EARMARK_BIN         use this earmark binary instead of `cargo build --release`
#   EARMARK_CV_REPEATS  cross-validation repeats (default 3)
#   EARMARK_POOL        the unlabelled pool fetch_pool.sh made (default work-data/pool)
#   EARMARK_SKIP_CV_STUDENT  1: skip stage 9 (15 students, 3 repeats: ~1 h of one core, ~3 h
#                            with the pool, + ~25 min of 2 threads once for the fine-tuned fold
#                            teachers' inputs: "--repeats 1" below makes it 5 students)
#   EARMARK_DISTILL_POOL     0: the students leave the pool out (distill.sh, stage 9)
#   EARMARK_CV_STUDENT_ARGS  extra arguments for cv_student.py (e.g. "--repeats 1 --epochs 12")
#   EARMARK_SKIP_FINETUNE    1: skip stage 5c (fine-tuning musicnn per fold)
#   EARMARK_FINETUNE_ARGS    extra arguments for finetune_cv.py (e.g. "--routes head,backend,midend":
#                            the mid-end route, ~15-20 min per fold here, is not run by default)
set -euo pipefail

START=$(date +%s)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
if [ "${1:-}" = "--distill-only" ]; then
  exec bash models/train/distill.sh
fi
GTZAN="${EARMARK_GTZAN:-../shared/gtzan}"
WORK="${EARMARK_TRAIN_WORK:-target/train}"
JOBS="${EARMARK_JOBS:-2}"
SEED="${EARMARK_SEED:-0}"
# shellcheck disable=SC2206
FT_EXTRA=(${EARMARK_FINETUNE_ARGS:-})  # finetune_cv.py's extra arguments (stages 5c and 9)
PYTHON="${EARMARK_PYTHON:-python3.11}"
VENV=models/train/.venv
PY="$VENV/bin/python"
export TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES="" PYTHONHASHSEED="$SEED"
export OMP_NUM_THREADS="$JOBS"

step() { echo "== [$(( $(date +%s) - START ))s] $*" >&2; }

[ -d "$GTZAN/train" ] && [ -d "$GTZAN/valid" ] || {
  echo "GTZAN not found at $GTZAN (set EARMARK_GTZAN)" >&2; exit 2; }

# 1. environment
if ! "$PY" -c "import tensorflow, tf2onnx, onnx, onnxruntime, sklearn, musicnn" 2>/dev/null; then
  step "creating $VENV"
  "$PYTHON" -m venv "$VENV"
  "$PY" -m pip install --quiet --upgrade pip
  "$PY" -m pip install --quiet -r models/train/requirements.txt
  "$PY" -m pip install --quiet --no-deps -r models/train/requirements-nodeps.txt
fi

# 2. earmark
if [ -n "${EARMARK_BIN:-}" ]; then
  EARMARK="$(cd "$(dirname "$EARMARK_BIN")" && pwd)/$(basename "$EARMARK_BIN")"
  step "using $EARMARK (EARMARK_BIN; no cargo build)"
else
  step "cargo build --release"
  cargo build --release --quiet
  EARMARK="$ROOT/target/release/earmark"
fi

mkdir -p "$WORK"
# 3. backbones (MTT only to score MSD + MTT embeddings together in cv.py)
for which in MSD:msd MTT:mtt; do
  step "exporting the musicnn ${which%%:*} backbone"
  "$PY" models/train/export_musicnn.py --which "${which%%:*}_musicnn" \
    --out "$WORK/musicnn_${which#*:}.onnx" 2>&1 | grep -v -E "^WARNING|deprecat" >&2
done

# 4. features (always recomputed: they must come from this build of earmark)
rm -rf "$WORK/features"
for pair in train:train valid:valid ex_train:excerpts/train ex_valid:excerpts/valid; do
  name="${pair%%:*}"; src="$GTZAN/${pair#*:}"
  if [ -d "$src" ]; then
    step "earmark features $src -> $WORK/features/$name"
    "$EARMARK" features "$src" --out "$WORK/features/$name" --jobs "$JOBS" >&2
  else
    step "no $src, skipped"
  fi
done

# the shipped card before this run: the new one lists the models whose embedding it keeps
cp models/accurate/model.json "$WORK/previous_accurate_card.json"

# 5. select by cross-validation, export, refit (backbone outputs cached by content hash)
step "cross-validation (cv.py)"
"$PY" models/train/cv.py --features "$WORK/features" --work "$WORK" --splits "$GTZAN/splits" \
  --backbones "msd=$WORK/musicnn_msd.onnx,mtt=$WORK/musicnn_mtt.onnx" \
  --repeats "${EARMARK_CV_REPEATS:-3}" --seed "$SEED" --threads "$JOBS"
step "training"
"$PY" models/train/train.py --features "$WORK/features" --backbone "$WORK/musicnn_msd.onnx" \
  --work "$WORK" --out models/accurate/genre.onnx --data-root "$GTZAN" --seed "$SEED" \
  --threads "$JOBS" --cv "$WORK/cv_results.json"

# 5a. where the teacher's time goes, per operator (onnxruntime's profiler; the card's table)
step "teacher cost per operator (teacher_profile.py)"
"$PY" models/train/teacher_profile.py --model models/accurate/genre.onnx \
  --features "$WORK/features/valid" --json "$WORK/teacher_profile.json" >&2

# 5b. the unlabelled pool (bash models/train/fetch_pool.sh; skipped when not fetched). Hours of
#     audio: its features are reused while the manifest and the feature parameters are unchanged,
#     its backbone outputs are cached by content hash (WORK/emb_*_pool/). Self-training is scored
#     by the same grouped CV; students with and without the pool measure what it gives the student.
POOL="${EARMARK_POOL:-work-data/pool}"
if [ -f "$POOL/manifest.tsv" ]; then
  key="$(cat "$POOL/manifest.tsv" "$WORK/features/train/params.json" | sha256sum | cut -c1-16)"
  if [ "$(cat "$WORK/pool_features/key" 2>/dev/null)" != "$key" ]; then
    step "earmark features $POOL/audio -> $WORK/pool_features/pool"
    rm -rf "$WORK/pool_features"
    "$EARMARK" features "$POOL/audio" --out "$WORK/pool_features/pool" --jobs "$JOBS" >&2
    echo "$key" > "$WORK/pool_features/key"
  fi
  step "self-training on the pool, scored by CV (selftrain.py)"
  "$PY" models/train/selftrain.py --features "$WORK/features" --pool "$WORK/pool_features/pool" \
    --work "$WORK" --splits "$GTZAN/splits" \
    --backbones "msd=$WORK/musicnn_msd.onnx,mtt=$WORK/musicnn_mtt.onnx" \
    --repeats "${EARMARK_CV_REPEATS:-3}" --seed "$SEED" --threads "$JOBS"
  for steps in 800 2400; do
    for run in gtzan gtzan+pool; do
      step "student distilled on $run, $steps steps (distill_pool.py; whole pool packages held out)"
      "$PY" models/train/distill_pool.py --features "$WORK/features" --pool "$WORK/pool_features/pool" \
        --work "$WORK" --teacher "$WORK/genre-trainonly.onnx" --backbone "$WORK/musicnn_msd.onnx" \
        --run "$run" --steps "$steps" --seed "$SEED" --threads "$JOBS"
      name="${run/+/_}_s$steps"  # earmark itself (tract, two outputs) on valid, for the card
      "$EARMARK" eval "$GTZAN/valid" --model "$WORK/student_$name.onnx" --json > "$WORK/eval_student_$name.json"
    done
  done
else
  step "no pool at $POOL (bash models/train/fetch_pool.sh fetches it): pool stages skipped"
fi

# 5c. fine-tuning musicnn itself (genre layer; + back-end; + mid-end when asked), scored on cv.py's folds
#     with augmentation; the frozen front-end's maps are cached by content hash and each fold's
#     predictions under $WORK/cv_finetune/ (resumable). Reported in the card, kept or not; a kept
#     route replaces train.py's models/accurate/genre.onnx (--export; train-only version in $WORK).
rm -f "$WORK/ft_export.json"
if [ "${EARMARK_SKIP_FINETUNE:-0}" != 1 ]; then
  step "fine-tuning musicnn, scored by CV (finetune_cv.py)"
  "$PY" models/train/finetune_cv.py --features "$WORK/features" --backbone "$WORK/musicnn_msd.onnx" \
    --work "$WORK" --splits "$GTZAN/splits" --repeats "${EARMARK_CV_REPEATS:-3}" --seed "$SEED" \
    --threads "$JOBS" --export --out models/accurate/genre.onnx "${FT_EXTRA[@]}"
else
  step "EARMARK_SKIP_FINETUNE=1: fine-tuning skipped"
fi

# 6. the card's metrics: earmark itself evaluates the train-only model on valid
step "earmark eval $GTZAN/valid (train-only model)"
"$EARMARK" eval "$GTZAN/valid" --model "$WORK/genre-trainonly.onnx" --json \
  > "$WORK/eval_trainonly_valid.json"
if [ -d "$GTZAN/excerpts/valid" ]; then
  "$EARMARK" eval "$GTZAN/excerpts/valid" --model "$WORK/genre-trainonly.onnx" --json \
    > "$WORK/eval_trainonly_ex_valid.json" || true
fi
if [ -f "$WORK/ft_export.json" ]; then
  step "earmark eval $GTZAN/valid (train-only fine-tuned network)"
  "$EARMARK" eval "$GTZAN/valid" --model "$WORK/genre-ft-trainonly.onnx" --json \
    "$WORK/eval_ft_trainonly_valid.json" >&2
  if [ -d "$GTZAN/excerpts/valid" ]; then
    "$EARMARK" eval "$GTZAN/excerpts/valid" --model "$WORK/genre-ft-trainonly.onnx" --json \
      "$WORK/eval_ft_trainonly_ex_valid.json" >&2 || true
  fi
fi

# 7. card
step "writing models/accurate/model.json and models/accurate/MODEL_CARD.md"
"$PY" models/train/write_card.py --work "$WORK" --model models/accurate/genre.onnx \
  --data-root "$GTZAN" --wall-s "$(( $(date +%s) - START ))"
if [ -f "$WORK/ft_export.json" ]; then
  step "the card of the fine-tuned network (write_card.py --refresh-finetune)"
  "$PY" models/train/write_card.py --work "$WORK" --data-root "$GTZAN" --refresh-finetune models/accurate
fi
step "adding the embedding output (add_embedding_output.py; probs stay bit-identical)"
"$PY" models/train/add_embedding_output.py models/accurate
step "exact rewrites for tract (optimise_graph.py; outputs within 1e-5)"
"$PY" models/train/optimise_graph.py models/accurate

# 8. the fast model, distilled from the accurate one (same binary, features just made)
step "distillation (models/train/distill.sh)"
EARMARK_BIN="$EARMARK" EARMARK_REUSE_FEATURES=1 bash models/train/distill.sh

# 9. the student's CV figure (needs distill.sh's music features; fold results cached in
#    $WORK/cv_student/, so an interrupted run resumes per fold)
if [ "${EARMARK_SKIP_CV_STUDENT:-0}" != 1 ]; then
  step "cross-validating the student (cv_student.py)"
  # shellcheck disable=SC2206
  CVS_EXTRA=(${EARMARK_CV_STUDENT_ARGS:-})
  # the shipped student learns the teacher's embedding too (distill.sh's EARMARK_EMB_WEIGHT), so
  # its folds are those of the `emb` variant (cv_student_emb.json, model.json's `cv`); the recipe
  # without it (cv_student.json, kept in models/fast/cv/) is what the variants' rules were fixed on
  EMB_W="${EARMARK_EMB_WEIGHT:-0.3}"
  if [ "$EMB_W" != 0 ]; then CVS_EXTRA=(--tag emb --emb-weight "$EMB_W" "${CVS_EXTRA[@]}"); fi
  # the shipped recipe's unlabelled audio: + the pool when distill.sh used it
  UNL=music
  if [ "${EARMARK_DISTILL_POOL:-1}" = 1 ] && [ -f "$WORK/pool_features/pool/index.json" ]; then
    UNL="music,$(cd "$WORK/pool_features/pool" && pwd)"
  fi
  # the fold teachers are what distill.sh's teacher is: the fine-tuned network when 5c shipped one
  TEACHER=head
  if [ -f "$WORK/ft_export.json" ]; then
    TEACHER=finetuned
    "$PY" models/train/finetune_cv.py --features "$WORK/features" --backbone "$WORK/musicnn_msd.onnx" \
      --work "$WORK" --splits "$GTZAN/splits" --repeats "${EARMARK_CV_REPEATS:-3}" --seed "$SEED" \
      --threads "$JOBS" --student-teachers "$UNL" "${FT_EXTRA[@]}"
  fi
  "$PY" models/train/cv_student.py --features "$WORK/features" --backbone "$WORK/musicnn_msd.onnx" \
    --work "$WORK" --splits "$GTZAN/splits" --seed "$SEED" --threads "$JOBS" --unlabelled "$UNL" \
    --repeats "${EARMARK_CV_REPEATS:-3}" --teacher "$TEACHER" "${CVS_EXTRA[@]}"
  "$PY" models/train/write_card.py --work "$WORK" --refresh-cv-student models/fast/MODEL_CARD.md
else
  step "EARMARK_SKIP_CV_STUDENT=1: the student's cross-validation skipped"
fi
# the Rust parity test's fixture: onnxruntime's outputs of both shipped models
step "model parity fixture (tests/fixtures/model/make_fixture.py)"
"$PY" tests/fixtures/model/make_fixture.py
step "done"
