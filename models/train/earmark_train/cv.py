"""Grouped, repeated k-fold cross-validation of the heads over train + valid (+ excerpts).

Every labelled item (375 full clips and the 2-3-s excerpts) is predicted out of fold by a head
that never saw its group (see groups.py), once per repeat; folds are stratified by genre and
reshuffled per seed. A route's figure is the mean +- sd over repeats of the out-of-fold accuracy
on full clips (and on excerpts, reported apart); fold-level sd is reported too. Selection uses
the CV score ((accuracy + balanced accuracy) / 2 on full clips), never the 127-clip valid split,
whose +-7 points cannot tell these routes apart. Plain train -> valid is still reported.
"""

import numpy as np

from .data import K, gtzan_id
from .groups import group_ids, read_split_lists
from .heads import LinearHead, sample_weights
from .metrics import combine, metrics

FOLDS = 5


class Pool:
    """All labelled items of the feature sets, their patches' backbone features and CV groups."""

    def __init__(self, clips: dict, feats: dict, splits_dir: str, max_block: int):
        """clips: {set: Clips}; feats: {set: {feature name: [P, D]}} in Clips.patches() order."""
        self.y, self.is_ex, self.paths, self.origin, owners = [], [], [], [], []
        blocks, ids, off = {}, [], 0
        for s, c in clips.items():
            _, ow = c.patches()
            owners.append(ow + off)
            off += len(c)
            self.y.append(c.y)
            self.is_ex += [s.startswith("ex_")] * len(c)
            self.origin += [s.removeprefix("ex_")] * len(c)
            self.paths += c.paths
            for name, a in feats[s].items():
                blocks.setdefault(name, []).append(a)
            ids += [gtzan_id(p) for p in c.paths]
        self.y = np.concatenate(self.y)
        self.is_ex = np.array(self.is_ex)
        self.origin = np.array(self.origin)
        self.owner = np.concatenate(owners)
        self.n = len(self.y)
        self.base = {k: np.concatenate(v) for k, v in blocks.items()}
        self.ids, self.where = ids, read_split_lists(splits_dir)
        self.regroup(max_block)
        self._mean = {}

    def regroup(self, max_block: int) -> None:
        self.groups = np.array(group_ids(self.ids, self.where, max_block))

    def feats(self, kind: str) -> np.ndarray:
        """Patch features: names from `base` joined by '+' (e.g. msd_pen+mtt_pen)."""
        return np.concatenate([self.base[k] for k in kind.split("+")], 1)

    def clip_mean(self, kind: str) -> np.ndarray:
        if kind not in self._mean:
            X = self.feats(kind)
            m = np.zeros((self.n, X.shape[1]))
            np.add.at(m, self.owner, X)
            self._mean[kind] = m / np.bincount(self.owner, minlength=self.n)[:, None]
        return self._mean[kind]

    def folds(self, seed: int) -> list:
        from sklearn.model_selection import StratifiedGroupKFold

        skf = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
        folds = [te for _, te in skf.split(np.zeros(self.n), self.y, self.groups)]
        for te in folds:  # the point of grouping: no group on both sides of a fold
            held = set(self.groups[te].tolist())
            if any(g in held for g in np.delete(self.groups, te).tolist()):
                raise RuntimeError("a CV group sits on both sides of a fold")
        return folds


def fit(pool: Pool, cfg: dict, items: np.ndarray, seed: int, extra=None) -> LinearHead:
    """A logistic-regression head on `items` (excerpts kept only with excerpt_weight > 0), plus
    `extra` = (patch features [P, D] of cfg["feats"], clip index per patch [P], labels [n][,
    is-excerpt [n]]): pseudo-labelled clips from outside the pool (self-training), each weighing
    one clip, or augmented copies of pool items (weighing as their originals)."""
    items = np.asarray(items)
    if cfg["excerpt_weight"] <= 0:
        items = items[~pool.is_ex[items]]
    local = np.full(pool.n, -1)
    local[items] = np.arange(len(items))
    if cfg["level"] == "clip_mean":
        X, owner = pool.clip_mean(cfg["feats"])[items], np.arange(len(items))
    else:
        mask = local[pool.owner] >= 0
        X, owner = pool.feats(cfg["feats"])[mask], local[pool.owner[mask]]
    y_clip, is_ex = pool.y[items], pool.is_ex[items]
    if extra is not None and len(extra[2]):
        Xe, oe, ye, *ex_e = extra
        if cfg["level"] == "clip_mean":
            m = np.zeros((len(ye), Xe.shape[1]))
            np.add.at(m, oe, Xe)
            Xe, oe = m / np.bincount(oe, minlength=len(ye))[:, None], np.arange(len(ye))
        X = np.concatenate([X, Xe])
        owner = np.concatenate([owner, oe + len(items)])
        y_clip = np.concatenate([y_clip, ye])
        is_ex = np.concatenate([is_ex, ex_e[0] if ex_e else np.zeros(len(ye), bool)])
    w, keep = sample_weights(y_clip, owner, is_ex, cfg["excerpt_weight"])
    return LinearHead(cfg["C"], seed).fit(X[keep], y_clip[owner][keep], w[keep])


def predict(pool: Pool, cfg: dict, head: LinearHead, items: np.ndarray) -> np.ndarray:
    """Clip probabilities of `items` as the runtime computes them (per patch, then combined)."""
    items = np.asarray(items)
    if cfg["level"] == "clip_mean":
        # == per-patch softmax combined by mean_log_probs (the shipped form), see metrics.combine
        return head.predict_proba(pool.clip_mean(cfg["feats"])[items])
    local = np.full(pool.n, -1)
    local[items] = np.arange(len(items))
    mask = local[pool.owner] >= 0
    pp = head.predict_proba(pool.feats(cfg["feats"])[mask])
    return combine(pp, local[pool.owner[mask]], len(items), cfg["combine"])


def summarise(pool: Pool, oofs: list, fold_sets: list) -> dict:
    """Mean +- sd over repeats (and over folds) of the out-of-fold figures."""
    full, ex = ~pool.is_ex, pool.is_ex
    per_rep, per_fold = [], []
    for probs, folds in zip(oofs, fold_sets):
        pred = probs.argmax(1)
        mf, mx = metrics(pool.y[full], pred[full]), metrics(pool.y[ex], pred[ex])
        mv = metrics(pool.y[full & (pool.origin == "valid")], pred[full & (pool.origin == "valid")])
        per_rep.append({"accuracy": mf["accuracy"], "balanced_accuracy": mf["balanced_accuracy"],
                        "score": mf["score"], "excerpts_accuracy": mx["accuracy"],
                        "valid_clips_accuracy": mv["accuracy"]})
        for te in folds:
            te = te[full[te]]
            if len(te):
                per_fold.append(float((pred[te] == pool.y[te]).mean()))
    out = {}
    for k in per_rep[0]:
        v = np.array([r[k] for r in per_rep])
        out[k] = {"mean": round(float(v.mean()), 4), "sd": round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 4)}
    out["accuracy"]["fold_sd"] = round(float(np.std(per_fold, ddof=1)), 4)
    out["repeats"] = len(oofs)
    return out


def cross_validate(pool: Pool, cfg: dict, seeds: list, fold_cache: dict) -> dict:
    """{combine rule: (summary, out-of-fold probabilities per repeat)} of one head configuration;
    a patch-level head is fitted once per fold and scored under each rule in cfg["combines"]."""
    combines = cfg["combines"] if "combines" in cfg else [cfg["combine"]]
    oofs = {c: [] for c in combines}
    fold_sets = []
    for seed in seeds:
        folds = fold_cache.setdefault(seed, pool.folds(seed))
        probs = {c: np.zeros((pool.n, K)) for c in combines}
        for te in folds:
            tr = np.setdiff1d(np.arange(pool.n), te)
            head = fit(pool, cfg, tr, seed)
            for c in combines:
                probs[c][te] = predict(pool, {**cfg, "combine": c}, head, te)
        for c in combines:
            oofs[c].append(probs[c])
        fold_sets.append(folds)
    return {c: (summarise(pool, oofs[c], fold_sets), oofs[c]) for c in combines}


def train_to_valid(pool: Pool, cfg: dict, seed: int) -> dict:
    """The old single split, still reported: fit on train (+ its excerpts), score valid."""
    tr = np.where(pool.origin == "train")[0]
    va = np.where((pool.origin == "valid") & ~pool.is_ex)[0]
    vx = np.where((pool.origin == "valid") & pool.is_ex)[0]
    head = fit(pool, cfg, tr, seed)
    mv = metrics(pool.y[va], predict(pool, cfg, head, va).argmax(1))
    out = {"valid_accuracy": round(mv["accuracy"], 4),
           "valid_balanced_accuracy": round(mv["balanced_accuracy"], 4)}
    if len(vx):
        out["ex_valid_accuracy"] = round(metrics(pool.y[vx], predict(pool, cfg, head, vx).argmax(1))["accuracy"], 4)
    return out
