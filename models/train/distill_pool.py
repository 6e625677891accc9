"""Does the unlabelled pool help the student? Distil with and without it and measure how closely
the student follows its teacher on valid and on whole pool packages it never saw.

    models/train/.venv/bin/python models/train/distill_pool.py --features target/train/features \
        --pool target/train/pool_features/pool --work target/train \
        --teacher target/train/genre-trainonly.onnx --backbone target/train/musicnn_msd.onnx \
        --run gtzan|gtzan+pool

Teacher: the train-only accurate model (musicnn MSD backbone + the genre head in its graph). Its
targets on every runtime patch come from the backbone outputs the recipe already caches by
content hash (cv.py's WORK/emb_msd_<set>.npz, selftrain.py's WORK/emb_msd_pool/) and the head
read from the teacher ONNX, so no teacher pass is repeated: soft labels at temperature T, the
50 MSD tags (auxiliary) and the 200-d `penultimate` embedding, which the student's second output
`embedding` learns (so `learn` and `similar` stay in the teacher's space). Training audio: GTZAN
train (+ its excerpts; hard labels too) and, with `--run gtzan+pool`, the pool less the held-out
packages (teacher only). Augmentation on the fly (distill.py's noisy student: gain, time and band
masks, mixing); seeded, CPU only. The two runs differ only in the pool.

Measured (WORK/distill_pool_<run>_s<steps>.json): on valid clips the student's and the teacher's accuracy
and their top-1 agreement; on the held-out packages (whole packages, never trained on) top-1
agreement per track and per patch; cosine between the student's and the teacher's embedding.
The student ONNX (outputs `probs`, `embedding`) is written to WORK/student_<run>_s<steps>.onnx.
"""

import argparse
import os
import sys
import time
import types
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import distill  # noqa: E402
from earmark_train.cache import sha256_file  # noqa: E402
from earmark_train.data import Clips, K  # noqa: E402
from earmark_train.embed import embed, embed_chunked  # noqa: E402
from earmark_train.heads import sample_weights  # noqa: E402
from earmark_train.log import log, write_summary  # noqa: E402
from earmark_train.metrics import combine  # noqa: E402
from earmark_train.onnx_utils import keras_to_onnx, session  # noqa: E402
from pool import HELD_OUT_PACKAGES  # noqa: E402


def head_layers(path: str) -> list:
    """The teacher's genre head [(W, b, activation)], read from its ONNX graph (train.py's
    export: head_W<i>, head_b<i>, optional head_act<i>), applied to [penultimate, taggram]."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    acts = {n.input[0]: n.op_type for n in m.graph.node if n.name.startswith("head_act")}
    layers, i = [], 0
    while f"head_W{i}" in init:
        layers.append((init[f"head_W{i}"], init[f"head_b{i}"], acts.get(f"head_z{i}")))
        i += 1
    if not layers:
        raise SystemExit(f"{path}: no genre head (head_W0) in the graph")
    return layers


def teacher_probs(layers, pen: np.ndarray, tag: np.ndarray) -> np.ndarray:
    """The teacher's genre head on the backbone outputs (as fidelity.py and the graph do)."""
    x = np.concatenate([pen, tag], 1)[:, :layers[0][0].shape[0]].astype(np.float64)
    for W, b, act in layers:
        x = x @ W + b
        if act == "Relu":
            x = np.maximum(x, 0)
    x -= x.max(1, keepdims=True)
    e = np.exp(x)
    return (e / e.sum(1, keepdims=True)).astype(np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    num = (a * b).sum(1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-9
    return float((num / den).mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True)
    ap.add_argument("--pool", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--teacher", required=True, help="train-only teacher ONNX")
    ap.add_argument("--backbone", required=True, help="the MSD_musicnn ONNX the embeddings came from")
    ap.add_argument("--run", choices=["gtzan", "gtzan+pool"], required=True)
    ap.add_argument("--holdout", default=HELD_OUT_PACKAGES, help="pool packages never trained on (comma list)")
    ap.add_argument("--steps", type=int, default=800,
                    help="optimiser steps (batch 64), so runs with more audio get the same budget")
    ap.add_argument("--epochs", type=int, default=0, help="overrides --steps (output names keep --steps)")
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=0.7, help="weight of the distillation loss")
    ap.add_argument("--emb-weight", type=float, default=0.3, help="weight of the embedding target")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    t0 = time.time()
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    layers = head_layers(args.teacher)
    sets = {s: Clips(os.path.join(args.features, s), s) for s in ("train", "ex_train", "valid")
            if os.path.exists(os.path.join(args.features, s, "index.json"))}
    emb = {}
    for s, c in sets.items():
        P, ow = c.patches()
        e = embed(args.backbone, P, args.threads, os.path.join(args.work, f"emb_msd_{s}.npz"))
        emb[s] = (P, ow, e["penultimate"], e["taggram"])
    pc = Clips(args.pool, "pool", labelled_only=False)
    held = set(args.holdout.split(","))
    pkg = np.array([it["label"] for it in pc.items])
    missing = held - set(pkg.tolist())
    if missing:
        print(f"held-out packages not in the pool: {sorted(missing)}", file=sys.stderr)
        return 2
    Pp, owp = pc.patches()
    is_held_patch = np.isin(pkg[owp], list(held))

    def pool_embeddings():
        return embed_chunked(args.backbone, Pp, owp, args.threads, os.path.join(args.work, "emb_msd_pool"),
                             progress=log)

    # training examples: GTZAN train (+ excerpts) with hard labels; the pool (less held-out) without
    parts = [s for s in ("train", "ex_train") if s in emb]
    X = [emb[s][0] for s in parts]
    pen = [emb[s][2] for s in parts]
    tag = [emb[s][3] for s in parts]
    y_clip = np.concatenate([sets[s].y for s in parts])
    offs = np.cumsum([0] + [len(sets[s]) for s in parts])
    owner = np.concatenate([emb[s][1] + offs[i] for i, s in enumerate(parts)])
    is_ex = np.concatenate([np.full(len(sets[s]), s.startswith("ex_")) for s in parts])
    hw, _ = sample_weights(y_clip, owner, is_ex, 2.0)
    Y = np.eye(K, dtype=np.float32)[y_clip[owner]]
    HW = hw.astype(np.float32)
    n_pool = 0
    ep = None
    if args.run == "gtzan+pool":
        ep = pool_embeddings()
        keep = ~is_held_patch
        n_pool = int(keep.sum())
        X.append(Pp[keep])
        pen.append(ep["penultimate"][keep])
        tag.append(ep["taggram"][keep])
        Y = np.concatenate([Y, np.zeros((n_pool, K), np.float32)])
        HW = np.concatenate([HW, np.zeros(n_pool, np.float32)])
    X, pen, tag = np.concatenate(X), np.concatenate(pen), np.concatenate(tag)
    TP = teacher_probs(layers, pen, tag)
    e_mu, e_sd = pen.mean(0), pen.std(0) + 1e-6
    TE = (pen - e_mu) / e_sd
    log(f"{args.run}: {len(X)} training patches ({n_pool} from the pool, {len(held)} packages held out)")

    epochs = args.epochs or max(1, round(args.steps * 64 / len(X)))
    cfg = types.SimpleNamespace(
        widths="96,128,128,192", dense=128, dropout=0.3, epochs=epochs, batch=64, lr=2e-3,
        temperature=args.temperature, alpha=args.alpha, aux=0.3, weight_decay=0.0, otf_mix=0.3,
        otf_gain_db=6.0, specaug=0.3, seed=args.seed)
    t = time.time()
    export, history, widths = distill.student_fit(X, Y, HW, TP, tag, cfg, None, TE, args.emb_weight)
    train_s = time.time() - t
    # the embedding head back in the teacher's units (standardisation folded into the layer)
    lay = export.get_layer("embedding")
    W, b = lay.get_weights()
    lay.set_weights([W * e_sd[None, :], b * e_sd + e_mu])
    out = os.path.join(args.work, f"student_{args.run.replace('+', '_')}_s{args.steps}.onnx")
    keras_to_onnx(export, out, 13, names=("probs", "embedding"))
    sess = session(out, args.threads)

    def student(P):
        r = [sess.run(["probs", "embedding"], {"mel": P[i:i + 256]}) for i in range(0, len(P), 256)]
        return np.concatenate([a for a, _ in r]), np.concatenate([e for _, e in r])

    keras_p = export.predict(X[:16], verbose=0)[0]
    diff = float(np.abs(student(X[:16])[0] - keras_p).max())

    def compare(P, ow, n, pen_t, tag_t, y=None):
        ps, es = student(P)
        pt = teacher_probs(layers, pen_t, tag_t)
        cs, ct = combine(ps, ow, n, "mean_probs"), combine(pt, ow, n, "mean_probs")
        r = {"items": int(n), "patches": int(len(P)),
             "agreement_track": round(float((cs.argmax(1) == ct.argmax(1)).mean()), 4),
             "agreement_patch": round(float((ps.argmax(1) == pt.argmax(1)).mean()), 4),
             "embedding_cosine": round(cosine(es, pen_t), 4)}
        if y is not None:
            r["student_accuracy"] = round(float((cs.argmax(1) == y).mean()), 4)
            r["teacher_accuracy"] = round(float((ct.argmax(1) == y).mean()), 4)
        return r

    ep = ep or pool_embeddings()  # the baseline needs the pool only to be measured on it
    res = {}
    if "valid" in emb:
        P, ow, pv, tv = emb["valid"]
        res["valid"] = compare(P, ow, len(sets["valid"]), pv, tv, sets["valid"].y)
    hp = np.where(is_held_patch)[0]
    held_tracks = np.unique(owp[hp])
    local = np.full(len(pc), -1)
    local[held_tracks] = np.arange(len(held_tracks))
    res["heldout_packages"] = compare(Pp[hp], local[owp[hp]], len(held_tracks), ep["penultimate"][hp],
                                      ep["taggram"][hp])
    res["heldout_packages"]["packages"] = sorted(held)
    res["heldout_packages"]["hours_analysed"] = round(len(hp) * 187 * 256 / 16000 / 3600, 2)
    for k, v in res.items():
        log(f"{args.run} on {k}: {v}")
    write_summary(os.path.join(args.work, f"distill_pool_{args.run.replace('+', '_')}_s{args.steps}.json"), {
        "run": args.run, "teacher": args.teacher, "teacher_sha256": sha256_file(args.teacher),
        "out": out, "sha256": sha256_file(out), "training_patches": int(len(X)), "pool_patches": n_pool,
        "config": {**vars(cfg), "emb_weight": args.emb_weight, "steps": args.steps}, "holdout": sorted(held),
        "results": res, "onnx_vs_keras_max_abs_diff": diff, "weights": int(export.count_params()),
        "conv_macs_per_patch": distill.macs_per_patch(widths), "train_seconds": round(train_s, 1),
        "history": history, "wall_s": round(time.time() - t0, 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
