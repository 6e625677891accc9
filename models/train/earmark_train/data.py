"""The clips of `earmark features` folders (never computes features itself)."""

import json
import os
import re

import numpy as np

LABELS = ["blues", "classical", "country", "disco", "hiphop",
          "jazz", "metal", "pop", "reggae", "rock"]
K = len(LABELS)
N_FRAMES = 187
N_MELS = 96
SETS = ["train", "valid", "ex_train", "ex_valid"]
GTZAN_NAME = re.compile(r"([a-z]+)\.(\d{5})\.[a-z0-9]+$")


def pad_patch(m: np.ndarray) -> np.ndarray:
    """A clip shorter than one patch is repeat-padded (tiled in time) to 187 frames."""
    if m.shape[0] >= N_FRAMES:
        return m[:N_FRAMES]
    reps = int(np.ceil(N_FRAMES / max(1, m.shape[0])))
    return np.tile(m, (reps, 1))[:N_FRAMES]


def gtzan_id(path: str) -> tuple:
    """(genre, number) from a GTZAN file name such as `blues.00029.ogg`, else (None, None)."""
    m = GTZAN_NAME.search(os.path.basename(path))
    return (m.group(1), int(m.group(2))) if m else (None, None)


class Clips:
    """The labelled clips of one `earmark features` output directory (every clip, label -1 where
    the parent folder is no genre, with `labelled_only=False`: the unlabelled pool)."""

    def __init__(self, fdir: str, name: str, labelled_only: bool = True):
        self.dir, self.name = fdir, name
        with open(os.path.join(fdir, "index.json")) as f:
            index = json.load(f)
        with open(os.path.join(fdir, "params.json")) as f:
            self.params = json.load(f)
        errs = os.path.join(fdir, "errors.json")
        self.errors = []
        if os.path.exists(errs):
            with open(errs) as f:
                self.errors = json.load(f)
        self.items = [it for it in index if it["label"] in LABELS or not labelled_only]
        self.skipped = [it["path"] for it in index if it["label"] not in LABELS and labelled_only]
        self.y = np.array([LABELS.index(it["label"]) if it["label"] in LABELS else -1
                           for it in self.items], dtype=np.int64)
        self.paths = [it["path"] for it in self.items]
        self._mels = None

    def __len__(self):
        return len(self.items)

    def mels(self):
        if self._mels is None:
            self._mels = [np.load(os.path.join(self.dir, it["file"])).astype(np.float32)
                          for it in self.items]
        return self._mels

    def patches(self):
        """(patches [P,187,96], clip index per patch [P]) at the index's segment offsets."""
        out, owner = [], []
        for i, (it, m) in enumerate(zip(self.items, self.mels())):
            segs = [s for s in it.get("segments", []) if s + N_FRAMES <= m.shape[0]]
            if not segs:
                out.append(pad_patch(m))
                owner.append(i)
                continue
            for s in segs:
                out.append(m[s:s + N_FRAMES])
                owner.append(i)
        return np.stack(out).astype(np.float32), np.array(owner, dtype=np.int64)


def load_sets(features: str, names=SETS) -> dict:
    """The feature folders present under `features`, by set name; all must share parameters."""
    clips = {}
    for s in names:
        d = os.path.join(features, s)
        if os.path.exists(os.path.join(d, "index.json")):
            c = Clips(d, s)
            if len(c):  # e.g. every excerpt refused by `earmark features` as too short to judge
                clips[s] = c
    params = [c.params for c in clips.values()]
    if any(p != params[0] for p in params):
        raise SystemExit(f"feature parameters differ between the sets under {features}")
    return clips
