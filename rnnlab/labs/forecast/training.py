"""One network trained in this process (:func:`train_one`, :func:`train_forecaster`), the baselines'
forecasts of the same test part, and the truth and scale they are scored against."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ...data.series import Series, Split, split_series
from ...train import History, TrainConfig, Trainer
from ..baselines import all_baselines, metrics, naive_scale
from .model import Forecaster, build_model, predict_from, rnn_label, rollout
from .recipes import ForecastRecipe


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
