"""The recurrent forecaster: stacked recurrent layers read a window, a small head outputs the next value (or
all ``horizon`` of them: *direct*), and the forecasts it makes, one-shot or free-running (*recursive*)."""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ...data.series import Split
from ...nn.init import seeded
from ...nn.layers import make_recurrent
from .recipes import ForecastRecipe


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
