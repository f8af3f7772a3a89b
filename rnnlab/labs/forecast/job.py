"""The live run of the Forecasting lab, as a job of :mod:`rnnlab.runtime.jobs`: :func:`forecast_job`, and
what the page reads from its events (:func:`loss_curves`)."""
from __future__ import annotations

import time

import numpy as np

from ...data.series import Series, split_series
from ...train import History
from ..baselines import metrics
from .comparison import METRICS, best_method, summarise, verdict
from .model import Forecaster, planned_steps, rnn_label, rollout
from .recipes import ForecastRecipe
from .training import check_recipe, holdout_truth, mase_scale, rnn_forecasts, score_baselines, train_one


def _epoch_of(history: History, step: int | None) -> int | None:
    if step is None:
        return None
    return next((e["epoch"] for e in history.evals if e["step"] == step), None)


def describe_run(history: History, seed: int, patience: int) -> str:
    """How one seed's training ended, counted in epochs (as the loss chart is)."""
    epochs = len(history.evals)
    best = _epoch_of(history, history.best_step)
    kept = f"; best epoch {best} kept" if best else ""
    if history.status == "early_stopped":
        return (f"seed {seed}: early-stopped after epoch {epochs} (no better validation loss for {patience} "
                f"epochs){kept}")
    if history.status == "done":
        return f"seed {seed}: all {epochs} epochs{kept}"
    if history.status == "diverged":
        return f"seed {seed}: diverged in epoch {epochs + 1}. " + history.message
    what = "stopped by the user" if history.status == "cancelled" else "stopped at the time limit"
    return f"seed {seed}: {what} after {epochs} full epoch{'s' if epochs != 1 else ''}{kept}"


class _Relay:
    """Forwards one seed's trainer events to the job, tagged with the seed, steps counted across seeds,
    and each validation carrying the mean training loss of its epoch (what the loss chart draws)."""

    def __init__(self, ctx, seed: int, offset: int):
        self.ctx, self.seed, self.offset = ctx, seed, offset
        self.losses: list[float] = []

    def __call__(self, event) -> None:
        data = dict(event.data)
        if event.kind == "step":
            self.losses.append(float(data.get("loss", float("nan"))))
        if event.kind == "eval":
            data["train_loss"] = float(np.mean(self.losses)) if self.losses else float("nan")
            self.losses = []
        self.ctx.emit(event.kind, event.step + self.offset, event.epoch, seed=self.seed, **data)


def loss_curves(events) -> dict[int, dict]:
    """From a job's events: per seed, the epochs with their mean training and validation losses, the epochs
    where the learning rate dropped, and the early-stop epoch (None if it did not stop early)."""
    curves: dict[int, dict] = {}
    for e in events:
        if e.kind not in ("eval", "lr", "early_stop") or "seed" not in e.data:
            continue
        c = curves.setdefault(int(e.data["seed"]), {"epochs": [], "train": [], "val": [], "lr_drops": [],
                                                    "early_stop": None})
        if e.kind == "eval":
            c["epochs"].append(e.epoch)
            c["train"].append(e.data.get("train_loss", float("nan")))
            c["val"].append(e.data.get("loss", float("nan")))
        elif e.kind == "lr":
            c["lr_drops"].append(e.epoch)
        else:
            c["early_stop"] = e.epoch
    return curves


def forecast_job(ctx, series: dict, recipe: dict, seeds: int = 3, seed: int = 0, with_arima: bool = True,
                 eval_reserve: float = 4.0) -> dict:
    """The live run of the Forecasting lab, in a worker process.

    Phases: preparing windows → scoring baselines (ARIMA included) → training (``seeds`` networks,
    seeds ``seed``, ``seed``+1, …) → evaluating. A stop or the time limit ends any phase; training keeps
    what it has (each seed's best validated weights) and the evaluation then scores the seeds that trained
    at least one epoch, unless Stop is pressed again. Each seed gets an equal share of the time left.

    Events for the page: ``baselines`` (their table, before any training), the trainer's events tagged with
    ``seed``, and ``seed_done`` (the table so far) as each seed is scored.
    The result: the table (mean ± sd over seeds), the verdict, each method's test forecasts, the first
    scored seed's free-running rollout and its weights (state_dict only)."""
    started = time.monotonic()
    ctx.phase("preparing windows")
    s = Series.from_plain(series)
    r = ForecastRecipe.from_dict(recipe)
    check_recipe(s, r)
    split = split_series(s, r.window, r.horizon)
    ctx.check()
    ctx.phase("scoring baselines")
    notes: list[str] = []
    base_fc = score_baselines(split, with_arima, check=ctx.check, notes=notes)
    origins, truth = holdout_truth(split)
    scale = mase_scale(split)
    base_metrics = {k: metrics(truth, v, scale) for k, v in base_fc.items()}
    ctx.emit("baselines", rows=summarise(rnn_label(r), [], base_metrics))
    ctx.check()

    seed_steps = planned_steps(len(split.parts["train"][0]), r, 1)
    name = rnn_label(r)
    histories: list[tuple[int, History]] = []
    forecasts: dict[str, np.ndarray] = {}
    first_model: Forecaster | None = None
    per_seed: list[dict] = []
    rnn_metrics: list[dict] = []
    stopped_by = None
    for k in range(seeds):
        sd = seed + k
        ctx.phase("training", seed=sd, of=seeds, index=k)
        share = (ctx.remaining() - eval_reserve) / (seeds - k)
        if share <= 1 and k > 0:
            stopped_by = "time_limit"
            break
        deadline = time.monotonic() + max(share, 1.0)

        def should_stop(deadline=deadline):
            reason = ctx.should_stop()
            if reason:
                return reason
            return "time_limit" if time.monotonic() > deadline else None

        relay = _Relay(ctx, sd, k * seed_steps)
        model, history = train_one(split, r, sd, relay, should_stop, ctx.device)
        histories.append((sd, history))
        epochs = len(history.evals)
        row = {"seed": sd, "status": history.status, "epochs": epochs,
               "best_epoch": _epoch_of(history, history.best_step) or 0, "seconds": history.seconds,
               "text": describe_run(history, sd, r.patience)}
        # each seed is scored as soon as it has trained (one forward pass): the page shows it at once
        if epochs >= 1 and history.status != "diverged" and ctx.stop_requests < 2:
            pred = rnn_forecasts(model, split, r)
            if first_model is None:
                first_model, forecasts[name] = model, pred
            met = metrics(truth, pred, scale)
            row.update(met)
            rnn_metrics.append(met)
        per_seed.append(row)
        ctx.emit("seed_done", seed=sd, row=row, rows=summarise(name, rnn_metrics, base_metrics))
        if history.status in ("cancelled", "diverged") or ctx.should_stop():
            stopped_by = history.status if history.status in ("cancelled", "diverged") else ctx.should_stop()
            break

    ctx.phase("evaluating")
    forecasts.update(base_fc)
    roll = np.zeros(0)
    if first_model is not None and ctx.stop_requests < 2:
        t0 = split.bounds[1]
        roll = rollout(first_model, split, t0, len(s) - t0, r.strategy,
                       keep_going=lambda: ctx.stop_requests < 2 and ctx.remaining() > 0)
    rows = summarise(name, rnn_metrics, base_metrics)
    v = verdict(rows)
    best_base = best_method(rows, "baseline")

    statuses = [h.status for _, h in histories]
    if stopped_by == "cancelled" or "cancelled" in statuses:
        status = "cancelled"
    elif stopped_by == "diverged" or "diverged" in statuses:
        status = "diverged"
    elif stopped_by == "time_limit" or "time_limit" in statuses:
        status = "time_limit"
    elif statuses and all(st == "early_stopped" for st in statuses):
        status = "early_stopped"
    else:
        status = "done"
    trained = len(rnn_metrics)
    message = (f"{trained} of {seeds} seed{'s' if seeds > 1 else ''} trained and scored in "
               f"{time.monotonic() - started:.0f} s.")
    if status == "early_stopped":
        message += " Every seed stopped early: its validation loss had stopped improving."
    elif status == "time_limit" and trained < seeds:
        message += " The time limit left no time for the other seeds: fewer epochs or seeds would fit."
    elif status == "diverged":
        message += " " + next(h.message for _, h in histories if h.status == "diverged")
    metrics_out = {}
    rnn_row = next((row for row in rows if row["kind"] == "rnn"), None)
    if rnn_row is not None:
        for m in METRICS:
            metrics_out[f"rnn_{m}"] = rnn_row[m]
            metrics_out[f"rnn_{m}_sd"] = rnn_row[f"{m}_sd"]
    if best_base is not None:
        for m in METRICS:
            metrics_out[f"baseline_{m}"] = best_base[m]
    metrics_out["seeds_trained"] = float(trained)
    first_scored = next((p for p in per_seed if "MASE" in p), None)
    return {
        "status": status, "message": message,
        "epochs_completed": first_scored["epochs"] if first_scored else 0,
        "metrics": metrics_out,
        "best_baseline": best_base["method"] if best_base else "",
        "rnn_name": name,
        "rows": rows,
        "verdict": {"outcome": v.outcome, "text": v.text, "metric": v.metric, "ratio": v.ratio,
                    "baseline": v.baseline},
        "per_seed": per_seed,
        "notes": notes,
        "origins": origins, "truth": truth, "forecasts": forecasts, "rollout": roll,
        "bounds": list(split.bounds), "period": s.period if s.period else 0,
        "weights_seed": first_scored["seed"] if first_scored else None,
        "state_dict": {k: v.detach().cpu() for k, v in first_model.state_dict().items()} if first_model else {},
        "config": {**r.to_dict(), "n_features": int(s.values.shape[1]), "seeds": seeds, "seed": seed},
    }
