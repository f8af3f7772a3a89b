"""Figures for the sentiment lab: the probability after each word, word importance, training curves
against reviews read, the confusion matrix and the reliability diagram."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .fast import figure
from .style import COLORS, OKABE_ITO, SIGN, WINE, base_layout


def probability_trajectory(positions, probs, tokens: list[str], name: str = "P(positive)",
                           other: tuple | None = None, other_name: str = "edited", height: int = 300) -> go.Figure:
    """P(positive) after each word read (``positions``: 1-based counts of tokens read; ``tokens``: all
    the tokens, for the hover). ``other``: a second text's ``(positions, probs, tokens)`` to compare. 300 px
high: on a laptop (1400×900) the curve of the review just typed is on the first screen with it.

    Built from plain dicts (:func:`rnnlab.figures.fast.figure`): the Sentiment lab draws it on every first
    load and every new review, and a validated ``go.Figure`` cost more CPU than the model's reading."""
    def trace(pos, p, toks, label, color, dash):
        pos = np.asarray(pos, dtype=int)
        line = dict(color=color, width=3, **({"dash": dash} if dash else {}))
        return dict(type="scatter", x=pos.tolist(), y=np.asarray(p, dtype=float).tolist(),
                    mode="lines+markers" if len(pos) <= 80 else "lines", name=label,
                    customdata=[toks[k - 1] for k in pos], line=line,
                    hovertemplate="after '%{customdata}' (token %{x}): %{y:.1%}<extra>" + label + "</extra>")

    data = [trace(positions, probs, tokens, name, COLORS["hidden"], None)]
    if other is not None:
        data.append(trace(*other, other_name, COLORS["highlight"], "dot"))
    layout = base_layout(height=height)
    layout.update(showlegend=other is not None, legend=dict(orientation="h", y=-0.3, x=0),
                  shapes=[dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=0.5, y1=0.5,
                               line=dict(color="#777", dash="dash"))],
                  yaxis=dict(range=[-0.02, 1.02], tickformat=".0%", title=dict(text="P(positive)")),
                  xaxis=dict(title=dict(text="tokens read"), rangemode="tozero"),
                  margin=dict(l=60, r=20, t=20, b=50 if other is None else 90))
    return figure(data, layout)


def importance_bars(tokens: list[str], logodds: np.ndarray, dprob: np.ndarray, top: int = 10) -> go.Figure:
    """The ``top`` words that moved the log-odds most (removing the word changes it by the bar's length).
    Plain dicts, like :func:`probability_trajectory`."""
    logodds = np.asarray(logodds, dtype=float)
    order = np.argsort(-np.abs(logodds), kind="stable")[:top][::-1]
    labels = [f"{tokens[k]} · {k + 1}" for k in order]   # position keeps repeated words apart
    colors = [SIGN["positive"] if logodds[k] > 0 else SIGN["negative"] for k in order]
    bar = dict(type="bar", x=logodds[order].tolist(), y=labels, orientation="h", marker=dict(color=colors),
               customdata=[[v] for v in (np.asarray(dprob, dtype=float)[order] * 100).tolist()],
               text=[f"{logodds[k]:+.2f}" for k in order], textposition="auto",
               hovertemplate="%{y}: %{x:+.2f} log-odds, %{customdata[0]:+.2f} points of probability<extra></extra>")
    layout = base_layout(height=80 + 30 * len(order))
    layout.update(xaxis=dict(title=dict(text="Δ log-odds (word kept − word removed)")), yaxis=dict(automargin=True),
                  shapes=[dict(type="line", xref="x", x0=0, x1=0, yref="y domain", y0=0, y1=1,
                               line=dict(color="#555"))])
    return figure([bar], layout)


def _smoothed(v, smooth: int) -> np.ndarray:
    v = np.asarray([np.nan if x is None else x for x in v], dtype=float)
    if len(v) < 2 or smooth <= 1:
        return v
    k = min(smooth, len(v))
    c = np.cumsum(np.insert(np.nan_to_num(v), 0, 0.0))
    out = np.empty_like(v)
    out[k - 1:] = (c[k:] - c[:-k]) / k
    out[:k - 1] = c[1:k] / np.arange(1, k)
    return out


#: The two panels of :func:`training_curves` side by side, as Plotly's ``make_subplots(rows=1, cols=2,
#: horizontal_spacing=0.14)`` lays them out: (x axis, y axis, x domain).
_PANELS = (("x", "y", [0.0, 0.43]), ("x2", "y2", [0.57, 1.0]))


def training_curves(reviews: list[int], loss: list[float], acc: list[float], evals: list[dict],
                    lr_drops: list[int] = (), early_stop: int | None = None, epochs: list[int] = (),
                    smooth: int = 10, restarts: list[int] = ()) -> go.Figure:
    """Loss and accuracy against the number of training reviews read: training (smoothed over ``smooth``
    steps) and validation (``evals``: dicts with "reviews", "loss", "acc"); epoch ends, LR drops, warm
    restarts and early stopping marked at the review count where they happened.

    Plain dicts (:func:`rnnlab.figures.fast.figure`): a live training redraws it every two seconds, and
    ``make_subplots`` with validated traces took 30-60 ms of the server's Python each time."""
    data = []

    def line(panel: int, x, y, name: str, color: str, width: float, hover: str, **more):
        xa, ya, _ = _PANELS[panel]
        data.append(dict(type="scatter", x=list(x), y=list(y), name=name, xaxis=xa, yaxis=ya,
                         line=dict(color=color, width=width), hovertemplate=hover, **more))

    x = np.asarray(reviews, dtype=float)
    if len(x):
        line(0, x.tolist(), _plain(_smoothed(loss, smooth)), "training (smoothed)", COLORS["hidden"], 2,
             "%{x:,} reviews: training loss %{y:.3f}<extra></extra>")
        line(1, x.tolist(), _plain(_smoothed(acc, smooth)), "training (smoothed)", COLORS["hidden"], 2,
             "%{x:,} reviews: training accuracy %{y:.1%}<extra></extra>", showlegend=False)
    if evals:
        xs = [e["reviews"] for e in evals]
        line(0, xs, [e.get("loss") for e in evals], "validation", COLORS["highlight"], 3,
             "%{x:,} reviews: validation loss %{y:.3f}<extra></extra>", mode="lines+markers")
        line(1, xs, [e.get("acc") for e in evals], "validation", COLORS["highlight"], 3,
             "%{x:,} reviews: validation accuracy %{y:.1%}<extra></extra>", mode="lines+markers", showlegend=False)
    marks = [(r, "epoch end", "#9e9e9e", "dot") for r in epochs] + \
            [(r, "learning rate halved", WINE, "dash") for r in lr_drops] + \
            [(r, "warm restart: back to the best weights, learning rate high again", OKABE_ITO["bluish_green"],
              "dashdot") for r in restarts] + \
            ([(early_stop, "early stop", COLORS["output"], "solid")] if early_stop is not None else [])
    shapes, shown = [], set()
    for r, label, color, dash in marks:
        for xa, ya, _ in _PANELS:
            shapes.append(dict(type="line", xref=xa, x0=r, x1=r, yref=f"{ya} domain", y0=0, y1=1,
                               line=dict(color=color, dash=dash, width=1.5 if label == "epoch end" else 2)))
        if label not in shown:   # a legend entry per kind of mark instead of text over the curves
            shown.add(label)
            data.append(dict(type="scatter", x=[None], y=[None], mode="lines", name=label, xaxis="x", yaxis="y",
                             line=dict(color=color, dash=dash, width=2)))
    layout = base_layout(height=360)
    layout.update(margin=dict(l=60, r=20, t=40, b=110), legend=dict(orientation="h", y=-0.3, x=0), shapes=shapes,
                  annotations=[dict(text=title, x=(domain[0] + domain[1]) / 2, xref="paper", xanchor="center",
                                    y=1.0, yref="paper", yanchor="bottom", showarrow=False, font=dict(size=16))
                               for title, (_, _, domain) in zip(("Loss", "Accuracy"), _PANELS)])
    for k, (xa, ya, domain) in enumerate(_PANELS):
        layout[f"xaxis{k + 1 if k else ''}"] = dict(anchor=ya, domain=domain, rangemode="tozero", tickformat="~s",
                                                    title=dict(text="training reviews read"))
        layout[f"yaxis{k + 1 if k else ''}"] = dict(anchor=xa, domain=[0.0, 1.0],
                                                    **({"tickformat": ".0%"} if k else {}))   # accuracy in %
    return figure(data, layout)


def _plain(v: np.ndarray) -> list:
    """Floats for JSON, None where a value is missing (NaN is not valid JSON)."""
    return [None if not np.isfinite(a) else float(a) for a in v]


def confusion_figure(cm: np.ndarray, title: str = "Confusion matrix on the test reviews") -> go.Figure:
    """[[TN, FP], [FN, TP]] as a labelled heatmap."""
    cm = np.asarray(cm)
    total = max(int(cm.sum()), 1)
    text = [[f"{cm[i, j]:,}<br>({cm[i, j] / total:.1%})" for j in range(2)] for i in range(2)]
    fig = go.Figure(go.Heatmap(z=cm, x=["predicted negative", "predicted positive"],
                               y=["actually negative", "actually positive"], text=text, texttemplate="%{text}",
                               colorscale="Blues", showscale=False, hovertemplate="%{y}, %{x}: %{z:,}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(**base_layout(height=320, title=title))
    return fig


def reliability_figure(before, after, temperature: float) -> go.Figure:
    """Reliability diagram: per confidence bin, how often the model was right against how sure it was,
    before and after temperature scaling (``before``/``after``: :class:`rnnlab.labs.calibration.Reliability`).
    On the diagonal the model is calibrated; below it, over-confident."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0.5, 1.0], y=[0.5, 1.0], mode="lines", name="perfectly calibrated",
                             line=dict(color="#888", dash="dash"), hoverinfo="skip"))
    for r, label, color, symbol in ((before, f"T = 1 (ECE {before.ece:.1%})", COLORS["output"], "circle"),
                                    (after, f"T = {temperature:.2f} (ECE {after.ece:.1%})", COLORS["hidden"],
                                     "diamond")):
        keep = np.asarray(r.counts) > 0
        fig.add_trace(go.Scatter(
            x=np.asarray(r.confidence)[keep], y=np.asarray(r.accuracy)[keep], mode="lines+markers", name=label,
            marker=dict(size=np.clip(6 + 3 * np.log1p(np.asarray(r.counts)[keep]), 6, 22), symbol=symbol, color=color),
            line=dict(color=color, width=2), customdata=np.asarray(r.counts)[keep],
            hovertemplate="sure %{x:.1%}, right %{y:.1%} (%{customdata:,} reviews)<extra>" + label + "</extra>"))
    fig.update_layout(**{**base_layout(height=380), "margin": dict(l=70, r=20, t=20, b=110)},
                      legend=dict(orientation="h", y=-0.28, x=0),
                      xaxis=dict(title="confidence (how sure the model is)", range=[0.48, 1.01], tickformat=".0%"),
                      yaxis=dict(title="accuracy (how often it is right)", range=[0.3, 1.02], tickformat=".0%"))
    return fig
