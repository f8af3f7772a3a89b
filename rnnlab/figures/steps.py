"""Figures for one time step: bar charts of vectors, heatmaps of weight blocks, states over time.

They redraw on every step, so each is built from plain dicts in one call (:func:`rnnlab.figures.fast.figure`,
subplot axes laid out by hand): ``make_subplots``, ``add_trace`` and Plotly's validation made one step of the
Step-through page cost 0.5-0.7 s on a small CPU. The tests validate every figure instead.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .fast import figure
from .style import COLORS, COLORWAY, DIVERGING, OKABE_ITO, VERMILLION, WINE, base_layout

TITLES = {"h": "h (hidden state)", "c": "c (cell state)", "h_prev": "h (previous)", "c_prev": "c (previous)",
          "i": "i (input gate)", "f": "f (forget gate)", "g": "g (candidate)", "o": "o (output gate)",
          "r": "r (reset gate)", "z": "z (update gate)", "n": "n (candidate)"}
BOUNDED01 = {"i", "f", "o", "r", "z"}
#: One colour per unit, the same for h and c: a unit is one line colour everywhere.
UNIT_COLORS = COLORWAY
MAX_LINES = 8  # lines (and legend entries) per panel of the history figure


def _columns(n: int, spacing: float) -> list[list[float]]:
    width = (1.0 - spacing * (n - 1)) / n
    return [[round(k * (width + spacing), 6), min(round(k * (width + spacing) + width, 6), 1.0)] for k in range(n)]


def _title(text: str, domain: list[float], y: float = 1.0) -> dict:
    return dict(text=text, x=(domain[0] + domain[1]) / 2, y=y, xref="paper", yref="paper", xanchor="center",
                yanchor="bottom", showarrow=False, font=dict(size=15))


#: One colour per vector in the bar charts (gates and states), on every screen size: the gates drawn together
#: (LSTM's i f g o, GRU's r z n) stay apart for colour-blind eyes (tests/test_palette.py); the gate that writes
#: takes the input's colour, the one that reads out the output's, forget/update and the candidates share one.
VECTOR_COLORS = {"h": COLORS["hidden"], "c": COLORS["c"], "i": COLORS["input"], "f": OKABE_ITO["orange"],
                 "g": WINE, "o": VERMILLION, "r": OKABE_ITO["sky_blue"], "z": OKABE_ITO["orange"], "n": WINE}


#: from this size on a bar's number is written as a power of ten (3.4e38, not 39 digits)
BIG = 1e4
#: non-finite values marked one by one up to this many; beyond, one note says how many there are
MAX_MARKS = 24


def value_text(v: float, decimals: int = 2) -> str:
    """A bar's number: fixed with ``decimals`` places, from :data:`BIG` on as ``3.4e38``; ``inf``, ``-inf``,
    ``nan`` for what is not finite."""
    if not np.isfinite(v):
        return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    if abs(v) >= BIG:
        mantissa, exponent = f"{v:.{max(decimals - 1, 0)}e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    text = f"{v:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


def _non_finite_marks(arrays: dict[str, np.ndarray], bottom: float) -> list[dict]:
    """Labels where a bar cannot be drawn (inf, -inf, NaN: Plotly leaves a gap): "inf" over the gap, in the
    vector's colour, at the bar's place in its group; or, when there are many, one note for all of them."""
    bad = [(k, n, j, float(v[j])) for k, (n, v) in enumerate(arrays.items()) for j in np.flatnonzero(~np.isfinite(v))]
    if not bad:
        return []
    if len(bad) > MAX_MARKS:
        names = ", ".join(dict.fromkeys(n for _, n, _, _ in bad))
        return [dict(text=f"{len(bad)} values of {names} are infinite or NaN: not drawn", x=0, y=1, xref="paper",
                     yref="paper", xanchor="left", yanchor="top", showarrow=False, font=dict(size=13),
                     bgcolor="rgba(255,255,255,0.8)")]
    slot = 0.75 / len(arrays)           # the group's width (1 - bargap) shared by its bars
    return [dict(text=value_text(v), x=j - 0.375 + (k + 0.5) * slot, y=0.0, xref="x", yref="y", showarrow=False,
                 yanchor="top" if v < 0 and bottom < 0 else "bottom", textangle=-90 if len(arrays) > 2 else 0,
                 font=dict(size=12, color=VECTOR_COLORS.get(n, COLORS["hidden"])))
            for k, n, j, v in bad]


def vector_bars(vectors: dict[str, np.ndarray], title: str | None = None, height: int = 280) -> go.Figure:
    """The named vectors (gates, or h and c) as grouped bars: one group per unit, one colour per vector.

    One shared axis rather than one panel per vector, so the chart reads the same on a phone as on a
    projector. Gates (i, f, o, r, z) live in 0..1, tanh outputs (h, g, n) in -1..1, c is unbounded: the
    axis covers -1..1 unless every vector is a gate (0..1) or c goes further. Values are written on the
    bars while there are few enough of them to read.

    A state that overflowed (a relu with a large spectral radius) is drawn as it is (issue 29): an infinite
    or NaN value is a gap labelled "inf" or "nan", the axis spans the finite values, and a huge finite value
    is written 3.4e38."""
    names = list(vectors)
    arrays = {n: np.asarray(vectors[n], dtype=float) for n in names}
    H = len(next(iter(arrays.values()))) if arrays else 0
    labelled = H * len(names) <= 12
    data = [dict(type="bar", x=list(range(H)), y=v.tolist(), name=TITLES.get(n, n), legendgroup=n,
                 marker=dict(color=VECTOR_COLORS.get(n, COLORS["hidden"])),
                 text=[value_text(val) if np.isfinite(val) else "" for val in v] if labelled else None,
                 textposition="outside" if labelled else "none", textfont=dict(size=12), cliponaxis=False,
                 customdata=[value_text(val, 4) for val in v],
                 hovertemplate=f"{n}[%{{x}}] = %{{customdata}}<extra></extra>", meta=n)
            for n, v in arrays.items()]
    finite = [float(np.abs(v[np.isfinite(v)]).max(initial=0.0)) for v in arrays.values()]
    top = max(finite + [1.0]) * 1.18
    bottom = 0.0 if all(n in BOUNDED01 for n in names) else -top
    base = base_layout(height=height, title=title)
    base["margin"] = dict(l=45, r=10, t=42 if title else 15, b=40)
    # the legend goes under the axis: above it, a legend that wraps on a narrow screen would cover the title
    # named units while there are few; beyond, Plotly's own tick spacing (every unit's number would collide
    # in a narrow chart)
    ticks = dict(tickmode="array", tickvals=list(range(H)), ticktext=[f"unit {j}" for j in range(H)]) \
        if H <= 8 else dict(title=dict(text="unit", font=dict(size=13)))
    marks = _non_finite_marks(arrays, bottom)
    return figure(data, dict(
        **base, barmode="group", bargap=0.25, bargroupgap=0.05, showlegend=True,
        legend=dict(orientation="h", x=0, xanchor="left", y=-0.2, yanchor="top", font=dict(size=13)),
        xaxis=dict(**ticks, tickfont=dict(size=12)),
        yaxis=dict(range=[bottom, top], tickfont=dict(size=12), zeroline=True, zerolinecolor="#888"),
        **({"annotations": marks} if marks else {})))


def weight_heatmaps(blocks: dict[str, np.ndarray], title: str | None = None) -> go.Figure:
    """Heatmaps of weight blocks or vectors side by side (for hidden sizes too large to write out)."""
    names = list(blocks)
    domains = _columns(len(names), 0.05)
    data, layout, titles = [], {}, []
    for k, (name, dom) in enumerate(zip(names, domains), start=1):
        m = np.asarray(blocks[name], dtype=float)
        if m.ndim == 1:
            m = m[:, None]
        sfx = "" if k == 1 else str(k)
        lim = float(np.abs(m).max(initial=1e-9))
        data.append(dict(type="heatmap", z=m.tolist(), zmin=-lim, zmax=lim, colorscale=DIVERGING, showscale=False,
                         xaxis=f"x{sfx}", yaxis=f"y{sfx}",
                         hovertemplate=f"{name}[%{{y}}, %{{x}}] = %{{z:.4f}}<extra></extra>"))
        layout[f"xaxis{sfx}"] = dict(domain=dom, anchor=f"y{sfx}", showticklabels=m.shape[1] > 1)
        layout[f"yaxis{sfx}"] = dict(anchor=f"x{sfx}", autorange="reversed", showticklabels=k == 1)
        titles.append(_title(name, dom))
    base = base_layout(height=300, title=title)
    base["margin"] = dict(l=40, r=10, t=70 if title else 30, b=30)
    return figure(data, dict(**base, **layout, annotations=titles))


def shown_units(history: dict[str, np.ndarray], limit: int = MAX_LINES) -> list[int]:
    """Which units the history figure draws: all of them up to ``limit``, else the ``limit`` whose h varies
    most over the whole sequence (chosen once, so the lines do not change while stepping)."""
    h = np.asarray(history["h"])
    if h.shape[1] <= limit:
        return list(range(h.shape[1]))
    return sorted(int(u) for u in np.argsort(-h.std(axis=0), kind="stable")[:limit])


def state_history(history: dict[str, np.ndarray], labels: list[str], current: int,
                  units: list[int] | None = None) -> go.Figure:
    """h (and c) of the chosen ``units`` over the steps so far (``history`` holds steps 0..current).

    At most 8 units are drawn (one legend entry and colour per unit, shared by h and c); time steps are
    whole numbers from 1; the current step is marked."""
    names = list(history)
    H = np.asarray(history["h"]).shape[1]
    units = list(range(H)) if units is None else list(units)
    if len(units) > MAX_LINES:
        raise ValueError(f"at most {MAX_LINES} units per panel (got {len(units)})")
    steps = list(range(1, current + 2))
    rows = len(names)
    gap = 0.12
    height_share = (1.0 - gap * (rows - 1)) / rows
    data, layout, titles, shapes = [], {}, [], []
    for r, name in enumerate(names):
        arr = np.asarray(history[name])
        sfx = "" if r == 0 else str(r + 1)
        top = 1.0 - r * (height_share + gap)
        dom = [max(round(top - height_share, 6), 0.0), min(round(top, 6), 1.0)]
        for j, u in enumerate(units):
            data.append(dict(type="scatter", x=steps, y=arr[:, u].tolist(), mode="lines+markers", name=f"unit {u}",
                             legendgroup=f"unit {u}", showlegend=r == 0, xaxis=f"x{sfx}", yaxis=f"y{sfx}",
                             line=dict(color=UNIT_COLORS[j % len(UNIT_COLORS)]),
                             marker=dict(size=6), customdata=labels[: current + 1],
                             hovertemplate=f"step %{{x}} (%{{customdata}}): {name}[{u}] = %{{y:.3f}}<extra></extra>"))
        # the whole sequence's time axis from the start, in whole steps: it does not rescale while stepping
        layout[f"xaxis{sfx}"] = dict(domain=[0, 1], anchor=f"y{sfx}", range=[0.5, max(len(labels), 2) + 0.5],
                                     tickmode="linear", tick0=1, dtick=max(1, int(np.ceil(len(labels) / 10))),
                                     tickformat="d", matches="x" if r else None)
        layout[f"yaxis{sfx}"] = dict(domain=dom, anchor=f"x{sfx}")
        titles.append(dict(text=("h: hidden state" if name == "h" else "c: cell state" if name == "c" else name)
                           + " at each time step t", x=0, y=dom[1], xref="paper", yref="paper", xanchor="left",
                           yanchor="bottom", showarrow=False, font=dict(size=15)))
        shapes.append(dict(type="line", x0=current + 1, x1=current + 1, y0=dom[0], y1=dom[1], xref=f"x{sfx}",
                           yref="paper", line=dict(color=COLORS["highlight"], width=2, dash="dot")))
    base = base_layout(height=230 * rows + 90)
    base["margin"] = dict(l=50, r=10, t=30, b=40)
    return figure(data, dict(**base, **layout, annotations=titles, shapes=shapes,
                                            legend=dict(orientation="h", x=0, y=-0.16 if rows == 1 else -0.08,
                                                        yanchor="top", font=dict(size=13))))
