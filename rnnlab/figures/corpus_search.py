"""Figures of the corpus search: the matches as rows of text coloured by the selected units' activation, the
meta-data track under each, and one match unit by unit.

Built from plain dicts (:func:`rnnlab.figures.fast.figure`): they redraw on every query."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..labs.corpus_search import CHARS, POS_TRACK, TAG_NAMES, MatchView
from .fast import figure
from .style import COLORS, DIVERGING, OKABE_ITO, TINTS, VERMILLION, WINE, base_layout

#: one light colour per part of speech (a palette colour, shown at half strength under black text)
TAG_COLOURS = [OKABE_ITO["blue"], VERMILLION, OKABE_ITO["bluish_green"], OKABE_ITO["orange"], WINE,
               OKABE_ITO["sky_blue"], OKABE_ITO["reddish_purple"], OKABE_ITO["yellow"], TINTS["word"],
               TINTS["unknown"], "#bdbdbd", "#eeeeee"]
ROW_PX = 30


def shown(token: str, kind: str) -> str:
    """A token as a cell can show it: a space or a newline visible, a long word cut."""
    if kind == CHARS:
        return {" ": "␣", "\n": "↵"}.get(token, token)
    return token if len(token) <= 11 else token[:10] + "…"


def _discrete(colours: list[str]) -> list[list]:
    """A colour scale giving value k (0..n-1, with zmin -0.5 and zmax n-0.5) the colour ``colours[k]``."""
    n = len(colours)
    return [pair for k, c in enumerate(colours) for pair in ([k / n, c], [(k + 1) / n, c])]


def _meta_scale(track: str | None, rows: list[MatchView]) -> dict:
    if track == POS_TRACK:
        n = len(TAG_NAMES)
        return dict(zmin=-0.5, zmax=n - 0.5, colorscale=_discrete(TAG_COLOURS[:n]))
    if track == "position in the line":
        top = max([float(np.max(r.meta_values, initial=0)) for r in rows] + [1.0])
        return dict(zmin=0, zmax=top, colorscale=[[0, "#ffffff"], [1, OKABE_ITO["sky_blue"]]])
    return dict(zmin=0, zmax=1, colorscale=[[0, "#ffffff"], [1, COLORS["highlight"]]])


def matches_figure(rows: list[MatchView], kind: str, track: str | None, units: int) -> go.Figure:
    """The selection, then each match: its tokens coloured by the selected units' mean h (red on, blue
    negative), aligned on the window's first token and boxed, and under it the meta-data track."""
    lead = max(r.lead for r in rows)
    width = max(lead - r.lead + len(r.tokens) for r in rows)
    n = len(rows) * 2
    z_act = [[None] * width for _ in range(n)]
    z_meta = [[None] * width for _ in range(n)]
    text = [[""] * width for _ in range(n)]
    hover = [[""] * width for _ in range(n)]
    ylabels, shapes = [], []
    track_label = {POS_TRACK: "tags", "position in the line": "column", "speaker name": "speaker",
                   "inside quotes or brackets": "quoted"}.get(track or "", "")
    for i, r in enumerate(rows):
        head = r.label if r.score is None else f"{r.label} · {r.score:+.2f}"
        ylabels += [head, f"{r.label} {track_label}".rstrip() + " "]
        off = lead - r.lead
        mean = r.values.mean(axis=0) if r.values.size else np.zeros(len(r.tokens))
        for j, tok in enumerate(r.tokens):
            x = off + j
            z_act[2 * i][x] = round(float(mean[j]), 3)
            text[2 * i][x] = shown(tok, kind)
            hover[2 * i][x] = f"{tok!r}<br>mean h of the {units} selected units: {mean[j]:+.3f}"
            if track:
                z_meta[2 * i + 1][x] = float(r.meta_values[j])
                text[2 * i + 1][x] = r.meta[j]
                hover[2 * i + 1][x] = f"{tok!r}<br>{track}: {r.meta[j] or 'no'}"
        shapes.append(dict(type="rect", xref="x", yref="y", x0=lead - 0.5, x1=lead + r.end - r.start - 0.5,
                           y0=2 * i - 0.5, y1=2 * i + 0.5, line=dict(color="#111111", width=2)))
    data = [dict(type="heatmap", z=z_act, text=text, customdata=hover, texttemplate="%{text}", zmin=-1, zmax=1,
                 colorscale=DIVERGING, xgap=1, ygap=1, hoverongaps=False,
                 textfont=dict(size=13, color="#111111", shadow="0px 0px 3px #ffffff"),   # black on a white glow
                 colorbar=dict(title=dict(text="mean h"), thickness=12, len=0.5, y=1, yanchor="top"),
                 hovertemplate="%{customdata}<extra></extra>")]
    if track:
        data.append(dict(type="heatmap", z=z_meta, text=text, customdata=hover, texttemplate="%{text}",
                         showscale=False, opacity=0.55, xgap=1, ygap=1, textfont=dict(size=11), hoverongaps=False,
                         hovertemplate="%{customdata}<extra></extra>", **_meta_scale(track, rows)))
    layout = base_layout(height=min(ROW_PX * n + 90, 1400))
    layout["margin"] = dict(l=110, r=20, t=20, b=30)
    return figure(data, dict(
        **layout, shapes=shapes,
        xaxis=dict(showticklabels=False, showgrid=False, zeroline=False, range=[-0.5, width - 0.5]),
        yaxis=dict(tickvals=list(range(n)), ticktext=ylabels, autorange="reversed", showgrid=False, zeroline=False,
                   tickfont=dict(size=12))))


def units_figure(row: MatchView, units: list[int], kind: str) -> go.Figure:
    """One stretch unit by unit: a row per selected unit over its tokens (h from −1 to 1), the window boxed."""
    labels = [f"{k} {shown(t, kind)}" for k, t in enumerate(row.tokens)]
    values = np.asarray(row.values, dtype=float)
    layout = base_layout(height=int(min(max(18 * len(units) + 150, 240), 620)))
    a, b = row.span
    return figure([dict(
        type="heatmap", z=np.round(values, 3).tolist(), x=labels, y=[f"unit {u}" for u in units], zmin=-1, zmax=1,
        colorscale=DIVERGING, colorbar=dict(title=dict(text="h"), thickness=12),
        hovertemplate="%{x}<br>%{y}<br>h = %{z:.3f}<extra></extra>")], dict(
        **layout, shapes=[dict(type="rect", xref="x", yref="paper", x0=a - 0.5, x1=b - 0.5, y0=0, y1=1,
                               line=dict(color="#111111", width=2))],
        xaxis=dict(type="category", tickangle=-60 if kind != CHARS else 0, tickfont=dict(size=11),
                   tickvals=labels, ticktext=[shown(t, kind) for t in row.tokens]),
        yaxis=dict(type="category", autorange="reversed", tickfont=dict(size=11), showticklabels=len(units) <= 40)))
