"""earmark genre model: select on train -> valid, refit on train + valid (+ excerpts), export ONNX.

Consumes only features written by `earmark features` (never computes features itself):

    FEATURES/{train,valid,ex_train,ex_valid}/{params.json,index.json,errors.json,mels/*.npy}

Usually run through `bash models/train/run.sh`; see models/MODEL_CARD.md.

Routes tried (every one scored as the runtime applies it: per 187-frame patch, then
per-clip combination of the patch probabilities):
  * musicnn MSD backbone (`penultimate`, optionally + 50 `taggram` outputs) + a head:
      - logistic regression on the clip-mean embedding (the measured floor in the notes),
      - patch-level logistic regression (grid: C, features, excerpts, combination),
      - patch-level small MLP (Keras),
  * from-scratch log-mel CNN (Keras; random crops + gain augmentation).
Selection score on valid full clips: (accuracy + balanced accuracy) / 2.
"""

import argparse
import hashlib
import json
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from earmark_train.cache import sha256_file  # noqa: E402,F401
from earmark_train.cards import runtime_card, write_json  # noqa: E402
from earmark_train.data import (  # noqa: E402,F401  (re-exported for distill*.py / pool.py)
    LABELS,
    N_FRAMES,
    N_MELS,
    SETS,
    Clips,
    K,
    pad_patch,
)
from earmark_train.embed import embed  # noqa: E402
from earmark_train.heads import LinearHead, MLPHead, sample_weights  # noqa: E402,F401
from earmark_train.log import log  # noqa: E402
from earmark_train.metrics import combine, eval_report, metrics  # noqa: E402,F401
from earmark_train.onnx_utils import prune_to_outputs, session  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# cv.py names features by backbone; this export carries MSD_musicnn only
CV_FEATS = {"msd_pen": "pen", "msd_pen+msd_tag": "pen+tag"}
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


# --------------------------------------------------------------------------- musicnn embeddings

def bench_backbone(backbone: str, patches: np.ndarray) -> dict:
    """ms per 187-frame patch of the musicnn backbone in onnxruntime, 1 and 2 threads, batch 10."""
    out = {}
    x = patches[:10]
    for th in (1, 2):
        sess = session(backbone, th)
        sess.run(["penultimate"], {"mel": x})
        best = 1e9
        for _ in range(3):
            t = time.perf_counter()
            sess.run(["penultimate"], {"mel": x})
            best = min(best, time.perf_counter() - t)
        out[f"threads_{th}"] = round(1000 * best / len(x), 1)
    return out


class Emb:
    """Patches, owners and musicnn embeddings for one set of clips."""

    def __init__(self, clips: Clips, backbone: str, threads: int, cache_dir: str):
        self.clips = clips
        self.patches, self.owner = clips.patches()
        t = time.time()
        e = embed(backbone, self.patches, threads, os.path.join(cache_dir, f"emb_msd_{clips.name}.npz"))
        self.pen, self.tag = e["penultimate"], e["taggram"]
        self.sec_per_patch = (time.time() - t) / max(1, len(self.patches))
        self.y = clips.y
        self.n = len(clips)

    def feats(self, kind: str) -> np.ndarray:
        return self.pen if kind == "pen" else np.concatenate([self.pen, self.tag], 1)


def fit_head(cfg: dict, sets: list, seed: int):
    """Fit a head (cfg) on the concatenation of Emb sets [(emb, is_excerpt)]."""
    X, y, w = [], [], []
    for emb, is_ex in sets:
        if is_ex and cfg["excerpt_weight"] <= 0:
            continue
        X.append(emb.feats(cfg["feats"]))
        y.append((emb.y, emb.owner, np.full(emb.n, is_ex)))
    # assemble with global clip ids
    owners, ys, isex, off = [], [], [], 0
    for (yc, ow, ex) in y:
        owners.append(ow + off)
        ys.append(yc)
        isex.append(ex)
        off += len(yc)
    X = np.concatenate(X)
    y_clip, owner, is_ex = np.concatenate(ys), np.concatenate(owners), np.concatenate(isex)
    if cfg["level"] == "clip_mean":
        n = len(y_clip)
        Xc = np.zeros((n, X.shape[1]))
        np.add.at(Xc, owner, X)
        Xc /= np.bincount(owner, minlength=n)[:, None]
        X, owner = Xc, np.arange(n)
    w, keep = sample_weights(y_clip, owner, is_ex, cfg["excerpt_weight"])
    yp = y_clip[owner]
    if cfg["head"] == "lr":
        head = LinearHead(cfg["C"], seed)
    else:
        head = MLPHead(cfg["hidden"], cfg["l2"], cfg["dropout"], cfg["epochs"], seed)
    return head.fit(X[keep], yp[keep], w[keep])


def eval_head(head, cfg, emb: "Emb") -> dict:
    pp = head.predict_proba(emb.feats(cfg["feats"]))
    probs = combine(pp, emb.owner, emb.n, cfg["combine"])
    m = metrics(emb.y, probs.argmax(1))
    m["_probs"] = probs
    return m


# --------------------------------------------------------------------------- ONNX head export

def export_head(backbone: str, head, cfg: dict, path: str) -> None:
    """Append the head to the musicnn graph: mel [batch,187,96] -> probs [batch,10]."""
    g_model = onnx.load(backbone)
    g = g_model.graph
    feat = "penultimate"
    new_nodes, inits = [], []
    if cfg["feats"] == "pen+tag":
        new_nodes.append(helper.make_node("Concat", ["penultimate", "taggram"], ["head_in"],
                                          axis=1, name="head_concat"))
        feat = "head_in"
    x = feat
    for i, (W, b, act) in enumerate(head.layers()):
        inits += [numpy_helper.from_array(W.astype(np.float32), f"head_W{i}"),
                  numpy_helper.from_array(b.astype(np.float32), f"head_b{i}")]
        new_nodes.append(helper.make_node("MatMul", [x, f"head_W{i}"], [f"head_mm{i}"],
                                          name=f"head_matmul{i}"))
        new_nodes.append(helper.make_node("Add", [f"head_mm{i}", f"head_b{i}"], [f"head_z{i}"],
                                          name=f"head_add{i}"))
        x = f"head_z{i}"
        if act:
            new_nodes.append(helper.make_node(act, [x], [f"head_a{i}"], name=f"head_act{i}"))
            x = f"head_a{i}"
    new_nodes.append(helper.make_node("Softmax", [x], ["probs"], axis=1, name="head_softmax"))
    g.node.extend(new_nodes)
    g.initializer.extend(inits)
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", K]))
    prune_to_outputs(g)
    g_model.producer_name = "earmark/models/train/train.py"
    del g_model.metadata_props[:]
    g_model.metadata_props.extend([
        onnx.StringStringEntryProto(key="labels", value=json.dumps(LABELS)),
        onnx.StringStringEntryProto(key="head", value=json.dumps(cfg, sort_keys=True)),
    ])
    onnx.checker.check_model(g_model, full_check=True)
    onnx.save_model(g_model, path, save_as_external_data=False)


def check_export(path: str, head, cfg, emb: "Emb", threads: int) -> float:
    sess = session(path, threads)
    idx = np.linspace(0, len(emb.patches) - 1, 12).astype(int)
    p_onnx = sess.run(["probs"], {"mel": emb.patches[idx]})[0]
    if head is None:
        return 0.0
    p_py = head.predict_proba(emb.feats(cfg["feats"])[idx])
    return float(np.abs(p_onnx - p_py).max())


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", default=os.path.join(ROOT, "target", "train", "features"),
                    help="directory holding train/ valid/ ex_train/ ex_valid/ from `earmark features`")
    ap.add_argument("--backbone", default=os.path.join(ROOT, "target", "train", "musicnn_msd.onnx"))
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "train"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "accurate", "genre.onnx"))
    ap.add_argument("--data-root", default=None, help="GTZAN root (for relative paths in the card)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--cv", default=os.path.join(ROOT, "target", "train", "cv_results.json"),
                    help="cv.py's results: the selected head configuration")
    args = ap.parse_args()

    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    np.random.seed(args.seed)
    os.makedirs(args.work, exist_ok=True)

    clips = {}
    for s in SETS:
        d = os.path.join(args.features, s)
        if os.path.exists(os.path.join(d, "index.json")):
            clips[s] = Clips(d, s)
            log(f"{s}: {len(clips[s])} clips, {len(clips[s].errors)} feature errors, "
                f"per label {np.bincount(clips[s].y, minlength=K).tolist()}")
    for s in ("train", "valid"):
        if s not in clips or len(clips[s]) == 0:
            print(f"missing features for {s} under {args.features}", file=sys.stderr)
            return 2
    params = clips["train"].params
    for s, c in clips.items():
        if c.params != params:
            print(f"feature params differ between train and {s}", file=sys.stderr)
            return 2

    emb = {s: Emb(c, args.backbone, args.threads, args.work) for s, c in clips.items()}
    for s, e in emb.items():
        log(f"embedded {s}: {len(e.patches)} patches ({e.sec_per_patch * 1000:.0f} ms/patch, "
            f"0 if cached)")
    has_ex = "ex_train" in emb
    tr_sets = [(emb["train"], False)] + ([(emb["ex_train"], True)] if has_ex else [])

    # ---------------- selection on train -> valid
    results = []

    def run(cfg, note=""):
        head = fit_head(cfg, tr_sets, args.seed)
        mv = eval_head(head, cfg, emb["valid"])
        mx = eval_head(head, cfg, emb["ex_valid"]) if "ex_valid" in emb else None
        row = {"cfg": cfg, "valid": {k: v for k, v in mv.items() if not k.startswith("_")},
               "ex_valid": {k: v for k, v in mx.items() if not k.startswith("_")} if mx else None,
               "note": note}
        results.append(row)
        short = {k: v for k, v in cfg.items() if k not in ("route", "head", "level")}
        log(f"  {cfg['route']} {json.dumps(short, sort_keys=True)}: valid acc {mv['accuracy']:.3f} "
            f"bal {mv['balanced_accuracy']:.3f}"
            + (f" | ex_valid acc {mx['accuracy']:.3f}" if mx else ""))
        return row

    # The configuration comes from cross-validation (cv.py); valid is scored for the record.
    with open(args.cv) as f:
        cv = json.load(f)
    cfg = dict(cv["selected"]["cfg"])
    if cfg["feats"] not in CV_FEATS:
        print(f"the CV-selected features {cfg['feats']} need a backbone this export does not carry",
              file=sys.stderr)
        return 2
    cfg["feats"] = CV_FEATS[cfg["feats"]]
    best = run(cfg, note="selected by grouped, repeated k-fold CV (cv.py)")
    log(f"selected by CV: {json.dumps(cfg, sort_keys=True)} valid {best['valid']}")

    # ---------------- train-only export (for `earmark eval` on valid) and refit on train+valid(+excerpts)
    trainonly = os.path.join(args.work, "genre-trainonly.onnx")
    all_sets = tr_sets + [(emb["valid"], False)] + ([(emb["ex_valid"], True)] if "ex_valid" in emb else [])
    head_tr = fit_head(cfg, tr_sets, args.seed)
    export_head(args.backbone, head_tr, cfg, trainonly)
    d_tr = check_export(trainonly, head_tr, cfg, emb["valid"], args.threads)
    head_all = fit_head(cfg, all_sets, args.seed)
    export_head(args.backbone, head_all, cfg, args.out)
    diff = check_export(args.out, head_all, cfg, emb["valid"], args.threads)
    log(f"exported {trainonly} (max|onnx-python| {d_tr:.2g}) and {args.out} "
        f"(max|onnx-python| {diff:.2g}, {os.path.getsize(args.out) / 1e6:.2f} MB)")
    if max(d_tr, diff) > 1e-4:
        print("ONNX export does not match the Python head", file=sys.stderr)
        return 1

    # The train-only model's card (`earmark eval --model X.onnx` reads X.json beside it).
    write_json(os.path.splitext(trainonly)[0] + ".json", runtime_card(
        "earmark-genre-trainonly", trainonly, params, cfg["combine"],
        {"trained_on": "train(+excerpts/train)", "config": cfg}))

    # ---------------- the train-only model's valid report, in `earmark eval --json` layout
    vprobs = eval_head(head_tr, cfg, emb["valid"])["_probs"]
    py_eval = eval_report(emb["valid"].y, vprobs, clips["valid"].paths, model=trainonly,
                          dataset="valid (train.py: onnxruntime embeddings, python head)")
    write_json(os.path.join(args.work, "valid_python_eval.json"), py_eval, indent=1)

    # ---------------- accuracy vs patches per clip (train-only model, valid)
    tradeoff = []
    pp = head_tr.predict_proba(emb["valid"].feats(cfg["feats"]))
    ow = emb["valid"].owner
    rank = np.zeros(len(ow), dtype=int)
    for i in range(emb["valid"].n):
        idx = np.where(ow == i)[0]
        rank[idx] = np.arange(len(idx))
    npatch = np.bincount(ow)
    for k in (1, 2, 3, 5, 10):
        # k patches spread evenly over the clip
        sel = np.zeros(len(ow), dtype=bool)
        for i in range(emb["valid"].n):
            idx = np.where(ow == i)[0]
            take = idx[np.unique(np.linspace(0, len(idx) - 1, min(k, len(idx))).round().astype(int))]
            sel[take] = True
        probs = combine(pp[sel], ow[sel], emb["valid"].n, cfg["combine"])
        m = metrics(emb["valid"].y, probs.argmax(1))
        tradeoff.append({"patches_per_clip": k, "accuracy": round(m["accuracy"], 4),
                         "balanced_accuracy": round(m["balanced_accuracy"], 4)})
    log(f"patches-per-clip trade-off (valid): {tradeoff}; clips have {int(npatch.max())} patches max")

    # ---------------- hand over to run.sh / the card writer
    data_root = args.data_root
    files = []
    for s in ("train", "valid", "ex_train", "ex_valid"):
        if s in clips:
            for p in clips[s].paths:
                rel = os.path.relpath(os.path.realpath(p), os.path.realpath(data_root)) if data_root else p
                files.append((rel, os.path.getsize(p)))
    h = hashlib.sha256()
    for rel, size in sorted(files):
        h.update(f"{rel}\t{size}\n".encode())

    def cand_rows():
        rows = []
        routes = {}
        for r in results:
            routes.setdefault(r["cfg"]["route"], []).append(r)
        for route, rs in routes.items():
            r = max(rs, key=lambda r: r["valid"]["score"])
            rows.append({"name": route, "valid_accuracy": round(r["valid"]["accuracy"], 4),
                         "valid_balanced_accuracy": round(r["valid"]["balanced_accuracy"], 4),
                         "valid_macro_f1": round(r["valid"]["macro_f1"], 4),
                         "ex_valid_accuracy": round(r["ex_valid"]["accuracy"], 4) if r["ex_valid"] else None,
                         "configs_tried": len(rs), "best_config": r["cfg"],
                         "selected": r is best})
        return rows

    summary = {
        "selected": cfg,
        "selected_valid": best["valid"],
        "selected_ex_valid": best["ex_valid"],
        "candidates": cand_rows(),
        "all_results": results,
        "tradeoff": tradeoff,
        "backbone_ms_per_patch_onnxruntime": bench_backbone(args.backbone, emb["valid"].patches),
        "label_counts": {s: np.bincount(c.y, minlength=K).tolist() for s, c in clips.items()},
        "params": params,
        "n_files": {s: len(c) for s, c in clips.items()},
        "feature_errors": {s: c.errors for s, c in clips.items() if c.errors},
        "train_files_sha256": h.hexdigest(),
        "seed": args.seed,
        "onnx_vs_python_max_abs_diff": diff,
        "trainonly": trainonly,
        "out": args.out,
    }
    with open(os.path.join(args.work, "train_summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=float)
    log(f"wrote {os.path.join(args.work, 'train_summary.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
