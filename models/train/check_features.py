"""Compare `earmark features` output against librosa on a sample of its files.

    models/train/.venv/bin/python models/train/check_features.py target/train/features/valid [--n 8]

Decoding and resampling differ (symphonia + rubato vs libsndfile + soxr), so the
log-mels cannot match exactly; this reports how far apart they are, and how far apart
the musicnn embeddings and taggram are, when a backbone ONNX is given.
The exact-arithmetic check (same PCM in, same log-mel out) is the Rust test on
tests/fixtures/mel.
"""

import argparse
import json
import os

import librosa
import numpy as np


def librosa_logmel(path, p):
    y, _ = librosa.load(path, sr=p.get("sample_rate", 16000), mono=True, dtype=np.float32)
    m = librosa.feature.melspectrogram(
        y=y, sr=p.get("sample_rate", 16000), n_fft=p.get("n_fft", 512),
        hop_length=p.get("hop_length", 256), win_length=p.get("win_length", 512),
        n_mels=p.get("n_mels", 96), fmin=p.get("fmin", 0.0), fmax=p.get("fmax", 8000.0),
        dtype=np.float32)
    return np.log10(np.float32(10000) * m + np.float32(1)).T.astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--backbone", default=None)
    args = ap.parse_args()
    index = json.load(open(os.path.join(args.dir, "index.json")))
    params = json.load(open(os.path.join(args.dir, "params.json")))
    sess = None
    if args.backbone:
        from earmark_train.onnx_utils import session
        sess = session(args.backbone)
    pick = index[:: max(1, len(index) // args.n)][: args.n]
    for it in pick:
        a = np.load(os.path.join(args.dir, it["file"]))
        b = librosa_logmel(it["path"], params)
        n = min(len(a), len(b))
        d = np.abs(a[:n] - b[:n])
        line = (f"{os.path.basename(it['path']):22s} frames earmark {len(a)} librosa {len(b)}  "
                f"|dlogmel| mean {d.mean():.4f} p99 {np.quantile(d, 0.99):.4f} max {d.max():.3f}")
        if sess is not None and n >= 187:
            pa, ta = sess.run(["penultimate", "taggram"], {"mel": a[None, :187]})
            pb, tb = sess.run(["penultimate", "taggram"], {"mel": b[None, :187]})
            cos = float((pa @ pb.T).item() / (np.linalg.norm(pa) * np.linalg.norm(pb)))
            line += f"  emb cos {cos:.4f} |dtag| max {np.abs(ta - tb).max():.3f}"
        print(line)


if __name__ == "__main__":
    main()
