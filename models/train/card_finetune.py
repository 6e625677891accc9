"""The accurate card when a fine-tuned route ships (finetune_cv.py --export): model.json's fields
and the MODEL_CARD.md sections that describe the shipped network, rewritten in place.

    models/train/.venv/bin/python models/train/write_card.py --refresh-finetune models/accurate

Run after `finetune_cv.py --export` and `earmark eval` of WORK/genre-ft-trainonly.onnx (valid,
excerpts/valid), before add_embedding_output.py and optimise_graph.py (which then record the
embedding output and the exact rewrites of this file). The sections that do not depend on the
shipped head (the heads' CV table, the pool, the operator profile) are kept as they are.
"""

import os
import sys

from write_card import (
    LABELS,
    eval_summary,
    finetune_section,
    load,
    md_table,
    pm,
    report_tables,
    section_span,
    sha256,
    valid_figures,
)


def replace_section(text: str, head: str, new: str, before: str = "## Next steps") -> str:
    """Put `new` in place of the section starting with `head` (up to the next '## '), or, when
    there is none, just before the section starting with `before`."""
    if head in text:
        a, b = section_span(text, head)
        return text[:a] + new + text[b:]
    a = text.index(before)
    return text[:a] + new + text[a:]


def refresh_finetune(model_dir: str, work: str, data_root: str) -> int:
    X = load(os.path.join(work, "ft_export.json"))
    FT = load(os.path.join(work, "cv_finetune.json"))
    if not X or not FT or FT.get("selected") != X["route"]:
        print(f"no fine-tuned route exported from {work} (finetune_cv.py --export)", file=sys.stderr)
        return 2
    route = X["route"]
    R = FT["routes"][route]
    oof = load(os.path.join(work, f"ft_oof_{route}_clips.json"))
    oof_ex = load(os.path.join(work, f"ft_oof_{route}_excerpts.json"))
    ev = load(os.path.join(work, "eval_ft_trainonly_valid.json"))
    ev_ex = load(os.path.join(work, "eval_ft_trainonly_ex_valid.json"))
    py = load(os.path.join(work, "ft_valid_python_eval.json"))
    if not oof or not ev:
        print("missing the route's out-of-fold report or eval_ft_trainonly_valid.json", file=sys.stderr)
        return 2
    model = os.path.join(model_dir, "genre.onnx")
    root = os.path.realpath(data_root)
    for rep in (oof, oof_ex):
        for f in (rep or {}).get("files", []):
            f["path"] = os.path.join(data_root, os.path.relpath(os.path.realpath(f["path"]), root))
    agree = None
    if py and ev.get("files"):
        pyp = {os.path.realpath(f["path"]): f["predicted"] for f in py["files"]}
        here = os.path.join(work, "eval_ft_trainonly_valid.json")  # its paths are relative to it
        same = [pyp.get(os.path.realpath(os.path.join(os.path.dirname(here), f["path"]))) == f["predicted"]
                for f in ev["files"]]
        agree = f"{sum(same)}/{len(same)}"
    o, b, hp = R["oof"]["finetuned"], R["oof"]["shipped_head"], R.get("hyper", FT["protocol"]["hyper"])
    name = f"musicnn_finetune[{route}]"
    members = R.get("members", 1)
    what = (f"MSD_musicnn with its back-end{' and mid-end' if route.startswith('midend') else ''} "
            + (f"fine-tuned {members} times from different seeds, their probabilities averaged (one "
               "shared front- and mid-end)" if members > 1 else "fine-tuned") + " for genre (a 10-way layer on its penultimate; front-end frozen), trained with "
            f"augmented copies (crops, gain, EQ tilt, pitch and time stretch, mixes), {hp['epochs']} "
            "epochs" + ("; per patch, its probabilities are averaged with those of a logistic-regression "
                        "head on MSD_musicnn's own penultimate (the embedding), fitted on the same items"
                        if route.endswith("+head") else "") + "; mean_probs over patches")

    # ---------------- model.json
    mj_path = os.path.join(model_dir, "model.json")
    card = load(mj_path)
    prev = load(os.path.join(work, "previous_accurate_card.json")) or dict(card)
    card["sha256"] = sha256(model)
    # the export checked this embedding against MSD_musicnn's penultimate (finetune_cv.py), which
    # is what the previous shipped model exposed too: its learned heads and cached embeddings
    # stay valid (earmark's `embedding_equivalent_sha256`), its genre results do not
    if prev.get("training", {}).get("embedding", {}).get("tensor") == "penultimate":
        same = {prev.get("sha256"), *prev.get("equivalent_sha256", []), *prev.get("embedding_equivalent_sha256", [])}
        card["embedding_equivalent_sha256"] = sorted(s for s in same if s and s != card["sha256"])
    for k in ("embedding", "equivalent_sha256"):  # a new network: add_embedding_output.py and
        card.pop(k, None)                          # optimise_graph.py record these again
    oof["model"] = f"the recipe's network, out of fold ({name}, finetune_cv.py)"
    card["metrics"] = oof
    card["combine"] = "mean_probs"
    for c in card.get("candidates", []):
        c["selected"] = False
    card["candidates"] = [{
        "name": name, "cv": {**o, "repeats": len(R["seeds"])}, "train_valid": {"valid_accuracy": ev["accuracy"]},
        "configs_tried": 1, "selected": True, "notes": what, "config": X["selected"]}] + card.get("candidates", [])
    t = card["training"]
    for k in ("embedding", "rewrites"):
        t.pop(k, None)
    t.update({
        "selected_on": "cross-validation (finetune_cv.py): " + FT["protocol"]["rule"],
        "selected_config": X["selected"],
        "refit_on": "train+valid+excerpts(train+valid)",
        "patches_per_clip_tradeoff": X["tradeoff"],
        "valid_metrics": eval_summary(ev), "valid_confusion": ev.get("confusion"),
        "excerpts_valid_metrics": eval_summary(ev_ex), "oof_excerpts_metrics": eval_summary(oof_ex),
        "earmark_vs_python_valid_agreement": agree,
        "finetune": {k: X[k] for k in ("script", "route", "augment", "examples_trainonly", "examples_all",
                                       "train_s")},
        "notes": (f"Network selected by grouped, repeated 5-fold cross-validation over GTZAN train + valid "
                  f"(+ excerpts): {name} scored CV accuracy {pm(o['accuracy'])} against {pm(b['accuracy'])} "
                  "for the best logistic-regression head on the frozen network (same folds). 'metrics' "
                  f"holds the out-of-fold predictions of repeat 0 for all {oof['n']} full clips. "
                  "training.valid_metrics is `earmark eval` of the train-only network "
                  "(target/train/genre-ft-trainonly.onnx) on valid. The shipped genre.onnx was trained on "
                  "train+valid+excerpts, so it has seen valid; the held-out test split is measured "
                  "separately. The `embedding` output is MSD_musicnn's own penultimate (the pretrained "
                  "back-end runs beside the tuned one), as before fine-tuning.")})
    with open(mj_path, "w") as f:
        import json

        json.dump(card, f, indent=2)
        f.write("\n")

    # ---------------- MODEL_CARD.md
    md_path = os.path.join(model_dir, "MODEL_CARD.md")
    text = open(md_path).read()
    intro = (
        "# earmark genre model — model card\n\n"
        "Generated by `models/train/write_card.py` from `bash models/train/run.sh`; the machine-readable "
        "card is `model.json` beside it. This is earmark's `--model accurate`, earmark's default; "
        "`--model fast` is a small CNN distilled from the previous accurate model "
        "(`../fast/MODEL_CARD.md`), much faster and less accurate.\n\n"
        "## What it is\n\n"
        f"`genre.onnx` ({os.path.getsize(model) / 1e6:.1f} MB, opset 13) maps log-mel patches `mel` "
        "[batch, 187, 96] to `probs` [batch, 10] (softmax, label order below) and `embedding` "
        "[batch, 200] (MSD_musicnn's penultimate layer, for `learn` and `similar`). It is the "
        "pre-trained **MSD_musicnn** network (Pons & Serra 2019, trained on the Million Song "
        "Dataset's top-50 last.fm tags, ISC licence, see `../LICENSE-musicnn.md`) **fine-tuned for "
        f"genre**: {what}. The `embedding` output is MSD_musicnn's own, untouched penultimate: the "
        "pretrained back-end (a 1506 → 200 dense layer and two batch norms, 0.3 M multiply-adds) runs "
        "beside the tuned one, so `learn` and `similar` keep a general-purpose embedding.\n\n"
        f"Shipped route: {name}; chosen by the cross-validation below (section \"Fine-tuning musicnn "
        "itself\").\n\n"
        "Input features are computed by earmark itself (`earmark features`, same code as at run time): "
        "16 kHz mono, n_fft 512, hop 256 (16 ms), 96 Slaney mel bands 0–8000 Hz, "
        "`log10(10000·mel + 1)`. A track is cut into non-overlapping 187-frame (~3 s) patches; clip "
        "probabilities are the `mean_probs` of the patch probabilities. Clips shorter than one patch "
        "are repeat-padded.\n\n"
        "Labels: " + ", ".join(LABELS) + ".\n\n")
    text = intro + text[text.index("## How it was chosen"):]
    text = text.replace(" **(shipped)**", " (shipped before fine-tuning)")
    chosen_note = (
        f"**What ships now:** fine-tuning the network itself (averaged with the head where the name "
        "ends in `+head`) beat every head on the frozen network: "
        f"{name} scores CV accuracy **{pm(o['accuracy'])}**, balanced {pm(o['balanced_accuracy'])}, "
        f"against {pm(b['accuracy'])} / {pm(b['balanced_accuracy'])} for the best head above"
        + (f", learning ±{FT['protocol']['head_gain_db']:g}-dB copies too (\"Fine-tuning musicnn itself\"),"
           if FT["protocol"].get("head_gain_db") else "")
        + " on the same folds; on the excerpts it is "
        + ("about the same" if abs(o["excerpts_accuracy"]["mean"] - b["excerpts_accuracy"]["mean"]) < 0.01
           else "higher" if o["excerpts_accuracy"]["mean"] > b["excerpts_accuracy"]["mean"] else "lower")
        + f" ({o['excerpts_accuracy']['mean']:.3f} against {b['excerpts_accuracy']['mean']:.3f}). "
        "Details in \"Fine-tuning musicnn itself\".\n\n")
    marker = "## Out-of-fold figures"
    if "**What ships now:**" in text:
        a = text.index("**What ships now:**")
        text = text[:a] + chosen_note + text[text.index(marker):]
    else:
        a = text.index(marker)
        text = text[:a] + chosen_note + text[a:]

    L = []
    w = L.append
    w(f"## Out-of-fold figures (all {oof['n']} clips, repeat 0)\n")
    w(f"- clips: {oof['n']}, accuracy **{oof['accuracy']:.3f}**, balanced accuracy "
      f"**{oof['balanced_accuracy']:.3f}**, macro F1 {oof['macro_f1']:.3f} (mean over repeats "
      f"{pm(o['accuracy'])})")
    if oof_ex:
        w(f"- excerpts (2–3 s, thin genres only): {oof_ex['n']}, accuracy {oof_ex['accuracy']:.3f}")
    w("")
    w("Each clip is predicted by a network fine-tuned without its group. The evaluation view (`e` in "
      "the app) shows this report: it is the card's `metrics`.\n")
    report_tables(w, oof, LABELS)
    text = replace_section(text, "## Out-of-fold figures", "\n".join(L) + "\n")

    L = []
    w = L.append
    w("## Figures on valid (train-only model, measured by `earmark eval`)\n")
    w("The shipped network was **trained on train + valid + excerpts**, so these are the figures of the "
      "train-only network (`target/train/genre-ft-trainonly.onnx`, the same recipe on train and its "
      "excerpts), measured by `earmark eval ../shared/gtzan/valid --model "
      "target/train/genre-ft-trainonly.onnx --json`, i.e. Rust decoding + features + tract.\n")
    valid_figures(w, ev, ev_ex, agree, "finetune_cv.py (TensorFlow)")
    w("### Accuracy vs patches per clip (cost)\n")
    w("A 30-s clip has 10 patches; in tract the network takes about 40 ms per patch on one thread "
      "(`cargo bench --bench model_profile`). Using fewer patches, spread evenly over the clip "
      "(train-only network, valid, TensorFlow):\n")
    w(md_table(["patches per clip", "accuracy", "balanced accuracy"],
               [[t["patches_per_clip"], f"{t['accuracy']:.3f}", f"{t['balanced_accuracy']:.3f}"]
                for t in X["tradeoff"]]) + "\n")
    new_valid = "\n".join(L) + "\n"
    a = text.index("## Figures on valid")
    e = text.index("### Where the time goes")
    text = text[:a] + new_valid + text[e:]
    text = replace_section(text, "## Fine-tuning musicnn itself", finetune_section(work) + "\n")
    with open(md_path, "w") as f:
        f.write(text)
    print(f"refreshed {mj_path} and {md_path} for {name} (sha256 {card['sha256'][:12]}…)")
    return 0
