"""Compare `earmark classify --json` reports of one labelled folder as it came
and re-made (scripts/robustness.sh): per report, accuracy (the folder is the
label), top-genre agreement with the first report, and the total variation
between each clip's probabilities. Usage: robustness.py AS_MADE.json VARIANT.json..."""
import json
import os
import sys


def load(path):
    """{(genre folder, file stem): probabilities} of the clips judged."""
    out = {}
    for row in json.load(open(path)):
        if "prediction" not in row:
            continue
        p = row["prediction"]
        key = (os.path.basename(os.path.dirname(row["path"])),
               os.path.splitext(os.path.basename(row["path"]))[0])
        out[key] = (p["labels"], p["probs"])
    return out


def top(labels, probs):
    return labels[max(range(len(probs)), key=probs.__getitem__)]


def accuracy(rows):
    hits = [top(*v) == genre for (genre, _), v in rows.items()]
    return sum(hits) / len(hits)


def main(base_path, *variants):
    base = load(base_path)
    print(f"{'variant':<10} {'clips':>5} {'accuracy':>8} {'same top':>9} "
          f"{'TV median':>9} {'TV p90':>7} {'TV max':>7}")
    print(f"{'as made':<10} {len(base):>5} {accuracy(base):>8.3f}")
    for path in variants:
        rows = load(path)
        common = [k for k in base if k in rows]
        same = sum(top(*base[k]) == top(*rows[k]) for k in common)
        tv = sorted(sum(abs(a - b) for a, b in zip(base[k][1], rows[k][1])) / 2
                    for k in common)
        name = os.path.basename(path).rsplit("_", 1)[0]
        print(f"{name:<10} {len(common):>5} {accuracy(rows):>8.3f} "
              f"{same / len(common):>9.3f} {tv[len(tv) // 2]:>9.3f} "
              f"{tv[int(len(tv) * 0.9)]:>7.3f} {tv[-1]:>7.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
