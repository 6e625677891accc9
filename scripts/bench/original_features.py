"""The original Python project's per-clip feature path, timed.

What the notebook did per clip: librosa.load (22.05 kHz mono), MFCC, mel
spectrogram, chroma, tonnetz on the harmonic part (HPSS), each summarised by
min/max/mean over time. Prints one JSON line: clips, seconds, seconds per clip.
"""
import json
import sys
import time

import librosa
import numpy as np


def features(path):
    y, sr = librosa.load(path, sr=22050, mono=True)
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    mel = librosa.feature.melspectrogram(y=y, sr=sr)
    chroma = librosa.feature.chroma_stft(y=y, sr=sr)
    harmonic = librosa.effects.harmonic(y)
    tonnetz = librosa.feature.tonnetz(y=harmonic, sr=sr)
    parts = []
    for m in (mfcc, mel, chroma, tonnetz):
        parts += [m.min(axis=1), m.max(axis=1), m.mean(axis=1)]
    return np.concatenate(parts)


def main(paths):
    features(paths[0])  # warm-up: numba compiles on first use
    start = time.perf_counter()
    for p in paths:
        features(p)
    secs = time.perf_counter() - start
    print(json.dumps({"clips": len(paths), "seconds": secs, "per_clip": secs / len(paths)}))


if __name__ == "__main__":
    main(sys.argv[1:])
