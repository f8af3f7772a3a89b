"""Figures for one time step: bar charts of vectors, heatmaps of weight blocks, states over time."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..nn.cells import GATE_DESCRIPTIONS
from .style import COLORS, DIVERGING, base_layout

TITLES = {"h": "h (hidden state)", "c": "c (cell state)", "h_prev": "h (previous)", "c_prev": "c (previous)",
          **{g: f"{g}: {d.split(':')[0]}" for g, d in GATE_DESCRIPTIONS.items()}}
BOUNDED01 = {"i", "f", "o", "r", "z"}


def vector_bars(vectors: dict[str, np.ndarray], title: str | None = None) -> go.Figure:
    """One small bar chart per named vector, each bar labelled with its value.

    Gates (i, f, o, r, z) share the axis 0..1; tanh outputs (h, g, n) -1..1; c is unbounded."""
    names = list(vectors)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[TITLES.get(n, n) for n in names],
                        horizontal_spacing=0.06)
    for k, name in enumerate(names, start=1):
        v = np.asarray(vectors[name], dtype=float)
        units = [f"unit {j}" for j in range(len(v))]
        color = [COLORS["output"] if val < 0 else COLORS["hidden"] for val in v]
        fig.add_trace(go.Bar(x=units, y=v, name=name, text=[f"{val:.2f}" for val in v], textposition="outside",
                             marker_color=color, hovertemplate=f"{name}[%{{x}}] = %{{y:.4f}}<extra></extra>",
                             cliponaxis=False), row=1, col=k)
        top = float(np.abs(v).max(initial=0.0)) * 1.3
        rng = [0, 1.15] if name in BOUNDED01 else [-max(top, 1.2), max(top, 1.2)]
        fig.update_yaxes(range=rng, row=1, col=k)
        fig.update_xaxes(showticklabels=len(v) <= 8, row=1, col=k)
    fig.update_layout(**base_layout(height=320, title=title), showlegend=False)
    return fig


def weight_heatmaps(blocks: dict[str, np.ndarray], title: str | None = None) -> go.Figure:
    """Heatmaps of weight blocks or vectors side by side (for hidden sizes too large to write out)."""
    names = list(blocks)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.05)
    for k, name in enumerate(names, start=1):
        m = np.asarray(blocks[name], dtype=float)
        if m.ndim == 1:
            m = m[:, None]
        lim = float(np.abs(m).max(initial=1e-9))
        fig.add_trace(go.Heatmap(z=m, zmin=-lim, zmax=lim, colorscale=DIVERGING, showscale=k == len(names),
                                 hovertemplate=f"{name}[%{{y}}, %{{x}}] = %{{z:.4f}}<extra></extra>"), row=1, col=k)
        fig.update_yaxes(autorange="reversed", row=1, col=k)
    fig.update_layout(**base_layout(height=320, title=title))
    return fig


def state_history(history: dict[str, np.ndarray], labels: list[str], current: int) -> go.Figure:
    """h (and c) of every unit over the steps so far; the current step is marked."""
    names = list(history)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[TITLES.get(n, n) + " over time" for n in names])
    steps = list(range(1, current + 2))
    for r, name in enumerate(names, start=1):
        arr = np.asarray(history[name])
        for j in range(arr.shape[1]):
            fig.add_trace(go.Scatter(x=steps, y=arr[:, j], mode="lines+markers", name=f"{name}[{j}]",
                                     legendgroup=name, showlegend=r == 1,
                                     customdata=labels[: current + 1],
                                     hovertemplate=f"step %{{x}} (%{{customdata}}): {name}[{j}] = %{{y:.3f}}<extra></extra>"),
                          row=r, col=1)
        fig.add_vline(x=current + 1, line=dict(color=COLORS["highlight"], width=2, dash="dot"), row=r, col=1)
    fig.update_xaxes(title_text="time step", row=len(names), col=1)
    fig.update_layout(**base_layout(height=260 * len(names) + 40), legend=dict(orientation="h", y=-0.2))
    return fig
