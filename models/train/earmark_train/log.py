"""One progress logger for every script: seconds since the process started, flushed at once."""

import time

T0 = time.time()


def log(msg: str) -> None:
    print(f"[{time.time() - T0:7.1f}s] {msg}", flush=True)


def write_summary(path: str, summary: dict) -> None:
    """Write a stage's JSON summary (what the cards read) and say where."""
    import json

    with open(path, "w") as f:
        json.dump(summary, f, indent=1)
    log(f"wrote {path}")
