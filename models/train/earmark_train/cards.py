"""Model-card JSON (`model.json`, read by earmark's model/card.rs) written one way everywhere."""

import json
import os

from .cache import sha256_file
from .data import LABELS, N_FRAMES, N_MELS


def runtime_card(name: str, onnx_path: str, params: dict, combine: str, training: dict,
                 embedding_dim: int | None = None) -> dict:
    """The fields the runtime reads, for the ONNX file at `onnx_path` (card beside it)."""
    card = {"name": name, "file": os.path.basename(onnx_path), "sha256": sha256_file(onnx_path),
            "labels": LABELS, "features": params,
            "input": {"name": "mel", "frames": N_FRAMES, "n_mels": N_MELS},
            "output": {"name": "probs"},
            "segment": {"frames": N_FRAMES, "hop_frames": N_FRAMES},
            "combine": combine, "training": training}
    if embedding_dim:
        card["embedding"] = {"name": "embedding", "dim": int(embedding_dim)}
    return card


def write_card_beside(onnx_path: str, name: str, params: dict, training: dict) -> str:
    """`<stem>.json` beside a model the recipe evaluates with `earmark eval --model FILE.onnx`.

    Without it earmark falls back to the default model's card, whose outputs (`probs` and
    `embedding`) a student exported with `probs` alone does not have."""
    import onnx

    outs = {o.name: o for o in onnx.load(onnx_path, load_external_data=False).graph.output}
    dim = None
    if "embedding" in outs:
        dim = outs["embedding"].type.tensor_type.shape.dim[-1].dim_value or None
    path = os.path.splitext(onnx_path)[0] + ".json"
    write_json(path, runtime_card(name, onnx_path, params, "mean_probs", training, dim))
    return path


def write_json(path: str, obj, indent: int = 2) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=indent, default=float)
        f.write("\n")
    os.replace(tmp, path)
