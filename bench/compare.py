"""The comparison page's measurements (RNN vs CNN vs MLP vs Transformer), in one run: time of a training step
against the sequence length T, time to predict one new token after H tokens (a running state against a
Transformer without a cache), the memory a training step keeps for its backward pass, and accuracy against
the distance k on the memory-over-distance task, each model trained as the page's job trains it.

    python -m bench.compare                       # 1 torch thread, the page's defaults (a few minutes on one core)
    python -m bench.compare --threads 2           # the whole 2-core machine
    python -m bench.compare --steps 200 --T 32    # a quicker recall run
    python -m bench.compare --lm-seconds 30       # also tiny-shakespeare, 30 s of training per model

Every time is the fastest of a few runs (other work on a shared machine only makes a run slower); the load
average before and after says how busy the machine was. Ratios are against the recurrent net measured in
the same run. Expected shape (issue 13): the MLP falls to chance beyond its window (8), the CNN beyond its
receptive field (16), the Transformer beyond its context (32); the LSTM holds every k up to 63; its cost per
new token stays flat while the cache-less Transformer's grows with H.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from rnnlab.labs.compare import (
    CHAR_LINEUP,
    INFER_HISTORY,
    RECALL_LINEUP,
    SPEED_LINEUP,
    SPEED_TS,
    charlm_job,
    measure_speed,
    recall_job,
)
from rnnlab.nn.seqmodels import KINDS
from rnnlab.runtime.jobs import JobContext

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"
    except OSError:
        return "load average unknown"


def ms(s: float) -> str:
    return f"{s * 1e3:9.2f}"


def table(title: str, xs: list[int], x_name: str, series: dict, labels: dict, fmt, ratio_to: str | None = "RNN"):
    print(f"\n## {title}")
    print(f"{x_name:>8} " + " ".join(f"{labels[k]:>12}" for k in KINDS)
          + ("" if ratio_to is None else "   " + " ".join(f"{labels[k] + '/' + labels[ratio_to]:>16}"
                                                        for k in KINDS if k != ratio_to)))
    for i, x in enumerate(xs):
        row = f"{x:>8} " + " ".join(f"{fmt(series[k][i]):>12}" for k in KINDS)
        if ratio_to is not None:
            row += "   " + " ".join(f"{series[k][i] / series[ratio_to][i]:>16.2f}" for k in KINDS if k != ratio_to)
        print(row)


def quiet_ctx(seconds: float) -> JobContext:
    """A job context for running a job function here, with progress lines on stderr."""
    def send(msg):
        event = msg.event
        if event.kind in ("phase",):
            print(f"  [{event.t:6.1f} s] {event.data['name']}", file=sys.stderr, flush=True)
    return JobContext(0, send, None, max_seconds=seconds)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--size", type=int, default=SPEED_LINEUP.params, help="weights per model for the timings")
    ap.add_argument("--reps", type=int, default=3, help="runs per timing (the fastest is kept)")
    ap.add_argument("--T", type=int, default=64, help="sequence length of the recall task")
    ap.add_argument("--steps", type=int, default=400, help="training steps of each model on the recall task")
    ap.add_argument("--cell", default="LSTM", choices=["LSTM", "GRU", "RNN"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lm-seconds", type=float, default=0.0,
                    help="seconds of tiny-shakespeare training per model (0: skip)")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-recall", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)      # this process runs the benchmark alone
    print(f"# bench/compare.py: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} torch thread(s)")
    print(f"# before: {load()}")
    start = time.perf_counter()

    if not args.skip_speed:
        lu = replace(SPEED_LINEUP, params=args.size, cell=args.cell)
        t0 = time.perf_counter()
        res = measure_speed(lu, 65, SPEED_TS, INFER_HISTORY, batch=16, reps=args.reps, budget=5.0, seed=args.seed)
        labels = res["labels"]
        print("\nModels (65-character vocabulary): " + ", ".join(
            f"{labels[k]} {res['params'][k]:,} weights (view {'unbounded' if res['views'][k] < 0 else res['views'][k]})"
            for k in KINDS) + f"; measured in {time.perf_counter() - t0:.0f} s")
        table("Training step (forward + backward + Adam), batch 16: ms", res["Ts"], "T", res["step"], labels, ms)
        table("One new token after H tokens (RNN: running state; others: reread their view, no cache): ms",
              res["history"], "H", res["token"], labels, ms)
        table("Memory kept for the backward pass, batch 16: MB", res["Ts"], "T",
              {k: [b / 1e6 for b in v] for k, v in res["memory"].items()}, labels, lambda v: f"{v:.2f}")
        table("Numbers kept between two generated tokens", res["history"], "H", res["state"], labels,
              lambda v: f"{v:,}", ratio_to=None)
        print(f"# after the timings: {load()}")

    if not args.skip_recall:
        lu = replace(RECALL_LINEUP, cell=args.cell)
        t0 = time.perf_counter()
        r = recall_job(quiet_ctx(3600), lineup=lu.to_dict(), T=args.T, steps=args.steps, seed=args.seed)
        models = r["models"]
        print(f"\n## Memory over distance: T = {args.T}, {args.steps} steps of 64 sequences, "
              f"{r['task']['symbols']} symbols (chance {r['chance']:.1%}); {time.perf_counter() - t0:.0f} s")
        for m in models.values():
            view = "unbounded" if m["view"] < 0 else m["view"]
            print(f"{m['label']:>12}: {m['params']:,} weights, view {view}, trained {m['steps']} steps in "
                  f"{m['seconds']:.1f} s, holds k <= {m['span']}, mean accuracy {m['mean_acc']:.1%}")
        ks = sorted({0, 1, 3, 7, 8, 15, 16, 31, 32, 47, args.T - 1} & set(range(args.T)))
        print(f"{'k':>8} " + " ".join(f"{m['label']:>12}" for m in models.values()))
        for k in ks:
            print(f"{k:>8} " + " ".join(f"{m['acc'][k]:>12.1%}" for m in models.values()))
        print(f"# after the recall training: {load()}")

    if args.lm_seconds > 0:
        lu = replace(CHAR_LINEUP, cell=args.cell)
        t0 = time.perf_counter()
        r = charlm_job(quiet_ctx(3600), lineup=lu.to_dict(), seconds=args.lm_seconds, seed=args.seed)
        print(f"\n## tiny-shakespeare, {args.lm_seconds:g} s of training each; validation loss on "
              f"{r['val_chars']:,} held-out characters (chance ln 65 = {r['chance']:.2f}); "
              f"{time.perf_counter() - t0:.0f} s")
        for m in r["models"].values():
            curve = ", ".join(f"{p['seconds']:.0f} s: {p['loss']:.3f}" for p in m["curve"])
            print(f"{m['label']:>12}: {m['params']:,} weights, {m['steps']} steps, {m['train_s']:.1f} s "
                  f"({m['cpu_s']:.1f} s CPU), validation loss {m['val_loss']:.3f}  [{curve}]")
        print(f"# after the language models: {load()}")
    print(f"\n# total {time.perf_counter() - start:.0f} s; after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
