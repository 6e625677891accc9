"""Give a shipped genre model a second output, `embedding` [batch, D], by graph surgery.

    models/train/.venv/bin/python models/train/add_embedding_output.py models/accurate
    models/train/.venv/bin/python models/train/add_embedding_output.py models/fast

`learn` and `similar` need the backbone's embedding from the same forward pass as the
genre probabilities. The surgery only adds an Identity node from the penultimate tensor
to a new graph output named `embedding`: no initializer, no existing node changes, so
the weights and `probs` stay bit-identical. The script checks that with onnxruntime on
the committed log-mel fixture (and random patches): `probs` before and after must be
exactly equal, and the embedding row count must equal the batch. Then it updates the
card (`model.json`): `sha256`, `embedding: {name, dim}` and `training.embedding` (how it
was made), and tests/fixtures/model/fixture.json's hash for that model.

Which tensor is the embedding:
  accurate: `penultimate`, MSD_musicnn's 200-d penultimate layer (after its batch norm),
            the input of the taggram and of the genre head.
  fast:     the student's penultimate layer (the ReLU of the dense layer before logits).
Running it again on a model that already has the output leaves the graph alone; a student that
learned the teacher's embedding (`distill.py --emb-weight`) exports it itself, and then only the
card's `embedding` entry is written.
"""

import argparse
import hashlib
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUTPUT = "embedding"
# Known penultimate tensors, tried in order; --tensor overrides.
CANDIDATES = ["penultimate", "model_1/dense/Relu:0", "model/dense/Relu:0"]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def pick_tensor(graph, wanted):
    produced = {o for n in graph.node for o in n.output}
    for name in ([wanted] if wanted else CANDIDATES):
        if name in produced:
            return name
    raise SystemExit(f"none of {wanted or CANDIDATES} is produced by the graph")


def add_output(model, tensor):
    g = model.graph
    g.node.append(helper.make_node("Identity", [tensor], [OUTPUT], name="embedding_identity"))
    batch = g.input[0].type.tensor_type.shape.dim[0]
    out = helper.make_tensor_value_info(OUTPUT, onnx.TensorProto.FLOAT, None)
    dims = out.type.tensor_type.shape.dim
    d0 = dims.add()
    d0.CopyFrom(batch)
    dims.add().dim_param = "embedding_dim"
    g.output.append(out)
    return model


def run(path, x, names):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sess.run(names, {sess.get_inputs()[0].name: x})


def fixture_patches(frames):
    mel = os.path.join(ROOT, "tests", "fixtures", "mel")
    out = []
    for clip in ("clip1", "clip2", "clip3"):
        m = np.load(os.path.join(mel, f"{clip}_logmel.npy")).astype(np.float32)
        out.append(m[:frames])
        out.append(m[64:64 + frames])
    rng = np.random.default_rng(0)
    out.extend(rng.normal(1.0, 1.0, (3,) + out[0].shape).astype(np.float32))
    return np.stack(out).astype(np.float32)


def load_model_dir(model_dir):
    """A shipped model's folder: (card path, card, ONNX path, ONNX model)."""
    card_path = os.path.join(model_dir, "model.json")
    with open(card_path) as f:
        card = json.load(f)
    onnx_path = os.path.join(model_dir, card["file"])
    return card_path, card, onnx_path, onnx.load(onnx_path)


def save_card_and_fixture(card_path, card, model_dir, before_sha, after_sha):
    """Write the card, and move tests/fixtures/model/fixture.json's hash for this model from
    the ONNX file's old hash to its new one (the parity test checks it)."""
    with open(card_path, "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    name = os.path.basename(os.path.normpath(model_dir))
    fixture = os.path.join(ROOT, "tests", "fixtures", "model", "fixture.json")
    if os.path.exists(fixture):
        with open(fixture) as f:
            info = json.load(f)
        if info.get("models", {}).get(name, {}).get("sha256") == before_sha:
            info["models"][name]["sha256"] = after_sha
            with open(fixture, "w") as f:
                json.dump(info, f, indent=2)
                f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", help="directory holding model.json and its ONNX file")
    ap.add_argument("--tensor", help="the graph tensor to expose (default: known penultimates)")
    args = ap.parse_args()

    card_path, card, onnx_path, model = load_model_dir(args.model_dir)
    if any(o.name == OUTPUT for o in model.graph.output):
        # a student distilled with --emb-weight exports the teacher's embedding itself: only
        # the card is brought up to date
        (emb,) = run(onnx_path, fixture_patches(card["segment"]["frames"]), [OUTPUT])
        want = {"name": OUTPUT, "dim": int(emb.shape[1])}
        sha = sha256(onnx_path)
        if card.get("embedding") == want and card.get("sha256") == sha:
            print(f"{onnx_path}: already has an '{OUTPUT}' output; nothing to do")
            return
        before_sha = card.get("sha256", sha)
        card["sha256"] = sha  # a new student: the card names the file it describes
        card["embedding"] = want
        card.setdefault("training", {})["embedding"] = {
            "script": "models/train/distill.py --emb-weight",
            "learned": "the teacher's embedding (MSD_musicnn's penultimate), in the teacher's units",
            "dim": want["dim"],
        }
        save_card_and_fixture(card_path, card, args.model_dir, before_sha, sha)
        print(f"{onnx_path}: has its own '{OUTPUT}' output [batch, {want['dim']}]; card updated")
        return
    before_sha = sha256(onnx_path)
    tensor = pick_tensor(model.graph, args.tensor)
    frames = card["segment"]["frames"]
    x = fixture_patches(frames)
    (probs_before,) = run(onnx_path, x, [card["output"]["name"]])

    add_output(model, tensor)
    onnx.checker.check_model(model)
    tmp = onnx_path + ".tmp"
    onnx.save(model, tmp)
    probs_after, emb = run(tmp, x, [card["output"]["name"], OUTPUT])
    if not np.array_equal(probs_before, probs_after):
        os.remove(tmp)
        raise SystemExit("probs changed after the surgery; model left as it was")
    if emb.ndim != 2 or emb.shape[0] != x.shape[0] or not np.isfinite(emb).all():
        os.remove(tmp)
        raise SystemExit(f"embedding has shape {emb.shape}; want [{x.shape[0]}, D], finite")
    os.replace(tmp, onnx_path)
    after_sha = sha256(onnx_path)
    dim = int(emb.shape[1])

    card["sha256"] = after_sha
    card["embedding"] = {"name": OUTPUT, "dim": dim}
    card.setdefault("training", {})["embedding"] = {
        "script": "models/train/add_embedding_output.py",
        "tensor": tensor,
        "dim": dim,
        "before_sha256": before_sha,
        "probs_bit_identical_on": f"{x.shape[0]} patches (6 fixture log-mel, 3 random)",
    }
    save_card_and_fixture(card_path, card, args.model_dir, before_sha, after_sha)
    print(f"{onnx_path}: '{tensor}' -> '{OUTPUT}' [batch, {dim}]; probs bit-identical on "
          f"{x.shape[0]} patches; sha256 {before_sha[:12]} -> {after_sha[:12]}")


if __name__ == "__main__":
    main()
