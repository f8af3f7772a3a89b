"""Figures for the comparison page (RNN vs CNN vs MLP vs Transformer): what each model can see, accuracy
against the distance k, validation loss against training time, step time, cost per new token and memory
against the sequence length, and the course's table with the measurements filled in (HTML)."""
from __future__ import annotations

import html
import math

import plotly.graph_objects as go

from .style import OKABE_ITO, WINE, base_layout, text_on

KIND_ORDER = ("RNN", "CNN", "MLP", "Transformer")
MODEL_COLORS = {"RNN": OKABE_ITO["blue"], "CNN": WINE, "MLP": OKABE_ITO["orange"],
                "Transformer": OKABE_ITO["bluish_green"]}
MODEL_DASH = {"RNN": "solid", "CNN": "dash", "MLP": "dot", "Transformer": "dashdot"}
MODEL_SYMBOL = {"RNN": "circle", "CNN": "square", "MLP": "diamond", "Transformer": "triangle-up"}
LEGEND = dict(orientation="h", y=-0.28, x=0, yanchor="top")


def _name(kind: str, label: str, view: int | None) -> str:
    if view is None or view < 0:
        return f"{label} (no limit)"
    what = {"CNN": "receptive field", "MLP": "window", "Transformer": "context"}.get(kind, "view")
    return f"{label} ({what} {view})"


def _line(kind: str, width: float = 2.5) -> dict:
    return dict(color=MODEL_COLORS[kind], width=width, dash=MODEL_DASH[kind])


def views_figure(views: dict[str, int | None], labels: dict[str, str], T: int, height: int = 240) -> go.Figure:
    """How far back each model can see from the token where it predicts: a bar from k = 0 (that token) to
    k = view - 1; the recurrent net's has no end (an arrow past the sequence)."""
    fig = go.Figure()
    kinds = [k for k in KIND_ORDER if k in views][::-1]
    for kind in kinds:
        v = views[kind]
        reach = T if v is None or v < 0 else min(v, T)
        text = "all of it, through its state" if v is None or v < 0 else (
            f"k = 0 … {v - 1}" + ("" if v <= T else " (longer than the sequence)"))
        fig.add_trace(go.Bar(y=[labels[kind]], x=[reach], orientation="h", marker_color=MODEL_COLORS[kind],
                             text=[text], textposition="inside", insidetextanchor="start", name=labels[kind],
                             textfont=dict(color=text_on(MODEL_COLORS[kind]), size=14), showlegend=False,
                             hovertemplate=f"{html.escape(labels[kind])}: sees {html.escape(text)}<extra></extra>"))
    fig.update_layout(**base_layout(height=height), bargap=0.35)
    fig.update_layout(margin=dict(l=10, r=20, t=10, b=50))
    fig.update_xaxes(title_text="steps back from the last token (k)", range=[0, T], fixedrange=True)
    fig.update_yaxes(automargin=True, fixedrange=True)
    return fig


def accuracy_figure(models: dict[str, dict], chance: float, T: int, height: int = 400) -> go.Figure:
    """Test accuracy against k for each model (``models[kind]``: ``acc``, ``label``, ``view``), with the
    chance level and a dotted line where each bounded view ends."""
    fig = go.Figure()
    for kind in KIND_ORDER:
        r = models.get(kind)
        if r is None:
            continue
        view = r["view"] if r["view"] and r["view"] > 0 else None
        fig.add_trace(go.Scatter(x=list(range(len(r["acc"]))), y=r["acc"], name=_name(kind, r["label"], view),
                                 mode="lines", line=_line(kind),
                                 hovertemplate="k = %{x}: %{y:.0%}<extra>" + html.escape(r["label"]) + "</extra>"))
        if view is not None and view < T:
            fig.add_vline(x=view - 0.5, line=dict(color=MODEL_COLORS[kind], dash="dot", width=1.5))
    fig.add_hline(y=chance, line=dict(color="#777", dash="dot", width=1.5))
    # at the left, where every model still sees the marked symbol, no curve runs along the chance line
    fig.add_annotation(x=0, xref="paper", y=chance, text=f"chance {chance:.0%}", showarrow=False, xanchor="left",
                       yanchor="bottom", font=dict(size=12, color="#555"))
    fig.update_layout(**base_layout(height=height), legend=LEGEND)
    fig.update_xaxes(title_text="k: steps back to the marked symbol", range=[-0.5, T - 0.5])
    fig.update_yaxes(title_text="test accuracy", tickformat=".0%", range=[0, 1.05])
    return fig


def training_figure(curves: dict[str, tuple[list[int], list[float]]], labels: dict[str, str], chance: float,
                    steps: int, height: int = 320) -> go.Figure:
    """Accuracy on each training batch (every k mixed) against the step, one line per model, while they train."""
    fig = go.Figure()
    for kind in KIND_ORDER:
        if kind not in curves:
            continue
        xs, ys = curves[kind]
        fig.add_trace(go.Scatter(x=xs, y=ys, name=labels[kind], mode="lines", line=_line(kind),
                                 hovertemplate="step %{x}: %{y:.0%}<extra>" + html.escape(labels[kind]) + "</extra>"))
    fig.add_hline(y=chance, line=dict(color="#777", dash="dot", width=1.5))
    fig.update_layout(**base_layout(height=height), legend=LEGEND)
    fig.update_xaxes(title_text="training step", range=[0, steps])
    fig.update_yaxes(title_text="accuracy on its batch", tickformat=".0%", range=[0, 1.05])
    return fig


def sensitivity_figure(models: dict[str, dict], T: int, height: int = 360) -> go.Figure:
    """How strongly each model's answer depends on the marked token k steps back (the gradient's norm, log
    scale); a model that cannot see that far has exactly zero there, left out of the log axis."""
    fig = go.Figure()
    for kind in KIND_ORDER:
        r = models.get(kind)
        if r is None:
            continue
        ys = [v if v > 0 else None for v in r["sensitivity"]]
        view = r["view"] if r["view"] and r["view"] > 0 else None
        fig.add_trace(go.Scatter(x=list(range(len(ys))), y=ys, name=_name(kind, r["label"], view), mode="lines",
                                 line=_line(kind), connectgaps=False,
                                 hovertemplate="k = %{x}: %{y:.2e}<extra>" + html.escape(r["label"]) + "</extra>"))
    fig.update_layout(**base_layout(height=height), legend=LEGEND)
    fig.update_xaxes(title_text="k (steps back)", range=[-0.5, T - 0.5])
    fig.update_yaxes(title_text="‖∂ answer / ∂ marked token‖", type="log", exponentformat="power")
    return fig


def lm_figure(models: dict[str, dict], chance: float | None = None, height: int = 400) -> go.Figure:
    """Validation loss against training seconds, one line per model (``models[kind]``: ``curve`` of
    ``{"seconds", "loss"}``, ``label``)."""
    fig = go.Figure()
    for kind in KIND_ORDER:
        r = models.get(kind)
        if r is None or not r.get("curve"):
            continue
        fig.add_trace(go.Scatter(x=[p["seconds"] for p in r["curve"]], y=[p["loss"] for p in r["curve"]],
                                 name=r["label"], mode="lines+markers", line=_line(kind),
                                 marker=dict(symbol=MODEL_SYMBOL[kind], size=8),
                                 hovertemplate="%{x:.1f} s: %{y:.3f} nats/char<extra>" + html.escape(r["label"]) +
                                               "</extra>"))
    if chance is not None:
        fig.add_hline(y=chance, line=dict(color="#777", dash="dot", width=1.5))
        fig.add_annotation(x=1, xref="paper", y=chance, text=f"chance ln V = {chance:.2f}", showarrow=False,
                           xanchor="right", yanchor="bottom", font=dict(size=12, color="#555"))
    fig.update_layout(**base_layout(height=height), legend=LEGEND)
    fig.update_xaxes(title_text="training time (s, validations not counted)", rangemode="tozero")
    fig.update_yaxes(title_text="validation loss (nats/char)")
    return fig


def _time_label(v: float) -> str:
    if v >= 1:
        return f"{v:g} s"
    if v >= 1e-3:
        return f"{v * 1e3:g} ms"
    return f"{v * 1e6:g} µs"


def _log_ticks(lo: float, hi: float, label=_time_label) -> tuple[list[float], list[str]]:
    """Ticks at 1, 2 and 5 times each power of ten between lo and hi, labelled by ``label``."""
    vals = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0 ** e
            if lo / 1.5 <= v <= hi * 1.5:
                vals.append(v)
    return vals, [label(v) for v in vals]


def _per_model(xs: list[int], series: dict[str, list[float]], labels: dict[str, str], x_title: str, y_title: str,
               unit: str, height: int, hover: str, y_log: bool = True) -> go.Figure:
    fig = go.Figure()
    values = []
    for kind in KIND_ORDER:
        ys = series.get(kind) or []
        if not ys:
            continue
        values += [v for v in ys if v > 0]
        fig.add_trace(go.Scatter(x=xs[:len(ys)], y=ys, name=labels[kind], mode="lines+markers", line=_line(kind),
                                 marker=dict(symbol=MODEL_SYMBOL[kind], size=8),
                                 hovertemplate=hover + "<extra>" + html.escape(labels[kind]) + "</extra>"))
    fig.update_layout(**base_layout(height=height), legend=LEGEND)
    fig.update_xaxes(title_text=x_title, type="log", tickvals=xs, ticktext=[f"{x:,}" for x in xs])
    if y_log and values:
        tv, tt = _log_ticks(min(values), max(values), _time_label if unit == "s" else (lambda v: f"{v:g} {unit}"))
        fig.update_yaxes(title_text=y_title, type="log", tickvals=tv, ticktext=tt)
    else:
        fig.update_yaxes(title_text=y_title, type="log" if y_log else "linear")
    return fig


def step_time_figure(speed: dict, height: int = 380) -> go.Figure:
    """Seconds per training step (forward, backward, Adam) against the sequence length, log-log."""
    return _per_model(speed["Ts"], speed["step"], speed["labels"], "sequence length T (tokens)",
                      f"time per training step (batch {speed['batch']})", "s", height, "T = %{x}: %{y:.4f} s")


def token_time_figure(speed: dict, height: int = 380) -> go.Figure:
    """Seconds to predict one new token after a history of H tokens, log-log."""
    return _per_model(speed["history"], speed["token"], speed["labels"], "tokens already read (H)",
                      "time per new token", "s", height, "after %{x} tokens: %{y:.6f} s")


def memory_figure(speed: dict, height: int = 380) -> go.Figure:
    """Megabytes a training step keeps for its backward pass, against the sequence length."""
    mb = {k: [b / 1e6 for b in v] for k, v in speed["memory"].items()}
    return _per_model(speed["Ts"], mb, speed["labels"], "sequence length T (tokens)",
                      f"MB kept for the backward pass (batch {speed['batch']})", "MB", height,
                      "T = %{x}: %{y:.1f} MB")


TABLE_STYLE = """
<style>
.cmp-table { border-collapse: collapse; width: 100%; min-width: 640px; font-size: 0.95rem; line-height: 1.35; }
.cmp-table th, .cmp-table td { border: 1px solid #ddd; padding: 6px 8px; vertical-align: top; text-align: left; }
.cmp-table th { background: #f4f4f4; }
.cmp-table .course { color: #555; font-style: italic; }
.cmp-table .measured { font-weight: 600; color: #111; }
.cmp-table .note td { background: #fff8e1; color: #333; font-size: 0.9rem; }
.cmp-wrap { max-width: 100%; overflow-x: auto; }
.cmp-stack { display: none; line-height: 1.4; }
.cmp-stack h4 { margin: 0.9rem 0 0.3rem 0; font-size: 1.05rem; }
.cmp-stack .model { margin: 0.15rem 0 0.35rem 0; padding-left: 8px; }
.cmp-stack .course { color: #555; font-style: italic; }
.cmp-stack .note { background: #fff8e1; padding: 4px 8px; font-size: 0.9rem; margin: 0.2rem 0; }
/* a phone: one block per row of the table instead of five columns */
@media (max-width: 700px) { .cmp-wrap { display: none; } .cmp-stack { display: block; } }
</style>
"""


def course_table_html(rows: list[dict], labels: dict[str, str]) -> str:
    """The course's table with a "measured" line under each claim and, below a row, the notes where a
    measurement contradicts or qualifies it; on a narrow screen the same as one block per row (CSS picks).
    Every string is HTML-escaped."""
    kinds = [k for k in ("MLP", "CNN", "RNN", "Transformer")]
    head = "".join(f'<th style="border-top:4px solid {MODEL_COLORS[k]}">{html.escape(labels.get(k, k))}</th>'
                   for k in kinds)
    body = []
    for r in rows:
        cells = []
        for k in kinds:
            claim = r["course"].get(k, "")
            meas = r["measured"].get(k, "")
            cells.append(f'<td><div class="course">{html.escape(claim)}</div>'
                         f'<div class="measured">{html.escape(meas)}</div></td>')
        body.append(f'<tr><th>{html.escape(r["aspect"])}</th>{"".join(cells)}</tr>')
        for note in r.get("notes", []):
            body.append(f'<tr class="note"><td colspan="{len(kinds) + 1}">{html.escape(note)}</td></tr>')
    legend = ('<div style="font-size:0.85rem;color:#555;margin:4px 0"><span class="course" '
              'style="font-style:italic">Italic: what the course\'s table says</span> · <b>bold: measured here</b> · '
              'yellow: where they disagree or the measurement adds something</div>')
    stack = []
    for r in rows:
        stack.append(f"<h4>{html.escape(r['aspect'])}</h4>")
        for k in kinds:
            stack.append(f'<div class="model" style="border-left:4px solid {MODEL_COLORS[k]}"><b>'
                         f'{html.escape(labels.get(k, k))}</b>: <span class="course">'
                         f'{html.escape(r["course"].get(k, ""))}</span><br>'
                         f'<b>{html.escape(r["measured"].get(k, ""))}</b></div>')
        stack += [f'<div class="note">{html.escape(n)}</div>' for n in r.get("notes", [])]
    return (TABLE_STYLE + legend + '<div class="cmp-wrap"><table class="cmp-table"><thead><tr><th></th>' + head
            + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>"
            + '<div class="cmp-stack">' + "".join(stack) + "</div>")
