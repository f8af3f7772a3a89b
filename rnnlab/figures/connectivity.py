"""Figures of connectivity: bars over the characters read before one prediction (one row per cell), the
influence against distance averaged over a passage (one line per cell), Karpathy's top-5 heat-table, and the
gradient per word of a review beside occlusion."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..labs.connectivity import AverageConnectivity, Connectivity, TopGuesses
from .style import CELL_COLORS, COLORS, OKABE_ITO, SIGN, base_layout
from .textgen import _show

TICKS_MAX = 80        # characters labelled one by one on the x axis; beyond, every few
#: white to sky blue: black letters stay readable on every cell of the top-5 table, however likely
GUESS_SCALE = [[0.0, "#ffffff"], [1.0, OKABE_ITO["sky_blue"]]]


def _cell_color(cell: str) -> str:
    return CELL_COLORS.get(cell.upper(), COLORS["hidden"])


def connectivity_bars(panels: list[dict], shown: int | None = None, height_per: int = 190) -> go.Figure:
    """One row of bars per model, the same passage and position: the influence of each character read before
    the prediction (oldest left), with the character as the tick label and the predicted character marked
    after the last bar. ``panels``: dicts with ``label``, ``cell`` and ``conn`` (a :class:`Connectivity`);
    ``shown``: the characters back drawn (all by default). Each row has its own y scale: the models' gradients
    differ in size, their shapes are what compare."""
    n = max(len(panels), 1)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.12 if n > 1 else 0.0,
                        subplot_titles=[p["label"] for p in panels])
    for row, p in enumerate(panels, start=1):
        c: Connectivity = p["conn"]
        K = c.back if shown is None else min(int(shown) - 1, c.back)
        ks = np.arange(K, -1, -1)                        # oldest first, so time runs left to right
        x = c.t - ks
        values = c.values[ks]
        hover = [f"{_show(c.chars[k])!r}, {k} back" for k in ks]
        signed = c.signed[ks] if c.signed is not None else None
        colors = _cell_color(p["cell"]) if signed is None else [SIGN["positive"] if s >= 0 else SIGN["negative"]
                                                                 for s in signed]
        custom = values if signed is None else signed
        what = "‖gradient‖" if c.method == "gradient" else "attribution"
        fig.add_trace(go.Bar(x=x, y=values, marker_color=colors, name=p["label"], showlegend=False,
                             customdata=np.stack([custom], axis=-1), hovertext=hover,
                             hovertemplate="%{hovertext}: " + what + " %{customdata[0]:.3g}<extra></extra>"),
                      row=row, col=1)
        top = float(values.max(initial=0.0)) or 1.0
        fig.add_trace(go.Scatter(x=[c.t + 1], y=[0], mode="markers+text", text=[f"{_show(c.target)}"],
                                 textposition="top center", textfont=dict(size=18, color=COLORS["highlight"]),
                                 marker=dict(symbol="star", size=16, color=COLORS["highlight"]), showlegend=False,
                                 hovertemplate=f"predicted: {_show(c.target)!r}, p = {c.p_target:.1%}"
                                               "<extra></extra>"), row=row, col=1)
        fig.update_yaxes(range=[0, 1.25 * top], row=row, col=1, title_text=what if row == (n + 1) // 2 else None)
    if panels:
        c = panels[0]["conn"]
        K = c.back if shown is None else min(int(shown) - 1, c.back)
        ks = np.arange(K, -1, -1)
        step = max(1, int(np.ceil((K + 1) / TICKS_MAX)))
        vals = [c.t - k for k in ks[::-1][::step]][::-1] + [c.t + 1]
        text = [_show(c.chars[k]) for k in ks[::-1][::step]][::-1] + ["→ " + _show(c.target)]
        fig.update_xaxes(tickmode="array", tickvals=vals, ticktext=text, tickangle=0, tickfont=dict(size=13))
        fig.update_xaxes(title_text="the characters read before the prediction (→: the character predicted)",
                         row=n, col=1)
    layout = base_layout(height=70 + height_per * n)
    layout["margin"] = dict(l=70, r=20, t=40, b=60)
    fig.update_layout(**layout, bargap=0.15)
    return fig


def influence_curves(curves: list[dict], height: int = 360) -> go.Figure:
    """Influence against distance, one line per model (log y): the mean share of a prediction's gradient
    that falls k characters back. ``curves``: dicts with ``label``, ``cell``, ``avg`` (an
    :class:`AverageConnectivity`)."""
    fig = go.Figure()
    for c in curves:
        avg: AverageConnectivity = c["avg"]
        k = np.arange(len(avg.mean))
        fig.add_trace(go.Scatter(x=k, y=np.maximum(avg.mean, 1e-12), name=c["label"], mode="lines",
                                 line=dict(color=_cell_color(c["cell"]), width=3),
                                 hovertemplate="%{x} back: %{y:.2%} of the influence<extra>" + c["label"] + "</extra>"))
    fig.update_layout(**base_layout(height=height), legend=dict(orientation="h", y=-0.3, x=0))
    fig.update_xaxes(title_text="distance k (characters back)")
    fig.update_yaxes(title_text="mean share of the gradient", type="log", exponentformat="power")
    return fig


def top_guesses_table(top: TopGuesses, start: int, stop: int, mark: int | None = None,
                      height: int = 300) -> go.Figure:
    """Karpathy's view over positions ``start``..``stop`` − 1 of the passage: under each character read, the
    model's guesses for the next one, best first, coloured by probability; the character that came is in bold
    where it is among them. ``mark``: a position framed (the one the bars above are about)."""
    start, stop = max(int(start), 0), min(int(stop), len(top.chars))
    xs = list(range(start, stop))
    k = top.probs.shape[1]
    z = top.probs[start:stop].T                                            # (k, positions)
    text, hover = [], []
    for r in range(k):
        row_t, row_h = [], []
        for t in xs:
            g = top.guesses[t][r]
            came = t + 1 < len(top.chars) and top.chars[t + 1] == g
            row_t.append(f"<b>{_show(g)}</b>" if came else _show(g))
            row_h.append(f"after {_show(top.chars[t])!r} (position {t}): guess {r + 1} {_show(g)!r}, "
                         f"p = {top.probs[t, r]:.1%}" + (" — the character that came" if came else ""))
        text.append(row_t)
        hover.append(row_h)
    fig = go.Figure(go.Heatmap(x=xs, y=[f"guess {r + 1}" for r in range(k)], z=z, text=text, hovertext=hover,
                               texttemplate="%{text}", textfont=dict(size=14, color="#111"), colorscale=GUESS_SCALE,
                               zmin=0, zmax=1, xgap=2, ygap=2,
                               colorbar=dict(title="p", thickness=12), hovertemplate="%{hovertext}<extra></extra>"))
    if mark is not None and start <= mark < stop:
        fig.add_vrect(x0=mark - 0.5, x1=mark + 0.5, line=dict(color=COLORS["highlight"], width=3))
    fig.update_xaxes(tickmode="array", tickvals=xs, ticktext=[_show(top.chars[t]) for t in xs], side="top",
                     tickfont=dict(size=15), title_text=None)
    fig.update_yaxes(autorange="reversed")
    layout = base_layout(height=height)
    layout["margin"] = dict(l=80, r=20, t=40, b=20)
    fig.update_layout(**layout)
    return fig


def word_gradient_bars(tokens: list[str], gradient: np.ndarray, occlusion: np.ndarray,
                       height: int = 340) -> go.Figure:
    """The gradient's size per word beside occlusion's |Δ log-odds|, each scaled to its largest value so the
    two shapes compare on one axis (the raw numbers on hover)."""
    x = np.arange(len(tokens))
    g = np.asarray(gradient, float)
    o = np.abs(np.asarray(occlusion, float))
    fig = go.Figure()
    for name, v, color in (("gradient ‖∂ logit / ∂ word vector‖", g, COLORS["hidden"]),
                           ("occlusion |Δ log-odds|", o, COLORS["highlight"])):
        fig.add_trace(go.Bar(x=x, y=v / (v.max(initial=0.0) or 1.0), name=name, marker_color=color,
                             customdata=v, hovertext=tokens,
                             hovertemplate="%{hovertext}: %{customdata:.3g}<extra>" + name + "</extra>"))
    step = max(1, int(np.ceil(len(tokens) / TICKS_MAX)))
    fig.update_xaxes(tickmode="array", tickvals=x[::step], ticktext=tokens[::step], tickangle=-45)
    fig.update_yaxes(title_text="share of the largest", range=[0, 1.05])
    fig.update_layout(**base_layout(height=height), barmode="group", legend=dict(orientation="h", y=1.12, x=0))
    return fig
