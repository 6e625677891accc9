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
- `midend`: + the mid-end (three 1-D convolutions of 64 filters with residuals);
- `backend5`: five `backend` networks from different seeds, their probabilities averaged (a
  seed ensemble; opt-in: it costs five back-ends, and on the CV it added 0.1 point).

The front-end (the wide timbral and temporal convolutions, most of the cost) stays frozen, so its
output is computed once per example and cached by content hash (WORK/ft_inputs_*.npy); a route
is fed at its first trained layer (TensorFlow 1 graphs accept any tensor in the feed).

Training audio per fold: the CV pool's runtime patches of the fold's training items plus the
augmented copies pool.py cuts for the students (random crops = time shift, gain ±12 dB, mel-bin
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
--folds splits the work between processes as in cv_student.py; the mid-end route's folds are also
kept in the repo, models/accurate/cv/folds/, so its CV resumes on a new machine). Seeded, CPU only.
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
from cv_student import SHIPPED_HEAD, ft_teacher_path, in_folds, mean_sd, scores, student_sets  # noqa: E402
from earmark_train.cache import cached_arrays, kept_cached, key_of, load_cached, save  # noqa: E402
from earmark_train.cards import runtime_card, write_json  # noqa: E402
from earmark_train.cv import FOLDS, Pool, fit, predict  # noqa: E402
from earmark_train.data import LABELS, N_FRAMES, N_MELS, K, load_sets  # noqa: E402
from earmark_train.embed import embed, embed_sets  # noqa: E402
from earmark_train.log import log  # noqa: E402
from earmark_train.metrics import combine, eval_report, metrics  # noqa: E402

# route -> (the tensor it is fed at, the parts of the network it trains besides the genre layer)
ROUTES = {"head": ("pooled", []), "backend": ("pooled", ["backend"]),
          "midend": ("frontend", ["midend", "backend"]), "backend5": ("pooled", ["backend"])}
# a route trained as several networks from different seeds whose probabilities are averaged (a
# seed ensemble): route -> (the route each member is trained as, members). Member 0 is that
# route's own network (same seed, same cache file), so the ensemble costs the extra members only.
ENSEMBLES = {"backend5": ("backend", 5)}
MEMBER_SEED_STEP = 7919  # member m trains with the fold's seed + m * this
# the augmented copies' gain range and the head's gained copies (dB): GTZAN's clips vary less in
# level than libraries do, and ±6 dB left a clip 12 dB quieter changing genre on 12 % of valid
GAIN_DB = 12.0
# part of every fold's cache key: bump it when the training code changes what a fold computes
CODE_VERSION = "2"
# The mid-end route trains 15-20 min a fold on two cores (the others, seconds): its folds are also
# kept in the repo (models/accurate/cv/folds/), keyed by the fold's key and the examples' content
# (nothing machine-bound), so its CV can finish over several sessions on new machines.
KEPT_FOLDS = os.path.join(HERE, "..", "accurate", "cv", "folds")
KEPT_ROUTES = {"midend"}
DEFAULTS = {"epochs": 30, "batch": 64, "lr_head": 1e-3, "lr_pretrained": 1e-4, "l2sp": 1e-3,
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


def gained_copies(X: np.ndarray, gain_db: float, seed: int) -> np.ndarray:
    """One copy of every patch of X at a random gain within +-gain_db (exact through the log-mel)."""
    g = 10.0 ** (np.random.default_rng(seed).uniform(-gain_db, gain_db, len(X)) / 10.0)
    return np.stack([student_pool.to_log(gi * student_pool.to_lin(x)) for gi, x in zip(g, X)])


def fit_head(pool, cfg: dict, items, seed: int, gained=None):
    """The averaged head (cv.fit); with `gained` (its features of every runtime patch at a random
    gain, --head-gain-db), each training item's patches join a second time at their gains,
    weighing as the item does: the head learns that a level is not a genre."""
    if gained is None:
        return fit(pool, cfg, items, seed)
    items = np.asarray(items)
    items = items if cfg["excerpt_weight"] > 0 else items[~pool.is_ex[items]]
    local = np.full(pool.n, -1)
    local[items] = np.arange(len(items))
    mask = local[pool.owner] >= 0
    return fit(pool, cfg, items, seed,
               extra=(gained[mask], local[pool.owner[mask]], pool.y[items], pool.is_ex[items]))


class Net:
    """MSD_musicnn rebuilt from musicnn.models in its own layer order (so the checkpoint's
    variable names match), with handles on the tensors a route is fed at and a genre layer."""

    def __init__(self, tf, seed: int, inference: bool = False):
        """inference: is_training is a plain False (no If/Switch ops reach an export); the graph
        is then built in the caller's default graph, which is otherwise reset."""
        from musicnn import models as mm

        self.tf = tf
        v1, layers = tf.compat.v1, tf.compat.v1.layers
        if not inference:
            v1.reset_default_graph()
        v1.set_random_seed(seed)
        tf.keras.utils.set_random_seed(seed)  # the v1 layers' initialisers draw from Keras's seed
        self.mel = v1.placeholder(tf.float32, [None, N_FRAMES, N_MELS], name="mel")
        self.training = False if inference else v1.placeholder_with_default(False, [], name="is_training")
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


def frozen_cached(tf, X: np.ndarray, where: str, key: str, path: str, args) -> np.ndarray:
    """frozen_inputs(X, where), saved at `path` (memory-mapped) and reused while `key` holds."""
    if not (os.path.exists(path + ".key") and open(path + ".key").read() == key):
        log(f"computing the frozen network's {where} tensor for {len(X)} patches")
        np.save(path, frozen_inputs(tf, X, where, args.threads, args.backbone))
        with open(path + ".key", "w") as f:
            f.write(key)
    return np.load(path, mmap_mode="r")


def fit_net(tf, route: str, hp: dict, inputs, Y, w, train_idx, seed: int, threads: int, then):
    """Fine-tune on inputs[train_idx] (soft targets Y, weights w), then `then(sess, net, feed_at)`
    before the session closes; returns (its result, train seconds, loss per epoch)."""
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
    # one gradient pass, then both updates: two minimize() calls would race (one optimiser could
    # read variables the other has just moved), and the run would not be reproducible
    grads = tf.gradients(total, net.head + ft)
    with tf.control_dependencies(grads + [loss]):
        ops = [v1.train.AdamOptimizer(hp["lr_head"]).apply_gradients(zip(grads[:len(net.head)], net.head))]
        if ft:
            ops.append(v1.train.AdamOptimizer(hp["lr_pretrained"]).apply_gradients(
                zip(grads[len(net.head):], ft)))
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
            if (ep + 1) % 5 == 0 or ep + 1 == hp["epochs"]:
                log(f"    epoch {ep + 1}/{hp['epochs']} loss {hist[-1]:.3f} ({time.time() - t0:.0f} s)")
        train_s = time.time() - t0
        return then(sess, net, feed_at), train_s, np.array(hist)


def predict_inputs(sess, net, feed_at, inputs, idx) -> np.ndarray:
    return np.concatenate([sess.run(net.probs, {feed_at: inputs[idx[a:a + 256]].astype(np.float32)})
                           for a in range(0, len(idx), 256)]).astype(np.float32)


def train_fold(tf, route: str, hp: dict, inputs, Y, w, train_idx, test_idx, seed: int, threads: int):
    """Fine-tune on inputs[train_idx]; probabilities of inputs[test_idx]."""
    probs, train_s, hist = fit_net(tf, route, hp, inputs, Y, w, train_idx, seed, threads,
                                   lambda sess, net, at: predict_inputs(sess, net, at, inputs, test_idx))
    return {"patch_probs": probs, "train_s": np.array(train_s), "loss": hist}


def member_values(sess, net) -> dict:
    """A trained network's variables by name, and the names of its back-end and genre layer in
    the order they were created (what an ensemble's extra back-ends are loaded from)."""
    return {"values": {v.name: sess.run(v) for v in net.pretrained + net.head},
            "backend": [v.name for v in net.parts["backend"]], "head": [v.name for v in net.head]}


def backend_tail(tf, pooled, genre: bool = True):
    """musicnn's back-end in inference mode on the pooled maps (as Net builds it, without the tag
    layer): the penultimate, or the genre layer's logits on it."""
    v1, layers = tf.compat.v1, tf.compat.v1.layers
    flat = layers.batch_normalization(layers.flatten(pooled), training=False)
    dense = layers.dense(flat, units=200, activation=tf.nn.relu)
    pen = layers.batch_normalization(dense, training=False)
    if not genre:
        return pen
    with v1.variable_scope("genre"):
        return layers.dense(pen, units=K)


def load_in_order(tf, sess, variables, names, values, what: str) -> None:
    """Load `values[name]` into each of `variables`, which were created in the order of `names`."""
    if [c.name.split("/")[-1] for c in variables] != [n.split("/")[-1] for n in names]:
        raise SystemExit(f"{what}: the variables do not line up with MSD_musicnn's")
    for c, n in zip(variables, names):
        c.load(values(n), sess)


def to_onnx(tf, members: list, path: str, head=None, opset: int = 13) -> None:
    """The fine-tuned network (`members`: member_values of each; several average their
    probabilities over one shared frozen front- and mid-end), mel -> probs, as ONNX (as
    export_musicnn.py converts the backbone). The penultimate stays in the graph under its name
    (not an output): add_embedding_output.py exposes it as `embedding`, as for the shipped head."""
    import onnx
    import tf2onnx
    from musicnn import models as mm

    from earmark_train.onnx_utils import keep_used_opsets, symbolic_batch

    v1 = tf.compat.v1
    ckpt = v1.train.NewCheckpointReader(os.path.join(os.path.dirname(mm.__file__), "MSD_musicnn") + "/")
    with tf.Graph().as_default() as g, session(tf, 1) as s2:
        inf = Net(tf, 0, inference=True)
        for v in v1.global_variables():
            v.load(members[0]["values"][v.name], s2)
        probs = [inf.probs]
        for m, mem in enumerate(members[1:], 1):
            start = len(v1.global_variables())
            with v1.variable_scope(f"member{m}"):
                probs.append(tf.nn.softmax(backend_tail(tf, inf.pooled)))
            load_in_order(tf, s2, v1.global_variables()[start:], mem["backend"] + mem["head"],
                          mem["values"].get, f"member {m}")
        probs = tf.add_n(probs) / len(probs) if len(probs) > 1 else probs[0]
        # the embedding stays MSD_musicnn's own penultimate (the pretrained back-end beside the
        # tuned one, 0.3 M multiply-adds): learn and similar keep a general-purpose embedding
        start = len(v1.global_variables())
        with v1.variable_scope("msd_embedding"):
            emb = backend_tail(tf, inf.pooled, genre=False)
        load_in_order(tf, s2, v1.global_variables()[start:], members[0]["backend"],
                      lambda n: ckpt.get_tensor(n.split(":")[0]), "the embedding back-end")
        if head is not None:  # `+head` routes: the mean with the head on the MSD penultimate
            (W, b, _), = head.layers()
            probs = (probs + tf.nn.softmax(tf.matmul(emb, tf.constant(W)) + tf.constant(b))) / 2
        tf.identity(probs, name="probs")
        tf.identity(emb, name="penultimate")
        frozen = v1.graph_util.convert_variables_to_constants(s2, g.as_graph_def(), ["probs", "penultimate"])
    proto, _ = tf2onnx.convert.from_graph_def(frozen, input_names=["mel:0"],
                                              output_names=["probs:0", "penultimate:0"], opset=opset)
    rename = {"mel:0": "mel", "probs:0": "probs", "penultimate:0": "penultimate"}
    for node in proto.graph.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
        node.output[:] = [rename.get(o, o) for o in node.output]
    for vi in list(proto.graph.input) + list(proto.graph.output):
        vi.name = rename.get(vi.name, vi.name)
    keep = [o for o in proto.graph.output if o.name == "probs"]
    del proto.graph.output[:]
    proto.graph.output.extend(keep)
    symbolic_batch(proto)
    keep_used_opsets(proto)
    proto.producer_name = "earmark/models/train/finetune_cv.py"
    proto.metadata_props.extend([onnx.StringStringEntryProto(key="labels", value=json.dumps(LABELS))])
    onnx.checker.check_model(proto, full_check=True)
    onnx.save_model(proto, path, save_as_external_data=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True)
    ap.add_argument("--backbone", required=True, help="the exported MSD_musicnn ONNX (cv.py's features; a parity check)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--splits", required=True, help="GTZAN splits/ folder (artist-conscious lists)")
    # midend is opt-in: ~15-20 min per fold here, and on the two folds measured it trailed the head
    ap.add_argument("--routes", default="head,backend",
                    help=f"comma list of {list(ROUTES)} (the opt-in ones: --routes head,backend,midend,backend5)")
    ap.add_argument("--repeats", type=int, default=3, help="as cv.py: seeds SEED, SEED+1, ...")
    ap.add_argument("--max-block", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--folds", default="", help="as cv_student.py: folds (0-4 or SEED:FOLD) this process trains")
    student_pool.add_augment_args(ap, aug_rounds=2, mix_p=0.3)
    # ±12 dB, not the students' ±6 (next_steps item 7, test (b), kept 2026-12-07): a level is not a genre
    ap.set_defaults(gain_db=GAIN_DB)
    ap.add_argument("--head-gain-db", type=float, default=GAIN_DB,
                    help="the averaged head also learns every training patch once more at a random gain "
                         "within this range (dB; 0: not)")
    ap.add_argument("--tilt-db", type=float, default=6.0)
    ap.add_argument("--stretch", type=float, default=0.1)
    ap.add_argument("--midend-epochs", type=int, default=6,
                    help="epochs of the mid-end route (~100 s each on 2 cores against 0.6 s for the back-end)")
    ap.add_argument("--midend-repeats", type=int, default=1, help="repeats (seeds) of the mid-end route")
    ap.add_argument("--head-backbones", default="",
                    help="name=path,...: other backbones (export_musicnn.py, e.g. vgg=WORK/musicnn_vgg.onnx) whose "
                         "embeddings join MSD_musicnn's in the averaged head (the `+head` routes), scored in their "
                         "own report (--tag)")
    ap.add_argument("--tag", default="", help="suffix of this run's reports (cv_finetune_TAG.json, ft_oof_*_TAG)")
    ap.add_argument("--export", action="store_true",
                    help="after the report, ship the selected route: --out and WORK/genre-trainonly.onnx")
    ap.add_argument("--out", default="models/accurate/genre.onnx")
    ap.add_argument("--student-teachers", metavar="UNLABELLED",
                    help="instead of scoring routes: for cv_student.py --teacher finetuned, each fold's "
                         "`backend` network's probabilities on every example cv_student.py builds with "
                         "these unlabelled sets (its --unlabelled; its default augmentation) -> "
                         "WORK/cv_student_ftteacher/")
    for k, v in DEFAULTS.items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    args = ap.parse_args()
    t0 = time.time()
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    tf.config.experimental.enable_op_determinism()  # same seed, same weights (a rerun reproduces the card)
    hp = {k: getattr(args, k) for k in DEFAULTS}
    clips = load_sets(args.features)
    others = dict(kv.split("=", 1) for kv in args.head_backbones.split(",") if kv)
    if others and not args.tag:
        raise SystemExit("--head-backbones needs --tag: its `+head` routes are not the shipped head's")
    if others and args.export:
        raise SystemExit("--head-backbones: the export carries MSD_musicnn only")
    feats = embed_sets(clips, {"msd": args.backbone, **others}, args.threads, args.work)
    # the averaged head: the shipped one, on MSD's embedding joined by the other backbones'
    head_cfg = {**SHIPPED_HEAD, "feats": "+".join(["msd_pen"] + [f"{b}_pen" for b in others])}
    suffix = f"_{args.tag}" if args.tag else ""
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
    gained = None
    if args.head_gain_db and head_cfg["feats"] != "msd_pen":
        log("--head-gain-db: the head's gained copies are made of MSD_musicnn's features alone: none")
    elif args.head_gain_db:
        Xg = gained_copies(ex.X[:n_lab], args.head_gain_db, args.seed + 2000)
        gained = embed(args.backbone, Xg, args.threads,
                       os.path.join(args.work, f"emb_msd_gained{args.head_gain_db:g}.npz"))["penultimate"]
        log(f"the head's gained copies: {len(Xg)} patches within +-{args.head_gain_db:g} dB")
        del Xg

    routes = [r for r in args.routes.split(",") if r]
    inputs = {}
    x_key = key_of(ex.X)
    for where in sorted({ROUTES[r][0] for r in routes}):
        inputs[where] = frozen_cached(tf, ex.X, where, key_of(where, json.dumps(aug, sort_keys=True), x_key),
                                      os.path.join(args.work, f"ft_inputs_{where}.npy"), args)

    seeds = [args.seed + r for r in range(args.repeats)]
    mine = [f for f in args.folds.split(",") if f]
    if args.student_teachers is not None:
        return student_teachers(tf, args, pool, ex, inputs["pooled"], hp, aug, seeds, mine)
    out_dir = os.path.join(args.work, "cv_finetune")
    results, missing, oof0 = {}, [], {}
    base_rows = {}
    for route in routes:
        fold_rows, rep_rows = [], []
        # the mid-end costs ~150x the back-end per epoch: fewer epochs and repeats (see --help)
        rhp = {**hp, "epochs": args.midend_epochs} if route == "midend" else hp
        rseeds = seeds[:args.midend_repeats] if route == "midend" else seeds
        for seed in rseeds:
            pr = np.zeros((pool.n, K))
            for k, te in enumerate(pool.folds(seed)):
                tr = np.setdiff1d(np.arange(pool.n), te)
                if (seed, k) not in base_rows:
                    base_rows[(seed, k)] = predict(pool, head_cfg, fit_head(pool, head_cfg, tr, seed, gained), te)
                keep = np.ones(len(ex.clips), bool)
                keep[te] = False
                hw = ex.hard_weights(keep)
                train_idx = np.where(ex.uses(keep) & (hw > 0))[0]
                test_idx = np.where(np.isin(pool.owner, te))[0]
                member_of, n_members = ENSEMBLES.get(route, (route, 1))
                members = []
                for m in range(n_members):
                    key = key_of(CODE_VERSION, member_of, json.dumps(rhp, sort_keys=True),
                                 json.dumps(aug, sort_keys=True), seed, te, train_idx, hw[train_idx],
                                 ex.Y[train_idx], *([m] if m else []))
                    path = os.path.join(out_dir, f"{member_of}{f'_m{m}' if m else ''}_s{seed}_f{k}.npz")
                    kept = os.path.join(KEPT_FOLDS, os.path.basename(path)) if member_of in KEPT_ROUTES else None
                    kept_key = key_of(key, x_key) if kept else None
                    if in_folds(mine, seed, k):
                        log(f"{route} seed {seed} fold {k + 1}/{FOLDS}"
                            f"{f' member {m + 1}/{n_members}' if n_members > 1 else ''}: {len(train_idx)} examples")

                        def train(m=m):
                            return train_fold(tf, member_of, rhp, inputs[ROUTES[route][0]], ex.Y, hw, train_idx,
                                              test_idx, seed * 100 + k + m * MEMBER_SEED_STEP, args.threads)
                        members.append(kept_cached(path, key, kept, kept_key, train) if kept
                                       else cached_arrays(path, key, train))
                    else:
                        members.append(load_cached(path, key) or (load_cached(kept, kept_key) if kept else None))
                if any(g is None for g in members):
                    missing.append(f"{route} {seed}:{k}")
                    continue
                got = {"patch_probs": np.mean([g["patch_probs"] for g in members], axis=0),
                       "train_s": sum(float(g["train_s"]) for g in members)}
                local = np.full(pool.n, -1)
                local[te] = np.arange(len(te))
                pr[te] = combine(got["patch_probs"], local[pool.owner[test_idx]], len(te), "mean_probs")
                row = {"seed": seed, "fold": k, "examples": int(len(train_idx)),
                       "train_s": round(float(got["train_s"]), 1),
                       "finetuned": scores(pool.y[te], pr[te], pool.is_ex[te]),
                       "shipped_head": scores(pool.y[te], base_rows[(seed, k)], pool.is_ex[te]),
                       "with_head": scores(pool.y[te], (pr[te] + base_rows[(seed, k)]) / 2, pool.is_ex[te])}
                fold_rows.append(row)
                log(f"{route} seed {seed} fold {k + 1}: acc {row['finetuned']['accuracy']:.3f} "
                    f"(shipped head {row['shipped_head']['accuracy']:.3f}) ({row['train_s']:.0f} s)")
            if not any(m.startswith(route) for m in missing):
                full = np.concatenate([base_rows[(seed, k)] for k in range(FOLDS)])
                order = np.concatenate(pool.folds(seed))
                base = np.zeros_like(pr)
                base[order] = full
                if seed == rseeds[0]:
                    oof0[route], oof0[route + "+head"] = pr.copy(), (pr + base) / 2
                rep_rows.append({"seed": seed, "finetuned": scores(pool.y, pr, pool.is_ex),
                                 "shipped_head": scores(pool.y, base, pool.is_ex),
                                 # both heads on one forward pass: the network's and the head's mean
                                 "with_head": scores(pool.y, (pr + base) / 2, pool.is_ex)})
        if len(rep_rows) == len(rseeds):
            # `route+head`: the tuned network's probabilities averaged with the logistic-regression
            # head's on MSD_musicnn's own penultimate, which the export computes anyway (embedding)
            for name, who in ((route, "finetuned"), (route + "+head", "with_head")):
                results[name] = {
                    "trains": ["genre layer"] + ROUTES[route][1], "fed_at": ROUTES[route][0], "seeds": rseeds,
                    "members": ENSEMBLES.get(route, (route, 1))[1],
                    "hyper": rhp, "with_head": who == "with_head",
                    "oof": {"finetuned": mean_sd([r[who] for r in rep_rows]),
                            "shipped_head": mean_sd([r["shipped_head"] for r in rep_rows])},
                    "folds": {"finetuned": mean_sd([r[who] for r in fold_rows]),
                              "shipped_head": mean_sd([r["shipped_head"] for r in fold_rows])},
                    "per_repeat": [{"seed": r["seed"], "finetuned": r[who], "shipped_head": r["shipped_head"]}
                                   for r in rep_rows],
                    "train_s": round(sum(r["train_s"] for r in fold_rows), 1)}
            o = results[route]["oof"]
            log(f"{route}: CV acc {o['finetuned']['accuracy']['mean']:.3f}±{o['finetuned']['accuracy']['sd']:.3f} "
                f"bal {o['finetuned']['balanced_accuracy']['mean']:.3f} | shipped head on the same folds "
                f"{o['shipped_head']['accuracy']['mean']:.3f}±{o['shipped_head']['accuracy']['sd']:.3f}")
    if missing:
        log(f"not cached yet (another process trains them): {', '.join(missing)}; no report written")
        return 0
    for route, r in results.items():
        f, b = r["oof"]["finetuned"], r["oof"]["shipped_head"]
        r["gain"] = round(f["accuracy"]["mean"] - b["accuracy"]["mean"], 4)
        r["excerpts_change"] = round(f["excerpts_accuracy"]["mean"] - b["excerpts_accuracy"]["mean"], 4)
        r["kept"] = bool(r["gain"] > max(f["accuracy"]["sd"], b["accuracy"]["sd"]) and score(f) > score(b)
                         and -r["excerpts_change"] <= max(f["excerpts_accuracy"]["sd"], b["excerpts_accuracy"]["sd"]))
        for part, mask in (("clips", ~pool.is_ex), ("excerpts", pool.is_ex)):
            idx = np.where(mask)[0]
            write_json(os.path.join(args.work, f"ft_oof_{route}_{part}{suffix}.json"), eval_report(
                pool.y[idx], oof0[route][idx], [pool.paths[i] for i in idx], model=f"cv:musicnn_finetune[{route}]",
                dataset=f"out-of-fold, {FOLDS}-fold artist-grouped CV over train + valid, seed {seeds[0]}; "
                        f"each clip predicted by a network fine-tuned without its group ({part})"), indent=1)
    path = os.path.join(args.work, f"cv_finetune{suffix}.json")
    old = (json.load(open(path)) if os.path.exists(path) else {}).get("routes", {})
    routes_all = {**old, **results}
    kept = [k for k, v in routes_all.items() if v.get("kept")]
    selected = max(kept, key=lambda k: score(routes_all[k]["oof"]["finetuned"])) if kept else None
    write_json(path, {
        "protocol": {"folds": FOLDS, "seeds": seeds, "max_block": args.max_block, "items": pool.n,
                     "clips": int((~pool.is_ex).sum()), "excerpts": int(pool.is_ex.sum()),
                     "groups": len(set(pool.groups.tolist())), "shipped_head": head_cfg,
                     "hyper": hp, "augment": aug, "head_gain_db": args.head_gain_db, "examples": int(len(ex.X)), "runtime_patches": int(n_lab),
                     "rule": "kept if the full clips' CV accuracy rises by more than its sd over repeats, "
                             "the CV score ((accuracy + balanced accuracy) / 2) rises, and the excerpts' CV "
                             "accuracy (issue 17's second target) falls by no more than its sd; the kept "
                             "route with the best CV score ships",
                     "prediction": "clip = mean of patch probabilities; TensorFlow, musicnn's own graph"},
        "routes": routes_all, "selected": selected, "wall_s": round(time.time() - t0, 1)}, indent=1)
    log(f"wrote {path}; selected: {selected or 'none (the shipped head stays)'}")
    if args.export:
        return export(tf, args, pool, ex, inputs, hp, selected, routes_all, gained)
    return 0


def student_examples(features: str, clips: dict, unlabelled: str, seed: int):
    """cv_student.py's training examples (same sets, its default augmentation)."""
    from cv_student import AUG_ROUNDS, MIX_P, unlabelled_sets

    unl = unlabelled_sets(features, unlabelled)
    sets = student_sets(features, list(clips), unl)
    return student_pool.build_examples(sets, np.random.default_rng(seed), AUG_ROUNDS, MIX_P,
                                       student_pool.GAIN_DB), unl


def student_teachers(tf, args, pool, ex, inputs, hp, aug, seeds, mine) -> int:
    """Per fold, the `backend` route's network (the same training as its CV fold: same examples,
    weights and seed) predicts every cv_student.py example, so that a student can be distilled
    from the fine-tuned teacher inside each fold. WORK/cv_student_ftteacher/s{seed}_f{k}_{examples key}.npz
    (one per set of examples, so that students with another --unlabelled keep theirs):
    `probs` [examples, K], the key of the examples (`examples_key`) and of the fold's held-out
    items (`held_out_key`), cached by content."""
    sx, unl = student_examples(args.features, load_sets(args.features), args.student_teachers, args.seed)
    ex_key = key_of(sx.X)
    log(f"cv_student.py's examples: {len(sx.X)} (unlabelled: {[os.path.basename(os.path.normpath(u)) for u in unl]})")
    sin = frozen_cached(tf, sx.X, "pooled", ex_key, os.path.join(args.work, f"ft_inputs_pooled_student_{ex_key}.npy"), args)
    every = np.arange(len(sx.X))
    for seed in seeds:
        for k, te in enumerate(pool.folds(seed)):
            if not in_folds(mine, seed, k):
                continue
            keep = np.ones(len(ex.clips), bool)
            keep[te] = False
            hw = ex.hard_weights(keep)
            train_idx = np.where(ex.uses(keep) & (hw > 0))[0]
            key = key_of(CODE_VERSION, "backend", json.dumps(hp, sort_keys=True), json.dumps(aug, sort_keys=True),
                         seed, te, train_idx, hw[train_idx], ex.Y[train_idx], ex_key)
            log(f"fine-tuned teacher, seed {seed} fold {k + 1}/{FOLDS}: {len(train_idx)} examples")
            # the fold's held-out items, so that cv_student.py refuses a teacher of other folds
            held_out = np.array(key_of(te))
            path = ft_teacher_path(args.work, seed, k, ex_key)
            got = cached_arrays(path, key, lambda: {
                "probs": fit_net(tf, "backend", hp, inputs, ex.Y, hw, train_idx, seed * 100 + k, args.threads,
                                 lambda sess, net, at: predict_inputs(sess, net, at, sin, every))[0],
                "examples_key": np.array(ex_key), "held_out_key": held_out})
            if "held_out_key" not in got:  # cached before folds were recorded; `key` above holds te
                save(path, key, {**got, "held_out_key": held_out})
    return 0


def score(o: dict) -> float:
    return (o["accuracy"]["mean"] + o["balanced_accuracy"]["mean"]) / 2


def export(tf, args, pool, ex, inputs, hp, route, routes, gained=None) -> int:
    """Ship the selected route: fitted on train (+ its excerpts) -> WORK/genre-ft-trainonly.onnx
    (what `earmark eval` scores on valid) and on every item -> --out; WORK/ft_export.json and
    WORK/ft_valid_python_eval.json describe them for write_card.py --refresh-finetune."""
    if route is None:
        log("no fine-tuned route beats the shipped head: nothing exported")
        return 0
    from earmark_train.onnx_utils import session as ort_session

    net_route, with_head = route.removesuffix("+head"), route.endswith("+head")
    hp = routes[route].get("hyper", hp)
    where = ROUTES[net_route][0]
    valid = np.where((pool.origin == "valid") & ~pool.is_ex)[0]
    vpatch = np.where(np.isin(pool.owner, valid))[0]
    check = np.arange(0, len(ex.X), max(1, len(ex.X) // 12))[:12]
    outs = {}
    for name, keep_items, path in (
            ("trainonly", pool.origin == "train", os.path.join(args.work, "genre-ft-trainonly.onnx")),
            ("all", np.ones(pool.n, bool), args.out)):
        keep = keep_items.copy()
        hw = ex.hard_weights(keep)
        train_idx = np.where(ex.uses(keep) & (hw > 0))[0]
        log(f"export {route} ({name}): {len(train_idx)} examples")
        head = fit_head(pool, SHIPPED_HEAD, np.where(keep_items)[0], args.seed, gained) if with_head else None

        member_of, n_members = ENSEMBLES.get(net_route, (net_route, 1))
        members, refs, vps, train_s = [], [], [], 0.0
        for m in range(n_members):
            def then(sess, net, at):
                return (member_values(sess, net), sess.run(net.probs, {net.mel: ex.X[check]}),
                        predict_inputs(sess, net, at, inputs[where], vpatch))
            (mem, ref, vp), s_m, _ = fit_net(tf, member_of, hp, inputs[where], ex.Y, hw, train_idx,
                                             args.seed + m * MEMBER_SEED_STEP, args.threads, then)
            members.append(mem)
            refs.append(ref)
            vps.append(vp)
            train_s += s_m
        to_onnx(tf, members, path, head)
        ref, vprobs = np.mean(refs, axis=0), np.mean(vps, axis=0)
        # MSD_musicnn's own penultimate on the check patches: the head's input and the embedding's reference
        msd = ort_session(args.backbone, args.threads).run(["penultimate"], {"mel": ex.X[check]})[0]
        if head is not None:
            ref = (ref + head.predict_proba(msd)) / 2
            vprobs = (vprobs + head.predict_proba(pool.feats("msd_pen")[vpatch])) / 2
        got = ort_session(path, args.threads).run(["probs"], {"mel": ex.X[check]})[0]
        import onnx

        proto = onnx.load(path)
        proto.graph.output.append(onnx.helper.make_tensor_value_info("penultimate", onnx.TensorProto.FLOAT, None))
        pen = ort_session(proto, args.threads).run(["penultimate"], {"mel": ex.X[check]})[0]
        log(f"  embedding vs {os.path.basename(args.backbone)}'s penultimate: max |diff| {np.abs(pen - msd).max():.2e}")
        if np.abs(pen - msd).max() > 1e-4:
            raise SystemExit("the exported embedding is not MSD_musicnn's penultimate")
        diff = float(np.abs(ref - got).max())
        log(f"  wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB, {n_members} network(s), {train_s:.0f} s); "
            f"max |TensorFlow - onnxruntime| {diff:.2e}")
        if diff > 1e-4:
            raise SystemExit(f"{path}: the ONNX export does not match TensorFlow")
        outs[name] = (vprobs, train_s, len(train_idx))

    params = next(iter(load_sets(args.features).values())).params
    cfg = {"route": "musicnn_finetune", "trains": routes[route]["trains"], "fed_at": where,
           "level": "patch", "combine": "mean_probs", "excerpt_weight": 2.0, **hp,
           **({"averaged_with": SHIPPED_HEAD} if with_head else {})}
    trainonly = os.path.join(args.work, "genre-ft-trainonly.onnx")
    write_json(os.path.splitext(trainonly)[0] + ".json", runtime_card(
        "earmark-genre-trainonly", trainonly, params, "mean_probs",
        {"trained_on": "train(+excerpts/train)", "config": cfg}))
    vp, owner = outs["trainonly"][0], np.searchsorted(valid, pool.owner[vpatch])
    probs = combine(vp, owner, len(valid), "mean_probs")
    write_json(os.path.join(args.work, "ft_valid_python_eval.json"), eval_report(
        pool.y[valid], probs, [pool.paths[i] for i in valid], model=trainonly,
        dataset="valid (finetune_cv.py: TensorFlow)"), indent=1)
    tradeoff = []
    rank = np.zeros(len(owner), int)
    for i in range(len(valid)):
        idx = np.where(owner == i)[0]
        rank[idx] = np.arange(len(idx))
    for k in (1, 2, 3, 5, 10):  # k patches spread evenly over the clip, as train.py measures it
        sel = np.zeros(len(owner), bool)
        for i in range(len(valid)):
            idx = np.where(owner == i)[0]
            sel[idx[np.unique(np.linspace(0, len(idx) - 1, min(k, len(idx))).round().astype(int))]] = True
        m = metrics(pool.y[valid], combine(vp[sel], owner[sel], len(valid), "mean_probs").argmax(1))
        tradeoff.append({"patches_per_clip": k, "accuracy": round(m["accuracy"], 4),
                         "balanced_accuracy": round(m["balanced_accuracy"], 4)})
    sp = os.path.join(args.work, "ft_export.json")
    write_json(sp, {"selected": cfg, "route": route, "tradeoff": tradeoff, "trainonly": trainonly,
                    "out": args.out, "script": "models/train/finetune_cv.py --export",
                    "examples_trainonly": outs["trainonly"][2], "examples_all": outs["all"][2],
                    "train_s": round(outs["trainonly"][1] + outs["all"][1], 1),
                    "augment": {k: getattr(args, k) for k in ("aug_rounds", "mix_p", "gain_db", "tilt_db",
                                                              "stretch", "seed", "head_gain_db")},
                    "cv": routes[route]}, indent=1)
    log(f"valid (train-only, TensorFlow): accuracy {metrics(pool.y[valid], probs.argmax(1))['accuracy']:.3f}; "
        f"patches trade-off {tradeoff}; updated {sp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
