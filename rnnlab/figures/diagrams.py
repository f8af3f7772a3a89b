"""Plotly diagrams of recurrent networks: the folded loop, the unrolled chain, and architecture types.

Pure functions: arguments in, ``go.Figure`` out. Nodes are scatter traces named ``inputs``, ``hidden``,
``outputs`` (and ``hidden_backward``) so tests and hover text can read them; arrows are annotations.
"""
from __future__ import annotations

import plotly.graph_objects as go

from ..labs.shapes import Architecture
from .fast import figure
from .style import COLORS, base_layout, text_on

CELL_LABEL = {"RNN": "RNN", "RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def sub(i: int | str) -> str:
    """Subscript digits for labels: ``sub(3) == '₃'``."""
    return str(i).translate(SUB)


class _Drawing:
    """Collects a diagram's traces, arrows and labels as plain dicts and makes the figure in one call at the
    end (:func:`rnnlab.figures.fast.figure`): Plotly validated the figure each time an annotation was added,
    and 60 arrows added one by one took 0.3-1 s."""

    def __init__(self):
        self.traces: list[dict] = []
        self.annotations: list[dict] = []
        self.shapes: list[dict] = []

    def arrow(self, x0, y0, x1, y1, color, label: str = "", label_shift=(0.0, 0.0), width=2.5, dash=False):
        self.annotations.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                                     showarrow=True, arrowhead=2, arrowsize=1.1, arrowwidth=width,
                                     arrowcolor=color, opacity=0.55 if dash else 1.0))
        if label:
            self.annotations.append(dict(x=(x0 + x1) / 2 + label_shift[0], y=(y0 + y1) / 2 + label_shift[1],
                                         text=f"<b>{label}</b>", showarrow=False, font=dict(size=16, color=color),
                                         bgcolor="rgba(255,255,255,0.85)"))

    def label(self, x, y, text, **kwargs):
        self.annotations.append(dict(x=x, y=y, text=text, showarrow=False, **kwargs))

    def nodes(self, name, xs, ys, texts, hovers, color, size=46, symbol="square", text_color=None,
              box: tuple[float, float] | None = None):
        """Nodes as markers of ``size`` pixels, or, with ``box=(width, height)``, as rectangles in data units
        that shrink with the figure (an unrolled chain still fits a phone) under their text and hover. Labels are
        black or white, whichever reads better on each box (:func:`text_on`), unless ``text_color`` says."""
        if box is None:
            marker = dict(symbol=symbol, size=size, color=color, line=dict(width=2, color="#222"))
        else:
            colors = color if isinstance(color, list) else [color] * len(xs)
            w, h = box
            self.shapes += [dict(type="rect", x0=x - w / 2, x1=x + w / 2, y0=y - h / 2, y1=y + h / 2, layer="below",
                                 fillcolor=c, line=dict(width=2, color="#222")) for x, y, c in zip(xs, ys, colors)]
            marker = dict(symbol="square", size=30, color=colors, opacity=0)   # invisible: it carries the hover
        if text_color is None:
            text_color = [text_on(c) for c in color] if isinstance(color, list) else text_on(color)
        self.traces.append(dict(type="scatter", x=list(xs), y=list(ys), mode="markers+text", name=name,
                                text=list(texts), hovertext=list(hovers), hoverinfo="text",
                                textfont=dict(color=text_color, size=15), marker=marker))

    def figure(self, layout: dict, x_range, y_range) -> go.Figure:
        axis = dict(visible=False)
        return figure(self.traces, dict(**layout, showlegend=False, annotations=self.annotations, shapes=self.shapes,
                                        xaxis=dict(axis, range=list(x_range)), yaxis=dict(axis, range=list(y_range))))


#: What every unrolled drawing means; pages print it under the figure (inside it, it was cut on narrow screens).
SHARED_WEIGHTS_NOTE = "The same W, U and V are used at every step: unrolling copies the cell, not the weights."


def unrolled_diagram(T: int = 4, cell: str = "RNN", folded: bool = False, highlight: int | None = None,
                     first: int = 0, input_labels: list[str] | None = None,
                     hidden_hover: list[str] | None = None, outputs: bool = True) -> go.Figure:
    """The RNN drawn folded (one cell with a loop) or unrolled over ``T`` steps with shared W, U, V.

    For step-through pages: ``first`` is the 0-based index of the first step drawn (a window onto a
    long sequence), ``highlight`` the step to colour, ``input_labels`` what each drawn step reads
    (tokens), ``hidden_hover`` the hover text of each drawn h (its values), ``outputs=False`` omits y.
    """
    if T < 1:
        raise ValueError("T must be at least 1")
    label = CELL_LABEL.get(cell.upper(), cell)
    lstm = label == "LSTM"
    d = _Drawing()
    if folded:
        d.nodes("inputs", [0], [0], ["x" + "ₜ"], ["x_t: the input at step t"], COLORS["input"])
        d.nodes("hidden", [0], [1], [label], [f"h_t = {_update_text(label)}"], COLORS["hidden"], size=62)
        d.nodes("outputs", [0], [2], ["yₜ"], ["y_t = V h_t + b_y"], COLORS["output"])
        d.arrow(0, 0.22, 0, 0.78, COLORS["W"], "W", (0.18, 0))
        d.arrow(0, 1.24, 0, 1.78, COLORS["V"], "V", (0.18, 0))
        # the loop: out of the cell's right side and back in, the arrowhead on the way in
        d.shapes.append(dict(type="path", path="M 0.32,1.1 C 1.3,1.75 1.3,0.25 0.62,0.8",
                             line=dict(color=COLORS["U"], width=3)))
        d.arrow(0.62, 0.8, 0.33, 0.92, COLORS["U"])
        d.label(0.95, 1.0, "<b>U</b>  (h<sub>t-1</sub> → h<sub>t</sub>)", font=dict(size=16, color=COLORS["U"]),
                xanchor="left")
        if lstm:
            d.label(-0.45, 1.35, "c carried too", font=dict(color=COLORS["c"]))
        x_range = [-1.2, 2.2]
    else:
        xs = [2 * t for t in range(T)]
        steps = [first + t + 1 for t in range(T)]  # 1-based step numbers shown
        colors = [COLORS["highlight"] if first + t == highlight else COLORS["hidden"] for t in range(T)]
        x_text = [f"x{sub(n)}" for n in steps]
        x_hover = [f"x_{n}: input at step {n}" for n in steps]
        if input_labels is not None:
            x_hover = [f"x_{n} = {lab!r}" for n, lab in zip(steps, input_labels)]
        h_hover = hidden_hover or [f"step {n}: h_{n} = {_update_text(label, n)}" for n in steps]
        d.nodes("inputs", xs, [0] * T, x_text, x_hover, COLORS["input"], box=(0.95, 0.4))
        d.nodes("hidden", xs, [1] * T, [f"h{sub(n)}" for n in steps], h_hover, colors, box=(1.15, 0.5))
        if outputs:
            d.nodes("outputs", xs, [2] * T, [f"y{sub(n)}" for n in steps],
                    [f"y_{n} = V h_{n} + b_y" for n in steps], COLORS["output"], box=(0.95, 0.4))
        d.nodes("initial_state", [-2], [1], [f"h{sub(first)}"],
                ["h_0: the initial state (zeros)" if first == 0 else f"h_{first}: the state carried in"],
                COLORS["state0"], text_color="#222", box=(0.85, 0.4))
        if input_labels is not None:
            for x, lab in zip(xs, input_labels):
                d.label(x, -0.42, _short(lab), font=dict(size=15, color="#222"))
        for t, x in enumerate(xs):
            d.arrow(x, 0.2, x, 0.75, COLORS["W"], "W", (0.3, 0))
            if outputs:
                d.arrow(x, 1.25, x, 1.8, COLORS["V"], "V", (0.3, 0))
            d.arrow(x - 1.55, 1.0, x - 0.45, 1.0, COLORS["U"], "U", (0, 0.14))
            if lstm:
                d.arrow(x - 1.55, 1.3, x - 0.45, 1.3, COLORS["c"], "c" if t == 0 else "", (0, 0.12), width=2)
        # at least six steps' worth of width, centred: boxes scale with the figure, and a short chain on a
        # wide screen would otherwise get long flat boxes
        lo, hi = -2.8, 2 * T - 1
        pad = max(0.0, (2 * 6 + 1.8) - (hi - lo)) / 2
        x_range = [lo - pad, hi + pad]
    y_range = [-0.6 if input_labels is not None else -0.4, 2.5 if outputs else 1.55]
    height = 380 if folded else 330 if outputs else 230
    return d.figure(base_layout(height=height), x_range, y_range)


def _short(text: str, n: int = 12) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _update_text(label: str, t: int | str = "t") -> str:
    prev = f"{int(t) - 1}" if isinstance(t, int) else "t-1"
    if label == "LSTM":
        return f"o ⊙ tanh(c_{t}),  c_{t} = f ⊙ c_{prev} + i ⊙ g"
    if label == "GRU":
        return f"(1 - z) ⊙ n + z ⊙ h_{prev}"
    return f"tanh(W x_{t} + U h_{prev} + b)"


def architecture_diagram(arch: Architecture) -> go.Figure:
    """A small diagram of one architecture type: inputs below, outputs above, state flowing right."""
    d = _Drawing()
    n = arch.steps
    xs = [1.6 * t for t in range(n)]
    enc = arch.encoder_steps
    hid_colors = [COLORS["encoder"] if t < enc else COLORS["hidden"] for t in range(n)]
    hidden_y = 1.0
    d.nodes("hidden", xs, [hidden_y] * n, ["" for _ in xs],
            [("encoder" if t < enc else "decoder" if enc else "hidden") + f" step {t + 1}" for t in range(n)],
            hid_colors, size=34)
    if arch.bidirectional:
        d.nodes("hidden_backward", xs, [1.7] * n, ["" for _ in xs], [f"backward step {t + 1}" for t in range(n)],
                COLORS["backward"], size=34)
    d.nodes("inputs", [xs[t] for t in arch.inputs], [0] * len(arch.inputs), ["" for _ in arch.inputs],
            [f"input {t + 1}" for t in arch.inputs], COLORS["input"], size=28)
    top = 2.5 if arch.bidirectional else 2.0
    d.nodes("outputs", [xs[t] for t in arch.outputs], [top] * len(arch.outputs), ["" for _ in arch.outputs],
            [f"output {t + 1}" for t in arch.outputs], COLORS["output"], size=28)
    for t in arch.inputs:
        d.arrow(xs[t], 0.2, xs[t], 0.75, COLORS["W"], width=2)
        if arch.bidirectional:
            d.arrow(xs[t] + 0.25, 0.2, xs[t] + 0.25, 1.5, COLORS["backward"], width=1.5, dash=True)
    for t in arch.outputs:
        d.arrow(xs[t], 1.95 if arch.bidirectional else 1.25, xs[t], top - 0.22, COLORS["V"], width=2)
        if arch.bidirectional:
            d.arrow(xs[t] - 0.25, 1.25, xs[t] - 0.25, top - 0.22, COLORS["V"], width=1.5, dash=True)
    if arch.recurrent:
        for t in range(1, n):
            d.arrow(xs[t - 1] + 0.3, hidden_y, xs[t] - 0.3, hidden_y, COLORS["U"], width=2)
            if arch.bidirectional:
                d.arrow(xs[t] - 0.3, 1.7, xs[t - 1] + 0.3, 1.7, COLORS["backward"], width=2)
    layout = {**base_layout(height=200), "margin": dict(l=5, r=5, t=5, b=5)}
    return d.figure(layout, [-0.8, max(xs) + 0.8 if n > 1 else 0.8], [-0.5, top + 0.5])
