"""Figures for the RNN written from scratch: hidden states over the steps, the backward pass's gradient
sizes per step, and the character model's loss."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .style import COLORS, DIVERGING, base_layout


def states_heatmap(H: np.ndarray, step_labels: list[str], title: str = "Hidden state after each step",
                   name: str = "h") -> go.Figure:
    """(T, units) values as a units × steps heatmap, every cell labelled with its value."""
    H = np.asarray(H, dtype=float)
    z = H.T
    lim = max(float(np.abs(z).max(initial=0.0)), 1e-9)
    fig = go.Figure(go.Heatmap(
        z=z, x=step_labels, y=[f"{name}[{j}]" for j in range(z.shape[0])], zmin=-lim, zmax=lim,
        colorscale=DIVERGING, text=[[f"{v:.3f}" for v in row] for row in z], texttemplate="%{text}",
        textfont=dict(size=14), showscale=False,
        hovertemplate=f"{name}[%{{y}}] at %{{x}} = %{{z:.6f}}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(side="top")
    layout = base_layout(height=90 + 42 * z.shape[0], title=None)
    layout["margin"] = dict(l=60, r=10, t=40, b=10)
    fig.update_layout(**layout)
    return fig


def backward_flow(records: list[dict], selected: int | None = None) -> go.Figure:
    """Per step t: how big ∂L/∂h_t is, split into what comes from the step's own output and what comes
    back from the later steps; the selected step is outlined."""
    recs = sorted(records, key=lambda r: r["t"])
    ts = [f"t = {r['t']}" for r in recs]
    own = [float(np.linalg.norm(r["dh_out"])) for r in recs]
    future = [float(np.linalg.norm(r["dh_next"])) for r in recs]
    total = [float(np.linalg.norm(r["dh"])) for r in recs]
    line = [3 if r["t"] == selected else 0 for r in recs]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=ts, y=own, name="from y_t (own output)", marker_color=COLORS["output"],
                         marker_line=dict(width=line, color=COLORS["highlight"]),
                         hovertemplate="‖W_hyᵀ ∂L/∂y_t‖ = %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Bar(x=ts, y=future, name="from h_(t+1) (the future)", marker_color=COLORS["hidden"],
                         marker_line=dict(width=line, color=COLORS["highlight"]),
                         hovertemplate="‖W_hhᵀ ∂L/∂a_(t+1)‖ = %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=ts, y=total, name="‖∂L/∂h_t‖ (the size of their sum)", mode="markers+lines",
                             marker=dict(size=10, color="#111"), line=dict(dash="dot", color="#111"),
                             hovertemplate="‖∂L/∂h_t‖ = %{y:.4f}<extra></extra>"))
    layout = base_layout(height=330, title=None)
    layout["margin"] = dict(l=60, r=10, t=10, b=40)
    fig.update_layout(**layout, barmode="group", yaxis_title="norm",
                      legend=dict(orientation="h", yanchor="top", y=-0.18, x=0, font=dict(size=14)))
    return fig


def char_loss(steps: list[int], losses: list[float], chance: float | None = None,
              sample_steps: list[int] | None = None) -> go.Figure:
    """Training loss per step (cross-entropy per character, nats), with the chance level ln(V)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=losses, mode="lines", name="loss", line=dict(color=COLORS["hidden"], width=2),
                             hovertemplate="step %{x}: loss %{y:.3f}<extra></extra>"))
    if chance is not None:
        fig.add_hline(y=chance, line=dict(dash="dash", color="#777"))
        fig.add_annotation(x=0, xref="paper", xanchor="left", y=chance, yanchor="bottom", showarrow=False,
                           text=f"chance: ln V = {chance:.2f}", font=dict(size=13, color="#555"))
    if sample_steps:
        lookup = dict(zip(steps, losses))
        xs = [s for s in sample_steps if s in lookup]
        fig.add_trace(go.Scatter(x=xs, y=[lookup[s] for s in xs], mode="markers", name="sample drawn",
                                 marker=dict(color=COLORS["highlight"], size=8),
                                 hovertemplate="sample at step %{x}<extra></extra>"))
    layout = base_layout(height=300, title=None)
    layout["margin"] = dict(l=60, r=10, t=10, b=45)
    top = max([chance or 0.0] + [v for v in losses if np.isfinite(v)] + [0.1]) * 1.08
    fig.update_layout(**layout, xaxis_title="training step", yaxis_title="loss (nats/char)",
                      yaxis_range=[0, top], showlegend=False)
    return fig
