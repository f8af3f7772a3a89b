"""Figures for looking inside a model's memory while it reads a text."""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from ..nn.cells import GATE_DESCRIPTIONS
from .style import CELL_COLORS, COLORS, DIVERGING, SEQUENTIAL, base_layout

SIGNAL_TITLES = {"h": "h: hidden state", "c": "c: cell state",
                 **{g: f"{g}: {d}" for g, d in GATE_DESCRIPTIONS.items()}}


def token_labels(tokens: list[str], start: int = 0) -> list[str]:
    """Unique axis labels ``"12 word"`` (Plotly merges equal category labels)."""
    return [f"{start + k} {t}" for k, t in enumerate(tokens)]


def activation_heatmap(signal: np.ndarray, tokens: list[str], name: str, start: int = 0) -> go.Figure:
    """Units x tokens; ``signal`` is (H, T) for the tokens shown, ``start`` the first token's index."""
    signal = np.asarray(signal)
    gate = name not in ("h", "c", "g", "n")
    if gate:
        zmin, zmax, scale = 0.0, 1.0, SEQUENTIAL
    else:
        lim = max(float(np.abs(signal).max(initial=0.0)), 1e-6) if name == "c" else 1.0
        zmin, zmax, scale = -lim, lim, DIVERGING
    fig = go.Figure(go.Heatmap(
        z=signal, x=token_labels(tokens, start), y=[f"unit {u}" for u in range(signal.shape[0])],
        zmin=zmin, zmax=zmax, colorscale=scale, colorbar=dict(title=name, thickness=14),
        hovertemplate="token %{x}<br>%{y}<br>" + name + " = %{z:.3f}<extra></extra>"))
    fig.update_layout(**base_layout(height=max(260, 14 * signal.shape[0] + 150), title=SIGNAL_TITLES.get(name, name)))
    fig.update_xaxes(tickangle=-60, tickfont=dict(size=12), type="category")
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=11))
    return fig


def _color(value: float, vmin: float, vmax: float, diverging: bool) -> str:
    if diverging:
        lim = max(abs(vmin), abs(vmax), 1e-9)
        s = max(-1.0, min(1.0, value / lim))
        # red for positive, blue for negative, white at zero
        if s >= 0:
            r, g, b = 255, int(255 * (1 - 0.75 * s)), int(255 * (1 - 0.75 * s))
        else:
            r, g, b = int(255 * (1 + 0.75 * s)), int(255 * (1 + 0.45 * s)), 255
    else:
        s = 0.0 if vmax <= vmin else max(0.0, min(1.0, (value - vmin) / (vmax - vmin)))
        r, g, b = int(255 - 200 * s), int(255 - 120 * s), int(255 - 30 * s)
    return f"rgb({r},{g},{b})"


def colored_text_html(tokens: list[str], values: np.ndarray, vmin: float, vmax: float,
                      diverging: bool = True, label: str = "") -> str:
    """The text as HTML, each token's background coloured by its value (LSTMVis-style).

    Tokens are HTML-escaped: a review with ``<script>`` in it is shown, never run."""
    spans = []
    for k, (tok, v) in enumerate(zip(tokens, np.asarray(values, dtype=float))):
        spans.append(f'<span title="{k} {html.escape(tok)}: {label} = {v:.3f}" '
                     f'style="background:{_color(v, vmin, vmax, diverging)};padding:2px 3px;margin:1px;'
                     f'border-radius:3px;display:inline-block">{html.escape(tok)}</span>')
    return ('<div style="line-height:2.1;font-size:1.05rem;color:#111;font-family:sans-serif">'
            + " ".join(spans) + "</div>")


def saturation_bars(saturation: dict[str, tuple[float, float]]) -> go.Figure:
    names = list(saturation)
    low = [saturation[n][0] for n in names]
    high = [saturation[n][1] for n in names]
    fig = go.Figure([
        go.Bar(x=names, y=low, name="below 0.1 (shut)", marker_color=COLORS["hidden"],
               text=[f"{v:.0%}" for v in low], textposition="inside"),
        go.Bar(x=names, y=high, name="above 0.9 (open)", marker_color=COLORS["highlight"],
               text=[f"{v:.0%}" for v in high], textposition="inside"),
    ])
    fig.update_layout(**base_layout(height=340, title="Gate saturation: share of values that are switches"),
                      barmode="stack", yaxis=dict(range=[0, 1], tickformat=".0%", title="share of values"))
    return fig


def saturation_timeline(series: dict[str, np.ndarray], tokens: list[str], start: int = 0) -> go.Figure:
    fig = go.Figure()
    x = token_labels(tokens, start)
    for name, s in series.items():
        fig.add_trace(go.Scatter(x=x, y=s, mode="lines", name=name,
                                 hovertemplate="token %{x}<br>" + name + ": %{y:.0%} of units saturated<extra></extra>"))
    fig.update_layout(**base_layout(height=320, title="Saturated units at each token"),
                      yaxis=dict(range=[0, 1], tickformat=".0%"))
    fig.update_xaxes(type="category", tickangle=-60, tickfont=dict(size=11))
    return fig


def trajectory_figure(coords: np.ndarray, tokens: list[str], explained: np.ndarray, cell: str = "LSTM",
                      max_labels: int = 60) -> go.Figure:
    """The path of h_t through the plane of its first two principal components, labelled by token."""
    T = len(tokens)
    every = max(1, int(np.ceil(T / max_labels)))
    labels = [tok if k % every == 0 or k == T - 1 else "" for k, tok in enumerate(tokens)]
    fig = go.Figure(go.Scatter(
        x=coords[:, 0], y=coords[:, 1], mode="lines+markers+text", text=labels, textposition="top center",
        customdata=[f"{k} {t}" for k, t in enumerate(tokens)],
        marker=dict(size=8, color=np.arange(T), colorscale="Viridis", showscale=True,
                    colorbar=dict(title="token #", thickness=14)),
        line=dict(color=CELL_COLORS.get(cell, "#555"), width=1.5),
        hovertemplate="%{customdata}<br>PC1 %{x:.3f}, PC2 %{y:.3f}<extra></extra>", name="h_t"))
    fig.add_trace(go.Scatter(x=[coords[0, 0]], y=[coords[0, 1]], mode="markers", name="start",
                             marker=dict(size=16, symbol="star", color=COLORS["input"])))
    fig.add_trace(go.Scatter(x=[coords[-1, 0]], y=[coords[-1, 1]], mode="markers", name="end",
                             marker=dict(size=16, symbol="x", color=COLORS["output"])))
    fig.update_layout(**base_layout(height=520, title="The hidden state's path while reading"),
                      xaxis_title=f"PC1 ({explained[0]:.0%} of variance)",
                      yaxis_title=f"PC2 ({explained[1]:.0%} of variance)")
    return fig
