"""earmark fast genre model: musicnn-lite, a pruned low-resolution copy of the teacher, distilled.

    models/train/.venv/bin/python models/train/distill_lite.py --features F --teacher T.onnx \
        --out OUT.onnx --work W [--sets train,ex_train,music] [--monitor valid]

Usually run through `EARMARK_STUDENT=lite bash models/train/distill.sh`. Consumes only features written by
`earmark features` (pool.py: the sets and the augmented pool of patches). Steps:

1. teacher targets for every example (onnxruntime on the teacher ONNX): genre probabilities,
   musicnn's `penultimate` (200) and `taggram` (50), the inputs of the teacher's genre head;
2. the student graph (lite.py) at --td x --fd pooling, initialised from musicnn's weights;
3. pruning: each front-end filter scored by how much the genre logits move when it is replaced
   by its mean (a first-order estimate on --prune-patches examples); the top --keep per block stay;
4. fine-tuning (Adam, cosine schedule) on
      alpha * T^2 * KL(teacher_T || student_T) + beta * MSE(standardised [penultimate, taggram])
      + gamma * balanced CE(hard labels, where a clip has one)
      + delta * MSE(front-end map vs the teacher's, each channel scaled by its spread)
   with the teacher's genre head frozen on top, so the student learns the features the head reads;
5. export mel [batch,187,96] -> probs [batch,10]; checked against Keras in onnxruntime.
"""

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import onnx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lite  # noqa: E402
import pool as D  # noqa: E402  (data sets and the augmented pool)
from earmark_train.cache import key_of, sha256_file  # noqa: E402
from earmark_train.cards import write_card_beside  # noqa: E402
from earmark_train.data import LABELS, K  # noqa: E402
from earmark_train.log import log, write_summary  # noqa: E402
from earmark_train.metrics import combine, metrics  # noqa: E402
from earmark_train.onnx_utils import session  # noqa: E402

BLOCKS = ["f74", "f77", "s1", "s2", "s3"]
OFFSETS = [0, 204, 408, 459, 510]


def teacher_targets(teacher: str, X: np.ndarray, td: int, threads: int, cache: str):
    """The teacher on every example: probs [N,10], penultimate [N,200], taggram [N,50] and its
    front-end map (musicnn's 561 timbral + temporal channels) averaged over td frames,
    [N, 187 // td, 561] in float16 (the student's front-end is taught to reproduce it)."""
    key = key_of(sha256_file(teacher), X, f"front/{td}")
    if os.path.exists(cache):
        z = np.load(cache)
        if str(z["key"]) == key:
            return z["probs"], z["pen"], z["tag"], z["front"]
    m = onnx.load(teacher)
    front = [n.output[0] for n in m.graph.node if n.name == "model/concat"]
    if not front:
        raise SystemExit(f"{teacher}: no musicnn front-end concat (model/concat) in the graph")
    names = ["probs", "penultimate", "taggram", front[0]]
    for n in names[1:]:
        m.graph.output.append(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None))
    sess = session(m, threads)
    t2 = lite.N_FRAMES // td
    probs = np.zeros((len(X), K), np.float32)
    pen = np.zeros((len(X), 200), np.float32)
    tag = np.zeros((len(X), 50), np.float32)
    fr = np.zeros((len(X), t2, 561), np.float16)
    t = time.time()
    for s in range(0, len(X), 32):
        p, e, g, f = sess.run(names, {"mel": X[s:s + 32]})
        n = len(p)
        probs[s:s + n], pen[s:s + n], tag[s:s + n] = p, e, g
        f = f[:, :, :t2 * td].reshape(n, 561, t2, td).mean(3)  # [n, 561, t2]
        fr[s:s + n] = f.transpose(0, 2, 1)
        if (s // 32) % 50 == 0:
            log(f"  teacher {s + n}/{len(X)} ({1000 * (time.time() - t) / (s + n):.0f} ms/patch)")
    np.savez(cache, key=key, probs=probs, pen=pen, tag=tag, front=fr)
    return probs, pen, tag, fr


def front_stats(model, X):
    """Means over data of each front-end channel, of its max and of its mean over a patch."""
    import tensorflow as tf
    sub = tf.keras.Model(model.input, model.get_layer("front").output)
    acc = {"front": 0.0, "max": 0.0, "mean": 0.0}
    for s in range(0, len(X), 64):
        f = sub.predict(X[s:s + 64], verbose=0).astype(np.float64)
        acc["front"] += f.mean(1).sum(0)
        acc["max"] += f.max(1).sum(0)
        acc["mean"] += f.mean(1).sum(0)
    return {k: (v / len(X)).astype(np.float32) for k, v in acc.items()}


def importance(V, head, td, fd, X, stats):
    """Per front-end channel: E over patches of sum_k (d logit_k / d g_c)^2, where g_c scales
    channel c's deviation from its mean (g = 1 is the model, g = 0 drops the channel)."""
    import tensorflow as tf
    model, _ = lite.build(V, head, td=td, fd=fd, stats=stats, gate=True)
    imp = np.zeros(561)
    for s in range(0, len(X), 32):
        x = tf.constant(X[s:s + 32])
        g = tf.ones((x.shape[0], 561))
        with tf.GradientTape() as tape:
            tape.watch(g)
            z = model([x, g], training=False)[0]
            z = z - tf.reduce_mean(z, 1, keepdims=True)
        J = tape.batch_jacobian(z, g)  # [n, 10, 561]
        imp += (J.numpy() ** 2).sum((0, 1))
    return imp / len(X)


def choose_keep(imp, keep_counts):
    keep = {}
    for b, off, n in zip(BLOCKS, OFFSETS, [204, 204, 51, 51, 51]):
        k = min(n, keep_counts[b])
        keep[b] = np.sort(np.argsort(-imp[off:off + n])[:k])
    return keep


def fit(model, X, Y, HW, TP, TF_, FR, args, monitor):
    """Fine-tune the student (head frozen); TF_ = teacher [penultimate, taggram], FR = the
    teacher's front-end map on the student's channels and time grid."""
    import tensorflow as tf
    for layer in model.layers:
        if layer.name.startswith("head"):
            layer.trainable = False
    mu = TF_.mean(0)
    sd = TF_.std(0) + 1e-3
    steps = int(np.ceil(len(X) / args.batch)) * args.epochs
    sched = tf.keras.optimizers.schedules.CosineDecay(args.lr, steps, alpha=0.05)
    opt = tf.keras.optimizers.Adam(sched)
    Tt = float(args.temperature)
    mu_t, sd_t = tf.constant(mu), tf.constant(sd)
    sub = np.random.default_rng(args.seed).choice(len(FR), size=min(512, len(FR)), replace=False)
    fsd = tf.constant(FR[sub].astype(np.float32).std((0, 1)) + 1e-2)

    @tf.function
    def step(x, tlogp, y, hw, tf_, fr):
        with tf.GradientTape() as tape:
            logits, pen, tag, front = model(x, training=True)
            pt = tf.nn.softmax(tlogp / Tt)
            ls = tf.nn.log_softmax(logits / Tt)
            kd = tf.reduce_mean(tf.reduce_sum(pt * (tf.math.log(pt + 1e-12) - ls), 1)) * Tt * Tt
            feat = (tf.concat([pen, tag], 1) - mu_t) / sd_t
            mse = tf.reduce_mean(tf.square(feat - (tf_ - mu_t) / sd_t))
            ce = -tf.reduce_sum(y * tf.nn.log_softmax(logits), 1)
            hard = tf.reduce_sum(hw * ce) / tf.cast(tf.shape(x)[0], tf.float32)
            fmse = tf.reduce_mean(tf.square((front - fr) / fsd))
            loss = args.alpha * kd + args.beta * mse + args.gamma * hard + args.delta * fmse
        g = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(g, model.trainable_variables))
        return loss, kd, mse, fmse

    rng = np.random.default_rng(args.seed + 1)
    TLP = np.log(np.clip(TP, 1e-8, 1.0)).astype(np.float32)
    history = []
    if monitor is not None:
        m = monitor(model)
        log(f"  before fine-tuning | {m['name']} acc {m['accuracy']:.3f} bal "
            f"{m['balanced_accuracy']:.3f} agree {m['agree']:.3f}")
        history.append({"epoch": 0, "monitor_accuracy": m["accuracy"],
                        "monitor_balanced": m["balanced_accuracy"], "monitor_agree": m["agree"]})
    for ep in range(args.epochs):
        order = rng.permutation(len(X))
        tot, nb, t = np.zeros(4), 0, time.time()
        for s in range(0, len(X), args.batch):
            b = order[s:s + args.batch]
            out = step(tf.constant(X[b]), tf.constant(TLP[b]), tf.constant(Y[b]),
                       tf.constant(HW[b]), tf.constant(TF_[b]),
                       tf.constant(FR[b].astype(np.float32)))
            tot += [float(v) for v in out]
            nb += 1
        msg = (f"  epoch {ep + 1}/{args.epochs} loss {tot[0] / nb:.4f} kd {tot[1] / nb:.4f} "
               f"mse {tot[2] / nb:.4f} front {tot[3] / nb:.4f} ({time.time() - t:.0f} s)")
        row = {"epoch": ep + 1, "loss": tot[0] / nb, "kd": tot[1] / nb, "mse": tot[2] / nb,
               "front_mse": tot[3] / nb}
        if monitor is not None and ((ep + 1) % args.monitor_every == 0 or ep + 1 == args.epochs):
            m = monitor(model)
            msg += (f"  | {m['name']} acc {m['accuracy']:.3f} bal {m['balanced_accuracy']:.3f} "
                    f"agree {m['agree']:.3f}")
            row.update({"monitor_accuracy": m["accuracy"], "monitor_balanced": m["balanced_accuracy"],
                        "monitor_agree": m["agree"]})
        history.append(row)
        log(msg)
    return history


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    D.add_args(ap, tag="lite", aug_rounds=8, mix_p=0.5)
    ap.add_argument("--td", type=int, default=3, help="time pooling of the input (frames)")
    ap.add_argument("--fd", type=int, default=4, help="frequency pooling of the input (mel bands)")
    ap.add_argument("--keep", default="96,96,24,24,24",
                    help="front-end filters kept per block f74,f77,s1,s2,s3 (of 204,204,51,51,51)")
    ap.add_argument("--prune-patches", type=int, default=768)
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=1.0, help="weight of the KL to the teacher")
    ap.add_argument("--beta", type=float, default=1.0, help="weight of the feature MSE")
    ap.add_argument("--gamma", type=float, default=0.1, help="weight of the hard-label CE")
    ap.add_argument("--delta", type=float, default=1.0,
                    help="weight of the front-end map MSE (student vs teacher, per-channel scaled)")
    ap.add_argument("--monitor-every", type=int, default=2)
    args = ap.parse_args()

    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    sets = D.load_sets(args.features, args.sets, args.exclude, args.monitor,
                       args.extra, args.drop_labels)
    for s in sets:
        log(f"{s.name}: {len(s)} clips ({int((s.y >= 0).sum())} labelled)")
    X, Y, HW, KIND, n_orig, _ = D.build_pool(sets, rng, args.aug_rounds, args.mix_p, args.gain_db)
    log(f"pool: {len(X)} examples ({n_orig} runtime patches)")
    TP, PEN, TAG, FRONT = teacher_targets(args.teacher, X, args.td, args.threads,
                                          os.path.join(args.work, f"teacher_{args.tag}.npz"))
    TF_ = np.concatenate([PEN, TAG], 1).astype(np.float32)

    V = lite.teacher_vars()
    head = lite.head_from_onnx(args.teacher)
    # the head must be the teacher's own: its logits on the teacher's features give its probs
    z = TF_[:256]
    for W, b, act in head:
        z = z @ W + b
        z = np.maximum(z, 0) if act else z
    hd = float(np.abs(softmax(z) - TP[:256]).max())
    if hd > 1e-3:
        print(f"head read from {args.teacher} does not reproduce its probs ({hd})", file=sys.stderr)
        return 1

    monitor = None
    if args.monitor:
        mp, mo, my = D.labelled_patches(D.Set(os.path.join(args.features, args.monitor), args.monitor))
        tsess = session(args.teacher)
        tp_mon = np.concatenate([tsess.run(["probs"], {"mel": mp[s:s + 64]})[0]
                                 for s in range(0, len(mp), 64)])
        t_pred = combine(tp_mon, mo, len(my), "mean_probs").argmax(1)
        tm = metrics(my, t_pred)
        log(f"teacher on {args.monitor}: acc {tm['accuracy']:.3f} bal {tm['balanced_accuracy']:.3f}")

        def monitor(model):
            p = softmax(model.predict(mp, batch_size=128, verbose=0)[0])
            pred = combine(p, mo, len(my), "mean_probs").argmax(1)
            m = metrics(my, pred)
            m["name"] = args.monitor
            m["agree"] = float((pred == t_pred).mean())
            return m

    counts = dict(zip(BLOCKS, [int(v) for v in args.keep.split(",")]))
    sub = rng.choice(len(X), size=min(args.prune_patches, len(X)), replace=False)
    full, _ = lite.build(V, head, td=args.td, fd=args.fd)
    stats = front_stats(full, X[sub])
    keep = None
    if any(counts[b] < n for b, n in zip(BLOCKS, [204, 204, 51, 51, 51])):
        imp = importance(V, head, args.td, args.fd, X[sub], stats)
        keep = choose_keep(imp, counts)
        log("pruned front-end: " + ", ".join(f"{b} {len(keep[b])}" for b in BLOCKS))
    tf.keras.backend.clear_session()
    model, info = lite.build(V, head, td=args.td, fd=args.fd, keep=keep, stats=stats, seed=args.seed)
    log(f"student: td {args.td} fd {args.fd}, {info['macs_per_patch'] / 1e6:.1f} M MACs per patch "
        f"(teacher {1398.6:.0f} M), {model.count_params()} weights")

    t = time.time()
    history = fit(model, X, Y, HW, TP, TF_, FRONT[:, :, info["order"]], args, monitor)
    train_s = time.time() - t

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    lite.export_onnx(model, args.out, args.opset, meta={"labels": LABELS})
    sess = session(args.out)
    a = sess.run(["probs"], {"mel": X[:16]})[0]
    b = softmax(model.predict(X[:16], verbose=0)[0])
    diff = float(np.abs(a - b).max())
    log(f"exported {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB, max|onnx-keras| {diff:.2g})")
    if diff > 1e-4:
        print("ONNX export does not match Keras", file=sys.stderr)
        return 1
    summary = {
        "route": "musicnn_lite", "teacher": args.teacher, "teacher_sha256": sha256_file(args.teacher),
        "out": args.out, "sha256": sha256_file(args.out),
        "sets": {s.name: {"clips": len(s), "labelled": int((s.y >= 0).sum()),
                          "frames": int(sum(m.shape[0] for m in s.mels))} for s in sets},
        "pool": {"examples": int(len(X)), "runtime_patches": int(n_orig),
                 "augmented": int((KIND == 1).sum()), "mixed": int((KIND == 2).sum())},
        "config": {k: v for k, v in vars(args).items()
                   if k not in ("features", "teacher", "out", "work", "threads")},
        "kept": info["kept"], "macs_per_patch": info["macs_per_patch"],
        "weights": int(model.count_params()), "train_seconds": round(train_s, 1),
        "history": history, "onnx_vs_keras_max_abs_diff": diff, "params": sets[0].params,
    }
    write_summary(os.path.join(args.work, f"distill_{args.tag}.json"), summary)
    if args.card:
        write_card_beside(args.out, f"earmark-student-lite-{args.tag}", sets[0].params,
                          {"trained_on": ",".join(s.name for s in sets), "config": summary["config"]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
