"""Several seeds against the baselines: the table (mean ± sd over seeds), the best method, the verdict
computed from those numbers, and the tables the page and the benchmark show or download."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...data.series import Series, split_series
from ..baselines import method_kind, metrics
from .training import holdout_truth, mase_scale, score_baselines

METRICS = ("MASE", "MAE", "RMSE")


def summarise(rnn_name: str, rnn_per_seed: list[dict], baselines: dict[str, dict]) -> list[dict]:
    """One row per method: each metric's mean and sd over the RNN's seeds (baselines have no seed: sd 0).

    ``rnn_per_seed``: one {"MASE", "MAE", "RMSE"} per trained seed; ``baselines``: name -> metrics."""
    rows = []
    if rnn_per_seed:
        row = {"method": rnn_name, "kind": "rnn", "n": len(rnn_per_seed)}
        for m in METRICS:
            vals = np.array([r[m] for r in rnn_per_seed], float)
            row[m] = float(vals.mean())
            row[f"{m}_sd"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
            row[f"{m}_seeds"] = vals.tolist()
        rows.append(row)
    for name, met in baselines.items():
        rows.append({"method": name, "kind": "baseline", "n": 1,
                     **{m: float(met[m]) for m in METRICS}, **{f"{m}_sd": 0.0 for m in METRICS},
                     **{f"{m}_seeds": [float(met[m])] for m in METRICS}})
    return rows


def ranking_metric(rows: list[dict]) -> str:
    """MASE when every method has one (it is undefined for a series whose training part never changes)."""
    return "MASE" if rows and all(math.isfinite(r["MASE"]) for r in rows) else "MAE"


def best_method(rows: list[dict], kind: str | None = None) -> dict | None:
    """The row with the lowest mean ranking metric (among ``kind`` rows if given); None if none is finite."""
    metric = ranking_metric(rows)
    pool = [r for r in rows if (kind is None or r["kind"] == kind) and math.isfinite(r[metric])]
    return min(pool, key=lambda r: r[metric]) if pool else None


@dataclass
class Verdict:
    outcome: str          # "wins", "loses", "mixed" or "none" (no RNN or no baseline to compare)
    text: str             # one markdown sentence for the page
    metric: str = "MASE"
    rnn: str = ""
    baseline: str = ""
    ratio: float = float("nan")    # best baseline's metric / the RNN's mean (> 1: the RNN is better)


def _fmt(v: float) -> str:
    return f"{v:.3g}" if math.isfinite(v) else "n/a"


def _margin(big: float, small: float, word: str) -> str:
    """How much worse the worse method is: "12% lower" / "2.4× higher" (a factor once it is 1.5 or more)."""
    r = big / small
    return f"{r:.1f}× {word}" if r >= 1.5 else f"{(1 - small / big if word == 'lower' else r - 1):.0%} {word}"


def verdict(rows: list[dict]) -> Verdict:
    """Who wins, from the table: the RNN wins when *every* seed beats the best baseline, loses when every
    seed is beaten by it, and otherwise the result depends on the seed (too close to call)."""
    metric = ranking_metric(rows)
    rnn = next((r for r in rows if r["kind"] == "rnn" and math.isfinite(r[metric])), None)
    base = best_method(rows, "baseline")
    if rnn is None or base is None:
        return Verdict("none", "Nothing to compare yet.", metric)
    seeds = [v for v in rnn[f"{metric}_seeds"] if math.isfinite(v)]
    n = len(seeds)
    b = base[metric]
    ratio = b / rnn[metric] if rnn[metric] > 0 else float("inf")
    spread = f"{_fmt(rnn[metric])} ± {_fmt(rnn[f'{metric}_sd'])} over {n} seeds" if n > 1 else \
        f"{_fmt(rnn[metric])} (one seed: train more seeds before concluding)"
    name, bname = rnn["method"], base["method"]
    better = sum(v < b for v in seeds)
    if better == n:
        margin = f" ({_margin(b, rnn[metric], 'lower')})" if rnn[metric] > 0 else ""
        text = f"**The {name} wins**: {metric} {spread}, against {_fmt(b)} for **{bname}**, the best baseline{margin}."
        return Verdict("wins", text, metric, name, bname, ratio)
    if better == 0:
        margin = f" ({_margin(rnn[metric], b, 'higher')})" if b > 0 else ""
        text = f"**{bname} beats the {name}**: {metric} {_fmt(b)}, against {spread} for the network{margin}."
        return Verdict("loses", text, metric, name, bname, ratio)
    text = (f"**Too close to call**: {better} of {n} seeds of the {name} beat **{bname}** ({metric} {spread}, "
            f"against {_fmt(b)}). The difference is within the spread between seeds.")
    return Verdict("mixed", text, metric, name, bname, ratio)


def quick_baselines(series: Series, window: int, horizon: int) -> list[dict]:
    """The baselines that cost milliseconds (naive, seasonal naive, linear AR), scored on the test part:
    what the page shows at once, before any training. ARIMA (seconds) is scored by the job."""
    split = split_series(series, window, horizon)
    _, truth = holdout_truth(split)
    scale = mase_scale(split)
    return summarise("", [], {k: metrics(truth, v, scale) for k, v in score_baselines(split, False).items()})


def outside_training_range(y: np.ndarray, bounds: tuple[int, int]) -> float:
    """The share of the test part's values outside [min, max] of the training part: how far the test asks a
    model to extrapolate (a network fitted on the training range rarely leaves it)."""
    train, test = y[:bounds[0]], y[bounds[1]:]
    if len(test) == 0:
        return 0.0
    return float(np.mean((test > train.max()) | (test < train.min())))


def origins_fit(origins: np.ndarray, horizon: int, n: int) -> bool:
    """Whether every forecast from ``origins`` (``horizon`` steps each) lies inside a series of ``n`` points
    (a stored result can outlive the series it was made on: then there is nothing to draw)."""
    origins = np.asarray(origins)
    return not (len(origins) and origins.max() + horizon > n)


def bench_rows(doc: dict) -> list[dict]:
    """The table stored by ``bench/forecast.py --write``: one row per series, the network's MASE as
    "mean ± sd" and each baseline's MASE, with the verdict computed from those rows."""
    out = []
    for r in doc.get("results", []):
        names = {"rnn": "GRU", "naive": "naive", "seasonal": "seasonal naive", "ar": "AR", "arima": "ARIMA"}
        # the numbers first (a phone shows the left columns), what the series tests last
        row = {"series": r["name"], **{v: "–" for v in names.values()}}   # "–": not scored (no season found)
        for m in r["rows"]:
            kind = method_kind(m["method"])
            row[names[kind]] = f"{m['MASE']:.3f}" + (f" ± {m['MASE_sd']:.3f}" if kind == "rnn" and m["n"] > 1 else "")
        row["verdict"] = {"wins": "GRU wins", "loses": "a baseline wins", "mixed": "too close",
                          "none": "–"}[verdict(r["rows"]).outcome]
        row.update({"horizon": r.get("horizon"), "points": r.get("points"), "what it tests": r.get("why", "")})
        out.append(row)
    return out


def forecasts_frame(time_axis, origins: np.ndarray, truth: np.ndarray, forecasts: dict[str, np.ndarray]):
    """Test-part forecasts as a table (one row per origin and step ahead), for download as CSV."""
    import pandas as pd

    rows = []
    for k, o in enumerate(origins):
        for h in range(truth.shape[1]):
            row = {"time": time_axis[o + h], "origin_index": int(o), "steps_ahead": h + 1, "truth": truth[k, h]}
            for name, pred in forecasts.items():
                row[name] = pred[k, h]
            rows.append(row)
    return pd.DataFrame(rows)


def bench_provenance(doc: dict) -> dict:
    """Where the shipped benchmark was measured: its dates (", ") and machines ("; "), each sorted and once,
    and the lowest and highest load average of its runs (a run without one counts 0)."""
    results = doc["results"]
    loads = [r.get("load", 0) for r in results]
    return {"dates": ", ".join(sorted({r["date"] for r in results})),
            "machines": "; ".join(sorted({r["machine"] for r in results})),
            "load_min": min(loads), "load_max": max(loads)}


def series_by_verdict(rows: list[dict]) -> dict[str, list[str]]:
    """:func:`bench_rows` grouped by verdict: verdict -> the series' names, both in the order they come."""
    by: dict[str, list[str]] = {}
    for r in rows:
        by.setdefault(r["verdict"], []).append(r["series"])
    return by
