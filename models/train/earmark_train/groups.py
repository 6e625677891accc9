"""Artist-conscious groups for cross-validation over GTZAN train + valid (+ excerpts).

GTZAN keeps one artist's clips mostly at consecutive numbers within a genre, and the fault-
filtered split lists (Kereliuk, Sturm & Larsen 2015) never put one artist in two splits. So a
group is a maximal run of consecutive numbers of one genre that the lists put in the same split
(numbers in no list, i.e. filtered-out faults, do not break a run). A run can hold several
artists and be large (hip-hop's train run holds 36 clips): with `max_block` > 0 a run is cut
into contiguous blocks of at most that many listed numbers, which keeps folds usable for thin
genres at the risk of one artist on both sides of a cut (`max_block` 0: whole runs, strictest).
Excerpts are cut from other clips of the same numbering, so they join the group of their number.
"""

import os
import re

SPLITS = ("train", "valid", "test")
LINE = re.compile(r"([a-z]+)\.(\d{5})\.")


def read_split_lists(splits_dir: str) -> dict:
    """{(genre, number): split} from splits/{train,valid,test}_filtered.txt."""
    where = {}
    for s in SPLITS:
        path = os.path.join(splits_dir, f"{s}_filtered.txt")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                m = LINE.search(os.path.basename(line.strip()))
                if m:
                    where[(m.group(1), int(m.group(2)))] = s
    if not where:  # without them every item is its own group: folds split artists, and fold caches mismatch
        raise SystemExit(f"no GTZAN split lists in {splits_dir} ({', '.join(f'{s}_filtered.txt' for s in SPLITS)}): "
                         "the artist-conscious groups need them (--splits)")
    return where


def group_ids(ids: list, where: dict, max_block: int = 10) -> list:
    """A group name per (genre, number) in `ids` (see the module doc)."""
    blocks = {}
    for genre in sorted({g for g, _ in ids}):
        listed = sorted(n for (g, n) in where if g == genre)
        run, prev_split, pos = 0, None, 0
        for n in listed:
            s = where[(genre, n)]
            if s != prev_split:
                run, pos, prev_split = run + 1, 0, s
            block = pos // max_block if max_block > 0 else 0
            blocks[(genre, n)] = f"{genre}:{s}:{run}:{block}"
            pos += 1
    # a clip whose number is in no list (should not happen here) is its own group
    return [blocks.get((g, n), f"{g}:unlisted:{n}") for g, n in ids]
