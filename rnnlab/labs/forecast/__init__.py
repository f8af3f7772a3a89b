"""Recurrent forecasters, trained with the shared trainer and compared honestly with the baselines.

The guide's section 7 model (preset ``guide``):
    GRU(64, return_sequences=True) -> GRU(32) -> Dense(32, relu) -> Dropout(0.2) -> Dense(1)
    Adam 1e-3, MSE loss, MAE metric, EarlyStopping(patience=5, restore_best_weights), ReduceLROnPlateau(0.5, 3)

Multi-step forecasts: *direct* (the last layer outputs all h future values at once) or *recursive*
(one step at a time, each prediction fed back in as the newest input; univariate series only).

A live run is the job :func:`forecast_job`: it scores the baselines (ARIMA included), trains the network
with several seeds, and reports every method's MASE, MAE and RMSE as mean ± sd over the seeds. The
verdict on the page (:func:`verdict`) is computed from those numbers, never written in advance: on a
trended series the GRU loses to a linear model, on a chaotic one it wins (see ``SCENARIOS``).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...data.series import Series, Split, split_series
from ...nn.init import seeded
from ...nn.layers import make_recurrent
from ...train import History, TrainConfig, Trainer
from ..baselines import all_baselines, method_kind, metrics, naive_scale


@dataclass
class ForecastRecipe:
    cell: str = "GRU"
    hidden_sizes: tuple[int, ...] = (64, 32)
    dense: int = 32
    dropout: float = 0.2
    window: int = 30
    horizon: int = 1
    strategy: str = "direct"        # "direct" or "recursive" (for horizon > 1)
    lr: float = 1e-3
    batch_size: int = 32
    epochs: int = 20
    patience: int = 5
    lr_patience: int = 3
    lr_factor: float = 0.5
    clip: float | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden_sizes"] = list(self.hidden_sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ForecastRecipe:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if "hidden_sizes" in kw:
            kw["hidden_sizes"] = tuple(int(h) for h in kw["hidden_sizes"])
        return cls(**kw)


PRESETS = {"guide": ForecastRecipe()}


@dataclass(frozen=True)
class Scenario:
    """A series and settings that teach one thing; the page's buttons and the benchmark both use these."""

    title: str
    series: str                       # a key of rnnlab.data.series.BUILTIN
    series_kwargs: dict
    window: int
    horizon: int
    why: str


SCENARIOS = {
    "trend": Scenario(
        "Trend: the simple methods win", "sum of sines + trend + noise", {"n": 2000}, 30, 1,
        "The trend lifts the test part above most of what the network saw in training, and a network fitted "
        "to the training part's range rarely produces values beyond it; a linear AR model simply carries the "
        "pattern on. Each next value is also close to a linear function of the last few: nothing for a "
        "nonlinear model to add."),
    "chaos": Scenario(
        "Chaos: the GRU wins", "Mackey-Glass chaos", {"n": 2000, "tau": 17, "every": 6}, 20, 5,
        "Mackey–Glass with τ = 17 is deterministic but chaotic: each value is a smooth *nonlinear* function "
        "of the recent past. Sampled every 6 time units and forecast 5 samples (30 time units) ahead, that "
        "function is far from linear, so AR and ARIMA (linear) miss what the GRU learns."),
}


class Forecaster(nn.Module):
    def __init__(self, n_features: int, recipe: ForecastRecipe):
        super().__init__()
        self.rnns = nn.ModuleList()
        size = n_features
        for h in recipe.hidden_sizes:
            self.rnns.append(make_recurrent(recipe.cell, size, h, batch_first=True))
            size = h
        out = recipe.horizon if recipe.strategy == "direct" else 1
        self.head = nn.Sequential(nn.Linear(size, recipe.dense), nn.ReLU(), nn.Dropout(recipe.dropout),
                                  nn.Linear(recipe.dense, out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for rnn in self.rnns:
            x, _ = rnn(x)            # every layer returns its sequence; the head reads the last step
        return self.head(x[:, -1])


def build_model(n_features: int, recipe: ForecastRecipe, seed: int) -> Forecaster:
    """The forecaster with weights drawn from ``seed`` (never from torch's global generator)."""
    return seeded(lambda: Forecaster(n_features, recipe), seed)


def count_params(n_features: int, recipe: ForecastRecipe) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in Forecaster(n_features, recipe).parameters())


def planned_steps(n_train_windows: int, recipe: ForecastRecipe, seeds: int) -> int:
    """Training steps if no seed stops early (the job counts steps on across seeds): the progress bar's end."""
    return math.ceil(n_train_windows / recipe.batch_size) * recipe.epochs * seeds


def rnn_label(recipe: ForecastRecipe) -> str:
    return f"{recipe.cell} ({recipe.strategy})" if recipe.horizon > 1 else recipe.cell


def _loss(model, batch):
    x, y = batch
    pred = model(x)
    y = y[:, :pred.shape[1]]
    return F.mse_loss(pred, y), {"mae": (pred - y).abs().mean()}


def _batches(X, Y, size, seed):
    class Epochs:
        def __init__(self):
            self.epoch = 0

        def __iter__(self):
            self.epoch += 1
            order = np.random.default_rng(seed + self.epoch).permutation(len(X))
            for s in range(0, len(X), size):
                idx = order[s:s + size]
                yield torch.from_numpy(X[idx]).float(), torch.from_numpy(Y[idx]).float()

    return Epochs()


@torch.no_grad()
def predict_from(model: Forecaster, scaled: np.ndarray, origins: np.ndarray, window: int, horizon: int,
                 strategy: str) -> np.ndarray:
    """Scaled forecasts (n_origins, horizon) from each origin, using scaled[:origin] only."""
    model.eval()
    device = next(model.parameters()).device
    X = torch.from_numpy(scaled[origins[:, None] + np.arange(-window, 0)[None, :]]).float().to(device)
    if strategy == "direct":
        return model(X).cpu().numpy()[:, :horizon]
    out = []
    for _ in range(horizon):
        p = model(X)[:, 0]
        out.append(p.cpu().numpy())
        nxt = X[:, -1:].clone()
        nxt[:, 0, 0] = p
        X = torch.cat([X[:, 1:], nxt], dim=1)
    return np.stack(out, axis=1)


@torch.no_grad()
def rollout(model: Forecaster, split: Split, start: int, steps: int, strategy: str,
            keep_going: Callable[[], bool] | None = None) -> np.ndarray:
    """A free-running forecast of up to ``steps`` values from ``start`` (original units): recursive feeds its
    own predictions back; direct predicts ``horizon`` at a time and moves on by that much. Stops early
    (returning what it has) when ``keep_going()`` turns false."""
    scaled = split.scaled.copy()
    w, h = split.window, split.horizon
    preds: list[float] = []
    t = start
    while len(preds) < steps and t < len(scaled):
        if keep_going is not None and not keep_going():
            break
        block = predict_from(model, scaled, np.array([t]), w, h if strategy == "direct" else 1, strategy)[0]
        for v in block:
            if t >= len(scaled) or len(preds) >= steps:
                break
            scaled[t, 0] = v     # only the target is fed back; other features keep their observed values
            preds.append(float(v))
            t += 1
    return split.scaler.inverse_target(np.array(preds))


def score_baselines(split: Split, with_arima: bool = True, check: Callable[[], None] | None = None,
                    notes: list[str] | None = None) -> dict[str, np.ndarray]:
    """Every baseline's forecasts of the test part, in the series' units.

    They are fitted on the standardised target (the training part's mean and sd) and mapped back: the
    same forecasts in any unit, and no overflow or underflow for series measured in 1e9s or 1e-9s."""
    _, _, origins = split.parts["test"]
    y = split.scaled[:, 0]
    base = all_baselines(y, split.bounds[0], origins, split.horizon, split.series.period,
                         ar_order=min(split.window, 30), with_arima=with_arima, check=check, notes=notes)
    return {k: split.scaler.inverse_target(v) for k, v in base.items()}


def holdout_truth(split: Split) -> tuple[np.ndarray, np.ndarray]:
    """(origins, truth (n, horizon) in the series' units) of the test part."""
    _, Yte, origins = split.parts["test"]
    return origins, split.scaler.inverse_target(Yte)


def mase_scale(split: Split) -> float:
    return naive_scale(split.series.target[:split.bounds[0]])


def train_one(split: Split, recipe: ForecastRecipe, seed: int, on_event: Callable | None = None,
              should_stop: Callable[[], str | None] | None = None, device: str | None = None
              ) -> tuple[Forecaster, History]:
    """Train one network (weights and batch order from ``seed``) with early stopping and LR drops."""
    Xtr, Ytr, _ = split.parts["train"]
    Xva, Yva, _ = split.parts["val"]
    if len(Xtr) < 10 or len(Xva) < 1:
        raise ValueError("too few windows to train on: use a longer series or a shorter window")
    model = build_model(split.scaled.shape[1], recipe, seed)
    config = TrainConfig(lr=recipe.lr, clip=recipe.clip, epochs=recipe.epochs, early_stopping=recipe.patience,
                         lr_patience=recipe.lr_patience, lr_factor=recipe.lr_factor, seed=seed, device=device,
                         monitor="loss", mode="min")
    trainer = Trainer(model, _loss, config, on_event=on_event, should_stop=should_stop)
    xv, yv = torch.from_numpy(Xva).float(), torch.from_numpy(Yva).float()

    def validate(m):
        loss, extra = _loss(m, trainer._to_device((xv, yv)))
        return {"loss": loss, **extra}

    history = trainer.fit(_batches(Xtr, Ytr, recipe.batch_size, seed), validate)
    model.eval()
    return model, history


def rnn_forecasts(model: Forecaster, split: Split, recipe: ForecastRecipe) -> np.ndarray:
    origins, _ = holdout_truth(split)
    return split.scaler.inverse_target(
        predict_from(model, split.scaled, origins, recipe.window, recipe.horizon, recipe.strategy))


def check_recipe(series: Series, recipe: ForecastRecipe) -> None:
    if recipe.strategy == "recursive" and series.values.shape[1] > 1 and recipe.horizon > 1:
        raise ValueError("recursive multi-step forecasts need a univariate series (future features are unknown); "
                         "use the direct strategy")


@dataclass
class ForecastResult:
    split: Split
    model: Forecaster
    history: History
    origins: np.ndarray                                   # test origins (target indices)
    truth: np.ndarray                                     # (n, horizon), original units
    forecasts: dict[str, np.ndarray] = field(default_factory=dict)   # name -> (n, horizon), original units
    table: list[dict] = field(default_factory=list)      # one row of metrics per method
    rollout: np.ndarray | None = None
    period: int | None = None


def train_forecaster(series: Series, recipe: ForecastRecipe, seed: int = 0, on_event: Callable | None = None,
                     should_stop: Callable[[], bool] | None = None, device: str | None = None,
                     with_arima: bool = True) -> ForecastResult:
    """One seed, start to end, in this process (scripts and tests; the app runs :func:`forecast_job`)."""
    check_recipe(series, recipe)
    split = split_series(series, recipe.window, recipe.horizon)
    model, history = train_one(split, recipe, seed, on_event, should_stop, device)
    origins, truth = holdout_truth(split)
    forecasts = {rnn_label(recipe): rnn_forecasts(model, split, recipe)}
    forecasts.update(score_baselines(split, with_arima))
    scale = mase_scale(split)
    table = [{"method": name, **metrics(truth, pred, scale)} for name, pred in forecasts.items()]
    roll = rollout(model, split, split.bounds[1], len(series) - split.bounds[1], recipe.strategy)
    return ForecastResult(split, model, history, origins, truth, forecasts, table, roll, series.period)


# --- several seeds: the table, the best method, the verdict -------------------------------------------
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


# --- the live training job ----------------------------------------------------------------------------
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


__all__ = ["ForecastRecipe", "PRESETS", "SCENARIOS", "Scenario", "Forecaster", "build_model", "count_params",
           "rnn_label", "predict_from", "rollout", "score_baselines", "train_one", "train_forecaster",
           "summarise", "quick_baselines", "best_method", "verdict", "Verdict", "forecast_job", "loss_curves",
           "forecasts_frame", "method_kind", "describe_run", "bench_rows", "outside_training_range",
           "planned_steps"]
