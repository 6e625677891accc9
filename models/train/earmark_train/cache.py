"""Content-hash keyed caches: a result is reused only when every input it came from is unchanged.

Hours of audio make the recipe's expensive stages (backbone embeddings, teacher outputs) worth
keeping between runs; the key hashes the model bytes and the input arrays, so a stale cache is
never read.
"""

import hashlib
import os

import numpy as np


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def key_of(*parts) -> str:
    """A short key over strings, bytes and arrays (arrays by their bytes)."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(np.ascontiguousarray(p).tobytes())
        elif isinstance(p, bytes):
            h.update(p)
        else:
            h.update(str(p).encode())
    return h.hexdigest()[:16]


def load_cached(path: str, key: str, legacy: str = ""):
    """The arrays saved at `path` under `key`, or None (missing or stale). A file saved under
    the `legacy` key (the same inputs, hashed the way an older recipe did) is accepted and
    re-saved under `key`, so a change of key scheme does not throw hours of work away."""
    if os.path.exists(path):
        z = np.load(path)
        got = {k: z[k] for k in z.files if k != "key"} if str(z["key"]) in (key, legacy or key) else None
        if got is not None and str(z["key"]) != key:
            save(path, key, got)
        return got
    return None


def save(path: str, key: str, arrays: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp.npz"  # two stages may fill one cache at once
    np.savez(tmp, key=key, **arrays)
    os.replace(tmp, path)


def cached_arrays(path: str, key: str, compute, legacy: str = "") -> dict:
    """The arrays saved at `path` under `key` (or `legacy`, see load_cached), else `compute()`
    (a dict of arrays), saved."""
    got = load_cached(path, key, legacy)
    if got is not None:
        return got
    out = compute()
    save(path, key, out)
    return out


def kept_cached(path: str, key: str, kept: str, kept_key: str, compute, legacy: str = "",
                kept_legacy: str = "") -> dict:
    """cached_arrays(path, key, ...), with a second copy at `kept` under `kept_key`: a file in the
    repo under a key that does not depend on the machine (no model bytes, no floating-point
    outputs of another stage), so hours of per-fold training survive a new machine's empty work
    folder. Read from the work folder, else from `kept` (under `kept_key` or `kept_legacy`), else
    computed; saved to both."""
    got, kept_got = load_cached(path, key, legacy), load_cached(kept, kept_key, kept_legacy)
    if got is None:
        got = kept_got if kept_got is not None else compute()
        save(path, key, got)
    if kept_got is None:
        save(kept, kept_key, got)
    return got
