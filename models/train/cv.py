"""Choose the accurate model's head by grouped, repeated k-fold cross-validation (see
earmark_train/cv.py) instead of the single train -> valid split.

    models/train/.venv/bin/python models/train/cv.py --features target/train/features \
        --backbones msd=target/train/musicnn_msd.onnx,mtt=target/train/musicnn_mtt.onnx \
        --work target/train --splits ../shared/gtzan/splits

Writes WORK/cv_results.json (every configuration: CV mean +- sd, train -> valid; the best per
route; the selected one) and, for the selected configuration, the out-of-fold predictions of
repeat 0 in `earmark eval --json` layout: WORK/cv_oof_clips.json (the 375 full clips) and
WORK/cv_oof_excerpts.json. Backbone outputs are cached by content hash (resumable).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from earmark_train.cards import write_json
from earmark_train.cv import Pool, cross_validate, train_to_valid
from earmark_train.data import LABELS, load_sets
from earmark_train.embed import embed_sets
from earmark_train.log import log
from earmark_train.metrics import eval_report

# train.py's export carries MSD_musicnn only: a route on other backbones is scored and reported
# but shipping it would need that backbone in the graph too (twice the cost per patch)
EXPORTABLE = ("msd_pen", "msd_pen+msd_tag")


def grid(backbones: list, alone: bool = False) -> list:
    """Cheapest first: clip-mean LR (fitted on a few hundred clip means), then patch-level LR
    (thousands of patches per fit; the setting shipped before CV, pen+tag C=0.0003 excerpts x2
    mean_probs, is in the grid); MSD's embedding alone, + MSD's tags, + each other backbone's
    embedding (MTT_musicnn; MSD_vgg), and with `alone` each other backbone's embedding alone."""
    others = [b for b in backbones if b != "msd"]
    feats = ["msd_pen", "msd_pen+msd_tag"] + [f"msd_pen+{b}_pen" for b in others]
    feats += [f"{b}_pen" for b in others] if alone else []
    out = []
    for f in feats:
        for ew in (0.0, 1.0):
            for C in (0.001, 0.003, 0.01, 0.03):
                out.append({"route": "musicnn_lr_clipmean", "head": "lr", "level": "clip_mean",
                            "feats": f, "C": C, "excerpt_weight": ew, "combine": "mean_log_probs"})
    # patch-level fits are ~10x dearer: the setting shipped before CV and one with MSD alone
    patch = [("msd_pen+msd_tag", 0.0003), ("msd_pen", 0.001)]
    for b in others:  # both embeddings at patch level (a second backbone doubles the model's cost or more)
        patch += [(f"msd_pen+{b}_pen", 0.001), (f"msd_pen+{b}_pen", 0.0003)]
    for f, C in patch:
        out.append({"route": "musicnn_lr_patch", "head": "lr", "level": "patch", "feats": f,
                    "C": C, "excerpt_weight": 2.0, "combines": ["mean_probs", "mean_log_probs"]})
    return out


def route_name(cfg: dict) -> str:
    return f"{cfg['route']}[{cfg['feats']}]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True)
    ap.add_argument("--backbones", required=True, help="name=path,... (msd first; others optional, e.g. mtt, vgg)")
    ap.add_argument("--alone", action="store_true", help="also score each other backbone's embedding alone")
    ap.add_argument("--work", required=True)
    ap.add_argument("--splits", required=True, help="GTZAN splits/ folder (artist-conscious lists)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-block", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", default="", help="(dev) substring a route name must contain")
    args = ap.parse_args()
    t0 = time.time()

    clips = load_sets(args.features)
    if "train" not in clips or "valid" not in clips:
        print(f"missing train/valid features under {args.features}", file=sys.stderr)
        return 2
    backbones = dict(kv.split("=", 1) for kv in args.backbones.split(","))
    feats = embed_sets(clips, backbones, args.threads, args.work)
    for s, c in clips.items():
        log(f"{s}: {len(c)} clips, {len(next(iter(feats[s].values())))} patches embedded by {list(backbones)}")
    pool = Pool(clips, feats, args.splits, args.max_block)
    ng = len(set(pool.groups.tolist()))
    log(f"pool: {pool.n} items ({int((~pool.is_ex).sum())} clips, {int(pool.is_ex.sum())} excerpts), "
        f"{ng} artist-conscious groups (max block {args.max_block})")

    seeds = [args.seed + r for r in range(args.repeats)]
    fold_cache, rows, oof_of = {}, [], {}
    for cfg in grid(list(backbones), args.alone):
        if args.only and args.only not in route_name(cfg):
            continue
        for comb, (cv, oofs) in cross_validate(pool, cfg, seeds, fold_cache).items():
            one = {k: v for k, v in cfg.items() if k != "combines"} | {"combine": comb}
            row = {"cfg": one, "cv": cv, "train_valid": train_to_valid(pool, one, args.seed)}
            rows.append(row)
            oof_of[len(rows) - 1] = oofs[0]
            log(f"  {route_name(one)} C={one['C']} ex={one['excerpt_weight']} {comb}: "
                f"CV acc {cv['accuracy']['mean']:.3f}±{cv['accuracy']['sd']:.3f} "
                f"(fold sd {cv['accuracy']['fold_sd']:.3f}) bal {cv['balanced_accuracy']['mean']:.3f} "
                f"ex {cv['excerpts_accuracy']['mean']:.3f} | valid {row['train_valid']['valid_accuracy']:.3f}")

    score = [r["cv"]["score"]["mean"] for r in rows]
    best_any = int(np.argmax(score))
    best_i = max((i for i, r in enumerate(rows) if r["cfg"]["feats"] in EXPORTABLE), key=lambda i: score[i],
                 default=best_any)
    if best_any != best_i:
        log(f"best of all routes (not exportable here): {json.dumps(rows[best_any]['cfg'], sort_keys=True)} "
            f"{rows[best_any]['cv']['accuracy']}")
    best_per_route = {}
    for i, r in enumerate(rows):
        name = route_name(r["cfg"])
        if name not in best_per_route or score[i] > score[best_per_route[name]]:
            best_per_route[name] = i
    sel = rows[best_i]
    log(f"selected by CV: {json.dumps(sel['cfg'], sort_keys=True)} {sel['cv']['accuracy']}")

    # the same head with whole runs as groups (strictest grouping: no artist cut in two)
    pool.regroup(0)
    strict = cross_validate(pool, sel["cfg"], seeds, {})[sel["cfg"]["combine"]][0]
    log(f"selected, whole runs as groups ({len(set(pool.groups.tolist()))} groups): "
        f"CV acc {strict['accuracy']['mean']:.3f}±{strict['accuracy']['sd']:.3f}")

    probs = oof_of[best_i]
    desc = (f"out-of-fold, {5}-fold artist-grouped CV over train + valid (+ excerpts), seed "
            f"{args.seed}; each clip predicted by a head that never saw its group")
    for part, mask in (("clips", ~pool.is_ex), ("excerpts", pool.is_ex)):
        idx = np.where(mask)[0]
        rep = eval_report(pool.y[idx], probs[idx], [pool.paths[i] for i in idx],
                          model=f"cv:{route_name(sel['cfg'])}", dataset=f"{desc} ({part})")
        write_json(os.path.join(args.work, f"cv_oof_{part}.json"), rep, indent=1)
    write_json(os.path.join(args.work, "cv_results.json"), {
        "protocol": {"folds": 5, "repeats": args.repeats, "seeds": seeds, "max_block": args.max_block,
                     "groups": ng, "items": pool.n, "clips": int((~pool.is_ex).sum()),
                     "excerpts": int(pool.is_ex.sum()), "labels": LABELS,
                     "selection": "CV mean of (accuracy + balanced accuracy) / 2 on full clips, "
                                   "among the routes the export carries (MSD_musicnn)"},
        "selected": sel, "best_overall": rows[best_any], "exportable_feats": list(EXPORTABLE),
        "selected_whole_runs": strict, "best_per_route": {k: rows[i] for k, i in best_per_route.items()},
        "all": rows, "wall_s": round(time.time() - t0, 1)})
    log(f"wrote {args.work}/cv_results.json, cv_oof_clips.json, cv_oof_excerpts.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
