"""Would averaging students close the gap to the teacher? (issue 17, a student lever measured
without training).

    models/train/.venv/bin/python models/train/ensemble_students.py --features target/train/features \
        --backbone target/train/musicnn_msd.onnx --work target/train --splits ../shared/gtzan/splits

Every student variant whose folds are kept (models/fast/cv/folds/NAME/s{seed}_f{k}.npz, written by
cv_student.py) was trained on the same folds of a seed, so their held-out patch probabilities can
be averaged as one graph holding several students would average them, then combined per clip as
earmark does (mean of patch probabilities). Prints, per seed, each variant alone, every pair and
all of them together: out-of-fold accuracy, balanced accuracy (full clips) and excerpts accuracy.
Nothing is trained; the backbone outputs are cv.py's cache (only the items' order and folds are
needed from them).
"""

import argparse
import itertools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cv_student import KEPT_FOLDS  # noqa: E402
from earmark_train.cv import Pool  # noqa: E402
from earmark_train.data import LABELS, load_sets  # noqa: E402
from earmark_train.embed import embed_sets  # noqa: E402
from earmark_train.metrics import combine  # noqa: E402


def out_of_fold(pool: Pool, names: list, seed: int):
    """Clip probabilities of the averaged students, or None when a fold of one is not kept."""
    probs = np.zeros((pool.n, len(LABELS)))
    for k, te in enumerate(pool.folds(seed)):
        patches = np.where(np.isin(pool.owner, te))[0]
        local = np.full(pool.n, -1)
        local[te] = np.arange(len(te))
        paths = [os.path.join(KEPT_FOLDS, n, f"s{seed}_f{k}.npz") for n in names]
        if not all(os.path.exists(p) for p in paths):
            return None
        patch_probs = np.mean([np.load(p)["patch_probs"] for p in paths], axis=0)
        if len(patch_probs) != len(patches):
            raise SystemExit(f"{paths}: {len(patch_probs)} patches, the fold holds {len(patches)}")
        probs[te] = combine(patch_probs, local[pool.owner[patches]], len(te), "mean_probs")
    return probs


def scores(pool: Pool, probs: np.ndarray) -> str:
    full, y = ~pool.is_ex, pool.y
    hit = probs.argmax(1) == y
    balanced = np.mean([hit[full & (y == c)].mean() for c in np.unique(y[full])])
    return f"{hit[full].mean():.3f} / {balanced:.3f} (excerpts {hit[~full].mean():.3f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", required=True)
    ap.add_argument("--backbone", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--splits", required=True)
    ap.add_argument("--max-block", type=int, default=10)
    ap.add_argument("--seeds", default="0,1,2")
    args = ap.parse_args()
    clips = load_sets(args.features)
    pool = Pool(clips, embed_sets(clips, {"msd": args.backbone}, 2, args.work), args.splits, args.max_block)
    variants = sorted(d for d in os.listdir(KEPT_FOLDS) if os.path.isdir(os.path.join(KEPT_FOLDS, d)))
    for seed in (int(s) for s in args.seeds.split(",")):
        have = [v for v in variants if out_of_fold(pool, [v], seed) is not None]
        print(f"seed {seed}: accuracy / balanced accuracy, out of fold ({len(have)} variants kept)")
        groups = [[v] for v in have] + [list(p) for p in itertools.combinations(have, 2)]
        if len(have) > 2:
            groups.append(have)
        for names in groups:
            print(f"  {' + '.join(names):<50} {scores(pool, out_of_fold(pool, names, seed))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
