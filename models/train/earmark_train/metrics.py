"""Scores, clip-level combination of patch outputs, and reports in `earmark eval --json` layout."""

import numpy as np

from .data import LABELS, K


def metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    y, pred = np.asarray(y), np.asarray(pred)
    present = [k for k in range(K) if (y == k).any()]
    recalls = [float((pred[y == k] == k).mean()) for k in present]
    f1s = []
    for k in present:
        tp = float(((pred == k) & (y == k)).sum())
        p = tp / max(1.0, float((pred == k).sum()))
        r = tp / float((y == k).sum())
        f1s.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
    acc = float((pred == y).mean()) if len(y) else 0.0
    bal = float(np.mean(recalls)) if recalls else 0.0
    return {"accuracy": acc, "balanced_accuracy": bal, "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
            "score": (acc + bal) / 2, "n": int(len(y))}


def eval_report(y: np.ndarray, probs: np.ndarray, paths: list, model: str = "",
                model_sha256: str = "", dataset: str = "") -> dict:
    """Same layout as `earmark eval --json` (labels, per_class, confusion rows=truth)."""
    pred = probs.argmax(1)
    m = metrics(y, pred)
    conf = np.zeros((K, K), dtype=int)
    np.add.at(conf, (y, pred), 1)
    per = []
    for k, lab in enumerate(LABELS):
        tp, npred, sup = int(conf[k, k]), int(conf[:, k].sum()), int(conf[k].sum())
        p = tp / npred if npred else 0.0
        r = tp / sup if sup else 0.0
        per.append({"label": lab, "precision": p, "recall": r,
                    "f1": 2 * p * r / (p + r) if p + r else 0.0, "support": sup})
    return {"model": model, "model_sha256": model_sha256, "dataset": dataset,
            "labels": LABELS, "n": int(len(y)), "accuracy": m["accuracy"],
            "balanced_accuracy": m["balanced_accuracy"], "macro_f1": m["macro_f1"],
            "per_class": per, "confusion": conf.tolist(),
            "files": [{"path": pth, "truth": LABELS[t], "predicted": LABELS[q],
                       "confidence": float(pr[q])} for pth, t, q, pr in zip(paths, y, pred, probs)],
            "errors": []}


def combine(patch_probs: np.ndarray, owner: np.ndarray, n: int, how: str) -> np.ndarray:
    """Clip probabilities from patch probabilities, as the runtime's model/combine.rs does.

    `mean_log_probs` of softmax outputs equals the softmax of the mean logit (the per-patch
    log-sum-exp is the same for every class), so a clip-mean linear head ships exactly as a
    per-patch head combined this way."""
    out = np.zeros((n, patch_probs.shape[1]), dtype=np.float64)
    cnt = np.bincount(owner, minlength=n).astype(np.float64)[:, None]
    if how == "mean_probs":
        np.add.at(out, owner, patch_probs)
        return out / cnt
    np.add.at(out, owner, np.log(np.clip(patch_probs, 1e-12, 1.0)))
    out = out / cnt
    out = np.exp(out - out.max(1, keepdims=True))
    return out / out.sum(1, keepdims=True)
