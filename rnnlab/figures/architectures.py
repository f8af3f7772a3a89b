"""Figures of the Architectures page: what goes in and comes out of each shape of RNN (drawn from the
tensors of a real run), what each small model learned, and the measurements that compare them.

Pure functions: data in, ``go.Figure`` (or an HTML string) out.
"""
from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from .style import COLORS, base_layout, rgba, text_on

MODEL_COLORS = {"unidirectional": COLORS["hidden"], "bidirectional": COLORS["backward"],
                "without attention": "#757575", "with attention": COLORS["hidden"],
                "teacher forcing": COLORS["input"], "free running": COLORS["output"]}
SHOW = {" ": "␣", "</s>": "■", "<s>": "▶"}


def _show(symbol: str) -> str:
    return SHOW.get(symbol, symbol)


# --- input → output diagrams ------------------------------------------------------------------------------
def _window(n: int, max_steps: int) -> list[int | None]:
    """The steps drawn for a sequence of n: all of them, or the first and last few around a gap (None)."""
    if n <= max_steps:
        return list(range(n))
    head = (max_steps - 1) // 2
    tail = max_steps - 1 - head
    return list(range(head)) + [None] + list(range(n - tail, n))


GAP, BOX_W, BOX_H = 1.25, 0.8, 0.44     # data units: step to step, a box's width and height


def flow_diagram(kind: str, inputs: list[str], outputs: list[str], shapes: dict[str, str],
                 bidirectional: bool = False, attention: list[float] | None = None, max_steps: int = 9,
                 height: int = 300) -> go.Figure:
    """The network unrolled over the real input and output of one example.

    ``kind``: one_to_one | one_to_many | many_to_one | sync | seq2seq. ``inputs``/``outputs``: the symbols
    read and written (one box per step; long sequences show their ends around "…"). ``shapes``: the tensors'
    shapes per row ("x", "h", "y"; "enc", "dec" for seq2seq), shown when hovering the row's letter.
    ``attention``: α of the first output step over the input positions, drawn as arcs as thick as α.
    Boxes are sized in data units, so a long chain still fits a phone.
    """
    d = _Drawing(shapes)
    if kind == "one_to_one":
        width, top = _one_to_one(d, inputs, outputs)
    elif kind == "seq2seq":
        width, top = _seq2seq(d, inputs, outputs, attention, max_steps)
    else:
        width, top = _unrolled(d, kind, inputs, outputs, bidirectional, max_steps)
    return d.figure(width, top, height)


class _Drawing:
    """The parts of one flow diagram, kept in drawing order: box rows (traces), text notes, arrows and
    box outlines. ``shapes`` gives each row letter its hover text."""

    def __init__(self, shapes: dict[str, str]):
        self.shapes = shapes
        self.traces, self.notes, self.arrows, self.boxes = [], [], [], []

    def arrow(self, x0, y0, x1, y1, color, dash=False, width=2.0):
        self.arrows.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                                showarrow=True, arrowhead=2, arrowsize=1, arrowwidth=width, arrowcolor=color,
                                opacity=0.45 if dash else 1.0))

    def row(self, name, xs, y, texts, hovers, color, w=BOX_W):
        """Boxes at ``xs`` on height ``y``; an invisible marker on each carries its text and hover."""
        self.boxes.extend(dict(type="rect", x0=x - w / 2, x1=x + w / 2, y0=y - BOX_H / 2, y1=y + BOX_H / 2,
                               layer="below", fillcolor=color, line=dict(width=1.5, color="#222")) for x in xs)
        self.traces.append(go.Scatter(x=xs, y=[y] * len(xs), mode="markers+text", name=name, text=texts,
                                      hovertext=hovers, hoverinfo="text", textfont=dict(color=text_on(color), size=13),
                                      marker=dict(symbol="square", size=22, color=color, opacity=0)))

    def dots(self, x, y):
        self.notes.append(dict(x=x, y=y, text="…", showarrow=False, font=dict(size=18, color="#555")))

    def label(self, y, key, text):
        self.notes.append(dict(x=-0.75, y=y, text=f"<b>{text}</b>", showarrow=False, xanchor="right",
                               hovertext=html.escape(self.shapes.get(key, text)), font=dict(size=14, color="#333")))

    def chain(self, steps, start_x, y, color, name, symbols_in, symbols_out, in_y, out_y, backward=False,
              feed_back=False, w=BOX_W):
        """One recurrent row over ``steps`` (indices or None), with its inputs below and outputs above."""
        xs, xi, xo, ti, to, hi, ho = [], [], [], [], [], [], []
        for k, s in enumerate(steps):
            x = start_x + k * GAP
            if s is None:
                self.dots(x, y)
                continue
            xs.append(x)
            if symbols_in is not None and s < len(symbols_in):
                xi.append(x)
                ti.append(_show(symbols_in[s]))
                hi.append(f"input {s + 1}: {symbols_in[s]!r}")
                self.arrow(x, in_y + BOX_H / 2, x, y - BOX_H / 2, COLORS["W"])
                if feed_back and s > 0 and k > 0 and steps[k - 1] is not None:
                    self.arrow(x - GAP + 0.15, out_y - BOX_H / 2, x - 0.15, in_y + BOX_H / 2, COLORS["output"],
                               dash=True, width=1.2)
            if symbols_out is not None and s < len(symbols_out):
                xo.append(x)
                to.append(_show(symbols_out[s]))
                ho.append(f"output {s + 1}: {symbols_out[s]!r}")
                self.arrow(x, y + BOX_H / 2, x, out_y - BOX_H / 2, COLORS["V"])
        self.row(name, xs, y, [""] * len(xs), [f"{name} step {s + 1}" for s in steps if s is not None], color, w=w)
        self.links(xs, y, color, backward, w)
        if xi:
            self.row("inputs", xi, in_y, ti, hi, COLORS["input"])
        if xo:
            self.row("outputs", xo, out_y, to, ho, COLORS["output"])
        return xs

    def links(self, xs, y, color, backward, w):
        """The state passed from step to step along a row (right to left for the backward direction)."""
        for a, b in zip(xs[:-1], xs[1:]):
            if b - a > GAP * 1.5:
                continue    # across the gap: the dots stand for the steps in between
            if backward:
                self.arrow(b - w / 2, y, a + w / 2, y, color)
            else:
                self.arrow(a + w / 2, y, b - w / 2, y, color)

    def figure(self, width, top, height) -> go.Figure:
        fig = go.Figure(data=self.traces)
        fig.update_layout(**{**base_layout(height=height), "margin": dict(l=5, r=5, t=10, b=5)}, showlegend=False,
                          annotations=self.notes + self.arrows, shapes=self.boxes)
        fig.update_xaxes(visible=False, range=[-1.5, width + 0.6], fixedrange=True)
        fig.update_yaxes(visible=False, range=[-0.4, top + 0.4], fixedrange=True)
        return fig


def _one_to_one(d: _Drawing, inputs, outputs) -> tuple[float, int]:
    """Input, hidden layer, output: one column, nothing carried over. Returns (width, top row)."""
    d.row("inputs", [0.0], 0, ["x"], [f"the input: {inputs[0] if inputs else ''}"], COLORS["input"])
    d.row("hidden", [0.0], 1, [""], ["a hidden layer (no state: nothing carries over)"], COLORS["hidden"])
    d.row("outputs", [0.0], 2, ["y"], [f"the output: {outputs[0] if outputs else ''}"], COLORS["output"])
    d.arrow(0, BOX_H / 2, 0, 1 - BOX_H / 2, COLORS["W"])
    d.arrow(0, 1 + BOX_H / 2, 0, 2 - BOX_H / 2, COLORS["V"])
    for y, key, text in ((0, "x", "x"), (1, "h", "h"), (2, "y", "y")):
        d.label(y, key, text)
    return 0.0, 2


def _seq2seq(d: _Drawing, inputs, outputs, attention, max_steps) -> tuple[float, int]:
    """The encoder's row, then the decoder's fed its own outputs, joined by the context c; with attention,
    arcs from the first output step to the input steps. Returns (width, top row)."""
    enc = _window(len(inputs), max(max_steps // 2, 3))
    dec = _window(len(outputs), max(max_steps - len(enc), 3))
    ex = d.chain(enc, 0.0, 1, COLORS["encoder"], "encoder", inputs, None, 0, 2)
    start = len(enc) * GAP + 0.35
    dx = d.chain(dec, start, 1, COLORS["hidden"], "decoder", ["<s>"] + outputs[:-1], outputs, 0, 2, feed_back=True)
    if ex and dx:
        d.arrow(ex[-1] + BOX_W / 2, 1, dx[0] - BOX_W / 2, 1, COLORS["encoder"], width=3)
        d.notes.append(dict(x=(ex[-1] + dx[0]) / 2, y=1.28, text="c", showarrow=False, yanchor="bottom",
                            hovertext=html.escape(d.shapes.get("dec", "c")),
                            font=dict(size=14, color=COLORS["encoder"])))
    if attention is not None and ex and dx:
        _attention_arcs(d, ex, dx[0], [s for s in enc if s is not None], attention)
    for y, key, text in ((0, "x", "x"), (1, "enc", "h"), (2, "y", "y")):
        d.label(y, key, text)
    return start + (len(dec) - 1) * GAP, 2


def _attention_arcs(d: _Drawing, ex, xd, positions, attention):
    """An arc from the first decoder step (at ``xd``) to each drawn encoder step, as thick and dark as α."""
    for xe, j in zip(ex, positions):
        a = float(attention[j]) if j < len(attention) else 0.0
        lift = min(0.2 + 0.06 * abs(xd - xe), 0.9)
        d.boxes.append(dict(type="path", path=f"M {xd},{1 + BOX_H / 2} Q {(xd + xe) / 2},{1 + BOX_H / 2 + lift} "
                                              f"{xe},{1 + BOX_H / 2}",
                            line=dict(color=rgba(COLORS["hidden"], 0.15 + 0.85 * a), width=0.5 + 6 * a)))


def _unrolled(d: _Drawing, kind, inputs, outputs, bidirectional, max_steps) -> tuple[float, float]:
    """One-to-many, many-to-one and synced: one hidden row over the longer of input and output, with its
    labels. Returns (width, top row)."""
    steps = _window(max(len(inputs), len(outputs)), max_steps)
    first, top = 0.0, 2
    if kind == "one_to_many":
        first = _one_to_many(d, steps, inputs, outputs)
    elif kind == "many_to_one":
        _many_to_one(d, steps, inputs, outputs)
    else:
        top = _sync(d, steps, inputs, outputs, bidirectional)
    for y, key, text in ((0, "x", "x"), (1, "h", "h" if kind != "sync" or not bidirectional else "h→"),
                         (top, "y", "y")):
        d.label(y, key, text)
    return first + (len(steps) - 1) * GAP, top


def _one_to_many(d: _Drawing, steps, inputs, outputs) -> float:
    """The one input sets the first hidden state; the letters fed back are the steps' inputs. Returns where
    the hidden row starts."""
    first = inputs[0] if inputs else ""
    d.row("start", [0.0], 1, [_show(inputs[0]) if inputs else "x"], [f"the one input: {first} → h₀"], COLORS["input"])
    d.arrow(BOX_W / 2, 1, GAP - BOX_W / 2, 1, COLORS["W"], width=2.5)
    d.chain(steps, GAP, 1, COLORS["hidden"], "hidden", ["<s>"] + outputs[:-1], outputs, 0, 2, feed_back=True)
    return GAP


def _many_to_one(d: _Drawing, steps, inputs, outputs):
    """Every input read; one answer, from the last step."""
    d.chain(steps, 0.0, 1, COLORS["hidden"], "hidden", inputs, None, 0, 2)
    x_last = (len(steps) - 1) * GAP
    answer = _show(outputs[0]) if outputs else "y"
    d.row("outputs", [x_last], 2, [answer], [f"the answer after input {len(inputs)}: {outputs[0] if outputs else ''}"],
          COLORS["output"], w=max(BOX_W, 0.3 * len(answer)))
    d.arrow(x_last, 1 + BOX_H / 2, x_last, 2 - BOX_H / 2, COLORS["V"])


def _sync(d: _Drawing, steps, inputs, outputs, bidirectional) -> float:
    """One output per input: a forward row, or a forward and a backward row. Returns the outputs' row."""
    top = 2.6 if bidirectional else 2
    if not bidirectional:
        d.chain(steps, 0.0, 1, COLORS["hidden"], "forward", inputs, outputs, 0, top)
        return top
    # narrower boxes, so that the arrows that skip a row pass beside the other direction's box:
    # every input feeds both rows, every output reads both
    narrow = 0.46
    d.chain(steps, 0.0, 1, COLORS["hidden"], "forward", inputs, None, 0, top, w=narrow)
    xs = d.chain(steps, 0.0, 1.75, COLORS["backward"], "backward", None, outputs, 0, top, backward=True, w=narrow)
    for x in xs:
        d.arrow(x + 0.32, BOX_H / 2, x + 0.32, 1.75 - BOX_H / 2, COLORS["backward"], dash=True, width=1.2)
        d.arrow(x - 0.32, 1 + BOX_H / 2, x - 0.32, top - BOX_H / 2, COLORS["hidden"], dash=True, width=1.2)
    d.label(1.75, "h_back", "h←")
    return top


# --- one-to-one ---------------------------------------------------------------------------------------------
def digit_figure(pixels, title: str = "", height: int = 230) -> go.Figure:
    """A 7×5 image, black on white."""
    img = np.asarray(pixels, dtype=float).reshape(7, 5)
    fig = go.Figure(go.Heatmap(z=img, colorscale=[[0, "#ffffff"], [1, "#111111"]], zmin=0, zmax=1, showscale=False,
                               xgap=2, ygap=2, hovertemplate="row %{y}, column %{x}: %{z:.0f}<extra></extra>"))
    margin = dict(l=5, r=5, t=40 if title else 5, b=5)
    fig.update_layout(**{**base_layout(height=height, title=title or None), "margin": margin})
    fig.update_yaxes(autorange="reversed", visible=False, scaleanchor="x", constrain="domain")
    fig.update_xaxes(visible=False, constrain="domain")
    return fig


def probability_bars(labels: list[str], probs, reference=None, reference_name: str = "", highlight: int | None = None,
                     highlight_name: str = "", title: str = "", height: int = 280) -> go.Figure:
    """Bars of probabilities, one per label; ``reference`` (same order) drawn as black ticks (e.g. the exact
    answer); ``highlight``: the index of a label to colour, named ``highlight_name`` in the legend."""
    shown = [_show(s) for s in labels]
    rest = [k for k in range(len(labels)) if k != highlight]
    fig = go.Figure(go.Bar(x=[shown[k] for k in rest], y=[probs[k] for k in rest], marker_color=COLORS["hidden"],
                           name="the network", hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    if highlight is not None:
        fig.add_trace(go.Bar(x=[shown[highlight]], y=[probs[highlight]], marker_color=COLORS["highlight"],
                             name=highlight_name or "the network", hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    if reference is not None:
        fig.add_trace(go.Scatter(x=shown, y=list(reference), mode="markers", name=reference_name,
                                 marker=dict(symbol="line-ew", size=26, line=dict(width=3, color="#111")),
                                 hovertemplate="%{x}: %{y:.1%} (" + html.escape(reference_name) + ")<extra></extra>"))
    fig.update_layout(**base_layout(height=height, title=title or None), bargap=0.25, barmode="overlay",
                      legend=dict(orientation="h", y=-0.22, x=0))
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=shown)
    return fig


def confusion_figure(confusion, height: int = 380) -> go.Figure:
    cm = np.asarray(confusion)
    fig = go.Figure(go.Heatmap(z=cm, x=[str(d) for d in range(10)], y=[str(d) for d in range(10)], colorscale="Blues",
                               showscale=False, text=cm, texttemplate="%{text}",
                               hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
    fig.update_layout(**base_layout(height=height, title="Test images: true digit × predicted digit"))
    fig.update_xaxes(title_text="predicted", type="category")
    fig.update_yaxes(title_text="true", autorange="reversed", type="category")
    return fig


# --- one-to-many ------------------------------------------------------------------------------------------
def choices_figure(steps: list[dict], height: int = 330) -> go.Figure:
    """The letters' probabilities at each step of one generation (symbols × steps); the one drawn is boxed.

    ``steps``: dicts with ``chosen`` (a symbol) and ``probs`` ({symbol: probability})."""
    symbols = sorted({s for st in steps for s, p in st["probs"].items() if p >= 0.02} | {st["chosen"] for st in steps})
    symbols.sort(key=lambda s: (s == "</s>", s))
    z = [[st["probs"].get(s, 0.0) for st in steps] for s in symbols]
    text = [[f"{v:.0%}" if v >= 0.05 else "" for v in r] for r in z]
    xs = [f"{k + 1}" for k in range(len(steps))]
    ys = [_show(s) for s in symbols]
    fig = go.Figure(go.Heatmap(z=z, x=xs, y=ys, zmin=0, zmax=1, colorscale="Blues", text=text, texttemplate="%{text}",
                               colorbar=dict(title="P", thickness=12, tickformat=".0%"),
                               hovertemplate="step %{x}: P(%{y}) = %{z:.1%}<extra></extra>"))
    fig.add_trace(go.Scatter(x=xs, y=[_show(st["chosen"]) for st in steps], mode="markers", name="drawn",
                             marker=dict(symbol="square-open", size=30, line=dict(width=3, color=COLORS["output"])),
                             hovertemplate="step %{x}: drew %{y}<extra></extra>"))
    fig.update_layout(**base_layout(height=max(height, 26 * len(symbols) + 90)), showlegend=False)
    fig.update_xaxes(title_text="step (letter written)", type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    return fig


def word_counts_figure(counts: dict[str, int], ideal: dict[str, float], n: int, height: int = 320) -> go.Figure:
    """How often each word was written in ``n`` draws, beside the true share of each real name."""
    words = sorted(set(counts) | set(ideal), key=lambda w: (-ideal.get(w, 0), -counts.get(w, 0), w))[:14]
    fig = go.Figure(go.Bar(x=words, y=[counts.get(w, 0) / n for w in words], name=f"written ({n} draws)",
                           marker_color=[COLORS["hidden"] if w in ideal else COLORS["output"] for w in words],
                           hovertemplate="%{x}: %{y:.1%} of the draws<extra></extra>"))
    fig.add_trace(go.Scatter(x=words, y=[ideal.get(w, 0) for w in words], mode="markers", name="true share",
                             marker=dict(symbol="line-ew", size=28, line=dict(width=3, color="#111")),
                             hovertemplate="%{x}: %{y:.0%} of the languages<extra></extra>"))
    fig.update_layout(**base_layout(height=height), legend=dict(orientation="h", y=-0.3, x=0), bargap=0.25)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(type="category", tickangle=-30)
    return fig


# --- many-to-one ------------------------------------------------------------------------------------------
def length_accuracy_figure(acc: list[float], train_len: int, chance: float = 0.5, height: int = 320) -> go.Figure:
    """Test accuracy at each length 1..len(acc), the trained lengths shaded, chance dotted."""
    L = list(range(1, len(acc) + 1))
    fig = go.Figure(go.Scatter(x=L, y=acc, mode="lines+markers", name="test accuracy",
                               line=dict(color=COLORS["hidden"], width=3),
                               hovertemplate="length %{x}: %{y:.1%}<extra></extra>"))
    fig.add_vrect(x0=0.5, x1=train_len + 0.5, fillcolor=COLORS["input"], opacity=0.08, line_width=0)
    fig.add_annotation(x=(train_len + 1) / 2, y=0.02, yref="paper", text="lengths seen in training", showarrow=False,
                       font=dict(size=12, color=COLORS["input"]))
    fig.add_hline(y=chance, line=dict(color="#777", dash="dot"))
    fig.add_annotation(x=1, xref="paper", y=chance, text="chance", showarrow=False, xanchor="right", yanchor="bottom",
                       font=dict(size=12, color="#555"))
    fig.update_layout(**base_layout(height=height), showlegend=False)
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%", title_text="test accuracy")
    fig.update_xaxes(title_text="length of the bit string")
    return fig


def running_answer_figure(bits: list[int], p_odd, height: int = 280) -> go.Figure:
    """P(odd) read after each bit, and the true parity of each prefix (the answer if the string ended there)."""
    x = list(range(1, len(bits) + 1))
    truth = np.cumsum(bits) % 2
    fig = go.Figure(go.Scatter(x=x, y=list(p_odd), mode="lines+markers", name="the network's P(odd)",
                               line=dict(color=COLORS["hidden"], width=3), customdata=bits,
                               hovertemplate="after bit %{x} (%{customdata}): P(odd) = %{y:.1%}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=truth, mode="markers", name="true parity so far",
                             marker=dict(symbol="x", size=9, color=COLORS["output"]),
                             hovertemplate="after bit %{x}: %{y} ones mod 2<extra></extra>"))
    fig.add_hline(y=0.5, line=dict(color="#777", dash="dot"))
    fig.update_layout(**base_layout(height=height), legend=dict(orientation="h", y=-0.3, x=0))
    fig.update_yaxes(range=[-0.05, 1.05], tickformat=".0%")
    fig.update_xaxes(title_text="bits read", tickvals=x if len(x) <= 24 else None,
                     ticktext=[str(b) for b in bits] if len(x) <= 24 else None)
    return fig


# --- many-to-many synced ------------------------------------------------------------------------------------
def _tag_color(p: float) -> str:
    """White at 50/50, orange towards "question", blue towards "statement"."""
    s = max(-1.0, min(1.0, 2 * p - 1))
    if s >= 0:
        r, g, b = 255, int(255 - 105 * s), int(255 - 200 * s)
    else:
        r, g, b = int(255 + 180 * s), int(255 + 110 * s), 255
    return f"rgb({r},{g},{b})"


def tags_html(text: str, rows: dict[str, list[float]], truth: list[int]) -> str:
    """The text once per model, each character coloured by the model's P(question) (orange "?", blue ".",
    white: a coin flip), wrong answers underlined in red; the true tags on the first line.

    Characters are HTML-escaped (typed text is shown, never run)."""
    lines = []

    def cell(ch, p, wrong, tip):
        style = f"background:{_tag_color(p)};padding:1px 0;font-family:monospace;font-size:1.05rem"
        if wrong:
            style += (f";text-decoration:underline;text-decoration-color:{COLORS['output']};"
                      "text-decoration-thickness:3px")
        return f'<span title="{html.escape(tip, quote=True)}" style="{style}">{html.escape(ch)}</span>'

    truth_cells = [cell(c, 0.5 if t < 0 else float(t), False,
                        f"{k + 1} {c!r}: " + ("no end mark follows" if t < 0 else ("question" if t else "statement")))
                   for k, (c, t) in enumerate(zip(text, truth))]
    lines.append(("true tag", truth_cells))
    for name, probs in rows.items():
        cells = [cell(c, p, t >= 0 and (p >= 0.5) != bool(t), f"{k + 1} {c!r}: P(question) = {p:.0%}")
                 for k, (c, p, t) in enumerate(zip(text, probs, truth))]
        lines.append((name, cells))
    body = "".join(f'<div style="margin:2px 0"><div style="font-size:0.85rem;color:#444">{html.escape(name)}</div>'
                   '<div style="white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.6">'
                   f'{"".join(cells)}</div></div>'
                   for name, cells in lines)
    return f'<div style="color:#111">{body}</div>'


def distance_figure(by_distance: dict[str, list[float]], ceiling_by_distance: list[float],
                    height: int = 330) -> go.Figure:
    """Test accuracy by how many characters remain before the sentence's end mark (0: the mark itself),
    one line per model, and the best any left-to-right reader can expect at each distance."""
    fig = go.Figure()
    n = max(len(v) for v in by_distance.values())
    fig.add_trace(go.Scatter(x=list(range(len(ceiling_by_distance))), y=ceiling_by_distance, mode="lines",
                             name="best left-to-right reader", line=dict(color="#555", dash="dot", width=2),
                             hovertemplate="%{x} characters before the mark: at best %{y:.0%}<extra></extra>"))
    for name, acc in by_distance.items():
        fig.add_trace(go.Scatter(x=list(range(len(acc))), y=acc, mode="lines+markers", name=name,
                                 line=dict(color=MODEL_COLORS.get(name, COLORS["hidden"]), width=3),
                                 hovertemplate=f"{name}: %{{y:.1%}} at %{{x}} characters before the mark"
                                               "<extra></extra>"))
    fig.update_layout(**base_layout(height=height), legend=dict(orientation="h", y=-0.3, x=0))
    fig.update_yaxes(range=[0.3, 1.03], tickformat=".0%", title_text="test accuracy")
    fig.update_xaxes(title_text="characters until the sentence's end mark", range=[-0.5, n - 0.5])
    return fig


# --- seq2seq ----------------------------------------------------------------------------------------------
def forcing_figure(teacher: list[float], free: list[float], height: int = 320) -> go.Figure:
    """The share of wrong output symbols at each position: fed the true previous symbol vs its own."""
    x = list(range(1, len(teacher) + 1))
    fig = go.Figure()
    for name, v in (("teacher forcing", teacher), ("free running", free)):
        fig.add_trace(go.Scatter(x=x, y=v, mode="lines+markers", name=name,
                                 line=dict(color=MODEL_COLORS[name], width=3),
                                 hovertemplate=f"{name}: %{{y:.1%}} wrong at output symbol %{{x}}<extra></extra>"))
    fig.update_layout(**base_layout(height=height), legend=dict(orientation="h", y=-0.3, x=0))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="wrong symbols")
    fig.update_xaxes(title_text="output position", dtick=1)
    return fig


def attention_heatmap(weights, src: str, out: list[str], height: int | None = None) -> go.Figure:
    """α: output steps (rows) × input positions (columns); each row sums to 1."""
    w = np.asarray(weights, dtype=float)
    xs = [f"{k + 1} {_show(c)}" for k, c in enumerate(src)]
    ys = [f"{k + 1} {_show(c)}" for k, c in enumerate(out)]
    fig = go.Figure(go.Heatmap(z=w, x=xs, y=ys, zmin=0, zmax=1, colorscale="Blues",
                               colorbar=dict(title="α", thickness=12),
                               hovertemplate="writing %{y}, looking at %{x}: α = %{z:.2f}<extra></extra>"))
    fig.update_layout(**base_layout(height=height or int(min(max(24 * len(out) + 140, 260), 620))))
    fig.update_xaxes(title_text="input position (read)", type="category", tickangle=0 if len(src) <= 12 else -60)
    fig.update_yaxes(title_text="output step (written)", type="category", autorange="reversed")
    return fig


def length_comparison_figure(bins: list[str], curves: dict[str, list[float]], counts: list[int],
                             metric: str = "whole output right", height: int = 340) -> go.Figure:
    """Test accuracy against input length, one line per model."""
    fig = go.Figure()
    for name, acc in curves.items():
        fig.add_trace(go.Scatter(x=bins, y=acc, mode="lines+markers", name=name, customdata=counts,
                                 line=dict(color=MODEL_COLORS.get(name, COLORS["hidden"]), width=3),
                                 hovertemplate=f"{name}: %{{y:.1%}} at input length %{{x}} "
                                               "(%{customdata} test inputs)<extra></extra>"))
    fig.update_layout(**base_layout(height=height), legend=dict(orientation="h", y=-0.3, x=0))
    fig.update_yaxes(range=[0, 1.03], tickformat=".0%", title_text=metric)
    fig.update_xaxes(title_text="input length (characters)", type="category")
    return fig


# --- training ---------------------------------------------------------------------------------------------
def training_figure(curves: dict[str, tuple[list[int], list[float]]], total_steps: int, ylabel: str,
                    references: dict[str, float] | None = None, height: int = 280) -> go.Figure:
    """Validation accuracy against the training step, one line per model, with reference levels dotted."""
    fig = go.Figure()
    for name, (steps, acc) in curves.items():
        fig.add_trace(go.Scatter(x=steps, y=acc, mode="lines+markers", name=name,
                                 line=dict(color=MODEL_COLORS.get(name, COLORS["hidden"]), width=3),
                                 hovertemplate=f"{name}, step %{{x}}: %{{y:.1%}}<extra></extra>"))
    for label, value in (references or {}).items():
        fig.add_hline(y=value, line=dict(color="#777", dash="dot", width=1.5))
        fig.add_annotation(x=0, xref="paper", y=value, text=html.escape(label), showarrow=False, xanchor="left",
                           yanchor="bottom", font=dict(size=12, color="#555"))
    fig.update_layout(**base_layout(height=height), legend=dict(orientation="h", y=-0.35, x=0))
    fig.update_yaxes(range=[0, 1.03], tickformat=".0%", title_text=ylabel)
    fig.update_xaxes(title_text="training step", range=[0, max(total_steps, 1) * 1.02])
    return fig
