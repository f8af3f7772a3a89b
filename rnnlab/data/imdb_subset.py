"""Draw the compact IMDB subset that ships in ``assets/imdb_subset/`` from the full official split.

    python -m rnnlab.data.imdb_subset --data ../shared/data/imdb --out assets/imdb_subset

From each split (train, test) it drops exact duplicate reviews, and from the test split every review whose
text also appears in the training split (IMDB has 123 such pairs), so that no test review was seen in
training. Then it draws ``--train`` and ``--test`` reviews at random (seeded), exactly half positive and
half negative, and writes ``subset_train.csv.gz``, ``subset_test.csv.gz`` (columns ``text,label``,
the text exactly as in aclImdb) and ``manifest.json`` (counts, seed, the command).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import sys
from pathlib import Path

import numpy as np

from .text import COMPACT_IMDB, COMPACT_PREFIX, TextDataset, find_imdb, load_imdb


def _unique(ds: TextDataset, exclude: set[str] = frozenset()) -> TextDataset:
    seen, keep = set(exclude), []
    for i, t in enumerate(ds.texts):
        if t not in seen:
            seen.add(t)
            keep.append(i)
    return ds.take(keep)


def balanced(ds: TextDataset, n: int, seed: int) -> TextDataset:
    """``n`` reviews, exactly half of each label (seeded), in shuffled order."""
    rng = np.random.default_rng(seed)
    half = [rng.choice(np.flatnonzero(ds.labels == label), size=n // 2 + (label == 1) * (n % 2), replace=False)
            for label in (0, 1)]
    index = np.concatenate(half)
    return ds.take(index[rng.permutation(len(index))])


def _write_csv_gz(ds: TextDataset, path: Path) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["text", "label"])
    for t, y in zip(ds.texts, ds.labels.tolist()):
        w.writerow([t, int(y)])
    # mtime=0: the same draw gives byte-identical files
    path.write_bytes(gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=9, mtime=0))


def draw(source: str | Path, out: str | Path, n_train: int = 5000, n_test: int = 5000, seed: int = 0,
         command: str = "") -> dict:
    """Draw the subset from the IMDB in ``source`` into ``out``; returns the manifest written there."""
    data = load_imdb(source)
    train = _unique(data["train"])
    test = _unique(data["test"], exclude=set(train.texts))
    sub_train = balanced(train, n_train, seed)
    sub_test = balanced(test, n_test, seed + 1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _write_csv_gz(sub_train, out / f"{COMPACT_PREFIX}_train.csv.gz")
    _write_csv_gz(sub_test, out / f"{COMPACT_PREFIX}_test.csv.gz")
    manifest = {
        "source": "IMDB Large Movie Review Dataset v1.0 (Maas et al. 2011), official train/test split",
        "seed": seed, "command": command,
        "train": {"reviews": len(sub_train), "positive": int(sub_train.labels.sum()),
                  "drawn_from": len(train)},
        "test": {"reviews": len(sub_test), "positive": int(sub_test.labels.sum()), "drawn_from": len(test)},
        "bytes": {f.name: f.stat().st_size for f in sorted(out.glob("*.csv.gz"))},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rnnlab.data.imdb_subset", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="folder with aclImdb/ or imdb_train/test.csv(.gz)")
    ap.add_argument("--out", default=str(COMPACT_IMDB))
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--test", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if find_imdb([args.data]) is None:
        print(f"No IMDB in {args.data}", file=sys.stderr)
        return 2
    command = (f"python -m rnnlab.data.imdb_subset --data <IMDB folder> --train {args.train} --test {args.test} "
               f"--seed {args.seed}")
    manifest = draw(args.data, args.out, args.train, args.test, args.seed, command)
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
