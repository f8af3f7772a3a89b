"""Figures for the forecasting lab: the series and its split, forecasts against the truth, residuals, and
the loss per epoch of every seed.

Every line has a legend entry (markers such as "learning rate halved" are traces, not bare shapes), and
long series are thinned to at most ``MAX_POINTS`` points per line, keeping each bucket's minimum and
maximum so that peaks survive: a chart stays a few hundred kilobytes whatever was uploaded.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..labs.baselines import method_kind
from .style import COLORS, COLORWAY, OKABE_ITO, WINE, base_layout, rgba

MAX_POINTS = 2_000
KIND_COLORS = {"rnn": OKABE_ITO["blue"], "naive": "#757575", "seasonal": OKABE_ITO["orange"],
               "ar": OKABE_ITO["bluish_green"], "arima": WINE}
SEED_COLORS = COLORWAY[:5]
# name, shading, legend swatch
#: The shaded parts of the series (blue, orange, vermillion: no red–green pair), the test part in the colour of
#: the "test part starts" line.
REGIONS = (("train", rgba(OKABE_ITO["blue"], 0.10), rgba(OKABE_ITO["blue"], 0.45)),
           ("validation", rgba(OKABE_ITO["orange"], 0.13), rgba(OKABE_ITO["orange"], 0.5)),
           ("test", rgba(COLORS["output"], 0.11), rgba(COLORS["output"], 0.45)))
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.18, x=0, xanchor="left")


def downsample(x, y, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points: each of ``max_points // 2`` buckets keeps its lowest and highest
    point, in time order (the line's envelope is unchanged)."""
    x, y = np.asarray(x), np.asarray(y, float)
    n = len(y)
    if n <= max_points:
        return x, y
    buckets = max(max_points // 2, 1)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    keep = []
    for a, b in zip(edges[:-1], edges[1:]):
        if b <= a:
            continue
        seg = y[a:b]
        finite = np.isfinite(seg)
        if not finite.any():
            keep.append(a)
            continue
        lo = a + int(np.nanargmin(np.where(finite, seg, np.nan)))
        hi = a + int(np.nanargmax(np.where(finite, seg, np.nan)))
        keep.extend(sorted({lo, hi}))
    idx = np.array(keep)
    return x[idx], y[idx]


def _regions(fig: go.Figure, time, bounds: tuple[int, int]) -> None:
    edges = [0, bounds[0], bounds[1], len(time) - 1]
    n = len(time)
    for (name, color, swatch), a, b in zip(REGIONS, edges[:-1], edges[1:]):
        fig.add_vrect(x0=time[a], x1=time[b], fillcolor=color, line_width=0, layer="below")
        share = (b - a + (1 if b == n - 1 else 0)) / n
        # the shaded regions are named in the legend (a text label would not fit a phone's width)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"{name} ({share:.0%})",
                                 marker=dict(symbol="square", size=14, color=swatch),
                                 hoverinfo="skip"))


def series_figure(time, values, name: str, bounds: tuple[int, int] | None = None, height: int = 300) -> go.Figure:
    """The whole series, with the chronological train / validation / test regions shaded (300 px high by
    default: it shares a projector's first screen with the series choice)."""
    x, y = downsample(time, values)
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines", name=name, line=dict(color="#333333", width=1.5),
                               hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    if bounds is not None:
        _regions(fig, time, bounds)
    title = name if len(name) <= 40 else name[:38] + "…"
    layout = base_layout(height=height, title=title)
    layout["margin"]["t"] = 44      # a one-line title needs no more
    fig.update_layout(**layout, legend=LEGEND_BELOW)
    return fig


def method_style(name: str, best: bool = False) -> dict:
    kind = method_kind(name)
    color = KIND_COLORS[kind]
    if kind == "rnn":
        return dict(color=color, width=3)
    return dict(color=color, width=2.6 if best else 1.8, dash=None if best else "dot")


def forecast_figure(time, y, origins: np.ndarray, forecasts: dict[str, np.ndarray], bounds, step: int = 0,
                    rollout: np.ndarray | None = None, show: list[str] | None = None,
                    best: str | None = None) -> go.Figure:
    """The test part: truth, each shown method's ``step``-ahead forecast, and the free-running rollout.

    ``best`` (the method with the lowest error) is always drawn, marked ★ in the legend."""
    t0 = bounds[1]
    lo = max(t0 - 3 * max(len(origins) // 10, 10), 0)
    x, yy = downsample(time[lo:], y[lo:])
    fig = go.Figure(go.Scatter(x=x, y=yy, mode="lines", name="truth", line=dict(color="#111", width=3),
                               hovertemplate="%{x}: truth %{y:.4g}<extra></extra>"))
    idx = origins + step
    keep = idx < len(time)
    for name, pred in forecasts.items():
        is_best = name == best
        if show is not None and name not in show and not is_best:
            continue
        px, py = downsample(time[idx[keep]], pred[keep, step])
        fig.add_trace(go.Scatter(x=px, y=py, mode="lines", name=name + (" ★ best" if is_best else ""),
                                 line=method_style(name, is_best),
                                 hovertemplate="%{x}: " + name + " %{y:.4g}<extra></extra>"))
    if rollout is not None and len(rollout):
        rx, ry = downsample(time[t0:t0 + len(rollout)], rollout)
        fig.add_trace(go.Scatter(x=rx, y=ry, mode="lines", name="network running free",
                                 line=dict(color=COLORS["highlight"], width=2.5, dash="dash"),
                                 hovertemplate="%{x}: running free %{y:.4g}<extra></extra>"))
    finite = np.concatenate([yy[np.isfinite(yy)]] + [p[keep, step][np.isfinite(p[keep, step])]
                                                      for p in forecasts.values()])
    if len(finite):
        fig.add_trace(go.Scatter(x=[time[t0], time[t0]], y=[float(finite.min()), float(finite.max())],
                                 mode="lines", name="test part starts", line=dict(color=COLORS["output"], dash="dash"),
                                 hoverinfo="skip"))
    ahead = "1 step ahead" if step == 0 else f"{step + 1} steps ahead"
    fig.update_layout(**base_layout(height=440, title=f"Test part: {ahead}"), legend=LEGEND_BELOW)
    return fig


def residual_figure(time, origins: np.ndarray, truth: np.ndarray, forecasts: dict[str, np.ndarray],
                    step: int = 0, best: str | None = None) -> go.Figure:
    """Forecast − truth at each test origin, per method."""
    fig = go.Figure()
    idx = origins + step
    for name, pred in forecasts.items():
        x, r = downsample(time[idx], pred[:, step] - truth[:, step])
        fig.add_trace(go.Scatter(x=x, y=r, mode="lines", name=name + (" ★ best" if name == best else ""),
                                 line={**method_style(name, name == best), "dash": None},
                                 hovertemplate="%{x}: " + name + " error %{y:.4g}<extra></extra>"))
    if len(idx):
        fig.add_trace(go.Scatter(x=[time[idx[0]], time[idx[-1]]], y=[0, 0], mode="lines", name="no error",
                                 line=dict(color="#111", width=1, dash="dash"), hoverinfo="skip"))
    fig.update_layout(**base_layout(height=340, title="Residuals (forecast − truth)"), legend=LEGEND_BELOW)
    return fig


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values 1, 2 and 5 × 10^k inside [lo, hi] (a few readable labels on a log axis, whatever its range);
    only the powers of ten when that gives at least three; three rounded values on a narrow range."""
    if not (lo > 0 and hi >= lo):
        return []
    decades = range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
    powers = [10.0 ** k for k in decades if lo <= 10.0 ** k <= hi]
    if len(powers) >= 3:
        return powers
    ticks = [m * 10.0 ** k for k in decades for m in (1, 2, 5) if lo <= m * 10.0 ** k <= hi]
    if len(ticks) >= 2:
        return ticks
    return sorted({float(f"{v:.2g}") for v in np.geomspace(lo, hi, 3)})     # a narrow range: 3 rounded values


def loss_figure(curves: dict[int, dict]) -> go.Figure:
    """Mean training loss and validation loss per epoch for each seed (log scale), with the epochs where
    the learning rate was halved and where early stopping ended the run."""
    fig = go.Figure()
    values = [v for c in curves.values() for v in c["train"] + c["val"] if np.isfinite(v) and v > 0]
    lo, hi = (min(values), max(values)) if values else (1e-3, 1.0)
    lr_x, lr_y, stop_x, stop_y = [], [], [], []
    for k, (seed, c) in enumerate(sorted(curves.items())):
        color = SEED_COLORS[k % len(SEED_COLORS)]
        fig.add_trace(go.Scatter(x=c["epochs"], y=c["val"], mode="lines+markers", name=f"seed {seed}: validation",
                                 legendgroup=str(seed), line=dict(color=color, width=2.5),
                                 hovertemplate="epoch %{x}: validation %{y:.4g}<extra></extra>"))
        fig.add_trace(go.Scatter(x=c["epochs"], y=c["train"], mode="lines", name=f"seed {seed}: training",
                                 legendgroup=str(seed), line=dict(color=color, width=1.5, dash="dot"),
                                 hovertemplate="epoch %{x}: training %{y:.4g}<extra></extra>"))
        for e in c["lr_drops"]:
            lr_x += [e, e, None]
            lr_y += [lo, hi, None]
        if c["early_stop"] is not None:
            stop_x += [c["early_stop"], c["early_stop"], None]
            stop_y += [lo, hi, None]
    if lr_x:
        fig.add_trace(go.Scatter(x=lr_x, y=lr_y, mode="lines", name="learning rate halved",
                                 line=dict(color=WINE, dash="dot", width=1.5), hoverinfo="skip"))
    if stop_x:
        fig.add_trace(go.Scatter(x=stop_x, y=stop_y, mode="lines", name="early stop",
                                 line=dict(color=COLORS["output"], width=2), hoverinfo="skip"))
    ticks = log_ticks(lo, hi)
    fig.update_yaxes(type="log", title="MSE (scaled)", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    last = max((max(c["epochs"]) for c in curves.values() if c["epochs"]), default=1)
    # no axis title under the ticks: the legend sits there (the chart's title says "per epoch")
    fig.update_xaxes(dtick=max(1, int(np.ceil(last / 10))), tick0=0, rangemode="tozero")
    fig.update_layout(**base_layout(height=360, title="Loss per epoch"), legend=LEGEND_BELOW)
    return fig
