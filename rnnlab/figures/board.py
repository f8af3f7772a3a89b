"""The class board's pooled plot: a final metric against one hyperparameter, one colour per cell, the mean
over runs with the same settings and its standard deviation as an error bar, every run as a faint dot."""
from __future__ import annotations

import plotly.graph_objects as go

from rnnlab.runtime.board import settings_label

from .style import CELL_COLORS, OKABE_ITO, base_layout

#: Cells without a colour of their own take Okabe–Ito's that CELL_COLORS leaves free.
OTHER_COLORS = [OKABE_ITO["orange"], OKABE_ITO["sky_blue"], OKABE_ITO["reddish_purple"], OKABE_ITO["black"]]


def _color(cell: str, others: dict[str, str]) -> str:
    if cell in CELL_COLORS:
        return CELL_COLORS[cell]
    if cell.upper() in CELL_COLORS:
        return CELL_COLORS[cell.upper()]
    return others.setdefault(cell, OTHER_COLORS[len(others) % len(OTHER_COLORS)])


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def pooled_figure(groups: list[dict], metric: str, x: str, lower_is_better: bool = False,
                  height: int = 440) -> go.Figure:
    """``groups``: :func:`rnnlab.runtime.board.pooled`'s output. A line joins the groups of one cell whose
    other settings are the same (only ``x`` changes along it)."""
    fig = go.Figure()
    others: dict[str, str] = {}
    xs = [g["x"] for g in groups]
    numeric = _numeric(xs)
    shown: set[str] = set()
    series: dict[tuple, list[dict]] = {}
    for g in groups:
        series.setdefault((g["cell"], settings_label(g["settings"], 400)), []).append(g)
    # every run of a cell is a faint dot, all in one trace per cell (not one per series: a board of thousands of
    # runs has hundreds of series, and each trace costs time to build and bytes to send)
    dots: dict[str, tuple[list, list]] = {}
    for g in groups:
        dots_x, dots_y = dots.setdefault(g["cell"], ([], []))
        dots_x += [g["x"] if numeric else str(g["x"])] * len(g["values"])
        dots_y += g["values"]
    for cell, (dots_x, dots_y) in dots.items():
        fig.add_trace(go.Scatter(x=dots_x, y=dots_y, mode="markers", legendgroup=cell or "(no cell)",
                                 showlegend=False, hoverinfo="skip",
                                 marker=dict(color=_color(cell, others), size=7, opacity=0.35)))
    for (cell, label), gs in series.items():
        color = _color(cell, others)
        name = cell or "(no cell)"
        with_mean = [g for g in gs if g["mean"] is not None]
        if not with_mean:
            continue
        hover = [f"<b>{name}</b>  {x} = {g['x']}<br>{metric}: {g['mean']:.4g}"
                 + (f" ± {g['sd']:.3g} (sd)" if g["sd"] is not None else "")
                 + f"<br>{g['n']} run{'s' if g['n'] != 1 else ''}"
                 + (f", {g['n_missing']} without a value" if g["n_missing"] else "")
                 + (f"<br>{label}" if label else "") for g in with_mean]
        fig.add_trace(go.Scatter(
            x=[g["x"] if numeric else str(g["x"]) for g in with_mean], y=[g["mean"] for g in with_mean],
            mode="lines+markers", name=name, legendgroup=name, showlegend=name not in shown,
            line=dict(color=color, width=2.5), marker=dict(color=color, size=11),
            error_y=dict(type="data", array=[g["sd"] if g["sd"] is not None else float("nan") for g in with_mean],
                         visible=True, color=color, thickness=2, width=6),
            hovertext=hover, hoverinfo="text"))
        shown.add(name)
    xaxis: dict = dict(title=x)
    positive = [v for v in xs if numeric and v > 0]
    if numeric and positive and len(positive) == len(xs) and max(positive) / min(positive) >= 50:
        xaxis["type"] = "log"                      # learning rates and sizes spread over decades
    if not numeric:
        xaxis["type"] = "category"
    better = "lower is better" if lower_is_better else "higher is better"
    fig.update_layout(**base_layout(height=height), xaxis=xaxis, yaxis=dict(title=f"{metric} ({better})"),
                      legend=dict(orientation="h", y=-0.25, x=0, title_text="cell"))
    if not groups or all(g["mean"] is None for g in groups):
        fig.add_annotation(text="No run has this metric yet", showarrow=False, xref="paper", yref="paper",
                           x=0.5, y=0.5, font=dict(size=18, color="#555"))
    return fig
