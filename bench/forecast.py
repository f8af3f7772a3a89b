"""The Forecasting lab's numbers: MASE of every method on every series, the network's as mean ± sd over
seeds, exactly as the page's job computes them (same split, same baselines, same preset), and how soon the
default run shows its first metrics.

    python -m bench.forecast              # 6 series x 3 seeds, the guide's preset (a few minutes on 2 cores)
    python -m bench.forecast --seeds 1 --series trend,chaos      # quicker
    python -m bench.forecast --write      # also store the table for the page (assets/forecast/bench.json;
                                          # with --series, only those rows are replaced)

Targets: on the default (trended) series, the baselines' metrics within 10 s of pressing Train and the
first seed's within 30 s (1 worker x 1 torch thread, as on a 2-core class server); on Mackey-Glass
sampled every 6 units, 5 steps ahead, the GRU beats AR and ARIMA on every seed.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

from rnnlab.data.series import BUILTIN, split_series
from rnnlab.labs.baselines import method_kind
from rnnlab.labs.forecast import SCENARIOS, ForecastRecipe, build_model, forecast_job, verdict
from rnnlab.runtime.device import seed_everything
from rnnlab.runtime.jobs import JobContext

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "assets" / "forecast" / "bench.json"

#: name -> (built-in series, its parameters, window, horizon, why it is here)
SERIES = {
    "trend": (SCENARIOS["trend"].series, SCENARIOS["trend"].series_kwargs, SCENARIOS["trend"].window,
              SCENARIOS["trend"].horizon,
              "the page's default: the trend lifts the test part beyond the training range"),
    "chaos": (SCENARIOS["chaos"].series, SCENARIOS["chaos"].series_kwargs, SCENARIOS["chaos"].window,
              SCENARIOS["chaos"].horizon, "nonlinear dynamics, 5 samples ahead"),
    "chaos-1": ("Mackey-Glass chaos", {"n": 2000, "tau": 17, "every": 1}, 30, 1,
                "the same system sampled finely, 1 step ahead: locally almost linear"),
    "sine": ("sine", {"n": 2000, "period": 50, "noise": 0.05}, 30, 1, "periodic with a little noise"),
    "ar2": ("AR(2) process", {"n": 2000}, 30, 1, "linear by construction: AR is the true model"),
    "sunspots": ("sunspots (statsmodels)", {}, 30, 1, "309 yearly values: very little data"),
}


def run(name: str, seeds: int, seed: int, epochs: int) -> dict:
    series_name, kwargs, window, horizon, why = SERIES[name]
    make = BUILTIN[series_name]
    if "seed" in make.__code__.co_varnames:
        kwargs = {**kwargs, "seed": seed}
    series = make(**kwargs)
    recipe = ForecastRecipe(window=window, horizon=horizon, epochs=epochs)
    events: list = []
    ctx = JobContext(0, lambda msg: events.append(msg.event), None, max_seconds=3600)
    seed_everything(seed)                    # what the worker process does before a job
    t0 = time.perf_counter()
    result = forecast_job(ctx, series.to_plain(), recipe.to_dict(), seeds=seeds, seed=seed)
    total = time.perf_counter() - t0
    t_base = next(e.t for e in events if e.kind == "baselines")
    t_first = next((e.t for e in events if e.kind == "seed_done"), total)
    return {"name": name, "series": series.name, "why": why, "window": window, "horizon": horizon,
            "points": len(series), "rows": result["rows"], "verdict": verdict(result["rows"]).text,
            "outcome": verdict(result["rows"]).outcome, "per_seed": result["per_seed"],
            "seconds": {"baselines": t_base, "first_seed": t_first, "total": total}}


def plain_loop_seconds(name: str, epochs: int, seed: int) -> tuple[float, float]:
    """(seconds, seconds per epoch) of a hand-written PyTorch loop (no validation, no events) training the
    same model on the same windows for ``epochs`` epochs: the reference for the trainer's overhead."""
    series_name, kwargs, window, horizon, _ = SERIES[name]
    make = BUILTIN[series_name]
    series = make(**({**kwargs, "seed": seed} if "seed" in make.__code__.co_varnames else kwargs))
    recipe = ForecastRecipe(window=window, horizon=horizon)
    split = split_series(series, window, horizon)
    X, Y, _ = split.parts["train"]
    X, Y = torch.from_numpy(X).float(), torch.from_numpy(Y).float()
    model = build_model(X.shape[2], recipe, seed)
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(X), generator=gen)
        for s in range(0, len(X), recipe.batch_size):
            idx = perm[s:s + recipe.batch_size]
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(X[idx]), Y[idx]).backward()
            opt.step()
    seconds = time.perf_counter() - t0
    return seconds, seconds / max(epochs, 1)


def upload_and_chart_costs() -> None:
    """A 2,000,000-row CSV through the upload path (time and peak memory), and the size of the page's figures
    for the longest series it keeps (the old page sent a 32 MB chart per run)."""
    import tracemalloc

    from rnnlab.data.series import MAX_POINTS, read_table, series_from_table
    from rnnlab.figures.forecast import forecast_figure, residual_figure, series_figure
    from rnnlab.labs.forecast import holdout_truth, score_baselines

    raw = b"t,v\n" + b"".join(b"%d,%d\n" % (i, (i * 7919) % 10) for i in range(2_000_000))   # 19 MB
    tracemalloc.start()
    t0 = time.perf_counter()
    table = read_table(raw)
    series = series_from_table(table, "v", [], "t")
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"upload: {len(raw) / 1e6:.1f} MB, 2,000,000 rows -> the last {len(series):,} kept in {seconds:.2f} s, "
          f"{peak / 1e6:.1f} MB of Python memory at most besides the file; target: within seconds")
    y = np.sin(np.arange(MAX_POINTS) / 7.0) + 0.001 * np.arange(MAX_POINTS)
    from rnnlab.data.series import Series
    from rnnlab.data.series import split_series as split_of

    s = Series("long", np.arange(MAX_POINTS), y[:, None], ["v"])
    split = split_of(s, 30, 10)
    origins, truth = holdout_truth(split)
    fc = score_baselines(split, with_arima=False)
    rollout = fc["naive (last value)"][:, 0]
    sizes = {"series": len(series_figure(s.time, s.target, s.name, split.bounds).to_json()),
             "forecasts": len(forecast_figure(s.time, s.target, origins, fc, split.bounds, 9, rollout).to_json()),
             "residuals": len(residual_figure(s.time, origins, truth, fc, 9).to_json())}
    print(f"charts for a {MAX_POINTS:,}-point series, horizon 10: " +
          ", ".join(f"{k} {v / 1e3:.0f} kB" for k, v in sizes.items()))


def _fmt(row: dict) -> str:
    if row["kind"] == "rnn" and row["n"] > 1:
        return f"{row['MASE']:.3f} ± {row['MASE_sd']:.3f}"
    return f"{row['MASE']:.3f}" if math.isfinite(row["MASE"]) else "n/a"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", default=",".join(SERIES), help="comma-separated: " + ", ".join(SERIES))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=ForecastRecipe().epochs)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (a class server's worker has 1)")
    ap.add_argument("--write", action="store_true", help=f"store the results in {OUT.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = [s.strip() for s in args.series.split(",") if s.strip()]
    upload_and_chart_costs()
    print()
    print(f"torch {torch.__version__}, {args.threads} thread(s), {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; the guide's preset (GRU 64 -> 32, Dense 32), {args.epochs} epochs max, "
          f"early stopping 5, seeds {args.seed}..{args.seed + args.seeds - 1}\n")
    results = []
    kinds = ["rnn", "naive", "seasonal", "ar", "arima"]
    header = f"{'series':<10}{'GRU':>18}{'naive':>9}{'seasonal':>10}{'AR':>9}{'ARIMA':>9}   verdict"
    print("MASE on the test part (lower is better; below 1 beats the naive one-step forecast)")
    print(header)
    for name in names:
        r = run(name, args.seeds, args.seed, args.epochs)
        results.append(r)
        by_kind = {method_kind(row["method"]): row for row in r["rows"]}
        cells = [f"{_fmt(by_kind[k]) if k in by_kind else '–':>{18 if k == 'rnn' else 10 if k == 'seasonal' else 9}}"
                 for k in kinds]
        print(f"{name:<10}" + "".join(cells) + f"   {r['outcome']}", flush=True)
    print()
    for r in results:
        s = r["seconds"]
        print(f"{r['name']:<10} {r['series']} ({r['points']} points, window {r['window']}, horizon {r['horizon']}): "
              f"baselines at {s['baselines']:.1f} s, first seed at {s['first_seed']:.1f} s, all at {s['total']:.1f} s")
        print("           " + r["verdict"].replace("**", ""))
        print("           " + "; ".join(p["text"] for p in r["per_seed"]))
    default = next((r for r in results if r["name"] == "trend"), None)
    if default is not None:
        first = default["per_seed"][0]
        plain, per_epoch = plain_loop_seconds("trend", first["epochs"], first["seed"])
        print(f"\ntrainer overhead: seed {first['seed']} trained {first['epochs']} epochs in {first['seconds']:.1f} s "
              f"(with validation each epoch); a plain PyTorch loop, same model, windows and epochs: {plain:.1f} s "
              f"({per_epoch:.2f} s/epoch); ratio {first['seconds'] / plain:.2f}")
        s = default["seconds"]
        print(f"\ntarget: default run's first metrics (the baselines) <= 10 s -> {s['baselines']:.1f} s "
              f"{'PASS' if s['baselines'] <= 10 else 'FAIL'}; first seed <= 30 s -> {s['first_seed']:.1f} s "
              f"{'PASS' if s['first_seed'] <= 30 else 'FAIL'}")
    chaos = next((r for r in results if r["name"] == "chaos"), None)
    if chaos is not None:
        print(f"target: the GRU beats AR and ARIMA on every seed on 'chaos' -> "
              f"{'PASS' if chaos['outcome'] == 'wins' else 'FAIL'}")
    if args.write:
        # rows of series not run this time are kept: the table can be refreshed one series at a time
        old = json.loads(OUT.read_text()) if OUT.exists() else {}
        if old.get("seeds") != args.seeds or old.get("epochs") != args.epochs:
            old = {}
        machine = f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} thread(s)"
        fresh = {r["name"]: {**{k: v for k, v in r.items() if k != "per_seed"}, "date": date.today().isoformat(),
                             "machine": machine, "load": round(os.getloadavg()[0], 1)} for r in results}
        kept = {r["name"]: r for r in old.get("results", []) if r["name"] not in fresh}
        merged = {**kept, **fresh}
        doc = {"command": "python -m bench.forecast --write", "seeds": args.seeds, "epochs": args.epochs,
               "results": [merged[n] for n in SERIES if n in merged]}
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(doc, indent=1, default=float))
        print(f"\nwritten: {OUT.relative_to(ROOT)} ({', '.join(r['name'] for r in doc['results'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
