"""Run the default success-vs-T sweep of the gradients lab and save it as the shipped result.

    python bench/sweep.py            # prints each run and the total time; writes assets/gradients/sweep_adding.json
    python bench/sweep.py --no-save  # only measure

Target: the default sweep finishes in under 3 minutes on a laptop-class CPU.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from rnnlab.labs.longrange import DEFAULT_SWEEP, run_sweep  # noqa: E402

OUT = ROOT / "assets" / "gradients" / "sweep_adding.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    cfg = dict(DEFAULT_SWEEP)
    start = time.perf_counter()

    def show(_sweep, r):
        print(f"T={r['T']:>4} seed={r['seed']} {r['cell']:<5} best val {r['final']:.4f} (baseline {r['baseline']:.4f}) "
              f"{'SOLVED' if r['solved'] else 'not solved'} {r['seconds']:.1f}s", flush=True)

    sweep = run_sweep(on_result=show, **cfg)
    total = time.perf_counter() - start
    for cell, row in sweep.success().items():
        print(f"{cell:<5} " + " ".join(f"T={T}:{v:.0%}" for T, v in zip(sweep.Ts, row)))
    print(f"\ndefault sweep: {total:.1f} s (target < 180 s) -> {'PASS' if total < 180 else 'FAIL'}")
    if not args.no_save:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        sweep.meta = {"seconds": round(total, 1)}
        sweep.save(OUT)
        print(f"saved {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
