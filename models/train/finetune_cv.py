"""Fine-tuning MSD_musicnn for genre, scored on cv.py's folds (issue 17, "a better teacher").

    models/train/.venv/bin/python models/train/finetune_cv.py --features target/train/features \
        --backbone target/train/musicnn_msd.onnx --work target/train --splits ../shared/gtzan/splits

The shipped head is a logistic regression on the frozen network's 200-d penultimate layer. Here
the network itself learns genre: musicnn's own TensorFlow graph (musicnn.models, the wheel's
MSD_musicnn checkpoint) gets a 10-way genre layer on its penultimate, and is trained with
augmentation in three depths (ROUTES):

- `head`: only the new genre layer (the frozen network, with musicnn's dropout and the copies):
  what augmentation alone gives over the shipped head;
- `backend`: + the back-end (batch norms and the 1506 -> 200 dense layer over the pooled maps);
- `midend`: + the mid-end (three 1-D convolutions of 64 filters with residuals).

The front-end (the wide timbral and temporal convolutions, most of the cost) stays frozen, so its
output is computed once per example and cached by content hash (WORK/ft_inputs_*.npy); a route
is fed at its first trained layer (TensorFlow 1 graphs accept any tensor in the feed).

Training audio per fold: the CV pool's runtime patches of the fold's training items plus the
augmented copies pool.py cuts for the students (random crops = time shift, gain +-6 dB, mel-bin
shifts = small pitch shifts, mixes of two clips with mixed labels), to which this script adds an
EQ tilt (+-6 dB across the mel bands) and, with probability 1/2, a time stretch (x0.9-1.1); a mix
is kept only if both its clips are on the fold's training side. Labels are the clips' genres
(soft for mixes), weighted as the shipped head's (classes balanced, an excerpt weighs two
clips). Pretrained layers train at a lower rate than the new layer, with an L2 pull towards
their pretrained values (L2-SP), batch norms in training mode as musicnn was trained.

Same items, artist-conscious groups and stratified group 5-fold splits as cv.py (same seeds);
every held-out item is predicted from its runtime patches (mean of patch probabilities), and the
shipped head is fitted on the same folds for a like-for-like row. Writes WORK/cv_finetune.json
(every route: CV mean +- sd over repeats, per-fold rows, settings, train time); each fold's
predictions are cached under WORK/cv_finetune/ by a hash of everything they came from (resumable;
--folds splits the work between processes as in cv_student.py). Seeded, CPU only.
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
import pool as student_pool  # noqa: E402
from cv_student import SHIPPED_HEAD, mean_sd, scores, student_sets  # noqa: E402
from earmark_train.cache import cached_arrays, key_of, load_cached  # noqa: E402
from earmark_train.cards import write_json  # noqa: E402
from earmark_train.cv import FOLDS, Pool, fit, predict  # noqa: E402
from earmark_train.data import N_FRAMES, N_MELS, K, load_sets  # noqa: E402
from earmark_train.embed import embed_sets  # noqa: E402
from earmark_train.log import log  # noqa: E402
from earmark_train.metrics import combine  # noqa: E402

# route -> (the tensor it is fed at, the parts of the network it trains besides the genre layer)
ROUTES = {"head": ("pooled", []), "backend": ("pooled", ["backend"]),
          "midend": ("frontend", ["midend", "backend"])}
DEFAULTS = {"epochs": 12, "batch": 64, "lr_head": 1e-3, "lr_pretrained": 1e-4, "l2sp": 1e-3,
            "l2_head": 1e-4}


def extra_augment(ex, rng, tilt_db: float, stretch: float) -> None:
    """EQ tilt and time stretch on pool.py's augmented copies (in place; runtime patches untouched)."""
    bands = np.linspace(-1.0, 1.0, N_MELS)
    t = np.arange(N_FRAMES, dtype=np.float64)
    for i in range(ex.n_orig, len(ex.X)):
        lin = student_pool.to_lin(ex.X[i])
        lin *= 10.0 ** (rng.uniform(-tilt_db, tilt_db) * bands / 10.0)
        L = student_pool.to_log(lin)
        if rng.random() < 0.5:
            # read the patch at rate f: > 1 speeds it up (the tail is mirrored), < 1 slows it down
            src = t * rng.uniform(1.0 - stretch, 1.0 + stretch)
            src = np.where(src > N_FRAMES - 1, 2 * (N_FRAMES - 1) - src, src)
            lo = np.floor(src).astype(int)
            fr = (src - lo)[:, None]
            hi = np.minimum(lo + 1, N_FRAMES - 1)
            L = ((1 - fr) * L[lo] + fr * L[hi]).astype(np.float32)
        ex.X[i] = L


class Net:
    """MSD_musicnn rebuilt from musicnn.models in its own layer order (so the checkpoint's
    variable names match), with handles on the tensors a route is fed at and a genre layer."""

    def __init__(self, tf, seed: int):
        from musicnn import models as mm

        self.tf = tf
        tf.compat.v1.reset_default_graph()
        tf.compat.v1.set_random_seed(seed)
        v1, layers = tf.compat.v1, tf.compat.v1.layers
        self.mel = v1.placeholder(tf.float32, [None, N_FRAMES, N_MELS], name="mel")
        self.training = v1.placeholder_with_default(False, [], name="is_training")
        parts, ups = {}, {}

        def mark(name, start_vars, start_ups):
            parts[name] = v1.global_variables()[start_vars:]
            ups[name] = v1.get_collection(v1.GraphKeys.UPDATE_OPS)[start_ups:]

        def counts():
            return len(v1.global_variables()), len(v1.get_collection(v1.GraphKeys.UPDATE_OPS))

        with tf.name_scope("model"):
            c = counts()
            self.frontend = tf.concat(mm.frontend(self.mel, self.training, N_MELS, num_filt=1.6,
                                                  type="7774timbraltemporal"), 2)
            mark("frontend", *c)
            c = counts()
            mid = tf.concat(mm.midend(self.frontend, self.training, 64), 2)
            mark("midend", *c)
            c = counts()
            # musicnn.models.backend, inline for a handle on the pooled maps
            mx = tf.reduce_max(mid, axis=1)
            mean, _ = tf.nn.moments(mid, axes=[1])
            self.pooled = tf.concat([mx, mean], 2)
            flat = layers.batch_normalization(layers.flatten(self.pooled), training=self.training)
            dense = layers.dense(layers.dropout(flat, rate=0.5, training=self.training), units=200,
                                 activation=tf.nn.relu)
            self.penultimate = layers.batch_normalization(dense, training=self.training)
            drop = layers.dropout(self.penultimate, rate=0.5, training=self.training)
            self.tag_logits = layers.dense(drop, units=50)
            mark("backend", *c)
        self.pretrained = v1.global_variables()
        parts["backend"] = [v for v in parts["backend"] if not v.name.startswith("dense_1/")]
        with v1.variable_scope("genre"):
            self.logits = layers.dense(drop, units=K)
        self.head = v1.global_variables()[len(self.pretrained):]
        self.parts, self.update_ops = parts, ups
        self.probs = tf.nn.softmax(self.logits)

    def restore(self, sess) -> None:
        from musicnn import models as mm

        ckpt = os.path.join(os.path.dirname(mm.__file__), "MSD_musicnn") + "/"
        self.tf.compat.v1.train.Saver(var_list=self.pretrained).restore(sess, ckpt)


def session(tf, threads: int):
    cfg = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)
    return tf.compat.v1.Session(config=cfg)


def frozen_inputs(tf, X: np.ndarray, where: str, threads: int, check_onnx: str) -> np.ndarray:
    """The frozen network's `where` tensor for every patch of X (float16 for the front-end maps)."""
    net = Net(tf, 0)
    t = getattr(net, where)
    with session(tf, threads) as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        net.restore(sess)
        if check_onnx:  # the rebuilt graph is the exported backbone: same tags on real patches
            from earmark_train.onnx_utils import session as ort_session

            ref = ort_session(check_onnx, threads).run(["taggram"], {"mel": X[:8]})[0]
            got = sess.run(tf.nn.sigmoid(net.tag_logits), {net.mel: X[:8]})
            log(f"rebuilt MSD_musicnn vs {os.path.basename(check_onnx)}: max |tag diff| {np.abs(got - ref).max():.2e}")
            if np.abs(got - ref).max() > 1e-3:
                raise SystemExit("the rebuilt graph does not match the exported backbone")
        out, t0 = [], time.time()
        for a in range(0, len(X), 64):
            out.append(sess.run(t, {net.mel: X[a:a + 64]}).astype(np.float16 if where == "frontend" else np.float32))
            if a // 64 % 20 == 0:
                log(f"  {where} maps: {a + len(out[-1])}/{len(X)} patches ({time.time() - t0:.0f} s)")
    return np.concatenate(out)


def train_fold(tf, route: str, hp: dict, inputs, Y, w, train_idx, test_idx, seed: int, threads: int):
    """Fine-tune on inputs[train_idx] (soft targets Y, weights w); probabilities of inputs[test_idx]."""
    where, parts = ROUTES[route]
    net = Net(tf, seed)
    feed_at = getattr(net, where)
    v1 = tf.compat.v1
    tgt = v1.placeholder(tf.float32, [None, K])
    wt = v1.placeholder(tf.float32, [None])
    ce = -tf.reduce_sum(tgt * tf.nn.log_softmax(net.logits), 1)
    loss = tf.reduce_sum(wt * ce) / tf.maximum(tf.reduce_sum(wt), 1e-6)
    trainable = {v.name for v in v1.trainable_variables()}
    ft = [v for p in parts for v in net.parts[p] if v.name in trainable]
    anchors = {v.name: v1.Variable(tf.zeros(v.shape), trainable=False) for v in ft}
    reg = hp["l2_head"] * tf.add_n([tf.nn.l2_loss(v) for v in net.head if "kernel" in v.name])
    if ft:
        reg += hp["l2sp"] * tf.add_n([tf.nn.l2_loss(v - anchors[v.name]) for v in ft])
    total = loss + reg
    ops = [v1.train.AdamOptimizer(hp["lr_head"]).minimize(total, var_list=net.head)]
    if ft:
        ops.append(v1.train.AdamOptimizer(hp["lr_pretrained"]).minimize(total, var_list=ft))
    ups = [u for p in parts for u in net.update_ops[p]]
    step = tf.group(*ops, *ups)
    rng = np.random.default_rng(seed)
    t0 = time.time()
    with session(tf, threads) as sess:
        sess.run(v1.global_variables_initializer())
        net.restore(sess)
        for v in ft:
            sess.run(anchors[v.name].assign(v))
        hist = []
        for ep in range(hp["epochs"]):
            order = rng.permutation(train_idx)
            tot = 0.0
            for a in range(0, len(order), hp["batch"]):
                b = np.sort(order[a:a + hp["batch"]])
                if len(b) < 2:
                    continue
                # the head alone sees the frozen network (no dropout, pretrained batch-norm statistics)
                _, lv = sess.run([step, loss], {feed_at: inputs[b].astype(np.float32), tgt: Y[b], wt: w[b],
                                                net.training: bool(parts)})
                tot += lv * len(b)
            hist.append(tot / len(order))
            log(f"    epoch {ep + 1}/{hp['epochs']} loss {hist[-1]:.3f} ({time.time() - t0:.0f} s)")
        probs = np.concatenate([sess.run(net.probs, {feed_at: inputs[test_idx[a:a + 256]].astype(np.float32)})
                                for a in range(0, len(test_idx), 256)])
    return {"patch_probs": probs.astype(np.float32), "train_s": np.array(time.time() - t0),
            "loss": np.array(hist)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True)
    ap.add_argument("--backbone", required=True, help="the exported MSD_musicnn ONNX (cv.py's features; a parity check)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--splits", required=True, help="GTZAN splits/ folder (artist-conscious lists)")
    ap.add_argument("--routes", default="head,backend,midend", help=f"comma list of {list(ROUTES)}")
    ap.add_argument("--repeats", type=int, default=3, help="as cv.py: seeds SEED, SEED+1, ...")
    ap.add_argument("--max-block", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--folds", default="", help="as cv_student.py: folds (0-4 or SEED:FOLD) this process trains")
    ap.add_argument("--aug-rounds", type=int, default=2)
    ap.add_argument("--mix-p", type=float, default=0.3)
    ap.add_argument("--gain-db", type=float, default=6.0)
    ap.add_argument("--tilt-db", type=float, default=6.0)
    ap.add_argument("--stretch", type=float, default=0.1)
    for k, v in DEFAULTS.items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    args = ap.parse_args()
    t0 = time.time()
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    hp = {k: getattr(args, k) for k in DEFAULTS}
    clips = load_sets(args.features)
    feats = embed_sets(clips, {"msd": args.backbone}, args.threads, args.work)
    pool = Pool(clips, feats, args.splits, args.max_block)
    log(f"pool: {pool.n} items ({int((~pool.is_ex).sum())} clips, {int(pool.is_ex.sum())} excerpts), "
        f"{len(set(pool.groups.tolist()))} groups")
    sets = student_sets(args.features, list(clips), [])
    ex = student_pool.build_examples(sets, np.random.default_rng(args.seed), args.aug_rounds, args.mix_p,
                                     args.gain_db)
    n_lab = len(pool.owner)
    if ex.n_orig != n_lab or not np.array_equal(ex.X[:n_lab], np.concatenate([c.patches()[0] for c in clips.values()])):
        raise SystemExit("pool.py's runtime patches differ from the CV pool's (set order?)")
    extra_augment(ex, np.random.default_rng(args.seed + 1000), args.tilt_db, args.stretch)
    log(f"examples: {len(ex.X)} ({n_lab} runtime patches, {len(ex.X) - n_lab} augmented copies)")
    aug = {k: getattr(args, k) for k in ("aug_rounds", "mix_p", "gain_db", "tilt_db", "stretch", "seed")}

    routes = [r for r in args.routes.split(",") if r]
    inputs = {}
    for where in sorted({ROUTES[r][0] for r in routes}):
        key = key_of(where, json.dumps(aug, sort_keys=True), ex.X)
        path = os.path.join(args.work, f"ft_inputs_{where}.npy")
        if os.path.exists(path + ".key") and open(path + ".key").read() == key:
            inputs[where] = np.load(path, mmap_mode="r")
            continue
        log(f"computing the frozen network's {where} tensor for {len(ex.X)} patches")
        arr = frozen_inputs(tf, ex.X, where, args.threads, args.backbone)
        np.save(path, arr)
        with open(path + ".key", "w") as f:
            f.write(key)
        inputs[where] = np.load(path, mmap_mode="r")

    seeds = [args.seed + r for r in range(args.repeats)]
    mine = [f for f in args.folds.split(",") if f]
    out_dir = os.path.join(args.work, "cv_finetune")
    results, missing = {}, []
    base_rows = {}
    for route in routes:
        fold_rows, rep_rows = [], []
        for seed in seeds:
            pr = np.zeros((pool.n, K))
            for k, te in enumerate(pool.folds(seed)):
                tr = np.setdiff1d(np.arange(pool.n), te)
                if (seed, k) not in base_rows:
                    base_rows[(seed, k)] = predict(pool, SHIPPED_HEAD, fit(pool, SHIPPED_HEAD, tr, seed), te)
                keep = np.ones(len(ex.clips), bool)
                keep[te] = False
                hw = ex.hard_weights(keep)
                train_idx = np.where(ex.uses(keep) & (hw > 0))[0]
                test_idx = np.where(np.isin(pool.owner, te))[0]
                key = key_of(route, json.dumps(hp, sort_keys=True), json.dumps(aug, sort_keys=True), seed, te,
                             train_idx, hw[train_idx], ex.Y[train_idx])
                path = os.path.join(out_dir, f"{route}_s{seed}_f{k}.npz")
                if not mine or str(k) in mine or f"{seed}:{k}" in mine:
                    log(f"{route} seed {seed} fold {k + 1}/{FOLDS}: {len(train_idx)} examples")
                    got = cached_arrays(path, key, lambda: train_fold(
                        tf, route, hp, inputs[ROUTES[route][0]], ex.Y, hw, train_idx, test_idx,
                        seed * 100 + k, args.threads))
                else:
                    got = load_cached(path, key)
                if got is None:
                    missing.append(f"{route} {seed}:{k}")
                    continue
                local = np.full(pool.n, -1)
                local[te] = np.arange(len(te))
                pr[te] = combine(got["patch_probs"], local[pool.owner[test_idx]], len(te), "mean_probs")
                row = {"seed": seed, "fold": k, "examples": int(len(train_idx)),
                       "train_s": round(float(got["train_s"]), 1),
                       "finetuned": scores(pool.y[te], pr[te], pool.is_ex[te]),
                       "shipped_head": scores(pool.y[te], base_rows[(seed, k)], pool.is_ex[te])}
                fold_rows.append(row)
                log(f"{route} seed {seed} fold {k + 1}: acc {row['finetuned']['accuracy']:.3f} "
                    f"(shipped head {row['shipped_head']['accuracy']:.3f}) ({row['train_s']:.0f} s)")
            if not any(m.startswith(route) for m in missing):
                full = np.concatenate([base_rows[(seed, k)] for k in range(FOLDS)])
                order = np.concatenate(pool.folds(seed))
                base = np.zeros_like(pr)
                base[order] = full
                rep_rows.append({"seed": seed, "finetuned": scores(pool.y, pr, pool.is_ex),
                                 "shipped_head": scores(pool.y, base, pool.is_ex)})
        if len(rep_rows) == len(seeds):
            results[route] = {
                "trains": ["genre layer"] + ROUTES[route][1], "fed_at": ROUTES[route][0],
                "oof": {w: mean_sd([r[w] for r in rep_rows]) for w in ("finetuned", "shipped_head")},
                "folds": {w: mean_sd([r[w] for r in fold_rows]) for w in ("finetuned", "shipped_head")},
                "per_repeat": rep_rows, "per_fold": fold_rows,
                "train_s": round(sum(r["train_s"] for r in fold_rows), 1)}
            o = results[route]["oof"]
            log(f"{route}: CV acc {o['finetuned']['accuracy']['mean']:.3f}±{o['finetuned']['accuracy']['sd']:.3f} "
                f"bal {o['finetuned']['balanced_accuracy']['mean']:.3f} | shipped head on the same folds "
                f"{o['shipped_head']['accuracy']['mean']:.3f}±{o['shipped_head']['accuracy']['sd']:.3f}")
    if missing:
        log(f"not cached yet (another process trains them): {', '.join(missing)}; no report written")
        return 0
    path = os.path.join(args.work, "cv_finetune.json")
    old = (json.load(open(path)) if os.path.exists(path) else {}).get("routes", {})
    write_json(path, {
        "protocol": {"folds": FOLDS, "seeds": seeds, "max_block": args.max_block, "items": pool.n,
                     "clips": int((~pool.is_ex).sum()), "excerpts": int(pool.is_ex.sum()),
                     "groups": len(set(pool.groups.tolist())), "shipped_head": SHIPPED_HEAD,
                     "hyper": hp, "augment": aug, "examples": int(len(ex.X)), "runtime_patches": int(n_lab),
                     "prediction": "clip = mean of patch probabilities; TensorFlow, musicnn's own graph"},
        "routes": {**old, **results}, "wall_s": round(time.time() - t0, 1)}, indent=1)
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
