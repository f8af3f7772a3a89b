"""Figures for the sentiment lab: the probability after each word, training curves, the confusion matrix."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import COLORS, base_layout

def probability_trajectory(probs: np.ndarray, tokens: list[str], name: str = "P(positive)",
                           other: np.ndarray | None = None, other_tokens: list[str] | None = None,
                           other_name: str = "edited") -> go.Figure:
    """P(positive) after each word; optionally a second text's trajectory for comparison."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(range(1, len(probs) + 1)), y=probs, mode="lines+markers", name=name,
                             customdata=tokens, line=dict(color=COLORS["hidden"], width=3),
                             hovertemplate="after '%{customdata}' (word %{x}): %{y:.1%}<extra></extra>"))
    if other is not None:
        fig.add_trace(go.Scatter(x=list(range(1, len(other) + 1)), y=other, mode="lines+markers", name=other_name,
                                 customdata=other_tokens, line=dict(color=COLORS["highlight"], width=3, dash="dot"),
                                 hovertemplate="after '%{customdata}' (word %{x}): %{y:.1%}<extra></extra>"))
    fig.add_hline(y=0.5, line=dict(color="#777", dash="dash"), annotation_text="undecided")
    fig.update_layout(**base_layout(height=340, title="P(positive) after each word"),
                      yaxis=dict(range=[0, 1], tickformat=".0%"), xaxis_title="words read")
    return fig


def training_curves(steps: list[int], loss: list[float], acc: list[float], evals: list[dict],
                    lr_drops: list[int] = (), early_stop: int | None = None, smooth: int = 20) -> go.Figure:
    """Loss and accuracy per step (smoothed) with validation points; LR drops and early stopping marked."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.08)

    def smoothed(v):
        v = np.asarray(v, dtype=float)
        if len(v) < 2 or smooth <= 1:
            return v
        k = min(smooth, len(v))
        c = np.cumsum(np.insert(v, 0, 0.0))
        out = np.empty_like(v)
        out[k - 1:] = (c[k:] - c[:-k]) / k
        out[:k - 1] = c[1:k] / np.arange(1, k)
        return out

    if steps:
        fig.add_trace(go.Scatter(x=steps, y=smoothed(loss), name="train", line=dict(color=COLORS["hidden"], width=2),
                                 hovertemplate="step %{x}: train loss %{y:.4f}<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=steps, y=smoothed(acc), name="train", showlegend=False,
                                 line=dict(color=COLORS["hidden"], width=2),
                                 hovertemplate="step %{x}: train accuracy %{y:.3f}<extra></extra>"), row=1, col=2)
    if evals:
        xs = [e["step"] for e in evals]
        fig.add_trace(go.Scatter(x=xs, y=[e.get("loss") for e in evals], name="validation", mode="lines+markers",
                                 line=dict(color=COLORS["highlight"], width=3),
                                 hovertemplate="step %{x}: validation loss %{y:.4f}<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=xs, y=[e.get("acc") for e in evals], name="validation", mode="lines+markers",
                                 showlegend=False, line=dict(color=COLORS["highlight"], width=3),
                                 hovertemplate="step %{x}: validation accuracy %{y:.3f}<extra></extra>"), row=1, col=2)
    for s in lr_drops:
        for col in (1, 2):
            fig.add_vline(x=s, line=dict(color="#6a1b9a", dash="dot"), row=1, col=col)
        fig.add_annotation(x=s, y=1, yref="y2 domain", xref="x2", text="LR ÷2", showarrow=False,
                           font=dict(color="#6a1b9a", size=12), yanchor="bottom")
    if early_stop is not None:
        for col in (1, 2):
            fig.add_vline(x=early_stop, line=dict(color=COLORS["output"], width=2), row=1, col=col)
        fig.add_annotation(x=early_stop, y=0.02, yref="y2 domain", xref="x2", text="early stop", showarrow=False,
                           font=dict(color=COLORS["output"]), xanchor="right")
    fig.update_xaxes(title_text="training step")
    fig.update_layout(**base_layout(height=380), legend=dict(orientation="h", y=-0.25))
    return fig


def confusion_figure(cm: np.ndarray) -> go.Figure:
    """[[TN, FP], [FN, TP]] as a labelled heatmap."""
    cm = np.asarray(cm)
    total = max(int(cm.sum()), 1)
    text = [[f"{cm[i, j]}<br>({cm[i, j] / total:.1%})" for j in range(2)] for i in range(2)]
    fig = go.Figure(go.Heatmap(z=cm, x=["predicted negative", "predicted positive"],
                               y=["actually negative", "actually positive"], text=text, texttemplate="%{text}",
                               colorscale="Blues", showscale=False, hovertemplate="%{y}, %{x}: %{z}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(**base_layout(height=340, title="Confusion matrix on the test reviews"))
    return fig
