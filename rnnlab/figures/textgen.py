"""Figures for the text-generation page: loss curves of a live training, generated text with the
probability of every character on hover, a passage coloured by one unit's activation."""
from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go

from .style import COLORS, base_layout

TEXT_STYLE = ("font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:0.98rem;"
              "line-height:1.55;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;color:#111;"
              "max-width:100%")


def _smoothed(v, k: int) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    if len(v) < 2 or k <= 1:
        return v
    k = min(k, len(v))
    c = np.cumsum(np.insert(v, 0, 0.0))
    out = np.empty_like(v)
    out[k - 1:] = (c[k:] - c[:-k]) / k
    out[:k - 1] = c[1:k] / np.arange(1, k)
    return out


def loss_curves(steps: list[int], loss: list[float], evals: list[dict], chance: float | None = None,
                references: dict[str, float] | None = None, samples: list[int] = (), smooth: int = 20,
                height: int = 360) -> go.Figure:
    """Training loss (smoothed) and validation loss against the step, in nats per character, with the
    loss of a uniform guess (``chance`` = ln V) and other reference levels as dotted lines; ``samples``
    marks the steps where a sample was printed."""
    fig = go.Figure()
    if steps:
        fig.add_trace(go.Scatter(x=steps, y=_smoothed(loss, smooth), name="training (smoothed)",
                                 line=dict(color=COLORS["hidden"], width=2),
                                 hovertemplate="step %{x}: training loss %{y:.3f}<extra></extra>"))
    if evals:
        fig.add_trace(go.Scatter(x=[e["step"] for e in evals], y=[e["loss"] for e in evals], name="validation",
                                 mode="lines+markers", line=dict(color=COLORS["highlight"], width=3),
                                 hovertemplate="step %{x}: validation loss %{y:.3f}<extra></extra>"))
    if samples and steps:
        ys = np.interp(samples, steps, _smoothed(loss, smooth))
        fig.add_trace(go.Scatter(x=list(samples), y=ys, name="sample printed", mode="markers",
                                 marker=dict(symbol="triangle-down", size=9, color="#555"),
                                 hovertemplate="step %{x}: a sample was printed<extra></extra>"))
    lines = dict(references or {})
    if chance is not None:
        lines = {f"chance (ln V = {chance:.2f})": chance, **lines}
    for k, (label, value) in enumerate(lines.items()):
        fig.add_hline(y=value, line=dict(color="#777" if k == 0 else COLORS["output"], dash="dot", width=1.5))
        fig.add_annotation(x=1, xref="paper", y=value, text=label, showarrow=False, xanchor="right",
                           yanchor="bottom", font=dict(size=12, color="#555" if k == 0 else COLORS["output"]))
    fig.update_layout(**base_layout(height=height), legend=dict(orientation="h", y=-0.3, x=0))
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text="loss (nats / character)", rangemode="tozero")
    return fig


def _prob_color(p: float) -> str:
    """White for a likely character, deepening orange for a surprising one (low probability)."""
    s = min(max(-math.log10(max(p, 1e-6)) / 2.0, 0.0), 1.0)    # p = 1 -> 0, p <= 0.01 -> 1
    r, g, b = 255, int(255 - 120 * s), int(255 - 215 * s)
    return f"rgb({r},{g},{b})"


def _show(ch: str) -> str:
    return {"\n": "⏎", " ": "␣", "\t": "⇥"}.get(ch, ch)


def generated_html(prompt: str, steps: list[dict]) -> str:
    """The prompt (grey) and the generated characters, each coloured by how likely the model found it
    (white: likely, orange: a surprise) with a tooltip: its probability under the model, the probability
    it was drawn with (after temperature and top-k), and the model's likeliest choices there.

    ``steps``: dicts with ``char``, ``p``, ``p_sampled``, ``top`` ([(char, p), ...]). Everything is
    HTML-escaped: typed text is shown, never run."""
    parts = [f'<span style="color:#666">{html.escape(prompt)}</span>']
    for s in steps:
        top = ", ".join(f"{_show(c)} {p:.0%}" for c, p in s["top"])
        tip = (f"{_show(s['char'])}: {s['p']:.1%} under the model, drawn with {s['p_sampled']:.1%} "
               f"(after temperature and top-k). Likeliest here: {top}")
        ch = html.escape(s["char"])
        if s["char"] == "\n":
            ch = '<span style="color:#bbb">⏎</span>\n'
        parts.append(f'<span title="{html.escape(tip, quote=True)}" '
                     f'style="background:{_prob_color(s["p"])}">{ch}</span>')
    return f'<div style="{TEXT_STYLE}">' + "".join(parts) + "</div>"


def _signed_color(value: float, lim: float) -> str:
    s = max(-1.0, min(1.0, value / max(lim, 1e-9)))
    if s >= 0:   # red for positive, blue for negative, white at zero
        r, g, b = 255, int(255 * (1 - 0.8 * s)), int(255 * (1 - 0.8 * s))
    else:
        r, g, b = int(255 * (1 + 0.8 * s)), int(255 * (1 + 0.5 * s)), 255
    return f"rgb({r},{g},{b})"


def unit_text_html(text: str, values: np.ndarray, label: str = "") -> str:
    """``text`` with each character's background coloured by one unit's activation after reading it
    (red positive, blue negative, as in Karpathy, Johnson & Fei-Fei 2015); the value on hover."""
    values = np.asarray(values, dtype=float)
    lim = float(np.abs(values).max(initial=0.0)) or 1.0
    parts = []
    for t, (ch, v) in enumerate(zip(text, values)):
        tip = html.escape(f"{t}: {_show(ch)} — {label} = {v:+.3f}", quote=True)
        shown = '<span style="color:#999">⏎</span>\n' if ch == "\n" else html.escape(ch)
        parts.append(f'<span title="{tip}" style="background:{_signed_color(v, lim)}">{shown}</span>')
    scale = (f'<div style="font-size:0.85rem;color:#555;margin-bottom:4px">'
             f'<span style="background:{_signed_color(-lim, lim)};padding:0 6px">{-lim:+.2f}</span> '
             f'<span style="background:#fff;padding:0 6px;border:1px solid #ddd">0</span> '
             f'<span style="background:{_signed_color(lim, lim)};padding:0 6px">{lim:+.2f}</span> '
             f'{html.escape(label)}</div>')
    return scale + f'<div style="{TEXT_STYLE}">' + "".join(parts) + "</div>"


def unit_vs_feature(values: np.ndarray, feature: np.ndarray, unit_label: str, feature_label: str,
                    r: float | None = None, height: int = 300) -> go.Figure:
    """One unit's activation and one feature along the passage (the feature on its own axis)."""
    x = np.arange(len(values))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=values, name=unit_label, line=dict(color=COLORS["hidden"], width=1.5),
                             hovertemplate="character %{x}: %{y:.3f}<extra>" + html.escape(unit_label) + "</extra>"))
    fig.add_trace(go.Scatter(x=x, y=feature, name=feature_label, yaxis="y2",
                             line=dict(color=COLORS["highlight"], width=1.5, dash="dot"),
                             hovertemplate="character %{x}: %{y:.0f}<extra>" + html.escape(feature_label) + "</extra>"))
    title = None if r is None else f"correlation r = {r:+.2f}"
    fig.update_layout(**base_layout(height=height, title=title), legend=dict(orientation="h", y=-0.35, x=0),
                      yaxis2=dict(overlaying="y", side="right", showgrid=False))
    fig.update_xaxes(title_text="character of the passage")
    return fig
