"""The live run of the Forecasting lab, as a job of :mod:`rnnlab.runtime.jobs`: :func:`forecast_job`, and
what the page reads from its events (:func:`loss_curves`).

The job is a :class:`_ForecastRun` taken through its phases in order, one method each: preparing windows,
scoring baselines, training (one seed at a time), evaluating, and the result."""
from __future__ import annotations

import time

import numpy as np

from ...data.series import Series, split_series
from ...status import Status, worst_status
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
    if history.status == Status.EARLY_STOPPED:
        return (f"seed {seed}: early-stopped after epoch {epochs} (no better validation loss for {patience} "
                f"epochs){kept}")
    if history.status == Status.FINISHED:
        return f"seed {seed}: all {epochs} epochs{kept}"
    if history.status == Status.DIVERGED:
        return f"seed {seed}: diverged in epoch {epochs + 1}. " + history.message
    what = "stopped by the user" if history.status == Status.STOPPED else "stopped at the time limit"
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
    run = _ForecastRun(ctx, seeds, seed)
    run.prepare_windows(series, recipe)
    run.score_baselines(with_arima)
    for k in range(seeds):
        if not run.train_seed(k, eval_reserve):
            break
    run.evaluate()
    return run.result()


class _ForecastRun:
    """One live run, phase by phase (see :func:`forecast_job`): the windows, the baselines' scores, and each
    trained seed's history, row and metrics as they come."""

    def __init__(self, ctx, seeds: int, seed: int):
        self.ctx, self.seeds, self.seed = ctx, seeds, seed
        self.started = time.monotonic()
        self.histories: list[tuple[int, History]] = []
        self.forecasts: dict[str, np.ndarray] = {}
        self.first_model: Forecaster | None = None   # the first scored seed's: its rollout and weights are kept
        self.per_seed: list[dict] = []
        self.rnn_metrics: list[dict] = []
        self.stopped_by: Status | None = None       # why no further seed was trained

    def prepare_windows(self, series: dict, recipe: dict) -> None:
        self.ctx.phase("preparing windows")
        self.s = Series.from_plain(series)
        self.r = ForecastRecipe.from_dict(recipe)
        check_recipe(self.s, self.r)
        self.split = split_series(self.s, self.r.window, self.r.horizon)
        self.name = rnn_label(self.r)
        self.ctx.check()

    def score_baselines(self, with_arima: bool) -> None:
        """Every baseline's test forecasts and metrics, sent to the page before any training."""
        ctx = self.ctx
        ctx.phase("scoring baselines")
        self.notes: list[str] = []
        self.base_fc = score_baselines(self.split, with_arima, check=ctx.check, notes=self.notes)
        self.origins, self.truth = holdout_truth(self.split)
        self.scale = mase_scale(self.split)
        self.base_metrics = {k: metrics(self.truth, v, self.scale) for k, v in self.base_fc.items()}
        ctx.emit("baselines", rows=summarise(self.name, [], self.base_metrics))
        ctx.check()

    def train_seed(self, k: int, eval_reserve: float) -> bool:
        """Train and score the ``k``-th seed within its share of the time left (keeping ``eval_reserve`` seconds
        for the evaluation); whether the next seed should follow."""
        ctx, sd = self.ctx, self.seed + k
        ctx.phase("training", seed=sd, of=self.seeds, index=k)
        share = (ctx.remaining() - eval_reserve) / (self.seeds - k)
        if share <= 1 and k > 0:
            self.stopped_by = Status.TIME_LIMIT
            return False
        deadline = time.monotonic() + max(share, 1.0)

        def should_stop():
            reason = ctx.should_stop()
            if reason:
                return reason
            return Status.TIME_LIMIT if time.monotonic() > deadline else None

        # steps count on across seeds: seed k's first step follows the planned steps of the seeds before it
        relay = _Relay(ctx, sd, k * planned_steps(len(self.split.parts["train"][0]), self.r, 1))
        model, history = train_one(self.split, self.r, sd, relay, should_stop, ctx.device)
        self.histories.append((sd, history))
        row = self.score_seed(sd, model, history)
        self.per_seed.append(row)
        ctx.emit("seed_done", seed=sd, row=row, rows=summarise(self.name, self.rnn_metrics, self.base_metrics))
        ended = history.status in (Status.STOPPED, Status.DIVERGED)
        if ended or ctx.should_stop():
            self.stopped_by = history.status if ended else ctx.should_stop()
            return False
        return True

    def score_seed(self, sd: int, model: Forecaster, history: History) -> dict:
        """The seed's row: how its training ended and, once it trained an epoch, its test metrics."""
        epochs = len(history.evals)
        row = {"seed": sd, "status": history.status, "epochs": epochs,
               "best_epoch": _epoch_of(history, history.best_step) or 0, "seconds": history.seconds,
               "text": describe_run(history, sd, self.r.patience)}
        # each seed is scored as soon as it has trained (one forward pass): the page shows it at once
        if epochs >= 1 and history.status != Status.DIVERGED and self.ctx.stop_requests < 2:
            pred = rnn_forecasts(model, self.split, self.r)
            if self.first_model is None:
                self.first_model, self.forecasts[self.name] = model, pred
            met = metrics(self.truth, pred, self.scale)
            row.update(met)
            self.rnn_metrics.append(met)
        return row

    def evaluate(self) -> None:
        """The first scored seed's free-running rollout over the test part (stoppable), and
        the table over seeds."""
        ctx = self.ctx
        ctx.phase("evaluating")
        self.forecasts.update(self.base_fc)
        self.roll = np.zeros(0)
        if self.first_model is not None and ctx.stop_requests < 2:
            t0 = self.split.bounds[1]
            self.roll = rollout(self.first_model, self.split, t0, len(self.s) - t0, self.r.strategy,
                                keep_going=lambda: ctx.stop_requests < 2 and ctx.remaining() > 0)
        self.rows = summarise(self.name, self.rnn_metrics, self.base_metrics)

    def result(self) -> dict:
        rows, s, r, first_model = self.rows, self.s, self.r, self.first_model
        v = verdict(rows)
        best_base = best_method(rows, "baseline")
        status = self.status()
        first_scored = next((p for p in self.per_seed if "MASE" in p), None)
        return {
            "status": status, "message": self.message(status),
            "epochs_completed": first_scored["epochs"] if first_scored else 0,
            "metrics": _headline_metrics(rows, best_base, len(self.rnn_metrics)),
            "best_baseline": best_base["method"] if best_base else "",
            "rnn_name": self.name,
            "rows": rows,
            "verdict": {"outcome": v.outcome, "text": v.text, "metric": v.metric, "ratio": v.ratio,
                        "baseline": v.baseline},
            "per_seed": self.per_seed,
            "notes": self.notes,
            "origins": self.origins, "truth": self.truth, "forecasts": self.forecasts, "rollout": self.roll,
            "bounds": list(self.split.bounds), "period": s.period if s.period else 0,
            "weights_seed": first_scored["seed"] if first_scored else None,
            "state_dict": {k: v.detach().cpu() for k, v in first_model.state_dict().items()} if first_model else {},
            "config": {**r.to_dict(), "n_features": int(s.values.shape[1]), "seeds": self.seeds, "seed": self.seed},
        }

    def status(self) -> Status:
        """The run's status: the worst of its seeds' and of why no further seed was trained."""
        ended = [h.status for _, h in self.histories]
        if self.stopped_by is not None:
            ended.append(self.stopped_by)
        return worst_status(ended)

    def message(self, status: Status) -> str:
        trained, seeds = len(self.rnn_metrics), self.seeds
        message = (f"{trained} of {seeds} seed{'s' if seeds > 1 else ''} trained and scored in "
                   f"{time.monotonic() - self.started:.0f} s.")
        if status == Status.EARLY_STOPPED:
            early, ran = sum(h.status == Status.EARLY_STOPPED for _, h in self.histories), len(self.histories)
            message += (" Every seed stopped early: its validation loss had stopped improving." if early == ran else
                        f" {early} of {ran} seeds stopped early: their validation loss had stopped improving.")
        elif status == Status.TIME_LIMIT and trained < seeds:
            message += " The time limit left no time for the other seeds: fewer epochs or seeds would fit."
        elif status == Status.DIVERGED:
            message += " " + next(h.message for _, h in self.histories if h.status == Status.DIVERGED)
        return message


def _headline_metrics(rows: list[dict], best_base: dict | None, trained: int) -> dict:
    """The job's ``metrics``: the network's mean and sd of each metric, the best baseline's, seeds trained."""
    out = {}
    rnn_row = next((row for row in rows if row["kind"] == "rnn"), None)
    if rnn_row is not None:
        for m in METRICS:
            out[f"rnn_{m}"] = rnn_row[m]
            out[f"rnn_{m}_sd"] = rnn_row[f"{m}_sd"]
    if best_base is not None:
        for m in METRICS:
            out[f"baseline_{m}"] = best_base[m]
    out["seeds_trained"] = float(trained)
    return out
