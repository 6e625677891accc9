"""Where the accurate model's time goes, per operator: onnxruntime's profiler on one 30-s clip.

    models/train/.venv/bin/python models/train/teacher_profile.py --model models/accurate/genre.onnx \
        --features target/train/features/valid --json target/train/teacher_profile.json

One thread, the 10 patches of a 30-s clip as one batch (as earmark runs them), a few warm-up runs,
then `--runs` profiled runs. Reports per operator type and per kernel (with its output shape) the
mean time per clip (onnxruntime fuses Conv + Relu into one kernel), and the graph's
multiply-adds per operator type (Conv / MatMul, from the ONNX shapes). This is
onnxruntime, not tract (earmark's runtime): the ranking of operators is what carries over, the
absolute times do not (tract was about 2.7x slower single-threaded; see the card).
"""

import argparse
import json
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import shape_inference

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from earmark_train.data import Clips  # noqa: E402


def shapes_of(model: onnx.ModelProto, batch: int) -> dict:
    """{tensor: shape} after fixing the batch dimension and running ONNX shape inference."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for vi in list(m.graph.input):
        d0 = vi.type.tensor_type.shape.dim[0]
        d0.Clear()
        d0.dim_value = batch
    m = shape_inference.infer_shapes(m)
    out = {}
    for vi in list(m.graph.value_info) + list(m.graph.output) + list(m.graph.input):
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in vi.type.tensor_type.shape.dim]
        out[vi.name] = dims
    for t in m.graph.initializer:
        out[t.name] = list(t.dims)
    return out


def macs(node, shp: dict) -> int:
    """Multiply-adds of a Conv or MatMul node from its shapes (0 when unknown or another op)."""
    try:
        if node.op_type == "Conv":
            w, y = shp[node.input[1]], shp[node.output[0]]
            return int(np.prod(y) * np.prod(w[1:]))
        if node.op_type in ("MatMul", "Gemm"):
            a, y = shp[node.input[0]], shp[node.output[0]]
            return int(np.prod(y) * a[-1])
    except (KeyError, ValueError):
        return 0
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--features", required=True, help="an `earmark features` folder (its first clip is used)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    import onnxruntime as ort

    patches, owner = Clips(args.features, "x").patches()
    x = patches[owner == 0][:10]
    model = onnx.load(args.model)
    shp = shapes_of(model, len(x))
    nodes = {n.name: n for n in model.graph.node}
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    feed = {model.graph.input[0].name: x}
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    for _ in range(3):
        sess.run(None, feed)
    with tempfile.TemporaryDirectory() as tmp:
        so.enable_profiling = True
        so.profile_file_prefix = os.path.join(tmp, "prof")
        sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        for _ in range(args.runs + 1):
            sess.run(None, feed)
        with open(sess.end_profiling()) as f:
            events = json.load(f)
    # onnxruntime fuses nodes (Conv + Relu, ...): its events name the kernel it ran
    per_node, kind, shape, runs = {}, {}, {}, 0
    for e in events:
        if e.get("cat") == "Session" and e.get("name") == "model_run":
            runs += 1
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and runs > 1:
            name = e["name"][: -len("_kernel_time")]
            per_node[name] = per_node.get(name, 0.0) + e["dur"] / 1000.0
            kind[name] = e.get("args", {}).get("op_name", "?")
            shape[name] = e.get("args", {}).get("output_type_shape")
    n_runs = max(1, runs - 1)
    rows, by_type = [], {}
    for name, ms in per_node.items():
        op = kind[name]
        r = {"node": name, "op": op, "ms": round(ms / n_runs, 2), "output_shape": shape[name]}
        rows.append(r)
        t = by_type.setdefault(op, {"op": op, "ms": 0.0, "nodes": 0})
        t["ms"] += r["ms"]
        t["nodes"] += 1
    graph_macs = {}
    for n in nodes.values():
        if macs(n, shp):
            graph_macs[n.op_type] = graph_macs.get(n.op_type, 0) + macs(n, shp)
    total = sum(r["ms"] for r in rows)
    types = sorted(by_type.values(), key=lambda t: -t["ms"])
    for t in types:
        t["ms"] = round(t["ms"], 2)
        t["share"] = round(t["ms"] / total, 3) if total else 0.0
    rows.sort(key=lambda r: -r["ms"])
    out = {"model": args.model, "patches": int(len(x)), "runs": n_runs, "threads": 1,
           "runtime": f"onnxruntime {ort.__version__}", "total_ms_per_clip": round(total, 1),
           "graph_macs_per_clip": graph_macs, "by_op": types, "top_nodes": rows[:15]}
    with open(args.json, "w") as f:
        json.dump(out, f, indent=1)
    print(f"{args.model}: {total:.0f} ms per 10-patch clip (onnxruntime, 1 thread)")
    for t in types[:8]:
        print(f"  {t['op']:<20} {t['ms']:8.1f} ms  {100 * t['share']:5.1f} %  {t['nodes']:3d} kernels")
    for r in rows[:8]:
        print(f"  {r['node'][:40]:<40} {r['op']:<16} {r['ms']:8.1f} ms  {r['output_shape']}")
    print("  multiply-adds per clip in the graph: "
          + ", ".join(f"{k} {v / 1e9:.2f} G" for k, v in graph_macs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
