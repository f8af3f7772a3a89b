"""Each lab's default live training on a GPU, run as a student's is: a job in the job runner's worker process.

    python -m bench.gpu                               # every lab: on the GPU, then the same jobs on the CPU
    python -m bench.gpu --labs sentiment,textgen      # some labs; "architectures/sync" names one job of a lab
    python -m bench.gpu --seconds 120                 # the class's time limit per job (default: the class's own)
    python -m bench.gpu --no-cpu                      # the GPU alone, no CPU comparison
    python -m bench.gpu --markdown gpu.md             # also write the table as markdown (for docs/benchmarks.md)
    python -m bench.gpu --cpu-only --labs scratch     # the CPU path alone (runs without a GPU: the tests use it)

Each job is the one the lab's page submits when a student presses Train with every setting at its default,
its kwargs built from the page's own presets and constants in ``rnnlab`` (see ``all_jobs``), submitted to a
``LocalRunner`` with ``devices=["cuda:0"]`` (one worker, spawned, that sees only that GPU), then to a second
runner without devices whose worker sees no GPU at all (``CUDA_VISIBLE_DEVICES=""``): the CPU a server without
a GPU would train on, with the same torch threads. Each job runs inside ``measured_job``, which calls the real
job function and adds the peak GPU memory (``torch.cuda.max_memory_allocated``) to its result.

Per job: seconds from the start of the job to its first progress event (a ``progress`` or ``step`` event: what
moves the page's progress bar), training seconds (the job's training phases, from its ``phase`` events), the
number of training steps, the figure the page shows (accuracy, loss, MASE, ...), the peak GPU memory ("not
used": the job never touched the GPU, e.g. the NumPy RNN), how the job ended, and the speed-up over the CPU:
training steps per second on the GPU over the CPU's where the job counts steps (a job with a fixed time budget
trains as long on both, and more steps on the faster one), else the ratio of training seconds.

The time limit of each job is the one its page gives at the class's defaults (``RNNLAB_MAX_JOB_SECONDS``, 300 s
unless set; some pages use less, e.g. the Sentiment lab's slider starts at 120 s); ``--seconds`` sets the
class's limit, and each page's share of it follows as on the page. The first job of each worker also pays for
its imports (and on the GPU for creating the CUDA context): the first progress event shows it. Every lab on
both devices takes tens of minutes (the header gives the sum of the time limits, an upper bound): with little
time on a lent GPU, choose ``--labs``, ``--no-cpu`` or a lower ``--seconds``.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from rnnlab.runtime.jobs import JobLimits, LocalRunner, cpu_count, resolve, target_name
from rnnlab.runtime.settings import env_settings

ROOT = Path(__file__).resolve().parents[1]

NO_CUDA = "No CUDA device: nothing to measure. Run it on a machine with a GPU."
WRAPPER = "bench.gpu:measured_job"   # by name: run as `python -m bench.gpu`, the function's module is __main__
TRAINING_PHASES = ("training", "racing", "sweeping", "timing")   # phase names (prefixes) that count as training
COLUMNS = ("lab", "device", "first progress s", "training s", "steps", "figure", "peak GPU MB",
           "speed-up vs CPU", "ended")

# Page defaults that live only in app_pages/ (a page cannot be imported outside Streamlit): each is the
# default of the widget or constant named beside it. Everything else comes from rnnlab's own presets. A test
# (tests/test_bench_gpu.py) presses each page's button at its defaults and checks that it sends these kwargs.
SENTIMENT_PRESET = "fast"          # app_pages/sentiment.py: the first recipe of PRESET_LABELS
SENTIMENT_BUDGET = 120             # app_pages/sentiment.py: "Time limit (s)" starts at min(120, class limit)
TEXTGEN_SECONDS, TEXTGEN_BPTT = 180, 128   # app_pages/textgen.py: "Training time (s)", "Truncated BPTT length"
ARCH_SECONDS = 120.0               # app_pages/architectures.py: JOB_SECONDS
FORECAST_SCENARIO = "trend"        # app_pages/forecast.py: DEFAULT_SERIES and its sliders = SCENARIOS["trend"]
COMPARE_CELL = "LSTM"              # app_pages/compare.py: the first of CELLS, every tab's "Recurrent cell"
RECALL_T, RECALL_STEPS = 64, 400   # app_pages/compare.py: "Sequence length T", "Training steps"
LM_SECONDS = 30                    # app_pages/compare.py: "Training seconds per model"
SCRATCH = {"hidden": 32, "steps": 400, "lr": 5e-3, "temperature": 0.5}   # app_pages/scratch.py: the sliders
SCRATCH_SECONDS = 60.0             # app_pages/scratch.py: JOB_SECONDS
BATCHES_SECONDS = 60.0             # app_pages/batches.py: COST_SECONDS["small"]


# --- the jobs: what each page submits at its defaults -------------------------------------------------------
@dataclass(frozen=True)
class LiveJob:
    """One page's live job: ``kwargs(limits, seed)`` and ``limit(limits)`` follow the page at the class's
    ``limits``; ``figure(result)`` is what the page shows; ``steps(result, events)`` counts training steps."""

    name: str                                           # "lab" or "lab/part"
    target: Callable                                    # the job function, as the page submits it
    kwargs: Callable[[JobLimits, int], dict]
    figure: Callable[[dict], str]
    limit: Callable[[JobLimits], float] = lambda lim: lim.max_seconds
    steps: Callable[[dict, list], int | None] = lambda result, events: count_steps(events)

    @property
    def lab(self) -> str:
        return self.name.split("/")[0]


def count_steps(events: list) -> int | None:
    n = sum(1 for e in events if e.kind == "step")
    return n or None


def _metric(result: dict, key: str, label: str, fmt: str = ".3f") -> str:
    value = (result.get("metrics") or {}).get(key)
    return f"{label} {value:{fmt}}" if isinstance(value, (int, float)) else "–"


def sentiment_kwargs(lim: JobLimits, seed: int) -> dict:
    from rnnlab.labs.sentiment import PRESETS, recipe_to_dict

    base = PRESETS[SENTIMENT_PRESET]
    dropout = float(max(base.dropout, base.head_dropout))           # the page's one "Dropout" slider
    recipe = dataclasses.replace(
        base, name=f"{base.cell.lower()}-{'-'.join(map(str, base.hidden_sizes))}",
        dropout=dropout if len(base.hidden_sizes) > 1 else 0.0, head_dropout=dropout,
        epochs=min(base.epochs, lim.max_epochs), clip=float(base.clip) if base.clip is not None else None)
    return {"recipe": recipe_to_dict(recipe), "source": "compact", "upload": None, "subset_percent": 100,
            "full_test": False, "seed": seed}


def forecast_kwargs(lim: JobLimits, seed: int) -> dict:
    import inspect

    from rnnlab.data.series import BUILTIN
    from rnnlab.labs.forecast import PRESETS, SCENARIOS, forecast_job

    sc = SCENARIOS[FORECAST_SCENARIO]
    make = BUILTIN[sc.series]
    kw = {**sc.series_kwargs, **({"seed": seed} if "seed" in make.__code__.co_varnames else {})}
    recipe = dataclasses.replace(PRESETS["guide"], window=sc.window, horizon=sc.horizon,
                                 epochs=min(20, max(1, min(200, lim.max_epochs))))
    seeds = inspect.signature(forecast_job).parameters["seeds"].default      # the page's "Seeds" slider: 3
    return {"series": make(**kw).to_plain(), "recipe": recipe.to_dict(), "seeds": seeds, "seed": seed}


def textgen_seconds(lim: JobLimits) -> int:
    from rnnlab.labs.textgen import EVAL_RESERVE

    max_train = max(int(lim.max_seconds - EVAL_RESERVE), 10)
    choices = [s for s in (30, 60, 120, 180, 240, 300, 600) if s <= max_train] or [max_train]
    return TEXTGEN_SECONDS if TEXTGEN_SECONDS in choices else choices[-1]


def textgen_kwargs(lim: JobLimits, seed: int) -> dict:
    from rnnlab.labs.textgen import PRESETS

    live = PRESETS["live"]
    recipe = dataclasses.replace(live, cell="LSTM", bptt=min(TEXTGEN_BPTT, live.seq_len),
                                 seconds=float(textgen_seconds(lim)), carry_state=True)
    return {"recipe": recipe.to_dict(), "text": None, "seed": seed}


def textgen_limit(lim: JobLimits) -> float:
    from rnnlab.labs.textgen import EVAL_RESERVE

    return min(textgen_seconds(lim) + EVAL_RESERVE, lim.max_seconds)


ARCH_FIGURES = {"one_to_one": ("test_acc", "test acc"), "one_to_many": ("valid_words", "real names"),
                "many_to_one": ("test_acc_trained_lengths", "test acc"),
                "sync": ("test_acc_bidirectional", "bidirectional acc"), "seq2seq": ("test_exact", "dates right"),
                "attention": ("test_exact_attention", "right with attention")}


def arch_job(section: str) -> LiveJob:
    from rnnlab.labs import architectures as arch

    key, label = ARCH_FIGURES[section]
    return LiveJob(f"architectures/{section}", getattr(arch, arch.JOBS[section]),
                   lambda lim, seed: {**arch.DEFAULTS[section], "seed": seed},
                   lambda r: _metric(r, key, label), limit=lambda lim: min(ARCH_SECONDS, lim.max_seconds))


def gradients_kwargs(part: str) -> Callable[[JobLimits, int], dict]:
    """app_pages/gradients.py at its defaults: the first cell of each list, its sliders' starting values."""
    def build(lim: JobLimits, seed: int) -> dict:
        from rnnlab.labs.gradients import CELL_CHOICES
        from rnnlab.labs.longrange import CELLS

        if part == "record":
            return {"cell": CELLS[0], "T": 50, "steps": 300, "hidden": 32, "seed": seed}
        if part == "clipping":
            return {"cell": next(iter(CELL_CHOICES.values())), "T": 50, "radius": 1.5, "scale_by": "radius",
                    "lr": 0.3, "threshold": 1.0, "steps": 200, "seed": seed}
        if part == "race":
            from rnnlab.labs.longrange import RACE_DEFAULTS

            return {**RACE_DEFAULTS, "cells": list(CELLS), "together": True, "seed": seed}
        return {}                                       # the sweep: DEFAULT_SWEEP, as the page sends it
    return build


def _solved(result: dict) -> str:
    m = result.get("metrics") or {}
    solved = [k for k in m if k.startswith("solved_") and not k.startswith("solved_share")]
    return f"solved {sum(m[k] > 0 for k in solved):.0f}/{len(solved)}" if solved else "–"


def _solved_share(result: dict) -> str:
    shares = [v for k, v in (result.get("metrics") or {}).items() if k.startswith("solved_share_")]
    return f"solved {sum(shares) / len(shares):.0%} of runs" if shares else "–"


def compare_kwargs(part: str) -> Callable[[JobLimits, int], dict]:
    """app_pages/compare.py at its defaults: each tab's line-up as the page builds it from rnnlab's."""
    def build(lim: JobLimits, seed: int) -> dict:
        from rnnlab.data.recall import RecallTask
        from rnnlab.labs.compare import CHAR_LINEUP, LM_RESERVE, RECALL_LINEUP, SPEED_LINEUP, Lineup
        from rnnlab.nn.seqmodels import KINDS

        if part == "memory":
            r = RECALL_LINEUP
            lu = Lineup(params=r.params, cell=COMPARE_CELL, window=r.window, cnn_layers=r.cnn_layers,
                        context=r.context)
            return {"lineup": lu.to_dict(), "T": RECALL_T, "symbols": RecallTask(RECALL_T).symbols,
                    "steps": RECALL_STEPS, "seed": seed}
        if part == "shakespeare":
            c = CHAR_LINEUP
            max_each = int((lim.max_seconds - 10) / len(KINDS) - LM_RESERVE)
            choices = [s for s in (10, 20, 30, 45, 60, 90, 120) if s <= max_each] or [max(max_each, 5)]
            seconds = LM_SECONDS if LM_SECONDS in choices else choices[-1]
            lu = Lineup(params=c.params, cell=COMPARE_CELL, embed=c.embed, cnn_layers=c.cnn_layers, window=c.window,
                        context=c.context)
            return {"lineup": lu.to_dict(), "seconds": float(seconds), "seed": seed}
        lu = Lineup(**{**SPEED_LINEUP.to_dict(), "params": SPEED_LINEUP.params, "cell": COMPARE_CELL})
        return {"lineup": lu.to_dict(), "seed": seed}
    return build


def _models_steps(key: str) -> Callable[[dict, list], int | None]:
    """Steps of a job that trains several models one after another (each model's count in its result)."""
    def steps(result: dict, events: list) -> int | None:
        models = result.get("models") or {}
        return sum(int(m.get(key, 0)) for m in models.values()) or None
    return steps


def _speed_figure(result: dict) -> str:
    m = result.get("metrics") or {}
    key = next((k for k in m if k.startswith("step_ms_") and k.endswith("_RNN")), None)
    return f"{COMPARE_CELL} step {m[key]:.1f} ms at {key.split('_')[2]}" if key else "–"


def scratch_kwargs(lim: JobLimits, seed: int) -> dict:
    import inspect

    from rnnlab.labs.scratch import char_model_job

    sentence = inspect.signature(char_model_job).parameters["sentence"].default   # the page's "hello world"
    return {"sentence": sentence, **SCRATCH, "sample_every": max(SCRATCH["steps"] // 20, 10), "seed": seed}


def batches_kwargs(lim: JobLimits, seed: int) -> dict:
    from rnnlab.labs.batching import COST_CONFIGS, LENGTHS

    return {"config": next(iter(COST_CONFIGS)), "lengths": next(iter(LENGTHS)), "seed": seed}


def _ratio(result: dict) -> str:
    ratio = result.get("ratio")
    return f"packed/padded {ratio:.2f}" if isinstance(ratio, (int, float)) else "–"


def all_jobs() -> list[LiveJob]:
    """Every lab's default live job, in the order of the course."""
    from rnnlab.labs import architectures as arch
    from rnnlab.labs.batching import padding_cost_job
    from rnnlab.labs.clipping import clipping_job
    from rnnlab.labs.compare import charlm_job, recall_job, speed_job
    from rnnlab.labs.forecast import forecast_job
    from rnnlab.labs.longrange import race_job, record_job, sweep_job
    from rnnlab.labs.scratch import char_model_job
    from rnnlab.labs.sentiment import sentiment_job
    from rnnlab.labs.textgen import textgen_job

    return [
        LiveJob("sentiment", sentiment_job, sentiment_kwargs,
                lambda r: _metric(r, "test_acc", "test acc"), limit=lambda lim: min(SENTIMENT_BUDGET, lim.max_seconds),
                steps=lambda r, ev: len((r.get("history") or {}).get("steps", [])) or None),
        LiveJob("forecast", forecast_job, forecast_kwargs,
                lambda r: _metric(r, "rnn_MASE", "MASE")),
        LiveJob("textgen", textgen_job, textgen_kwargs,
                lambda r: _metric(r, "val_loss", "val loss"), limit=textgen_limit,
                steps=lambda r, ev: (r.get("metrics") or {}).get("steps") or None),
        *[arch_job(section) for section in arch.SECTIONS],
        LiveJob("gradients/record", record_job, gradients_kwargs("record"),
                lambda r: _metric(r, "best_val_mse", "best val MSE", ".4f"),
                steps=lambda r, ev: len((r.get("run") or {}).get("steps", [])) or None),
        LiveJob("gradients/clipping", clipping_job, gradients_kwargs("clipping"),
                lambda r: _metric(r, "final_loss_with_clipping", "loss with clipping", ".4f")),
        LiveJob("gradients/race", race_job, gradients_kwargs("race"), _solved,
                steps=lambda r, ev: sum(len(run.get("steps", [])) for run in (r.get("runs") or {}).values()) or None),
        LiveJob("gradients/sweep", sweep_job, gradients_kwargs("sweep"), _solved_share),
        LiveJob("compare/memory", recall_job, compare_kwargs("memory"),
                lambda r: _metric(r, "mean_acc_RNN", f"{COMPARE_CELL} mean acc"), steps=_models_steps("steps")),
        LiveJob("compare/shakespeare", charlm_job, compare_kwargs("shakespeare"),
                lambda r: _metric(r, "val_loss_RNN", f"{COMPARE_CELL} val loss"), steps=_models_steps("steps")),
        LiveJob("compare/speed", speed_job, compare_kwargs("speed"), _speed_figure),
        LiveJob("scratch", char_model_job, scratch_kwargs,
                lambda r: _metric(r, "loss_last20", "loss"), limit=lambda lim: min(SCRATCH_SECONDS, lim.max_seconds)),
        LiveJob("batches", padding_cost_job, batches_kwargs, _ratio,
                limit=lambda lim: min(BATCHES_SECONDS, lim.max_seconds),
                steps=lambda r, ev: sum(len(v) for v in (r.get("times") or {}).values()) or None),
    ]


def select(jobs: list[LiveJob], names: str | None) -> list[LiveJob]:
    """``--labs``: lab names ("gradients") or single jobs ("gradients/race"), comma-separated."""
    if not names:
        return jobs
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if not any(n in (j.name, j.lab) for j in jobs)]
    if unknown:
        known = sorted({j.lab for j in jobs} | {j.name for j in jobs})
        raise SystemExit(f"unknown lab(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return [j for j in jobs if j.name in wanted or j.lab in wanted]


# --- in the worker: the real job, and its peak GPU memory ---------------------------------------------------
def measured_job(ctx, target: str, kwargs: dict) -> dict:
    """Run the job function named ``target`` (``"module:function"``) as the worker would, and add ``bench_gpu``:
    the peak GPU memory it allocated (MB; None where CUDA was never initialised in this worker: the job did not
    use the GPU)."""
    import torch

    if torch.cuda.is_initialized():        # an earlier job of this worker used the GPU: count this one alone
        torch.cuda.reset_peak_memory_stats()
    result = dict(resolve(target)(ctx, **kwargs) or {})
    used = torch.cuda.is_initialized()
    peak = torch.cuda.max_memory_allocated() / 2**20 if used else None
    result["bench_gpu"] = {"peak_mb": peak, "device": ctx.device or "cpu", "threads": torch.get_num_threads()}
    return result


# --- in this process: running the jobs and reading their events -------------------------------------------
def first_progress(events: list) -> float | None:
    """Seconds from the job's start to its first event that moves the page's progress bar."""
    ts = [e.t for e in events if e.kind in ("progress", "step")] or [e.t for e in events if e.kind != "phase"]
    return min(ts) if ts else None


def training_seconds(events: list, end: float) -> float | None:
    """Seconds spent in the job's training phases (each lasts until the next phase event, the last one until
    ``end``); None if the job reported no such phase."""
    phases = [(e.t, str(e.data.get("name", ""))) for e in events if e.kind == "phase"]
    spans = [(phases[k + 1][0] if k + 1 < len(phases) else end) - t
             for k, (t, name) in enumerate(phases) if name.startswith(TRAINING_PHASES)]
    return sum(max(s, 0.0) for s in spans) if spans else None


def peak_of(result: dict, device: str) -> float | str | None:
    """The job's peak GPU memory in MB, "not used" if it never touched the GPU, None if unknown (a CPU run, or a
    job that ended without a result)."""
    measured = result.get("bench_gpu")
    if device == "cpu" or not measured:
        return None
    return "not used" if measured.get("peak_mb") is None else float(measured["peak_mb"])


def run_job(runner: LocalRunner, job: LiveJob, device: str, lim: JobLimits, seed: int) -> dict:
    """Submit one job (wrapped by ``measured_job``), wait for it, and make its row of the table."""
    seconds = job.limit(lim)
    kwargs = job.kwargs(lim, seed)
    submitted = runner.submit(WRAPPER, {"target": target_name(job.target), "kwargs": kwargs}, seed=seed,
                              limits=dataclasses.replace(lim, max_seconds=float(seconds)), session="bench-gpu",
                              meta={"lab": job.lab})
    submitted.wait()
    events, result = list(submitted.events), submitted.result or {}
    end = max([submitted.elapsed()] + [e.t for e in events])
    train_s = training_seconds(events, end)
    row = {"lab": job.name, "device": device, "first": first_progress(events), "train_s": train_s,
           "steps": job.steps(result, events) if result else None, "figure": job.figure(result) if result else "–",
           "peak_mb": peak_of(result, device),
           "ended": submitted.end_label if submitted.error is None else f"failed: {submitted.error}"}
    print(f"  {job.name} on {device}: {row['ended']} after {end:.1f} s (limit {seconds:.0f} s)", flush=True)
    return row


@contextlib.contextmanager
def environment(**values: str | None):
    """Set (or, with None, remove) environment variables for the workers started inside the block."""
    with mock.patch.dict(os.environ, {k: v for k, v in values.items() if v is not None}):   # restored after
        for k in [k for k, v in values.items() if v is None]:
            os.environ.pop(k, None)
        yield


def run_all(jobs: list[LiveJob], device: str, lim: JobLimits, seed: int) -> list[dict]:
    """Every job on one runner: ``cuda:0`` (its worker sees only that GPU) or ``cpu`` (its worker sees none;
    ``RNNLAB_DEVICE=cpu`` also for the jobs that pick their device themselves)."""
    env = {"RNNLAB_DEVICE": None} if device != "cpu" else {"RNNLAB_DEVICE": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    with environment(**env):
        runner = LocalRunner(workers=1, devices=[device] if device != "cpu" else None)
        print(f"{device}: 1 worker, {runner.threads} torch thread(s)", flush=True)
        try:
            return [run_job(runner, job, device, lim, seed) for job in jobs]
        finally:
            runner.shutdown()


# --- the table --------------------------------------------------------------------------------------------
def speed_up(gpu: dict, cpu: dict | None) -> float | None:
    """Training steps per second on the GPU over the CPU's; the ratio of training seconds where a job counts
    no steps; None when either run lacks the numbers."""
    if cpu is None or not gpu.get("train_s") or not cpu.get("train_s"):
        return None
    if gpu.get("steps") and cpu.get("steps"):
        return (gpu["steps"] / gpu["train_s"]) / (cpu["steps"] / cpu["train_s"])
    return cpu["train_s"] / gpu["train_s"]


def add_speed_ups(rows: list[dict]) -> list[dict]:
    cpu = {r["lab"]: r for r in rows if r["device"] == "cpu"}
    return [{**r, "speed_up": speed_up(r, cpu.get(r["lab"])) if r["device"] != "cpu" else None} for r in rows]


def cells(row: dict) -> list[str]:
    def num(v, fmt=".1f"):
        return "–" if v is None else f"{v:{fmt}}"

    peak = row.get("peak_mb")
    peak_text = "–" if peak is None else peak if isinstance(peak, str) else f"{peak:,.0f}"
    speed = row.get("speed_up")
    return [row["lab"], row["device"], num(row.get("first")), num(row.get("train_s")),
            "–" if not row.get("steps") else f"{row['steps']:,}", row.get("figure") or "–", peak_text,
            "–" if speed is None else f"×{speed:.1f}", row.get("ended") or "–"]


def format_table(rows: list[dict], markdown: bool = False) -> str:
    """The rows (see ``run_job``; ``speed_up`` from ``add_speed_ups``) as an aligned text table, or markdown."""
    body = [cells(r) for r in rows]
    if markdown:
        esc = [[c.replace("|", "\\|") for c in line] for line in body]
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
        return "\n".join(lines + ["| " + " | ".join(line) + " |" for line in esc]) + "\n"
    widths = [max(len(c) for c in col) for col in zip(COLUMNS, *body)]
    left = {0, 1, 5, 8}          # text columns; numbers align right

    def fmt(line):
        return "  ".join(c.ljust(w) if k in left else c.rjust(w)
                         for k, (c, w) in enumerate(zip(line, widths))).rstrip()
    return "\n".join([fmt(COLUMNS), "  ".join("-" * w for w in widths)] + [fmt(line) for line in body]) + "\n"


def header(gpu: bool) -> str:
    import torch

    parts = [f"torch {torch.__version__}", f"CUDA {torch.version.cuda or 'none'}"]
    if gpu:
        parts.insert(0, f"GPU: {torch.cuda.get_device_name(0)}")
        parts.append(f"cuDNN {torch.backends.cudnn.version()}")
    parts.append(f"{cpu_count()} CPU cores")
    return " · ".join(parts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labs", default=None, help="comma-separated labs or lab/job names (default: all)")
    ap.add_argument("--seconds", type=float, default=None,
                    help="the class's time limit per job (default: the class default, RNNLAB_MAX_JOB_SECONDS or 300)")
    ap.add_argument("--cpu", action=argparse.BooleanOptionalAction, default=True,
                    help="also run each job on the CPU, for the speed-up (default: yes)")
    ap.add_argument("--cpu-only", action="store_true", help="the CPU runs alone (no GPU needed)")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the table to this markdown file")
    ap.add_argument("--seed", type=int, default=0, help="the seed every page sends (the sidebar's default: 0)")
    args = ap.parse_args(argv)
    jobs = select(all_jobs(), args.labs)

    import torch

    gpu = torch.cuda.is_available() and torch.cuda.device_count() > 0
    if not gpu and not args.cpu_only:
        print(NO_CUDA)
        return 0
    lim = env_settings().limits()
    if args.seconds is not None:
        lim = dataclasses.replace(lim, max_seconds=float(args.seconds))
    top = header(gpu and not args.cpu_only)
    print(top)
    most = sum(j.limit(lim) for j in jobs) / 60
    print(f"{len(jobs)} job(s), class time limit {lim.max_seconds:.0f} s per job, seed {args.seed}; at most "
          f"{most:.0f} min per device (their time limits: most end well before)\n", flush=True)
    rows = []
    t0 = time.perf_counter()
    if not args.cpu_only:
        rows += run_all(jobs, "cuda:0", lim, args.seed)
    if args.cpu or args.cpu_only:
        rows += run_all(jobs, "cpu", lim, args.seed)
    order = {j.name: k for k, j in enumerate(jobs)}
    rows = sorted(add_speed_ups(rows), key=lambda r: (order[r["lab"]], r["device"] == "cpu"))
    print(f"\n{top}\n")
    print(format_table(rows), end="")
    print(f"\n{time.perf_counter() - t0:.0f} s in all")
    if args.markdown is not None:
        args.markdown.write_text(f"{top}; class time limit {lim.max_seconds:.0f} s per job.\n\n"
                                 + format_table(rows, markdown=True))
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
