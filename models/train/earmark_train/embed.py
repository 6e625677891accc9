"""Backbone outputs per patch (musicnn `penultimate` and `taggram`), cached by content hash."""

import numpy as np

from .cache import cached_arrays, key_of, sha256_file
from .onnx_utils import run_batched, session

OUTPUTS = ["penultimate", "taggram"]
# Feature names are "<backbone>_<short output>", e.g. "msd_pen".
SHORT = {"penultimate": "pen", "taggram": "tag"}


def embed(backbone: str, patches: np.ndarray, threads: int, cache: str) -> dict:
    """{output: [P, D]} for `patches` through the backbone ONNX; reused from `cache` when the
    backbone bytes and the patches are unchanged."""
    key = key_of(sha256_file(backbone), patches)

    def compute():
        vals = run_batched(session(backbone, threads), OUTPUTS, patches)
        return dict(zip(OUTPUTS, vals))

    return cached_arrays(cache, key, compute)


def embed_sets(clips: dict, backbones: dict, threads: int, work: str) -> dict:
    """{split: {"<backbone>_<short output>": [P, D]}} for every split's patches through every
    backbone ({name: onnx path}), each cached under `work`."""
    feats = {}
    for s, c in clips.items():
        patches, _ = c.patches()
        feats[s] = {}
        for name, path in backbones.items():
            e = embed(path, patches, threads, f"{work}/emb_{name}_{s}.npz")
            for o, a in e.items():
                feats[s][f"{name}_{SHORT[o]}"] = a
    return feats


def embed_chunked(backbone: str, patches: np.ndarray, owner: np.ndarray, threads: int,
                  cache_dir: str, chunk: int = 512, progress=None) -> dict:
    """`embed` for hours of audio: the patches are cut into chunks of about `chunk` patches at
    clip boundaries, each cached on its own under its content hash in `cache_dir`, so an
    interrupted run resumes where it stopped and a changed clip recomputes only its chunk."""
    model_sha = sha256_file(backbone)
    sess = None
    bounds = [0]
    for i in range(1, len(owner) + 1):
        if i == len(owner) or (i - bounds[-1] >= chunk and owner[i] != owner[i - 1]):
            bounds.append(i)
    parts = []
    for n, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        key = key_of(model_sha, patches[a:b])

        def compute(a=a, b=b):
            nonlocal sess
            sess = sess or session(backbone, threads)
            return dict(zip(OUTPUTS, run_batched(sess, OUTPUTS, patches[a:b])))

        parts.append(cached_arrays(f"{cache_dir}/{key}.npz", key, compute))
        if progress:
            progress(f"  {backbone}: {b}/{len(patches)} patches ({n + 1}/{len(bounds) - 1} chunks)")
    return {o: np.concatenate([p[o] for p in parts]) for o in OUTPUTS}
