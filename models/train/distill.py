"""earmark fast genre model: distil a small CNN student from the musicnn teacher.

Consumes only features written by `earmark features` (never computes features itself):

    FEATURES/<set>/{params.json,index.json,mels/*.npy}

Every set under FEATURES (or those named with --sets) is training audio, cut into an augmented
pool of patches (pool.py: labels, crops, gain, mel-bin shifts, mixes; seeded, CPU only).
Each example is labelled by the teacher ONNX (onnxruntime, per patch): its probabilities and,
where the graph has them, musicnn's 50 MSD tag outputs (`taggram`), an auxiliary target.

Loss: alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * balanced CE(hard labels)
      + aux * BCE(student tag head, teacher taggram)      (the tag head is not exported)

The student (input `mel` [batch, 187, 96], output `probs` [batch, 10]) is a 1-D CNN over time
with the 96 mel bands as channels; normalisation is folded into the graph. Usually run through
`bash models/train/distill.sh` (see models/fast/MODEL_CARD.md).
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
import onnx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from earmark_train.cache import key_of, sha256_file  # noqa: E402
from earmark_train.cards import write_card_beside  # noqa: E402
from earmark_train.data import LABELS, N_FRAMES, N_MELS, K  # noqa: E402
from earmark_train.log import log, write_summary  # noqa: E402
from earmark_train.metrics import combine, metrics  # noqa: E402
from earmark_train.onnx_utils import keras_to_onnx, session  # noqa: E402
from pool import Set, build_pool, labelled_patches, load_sets, to_lin, to_log  # noqa: E402
from pool import add_args as add_pool_args  # noqa: E402

# --------------------------------------------------------------------------- teacher

def teacher_label(teacher: str, X: np.ndarray, threads: int, cache: str):
    """Teacher probabilities (and taggram if the graph computes it) for every example."""
    key = key_of(sha256_file(teacher), X)
    if os.path.exists(cache):
        z = np.load(cache)
        if str(z["key"]) == key:
            return z["probs"], (z["taggram"] if z["taggram"].size else None)
    m = onnx.load(teacher)
    produced = {o for n in m.graph.node for o in n.output}
    extra = [n for n in ("taggram",) if n in produced]
    for n in extra:
        m.graph.output.append(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None))
    sess = session(m, threads)
    probs, tags = [], []
    t = time.time()
    for s in range(0, len(X), 32):
        out = sess.run(["probs"] + extra, {"mel": X[s:s + 32]})
        probs.append(out[0])
        if extra:
            tags.append(out[1])
        if (s // 32) % 40 == 0:
            log(f"  teacher {s + len(out[0])}/{len(X)} ({1000 * (time.time() - t) / (s + len(out[0])):.0f} ms/patch)")
    probs = np.concatenate(probs).astype(np.float32)
    tags = np.concatenate(tags).astype(np.float32) if tags else np.zeros((0,), np.float32)
    np.savez(cache, key=key, probs=probs, taggram=tags)
    return probs, (tags if tags.size else None)


# --------------------------------------------------------------------------- student

def parse_front(spec: str) -> list:
    """--front "24x12,24x36": branches of C filters K mel bins tall (one frame wide)."""
    return [tuple(int(v) for v in part.split("x")) for part in spec.split(",") if part]


def timbre_front(x, branches, stride: int):
    """musicnn's idea in small: vertical filters K mel bins tall, each one's maximum over
    frequency, so a timbre is found wherever its register lies (the 1-D student's convolutions
    see each mel band as its own channel and cannot move a pattern along frequency). The mel
    bands stay beside the new channels, so what the plain student learns is still open to it."""
    import tensorflow as tf
    L = tf.keras.layers
    grid = L.Reshape((N_FRAMES, N_MELS, 1))(x)
    outs = [x]
    for c, k in branches:
        y = L.Conv2D(c, (1, k), strides=(1, stride), use_bias=False)(grid)
        y = L.BatchNormalization()(y)
        y = L.ReLU()(y)
        outs.append(L.Lambda(lambda t: tf.reduce_max(t, axis=2))(y))  # ONNX ReduceMax
    return L.Concatenate()(outs)


def student_build(mu: np.ndarray, sd: np.ndarray, widths, dense: int, dropout: float, seed: int,
                  n_tags: int, emb_dim: int = 0, front=(), front_stride: int = 2):
    """1-D CNN over time, the 96 mel bands as channels. Returns (train model, export model).
    With emb_dim, a linear `embedding` head on the last hidden layer is trained to reproduce the
    teacher's (standardised) embedding and exported as the second output, so `learn` and
    `similar` see the teacher's embedding space with the student too. With front, a timbre
    front-end (timbre_front) adds frequency-invariant channels before the first convolution."""
    import tensorflow as tf
    tf.keras.utils.set_random_seed(seed)
    L = tf.keras.layers
    inp = L.Input((N_FRAMES, N_MELS), name="mel")
    x = L.Normalization(axis=-1, mean=mu, variance=sd ** 2)(inp)
    if front:
        x = timbre_front(x, front, front_stride)
    for j, ch in enumerate(widths):
        x = L.Conv1D(ch, 3, padding="same", use_bias=False)(x)
        x = L.BatchNormalization()(x)
        x = L.ReLU()(x)
        if j < len(widths) - 1:
            x = L.MaxPooling1D(2)(x)
    x = L.Concatenate()([L.GlobalAveragePooling1D()(x), L.GlobalMaxPooling1D()(x)])
    x = L.Dropout(dropout)(x)
    h = L.Dense(dense, activation="relu")(x)
    h = L.Dropout(dropout)(h)
    logits = L.Dense(K, name="logits")(h)
    probs = L.Softmax(name="probs")(logits)
    outs = [logits]
    if n_tags:
        outs.append(L.Dense(n_tags, name="tags")(h))
    if emb_dim:
        emb = L.Dense(emb_dim, name="embedding")(h)
        outs.append(emb)
    train_model = tf.keras.Model(inp, outs)
    export_model = tf.keras.Model(inp, [probs, emb] if emb_dim else probs)
    return train_model, export_model


def macs_per_patch(widths, front=(), front_stride: int = 2) -> int:
    n, c, t = 0, N_MELS, N_FRAMES
    for ch, k in front:
        n += t * ((N_MELS - k) // front_stride + 1) * k * ch
        c += ch
    for j, ch in enumerate(widths):
        n += t * c * ch * 3
        c = ch
        if j < len(widths) - 1:
            t //= 2
    return n


def student_fit(X, Y, HW, TP, TG, args, monitor=None, TE=None, emb_weight=0.0):
    """TE: the teacher's embedding per example, standardised (the `embedding` head's target,
    weighted emb_weight; the exported head is rescaled back to the teacher's units)."""
    import tensorflow as tf
    widths = [int(w) for w in args.widths.split(",")]
    mu = X.mean(axis=(0, 1))
    sd = X.std(axis=(0, 1)) + 1e-3
    n_tags = TG.shape[1] if (TG is not None and args.aux > 0) else 0
    emb_dim = TE.shape[1] if (TE is not None and emb_weight > 0) else 0
    model, export = student_build(mu, sd, widths, args.dense, args.dropout, args.seed, n_tags, emb_dim,
                                  parse_front(getattr(args, "front", "")))
    steps = int(np.ceil(len(X) / args.batch)) * args.epochs
    sched = tf.keras.optimizers.schedules.CosineDecay(args.lr, steps, alpha=0.02)
    opt = (tf.keras.optimizers.AdamW(sched, weight_decay=args.weight_decay) if args.weight_decay > 0
           else tf.keras.optimizers.Adam(sched))
    Tt = float(args.temperature)

    @tf.function
    def step(x, t_logp, y, hw, tg, te):
        with tf.GradientTape() as tape:
            outs = model(x, training=True)
            logits = outs[0] if (n_tags or emb_dim) else outs
            pt = tf.nn.softmax(t_logp / Tt)
            ls = tf.nn.log_softmax(logits / Tt)
            kd = tf.reduce_mean(tf.reduce_sum(pt * (tf.math.log(pt + 1e-12) - ls), 1)) * Tt * Tt
            ce = -tf.reduce_sum(y * tf.nn.log_softmax(logits), 1)
            hard = tf.reduce_sum(hw * ce) / tf.cast(tf.shape(x)[0], tf.float32)
            loss = args.alpha * kd + (1 - args.alpha) * hard
            if n_tags:
                aux = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tg, outs[1]))
                loss += args.aux * aux
            if emb_dim:
                loss += emb_weight * tf.reduce_mean(tf.square(outs[-1] - te))
            loss += tf.add_n(model.losses) if model.losses else 0.0
        g = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(g, model.trainable_variables))
        return loss, kd, hard

    rng = np.random.default_rng(args.seed + 1)
    TGa = TG if n_tags else np.zeros((len(X), 1), np.float32)
    TEa = TE.astype(np.float32) if emb_dim else np.zeros((len(X), 1), np.float32)
    TPa = TP.astype(np.float32)

    def noisy(x):
        """Noisy student: the input is perturbed on the fly, the target stays the teacher's
        answer for the clean example (gain, one time mask and one mel-band mask)."""
        if args.otf_gain_db <= 0 and args.specaug <= 0:
            return x
        x = x.copy()
        n = len(x)
        if args.otf_gain_db > 0:
            g = 10.0 ** (rng.uniform(-args.otf_gain_db, args.otf_gain_db, size=(n, 1, 1)) / 10.0)
            x = to_log(g * to_lin(x))
        if args.specaug > 0:
            for i in np.where(rng.random(n) < args.specaug)[0]:
                t0, tw = rng.integers(0, N_FRAMES), rng.integers(1, 25)
                f0, fw = rng.integers(0, N_MELS), rng.integers(1, 10)
                x[i, t0:t0 + tw, :] = 0.0
                x[i, :, f0:f0 + fw] = 0.0
        return x.astype(np.float32)

    def otf_mix(b):
        """Mix each example with a random other one (linear-mel domain) with probability
        --otf-mix; targets mix linearly (teacher probs, hard labels, tags)."""
        x, tp, y, hw, tg, te = X[b], TPa[b], Y[b], HW[b], TGa[b], TEa[b]
        x = noisy(x)
        if args.otf_mix <= 0:
            return x, np.log(np.clip(tp, 1e-8, 1.0)), y, hw, tg, te
        o = rng.permutation(len(b))
        lam = rng.uniform(0.3, 0.7, size=len(b)).astype(np.float32)
        lam[rng.random(len(b)) >= args.otf_mix] = 1.0
        l3 = lam[:, None, None]
        x = to_log(l3 * to_lin(x) + (1 - l3) * to_lin(x[o]))
        l2 = lam[:, None]
        both = (hw > 0) & (hw[o] > 0)
        y = np.where((both | (lam == 1.0))[:, None], l2 * y + (1 - l2) * y[o], 0).astype(np.float32)
        hw = np.where(both | (lam == 1.0), lam * hw + (1 - lam) * hw[o], 0).astype(np.float32)
        tp = l2 * tp + (1 - l2) * tp[o]
        tg = (l2 * tg + (1 - l2) * tg[o]).astype(np.float32)
        te = (l2 * te + (1 - l2) * te[o]).astype(np.float32)
        return x, np.log(np.clip(tp, 1e-8, 1.0)).astype(np.float32), y, hw, tg, te
    history = []
    for ep in range(args.epochs):
        order = rng.permutation(len(X))
        tot = np.zeros(3)
        nb = 0
        t = time.time()
        for s in range(0, len(X), args.batch):
            b = order[s:s + args.batch]
            out = step(*[tf.constant(a) for a in otf_mix(b)])
            tot += [float(v) for v in out]
            nb += 1
        msg = (f"  epoch {ep + 1}/{args.epochs} loss {tot[0] / nb:.3f} kd {tot[1] / nb:.3f} "
               f"hard {tot[2] / nb:.3f} ({time.time() - t:.0f} s)")
        row = {"epoch": ep + 1, "loss": tot[0] / nb}
        if monitor is not None and ((ep + 1) % 5 == 0 or ep + 1 == args.epochs):
            m = monitor(export)
            msg += f"  | {m['name']} acc {m['accuracy']:.3f} bal {m['balanced_accuracy']:.3f}"
            row.update({"monitor_accuracy": m["accuracy"], "monitor_balanced": m["balanced_accuracy"]})
        history.append(row)
        log(msg)
    return export, history, widths


def embedding_r2(export, X: np.ndarray, TE: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> float:
    """How much of the teacher's (standardised) embedding the student reproduces on a sample of
    its training examples: 1 - residual / total variance."""
    i = np.random.default_rng(0).choice(len(X), size=min(len(X), 4096), replace=False)
    e = export.predict(X[i], batch_size=256, verbose=0)[1]
    z = (e - mu) / sd
    return float(1.0 - ((z - TE[i]) ** 2).sum() / ((TE[i] - TE[i].mean(0)) ** 2).sum())


def check_onnx(path: str, export, X: np.ndarray) -> float:
    sess = session(path)
    x = X[:16]
    a = sess.run([o.name for o in sess.get_outputs()], {"mel": x})  # probs (and embedding)
    b = export.predict(x, verbose=0)
    b = b if isinstance(b, list) else [b]
    return max(float(np.abs(u - v).max()) for u, v in zip(a, b))


# --------------------------------------------------------------------------- main

def add_student_args(ap) -> None:
    """The student's architecture, loss and optimiser (the shipped defaults); cv_student.py
    distils its per-fold students with the same arguments."""
    ap.add_argument("--specaug", type=float, default=0.0,
                    help="probability of one time mask (<25 frames) + one band mask (<10 bins), on the fly")
    ap.add_argument("--otf-gain-db", type=float, default=0.0,
                    help="random gain on the fly (teacher target of the clean example kept)")
    ap.add_argument("--weight-decay", type=float, default=0.0, help="AdamW decoupled weight decay")
    ap.add_argument("--otf-mix", type=float, default=0.0,
                    help="probability of mixing a training example with another on the fly "
                         "(teacher targets mixed linearly, no new teacher run)")
    ap.add_argument("--widths", default="96,128,128,192")
    ap.add_argument("--front", default="", metavar="CxK,...",
                    help="a timbre front-end before the convolutions: per branch C filters K mel bins "
                         "tall, each one's maximum over frequency (stride 2) beside the mel bands "
                         "(e.g. 24x12,24x36); empty: none (the recipe)")
    ap.add_argument("--dense", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=0.7, help="weight of the distillation loss")
    ap.add_argument("--aux", type=float, default=0.3, help="weight of the taggram auxiliary loss")
    ap.add_argument("--emb-weight", type=float, default=0.0, metavar="W",
                    help="also regress the teacher's embedding (MSD_musicnn's penultimate, the accurate "
                         "model's `embedding` output; standardised) through a linear head on the student's "
                         "last hidden layer, MSE weighted W; 0: off (the recipe)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_pool_args(ap, tag="student", aug_rounds=2, mix_p=0.3)
    add_student_args(ap)
    ap.add_argument("--tags-from", default="", metavar="BACKBONE_ONNX",
                    help="when the teacher's graph has no taggram (the fine-tuned network), the auxiliary "
                         "tag targets from this backbone (musicnn_msd.onnx), as cv_student.py's fold students get them")
    args = ap.parse_args()

    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    sets = load_sets(args.features, args.sets, args.exclude, args.monitor,
                       args.extra, args.drop_labels)
    params = sets[0].params
    for s in sets:
        log(f"{s.name}: {len(s)} clips ({int((s.y >= 0).sum())} labelled), "
            f"{sum(m.shape[0] for m in s.mels)} frames")

    X, Y, HW, KIND, n_orig, clips = build_pool(sets, rng, args.aug_rounds, args.mix_p, args.gain_db)
    log(f"pool: {len(X)} examples ({n_orig} runtime patches, {int((KIND == 1).sum())} augmented, "
        f"{int((KIND == 2).sum())} mixed); {int((HW > 0).sum())} with hard labels")
    TP, TG = teacher_label(args.teacher, X, args.threads, os.path.join(args.work, f"teacher_{args.tag}.npz"))
    tags_from = None
    want_tags = TG is None and args.tags_from and args.aux > 0
    if args.emb_weight > 0 and not args.tags_from:
        raise SystemExit("--emb-weight needs --tags-from BACKBONE_ONNX (the teacher's embedding is its penultimate)")
    TE, emb_mu, emb_sd = None, None, None
    if want_tags or args.emb_weight > 0:
        # MSD_musicnn's 50 tags and penultimate of every example (cached per chunk by content
        # hash): the fine-tuned teacher keeps the backbone's front- and mid-end but exports no
        # taggram; its `embedding` output is that penultimate
        from earmark_train.embed import embed_chunked
        bb = embed_chunked(args.tags_from, X, np.arange(len(X)), args.threads,
                           os.path.join(args.work, "emb_msd_distill"), progress=log)
        tags_from = os.path.basename(args.tags_from)
        if want_tags:
            TG = bb["taggram"]
            log(f"tag targets from {tags_from}: {TG.shape}")
        if args.emb_weight > 0:  # standardised as cv_student.py's folds learn it
            e = bb["penultimate"].astype(np.float64)
            emb_mu, emb_sd = e.mean(0), e.std(0) + 1e-6
            TE = ((e - emb_mu) / emb_sd).astype(np.float32)
            log(f"embedding targets from {tags_from}: {TE.shape}, weight {args.emb_weight}")
    ent = float(-(TP * np.log(np.clip(TP, 1e-12, 1))).sum(1).mean())
    agree = Y.sum(1) > 0.99
    t_acc = float((TP[agree].argmax(1) == Y[agree].argmax(1)).mean()) if agree.any() else None
    log(f"teacher: mean max prob {TP.max(1).mean():.3f}, entropy {ent:.3f} nats, "
        f"agrees with the hard label on {t_acc if t_acc is None else round(t_acc, 3)} of labelled examples")

    monitor = None
    if args.monitor:
        mp, mo, my = labelled_patches(Set(os.path.join(args.features, args.monitor), args.monitor))

        def monitor(model):
            p = model.predict(mp, batch_size=128, verbose=0)
            p = p[0] if isinstance(p, list) else p  # with the embedding head: (probs, embedding)
            m = metrics(my, combine(p, mo, len(my), "mean_probs").argmax(1))
            m["name"] = args.monitor
            return m

    t = time.time()
    export, history, widths = student_fit(X, Y, HW, TP, TG, args, monitor, TE, args.emb_weight)
    train_s = time.time() - t
    if TE is not None:
        # back to the teacher's units, so that the student's `embedding` lies in the same space
        # as the accurate model's (a learned head or a similarity works across the two)
        layer = export.get_layer("embedding")
        w, b = layer.get_weights()
        layer.set_weights([(w * emb_sd[None, :]).astype(np.float32), (b * emb_sd + emb_mu).astype(np.float32)])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    keras_to_onnx(export, args.out, args.opset, names=("probs", "embedding") if TE is not None else ("probs",))
    m = onnx.load(args.out)
    m.producer_name = "earmark/models/train/distill.py"
    del m.metadata_props[:]
    m.metadata_props.extend([onnx.StringStringEntryProto(key="labels", value=json.dumps(LABELS))])
    onnx.save_model(m, args.out, save_as_external_data=False)
    diff = check_onnx(args.out, export, X)
    log(f"exported {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB, max|onnx-keras| {diff:.2g}, "
        f"{export.count_params()} weights, {macs_per_patch(widths, parse_front(args.front)) / 1e6:.1f} M conv MACs per patch)")
    if diff > 1e-4:
        print("ONNX export does not match Keras", file=sys.stderr)
        return 1

    summary = {
        "teacher": args.teacher, "teacher_sha256": sha256_file(args.teacher),
        "out": args.out, "sha256": sha256_file(args.out),
        "sets": {s.name: {"clips": len(s), "labelled": int((s.y >= 0).sum()),
                          "frames": int(sum(m.shape[0] for m in s.mels))} for s in sets},
        "pool": {"examples": int(len(X)), "runtime_patches": int(n_orig),
                 "augmented": int((KIND == 1).sum()), "mixed": int((KIND == 2).sum()),
                 "with_hard_label": int((HW > 0).sum())},
        "teacher_mean_max_prob": float(TP.max(1).mean()), "teacher_entropy": ent,
        "teacher_tags": TG is not None, "tags_from": tags_from,
        "embedding_target": None if TE is None else {
            "tensor": "penultimate", "from": tags_from, "dim": int(TE.shape[1]), "weight": args.emb_weight,
            "fit_r2": embedding_r2(export, X, TE, emb_mu, emb_sd)},
        "teacher_agrees_with_labels": t_acc,
        "config": {k: v for k, v in vars(args).items()
                   if k not in ("features", "teacher", "out", "work", "threads", "tags_from")},
        "weights": int(export.count_params()), "conv_macs_per_patch": macs_per_patch(widths, parse_front(args.front)),
        "train_seconds": round(train_s, 1), "history": history,
        "onnx_vs_keras_max_abs_diff": diff, "params": params,
    }
    write_summary(os.path.join(args.work, f"distill_{args.tag}.json"), summary)
    if args.card:
        write_card_beside(args.out, f"earmark-student-{args.tag}", params,
                          {"trained_on": ",".join(s.name for s in sets), "config": summary["config"]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
