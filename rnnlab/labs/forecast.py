"""Recurrent forecasters, trained with the shared trainer and compared with the baselines.

The guide's section 7 model (preset ``guide``):
    GRU(64, return_sequences=True) -> GRU(32) -> Dense(32, relu) -> Dropout(0.2) -> Dense(1)
    Adam 1e-3, MSE loss, MAE metric, EarlyStopping(patience=5, restore_best_weights), ReduceLROnPlateau(0.5, 3)

Multi-step forecasts: *direct* (the last layer outputs all h future values at once) or *recursive*
(one step at a time, each prediction fed back in as the newest input; univariate series only).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .baselines import all_baselines, metrics, naive_scale
from ..nn.layers import make_recurrent
from ..data.series import Series, Split, split_series
from ..train import History, TrainConfig, Trainer


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
    epochs: int = 50
    patience: int = 5
    lr_patience: int = 3
    lr_factor: float = 0.5
    clip: float | None = None


PRESETS = {"guide": ForecastRecipe()}


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
    X = torch.from_numpy(np.stack([scaled[o - window:o] for o in origins])).float().to(device)
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
def rollout(model: Forecaster, split: Split, start: int, steps: int, strategy: str) -> np.ndarray:
    """A free-running forecast of ``steps`` values from ``start`` (original units): recursive feeds its own
    predictions back; direct predicts ``horizon`` at a time and moves on by that much."""
    scaled = split.scaled.copy()
    w, h = split.window, split.horizon
    preds = []
    t = start
    while len(preds) < steps and t < len(scaled):
        block = predict_from(model, scaled, np.array([t]), w, h if strategy == "direct" else 1, strategy)[0]
        for v in block:
            if t >= len(scaled) or len(preds) >= steps:
                break
            scaled[t, 0] = v     # only the target is fed back; other features keep their observed values
            preds.append(v)
            t += 1
    return split.scaler.inverse_target(np.array(preds))


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
    """Window, split, scale, train with early stopping and LR drops, then evaluate against the baselines."""
    if recipe.strategy == "recursive" and series.values.shape[1] > 1 and recipe.horizon > 1:
        raise ValueError("recursive multi-step forecasts need a univariate series (future features are unknown); "
                         "use the direct strategy")
    split = split_series(series, recipe.window, recipe.horizon)
    Xtr, Ytr, _ = split.parts["train"]
    Xva, Yva, _ = split.parts["val"]
    if len(Xtr) < 10 or len(Xva) < 1:
        raise ValueError("too few windows to train on: use a longer series or a shorter window")
    torch.manual_seed(seed)
    model = Forecaster(series.values.shape[1], recipe)
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
    y = series.target
    v0, t0 = split.bounds
    _, Yte, origins = split.parts["test"]
    truth = split.scaler.inverse_target(Yte)
    rnn_name = f"{recipe.cell} ({recipe.strategy})" if recipe.horizon > 1 else recipe.cell
    forecasts = {rnn_name: split.scaler.inverse_target(
        predict_from(model, split.scaled, origins, recipe.window, recipe.horizon, recipe.strategy))}
    period = series.period
    base = all_baselines(y, v0, origins, recipe.horizon, period, ar_order=min(recipe.window, 30), with_arima=with_arima)
    forecasts.update(base)
    scale = naive_scale(y[:v0])
    table = [{"method": name, **metrics(truth, pred, scale)} for name, pred in forecasts.items()]
    roll = rollout(model, split, t0, len(y) - t0, recipe.strategy)
    return ForecastResult(split, model, history, origins, truth, forecasts, table, roll, period)


def forecasts_frame(result: ForecastResult):
    """Test-part forecasts as a table (one row per origin and step ahead), for download as CSV."""
    import pandas as pd

    time = result.split.series.time
    rows = []
    for k, o in enumerate(result.origins):
        for h in range(result.truth.shape[1]):
            row = {"time": time[o + h], "origin_index": int(o), "steps_ahead": h + 1, "truth": result.truth[k, h]}
            for name, pred in result.forecasts.items():
                row[name] = pred[k, h]
            rows.append(row)
    return pd.DataFrame(rows)
