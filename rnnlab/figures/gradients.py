"""Figures for the gradients lab: gradient flow, the weight criterion, training heatmaps, clipping,
truncated BPTT and the long-range tasks."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..labs.gradients import GradientFlow
from .style import CELL_COLORS, COLORS, base_layout

LABELS = {"RNN_TANH": "RNN (tanh)", "RNN_RELU": "RNN (relu)", "LSTM": "LSTM", "GRU": "GRU", "IRNN": "IRNN",
          "RNN": "RNN (tanh)"}
TINY = 1e-300  # log axes cannot show 0: an underflowed gradient is drawn at this floor


def _label(cell: str) -> str:
    return LABELS.get(cell, cell)


def gradient_flow_figure(flows: list[GradientFlow]) -> go.Figure:
    """‖∂L/∂h_t‖ and ‖∂h_T/∂h_t‖ against t on log axes, one curve per cell."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09, subplot_titles=(
        "‖∂L/∂h<sub>t</sub>‖: the gradient that reaches step t",
        "‖∂h<sub>T</sub>/∂h<sub>t</sub>‖: norm of the Jacobian product ∏ ∂h<sub>k</sub>/∂h<sub>k-1</sub>"))
    for f in flows:
        color = CELL_COLORS.get(f.cell, "#555")
        g = np.maximum(f.grad_norms, TINY)
        fig.add_trace(go.Scatter(x=f.steps, y=g, mode="lines", name=_label(f.cell), legendgroup=f.cell,
                                 line=dict(color=color, width=3),
                                 hovertemplate=_label(f.cell) + ": t=%{x}, ‖∂L/∂h_t‖ = %{y:.3e}<extra></extra>"),
                      row=1, col=1)
        note = "" if f.jacobian_exact else " (lower bound)"
        fig.add_trace(go.Scatter(x=f.steps, y=np.maximum(f.jacobian_norms, TINY), mode="lines",
                                 name=_label(f.cell) + note, legendgroup=f.cell, showlegend=False,
                                 line=dict(color=color, width=3, dash="dot" if not f.jacobian_exact else "solid"),
                                 hovertemplate=_label(f.cell) + ": t=%{x}, ‖∂h_T/∂h_t‖ = %{y:.3e}" + note + "<extra></extra>"),
                      row=1, col=2)
    for col in (1, 2):
        fig.add_hline(y=1.0, line=dict(color="#888", dash="dash"), row=1, col=col)
        fig.update_yaxes(type="log", exponentformat="power", row=1, col=col)
        fig.update_xaxes(title_text="time step t (the loss is at the last step, T)", row=1, col=col)
    fig.update_layout(**base_layout(height=460), legend=dict(orientation="h", y=-0.22))
    return fig


def weight_criterion_figure(flows: list[GradientFlow]) -> go.Figure:
    """σ_max of each recurrent weight block against Pascanu et al.'s threshold 1/γ."""
    fig = go.Figure()
    for f in flows:
        names = list(f.sigma_max)
        fig.add_trace(go.Bar(x=[f"{_label(f.cell)} {n}" for n in names], y=[f.sigma_max[n] for n in names],
                             name=_label(f.cell), marker_color=CELL_COLORS.get(f.cell, "#555"),
                             text=[f"{f.sigma_max[n]:.2f}" for n in names], textposition="outside",
                             customdata=[f.radius[n] for n in names],
                             hovertemplate="%{x}: σ_max = %{y:.3f}, spectral radius = %{customdata:.3f}<extra></extra>"))
    top = max([max(f.sigma_max.values()) for f in flows] + [1.5]) * 1.25
    fig.add_hrect(y0=0, y1=1.0, fillcolor=COLORS["hidden"], opacity=0.08, line_width=0)
    fig.add_hrect(y0=1.0, y1=top, fillcolor=COLORS["output"], opacity=0.06, line_width=0)
    fig.add_hline(y=1.0, line=dict(color="#222", width=2, dash="dash"))
    for y, text in [(top * 0.97, "above 1/γ: explosion becomes possible"),
                    (0.97, "1/γ = 1 (γ: the largest slope of tanh or relu)"),
                    (0.06, "below 1/γ: vanishing is guaranteed (vanilla RNN)")]:
        fig.add_annotation(x=1.0, xref="paper", y=y, yanchor="top", xanchor="right", text=text, showarrow=False,
                           font=dict(size=13, color="#333"), bgcolor="rgba(255,255,255,0.7)")
    fig.update_layout(**base_layout(height=400, title="Largest singular value of each W_hh block (Pascanu et al. 2013)"),
                      yaxis=dict(range=[0, top], title="σ_max"), showlegend=False)
    return fig


def training_heatmap(profiles: np.ndarray, train_steps: list[int]) -> go.Figure:
    """log10 ‖∂L/∂h_t‖ over time step (x) and training step (y), while a model trains."""
    z = np.log10(np.maximum(np.asarray(profiles, dtype=float), TINY))
    T = z.shape[1]
    fig = go.Figure(go.Heatmap(z=z, x=list(range(1, T + 1)), y=train_steps, colorscale="Magma",
                               colorbar=dict(title="log₁₀ ‖∂L/∂h_t‖", thickness=14),
                               hovertemplate="training step %{y}<br>time step %{x}<br>log₁₀ ‖∂L/∂h_t‖ = %{z:.1f}<extra></extra>"))
    fig.update_layout(**base_layout(height=420, title="How far back the gradient reaches, as training goes on"),
                      xaxis_title="time step t (the loss is at the last step)", yaxis_title="training step")
    return fig


def clipping_figure(runs: dict[str, dict], threshold: float) -> go.Figure:
    """Loss and gradient norm per step for runs with and without clipping; clipped steps marked."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("Training loss", "Gradient norm before clipping (● = clipped step)"))
    colors = {"without clipping": COLORS["output"], "with clipping": COLORS["hidden"]}
    for name, r in runs.items():
        color = colors.get(name, "#555")
        steps, loss, norm, clipped = r["steps"], np.asarray(r["loss"], float), np.asarray(r["grad_norm"], float), r["clipped"]
        fig.add_trace(go.Scatter(x=steps, y=loss, mode="lines", name=name, line=dict(color=color, width=2.5),
                                 hovertemplate=name + ": step %{x}, loss %{y:.4g}<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=steps, y=norm, mode="lines", name=name, showlegend=False,
                                 line=dict(color=color, width=1.5),
                                 hovertemplate=name + ": step %{x}, ‖g‖ = %{y:.4g}<extra></extra>"), row=2, col=1)
        cs = [s for s, c in zip(steps, clipped) if c]
        if cs:
            fig.add_trace(go.Scatter(x=cs, y=[n for n, c in zip(norm, clipped) if c], mode="markers",
                                     name=f"{name}: clipped", marker=dict(color=color, size=6),
                                     hovertemplate="step %{x}: clipped from %{y:.4g}<extra></extra>"), row=2, col=1)
        if r.get("status") == "diverged":
            last = steps[-1] if steps else 0
            fig.add_vline(x=last + 1, line=dict(color=color, dash="dot", width=2), row=1, col=1)
            fig.add_annotation(x=last + 1, y=1, yref="y domain", text=f"{name}: diverged (NaN) at step {last + 1}",
                               showarrow=False, xanchor="left", font=dict(color=color), row=1, col=1)
    fig.add_hline(y=threshold, line=dict(color="#222", dash="dash"), annotation_text=f"threshold {threshold:g}",
                  row=2, col=1)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(type="log", row=2, col=1)
    fig.update_xaxes(title_text="training step", row=2, col=1)
    fig.update_layout(**base_layout(height=560), legend=dict(orientation="h", y=-0.15))
    return fig


def truncation_figure(norms: np.ndarray, k: int, cell: str) -> go.Figure:
    """The full gradient per step, and what truncated BPTT with window k keeps of it."""
    T = len(norms)
    t = np.arange(1, T + 1)
    kept = np.where(t > T - k, norms, np.nan)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t, y=np.maximum(norms, TINY), mode="lines", name="full BPTT",
                             line=dict(color="#999", width=2)))
    fig.add_trace(go.Scatter(x=t, y=kept, mode="lines", name=f"truncated to the last {k} steps",
                             line=dict(color=CELL_COLORS.get(cell, "#555"), width=4)))
    if k < T:
        fig.add_vrect(x0=0.5, x1=T - k + 0.5, fillcolor="#888", opacity=0.12, line_width=0,
                      annotation_text="no gradient reaches these steps", annotation_position="top left")
    fig.update_yaxes(type="log", exponentformat="power", title="‖∂L/∂h_t‖")
    fig.update_layout(**base_layout(height=380, title=f"Truncated BPTT ({_label(cell)})"),
                      xaxis_title="time step t", legend=dict(orientation="h", y=-0.25))
    return fig


def task_curves(curves: dict[str, tuple[list[int], list[float]]], baseline: float, metric: str = "MSE",
                baseline_label: str = "baseline") -> go.Figure:
    """Validation loss per cell against the baseline line."""
    fig = go.Figure()
    for cell, (steps, loss) in curves.items():
        fig.add_trace(go.Scatter(x=steps, y=loss, mode="lines+markers", name=_label(cell),
                                 line=dict(color=CELL_COLORS.get(cell, "#555"), width=3),
                                 hovertemplate=_label(cell) + ": step %{x}, validation " + metric + " %{y:.4f}<extra></extra>"))
    fig.add_hline(y=baseline, line=dict(color="#222", dash="dash", width=2), annotation_text=baseline_label,
                  annotation_position="top right")
    fig.update_yaxes(type="log", title=f"validation {metric}")
    fig.update_layout(**base_layout(height=420, title="Learning the long-range task"), xaxis_title="training step",
                      legend=dict(orientation="h", y=-0.2))
    return fig


def sweep_figure(success: dict[str, list[float]], Ts: list[int], seeds: int) -> go.Figure:
    """Share of seeds that solved the task, against the sequence length T."""
    fig = go.Figure()
    for cell, row in success.items():
        fig.add_trace(go.Scatter(x=Ts, y=row, mode="lines+markers", name=_label(cell),
                                 line=dict(color=CELL_COLORS.get(cell, "#555"), width=3), marker=dict(size=11),
                                 hovertemplate=_label(cell) + ": T=%{x}, solved in %{y:.0%} of runs<extra></extra>"))
    fig.update_layout(**base_layout(height=420, title=f"Solved vs sequence length ({seeds} seed{'s' if seeds > 1 else ''} each)"),
                      yaxis=dict(range=[-0.05, 1.05], tickformat=".0%", title="runs solved"),
                      xaxis=dict(type="log", title="sequence length T", tickvals=Ts),
                      legend=dict(orientation="h", y=-0.2))
    return fig
