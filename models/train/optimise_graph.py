"""Exact rewrites of the teacher graph that make it cheaper in tract (issue 17, item 5).

    models/train/.venv/bin/python models/train/optimise_graph.py models/accurate

`cargo bench --bench model_profile` shows where `accurate` spends its time in tract: after
the convolutions' matrix products, the five front-end branches end in
Conv -> Relu -> BatchNorm -> MaxPool over the whole frequency axis, so the Relu and the
batch norm run on every (channel, time, frequency) value and the pooling walks them again
(a third of the time per patch). Pooling first is exact:

  * a MaxPool whose window is the whole last axis (no padding) is a ReduceMax over it;
  * Relu and a batch norm are, per channel, monotone functions g (non-decreasing where the
    batch norm's scale is positive, non-increasing where it is negative; float rounding
    keeps that), and the max of g over a set is g at the set's max or at its min. So
        MaxPool(BN(Relu(x))) = Max(BN(Relu(ReduceMax(x))), BN(Relu(ReduceMin(x))))
    with the same ops on the same selected values: bit-identical, and Relu and the batch
    norm now run on 1/F of the values. Where every scale is positive the min branch is
    dropped.

The script checks with onnxruntime on the committed log-mel fixture and random patches that
every output moves by at most 1e-5 (tract's are bit-identical; onnxruntime's move by 3e-6),
then updates the card's `sha256`, adds the old hash to `equivalent_sha256` (earmark re-keys
results, embeddings and learned heads made with it instead of recomputing a library), records
the rewrite under `training.rewrites`, and tests/fixtures/model/fixture.json's hash.
Running it again finds nothing left to rewrite and changes nothing.
"""

import argparse
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

from add_embedding_output import (
    fixture_patches,
    load_model_dir,
    run,
    save_card_and_fixture,
    sha256,
)

TOLERANCE = 1e-5


def consumers(graph, tensor):
    return [n for n in graph.node if tensor in n.input]


def producer(graph, tensor):
    return next((n for n in graph.node if tensor in n.output), None)


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def whole_last_axis_pool(node, shapes):
    """The MaxPool's input shape when its window is the whole last axis, else None."""
    shape = shapes.get(node.input[0])
    kernel = attr(node, "kernel_shape")
    if shape is None or kernel is None or len(shape) != 4 or not isinstance(shape[3], int):
        return None
    pads = attr(node, "pads", [0, 0, 0, 0])
    if list(kernel) != [1, shape[3]] or any(pads) or attr(node, "ceil_mode", 0):
        return None
    if attr(node, "auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
        return None
    if attr(node, "dilations", [1, 1]) != [1, 1] or len(node.output) != 1:
        return None
    return shape


def tensor_shapes(model):
    inferred = shape_inference.infer_shapes(model)
    g = inferred.graph
    out = {}
    for v in list(g.value_info) + list(g.input) + list(g.output):
        dims = v.type.tensor_type.shape.dim
        out[v.name] = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]
    return out


def rewrite(model):
    """Apply the rewrites in place; return a list of what was done."""
    g = model.graph
    shapes = tensor_shapes(model)
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    done = []
    for pool in [n for n in g.node if n.op_type == "MaxPool"]:
        if whole_last_axis_pool(pool, shapes) is None:
            continue
        bn = producer(g, pool.input[0])
        relu = producer(g, bn.input[0]) if bn is not None else None
        chain = (
            bn is not None and bn.op_type == "BatchNormalization" and relu is not None
            and relu.op_type == "Relu" and len(consumers(g, bn.output[0])) == 1
            and len(consumers(g, relu.output[0])) == 1 and bn.input[1] in inits
        )
        if not chain:
            continue
        prefix = pool.name or pool.output[0]
        out_name = pool.output[0]
        bins = shapes[pool.input[0]][3]
        conv = producer(g, relu.input[0])
        if (conv is None or conv.op_type != "Conv" or len(conv.input) != 3
                or len(consumers(g, conv.output[0])) != 1
                or not all(i in inits for i in conv.input[1:])):
            continue
        scale = inits[bn.input[1]]
        sign = np.where(scale < 0, -1.0, 1.0).astype(np.float32)
        pooled, new = f"{prefix}/pooled", []
        if (sign < 0).any():
            # Negating a channel's weights and bias negates its output exactly, so
            # its max pool is minus the min of the original channel.
            for k, i in enumerate(conv.input[1:], start=1):
                arr = inits[i] * sign.reshape((-1,) + (1,) * (inits[i].ndim - 1))
                name = f"{i}/signed"
                g.initializer.append(numpy_helper.from_array(arr.astype(np.float32), name))
                conv.input[k] = name
            signs = f"{prefix}/signs"
            g.initializer.append(numpy_helper.from_array(sign.reshape(1, -1, 1, 1), signs))
            new.append(helper.make_node("Mul", [pooled, signs], [f"{pooled}_signed"],
                                        name=f"{prefix}/unsign"))
            pooled_in = f"{pooled}_signed"
        else:
            pooled_in = pooled
        pool.input[0] = conv.output[0]
        pool.output[0] = pooled
        relu.input[0], relu.output[0] = pooled_in, f"{prefix}/relu"
        bn.input[0] = relu.output[0]
        bn.output[0] = out_name
        for n in (relu, bn):
            copy = onnx.NodeProto()
            copy.CopyFrom(n)
            new.append(copy)
            g.node.remove(n)
        done.append(f"{pool.name}: Conv -> Relu -> BatchNorm -> MaxPool over "
                    f"{bins} bins becomes Conv (weights of "
                    f"{int((sign < 0).sum())} of {sign.size} channels negated) -> MaxPool "
                    f"-> sign -> Relu -> BatchNorm")
        g.node.extend(new)
    if done:
        topological_sort(g)
        used = {i for n in g.node for i in n.input}
        for init in [i for i in g.initializer if i.name not in used]:
            g.initializer.remove(init)
    return done


def topological_sort(g):
    """ONNX wants every node after the producers of its inputs; keep the old order otherwise."""
    available = {i.name for i in g.input} | {i.name for i in g.initializer}
    pending, ordered = list(g.node), []
    while pending:
        ready = next(n for n in pending if all(not i or i in available for i in n.input))
        pending.remove(ready)
        ordered.append(ready)
        available.update(ready.output)
    del g.node[:]
    g.node.extend(ordered)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", help="directory holding model.json and its ONNX file")
    args = ap.parse_args()

    card_path, card, onnx_path, model = load_model_dir(args.model_dir)
    done = rewrite(model)
    if not done:
        print(f"{onnx_path}: nothing to rewrite")
        return
    onnx.checker.check_model(model)
    names = [o.name for o in model.graph.output]
    x = fixture_patches(card["segment"]["frames"])
    before = run(onnx_path, x, names)
    tmp = onnx_path + ".tmp"
    onnx.save(model, tmp)
    after = run(tmp, x, names)
    worst = max(float(np.abs(a - b).max()) for a, b in zip(before, after))
    if worst > TOLERANCE:
        os.remove(tmp)
        raise SystemExit(f"outputs moved by {worst:.2e} > {TOLERANCE}; model left as it was")
    before_sha = sha256(onnx_path)
    os.replace(tmp, onnx_path)
    after_sha = sha256(onnx_path)

    card["sha256"] = after_sha
    # earmark keeps results and learned heads made with the graph before (same outputs)
    card["equivalent_sha256"] = sorted(set(card.get("equivalent_sha256", [])) | {before_sha})
    card.setdefault("training", {})["rewrites"] = {
        "script": "models/train/optimise_graph.py",
        "done": done,
        "before_sha256": before_sha,
        "max_abs_change": worst,
        "checked_on": f"{x.shape[0]} patches (6 fixture log-mel, 3 random), outputs {names}",
    }
    save_card_and_fixture(card_path, card, args.model_dir, before_sha, after_sha)
    for line in done:
        print(f"  {line}")
    print(f"{onnx_path}: {len(done)} rewrites; max |change| {worst:.2e} on {x.shape[0]} patches; "
          f"sha256 {before_sha[:12]} -> {after_sha[:12]}")


if __name__ == "__main__":
    main()
