"""Figures for the forecasting lab: the series and its split, forecasts against the truth, residuals."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .style import COLORS, base_layout

METHOD_COLORS = ["#1565c0", "#9e9e9e", "#8d6e63", "#2e7d32", "#6a1b9a", "#ef6c00"]
REGIONS = (("train", "rgba(46,125,50,0.07)"), ("validation", "rgba(239,108,0,0.09)"), ("test", "rgba(198,40,40,0.08)"))


def _regions(fig: go.Figure, time, bounds: tuple[int, int]) -> None:
    edges = [0, bounds[0], bounds[1], len(time) - 1]
    for (name, color), a, b in zip(REGIONS, edges[:-1], edges[1:]):
        fig.add_vrect(x0=time[a], x1=time[b], fillcolor=color, line_width=0, annotation_text=name,
                      annotation_position="top left", annotation_font=dict(size=13, color="#444"))


def series_figure(time, values, name: str, bounds: tuple[int, int] | None = None) -> go.Figure:
    """The whole series, with the chronological train / validation / test regions shaded."""
    fig = go.Figure(go.Scatter(x=time, y=values, mode="lines", name=name, line=dict(color="#263238", width=1.5),
                               hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    if bounds is not None:
        _regions(fig, time, bounds)
    fig.update_layout(**base_layout(height=330, title=name), showlegend=False)
    return fig


def forecast_figure(time, y, origins: np.ndarray, forecasts: dict[str, np.ndarray], bounds, step: int = 0,
                    rollout: np.ndarray | None = None, show: list[str] | None = None) -> go.Figure:
    """The test part: truth, each method's ``step``-ahead forecast, and the free-running rollout."""
    t0 = bounds[1]
    lo = max(t0 - 3 * max(len(origins) // 10, 10), 0)
    fig = go.Figure(go.Scatter(x=time[lo:], y=y[lo:], mode="lines", name="truth", line=dict(color="#111", width=3),
                               hovertemplate="%{x}: truth %{y:.4g}<extra></extra>"))
    idx = origins + step
    keep = idx < len(time)
    for k, (name, pred) in enumerate(forecasts.items()):
        if show is not None and name not in show:
            continue
        fig.add_trace(go.Scatter(x=time[idx[keep]], y=pred[keep, step], mode="lines", name=name,
                                 line=dict(color=METHOD_COLORS[k % len(METHOD_COLORS)], width=3 if k == 0 else 1.8,
                                           dash=None if k == 0 else "dot"),
                                 hovertemplate="%{x}: " + name + " %{y:.4g}<extra></extra>"))
    if rollout is not None and len(rollout):
        fig.add_trace(go.Scatter(x=time[t0:t0 + len(rollout)], y=rollout, mode="lines", name="RNN rollout (free-running)",
                                 line=dict(color=COLORS["highlight"], width=2.5, dash="dash"),
                                 hovertemplate="%{x}: rollout %{y:.4g}<extra></extra>"))
    fig.add_vline(x=time[t0], line=dict(color="#c62828", dash="dash"))
    fig.update_layout(**base_layout(height=420, title=f"Test part: {step + 1}-step-ahead forecasts vs the truth"),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def residual_figure(time, origins: np.ndarray, truth: np.ndarray, forecasts: dict[str, np.ndarray],
                    step: int = 0) -> go.Figure:
    fig = go.Figure()
    for k, (name, pred) in enumerate(forecasts.items()):
        fig.add_trace(go.Scatter(x=time[origins + step], y=pred[:, step] - truth[:, step], mode="lines", name=name,
                                 visible=True if k < 2 else "legendonly",
                                 line=dict(color=METHOD_COLORS[k % len(METHOD_COLORS)], width=2 if k == 0 else 1.2),
                                 hovertemplate="%{x}: " + name + " error %{y:.4g}<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="#555"))
    fig.update_layout(**base_layout(height=320, title="Residuals (forecast − truth) on the test part"),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def loss_figure(steps_or_epochs: list[int], train: list[float], val: list[float], lr_drops: list[int] = (),
                early_stop: int | None = None) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps_or_epochs, y=train, mode="lines+markers", name="train (MSE)",
                             line=dict(color=COLORS["hidden"], width=2.5)))
    fig.add_trace(go.Scatter(x=steps_or_epochs, y=val, mode="lines+markers", name="validation (MSE)",
                             line=dict(color=COLORS["highlight"], width=2.5)))
    for s in lr_drops:
        fig.add_vline(x=s, line=dict(color="#6a1b9a", dash="dot"), annotation_text="LR ÷2", annotation_position="top")
    if early_stop is not None:
        fig.add_vline(x=early_stop, line=dict(color=COLORS["output"], width=2), annotation_text="early stop")
    fig.update_yaxes(type="log")
    fig.update_layout(**base_layout(height=330, title="Loss per epoch (scaled units)"), xaxis_title="epoch",
                      legend=dict(orientation="h", y=-0.25))
    return fig
