"""Figures for batches of sequences: the padded tensor, the PackedSequence layout, what unmasked padding does
to each direction (HTML grids: a cell per token stays readable on a phone, scrolling inside its box), the
measured cost of packing, and word vectors projected to 2-D (Plotly)."""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import COLORS, TINTS, base_layout

PAD_GREY, WORD_BLUE, OOV_ORANGE = "#e0e0e0", TINTS["word"], TINTS["unknown"]


def _table(head: list[str], rows: list[tuple[str, list[tuple[str, str, str]]]], caption: str = "") -> str:
    """An HTML grid that scrolls sideways inside its own box on a narrow screen (never the page).
    ``rows``: (row label, [(cell html, background, tooltip), ...])."""
    th = "".join(f'<th style="font-weight:normal;color:#555;padding:0 4px;font-size:.8rem">{h}</th>' for h in head)
    body = []
    for label, cells in rows:
        tds = "".join(f'<td title="{html.escape(tip, quote=True)}" style="background:{bg};padding:3px 6px;'
                      f'text-align:center;border-radius:3px;white-space:nowrap;min-width:2.6em">{text}</td>'
                      for text, bg, tip in cells)
        body.append(f'<tr><th style="font-weight:normal;color:#555;text-align:right;padding-right:6px;'
                    f'white-space:nowrap;font-size:.85rem">{label}</th>{tds}</tr>')
    cap = f'<div style="color:#555;font-size:.85rem;padding-top:2px">{caption}</div>' if caption else ""
    return ('<div style="max-width:100%;font-family:sans-serif;color:#111"><div style="overflow-x:auto">'
            '<table style="border-collapse:separate;border-spacing:2px;font-size:.9rem">'
            f'<thead><tr><th></th>{th}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{cap}</div>')


def padded_batch_html(tokens: list[list[str]], ids: list[list[int]], unknown: list[list[bool]], width: int,
                      padding: str = "post") -> str:
    """The batch as the tensor the layer receives: one row per sentence, one column per time step, each
    cell the token and its id; grey cells are padding (id 0), orange ones words the model does not know
    (read as <oov>, id 1). ``ids[b]`` are row b's token ids (unpadded); ``padding`` puts the pads after
    ("post") or before ("pre") them. Tokens are HTML-escaped."""
    rows = []
    for b, (toks, row_ids, unk) in enumerate(zip(tokens, ids, unknown)):
        n = len(toks)
        start = 0 if padding == "post" else width - n
        cells = [("pad<br><small>0</small>", PAD_GREY, f"row {b}, step {t}: padding") for t in range(width)]
        for k, (tok, i, u) in enumerate(zip(toks, row_ids, unk)):
            shown = html.escape(tok if len(tok) <= 12 else tok[:11] + "…")
            cells[start + k] = (f"{shown}<br><small>{i}</small>", OOV_ORANGE if u else WORD_BLUE,
                                f"row {b}, step {start + k}: '{tok}' (id {i}{', unknown: <oov>' if u else ''})")
        rows.append((f"row {b} ({n})", cells))
    return _table([str(t) for t in range(width)], rows, "columns: time steps; in each cell the token and its id")


def packed_layout_html(lengths: list[int], batch_sizes: list[int], sorted_indices: list[int],
                       order: list[tuple[int, int]]) -> str:
    """The PackedSequence: rows sorted longest first, each cell numbered with its place in ``packed.data``;
    the header gives ``batch_sizes[t]``, the rows the layer reads at step t (never a pad)."""
    T = max(lengths)
    place = {cell: k for k, cell in enumerate(order)}
    rows = []
    for row in sorted_indices:
        cells = []
        for t in range(T):
            k = place.get((row, t))
            cells.append((str(k), WORD_BLUE, f"row {row}, step {t}: element {k} of packed.data") if k is not None
                         else ("", "#f5f5f5", f"row {row} has ended: nothing stored"))
        rows.append((f"row {row} ({lengths[row]})", cells))
    head = [f'step {t}<br><b style="color:{COLORS["encoder"]};font-size:1rem">{n}</b>'
            for t, n in enumerate(batch_sizes)]
    return _table(head, rows, "purple: batch_sizes[t], the rows computed at step t; in each cell: its place in "
                              "packed.data")


def _orange(v: float, top: float) -> str:
    a = 0.0 if not np.isfinite(v) else min(max(v / top, 0.0), 1.0)
    r, g, b = (255 - int(a * (255 - 191)), 245 - int(a * (245 - 54)), 235 - int(a * (235 - 12)))
    return f"rgb({r},{g},{b})"


def direction_gap_html(token_diff: dict[str, np.ndarray], tokens: list[list[str]]) -> str:
    """max |output unmasked − output alone| per token, one block of rows per direction: zero where the pads
    came after the words, large where a direction read the pads before them."""
    T = max(len(t) for t in tokens)
    top = max([float(np.nanmax(d)) for d in token_diff.values() if np.isfinite(d).any()] + [1e-6])
    rows = []
    for name, d in token_diff.items():
        for b, toks in enumerate(tokens):
            cells = []
            for t in range(T):
                if t < len(toks):
                    v = float(d[b, t])
                    colour = "#fff" if v / top > 0.6 else "#111"
                    cells.append((f'<span style="color:{colour}">{v:.2f}</span>', _orange(v, top),
                                  f"{name}, row {b}, '{toks[t]}': {v:.2e}"))
                else:
                    cells.append(("", "#fafafa", "past the end of the sentence"))
            rows.append((f"{name} · row {b}", cells))
    return _table([str(t) for t in range(T)], rows, "columns: the sentence's tokens; darker = further from the "
                                                    "sentence read alone")


def cost_figure(times: dict[str, list[float]], medians: dict[str, float],
                quoted: dict[str, float] | None = None) -> go.Figure:
    """Seconds per training step padded vs packed: what was measured here (every timed step a dot, the
    bar its median) beside what the course quotes (bars labelled with their value)."""
    cols = 2 if quoted else 1
    fig = make_subplots(rows=1, cols=cols, horizontal_spacing=0.18,
                        subplot_titles=["Measured here"] + (["Course (quoted)"] if quoted else []))
    colours = {"padded": COLORS["hidden"], "packed": COLORS["encoder"]}
    for kind in ("padded", "packed"):
        fig.add_trace(go.Bar(x=[kind], y=[medians[kind]], marker_color=colours[kind], name=kind, showlegend=False,
                             hovertemplate=f"{kind}: median %{{y:.4f}} s per step<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Scatter(x=[kind] * len(times[kind]), y=times[kind], mode="markers", showlegend=False,
                                 marker=dict(color="#111", size=7, symbol="circle-open"),
                                 hovertemplate=f"{kind} step: %{{y:.4f}} s<extra></extra>"), row=1, col=1)
        if quoted:
            fig.add_trace(go.Bar(x=[kind], y=[quoted[kind]], marker_color=colours[kind], opacity=0.55,
                                 showlegend=False, text=[f"{quoted[kind]:.2f} s"], textposition="outside",
                                 cliponaxis=False, hovertemplate=f"{kind}: %{{y:.2f}} s (quoted)<extra></extra>"),
                          row=1, col=2)
    top = max(max(times["padded"] + times["packed"] + list(medians.values())), 1e-9) * 1.1
    fig.update_yaxes(title_text="seconds per step", range=[0, top], row=1, col=1)
    if quoted:
        fig.update_yaxes(range=[0, max(quoted.values()) * 1.25], row=1, col=2)
    layout = base_layout(height=320)
    layout["margin"] = dict(l=65, r=10, t=45, b=30)
    fig.update_layout(**layout)
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
