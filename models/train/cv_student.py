"""A cross-validated figure for the fast student, on cv.py's folds (issue 17, item 6).

    models/train/.venv/bin/python models/train/cv_student.py --features target/train/features \
        --backbone target/train/musicnn_msd.onnx --work target/train --splits ../shared/gtzan/splits

The same labelled items (GTZAN train + valid, full clips and excerpts), the same artist-conscious
groups and the same stratified group 5-fold splits as cv.py (earmark_train/cv.py, same seeds).
Per fold:

1. the fold's teacher: the shipped head recipe (cv.py's selected configuration, see SHIPPED_HEAD:
   patch-level logistic regression on MSD_musicnn's 200-d penultimate, excerpts weight 2,
   mean_probs) fitted on the fold's training items only, on the backbone outputs cv.py caches
   (WORK/emb_msd_<set>.npz, the exported MSD_musicnn backbone, keyed by content hash); with
   --teacher finetuned, the shipped accurate model's recipe instead: that head averaged per
   patch with the fold's fine-tuned back-end (finetune_cv.py's `backend` route, trained on the
   fold's items; finetune_cv.py --student-teachers writes its outputs for every example);
2. the fold's student: the shipped architecture and loss (distill.py's defaults: widths, dense,
   T, alpha, aux tag loss, epochs, batch, lr) distilled from the fold teacher's per-patch soft
   labels (and the backbone's 50 MSD tags) on the fold's training items only, plus the
   unlabelled sets the shipped recipe uses (--unlabelled, default `music`, teacher only). Its
   training pool is the shipped one (pool.py: every runtime patch plus --aug-rounds augmented
   copies per patch; crops, gain, mel-bin shifts, mixes), built once for all items with the
   seed; a fold keeps only the examples made of its training clips (a mixed copy whose partner
   is held out is dropped), and its hard-label weights are recomputed on the fold's clips.
   The copies' backbone outputs are cached in chunks by content hash (WORK/emb_msd_cvstudent/);
3. every held-out item predicted by both (clip = mean of patch probabilities, as earmark does).

Writes WORK/cv_student.json: out-of-fold accuracy, balanced accuracy and excerpts accuracy of
the student and of the fold teachers on the same folds, mean +- sd over folds (and over repeats
when there are several), and their out-of-fold top-1 agreement; WORK/cv_student_oof_clips.json
(repeat 0, `earmark eval --json` layout, the student). Each fold's predictions are cached under
WORK/cv_student/ by a hash of everything they came from, so an interrupted run resumes per fold,
and kept in the repo (models/fast/cv/folds/NAME/, see KEPT_FOLDS), so it resumes on a new machine.
Seeded, CPU only; --threads 1 keeps it to one core.
"""

import argparse
import json
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import distill  # noqa: E402
import pool as student_pool  # noqa: E402
from earmark_train.cache import kept_cached, key_of, load_cached, sha256_file  # noqa: E402
from earmark_train.cards import write_json  # noqa: E402
from earmark_train.cv import FOLDS, Pool, fit, predict  # noqa: E402
from earmark_train.data import LABELS, N_FRAMES, load_sets  # noqa: E402
from earmark_train.embed import embed_chunked, embed_sets  # noqa: E402
from earmark_train.log import log  # noqa: E402
from earmark_train.metrics import combine, eval_report, metrics  # noqa: E402

# cv.py's selected configuration, shipped in models/accurate (its card: "How it was chosen")
SHIPPED_HEAD = {"route": "musicnn_lr_patch", "head": "lr", "level": "patch", "feats": "msd_pen",
                "C": 0.001, "excerpt_weight": 2.0, "combine": "mean_probs"}


# the students' augmented copies (pool.build_examples); finetune_cv.py --student-teachers builds the same
AUG_ROUNDS, MIX_P = 2, 0.3


def set_dir(features: str, name: str) -> str:
    """A set under `features` by name, or any `earmark features` folder by path (the pool)."""
    return name if os.sep in name else os.path.join(features, name)


def in_folds(mine: list, seed: int, k: int) -> bool:
    """Whether --folds (`mine`: fold numbers or SEED:FOLD; empty: all) gives this process fold k of `seed`."""
    return not mine or str(k) in mine or f"{seed}:{k}" in mine


def unlabelled_sets(features: str, spec: str) -> list:
    """The sets of --unlabelled (comma list) that exist (the pool is absent on a machine without it)."""
    return [s for s in spec.split(",") if s and os.path.exists(os.path.join(set_dir(features, s), "index.json"))]


def student_sets(features: str, labelled: list, unlabelled: list) -> list:
    """pool.py's sets in the Pool's item order (labelled sets first), then the unlabelled ones."""
    return [student_pool.Set(set_dir(features, s), os.path.basename(os.path.normpath(s)))
            for s in labelled + unlabelled]


def scores(y: np.ndarray, probs: np.ndarray, is_ex: np.ndarray) -> dict:
    full = metrics(y[~is_ex], probs[~is_ex].argmax(1))
    out = {"accuracy": full["accuracy"], "balanced_accuracy": full["balanced_accuracy"]}
    if is_ex.any():
        out["excerpts_accuracy"] = metrics(y[is_ex], probs[is_ex].argmax(1))["accuracy"]
    return out


def mean_sd(rows: list) -> dict:
    """Mean +- sd of each figure over the rows that have it (a fold may hold no excerpt)."""
    out = {}
    for k in dict.fromkeys(k for r in rows for k in r):
        v = np.array([r[k] for r in rows if k in r], dtype=np.float64)
        out[k] = {"mean": round(float(v.mean()), 4),
                  "sd": round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 4)}
    return out


# Each fold's predictions are also kept in the repo (models/fast/cv/folds/, a few tens of kB per
# fold) under a key that does not depend on the machine: the examples' content, the folds and
# the configuration, not the backbone export's bytes (export_musicnn.py is not byte-deterministic)
# nor its outputs' last bits. A work folder does not survive a new machine; a committed fold
# does, so a test of hours of students can resume there (earmark_train.cache.kept_cached).
KEPT_FOLDS = os.path.join(HERE, "..", "fast", "cv", "folds")


def ft_teacher_path(work: str, seed: int, k: int, ex_key: str) -> str:
    """Where finetune_cv.py --student-teachers keeps a fold's fine-tuned teacher outputs."""
    return os.path.join(work, "cv_student_ftteacher", f"s{seed}_f{k}_{ex_key}.npz")


def finetuned_teacher(work: str, seed: int, k: int, ex_key: str, te: np.ndarray):
    """The fold's fine-tuned back-end's probabilities on every example, and their cache key
    (finetune_cv.py --student-teachers writes them). A teacher trained on other folds has seen
    this fold's held-out clips, so its held-out items must be this fold's."""
    path = ft_teacher_path(work, seed, k, ex_key)
    if not os.path.exists(path):
        raise SystemExit(f"{path} is missing: run finetune_cv.py --student-teachers first (see --teacher)")
    z = np.load(path)
    if str(z["examples_key"]) != ex_key:
        raise SystemExit(f"{path} was made for other examples (another --unlabelled or augmentation?)")
    if "held_out_key" not in z.files:
        raise SystemExit(f"{path} does not record its fold: run finetune_cv.py --student-teachers "
                         "(cached teachers only gain the record)")
    if str(z["held_out_key"]) != key_of(te):
        raise SystemExit(f"{path} was trained on other folds (another --splits or --max-block?): "
                         "it has seen this fold's held-out clips")
    return z["probs"], str(z["key"])


def balanced_draw(ex, use: np.ndarray, TP: np.ndarray, cap: float, seed: int) -> np.ndarray:
    """Positions in `use` to train on: the labelled examples once each; the unlabelled ones
    (their first clip has no label) redrawn with replacement, as many as before, each clip
    weighted by the inverse frequency of the fold teacher's top genre over the unlabelled clips
    (its runtime patches' mean), clipped to [1/cap, cap], so that a pool that leans to one genre
    (the Debian pool: 44 % classical by the head) does not teach mostly that genre."""
    clip = ex.WID[use, 0].astype(int)
    unl = ex.y_clip[clip] < 0
    where_unl = np.where(unl)[0]
    if len(where_unl) == 0:
        return np.arange(len(use))
    orig = unl & (ex.KIND[use] == 0)
    clips, inv = np.unique(clip[orig], return_inverse=True)
    mean_tp = np.zeros((len(clips), TP.shape[1]))
    np.add.at(mean_tp, inv, TP[orig])
    top = mean_tp.argmax(1)
    freq = np.bincount(top, minlength=TP.shape[1]) / len(clips)
    w_genre = np.clip(1.0 / (TP.shape[1] * np.maximum(freq, 1e-9)), 1.0 / cap, cap)
    w_clip = dict(zip(clips.tolist(), w_genre[top].tolist()))
    w = np.array([w_clip.get(c, 1.0) for c in clip[where_unl]])
    drawn = np.random.default_rng(seed).choice(where_unl, size=len(where_unl), p=w / w.sum())
    log(f"  balanced pool: {len(clips)} unlabelled clips, teacher's genres "
        + ", ".join(f"{LABELS[g][:5]} {int(round(freq[g] * len(clips)))} (x{w_genre[g]:.2f})"
                    for g in np.argsort(-freq)))
    return np.sort(np.concatenate([np.where(~unl)[0], drawn]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True)
    ap.add_argument("--backbone", required=True, help="the MSD_musicnn ONNX (outputs penultimate, taggram)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--splits", required=True, help="GTZAN splits/ folder (artist-conscious lists)")
    ap.add_argument("--unlabelled", default="music",
                    help="comma list of unlabelled feature sets the students also learn from (teacher "
                         "only): names under --features, or paths (the pool's features)")
    ap.add_argument("--repeats", type=int, default=3, help="as cv.py: seeds SEED, SEED+1, ...")
    ap.add_argument("--seeds", default="",
                    help="comma list: only these repeats' seeds (default SEED .. SEED+REPEATS-1); the "
                         "examples stay built with --seed, so a variant on seeds 1,2 pairs with the recipe's")
    ap.add_argument("--tag", default="",
                    help="a variant's name: WORK/cv_student_<tag>.json and cv_student_<tag>/ (the fast "
                         "card compares cv_student_pool.json or cv_student_nopool.json with the recipe's)")
    ap.add_argument("--report", default="",
                    help="name the report WORK/cv_student_<report>.json instead of <tag>'s (a second "
                         "test on a variant's folds, judged by its own rule, beside the first's report)")
    ap.add_argument("--max-block", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--folds", default="",
                    help="comma list of folds to distil in this process, each a fold number (0-4, every "
                         "repeat) or SEED:FOLD; the others are only read from the cache (processes can "
                         "share the folds; the report is written once every fold is cached)")
    ap.add_argument("--teacher", choices=("head", "finetuned"), default="head",
                    help="each fold's teacher: the shipped head recipe, or the shipped accurate model's "
                         "(the fold's fine-tuned back-end averaged per patch with the head; run "
                         "finetune_cv.py --student-teachers UNLABELLED first, same --unlabelled)")
    ap.add_argument("--eval-hops", default="",
                    help="comma list of hops (frames) at which each fold's student also predicts its "
                         "held-out items, as model.json's segment.hop_frames would make earmark cut "
                         "them: a paired test-time comparison (the same students at 187)")
    ap.add_argument("--pool-balance", type=float, default=0.0, metavar="CAP",
                    help="redraw the unlabelled examples so that the fold teacher's genres weigh alike "
                         "(each unlabelled clip weighted by the inverse frequency of its teacher's top "
                         "genre, clipped to [1/CAP, CAP], mean 1; drawn with replacement, same count); "
                         "0: off (the recipe)")
    student_pool.add_augment_args(ap, aug_rounds=AUG_ROUNDS, mix_p=MIX_P)
    distill.add_student_args(ap)
    args = ap.parse_args()
    hops = [int(h) for h in args.eval_hops.split(",") if h]
    t0 = time.time()
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    # the teacher side: exactly cv.py's items, groups and backbone outputs
    clips = load_sets(args.features)
    feats = embed_sets(clips, {"msd": args.backbone}, args.threads, args.work)
    pool = Pool(clips, feats, args.splits, args.max_block)
    log(f"pool: {pool.n} items ({int((~pool.is_ex).sum())} clips, {int(pool.is_ex.sum())} excerpts), "
        f"{len(set(pool.groups.tolist()))} groups")

    # the student side: the shipped training pool over every labelled item + the unlabelled sets
    unl = unlabelled_sets(args.features, args.unlabelled)
    sets = student_sets(args.features, list(clips), unl)
    ex = student_pool.build_examples(sets, np.random.default_rng(args.seed), args.aug_rounds,
                                     args.mix_p, args.gain_db)
    n_lab = len(pool.owner)  # the labelled items' runtime patches come first, in the Pool's order
    if sum(len(s) for s in sets[:len(clips)]) != pool.n or not np.array_equal(ex.X[:n_lab], np.concatenate([c.patches()[0] for c in clips.values()])):
        raise SystemExit("pool.py's runtime patches differ from the CV pool's (set order?)")
    n_clip_lab = pool.n
    # each labelled item as (its set, its index there), in the Pool's order
    lab_items = [(st, i) for st in sets[:len(clips)] for i in range(len(st))]
    if hops and not all(np.array_equal(np.stack(st.patches_at(i, N_FRAMES)), np.stack(st.patches(i)))
                        for st, i in lab_items):
        raise SystemExit("pool.Set.patches_at(187) differs from the index's segments")
    log(f"student pool: {len(ex.X)} examples ({ex.n_orig} runtime patches, {len(ex.X) - ex.n_orig} "
        f"augmented copies) from {len(ex.clips)} clips ({len(ex.clips) - n_clip_lab} unlabelled: {unl})")
    rest = embed_chunked(args.backbone, ex.X[n_lab:], ex.WID[n_lab:, 0].astype(int), args.threads,
                         os.path.join(args.work, "emb_msd_cvstudent"), progress=log)
    pen = np.concatenate([pool.base["msd_pen"], rest["penultimate"]])
    tag = np.concatenate([pool.base["msd_tag"], rest["taggram"]])

    cfg = SHIPPED_HEAD
    student_cfg = {k: v for k, v in vars(args).items()
                   if k not in ("features", "backbone", "work", "splits", "threads", "repeats", "seeds", "folds", "tag",
                               "report", "teacher")
                  and (k != "eval_hops" or hops)  # without hops, the recipe's cached folds keep their key
                  and (k != "pool_balance" or args.pool_balance > 0)  # so without a balanced pool
                  and (k != "emb_weight" or args.emb_weight > 0)  # and without the embedding target
                  and (k != "front" or args.front)}  # and without a timbre front-end
    portable_cfg = {**student_cfg, "unlabelled": [os.path.basename(os.path.normpath(u)) for u in unl]}
    backbone_sha = sha256_file(args.backbone)
    seeds = ([int(x) for x in args.seeds.split(",") if x] if args.seeds
             else [args.seed + r for r in range(args.repeats)])
    name = "cv_student" + (f"_{args.tag}" if args.tag else "")
    fold_dir = os.path.join(args.work, name)
    report = "cv_student" + (f"_{args.report or args.tag}" if args.report or args.tag else "")
    oof_s, oof_t, fold_rows, rep_rows, missing = [], [], [], [], []
    mine = [f for f in args.folds.split(",") if f]
    x_key = key_of(ex.X)
    ex_key = x_key if args.teacher == "finetuned" else None

    for seed in seeds:
        ps, pt = np.zeros((pool.n, len(LABELS))), np.zeros((pool.n, len(LABELS)))
        ph = {h: np.zeros((pool.n, len(LABELS))) for h in hops}
        for k, te in enumerate(pool.folds(seed)):
            tr = np.setdiff1d(np.arange(pool.n), te)
            teacher = fit(pool, cfg, tr, seed)
            pt[te] = predict(pool, cfg, teacher, te)
            keep_clip = np.ones(len(ex.clips), bool)  # the unlabelled clips stay on every side
            keep_clip[te] = False
            use = np.where(ex.uses(keep_clip))[0]
            hw = ex.hard_weights(keep_clip)[use]
            TP = teacher.predict_proba(pen[use]).astype(np.float32)
            TG = tag[use]
            patches = np.where(np.isin(pool.owner, te))[0]
            local = np.full(pool.n, -1)
            local[te] = np.arange(len(te))
            ft, ft_key = finetuned_teacher(args.work, seed, k, ex_key, te) if ex_key else (None, "")
            if ft is not None:  # as the shipped accurate model: per patch, the mean of both
                TP = ((TP + ft[use]) / 2).astype(np.float32)
                pt[te] = combine((teacher.predict_proba(pen[patches]) + ft[patches]) / 2,
                                 local[pool.owner[patches]], len(te), "mean_probs")
            drawn_from = (use, hw)  # the kept fold's key: the examples before any draw (below)
            if args.pool_balance > 0:
                pick = balanced_draw(ex, use, TP, args.pool_balance, seed * 100 + k)
                use, hw, TP, TG = use[pick], hw[pick], TP[pick], TG[pick]
            # keyed by what the fold's student comes from, not by the teacher's floating-point
            # output (the same logistic-regression fit in another process can differ in the last
            # bits) nor by where the pool lies: its content is in the backbone outputs pen/tag
            key = key_of(json.dumps(portable_cfg, sort_keys=True), json.dumps(cfg, sort_keys=True),
                         seed, tr, te, use, pen[use], TG, hw, ex.Y[use], backbone_sha,
                         *(["finetuned", ft_key] if ft is not None else []))
            legacy = key_of(json.dumps(student_cfg, sort_keys=True), seed, te, use, TP, TG, hw,
                            ex.Y[use], backbone_sha)

            def distil(use=use, TP=TP, TG=TG, hw=hw, patches=patches, k=k):
                log(f"seed {seed} fold {k + 1}/{FOLDS}: student on {len(use)} examples "
                    f"({int((hw > 0).sum())} with hard labels), {args.epochs} epochs")
                t = time.time()
                TE = None
                if args.emb_weight > 0:  # the teacher's embedding of each example, standardised
                    e = pen[use]
                    TE = (e - e.mean(0)) / (e.std(0) + 1e-6)
                export, history, _ = distill.student_fit(ex.X[use], ex.Y[use], hw, TP, TG, args, None, TE,
                                                         args.emb_weight)
                pp = export.predict(ex.X[patches], batch_size=128, verbose=0)
                pp = pp[0] if isinstance(pp, list) else pp  # with the embedding head: (probs, embedding)
                at_hops = {}
                for h in hops:
                    cut = [(j, p) for j, item in enumerate(te) for p in lab_items[item][0].patches_at(
                        lab_items[item][1], h)]
                    php = export.predict(np.stack([p for _, p in cut]), batch_size=128, verbose=0)
                    php = php[0] if isinstance(php, list) else php
                    at_hops[f"hop{h}_probs"] = combine(php, np.array([j for j, _ in cut]), len(te),
                                                       "mean_probs").astype(np.float32)
                return {"patch_probs": pp.astype(np.float32), "train_s": np.array(time.time() - t),
                        "loss": np.array([h["loss"] for h in history]), **at_hops}

            path = os.path.join(fold_dir, f"s{seed}_f{k}.npz")
            kept = os.path.join(KEPT_FOLDS, name, f"s{seed}_f{k}.npz")
            def kept_key_of(use, hw):
                return key_of(json.dumps(portable_cfg, sort_keys=True), json.dumps(cfg, sort_keys=True),
                              seed, tr, te, use, hw, ex.Y[use], x_key, os.path.basename(args.backbone),
                              args.teacher, ft_key)  # ft_key hashes the fine-tuned teacher's recipe, no floats
            # a balanced draw follows the teacher's top genre per pool clip, which a near-tie can
            # flip between processes: keyed by the examples it draws from (the cap and the draw's
            # seed are in the config), with the drawn examples' key (cv_student_pb's) still read
            kept_key = kept_key_of(*drawn_from)
            kept_legacy = kept_key_of(use, hw) if args.pool_balance > 0 else ""
            got = (kept_cached(path, key, kept, kept_key, distil, legacy, kept_legacy) if in_folds(mine, seed, k)
                   else load_cached(path, key, legacy) or load_cached(kept, kept_key, kept_legacy))
            if got is None:
                missing.append(f"seed {seed} fold {k}")
                continue
            ps[te] = combine(got["patch_probs"], local[pool.owner[patches]], len(te), "mean_probs")
            for h in hops:
                ph[h][te] = got[f"hop{h}_probs"]
            row = {"seed": seed, "fold": k, "held_out": int(len(te)), "examples": int(len(use)),
                   "train_s": round(float(got["train_s"]), 1),
                   "student": scores(pool.y[te], ps[te], pool.is_ex[te]),
                   "teacher": scores(pool.y[te], pt[te], pool.is_ex[te]),
                   "agreement": float((ps[te].argmax(1) == pt[te].argmax(1)).mean())}
            fold_rows.append(row)
            log(f"seed {seed} fold {k + 1}: student acc {row['student']['accuracy']:.3f} "
                f"bal {row['student']['balanced_accuracy']:.3f} | teacher acc "
                f"{row['teacher']['accuracy']:.3f} bal {row['teacher']['balanced_accuracy']:.3f} | "
                f"agreement {row['agreement']:.3f} ({row['train_s']:.0f} s)")
        if missing:
            continue
        oof_s.append(ps)
        oof_t.append(pt)
        full = ~pool.is_ex
        rep_rows.append({"seed": seed, "student": scores(pool.y, ps, pool.is_ex),
                         "teacher": scores(pool.y, pt, pool.is_ex),
                         "agreement": float((ps[full].argmax(1) == pt[full].argmax(1)).mean()),
                         "agreement_excerpts": float((ps[~full].argmax(1) == pt[~full].argmax(1)).mean())
                         if (~full).any() else None,
                         **({"student_at_hop": {h: scores(pool.y, ph[h], pool.is_ex) for h in hops}}
                            if hops else {})})

    if missing:
        log(f"not cached yet (another process distils them): {', '.join(missing)}; no report written")
        return 0

    def over(rows, who):
        return mean_sd([r[who] for r in rows])

    result = {
        "protocol": {
            "folds": FOLDS, "seeds": seeds, "max_block": args.max_block, "items": pool.n,
            "clips": int((~pool.is_ex).sum()), "excerpts": int(pool.is_ex.sum()),
            "groups": len(set(pool.groups.tolist())), "teacher_head": cfg, "teacher": args.teacher,
            "backbone": os.path.basename(args.backbone), "backbone_sha256": sha256_file(args.backbone),
            "unlabelled_sets": unl, "student": student_cfg,
            "examples": int(len(ex.X)), "runtime_patches": int(ex.n_orig),
            "augmented_copies": int(len(ex.X) - ex.n_orig),
            "prediction": "clip = mean of patch probabilities (Keras student, onnxruntime backbone)",
            "agreement": "same top genre, student vs the fold's teacher, out of fold, full clips"},
        "oof": {"student": over(rep_rows, "student"), "teacher": over(rep_rows, "teacher"),
                "agreement": mean_sd([{"v": r["agreement"]} for r in rep_rows])["v"],
                "note": "out-of-fold figures of each repeat (all items), mean +- sd over repeats"},
        "folds": {"student": over(fold_rows, "student"), "teacher": over(fold_rows, "teacher"),
                  "agreement": mean_sd([{"v": r["agreement"]} for r in fold_rows])["v"],
                  "note": "per fold (its held-out items), mean +- sd over folds and repeats"},
        "per_repeat": rep_rows, "per_fold": fold_rows, "wall_s": round(time.time() - t0, 1),
        "students_train_s": round(sum(r["train_s"] for r in fold_rows), 1)}
    if hops:  # the same students, held-out items cut at other hops (student: at the runtime's 187)
        result["oof"]["student_at_hop"] = {h: mean_sd([r["student_at_hop"][h] for r in rep_rows]) for h in hops}
        for h, o in result["oof"]["student_at_hop"].items():
            log(f"the same students at hop {h}: acc {o['accuracy']['mean']:.3f} bal "
                f"{o['balanced_accuracy']['mean']:.3f} (at 187: {result['oof']['student']['accuracy']['mean']:.3f} "
                f"/ {result['oof']['student']['balanced_accuracy']['mean']:.3f})")
    gap = result["oof"]["teacher"]["accuracy"]["mean"] - result["oof"]["student"]["accuracy"]["mean"]
    result["student_trails_teacher_by"] = round(gap, 4)
    write_json(os.path.join(args.work, f"{report}.json"), result, indent=1)
    idx = np.where(~pool.is_ex)[0]
    for who, probs in (("student", oof_s[0]), ("teacher", oof_t[0])):
        rep = eval_report(pool.y[idx], probs[idx], [pool.paths[i] for i in idx], model=f"cv:{who}",
                          dataset=f"out-of-fold, {FOLDS}-fold artist-grouped CV over train + valid, "
                                  f"seed {seeds[0]}; the fold's {who} never saw the clip's group")
        write_json(os.path.join(args.work, f"{report}_oof_{who}.json"), rep, indent=1)
    s, t = result["oof"]["student"], result["oof"]["teacher"]
    log(f"student CV acc {s['accuracy']['mean']:.3f} bal {s['balanced_accuracy']['mean']:.3f} | teacher "
        f"{t['accuracy']['mean']:.3f} / {t['balanced_accuracy']['mean']:.3f} | agreement "
        f"{result['oof']['agreement']['mean']:.3f} | student trails by {gap:.3f}; "
        f"folds: student {result['folds']['student']['accuracy']}, teacher {result['folds']['teacher']['accuracy']}")
    log(f"wrote {args.work}/{report}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
