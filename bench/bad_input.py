"""The adversarial student of issue 29, searching deeper than CI does.

    python -m bench.bad_input                          # 10 examples a page, seeds 1 and 2
    python -m bench.bad_input --examples 25 --seeds 7 8 9 -k textgen

Runs ``tests/test_bad_input.py``'s sweep (every control of every scene of every page, then every link
parameter) with ``--examples`` Hypothesis examples a page for each seed (CI runs one, seed 29), and prints for
each page the controls, link parameters and runs it made and its slowest run, then every finding (an uncaught
error, traceback text, a run over the bound, an unusable value without a message) with the input that caused
it. The exit status is 1 when there was a finding. Run it on a quiet machine: the bound is wall time.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(examples: int, seed: int, select: str | None, bound: float) -> tuple[int, str, float]:
    env = {**os.environ, "RNNLAB_BAD_INPUT_EXAMPLES": str(examples), "RNNLAB_BAD_INPUT_SEED": str(seed),
           "RNNLAB_BAD_INPUT_BOUND_S": str(bound)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_bad_input.py",
           "-k", "every_control" + (f" and {select}" if select else "")]
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    return out.returncode, out.stdout + out.stderr, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=10, help="Hypothesis examples per page and seed")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("-k", dest="select", default=None, help="only pages whose test id matches (pytest -k)")
    ap.add_argument("--bound", type=float, default=20.0, help="seconds a run may take")
    args = ap.parse_args()
    found = 0
    for seed in args.seeds:
        code, text, seconds = run(args.examples, seed, args.select, args.bound)
        log = Path(tempfile.gettempdir()) / f"rnnlab-bad-input-seed{seed}.log"
        log.write_text(text)                      # the whole pytest output: each finding's stack trace
        print(f"seed {seed}, {args.examples} examples a page: {seconds:.0f} s (pytest's output: {log})")
        for line in text.splitlines():
            if line.startswith("app_pages/"):
                print("  " + line)
        findings = [ln[2:].strip() for ln in text.splitlines() if ln.startswith("E ") and "app_pages/" in ln
                    and re.search(r": (uncaught|traceback|the run took|no message|an unusable)", ln)]
        for f in findings:
            print("  FINDING " + f)
        summary = [ln for ln in text.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
        print("  " + (summary[-1] if summary else text[-2000:]))
        found += code != 0
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
