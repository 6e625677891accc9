"""Self-training on the unlabelled pool, scored by the same grouped, repeated CV as cv.py.

    models/train/.venv/bin/python models/train/selftrain.py --features target/train/features \
        --pool target/train/pool_features/pool --work target/train --splits ../shared/gtzan/splits \
        --backbones msd=target/train/musicnn_msd.onnx

For the head cv.py selected (WORK/cv_results.json) and every fold of every repeat: fit the head
on the fold's training part, label the pool's tracks with it, keep the confident ones
(probability >= threshold, at most N per genre, most confident first, so one genre cannot flood
the fit), refit on the training part + those pseudo-labelled tracks, and predict the held-out
part. Pseudo-labels come only from heads fitted on each fold's training part, and pool tracks are
never scored, so the out-of-fold figure stays honest. A variant is kept only if its CV mean rises
by more than its sd over repeats. The pool's backbone outputs are cached by content hash, chunk
by chunk (resumable). Writes WORK/selftrain_results.json.
"""

import argparse
import os
import sys
import time

import numpy as np

from earmark_train.cards import write_json
from earmark_train.cv import Pool, fit, predict, summarise
from earmark_train.data import LABELS, Clips, load_sets
from earmark_train.embed import SHORT, embed_chunked, embed_sets
from earmark_train.log import log
from earmark_train.metrics import combine

# (probability threshold, at most this many tracks per genre). The head's clip probabilities on
# game music are soft (median top probability about 0.34), so the last two rank instead:
# the most confident tracks of every genre, balanced, whatever their probability.
VARIANTS = [(0.9, 20), (0.9, 60), (0.7, 60), (0.5, 30), (0.0, 15)]


def pool_feats(pool_clips: Clips, backbones: dict, threads: int, cache_root: str) -> tuple:
    """{feature name: [P, D]} of every pool patch, and the track index of each patch."""
    patches, owner = pool_clips.patches()
    out = {}
    for name, path in backbones.items():
        e = embed_chunked(path, patches, owner, threads, os.path.join(cache_root, f"emb_{name}_pool"),
                          progress=log)
        for o, a in e.items():
            out[f"{name}_{SHORT[o]}"] = a
    return out, owner


def pseudo_labels(probs: np.ndarray, threshold: float, per_genre: int) -> tuple:
    """(track indices, labels): the most confident tracks per genre at or above `threshold`."""
    conf, lab = probs.max(1), probs.argmax(1)
    pick = []
    for k in range(len(LABELS)):
        idx = np.where((lab == k) & (conf >= threshold))[0]
        pick += idx[np.argsort(-conf[idx])][:per_genre].tolist()
    pick = np.array(sorted(pick), dtype=np.int64)
    return pick, lab[pick]


def extra_of(Xp: np.ndarray, owner: np.ndarray, tracks: np.ndarray, labels: np.ndarray):
    """The patches of `tracks` as fit()'s `extra` (features, local track index, labels)."""
    local = np.full(owner.max() + 1, -1)
    local[tracks] = np.arange(len(tracks))
    mask = local[owner] >= 0
    return Xp[mask], local[owner[mask]], labels


def pool_probs(cfg: dict, head, Xp: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    return combine(head.predict_proba(Xp), owner, n, cfg["combine"])


def cross_validate_selftrain(pool: Pool, cfg: dict, seeds: list, Xp, owner, n_tracks, variants):
    """Baseline and every variant over the same folds: {name: (summary, stats)}."""
    oofs = {v: [] for v in ["baseline"] + variants}
    fold_sets, picked = [], {v: [] for v in variants}
    for seed in seeds:
        folds = pool.folds(seed)
        probs = {v: np.zeros((pool.n, len(LABELS))) for v in oofs}
        for te in folds:
            tr = np.setdiff1d(np.arange(pool.n), te)
            head = fit(pool, cfg, tr, seed)
            probs["baseline"][te] = predict(pool, cfg, head, te)
            pp = pool_probs(cfg, head, Xp, owner, n_tracks)
            for v in variants:
                thr, per = v
                tracks, labels = pseudo_labels(pp, thr, per)
                picked[v].append(np.bincount(labels, minlength=len(LABELS)))
                head2 = fit(pool, cfg, tr, seed, extra=extra_of(Xp, owner, tracks, labels))
                probs[v][te] = predict(pool, cfg, head2, te)
        for v in oofs:
            oofs[v].append(probs[v])
        fold_sets.append(folds)
    out = {"baseline": (summarise(pool, oofs["baseline"], fold_sets), None)}
    for v in variants:
        per_genre = np.mean(picked[v], 0)
        out[v] = (summarise(pool, oofs[v], fold_sets),
                  {"pseudo_per_fold_mean": round(float(per_genre.sum()), 1),
                   "pseudo_per_genre_mean": dict(zip(LABELS, np.round(per_genre, 1).tolist()))})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True, help="GTZAN feature sets (as cv.py)")
    ap.add_argument("--pool", required=True, help="`earmark features` of the unlabelled pool")
    ap.add_argument("--work", required=True)
    ap.add_argument("--splits", required=True)
    ap.add_argument("--backbones", required=True, help="name=path,... (those the selected head reads)")
    ap.add_argument("--cv", default="", help="cv.py's results (default WORK/cv_results.json)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-block", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    t0 = time.time()
    import json

    with open(args.cv or os.path.join(args.work, "cv_results.json")) as f:
        cv = json.load(f)
    cfg = cv["selected"]["cfg"]
    backbones = dict(kv.split("=", 1) for kv in args.backbones.split(","))
    need = {k.split("_")[0] for k in cfg["feats"].split("+")}
    if not need <= set(backbones):
        print(f"the selected head reads {sorted(need)}; pass those backbones", file=sys.stderr)
        return 2
    backbones = {k: v for k, v in backbones.items() if k in need}

    clips = load_sets(args.features)
    feats = embed_sets(clips, backbones, args.threads, args.work)
    pool = Pool(clips, feats, args.splits, args.max_block)

    pc = Clips(args.pool, "pool", labelled_only=False)
    if pc.params != next(iter(clips.values())).params:
        print(f"{args.pool}: feature parameters differ from {args.features}'s", file=sys.stderr)
        return 2
    pf, owner = pool_feats(pc, backbones, args.threads, args.work)
    Xp = np.concatenate([pf[k] for k in cfg["feats"].split("+")], 1)
    log(f"pool: {len(pc)} tracks, {len(Xp)} patches")

    # the selected head fitted on every labelled item: how it sees the pool (for the card)
    full = fit(pool, cfg, np.arange(pool.n), args.seed)
    pp = pool_probs(cfg, full, Xp, owner, len(pc))
    conf = pp.max(1)
    view = {"top_genre_counts": dict(zip(LABELS, np.bincount(pp.argmax(1), minlength=len(LABELS)).tolist())),
            "confident_0.9_counts": dict(zip(LABELS, np.bincount(pp.argmax(1)[conf >= 0.9],
                                                                 minlength=len(LABELS)).tolist())),
            "median_confidence": round(float(np.median(conf)), 3)}
    log(f"pool as the selected head sees it: {view}")

    seeds = [args.seed + r for r in range(args.repeats)]
    res = cross_validate_selftrain(pool, cfg, seeds, Xp, owner, len(pc), VARIANTS)
    base = res["baseline"][0]
    rows = []
    for v in VARIANTS:
        s, stats = res[v]
        gain = s["accuracy"]["mean"] - base["accuracy"]["mean"]
        sd = max(s["accuracy"]["sd"], base["accuracy"]["sd"])
        rows.append({"threshold": v[0], "per_genre": v[1], "cv": s, **stats,
                     "gain": round(gain, 4), "kept": bool(gain > sd)})
        log(f"  self-training p>={v[0]} <= {v[1]}/genre ({stats['pseudo_per_fold_mean']} tracks per fold): "
            f"CV acc {s['accuracy']['mean']:.3f}±{s['accuracy']['sd']:.3f} bal "
            f"{s['balanced_accuracy']['mean']:.3f} ex {s['excerpts_accuracy']['mean']:.3f} "
            f"(baseline {base['accuracy']['mean']:.3f}±{base['accuracy']['sd']:.3f}) -> "
            f"{'kept' if rows[-1]['kept'] else 'not kept'}")
    write_json(os.path.join(args.work, "selftrain_results.json"), {
        "cfg": cfg, "pool": {"tracks": len(pc), "patches": int(len(Xp)),
                             "hours_analysed": round(len(Xp) * 187 * 256 / 16000 / 3600, 2)},
        "pool_view": view, "seeds": seeds, "baseline": base, "variants": rows,
        "rule": "kept only if the CV accuracy mean rises by more than its sd over repeats",
        "wall_s": round(time.time() - t0, 1)}, indent=1)
    log(f"wrote {args.work}/selftrain_results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
