"""The corpus search (issue #28, part 2): each index's one-time build, then random queries against it.

    python -m bench.corpus_search                  # every shipped model present, 50 queries each, a temp folder
    python -m bench.corpus_search --queries 200 --keep      # keep the indexes in the app's cache folder

For the sentiment model on the first 1,000 IMDB test reviews and the character models (the LSTM, and the GRU and
tanh RNN where they are in assets/) on the tiny-shakespeare validation text: the build's wall time (with one
torch thread, what a job gets on a 2-core server) and size on disk; then ``--queries`` random stretches (a random
piece, 1-6 words or 2-12 characters, θ drawn from 0.2-0.6, the page's preselection of units; a stretch with no
unit on is drawn again, as the page searches nothing then): the search alone ("search": all of them; "warm" and
"cold" split them: the first query at a new θ packs that θ's bits, and the page keeps the last three θ per
index), and the search plus what the page builds from it (each match's context and the figure), p50 / p95 /
max. Targets: a build within ~3 minutes and ~150 MB, a query under 1 s.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def build(key: str, root: Path) -> tuple[Path, dict, float]:
    from rnnlab.labs.corpus_search import MODELS, build_index, index_path, load_model, make_corpus

    m = MODELS[key]
    model, vocab = load_model(m.kind, m.folder)
    folder = index_path(m.kind, m.folder, m.corpus, root)
    t0 = time.perf_counter()
    corpus = make_corpus(m.corpus)
    prepared = time.perf_counter() - t0
    if not (folder / "index.json").exists():
        build_index(model, vocab, corpus, folder, name=m.label)
    import json

    return folder, json.loads((folder / "index.json").read_text()), prepared


def queries(folder: Path, n: int, seed: int = 0) -> dict:
    from rnnlab.figures.corpus_search import matches_figure
    from rnnlab.labs.corpus_search import (
        CHAR_TRACKS,
        CHARS,
        POS_TRACK,
        Index,
        Query,
        match_views,
        search,
        strongest,
        units_on,
    )

    t0 = time.perf_counter()
    index = Index(folder)
    opened = time.perf_counter() - t0
    track = CHAR_TRACKS[0] if index.kind == CHARS else POS_TRACK
    t0 = time.perf_counter()
    index.tracks()
    tracks_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    search_s, page_s, cold, warm, empty = [], [], [], [], 0
    seen: set[float] = set()
    while len(search_s) < n:
        a, b, _ = index.pieces[int(rng.integers(len(index.pieces)))]
        length = int(rng.integers(2, 13)) if index.kind == CHARS else int(rng.integers(1, 7))
        if b - a <= length:
            continue
        start = a + int(rng.integers(0, b - a - length))
        theta = float(rng.choice([0.2, 0.3, 0.4, 0.5, 0.6]))
        t0 = time.perf_counter()
        on = units_on(index.acts, start, start + length, theta)
        units = tuple(sorted(int(u) for u in strongest(index, start, start + length, on)[:24]))
        if not units:                   # the page says so and searches nothing: not a query
            empty += 1
            continue
        result = search(index, Query(start, start + length, theta, units))
        t1 = time.perf_counter()
        rows = match_views(index, result, track)
        matches_figure(rows, index.kind, track, len(units))
        t2 = time.perf_counter()
        search_s.append(t1 - t0)
        (cold if theta not in seen else warm).append(t1 - t0)
        seen.add(theta)
        page_s.append(t2 - t0)
    return {"open_s": opened, "tracks_s": tracks_s, "no_unit_on": empty, "search": search_s, "warm": warm,
            "cold": cold, "page": page_s}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.corpus_search", description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the builds (a job's: 1 on 2 cores)")
    ap.add_argument("--keep", action="store_true", help="build in the app's cache folder and keep the indexes")
    ap.add_argument("--models", default="sentiment,lstm,gru,rnn", help="those present are built")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from rnnlab.labs.corpus_search import cache_root

    tmp = None if args.keep else tempfile.TemporaryDirectory(prefix="rnnlab-corpus-bench-")
    root = cache_root() if args.keep else Path(tmp.name)
    try:
        from rnnlab.labs.corpus_search import MODELS

        for key in args.models.split(","):
            if not MODELS[key].present:
                print(f"\n== {MODELS[key].label}: not in assets/, skipped ==")
                continue
            folder, info, prepared = build(key, root)
            size = sum(p.stat().st_size for p in folder.iterdir())
            print(f"\n== {info['model']} ==")
            print(f"index: {info['tokens']:,} tokens x {info['units']} units; build {info['seconds']:.1f} s with "
                  f"{info['threads']} thread(s) (+ {prepared:.1f} s reading and tokenising the corpus); "
                  f"{size / 1e6:.1f} MB on disk (activations {info['bytes'] / 1e6:.1f} MB)")
            q = queries(folder, args.queries)
            print(f"open: {q['open_s'] * 1000:.0f} ms; meta-data tracks: {q['tracks_s'] * 1000:.0f} ms (once per "
                  f"index); {len(q['search'])} queries ({q['no_unit_on']} stretches drawn had no unit on: skipped)")
            for name in ("search", "warm", "cold", "page"):
                v = q[name]
                if v:
                    print(f"  {name:>6}: n={len(v):3d}  p50 {statistics.median(v) * 1000:7.1f} ms  p95 "
                          f"{_pct(v, 95) * 1000:7.1f} ms  max {max(v) * 1000:7.1f} ms")
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
