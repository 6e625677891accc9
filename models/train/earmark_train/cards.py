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


def write_json(path: str, obj, indent: int = 2) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=indent, default=float)
        f.write("\n")
    os.replace(tmp, path)
