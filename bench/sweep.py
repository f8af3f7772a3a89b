"""Run the default success-vs-T sweep of the gradients lab and save it as the shipped result.

    python -m bench.sweep            # prints each run and the total time; writes assets/gradients/sweep_adding.json
    python -m bench.sweep --no-save  # only measure

Each run is scored against the baseline measured on its validation set (rnnlab.labs.longrange.baseline)
and stops once solved. Torch runs on one thread, as a job in the app's worker process would on a 2-core
machine. Target: the default sweep finishes in under 3 minutes on a laptop-class CPU.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from rnnlab.labs.longrange import DEFAULT_SWEEP, run_sweep

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "assets" / "gradients" / "sweep_adding.json"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = f", load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"{cpu}, torch {torch.__version__}, {torch.get_num_threads()} thread{load}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = dict(DEFAULT_SWEEP)
    print(machine(), flush=True)
    start, cpu0 = time.perf_counter(), time.process_time()

    def show(_sweep, r):
        verdict = f"SOLVED at step {r['solved_at']}" if r["solved"] else "not solved"
        print(f"T={r['T']:>4} seed={r['seed']} {r['cell']:<5} best val {r['final']:.4f} (baseline {r['baseline']:.4f}, "
              f"threshold {r['threshold']:.4f}) {verdict} {r['seconds']:.1f}s", flush=True)

    sweep = run_sweep(on_result=show, **cfg)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu0
    for cell, row in sweep.success().items():
        print(f"{cell:<5} " + " ".join(f"T={T}:{v:.0%}" for T, v in zip(sweep.Ts, row)))
    print(f"\ndefault sweep: {total:.1f} s wall, {cpu:.1f} s CPU (target < 180 s) -> "
          f"{'PASS' if total < 180 else 'FAIL'}")
    if not args.no_save:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        sweep.meta = {"seconds": round(total, 1), "cpu_seconds": round(cpu, 1), "machine": machine()}
        sweep.save(OUT)
        print(f"saved {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
