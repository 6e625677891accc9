"""Training audio for the distillation (distill.py): the clips of `earmark features` folders and
an augmented pool of 187-frame patches cut from them.

Every set under the features folder is training audio. A clip whose label (its parent folder)
is a GTZAN genre contributes a hard label as well as the teacher's targets; any other clip (e.g.
the long tracks in ../shared/music, label "music") is taught by the teacher alone. New clips
dropped into those folders are picked up with no code change.

The pool (seeded): every analysis patch of every clip (the index's segment offsets, short clips
repeat-padded), plus `aug_rounds` augmented copies per patch: a random 187-frame crop at any
offset inside one decoded window, a random gain (exact, through `log10(10000*mel + 1)`), a +-1-2
mel-bin shift (a small pitch shift) with probability 1/2, and with probability `mix_p` a mix
with another random crop in the linear-mel domain.
"""

import json
import os

import numpy as np

from earmark_train.data import LABELS, N_FRAMES, N_MELS, K, pad_patch  # noqa: F401
from earmark_train.heads import sample_weights

# Whole pool packages no student trains on when its agreement with the teacher on unseen music is
# measured (distill_pool.py; distill.sh's honest-protocol student, fidelity.py)
HELD_OUT_PACKAGES = "marsshooter-data,nexuiz-music,fretsonfire-songs-sectoid,fretsonfire-songs-muldjord"


class Set:
    """All clips of one `earmark features` folder, labelled or not."""

    def __init__(self, fdir: str, name: str, drop_labels=()):
        self.dir, self.name = fdir, name
        with open(os.path.join(fdir, "index.json")) as f:
            self.items = [it for it in json.load(f) if it.get("label") not in drop_labels]
        with open(os.path.join(fdir, "params.json")) as f:
            self.params = json.load(f)
        self.y = np.array([LABELS.index(it["label"]) if it.get("label") in LABELS else -1
                           for it in self.items], dtype=np.int64)
        self.paths = [it["path"] for it in self.items]
        self.mels = [np.load(os.path.join(fdir, it["file"])).astype(np.float32) for it in self.items]
        # short clips (the 2-3 s excerpts) count as excerpts for the hard-label weights
        self.is_excerpt = np.array([m.shape[0] < N_FRAMES for m in self.mels])

    def __len__(self):
        return len(self.items)

    def windows(self, i):
        """(offset, n_frames) of each decoded stretch of clip i (crops never straddle two)."""
        m = self.mels[i]
        ws = [(w["frame_offset"], w["n_frames"]) for w in self.items[i].get("windows", [])]
        ws = [(o, min(n, m.shape[0] - o)) for o, n in ws if o < m.shape[0]]
        return ws or [(0, m.shape[0])]

    def patches(self, i):
        """The runtime's patches of clip i (segment offsets; short clips repeat-padded)."""
        m = self.mels[i]
        segs = [s for s in self.items[i].get("segments", []) if s + N_FRAMES <= m.shape[0]]
        if not segs:
            return [pad_patch(m)]
        return [m[s:s + N_FRAMES] for s in segs]


    def patches_at(self, i, hop: int):
        """Clip i's patches as the runtime cuts them with another hop (model.json's
        segment.hop_frames): per decoded window, SegmentSpec::offsets (start 0, every `hop`
        frames while a whole patch fits; a window shorter than a patch repeat-padded)."""
        out = []
        for o, n in self.windows(i):
            w = self.mels[i][o:o + n]
            out += [pad_patch(w)] if n < N_FRAMES else [w[s:s + N_FRAMES] for s in range(0, n - N_FRAMES + 1, hop)]
        return out


def to_lin(L):
    return np.power(10.0, L.astype(np.float64)) - 1.0


def to_log(M):
    return np.log10(np.maximum(M, 0.0) + 1.0).astype(np.float32)


def random_crop(s: Set, i: int, rng) -> np.ndarray:
    ws = s.windows(i)
    lens = np.array([n for _, n in ws], dtype=np.float64)
    o, n = ws[rng.choice(len(ws), p=lens / lens.sum())]
    m = s.mels[i][o:o + n]
    if n >= N_FRAMES:
        st = rng.integers(0, n - N_FRAMES + 1)
        return m[st:st + N_FRAMES]
    # shorter than a patch: the runtime repeat-pads; crop the tiled clip at a random phase
    reps = int(np.ceil(2 * N_FRAMES / max(1, n)))
    tiled = np.tile(m, (reps, 1))
    st = rng.integers(0, n)
    return tiled[st:st + N_FRAMES]


def bin_shift(p: np.ndarray, k: int) -> np.ndarray:
    """Shift the mel axis by k bins (edge bins repeated): a small pitch shift."""
    if k == 0:
        return p
    out = np.empty_like(p)
    if k > 0:
        out[:, k:] = p[:, :-k]
        out[:, :k] = p[:, :1]
    else:
        out[:, :k] = p[:, -k:]
        out[:, k:] = p[:, -1:]
    return out


class Examples:
    """The augmented pool before hard-label weighting: X [N,187,96], hard targets Y [N,K] (rows of
    0 = no label), WID [N,3] = (clip, mix partner clip, share of the clip), KIND (0 runtime patch,
    1 augmented copy, 2 mixed copy); per clip: y_clip (-1 = unlabelled), is_ex, npatch."""

    def __init__(self, X, Y, WID, KIND, n_orig, clips, y_clip, is_ex, npatch, aug_rounds):
        self.X, self.Y, self.WID, self.KIND, self.n_orig = X, Y, WID, KIND, n_orig
        self.clips, self.y_clip, self.is_ex, self.npatch = clips, y_clip, is_ex, npatch
        self.aug_rounds = aug_rounds

    def uses(self, keep_clip: np.ndarray) -> np.ndarray:
        """Examples made only of clips in `keep_clip` (a mixed copy needs both of its clips)."""
        return keep_clip[self.WID[:, 0].astype(int)] & keep_clip[self.WID[:, 1].astype(int)]

    def hard_weights(self, keep_clip=None) -> np.ndarray:
        """Per-example hard-label weights: every labelled clip 1 (an excerpt 2), classes
        balanced, a clip's weight spread over its examples (orig + aug), mean 1 over the
        weighted examples. With `keep_clip` (a clip mask, e.g. a CV fold's training side) only
        those clips count and examples touching any other clip weigh 0."""
        keep = np.ones(len(self.clips), bool) if keep_clip is None else keep_clip
        lab = (self.y_clip >= 0) & keep
        w_clip = np.zeros(len(self.clips))
        if lab.any():
            wl, _ = sample_weights(self.y_clip[lab], np.arange(lab.sum()), self.is_ex[lab], 2.0)
            w_clip[lab] = wl
        per_ex = w_clip / np.maximum(1, self.npatch * (1 + self.aug_rounds))
        a, b, lam = self.WID[:, 0].astype(int), self.WID[:, 1].astype(int), self.WID[:, 2]
        hw = lam * per_ex[a] + (1 - lam) * per_ex[b]
        hw[self.Y.sum(1) == 0] = 0.0
        if keep_clip is not None:
            hw[~self.uses(keep)] = 0.0
        if (hw > 0).any():
            hw = hw / hw[hw > 0].mean()
        return hw.astype(np.float32)


def build_examples(sets, rng, aug_rounds: int, mix_p: float, gain_db: float) -> Examples:
    """Every runtime patch of every clip (in clip order, first), then `aug_rounds` augmented
    copies per patch (see the module doc)."""
    clips = [(s, i) for s in sets for i in range(len(s))]
    X, Y, WID, KIND = [], [], [], []
    y_clip = np.array([s.y[i] for s, i in clips])
    is_ex = np.array([s.is_excerpt[i] for s, i in clips])
    onehot = np.eye(K, dtype=np.float32)

    def hard(c):
        return onehot[y_clip[c]] if y_clip[c] >= 0 else np.zeros(K, np.float32)

    npatch = np.zeros(len(clips))
    for c, (s, i) in enumerate(clips):
        for p in s.patches(i):
            X.append(p)
            Y.append(hard(c))
            WID.append([c, c, 1.0])
            KIND.append(0)
            npatch[c] += 1
    n_orig = len(X)
    for _ in range(aug_rounds):
        for c in range(len(clips)):
            for _ in range(int(npatch[c])):
                s, i = clips[c]
                L = random_crop(s, i, rng)
                y = hard(c)
                c2, lam = c, 1.0
                if rng.random() < mix_p:
                    c2 = int(rng.integers(0, len(clips)))
                    s2, i2 = clips[c2]
                    lam = float(rng.uniform(0.2, 0.8))
                    L = to_log(lam * to_lin(L) + (1 - lam) * to_lin(random_crop(s2, i2, rng)))
                    y = lam * y + (1 - lam) * hard(c2)
                    if y_clip[c] < 0 or y_clip[c2] < 0:
                        y = np.zeros(K, np.float32)
                g = 10.0 ** (rng.uniform(-gain_db, gain_db) / 10.0)
                L = to_log(g * to_lin(L))
                if rng.random() < 0.5:
                    L = bin_shift(L, int(rng.choice([-2, -1, 1, 2])))
                X.append(L.astype(np.float32))
                Y.append(y.astype(np.float32))
                WID.append([c, c2, lam])
                KIND.append(1 + (c2 != c))
    return Examples(np.stack(X).astype(np.float32), np.stack(Y).astype(np.float32),
                    np.array(WID, dtype=np.float64), np.array(KIND), n_orig, clips, y_clip, is_ex,
                    npatch, aug_rounds)


def build_pool(sets, rng, aug_rounds: int, mix_p: float, gain_db: float):
    """Examples: X [N,187,96], hard targets Y [N,K] (rows of 0 = no label), per-example hard
    weights, KIND, the number of runtime patches, and the (set, clip) list."""
    ex = build_examples(sets, rng, aug_rounds, mix_p, gain_db)
    return ex.X, ex.Y, ex.hard_weights(), ex.KIND, ex.n_orig, ex.clips


def load_sets(features: str, sets: str = "all", exclude: str = "", monitor: str = "",
              extra: str = "", drop_labels: str = ""):
    """The training sets under `features` (every one, or the comma list `sets`), less `exclude`
    and the monitored set, plus the `earmark features` folders of the comma list `extra` (e.g. the
    unlabelled pool, named after their folder), less the clips whose label (parent folder: a
    pool package) is in `drop_labels`. Exits with a message when one is missing or their
    feature parameters differ (every set must come from the same `earmark features` settings)."""
    avail = sorted(d for d in os.listdir(features)
                   if os.path.exists(os.path.join(features, d, "index.json")))
    names = avail if sets == "all" else [s for s in sets.split(",") if s]
    names = [s for s in names if s not in exclude.split(",") and s != monitor]
    missing = [s for s in names if s not in avail]
    dirs = [os.path.join(features, s) for s in names]
    for d in [d for d in extra.split(",") if d]:
        (dirs if os.path.exists(os.path.join(d, "index.json")) else missing).append(d)
    if missing or not dirs:
        raise SystemExit(f"no features for {missing or 'any set'} under {features}")
    drop = {lab for lab in drop_labels.split(",") if lab}
    out = [Set(d, os.path.basename(os.path.normpath(d)), drop) for d in dirs]
    for s in out:
        if s.params != out[0].params:
            raise SystemExit(f"feature params differ between {out[0].name} and {s.name}")
    return out


def labelled_patches(s: Set):
    """The runtime patches of the labelled clips of s: (patches, clip index per patch, labels)."""
    keep = [i for i in range(len(s)) if s.y[i] >= 0]
    mp, mo = [], []
    for j, i in enumerate(keep):
        for p in s.patches(i):
            mp.append(p)
            mo.append(j)
    return np.stack(mp), np.array(mo), s.y[keep]


def add_args(ap, tag: str, aug_rounds: int, mix_p: float) -> None:
    """The arguments distill.sh gives either distillation route (distill.py, distill_lite.py):
    where the sets and the teacher are, where the student goes, and how the pool is cut."""
    ap.add_argument("--features", required=True, help="folder of `earmark features` outputs, one per set")
    ap.add_argument("--sets", default="all", help="comma list of sets to train on (default: every set)")
    ap.add_argument("--exclude", default="", help="comma list of sets to leave out")
    ap.add_argument("--monitor", default="", help="a labelled set to report during training (not trained on)")
    ap.add_argument("--extra", default="",
                    help="comma list of other `earmark features` folders to train on (the pool)")
    ap.add_argument("--drop-labels", default="",
                    help="comma list of labels (parent folders, e.g. pool packages) left out of training")
    ap.add_argument("--teacher", required=True, help="teacher ONNX (mel -> probs)")
    ap.add_argument("--out", required=True, help="student ONNX to write")
    ap.add_argument("--card", action="store_true",
                    help="write <out stem>.json beside the student, so `earmark eval --model OUT` reads it")
    ap.add_argument("--work", required=True, help="scratch folder (teacher-label cache, summary)")
    ap.add_argument("--tag", default=tag, help="name of this run (cache and summary files)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--opset", type=int, default=13)
    add_augment_args(ap, aug_rounds, mix_p)


GAIN_DB = 6.0  # random gain range of the augmented copies (dB)


def add_augment_args(ap, aug_rounds: int, mix_p: float) -> None:
    """How the augmented copies are cut (build_examples)."""
    ap.add_argument("--aug-rounds", type=int, default=aug_rounds, help="augmented copies per patch")
    ap.add_argument("--mix-p", type=float, default=mix_p, help="probability an augmented copy is a mix")
    ap.add_argument("--gain-db", type=float, default=GAIN_DB, help="random gain range of the copies (dB)")
