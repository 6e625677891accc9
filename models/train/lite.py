"""musicnn-lite: the MSD_musicnn graph at reduced time/frequency resolution, initialised from
musicnn's own weights, so that a student starts where the teacher is instead of from scratch.

The input (earmark's log-mel patch [batch, 187, 96]) is average-pooled by `td` frames and `fd`
mel bands inside the graph; every convolution of musicnn is rewritten for that grid by summing
its weights over the pooled taps (sum_k w_k x_k ~ (sum of w over a group) * mean of x over the
group), time offsets kept aligned. The front-end filters can be pruned (`keep`), keeping the
ones that matter most to the outputs; a dropped channel is replaced by its mean, folded into the
biases downstream. The back-end (temporal max/mean pooling, dense 200 `penultimate`, 50 MSD
tags) and the genre head (a linear layer on [penultimate, taggram], from the teacher ONNX)
are musicnn's and the teacher's as they are. At td = fd = 1 and nothing pruned, the graph is
musicnn itself (checked against the teacher ONNX by `check_identity`).
"""

import os

import numpy as np

N_FRAMES, N_MELS = 187, 96
EPS = 1e-3  # tf.compat.v1.layers.batch_normalization's epsilon
# front-end blocks in musicnn's concat order: (name, conv, bn, kernel (time, freq), time pad)
FRONT = [("f74", "conv2d", "batch_normalization_1"),
         ("f77", "conv2d_1", "batch_normalization_2"),
         ("s1", "conv2d_2", "batch_normalization_3"),
         ("s2", "conv2d_3", "batch_normalization_4"),
         ("s3", "conv2d_4", "batch_normalization_5")]
MID = [("conv2d_5", "batch_normalization_6"), ("conv2d_6", "batch_normalization_7"),
       ("conv2d_7", "batch_normalization_8")]


def teacher_vars() -> dict:
    """musicnn MSD weights from the checkpoint inside the musicnn wheel."""
    import musicnn.models as mm
    import tensorflow as tf
    ck = os.path.join(os.path.dirname(mm.__file__), "MSD_musicnn") + "/"
    r = tf.compat.v1.train.NewCheckpointReader(ck)
    return {n: r.get_tensor(n) for n in r.get_variable_to_shape_map()
            if "Adam" not in n and "power" not in n}


def bn(V, name):
    """(scale, shift) of an inference-mode batch normalisation."""
    g, b = V[name + "/gamma"], V[name + "/beta"]
    m, v = V[name + "/moving_mean"], V[name + "/moving_variance"]
    s = g / np.sqrt(v + EPS)
    return s.astype(np.float32), (b - m * s).astype(np.float32)


def head_from_onnx(path: str):
    """The teacher's genre head: [(W, b, act)] applied to concat(penultimate, taggram)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    layers, i = [], 0
    acts = {n.input[0]: n.op_type for n in m.graph.node if n.name.startswith("head_act")}
    while f"head_W{i}" in init:
        layers.append((init[f"head_W{i}"], init[f"head_b{i}"], acts.get(f"head_z{i}")))
        i += 1
    feeds = [n for n in m.graph.node if n.name == "head_concat"]
    if not layers or not feeds:
        raise SystemExit(f"{path}: no head on [penultimate, taggram] found")
    return layers


def time_taps(k: int, left: int, td: int):
    """Map a full-rate kernel (k taps, output t reads t-left .. t-left+k-1) onto a grid pooled by
    td: returns (group index per tap, pooled kernel length, left pad, right pad)."""
    offs = np.arange(k) - left
    q = np.floor_divide(offs, td)
    return q - q.min(), int(q.max() - q.min() + 1), int(-q.min()), int(q.max())


def pool_time(W, k_axis, left, td):
    """Sum kernel taps that fall into the same pooled frame (axis k_axis)."""
    grp, n, pl, pr = time_taps(W.shape[k_axis], left, td)
    out = np.zeros(W.shape[:k_axis] + (n,) + W.shape[k_axis + 1:], np.float32)
    for t, g in enumerate(grp):
        idx = [slice(None)] * W.ndim
        idx[k_axis] = g
        src = [slice(None)] * W.ndim
        src[k_axis] = t
        out[tuple(idx)] += W[tuple(src)]
    return out, pl, pr


def pool_freq(W, f_axis, fd):
    """Sum kernel rows over groups of fd mel bands (zero-padded to a multiple of fd)."""
    n = W.shape[f_axis]
    m = -(-n // fd)
    pad = [(0, 0)] * W.ndim
    pad[f_axis] = (0, m * fd - n)
    W = np.pad(W, pad)
    shp = W.shape[:f_axis] + (m, fd) + W.shape[f_axis + 1:]
    return W.reshape(shp).sum(f_axis + 1).astype(np.float32)


def front_keep(keep: dict | None):
    """Indices kept per front-end block (all when keep is None)."""
    full = {"f74": 204, "f77": 204, "s1": 51, "s2": 51, "s3": 51}
    if keep is None:
        return {k: np.arange(n) for k, n in full.items()}
    return {k: np.asarray(keep.get(k, np.arange(n))) for k, n in full.items()}


def build(V, head, td=2, fd=2, keep=None, stats=None, seed=0, gate=False):
    """Keras musicnn-lite. Returns (model: mel -> [genre logits, penultimate, taggram, front-end
    map [batch, 187 // td, kept channels]], info dict).

    keep: {block: kept filter indices}; stats: {"front", "max", "mean": [561]} means over data
    of each front-end channel, of its max and of its mean over a patch (they fold dropped
    channels into the mid-end and back-end biases; zeros if None). gate: a second input
    g [batch, n_front] scales each front-end channel's deviation from its mean (for pruning).
    """
    import tensorflow as tf
    tf.keras.utils.set_random_seed(seed)
    L = tf.keras.layers
    kept = front_keep(keep)
    order = np.concatenate([kept[b] + off for b, off in
                            zip(["f74", "f77", "s1", "s2", "s3"], [0, 204, 408, 459, 510])])
    dropped = np.setdiff1d(np.arange(561), order)
    zero = np.zeros(561, np.float32)
    stats = stats or {}
    fmean = stats.get("front", zero)

    inp = L.Input((N_FRAMES, N_MELS), name="mel")
    s0, b0 = bn(V, "batch_normalization")
    x = L.Lambda(lambda t: tf.expand_dims(t, -1) * float(s0[0]) + float(b0[0]), name="in_bn")(inp)
    if td > 1 or fd > 1:
        x = L.AveragePooling2D((td, fd), padding="valid", name="pool_in")(x)
    T2 = N_FRAMES // td
    feats, macs = [], 0
    for name, conv, bnn in FRONT:
        W = V[conv + "/kernel"]  # [kt, kf, 1, C]
        bias = V[conv + "/bias"]
        idx = kept[name]
        W, bias = W[..., idx], bias[idx]
        s, sh = bn(V, bnn)
        s, sh = s[idx], sh[idx]
        kt = W.shape[0]
        left = 3 if name.startswith("f") else (kt - 1) // 2
        W, pl, pr = pool_time(W, 0, left, td)
        if name.startswith("f"):
            W = pool_freq(W, 1, fd)
        fpad = (0, 0)
        # musicnn: relu -> BN -> max over frequency. BN scales are mostly negative, and
        # max_f(s*relu(x)) = s*relu(min_f x) for s < 0: so pool first, on sign-flipped filters
        # (min_f x = -max_f(-x)), and apply relu and BN on the pooled map, 1/nf of the work.
        sg = np.where(s < 0, -1.0, 1.0).astype(np.float32)
        y = L.ZeroPadding2D(((pl, pr), fpad), name=f"{name}_pad")(x)
        c = L.Conv2D(len(idx), W.shape[:2], padding="valid", name=f"{name}_conv")
        y = c(y)
        c.set_weights([W * sg, (bias * sg).astype(np.float32)])
        nf = y.shape[2]
        macs += T2 * nf * len(idx) * W.shape[0] * W.shape[1]
        y = L.MaxPooling2D((1, nf), name=f"{name}_fmax")(y)
        # (a Squeeze, not a Reshape: tract wants the batch dimension symbolic and the shape fixed)
        y = L.Lambda(lambda t: tf.squeeze(t, 2), name=f"{name}_squeeze")(y)
        y = L.Lambda(lambda t, s=s, sh=sh, sg=sg: tf.nn.relu(t * sg) * s + sh, name=f"{name}_bn")(y)
        feats.append(y)
    front = L.Concatenate(axis=-1, name="front")(feats)  # [B, T2, n_kept]
    inputs = inp
    if gate:
        g_in = L.Input((len(order),), name="gate")
        mu = fmean[order][None, None, :]
        front = L.Lambda(lambda a: mu + a[1][:, None, :] * (a[0] - mu), name="gated")([front, g_in])
        inputs = [inp, g_in]

    # mid-end: three 7-tap convolutions over time (dense in channels), residuals
    mids, h = [front], front
    for j, (conv, bnn) in enumerate(MID):
        W = V[conv + "/kernel"][:, :, 0, :]  # [7, Cin, 64]
        bias = V[conv + "/bias"].astype(np.float32).copy()
        if j == 0:
            # dropped front channels hold their mean: fold their contribution into the bias
            # (approximately: ignores the zero padding at the patch edges)
            bias += np.einsum("kco,c->o", W[:, dropped, :], fmean[dropped])
            W = W[:, order, :]
        W, pl, pr = pool_time(W, 0, 3, td)
        s, sh = bn(V, bnn)
        y = L.ZeroPadding1D((pl, pr), name=f"mid{j}_pad")(h)
        c = L.Conv1D(64, W.shape[0], padding="valid", activation="relu", name=f"mid{j}_conv")
        y = c(y)
        c.set_weights([W, bias])
        macs += T2 * 64 * W.shape[1] * W.shape[0]
        y = L.Lambda(lambda t, s=s, sh=sh: t * s + sh, name=f"mid{j}_bn")(y)
        h = y if j == 0 else L.Add(name=f"mid{j}_res")([y, h])
        mids.append(h)
    mid = L.Concatenate(axis=-1, name="midend")(mids)

    # back-end: max and mean over time -> BN -> dense 200 (relu) -> BN = penultimate -> 50 tags
    mx = L.Lambda(lambda t: tf.reduce_max(t, axis=1), name="max_pool")(mid)
    mn = L.Lambda(lambda t: tf.reduce_mean(t, axis=1), name="mean_pool")(mid)
    pooled = L.Concatenate(name="pooled")([mx, mn])
    s9, b9 = bn(V, "batch_normalization_9")
    Wd, bd = V["dense/kernel"], V["dense/bias"].astype(np.float32).copy()
    # musicnn flattens [max, mean] stacked on a trailing axis: its 1506 pooled features are
    # interleaved, channel c of the 753 (front 561, mid 192) at max 2c, mean 2c+1. Here they are
    # [max of the kept channels, mean of the kept channels]: permute the dense rows to match.
    keep_pool = np.concatenate([order, 561 + np.arange(192)])
    for off, key in ((0, "max"), (1, "mean")):
        r = 2 * dropped + off
        bd += (s9[r] * stats.get(key, zero)[dropped] + b9[r]) @ Wd[r]
    rows = np.concatenate([2 * keep_pool, 2 * keep_pool + 1])
    s9, b9, Wd = s9[rows], b9[rows], Wd[rows]
    # BN9 folded into the dense layer
    Wf = (Wd * s9[:, None]).astype(np.float32)
    bf = (bd + b9 @ Wd).astype(np.float32)
    dense = L.Dense(200, activation="relu", name="dense")
    z = dense(pooled)
    dense.set_weights([Wf, bf])
    s10, b10 = bn(V, "batch_normalization_10")
    pen = L.Lambda(lambda t: t * s10 + b10, name="penultimate")(z)
    tagd = L.Dense(50, name="tag_logits")
    tl = tagd(pen)
    tagd.set_weights([V["dense_1/kernel"].astype(np.float32), V["dense_1/bias"].astype(np.float32)])
    tag = L.Activation("sigmoid", name="taggram")(tl)
    hcat = L.Concatenate(name="head_in")([pen, tag])
    hx = hcat
    for i, (W, b, act) in enumerate(head):
        d = L.Dense(W.shape[1], name=f"head{i}")
        hx = d(hx)
        d.set_weights([W.astype(np.float32), b.astype(np.float32)])
        if act:
            hx = L.Activation(act.lower(), name=f"head{i}_act")(hx)
    logits = L.Identity(name="logits")(hx)
    model = tf.keras.Model(inputs, [logits, pen, tag, front], name="musicnn_lite")
    info = {"td": td, "fd": fd, "kept": {k: len(v) for k, v in kept.items()}, "order": order,
            "macs_per_patch": int(macs + 1506 * 200 + 200 * 50)}
    return model, info


def export_onnx(model, path: str, opset: int = 13, meta: dict | None = None) -> None:
    """mel [batch,187,96] -> probs [batch,10] (softmax of the head's logits)."""
    import json

    import onnx
    import tensorflow as tf

    from earmark_train.onnx_utils import keras_to_onnx  # (TF only when exporting)

    probs = tf.keras.layers.Softmax(name="probs")(model.outputs[0])
    keras_to_onnx(tf.keras.Model(model.input, probs), path, opset)
    proto = onnx.load(path)
    proto.producer_name = "earmark/models/train/lite.py"
    if meta:
        proto.metadata_props.extend([onnx.StringStringEntryProto(key=k, value=json.dumps(v))
                                     for k, v in meta.items()])
    onnx.save_model(proto, path, save_as_external_data=False)
