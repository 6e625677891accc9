"""How closely does a student follow its teacher? Top-1 agreement per patch and per clip.

    models/train/.venv/bin/python models/train/fidelity.py --work target/train \
        --teacher target/train/genre-ft-trainonly.onnx --student target/train/student-trainonly.onnx \
        [--sets train,valid] [--pool DIR --packages a,b]

Both models run in onnxruntime on the same runtime patches (WORK/features/<set>, the index's
segment offsets), so any teacher graph works (the head alone or the fine-tuned network). With
--pool (an `earmark features` folder of the unlabelled pool, one sub-folder per package) the
tracks of --packages are scored too: whole packages the student never trained on. Clip = mean of
patch probabilities, as at run time. Writes WORK/fidelity_<tag>.json (the fast card reads it);
the teacher's outputs are cached by content hash in WORK/fidelity_teacher/.
"""

import argparse
import functools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from earmark_train.cache import cached_arrays, key_of, sha256_file  # noqa: E402
from earmark_train.data import Clips  # noqa: E402
from earmark_train.log import log, write_summary  # noqa: E402
from earmark_train.metrics import combine  # noqa: E402
from earmark_train.onnx_utils import run_batched, session  # noqa: E402


def agreement(teacher, s_sess, c: Clips) -> dict:
    """`teacher`: (sha256, session factory, cache folder): its probabilities are cached by content
    hash, since distill.sh scores two students against one teacher on the same patches."""
    P, owner = c.patches()
    sha, t_sess, cache = teacher
    key = key_of(sha, P)
    pt = cached_arrays(os.path.join(cache, f"{key}.npz"), key,
                       lambda: {"probs": run_batched(t_sess(), ["probs"], P)[0]})["probs"]
    ps = run_batched(s_sess, ["probs"], P)[0]
    ct, cs = combine(pt, owner, len(c), "mean_probs"), combine(ps, owner, len(c), "mean_probs")
    out = {"clips": len(c), "patches": int(len(P)),
           "agreement_patch": float((ps.argmax(1) == pt.argmax(1)).mean()),
           "agreement_clip": float((cs.argmax(1) == ct.argmax(1)).mean())}
    lab = c.y >= 0
    if lab.any():
        out["accuracy_student"] = float((cs.argmax(1) == c.y)[lab].mean())
        out["accuracy_teacher"] = float((ct.argmax(1) == c.y)[lab].mean())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True)
    ap.add_argument("--teacher", required=True, help="teacher ONNX (mel -> probs)")
    ap.add_argument("--student", required=True, help="student ONNX (mel -> probs)")
    ap.add_argument("--sets", default="train,valid", help="labelled sets under WORK/features")
    ap.add_argument("--pool", default="", help="`earmark features` folder of the pool")
    ap.add_argument("--packages", default="", help="pool packages the student never saw")
    ap.add_argument("--tag", default="trainonly")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    t_sess = functools.cache(lambda: session(args.teacher, args.threads))
    teacher = (sha256_file(args.teacher), t_sess, os.path.join(args.work, "fidelity_teacher"))
    s_sess = session(args.student, args.threads)
    res = {"teacher": args.teacher, "student": args.student, "sets": {}}
    for name in [s for s in args.sets.split(",") if s]:
        fdir = os.path.join(args.work, "features", name)
        if not os.path.exists(os.path.join(fdir, "index.json")):
            continue
        res["sets"][name] = r = agreement(teacher, s_sess, Clips(fdir, name))
        log(f"{name}: top-1 agreement {r['agreement_patch']:.3f} per patch, {r['agreement_clip']:.3f} per "
            f"clip; accuracy student {r.get('accuracy_student', float('nan')):.3f}, "
            f"teacher {r.get('accuracy_teacher', float('nan')):.3f}")
    pk = [p for p in args.packages.split(",") if p]
    if args.pool and pk:
        c = Clips(args.pool, "pool", labelled_only=False)
        keep = [i for i, it in enumerate(c.items) if it["label"] in pk]
        c.items = [c.items[i] for i in keep]
        c.y, c.paths = c.y[keep], [c.paths[i] for i in keep]
        res["held_out_packages"] = dict(agreement(teacher, s_sess, c), packages=pk)
        r = res["held_out_packages"]
        log(f"held-out packages ({r['clips']} tracks): top-1 agreement {r['agreement_patch']:.3f} per "
            f"patch, {r['agreement_clip']:.3f} per track")
    write_summary(os.path.join(args.work, f"fidelity_{args.tag}.json"), res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
