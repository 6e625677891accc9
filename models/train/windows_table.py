"""How many analysis windows does a long track need? Prints the table for the model card.

    python3 models/train/windows_table.py [--earmark target/release/earmark] [--model fast]
                                          [--music ../shared/music] [--windows 2,4,6,8] [--json OUT]

For every file longer than 45 s under --music, `earmark classify --json --jobs 1 --windows N`
is compared with the whole track: N = ceil(duration / 6 s) windows of 6 s, which tile the
track end to end (every 187-frame patch of the track, up to < 6 s of overlap). Reported per N:
agreement of the top genre with the whole track, mean |delta p| over the 10 probabilities,
and wall time per track (one thread, model load included, median of --repeat runs).
Standard library only; earmark does all the audio work.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def classify(earmark, model, windows, files):
    cmd = [earmark, "classify", "--json", "--jobs", "1", "--model", model, "--windows", str(windows)]
    t = time.perf_counter()
    out = subprocess.run(cmd + files, check=True, capture_output=True, text=True)
    return json.loads(out.stdout), time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--earmark", default=os.path.join(ROOT, "target", "release", "earmark"))
    ap.add_argument("--model", default="fast")
    ap.add_argument("--music", default=os.path.join(ROOT, "..", "shared", "music"))
    ap.add_argument("--windows", default="2,4,6,8")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=None, help="also write the table as JSON here")
    args = ap.parse_args()

    files = []
    for dirpath, _, names in os.walk(args.music):
        for n in sorted(names):
            p = os.path.join(dirpath, n)
            info = subprocess.run([args.earmark, "info", "--json", p], capture_output=True, text=True)
            if info.returncode != 0:
                continue
            d = json.loads(info.stdout)
            d = d[0] if isinstance(d, list) else d
            dur = (d.get("audio") or {}).get("duration_s")  # None: length unknown, decoded whole
            if dur and dur > 45.0:
                files.append((p, dur))
    if not files:
        print(f"no files longer than 45 s under {args.music}", file=sys.stderr)
        return 2

    ref, ref_t = {}, []
    for p, dur in files:
        n = math.ceil(dur / 6.0)
        res, dt = classify(args.earmark, args.model, n, [p])
        ref[p] = (res[0]["prediction"]["probs"], len(res[0]["prediction"]["segments"]))
        ref_t.append(dt)

    rows = []
    for n in [int(x) for x in args.windows.split(",")]:
        agree, dps, times = 0, [], []
        for p, _ in files:
            ts = []
            for _ in range(args.repeat):
                res, dt = classify(args.earmark, args.model, n, [p])
                ts.append(dt)
            times.append(statistics.median(ts))
            probs = res[0]["prediction"]["probs"]
            rp = ref[p][0]
            agree += int(max(range(len(probs)), key=probs.__getitem__)
                         == max(range(len(rp)), key=rp.__getitem__))
            dps.append(sum(abs(a - b) for a, b in zip(probs, rp)) / len(rp))
        rows.append({"windows": n, "patches": 2 * n, "top1_agreement": agree / len(files),
                     "agree": f"{agree}/{len(files)}", "mean_abs_dp": statistics.mean(dps),
                     "max_track_mean_abs_dp": max(dps), "ms_per_track": 1000 * statistics.mean(times)})
    whole = {"windows": "whole track", "patches": round(statistics.mean(v[1] for v in ref.values())),
             "ms_per_track": 1000 * statistics.mean(ref_t)}

    print(f"model {args.model}; {len(files)} tracks > 45 s "
          f"({', '.join(f'{os.path.basename(p)} {d:.0f} s' for p, d in files)})\n")
    print("| windows (6 s) | patches | top genre = whole track | mean abs dp | worst track mean abs dp | ms per track (1 thread) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['windows']} | {r['patches']} | {r['agree']} | {r['mean_abs_dp']:.4f} | "
              f"{r['max_track_mean_abs_dp']:.4f} | {r['ms_per_track']:.0f} |")
    print(f"| whole track | {whole['patches']} (mean) | – | 0 | 0 | {whole['ms_per_track']:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "tracks": [{"path": p, "duration_s": d} for p, d in files],
                       "rows": rows, "whole": whole}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
