"""How closely does a student follow its teacher? Top-1 agreement per patch and per clip.

    models/train/.venv/bin/python models/train/fidelity.py [--work target/train]
                                  [--student target/train/student-trainonly.onnx]

Teacher: the train-only musicnn model (WORK/genre-trainonly.onnx), its patch probabilities
computed from the musicnn embeddings run.sh cached (WORK/emb_{train,valid}.npz) and the head
weights in the ONNX graph. Student: onnxruntime on the same patches (WORK/features/<set>).
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from earmark_train.data import Clips  # noqa: E402
from earmark_train.metrics import combine  # noqa: E402
from earmark_train.onnx_utils import session  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "train"))
    ap.add_argument("--student", default=None)
    args = ap.parse_args()
    W = args.work
    student = args.student or os.path.join(W, "student-trainonly.onnx")
    init = {t.name: numpy_helper.to_array(t) for t in onnx.load(os.path.join(W, "genre-trainonly.onnx")).graph.initializer}
    Wh, bh = init["head_W0"], init["head_b0"]
    sess = session(student, 2)
    for name in ("train", "valid"):
        z = np.load(os.path.join(W, f"emb_{name}.npz"))
        x = np.concatenate([z["penultimate"], z["taggram"]], 1)[:, :Wh.shape[0]]
        logit = x @ Wh + bh
        logit -= logit.max(1, keepdims=True)
        pt = np.exp(logit) / np.exp(logit).sum(1, keepdims=True)
        c = Clips(os.path.join(W, "features", name), name)
        P, ow = c.patches()
        ps = np.concatenate([sess.run(["probs"], {"mel": P[i:i + 256]})[0] for i in range(0, len(P), 256)])
        cs, ct = combine(ps, ow, len(c), "mean_probs"), combine(pt, ow, len(c), "mean_probs")
        print(f"{name}: top-1 agreement with the teacher {(ps.argmax(1) == pt.argmax(1)).mean():.3f} per patch, "
              f"{(cs.argmax(1) == ct.argmax(1)).mean():.3f} per clip; clip accuracy student "
              f"{(cs.argmax(1) == c.y).mean():.3f}, teacher {(ct.argmax(1) == c.y).mean():.3f}")


if __name__ == "__main__":
    main()
