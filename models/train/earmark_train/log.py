"""One progress logger for every script: seconds since the process started, flushed at once."""

import time

T0 = time.time()


def log(msg: str) -> None:
    print(f"[{time.time() - T0:7.1f}s] {msg}", flush=True)
