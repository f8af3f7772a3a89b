"""Figures for batches of sequences: the padded tensor, the PackedSequence layout, what unmasked padding does
to each direction, the measured cost of packing, and word vectors projected to 2-D."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import COLORS, base_layout

PAD_GREY, WORD_BLUE, OOV_ORANGE = "#e0e0e0", "#bbdefb", "#ffcc80"


def _short(token: str, n: int = 7) -> str:
    return token if len(token) <= n else token[:n - 1] + "…"


def _cell_text(tokens: list[list[str]], width: int, positions: list[list[int]]) -> list[list[str]]:
    """Token text per cell; ``positions[b]`` says where row b's tokens sit (post or pre padding)."""
    out = [["pad"] * width for _ in tokens]
    for b, (toks, pos) in enumerate(zip(tokens, positions)):
        for tok, t in zip(toks, pos):
            out[b][t] = _short(tok)
    return out


def padded_batch(tokens: list[list[str]], ids: list[list[int]], unknown: list[list[bool]], width: int,
                 padding: str = "post") -> go.Figure:
    """The batch as the tensor the layer receives: one row per sentence, one column per time step; grey
    cells are padding (id 0), orange ones words the model does not know (<oov>, id 1). ``ids[b]`` are row
    b's token ids (unpadded); ``padding`` puts the pads after ("post") or before ("pre") them."""
    B, T = len(tokens), width
    lengths = [len(t) for t in tokens]
    positions = [list(range(n)) if padding == "post" else list(range(T - n, T)) for n in lengths]
    kind = np.zeros((B, T))
    hover = [[f"row {b}, step {t}: pad (id 0)" for t in range(T)] for b in range(B)]
    for b in range(B):
        for k, t in enumerate(positions[b]):
            kind[b, t] = 2 if unknown[b][k] else 1
            hover[b][t] = f"row {b}, step {t}: '{tokens[b][k]}' (id {ids[b][k]})"
    text = _cell_text(tokens, T, positions)
    show_text = T <= 24
    fig = go.Figure(go.Heatmap(
        z=kind, zmin=0, zmax=2, showscale=False, xgap=2, ygap=2,
        colorscale=[[0, PAD_GREY], [0.33, PAD_GREY], [0.34, WORD_BLUE], [0.66, WORD_BLUE], [0.67, OOV_ORANGE],
                    [1, OOV_ORANGE]],
        text=text if show_text else None, texttemplate="%{text}" if show_text else None,
        textfont=dict(size=12), customdata=hover, hovertemplate="%{customdata}<extra></extra>",
        x=list(range(T)), y=[f"row {b} ({n})" for b, n in enumerate(lengths)]))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="time step", dtick=1 if T <= 24 else 5)
    layout = base_layout(height=110 + 40 * B)
    layout["margin"] = dict(l=80, r=10, t=10, b=50)
    fig.update_layout(**layout)
    return fig


def packed_layout_figure(lengths: list[int], batch_sizes: list[int], sorted_indices: list[int],
                         order: list[tuple[int, int]]) -> go.Figure:
    """The PackedSequence: rows sorted longest first, each cell numbered with its place in ``packed.data``;
    the layer reads column by column, ``batch_sizes[t]`` rows at step t, and never a pad."""
    B, T = len(lengths), max(lengths)
    place = np.full((B, T), np.nan)
    rank_of_row = {row: r for r, row in enumerate(sorted_indices)}
    for k, (row, t) in enumerate(order):
        place[rank_of_row[row], t] = k
    text = [["" if np.isnan(v) else str(int(v)) for v in r] for r in place]
    fig = go.Figure(go.Heatmap(
        z=np.where(np.isnan(place), 0.0, 1.0), zmin=0, zmax=1, showscale=False, xgap=2, ygap=2,
        colorscale=[[0, "#fafafa"], [1, "#c8e6c9"]], text=text, texttemplate="%{text}", textfont=dict(size=12),
        x=list(range(T)), y=[f"row {row} ({lengths[row]})" for row in sorted_indices],
        hovertemplate="%{y}, step %{x}: element %{text} of packed.data<extra></extra>"))
    for t, n in enumerate(batch_sizes):
        fig.add_annotation(x=t, y=-0.5, yref="y", text=f"<b>{n}</b>", showarrow=False, yshift=14,
                           font=dict(size=13, color=COLORS["encoder"]))
    fig.update_yaxes(autorange="reversed", range=[B - 0.5, -1.3])
    fig.update_xaxes(title_text="time step (purple: batch_sizes[t], the rows read at step t)",
                     dtick=1 if T <= 24 else 5)
    layout = base_layout(height=140 + 40 * B)
    layout["margin"] = dict(l=80, r=10, t=10, b=50)
    fig.update_layout(**layout)
    return fig


def direction_gap(token_diff: dict[str, np.ndarray], tokens: list[list[str]], padding: str = "post") -> go.Figure:
    """max |output unmasked − output alone| per token, one panel per direction: zero where padding did
    not reach, large where a direction read the pads before the words."""
    names = list(token_diff)
    B = len(tokens)
    T = max(len(t) for t in tokens)
    fig = make_subplots(rows=len(names), cols=1, vertical_spacing=0.18 if B <= 3 else 0.1,
                        subplot_titles=[f"{n} direction" for n in names])
    top = max(float(np.nanmax(d)) if np.isfinite(d).any() else 0.0 for d in token_diff.values())
    top = max(top, 1e-6)
    for k, name in enumerate(names, start=1):
        d = token_diff[name][:, :T]
        text = [[("" if not np.isfinite(v) else f"{v:.2f}") for v in row] for row in d]
        hover = [[(f"'{tokens[b][t]}': {d[b, t]:.2e}" if t < len(tokens[b]) else "pad") for t in range(T)]
                 for b in range(B)]
        fig.add_trace(go.Heatmap(z=d, zmin=0, zmax=top, colorscale="Oranges", showscale=k == 1, xgap=2, ygap=2,
                                 text=text, texttemplate="%{text}" if T <= 24 else None, textfont=dict(size=11),
                                 customdata=hover, hovertemplate="row %{y}, %{customdata}<extra></extra>",
                                 colorbar=dict(title="gap", thickness=12, len=0.8),
                                 x=list(range(T)), y=[f"row {b}" for b in range(B)]), row=k, col=1)
        fig.update_yaxes(autorange="reversed", row=k, col=1)
    fig.update_xaxes(title_text="token (in the sentence)", row=len(names), col=1, dtick=1 if T <= 24 else 5)
    layout = base_layout(height=120 + len(names) * (50 + 34 * B))
    layout["margin"] = dict(l=70, r=10, t=40, b=50)
    fig.update_layout(**layout)
    return fig


def cost_figure(times: dict[str, list[float]], medians: dict[str, float], measured_label: str,
                quoted: dict[str, float] | None = None) -> go.Figure:
    """Seconds per training step padded vs packed: what was measured here (every timed step a dot, the
    bar its median) beside what the course quotes."""
    cols = 2 if quoted else 1
    fig = make_subplots(rows=1, cols=cols, horizontal_spacing=0.16,
                        subplot_titles=["Measured here"] + (["Quoted by the course"] if quoted else []))
    colours = {"padded": COLORS["hidden"], "packed": COLORS["encoder"]}
    for kind in ("padded", "packed"):
        fig.add_trace(go.Bar(x=[kind], y=[medians[kind]], marker_color=colours[kind], name=kind, showlegend=False,
                             text=[f"{medians[kind]:.3g} s"], textposition="outside", cliponaxis=False,
                             hovertemplate=f"{kind}: median %{{y:.4f}} s per step<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=[kind] * len(times[kind]), y=times[kind], mode="markers", showlegend=False,
                                 marker=dict(color="#111", size=7, symbol="circle-open"),
                                 hovertemplate=f"{kind} step: %{{y:.4f}} s<extra></extra>"), row=1, col=1)
        if quoted:
            fig.add_trace(go.Bar(x=[kind], y=[quoted[kind]], marker_color=colours[kind], opacity=0.55,
                                 showlegend=False, text=[f"{quoted[kind]:.2f} s"], textposition="outside",
                                 cliponaxis=False, hovertemplate=f"{kind}: %{{y:.2f}} s (quoted)<extra></extra>"),
                          row=1, col=2)
    top = max(max(times["padded"] + times["packed"] + list(medians.values())), 1e-9) * 1.25
    fig.update_yaxes(title_text="seconds per step", range=[0, top], row=1, col=1)
    if quoted:
        fig.update_yaxes(range=[0, max(quoted.values()) * 1.25], row=1, col=2)
    layout = base_layout(height=340)
    layout["margin"] = dict(l=65, r=10, t=50, b=40)
    fig.update_layout(**layout)
    fig.add_annotation(text=measured_label, x=0, xref="paper", y=-0.14, yref="paper", showarrow=False,
                       xanchor="left", font=dict(size=12, color="#555"))
    return fig


def word_map(coords: np.ndarray, words: list[str], probs: np.ndarray, explained: np.ndarray) -> go.Figure:
    """Chosen words on the two main directions of their vectors (PCA), coloured by P(positive) of the word
    read alone: blue positive, red negative."""
    fig = go.Figure(go.Scatter(
        x=coords[:, 0], y=coords[:, 1], mode="markers+text", text=words, textposition="top center",
        textfont=dict(size=14), customdata=np.stack([probs], axis=1),
        marker=dict(size=13, color=probs, cmin=0, cmax=1, colorscale="RdBu", line=dict(color="#333", width=1),
                    colorbar=dict(title=dict(text="P(pos)", side="right"), thickness=12, tickformat=".0%")),
        hovertemplate="%{text}: P(positive) alone %{customdata[0]:.1%}<extra></extra>", cliponaxis=False))
    layout = base_layout(height=460)
    layout["margin"] = dict(l=60, r=10, t=20, b=55)
    fig.update_layout(**layout, xaxis_title=f"PC 1 ({explained[0]:.0%} of the variance)",
                      yaxis_title=f"PC 2 ({explained[1]:.0%})")
    return fig
