"""Figures for the gradients lab: gradient flow, the weight criterion, training heatmaps, clipping,
truncated BPTT and the long-range tasks.

Gradient norms arrive as log10 values (they reach 1e-400, beyond a float64 and beyond a browser's log
axis), so they are drawn on a linear axis of exponents labelled 10ⁿ, with the value in scientific notation
on hover. No figure carries notes inside its plotting area: what a line means is in the legend (below
the plot, so it never covers a title) and the page's captions.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..labs.gradients import GradientFlow, sci
from .style import CELL_COLORS, COLORS, base_layout

LABELS = {"RNN_TANH": "RNN (tanh)", "RNN_RELU": "RNN (relu)", "LSTM": "LSTM", "GRU": "GRU", "IRNN": "IRNN",
          "RNN": "RNN (tanh)"}
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.2, x=0, xanchor="left")
SWEEP_STYLE = {"RNN": ("circle-open", 18, "solid"), "LSTM": ("square-open", 16, "solid"),
               "GRU": ("diamond", 9, "dash"), "IRNN": ("x-thin", 10, "dot")}
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _legend_below(height: int) -> dict:
    """LEGEND_BELOW at a fixed distance under the axis (62 px, as at the 380-pixel default), whatever the
    height: in paper units a shorter figure would pull the legend onto the axis title."""
    return dict(LEGEND_BELOW, y=-62 / max(height - 70, 100))


def _label(cell: str) -> str:
    return LABELS.get(cell, cell)


def flow_label(f: GradientFlow) -> str:
    return _label(f.cell) + (" + skip" if f.residual else "")


def power_of_ten(n: int) -> str:
    """'10⁻⁴⁰⁰' for n = -400."""
    return "10" + str(int(n)).translate(SUPERSCRIPT) if n != 0 else "1"


def log_ticks(lo: float, hi: float, max_ticks: int = 7) -> tuple[list[int], list[str]]:
    """Tick positions (integer exponents) and labels 10ⁿ for an axis of log10 values from lo to hi."""
    lo, hi = math.floor(lo), math.ceil(hi)
    span = max(hi - lo, 1)
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10**4, 10**5)
                if span / s <= max_ticks - 1)
    vals = list(range(math.floor(lo / step) * step, hi + 1, step))
    return vals, [power_of_ten(v) for v in vals]


def _finite(values) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)   # an exact zero (-inf) is a gap, not a cliff


def _log_axis(fig: go.Figure, arrays, title: str, **where) -> None:
    finite = np.concatenate([np.asarray(a, float)[np.isfinite(a)] for a in arrays] + [np.zeros(1)])
    lo, hi = float(finite.min()), float(finite.max())
    pad = max((hi - lo) * 0.05, 0.5)
    vals, text = log_ticks(lo - pad, hi + pad)
    fig.update_yaxes(tickvals=vals, ticktext=text, range=[lo - pad, hi + pad], title_text=title,
                     zeroline=False, **where)


def gradient_flow_figure(flows: list[GradientFlow], height: int = 380) -> go.Figure:
    """log10 ‖∂L/∂h_t‖ against t, one curve per cell (dashed: with skip connections across time)."""
    fig = go.Figure()
    for f in flows:
        name = flow_label(f)
        y = _finite(f.log10_grad)
        fig.add_trace(go.Scatter(x=f.steps, y=y, mode="lines", name=name,
                                 line=dict(color=CELL_COLORS.get(f.cell, "#555"), width=3,
                                           dash="dash" if f.residual else "solid"),
                                 customdata=[sci(v) for v in f.log10_grad],
                                 hovertemplate=name + ": t=%{x}, ‖∂L/∂h_t‖ = %{customdata}<extra></extra>"))
    fig.add_hline(y=0.0, line=dict(color="#888", dash="dot", width=1))
    _log_axis(fig, [f.log10_grad for f in flows], "‖∂L/∂h<sub>t</sub>‖")
    fig.update_layout(**base_layout(height=height), legend=_legend_below(height), xaxis_title="time step t")
    return fig


def jacobian_figure(flows: list[GradientFlow], height: int = 380) -> go.Figure:
    """log10 ‖∂h_T/∂h_t‖₂ (the norm of the Jacobian product) against t."""
    fig = go.Figure()
    for f in flows:
        name = flow_label(f) + ("" if f.jacobian_exact else " (lower bound)")
        fig.add_trace(go.Scatter(x=f.jacobian_steps, y=_finite(f.log10_jacobian), mode="lines", name=name,
                                 line=dict(color=CELL_COLORS.get(f.cell, "#555"), width=3,
                                           dash="dash" if f.residual else "solid"),
                                 customdata=[sci(v) for v in f.log10_jacobian],
                                 hovertemplate=name + ": t=%{x}, ‖∂h_T/∂h_t‖ = %{customdata}<extra></extra>"))
    fig.add_hline(y=0.0, line=dict(color="#888", dash="dot", width=1))
    _log_axis(fig, [f.log10_jacobian for f in flows], "‖∂h<sub>T</sub>/∂h<sub>t</sub>‖<sub>2</sub>")
    fig.update_layout(**base_layout(height=height), legend=_legend_below(height), xaxis_title="time step t")
    return fig


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def flow_summary(flows: list[GradientFlow]) -> str:
    """The gradient-flow plot in one sentence, computed from its curves (its caption and text alternative):
    'At T = 100, on its way back to step 1 the gradient falls to 2.5e-28 of its size in the RNN (tanh), to
    2.5e-02 in the LSTM and to 2.3e-21 in the GRU.'"""
    if not flows:
        return "No cell chosen: nothing is drawn."
    T = max(len(f.steps) for f in flows)
    # a cell whose state overflowed is measured from an earlier last step: say which
    ratio = {flow_label(f) + (f" (from step {len(f.steps):,})" if len(f.steps) < T else ""):
             f.log10_ratio_first_last() for f in flows}
    fell = [f"to {sci(r)}" + (" of its size" if not k else "") + f" in the {name}"
            for k, (name, r) in enumerate((n, r) for n, r in ratio.items() if r < 0)]
    grew = [f"to {sci(r)}" + (" times its size" if not k else "") + f" in the {name}"
            for k, (name, r) in enumerate((n, r) for n, r in ratio.items() if r >= 0)]
    said = ([f"falls {_listed(fell)}"] if fell else []) + ([f"grows {_listed(grew)}"] if grew else [])
    return f"At T = {T}, on its way back to step 1 the gradient {' and '.join(said)}."


def weight_criterion_figure(flows: list[GradientFlow]) -> go.Figure:
    """σ_max of each recurrent weight block (bars), its spectral radius ρ (◆) and its own bound 1/γ (|): γ is
    the largest slope of the nonlinearity the block goes through (1 for tanh and relu, 1/4 for a sigmoid
    gate). Horizontal bars, so that the block names are never turned sideways on a phone."""
    fig = go.Figure()
    seen = set()
    names, sig, rad, bound, colors = [], [], [], [], []
    for f in flows:
        if f.cell in seen:          # the same weights with and without skip connections
            continue
        seen.add(f.cell)
        for n in f.sigma_max:
            names.append(f"{_label(f.cell)} {n}")
            sig.append(f.sigma_max[n])
            rad.append(f.radius[n])
            bound.append(1.0 / f.gamma[n])
            colors.append(CELL_COLORS.get(f.cell, "#555"))
    fig.add_trace(go.Bar(y=names, x=sig, orientation="h", name="σ_max (largest singular value)", marker_color=colors,
                         text=[f"{v:.2f}" for v in sig], textposition="outside", cliponaxis=False,
                         hovertemplate="%{y}: σ_max = %{x:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(y=names, x=rad, mode="markers", name="ρ (spectral radius)",
                             marker=dict(symbol="diamond", size=11, color="white", line=dict(color="#222", width=2)),
                             hovertemplate="%{y}: spectral radius ρ = %{x:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(y=names, x=bound, mode="markers", name="1/γ for this block",
                             marker=dict(symbol="line-ns", size=18, line=dict(color="#222", width=3)),
                             hovertemplate="%{y}: 1/γ = %{x:g}<extra></extra>"))
    top = max(sig + bound + [1.0]) * 1.15
    layout = base_layout(height=130 + 30 * len(names))
    layout["margin"] = dict(l=10, r=20, t=10, b=40)
    fig.update_layout(**layout, legend=LEGEND_BELOW, bargap=0.3,
                      xaxis=dict(range=[0, top], title="value"),
                      yaxis=dict(autorange="reversed", automargin=True, tickfont=dict(size=14)))
    return fig


def training_heatmap(log10_profiles: np.ndarray, train_steps: list[int], height: int = 400) -> go.Figure:
    """log10 ‖∂L/∂h_t‖ over time step (x) and training step (y), while a model trains."""
    z = _finite(np.asarray(log10_profiles, dtype=float))
    T = z.shape[1]
    fig = go.Figure(go.Heatmap(z=z, x=list(range(1, T + 1)), y=list(train_steps), colorscale="Magma",
                               colorbar=dict(title=dict(text="log₁₀", side="top"), thickness=12),
                               hovertemplate="training step %{y}<br>time step %{x}<br>"
                                             "log₁₀ ‖∂L/∂h_t‖ = %{z:.1f}<extra></extra>"))
    fig.update_layout(**base_layout(height=height), xaxis_title="time step t", yaxis_title="training step")
    return fig


def clipping_figure(runs: dict[str, dict], threshold: float, height: int = 540) -> go.Figure:
    """Loss and gradient norm per step for runs with and without clipping; clipped steps and divergence
    marked (in the legend, not as notes on the plot)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=("Training loss", "Gradient norm before clipping"))
    colors = {"without clipping": COLORS["output"], "with clipping": COLORS["hidden"]}
    last = 1
    for name, r in runs.items():
        color = colors.get(name, "#555")
        steps, loss, norm, clipped = list(r["steps"]), _finite(r["loss"]), _finite(r["grad_norm"]), list(r["clipped"])
        last = max([last] + steps)
        fig.add_trace(go.Scatter(x=steps, y=loss, mode="lines", name=name, legendgroup=name,
                                 line=dict(color=color, width=2.5),
                                 hovertemplate=name + ": step %{x}, loss %{y:.4g}<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=steps, y=norm, mode="lines", name=name, legendgroup=name, showlegend=False,
                                 line=dict(color=color, width=1.5),
                                 hovertemplate=name + ": step %{x}, ‖g‖ = %{y:.4g}<extra></extra>"), row=2, col=1)
        cs = [s for s, c in zip(steps, clipped) if c]
        if cs:
            fig.add_trace(go.Scatter(x=cs, y=[n for n, c in zip(norm, clipped) if c], mode="markers",
                                     name="clipped step", legendgroup=name, marker=dict(color=color, size=6),
                                     hovertemplate="step %{x}: clipped from %{y:.4g}<extra></extra>"), row=2, col=1)
        if r.get("status") == "diverged" and steps:
            fig.add_trace(go.Scatter(x=[steps[-1] + 1], y=[loss[-1]], mode="markers", name=f"{name}: diverged",
                                     legendgroup=name, marker=dict(symbol="x", size=16, color=color,
                                                                   line=dict(width=2)),
                                     hovertemplate=f"{name} diverged at step %{{x}}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=[0, last], y=[threshold, threshold], mode="lines", name=f"threshold {threshold:g}",
                             line=dict(color="#222", dash="dash"), hoverinfo="skip"), row=2, col=1)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=1)
    fig.update_yaxes(type="log", exponentformat="power", row=2, col=1)
    fig.update_xaxes(title_text="training step", row=2, col=1)
    fig.update_layout(**base_layout(height=height), legend=dict(LEGEND_BELOW, y=-0.14))
    fig.update_annotations(font_size=15)
    return fig


def truncation_figure(log10_norms: np.ndarray, k: int, cell: str, height: int = 360) -> go.Figure:
    """The full gradient per step, and what truncated BPTT with window k keeps of it."""
    log10_norms = np.asarray(log10_norms, dtype=float)
    T = len(log10_norms)
    t = np.arange(1, T + 1)
    y = _finite(log10_norms)
    kept = np.where(t > T - k, y, np.nan)
    text = [sci(v) for v in log10_norms]
    fig = go.Figure()
    if k < T:
        fig.add_vrect(x0=0.5, x1=T - k + 0.5, fillcolor="#888", opacity=0.15, line_width=0)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="no gradient reaches these steps",
                                 marker=dict(symbol="square", size=14, color="rgba(136,136,136,0.35)")))
    fig.add_trace(go.Scatter(x=t, y=y, mode="lines", name="full BPTT", line=dict(color="#999", width=2),
                             customdata=text, hovertemplate="t=%{x}: ‖∂L/∂h_t‖ = %{customdata}<extra></extra>"))
    fig.add_trace(go.Scatter(x=t, y=kept, mode="lines", name=f"kept by truncation (last {k})",
                             line=dict(color=CELL_COLORS.get(cell, "#555"), width=4), hoverinfo="skip"))
    _log_axis(fig, [log10_norms], "‖∂L/∂h<sub>t</sub>‖")
    fig.update_layout(**base_layout(height=height), xaxis_title="time step t", legend=LEGEND_BELOW)
    return fig


def task_curves(curves: dict[str, tuple[list[int], list[float]]], baseline: float, threshold: float,
                steps: int, metric: str = "MSE", baseline_label: str = "baseline",
                solved_at: dict[str, int] | None = None, height: int = 420) -> go.Figure:
    """Validation loss per cell against the baseline and the 'solved' threshold; ★ where a cell solved it."""
    fig = go.Figure()
    for cell, (x, loss) in curves.items():
        fig.add_trace(go.Scatter(x=list(x), y=_finite(loss), mode="lines+markers", name=_label(cell),
                                 line=dict(color=CELL_COLORS.get(cell, "#555"), width=3), marker=dict(size=5),
                                 hovertemplate=_label(cell) + ": step %{x}, validation " + metric
                                 + " %{y:.4f}<extra></extra>"))
    first = True
    for cell, step in (solved_at or {}).items():
        x, loss = curves.get(cell, ([], []))
        if step in list(x):
            fig.add_trace(go.Scatter(x=[step], y=[list(loss)[list(x).index(step)]], mode="markers",
                                     name="★ solved here", showlegend=first, legendgroup="solved",
                                     marker=dict(symbol="star", size=18, color=CELL_COLORS.get(cell, "#555"),
                                                 line=dict(color="#111", width=1)),
                                     hovertemplate=_label(cell) + " solved it at step %{x}<extra></extra>"))
            first = False
    span = [0, max(steps, 1)]
    fig.add_trace(go.Scatter(x=span, y=[baseline, baseline], mode="lines", name=baseline_label,
                             line=dict(color="#222", dash="dash", width=2), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=span, y=[threshold, threshold], mode="lines", name=f"solved below {threshold:.4f}",
                             line=dict(color=COLORS["input"], dash="dot", width=2), hoverinfo="skip"))
    fig.update_yaxes(type="log", title=f"validation {metric}", exponentformat="power")
    fig.update_layout(**base_layout(height=height), xaxis_title="training step", legend=LEGEND_BELOW)
    return fig


def sweep_figure(success: dict[str, list[float]], Ts: list[int], seeds: int, height: int = 400) -> go.Figure:
    """Share of seeds that solved the task, against the sequence length T."""
    fig = go.Figure()
    for cell, row in success.items():
        # different marker sizes and dashes: two cells with the same results stay visible, one over the other
        symbol, size, dash = SWEEP_STYLE.get(cell, ("circle", 11, "solid"))
        fig.add_trace(go.Scatter(x=Ts, y=row, mode="lines+markers", name=_label(cell),
                                 line=dict(color=CELL_COLORS.get(cell, "#555"), width=3, dash=dash),
                                 marker=dict(size=size, symbol=symbol,
                                             line=dict(width=2, color=CELL_COLORS.get(cell, "#555"))),
                                 hovertemplate=_label(cell) + ": T=%{x}, solved in %{y:.0%} of runs<extra></extra>"))
    fig.update_layout(**base_layout(height=height),
                      yaxis=dict(range=[-0.05, 1.05], tickformat=".0%", title=f"runs solved (of {seeds})"),
                      xaxis=dict(type="log", title="sequence length T", tickvals=Ts),
                      legend=LEGEND_BELOW)
    return fig
