"""What padding and packing cost per training step: the measurement behind the "Batches of sequences" page.

    python -m bench.padding                 # both configurations, both length mixes, 1 and 2 torch threads
    python -m bench.padding --config small --threads 1

Runs ``rnnlab.labs.batching.padding_cost_job`` (the job the page submits) in this process and prints the
median seconds per step padded and packed and their ratio, next to the course's quoted figures for its §6
BiLSTM on a 2-core CPU (1.46 s padded, 3.48 s packed, ratio 2.38). The course's configuration takes a few
minutes on a busy 2-core machine: run it on a quiet one.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from rnnlab.labs.batching import COST_CONFIGS, LENGTHS, QUOTED, padding_cost_job


class _Context:
    """The few JobContext methods the job uses, for a run outside the job runner."""

    def phase(self, name, **data):
        pass

    def progress(self, done, total, text=""):
        print(f"    {text}", file=sys.stderr, flush=True)

    def check(self):
        pass

    def should_stop(self):
        return None

    def remaining(self):
        return float("inf")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=list(COST_CONFIGS), action="append")
    ap.add_argument("--lengths", choices=list(LENGTHS), action="append")
    ap.add_argument("--threads", type=int, action="append")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    configs = args.config or list(COST_CONFIGS)
    kinds = args.lengths or list(LENGTHS)
    threads = args.threads or [1, 2]
    print(f"course (quoted, 2-core CPU, §6 BiLSTM 64 x 200): padded {QUOTED['padded']:.2f} s, "
          f"packed {QUOTED['packed']:.2f} s, ratio {QUOTED['packed'] / QUOTED['padded']:.2f}")
    print(f"{'configuration':<10} {'lengths':<7} {'threads':>7} {'padding':>8} {'padded s':>9} {'packed s':>9} "
          f"{'ratio':>6} {'wall s':>7}")
    for config in configs:
        for kind in kinds:
            for n in threads:
                torch.set_num_threads(n)
                t0 = time.perf_counter()
                res = padding_cost_job(_Context(), config=config, lengths=kind, seed=args.seed)
                med = res["median"]
                print(f"{config:<10} {kind:<7} {n:>7} {res['padding_share']:>8.0%} {med['padded']:>9.3f} "
                      f"{med['packed']:>9.3f} {res['ratio']:>6.2f} {time.perf_counter() - t0:>7.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
