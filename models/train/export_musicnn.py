"""Export a musicnn backbone (weights shipped inside the musicnn wheel) to ONNX.

    models/train/.venv/bin/python models/train/export_musicnn.py [--out target/train/musicnn_msd.onnx]
    models/train/.venv/bin/python models/train/export_musicnn.py --which MTT_musicnn --out target/train/musicnn_mtt.onnx
    models/train/.venv/bin/python models/train/export_musicnn.py --which MSD_vgg --out target/train/musicnn_vgg.onnx

Graph: input `mel` float32 [batch, 187, 96] (log10(10000*mel+1) patches),
outputs `taggram` [batch, 50] (sigmoid tag probabilities, MSD or MTT labels),
`penultimate` [batch, 200], `max_pool` [batch, 753], `mean_pool` [batch, 753].
The VGG backbones (MSD_vgg, MTT_vgg: five 3x3 convolutions of 128 filters) have no dense
penultimate: theirs is the flattened last pooling (pool5, [batch, 256]), the input of the
tag layer, and `max_pool` / `mean_pool` are pool4's global max and mean ([batch, 128] each).

`is_training` is a plain Python False so that no If/Switch ops reach the export.
The ONNX graph is checked against TensorFlow on real patches (max abs diff printed).
"""

import argparse
import glob
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import warnings

import numpy as np
import onnx
import tensorflow as tf

tf.compat.v1.disable_eager_execution()
warnings.filterwarnings("ignore", category=UserWarning)
from musicnn import configuration as mconfig  # noqa: E402
from musicnn import models as mmodels  # noqa: E402

from earmark_train.onnx_utils import keep_used_opsets, session, symbolic_batch  # noqa: E402

N_FRAMES = 187
N_MELS = 96
OUTPUTS = ["taggram", "penultimate", "max_pool", "mean_pool"]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def build_and_freeze(which: str = "MSD_musicnn"):
    """Build `which` (MSD_/MTT_ musicnn or vgg), restore the wheel's checkpoint, return (frozen GraphDef, session, tensors)."""
    tf.compat.v1.reset_default_graph()
    graph = tf.compat.v1.get_default_graph()
    x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, N_MELS], name="mel")
    with tf.name_scope("model"):
        if "vgg" in which:
            logits, _p1, _p2, _p3, pool4, pool5 = mmodels.define_model(x, False, which, len(tag_labels(which)))
            penultimate = tf.compat.v1.layers.flatten(pool5)
            mean_pool, max_pool = tf.reduce_mean(pool4, [1, 2]), tf.reduce_max(pool4, [1, 2])
        else:
            (logits, _timbral, _temporal, _cnn1, _cnn2, _cnn3, mean_pool, max_pool,
             penultimate) = mmodels.define_model(x, False, which, len(tag_labels(which)))
    outs = {
        "taggram": tf.identity(tf.nn.sigmoid(logits), name="taggram"),
        "penultimate": tf.identity(penultimate, name="penultimate"),
        "max_pool": tf.identity(max_pool, name="max_pool"),
        "mean_pool": tf.identity(mean_pool, name="mean_pool"),
    }
    sess = tf.compat.v1.Session(graph=graph, config=tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=2, inter_op_parallelism_threads=1))
    sess.run(tf.compat.v1.global_variables_initializer())
    ckpt = os.path.join(os.path.dirname(mmodels.__file__), which) + "/"
    tf.compat.v1.train.Saver().restore(sess, ckpt)
    frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
        sess, graph.as_graph_def(), OUTPUTS)
    return frozen, sess, x, outs


def tag_labels(which: str) -> list:
    return mconfig.MSD_LABELS if which.startswith("MSD") else mconfig.MTT_LABELS


def real_patches(n_clips: int = 4) -> np.ndarray:
    """A few real log-mel patches: the committed parity fixture (+ GTZAN clips when present)."""
    patches = []
    for f in sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "mel", "clip*_logmel.npy"))):
        lm = np.load(f)
        patches.append(lm[:N_FRAMES])
        patches.append(lm[-N_FRAMES:])
    gtzan = os.environ.get("EARMARK_GTZAN", os.path.join(ROOT, "..", "shared", "gtzan"))
    clips = sorted(glob.glob(os.path.join(gtzan, "train", "*", "*.ogg")))[:: 37][:n_clips]
    if clips:
        import librosa  # only for this check
        for c in clips:
            y, _ = librosa.load(c, sr=16000, mono=True, dtype=np.float32, duration=12.0)
            m = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256,
                                               n_mels=96, fmin=0.0, fmax=8000.0,
                                               dtype=np.float32)
            lm = np.log10(np.float32(10000) * m + np.float32(1)).T.astype(np.float32)
            for s in range(0, lm.shape[0] - N_FRAMES + 1, N_FRAMES):
                patches.append(lm[s:s + N_FRAMES])
    return np.stack(patches).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "train", "musicnn_msd.onnx"))
    ap.add_argument("--which", default="MSD_musicnn", choices=["MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg"])
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--tol", type=float, default=1e-3)
    args = ap.parse_args()

    import tf2onnx

    frozen, sess, x, outs = build_and_freeze(args.which)
    model_proto, _ = tf2onnx.convert.from_graph_def(
        frozen, input_names=["mel:0"], output_names=[o + ":0" for o in OUTPUTS],
        opset=args.opset)

    # Clean names (tf2onnx keeps ':0') and make the batch dimension symbolic, named `batch`.
    rename = {"mel:0": "mel", **{o + ":0": o for o in OUTPUTS}}
    for node in model_proto.graph.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
        node.output[:] = [rename.get(o, o) for o in node.output]
    for vi in list(model_proto.graph.input) + list(model_proto.graph.output):
        vi.name = rename.get(vi.name, vi.name)
    symbolic_batch(model_proto)
    keep_used_opsets(model_proto)
    model_proto.producer_name = "earmark/export_musicnn.py"
    onnx.checker.check_model(model_proto)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    onnx.save_model(model_proto, args.out, save_as_external_data=False)
    ops = sorted({n.op_type for n in model_proto.graph.node})
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB), opset {args.opset}, ops: {ops}")

    # Parity: TF vs onnxruntime on real patches.
    p = real_patches()
    tf_vals = sess.run([outs[o] for o in OUTPUTS], feed_dict={x: p})
    rt = session(args.out, 2)
    ort_vals = rt.run(OUTPUTS, {"mel": p})
    worst = 0.0
    for name, a, b in zip(OUTPUTS, tf_vals, ort_vals):
        d = float(np.max(np.abs(a - b)))
        worst = max(worst, d)
        print(f"  {name:12s} {tuple(b.shape)}  max|tf-ort| = {d:.3g}  (|tf| max {np.abs(a).max():.3g})")
    # Per-patch independence (the musicnn extractor trap): patches must differ.
    pen = ort_vals[OUTPUTS.index("penultimate")]
    assert np.abs(pen[0] - pen[-1]).max() > 1e-3, "penultimate identical across patches?"
    top = np.argsort(-ort_vals[0].mean(0))[:5]
    print(f"  {p.shape[0]} patches; mean top tags: {[tag_labels(args.which)[i] for i in top]}")
    if worst > args.tol:
        print(f"FAIL: TF/onnxruntime mismatch {worst} > {args.tol}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
