"""Backbone outputs per patch (musicnn `penultimate` and `taggram`), cached by content hash."""

import numpy as np

from .cache import cached_arrays, key_of, sha256_file
from .onnx_utils import run_batched, session

OUTPUTS = ["penultimate", "taggram"]


def embed(backbone: str, patches: np.ndarray, threads: int, cache: str) -> dict:
    """{output: [P, D]} for `patches` through the backbone ONNX; reused from `cache` when the
    backbone bytes and the patches are unchanged."""
    key = key_of(sha256_file(backbone), patches)

    def compute():
        vals = run_batched(session(backbone, threads), OUTPUTS, patches)
        return dict(zip(OUTPUTS, vals))

    return cached_arrays(cache, key, compute)
