#!/usr/bin/env python3
"""A split of a play-count data set without timestamps, for checking that the engine generalises.

usage: playcount-split.py USER_ARTISTS.dat OUTDIR [SEED]
Reads `userID<TAB>artistID<TAB>weight` with a header (the HetRec 2011 Last.fm `user_artists.dat`:
1,892 listeners, each with their 50 most played artists and the play counts; research use, not
kept in this repository) and writes OUTDIR/train.tsv and OUTDIR/test.tsv in EVAL.md's format
with the play count as the weight and every ts 0. The split is EVAL.md's for data without
timestamps, as the shared split.py makes it: per user, in user order, the rows sorted by item
and shuffled with one seeded generator (42), the last 20% (at least one) to test; users with
fewer than 5 rows stay wholly in train. Training rows are written one user after another.
"""
import math
import os
import random
import sys
from collections import defaultdict


def main():
    src, out = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    by_user = defaultdict(list)
    with open(src) as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) != 3:
                continue
            u, i, w = parts
            by_user[u].append((u, i, 0, float(w)))
    rng = random.Random(seed)
    train, test = [], []
    for u in sorted(by_user):
        rs = sorted(by_user[u], key=lambda r: r[1])
        rng.shuffle(rs)
        if len(rs) < 5:
            train += rs
            continue
        n_test = max(1, math.ceil(len(rs) * 0.2))
        train += rs[:-n_test]
        test += rs[-n_test:]
    os.makedirs(out, exist_ok=True)
    for name, rows in (("train", train), ("test", test)):
        with open(os.path.join(out, name + ".tsv"), "w") as f:
            f.write("user\titem\tts\tweight\n")
            for u, i, t, w in rows:
                f.write(f"{u}\t{i}\t{t}\t{w:g}\n")
    print(f"play-count split: train {len(train)} test {len(test)} -> {out}")


if __name__ == "__main__":
    main()
