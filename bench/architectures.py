"""The Architectures page's numbers: for each tab, the time its default training takes to reach its stated
accuracy on this CPU (target: 20 s or less), the whole job's time, and its test results; then the
accuracy-against-input-length table of the same seq2seq with and without attention.

    python -m bench.architectures                         # every tab with the page's defaults
    python -m bench.architectures --sections attention --attention bahdanau   # one tab, another variant
    python -m bench.architectures --also-dates            # the attention table on dates too

Each job runs exactly as in a training worker on a 2-core class server (1 worker × 1 torch thread): the
same job function, the page's default settings (``rnnlab.labs.architectures.DEFAULTS``), seed 0. "Time to target" is the
job's clock at the first validation at or above the target (validation included, as a student waits for
it). The load average before and after says how busy the machine was; CPU time is what the job itself used
(on an idle machine the wall time is close to it).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch

from rnnlab.labs import architectures as arch
from rnnlab.runtime.device import seed_everything
from rnnlab.runtime.jobs import JobContext

ROOT = Path(__file__).resolve().parents[1]

TARGET_SECONDS = 20.0


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"
    except OSError:
        return "load average unknown"


def run(section: str, **overrides) -> dict:
    """One job as a worker runs it; returns its result, the events' clock and the CPU time it used."""
    sent = []
    cpu_at = {}     # the CPU time this process had used when each event was sent (an idle machine's clock)

    def send(msg):
        sent.append(msg)
        cpu_at[id(msg.event)] = time.process_time() - cpu0
    cpu0 = time.process_time()
    ctx = JobContext(0, send, None, 600.0)
    seed_everything(0)   # what the worker does before each job
    kwargs = {**arch.DEFAULTS[section], **overrides, "seed": 0}
    wall0 = time.perf_counter()
    result = getattr(arch, arch.JOBS[section])(ctx, **kwargs)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    evals = [m.event for m in sent if m.event.kind == "eval"]
    for e in evals:
        e.cpu = cpu_at[id(e)]
    return {"result": result, "evals": evals, "wall": wall, "cpu": cpu, "kwargs": kwargs}


def time_to(evals, target: float, model: str | None) -> tuple[float | None, float | None, int | None]:
    """(wall seconds, CPU seconds, step) at the first validation at or above ``target``."""
    for e in evals:
        if (model is None or e.data.get("model") == model) and e.data["acc"] >= target:
            return e.t, e.cpu, e.step
    return None, None, None


WHO = {"sync": "bidirectional", "attention": "with attention"}


def summary(section: str, m: dict) -> str:
    r = m["result"]["metrics"]
    if section == "one_to_one":
        return f"test {r['test_acc']:.1%} (best possible {r['best_possible_acc']:.1%}, chance 10%)"
    if section == "one_to_many":
        return (f"real names {r['valid_words']:.1%}; loss {r['nll_per_word']:.2f} nats/name "
                f"(floor {r['entropy_per_word']:.2f})")
    if section == "many_to_one":
        return (f"test lengths 1-10 {r['test_acc_trained_lengths']:.1%}, 11-30 {r['test_acc_longer']:.1%}, "
                f"30 {r['test_acc_longest']:.1%}")
    if section == "sync":
        return (f"bidirectional {r['test_acc_bidirectional']:.1%}; unidirectional {r['test_acc_unidirectional']:.1%} "
                f"(limit {r['causal_ceiling']:.1%} ± {r['causal_band']:.1%})")
    if section == "seq2seq":
        return (f"test dates {r['test_exact']:.1%}; wrong symbols: teacher forcing {r['teacher_symbol_error']:.1%}, "
                f"free running {r['free_symbol_error']:.1%}")
    return (f"test with attention {r.get('test_exact_attention', float('nan')):.1%}, without "
            f"{r.get('test_exact_no_attention', float('nan')):.1%}")


def length_table(result: dict) -> None:
    parts = result["models"]
    names = [n for n in ("without attention", "with attention") if n in parts]
    bins = parts[names[0]]["by_length"]["bins"]
    counts = parts[names[0]]["by_length"]["counts"]
    head = f"{'input length':>13} {'n':>5} " + " ".join(f"{n + ' (' + k + ')':>30}" for n in names
                                                       for k in ("whole", "symbols"))
    print(head)
    for k, b in enumerate(bins):
        cells = " ".join(f"{parts[n]['by_length'][key][k]:>30.1%}" for n in names for key in ("exact", "symbols"))
        print(f"{b:>13} {counts[k]:>5} {cells}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sections", default=",".join(arch.SECTIONS))
    ap.add_argument("--attention", default=None, choices=["luong", "bahdanau"], help="the attention tab's variant")
    ap.add_argument("--also-dates", action="store_true", help="the attention comparison on dates as well")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (a 2-core class server's worker: 1)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"rnnlab Architectures benchmark · torch {torch.__version__} · "
          f"{platform.processor() or platform.machine()} · {args.threads} torch thread(s)")
    print(f"before: {load()}\n")
    rows, attention_results = [], []
    for section in args.sections.split(","):
        over = {"attention": args.attention} if section == "attention" and args.attention else {}
        m = run(section, **over)
        target, words = arch.TARGETS[section]
        t, cpu, step = time_to(m["evals"], target, WHO.get(section))
        ok = t is not None and t <= TARGET_SECONDS
        reached = f"{t:5.1f} s wall, {cpu:.1f} s CPU (step {step})" if t is not None else "not reached"
        rows.append((section, words, reached, m, ok))
        print(f"[{section}] {words}")
        print(f"    reached: {reached} · whole job {m['wall']:.1f} s wall, {m['cpu']:.1f} s CPU "
              f"({m['result']['steps_done']} steps, {m['result']['status']}) · "
              f"{'within' if ok else 'NOT within'} {TARGET_SECONDS:.0f} s")
        print(f"    {summary(section, m)}", flush=True)
        if section == "attention":
            attention_results.append((m["kwargs"], m["result"]))
    if args.also_dates and "attention" in args.sections.split(","):
        m = run("attention", task="dates", **({"attention": args.attention} if args.attention else {}))
        attention_results.append((m["kwargs"], m["result"]))
    for kwargs, result in attention_results:
        print(f"\nSeq2seq with and without {kwargs['attention']} attention, {kwargs['task']}, {kwargs['cell']}-"
              f"{kwargs['hidden']}, {kwargs['steps']} steps each, seed 0: share of the 1,000 fixed test inputs right")
        length_table(result)
    print(f"\nafter: {load()}")
    missed = [r[0] for r in rows if not r[4]]
    print("every tab reached its target within 20 s (wall)" if not missed else
          f"over 20 s (wall) or not reached on this machine now: {', '.join(missed)}; on an idle machine the CPU "
          "time is the clock to compare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
