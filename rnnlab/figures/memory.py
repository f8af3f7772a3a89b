"""Figures for looking inside a model's memory while it reads a text.

The heatmaps, the prefix plot and the trajectory redraw on every change of unit, layer or direction and
carry thousands of values: they are built from plain dicts in one call (:func:`rnnlab.figures.fast.figure`);
the tests validate them."""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from ..labs.memory import SATURATED
from ..nn.cells import GATE_DESCRIPTIONS
from .fast import figure
from .style import CELL_COLORS, COLORS, DIVERGING, SEQUENTIAL, base_layout

SIGNAL_TITLES = {"h": "h: hidden state", "c": "c: cell state",
                 **{g: f"{g}: {d}" for g, d in GATE_DESCRIPTIONS.items()}}


def token_labels(tokens: list[str], start: int = 0) -> list[str]:
    """Unique axis labels ``"12 word"`` (Plotly merges equal category labels)."""
    return [f"{start + k} {t}" for k, t in enumerate(tokens)]


def heatmap_height(rows: int) -> int:
    """A fixed, bounded height: 16 units get readable rows; 128 units share at most 560 pixels."""
    return int(min(max(14 * rows + 130, 240), 560))


def activation_heatmap(signal: np.ndarray, tokens: list[str], name: str, start: int = 0,
                       units: list[int] | None = None) -> go.Figure:
    """Units x tokens; ``signal`` is (rows, T) for the tokens shown, ``start`` the first token's index and
    ``units`` the unit number of each row (rows may be a chosen subset, in any order)."""
    signal = np.asarray(signal)
    units = list(range(signal.shape[0])) if units is None else [int(u) for u in units]
    gate = name not in ("h", "c", "g", "n")
    if gate:
        zmin, zmax, scale = 0.0, 1.0, SEQUENTIAL
    else:
        lim = max(float(np.abs(signal).max(initial=0.0)), 1e-6) if name == "c" else 1.0
        zmin, zmax, scale = -lim, lim, DIVERGING
    few = len(units) <= 32
    layout = base_layout(height=heatmap_height(len(units)), title=SIGNAL_TITLES.get(name, name))
    return figure([dict(
        type="heatmap", z=signal.tolist(), x=token_labels(tokens, start), y=[f"unit {u}" for u in units],
        zmin=zmin, zmax=zmax, colorscale=scale, colorbar=dict(title=dict(text=name), thickness=14),
        hovertemplate="token %{x}<br>%{y}<br>" + name + " = %{z:.3f}<extra></extra>")], dict(
        **layout, xaxis=dict(tickangle=-60, tickfont=dict(size=12), type="category"),
        yaxis=dict(autorange="reversed", tickfont=dict(size=11), type="category", showticklabels=few,
                   title=dict(text=None if few else f"{len(units)} units"))))


def prefix_figure(positions: np.ndarray, probs: np.ndarray, tokens: list[str], every_prefix: bool) -> go.Figure:
    """P(positive) after the tokens at ``positions`` (0-based); markers only where it was computed."""
    positions = np.asarray(positions, dtype=int)
    title = "P(positive) after each token" if every_prefix else \
        f"P(positive) after {len(positions)} of {len(tokens)} tokens"
    return figure([dict(
        type="scatter", x=(positions + 1).tolist(), y=np.asarray(probs, dtype=float).tolist(),
        mode="lines+markers" if len(positions) <= 200 or not every_prefix else "lines",
        customdata=[f"{k} {tokens[k]}" for k in positions], line=dict(color=COLORS["hidden"], width=2.5),
        marker=dict(size=6), name="P(positive)", hovertemplate="after token %{customdata}: %{y:.1%}<extra></extra>")],
        dict(**base_layout(height=260, title=title), showlegend=False,
             shapes=[dict(type="line", xref="paper", x0=0, x1=1, y0=0.5, y1=0.5, line=dict(color="#777", dash="dash"))],
             yaxis=dict(range=[0, 1], tickformat=".0%"),
             xaxis=dict(title=dict(text="tokens read"), range=[0.5, len(tokens) + 0.5])))


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


def symmetric_limit(values: np.ndarray, floor: float = 1e-6) -> float:
    """The half-width of a diverging colour scale centred on 0: the largest |value| (``floor`` when there
    is none, so an empty or all-zero row still draws)."""
    return float(np.abs(np.asarray(values, dtype=float)).max(initial=floor))


def colored_text_html(tokens: list[str], values: np.ndarray, vmin: float | None = None, vmax: float | None = None,
                      diverging: bool = True, label: str = "") -> str:
    """The text as HTML, each token's background coloured by its value (LSTMVis-style). Without ``vmin`` and
    ``vmax`` the scale is symmetric around 0, ± :func:`symmetric_limit` of the values.

    Tokens are HTML-escaped: a review with ``<script>`` in it is shown, never run."""
    if vmin is None or vmax is None:
        lim = symmetric_limit(values)
        vmin, vmax = -lim, lim
    spans = []
    for k, (tok, v) in enumerate(zip(tokens, np.asarray(values, dtype=float))):
        spans.append(f'<span title="{k} {html.escape(tok)}: {label} = {v:.3f}" '
                     f'style="background:{_color(v, vmin, vmax, diverging)};padding:2px 3px;margin:1px;'
                     f'border-radius:3px;display:inline-block">{html.escape(tok)}</span>')
    return ('<div style="line-height:2.1;font-size:1.05rem;color:#111;font-family:sans-serif">'
            + " ".join(spans) + "</div>")


def saturation_bars(saturation: dict[str, tuple[float, float]], bounds: tuple[float, float] = SATURATED
                    ) -> go.Figure:
    """The share of each gate's values below and above ``bounds`` (a tanh candidate g/n, in [-1, 1], is
    compared with the same bounds mapped there: 2b - 1)."""
    lo, hi = bounds
    names = list(saturation)
    low = [saturation[n][0] for n in names]
    high = [saturation[n][1] for n in names]
    fig = go.Figure([
        go.Bar(x=names, y=low, name=f"shut: below {lo:g} (g, n: {2 * lo - 1:g})", marker_color=COLORS["hidden"],
               text=[f"{v:.0%}" for v in low], textposition="inside"),
        go.Bar(x=names, y=high, name=f"open: above {hi:g} (g, n: {2 * hi - 1:g})", marker_color=COLORS["highlight"],
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
                                 hovertemplate="token %{x}<br>" + name +
                                               ": %{y:.0%} of units saturated<extra></extra>"))
    fig.update_layout(**base_layout(height=320, title="Saturated units at each token"),
                      yaxis=dict(range=[0, 1], tickformat=".0%"))
    fig.update_xaxes(type="category", tickangle=-60, tickfont=dict(size=11))
    return fig


def label_subset(coords: np.ndarray, limit: int = 30, width: float = 0.1, height: float = 0.06) -> list[int]:
    """Which points of a path to label so that no two labels overlap.

    Candidates go in order of interest: the start, the end, then the tokens after which the state moved
    most. A label is kept if no kept label lies within ``width`` x ``height`` of it, in units of the plot's
    width and height (about one word's box on a 700 x 450-pixel plot)."""
    xy = np.asarray(coords, dtype=float)[:, :2]
    T = len(xy)
    if T == 0:
        return []
    span = np.ptp(xy, axis=0)
    norm = (xy - xy.min(axis=0)) / np.where(span > 0, span, 1.0)
    jumps = np.r_[np.inf, np.linalg.norm(np.diff(xy, axis=0), axis=1)]
    order = [0, T - 1] + [int(k) for k in np.argsort(-jumps, kind="stable") if k not in (0, T - 1)]
    kept: list[int] = []
    for k in order:
        if len(kept) >= limit:
            break
        if all(abs(norm[k, 0] - norm[j, 0]) >= width or abs(norm[k, 1] - norm[j, 1]) >= height for j in kept):
            kept.append(k)
    return sorted(set(kept))


def trajectory_figure(coords: np.ndarray, tokens: list[str], explained: np.ndarray, cell: str = "LSTM",
                      max_labels: int = 30) -> go.Figure:
    """The path of h_t through the plane of its first two principal components.

    Only a subset of the points carry their word (:func:`label_subset`: no two labels overlap); every
    point names its token on hover. The start and end markers are listed under the plot, away from the
    colour bar on the right."""
    T = len(tokens)
    shown = set(label_subset(coords, max_labels))
    labels = [tok if k in shown else "" for k, tok in enumerate(tokens)]
    x, y = np.asarray(coords[:, 0], dtype=float), np.asarray(coords[:, 1], dtype=float)
    data = [
        dict(type="scatter", x=x.tolist(), y=y.tolist(), mode="lines+markers+text", text=labels,
             textposition="top center", textfont=dict(size=13), customdata=[f"{k} {t}" for k, t in enumerate(tokens)],
             showlegend=False, name="h_t",
             marker=dict(size=7 if T <= 300 else 4, color=list(range(T)), colorscale="Viridis", showscale=True,
                         colorbar=dict(title=dict(text="token #"), thickness=14)),
             line=dict(color=CELL_COLORS.get(cell, "#555"), width=1.5 if T <= 300 else 0.8),
             hovertemplate="%{customdata}<br>PC1 %{x:.3f}, PC2 %{y:.3f}<extra></extra>"),
        dict(type="scatter", x=[x[0]], y=[y[0]], mode="markers", name="start (first token)",
             marker=dict(size=16, symbol="star", color=COLORS["input"])),
        dict(type="scatter", x=[x[-1]], y=[y[-1]], mode="markers", name="end (last token)",
             marker=dict(size=16, symbol="x", color=COLORS["output"])),
    ]
    return figure(data, dict(**base_layout(height=520, title="The hidden state's path while reading"),
                             xaxis=dict(title=dict(text=f"PC1 ({explained[0]:.0%} of variance)")),
                             yaxis=dict(title=dict(text=f"PC2 ({explained[1]:.0%} of variance)")),
                             legend=dict(orientation="h", x=0, xanchor="left", y=-0.18, yanchor="top")))
