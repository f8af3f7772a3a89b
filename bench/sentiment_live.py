"""The Sentiment lab's default live run, measured as a student gets it: a job in a worker process.

    python -m bench.sentiment_live [--train-seconds 30] [--limit 120] [--seed 0]

Submits ``rnnlab.labs.sentiment.sentiment_job`` to a ``LocalRunner`` (one worker, torch threads as the app
plans them) with the page's defaults (the compact IMDB subset, ``PRESETS["fast"]``), twice:

1. the default run (time limit ``--limit``): seconds from submit to the first progress event, to the first
   training step, the validation accuracy against seconds of training, training seconds, and accuracy on the
   5,000 test reviews;
2. the same recipe stopped after ``--train-seconds`` of training, scored on all 5,000 test reviews: the
   accuracy reached within that much training (target: >= 80% in 30 s on a 2-core CPU).

Run it twice: the first job of a fresh worker also pays for imports and tokenising (the second reads the
worker's token cache). The load average is printed: on a busy machine every time here is inflated.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from rnnlab.labs.sentiment import PRESETS, recipe_to_dict, sentiment_job
from rnnlab.runtime.jobs import JobLimits, LocalRunner, cpu_count

ROOT = Path(__file__).resolve().parents[1]


def run(runner: LocalRunner, limit: float, seed: int, **extra) -> tuple[dict, list, float]:
    t0 = time.monotonic()
    job = runner.submit(sentiment_job,
                        {"recipe": recipe_to_dict(PRESETS["fast"]), "source": "compact", "seed": seed, **extra},
                        seed=seed, limits=JobLimits(max_seconds=limit), session="bench")
    job.wait()
    if job.error:
        raise SystemExit(f"the job failed: {job.error}")
    return job.result, list(job.events), job.started - t0


def report(name: str, res: dict, events: list, queued: float) -> None:
    first = lambda kind: next((e.t for e in events if e.kind == kind), float("nan"))  # noqa: E731
    train_t0 = next(e.t for e in events if e.kind == "phase" and e.data.get("name") == "training")
    m = res["metrics"]
    print(f"\n== {name}: {res['status']} ({res['message']})")
    print(f"  waiting for the worker      {queued:6.2f} s (process start and imports, before the job runs)")
    print(f"  first progress event        {first('progress'):6.2f} s after the job started   (target <= 2 s)")
    print(f"  first training step         {first('step'):6.2f} s")
    print("  phases (s): " + ", ".join(f"{k} {v:.2f}" for k, v in res["timing"].items()))
    print("  validation accuracy against seconds of training:")
    for e in (e for e in events if e.kind == "eval"):
        print(f"    {e.t - train_t0:6.1f} s  {e.data['reviews']:6,} reviews read  val acc {e.data['acc']:.3f}"
              f"  val loss {e.data['loss']:.3f}")
    print(f"  training {m['train_seconds']:.1f} s, {m['reviews_seen']:,} reviews read ({m['epochs']} epochs)")
    if "test_acc" in m:
        print(f"  TEST ACCURACY {m['test_acc']:.4f} on {m['test_reviews']:,} test reviews; "
              f"ECE {m['ece_before']:.3f} -> {m['ece_after']:.3f} (T = {m['temperature']:.2f})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-seconds", type=float, default=30.0)
    ap.add_argument("--limit", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    runner = LocalRunner(workers=1)
    print(f"{cpu_count()} CPU cores, worker torch threads {runner.threads}; load average "
          f"{os.getloadavg()[0]:.1f} (1 min) before the runs")
    try:
        report("default live run", *run(runner, args.limit, args.seed))
        report(f"stopped after {args.train_seconds:.0f} s of training, whole test set",
               *run(runner, args.limit, args.seed, max_train_seconds=args.train_seconds, full_test=True))
    finally:
        runner.shutdown()
    print(f"\nload average {os.getloadavg()[0]:.1f} (1 min) after the runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
