#!/usr/bin/env python3
"""A second split of MovieLens for checking that the engine generalises: no timestamps.

usage: random-split.py OUTDIR [SEED] [--by-user]
Positives (ratings >= 4) of ../shared/datasets/movielens-latest-small, a seeded random per-user
80/20 split (users with fewer than 5 positives stay wholly in train), rows shuffled and every ts
written as 0, as EVAL.md prescribes for data sets without timestamps. With --by-user the training
rows are written one user after another instead (in random order within each user), as a
per-user split of a data set without timestamps comes out when nothing shuffles it. The shared
peer_eval.py trains the peers on it like on any split.
"""
import csv
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RATINGS = os.path.join(HERE, "..", "..", "shared", "datasets", "movielens-latest-small", "ratings.csv")


def main():
    args = [a for a in sys.argv[1:] if a != "--by-user"]
    by_user_order = len(args) < len(sys.argv) - 1
    out = args[0]
    seed = int(args[1]) if len(args) > 1 else 7
    rows = []
    with open(RATINGS) as f:
        for r in csv.DictReader(f):
            if float(r["rating"]) >= 4.0:
                rows.append((r["userId"], r["movieId"]))
    rng = random.Random(seed)
    rng.shuffle(rows)
    by_user = {}
    for u, i in rows:
        by_user.setdefault(u, []).append(i)
    train, test = [], []
    for u, items in by_user.items():
        if len(items) >= 5:
            k = int(round(len(items) * 0.8))
            train += [(u, i) for i in items[:k]]
            test += [(u, i) for i in items[k:]]
        else:
            train += [(u, i) for i in items]
    rng.shuffle(train)
    if by_user_order:
        train.sort(key=lambda r: r[0])
    os.makedirs(out, exist_ok=True)
    for name, data in (("train", train), ("test", test)):
        with open(os.path.join(out, name + ".tsv"), "w") as f:
            f.write("user\titem\tts\tweight\n")
            for u, i in data:
                f.write(f"{u}\t{i}\t0\t1\n")
    print(f"random split: train {len(train)} test {len(test)} -> {out}")


if __name__ == "__main__":
    main()
