"""Compare this machine's pool with the one the 16-window test's kept folds saw.

    models/train/.venv/bin/python models/train/compare_pool_record.py [FEATURES_DIR]

FEATURES_DIR defaults to target/train/pool_features16/pool16 (`earmark features --windows 16`).
Prints the tracks whose version, audio or log-mel differ from models/train/pool_w16_record.tsv,
and those on one side only: a kept fold counts only under the key of the others, and the key
hashes the examples' log-mels, so any line printed here means the kept folds will be retrained.
"""
import csv
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def record_rows(path):
    with open(path) as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        return {r["file"]: r for r in rows}


def main():
    feats = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/train/pool_features16/pool16")
    audio = os.path.join(ROOT, "work-data/pool/audio")
    with open(os.path.join(ROOT, "work-data/pool/manifest.tsv")) as f:
        manifest = {r["file"]: r for r in csv.DictReader(f, delimiter="\t")}
    kept = record_rows(os.path.join(HERE, "pool_w16_record.tsv"))
    here = {}
    with open(os.path.join(feats, "index.json")) as f:
        for e in json.load(f):
            rel = os.path.relpath(e["path"], audio)
            with open(os.path.join(feats, e["file"]), "rb") as mel:
                here[rel] = (manifest.get(rel, {}), hashlib.sha256(mel.read()).hexdigest())
    differ = 0
    for rel in sorted(set(kept) | set(here)):
        if rel not in here or rel not in kept:
            print(f"{'only in the record' if rel in kept else 'only here'}: {rel}")
            differ += 1
            continue
        m, mel = here[rel]
        k = kept[rel]
        what = [name for name, a, b in (("version", m.get("version"), k["version"]),
                                         ("audio", m.get("sha256"), k["audio_sha256"]),
                                         ("log-mel", mel, k["mel_sha256"])) if a != b]
        if what:
            print(f"{', '.join(what)} differ: {rel}")
            differ += 1
    print(f"{len(here)} tracks here, {len(kept)} in the record, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
