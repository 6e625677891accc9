"""onnxruntime sessions and the ONNX tidy-ups every exported graph gets."""

import numpy as np
import onnx


def session(model, threads: int = 1):
    """A CPU session on a path, bytes or ModelProto; intra-op threads as given, no inter-op pool."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    if isinstance(model, onnx.ModelProto):
        model = model.SerializeToString()
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def run_batched(sess, names: list, x: np.ndarray, batch: int = 32) -> list:
    """Outputs `names` for input `x`, `batch` rows per call, concatenated (float32)."""
    feed = sess.get_inputs()[0].name
    parts = [sess.run(names, {feed: x[s:s + batch]}) for s in range(0, len(x), batch)]
    return [np.concatenate([p[i] for p in parts]).astype(np.float32) for i in range(len(names))]


def keep_used_opsets(proto: onnx.ModelProto) -> None:
    """Converters declare domains (ai.onnx.ml) that no node uses: keep only those in use."""
    used = {n.domain for n in proto.graph.node}
    keep = [o for o in proto.opset_import if o.domain in ("", "ai.onnx") or o.domain in used]
    del proto.opset_import[:]
    proto.opset_import.extend(keep)


def symbolic_batch(proto: onnx.ModelProto, name: str = "batch") -> None:
    """Every graph input and output gets a symbolic first dimension `name`."""
    for vi in list(proto.graph.input) + list(proto.graph.output):
        d0 = vi.type.tensor_type.shape.dim[0]
        d0.Clear()
        d0.dim_param = name


def prune_to_outputs(graph: onnx.GraphProto) -> None:
    """Drop nodes and initializers that no longer feed a graph output."""
    needed, keep = {o.name for o in graph.output}, []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(node.input)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    used = {i for n in graph.node for i in n.input}
    live = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(live)


def keras_to_onnx(model, path: str, opset: int, names=("probs",)) -> None:
    """A Keras model mel [batch,187,96] -> probs (and more outputs), exported with tf2onnx; the
    outputs are named `names` in order, the batch dimension `batch`, unused opset domains dropped."""
    import tensorflow as tf
    import tf2onnx

    from .data import N_FRAMES, N_MELS

    spec = (tf.TensorSpec((None, N_FRAMES, N_MELS), tf.float32, name="mel"),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset)
    rename = {proto.graph.output[i].name: n for i, n in enumerate(names)}
    for node in proto.graph.node:
        node.output[:] = [rename.get(o, o) for o in node.output]
    for o in proto.graph.output:
        o.name = rename.get(o.name, o.name)
    keep_used_opsets(proto)
    symbolic_batch(proto)
    onnx.checker.check_model(proto)
    onnx.save_model(proto, path, save_as_external_data=False)
