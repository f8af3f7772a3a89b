"""Plotly diagrams of recurrent networks: the folded loop, the unrolled chain, and architecture types.

Pure functions: arguments in, ``go.Figure`` out. Nodes are scatter traces named ``inputs``, ``hidden``,
``outputs`` (and ``hidden_backward``) so tests and hover text can read them; arrows are annotations.
"""
from __future__ import annotations

import plotly.graph_objects as go

from ..labs.architectures import Architecture
from .style import COLORS, base_layout

CELL_LABEL = {"RNN": "RNN", "RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def sub(i: int | str) -> str:
    """Subscript digits for labels: ``sub(3) == '₃'``."""
    return str(i).translate(SUB)


def _arrow(fig: go.Figure, x0, y0, x1, y1, color, label: str = "", label_shift=(0.0, 0.0), width=2.5, dash=False):
    fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                       showarrow=True, arrowhead=2, arrowsize=1.1, arrowwidth=width, arrowcolor=color,
                       opacity=0.55 if dash else 1.0)
    if label:
        fig.add_annotation(x=(x0 + x1) / 2 + label_shift[0], y=(y0 + y1) / 2 + label_shift[1], text=f"<b>{label}</b>",
                           showarrow=False, font=dict(size=16, color=color), bgcolor="rgba(255,255,255,0.85)")


def _nodes(fig, name, xs, ys, texts, hovers, color, size=46, symbol="square", text_color="white"):
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers+text", name=name, text=texts, hovertext=hovers,
                             hoverinfo="text", textfont=dict(color=text_color, size=15),
                             marker=dict(symbol=symbol, size=size, color=color, line=dict(width=2, color="#222"))))


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
    fig = go.Figure()
    if folded:
        _nodes(fig, "inputs", [0], [0], ["x" + "ₜ"], ["x_t: the input at step t"], COLORS["input"])
        _nodes(fig, "hidden", [0], [1], [label], [f"h_t = {_update_text(label)}"], COLORS["hidden"], size=62)
        _nodes(fig, "outputs", [0], [2], ["yₜ"], ["y_t = V h_t + c"], COLORS["output"])
        _arrow(fig, 0, 0.22, 0, 0.78, COLORS["W"], "W", (0.18, 0))
        _arrow(fig, 0, 1.24, 0, 1.78, COLORS["V"], "V", (0.18, 0))
        # the loop: out of the cell's right side and back in, the arrowhead on the way in
        fig.add_shape(type="path", path="M 0.32,1.1 C 1.3,1.75 1.3,0.25 0.62,0.8",
                      line=dict(color=COLORS["U"], width=3))
        _arrow(fig, 0.62, 0.8, 0.33, 0.92, COLORS["U"])
        fig.add_annotation(x=0.95, y=1.0, text="<b>U</b>  (h<sub>t-1</sub> → h<sub>t</sub>)", showarrow=False,
                           font=dict(size=16, color=COLORS["U"]), xanchor="left")
        if lstm:
            fig.add_annotation(x=-0.45, y=1.35, text="c carried too", showarrow=False, font=dict(color=COLORS["c"]))
        fig.update_xaxes(range=[-1.2, 2.2])
    else:
        xs = [2 * t for t in range(T)]
        steps = [first + t + 1 for t in range(T)]  # 1-based step numbers shown
        colors = [COLORS["highlight"] if first + t == highlight else COLORS["hidden"] for t in range(T)]
        x_text = [f"x{sub(n)}" for n in steps]
        x_hover = [f"x_{n}: input at step {n}" for n in steps]
        if input_labels is not None:
            x_hover = [f"x_{n} = {lab!r}" for n, lab in zip(steps, input_labels)]
        h_hover = hidden_hover or [f"step {n}: h_{n} = {_update_text(label, n)}" for n in steps]
        _nodes(fig, "inputs", xs, [0] * T, x_text, x_hover, COLORS["input"])
        _nodes(fig, "hidden", xs, [1] * T, [f"h{sub(n)}" for n in steps], h_hover, colors, size=56)
        if outputs:
            _nodes(fig, "outputs", xs, [2] * T, [f"y{sub(n)}" for n in steps],
                   [f"y_{n} = V h_{n} + c" for n in steps], COLORS["output"])
        _nodes(fig, "initial_state", [-2], [1], [f"h{sub(first)}"],
               ["h_0: the initial state (zeros)" if first == 0 else f"h_{first}: the state carried in"],
               COLORS["state0"], size=40, text_color="#222")
        if input_labels is not None:
            for x, lab in zip(xs, input_labels):
                fig.add_annotation(x=x, y=-0.42, text=_short(lab), showarrow=False, font=dict(size=15, color="#222"))
        for t, x in enumerate(xs):
            _arrow(fig, x, 0.2, x, 0.75, COLORS["W"], "W", (0.3, 0))
            if outputs:
                _arrow(fig, x, 1.25, x, 1.8, COLORS["V"], "V", (0.3, 0))
            _arrow(fig, x - 1.55, 1.0, x - 0.45, 1.0, COLORS["U"], "U", (0, 0.14))
            if lstm:
                _arrow(fig, x - 1.55, 1.3, x - 0.45, 1.3, COLORS["c"], "c" if t == 0 else "", (0, 0.12), width=2)
        fig.update_xaxes(range=[-2.8, 2 * T - 1])
        fig.add_annotation(x=(2 * T - 2) / 2 - 1, y=-0.75 if input_labels is not None else -0.55, showarrow=False, font=dict(size=14, color="#333"),
                           text="The same W, U and V are used at every step: unrolling copies the cell, not the weights.")
    fig.update_yaxes(range=[-1.0 if input_labels is not None else -0.8, 2.5 if outputs else 1.6])
    fig.update_layout(**base_layout(height=(360 if outputs else 290) if not folded else 380), showlegend=False)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


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
    fig = go.Figure()
    n = arch.steps
    xs = [1.6 * t for t in range(n)]
    enc = arch.encoder_steps
    hid_colors = [COLORS["encoder"] if t < enc else COLORS["hidden"] for t in range(n)]
    hidden_y = 1.0
    _nodes(fig, "hidden", xs, [hidden_y] * n, ["" for _ in xs],
           [("encoder" if t < enc else "decoder" if enc else "hidden") + f" step {t + 1}" for t in range(n)],
           hid_colors, size=34)
    if arch.bidirectional:
        _nodes(fig, "hidden_backward", xs, [1.7] * n, ["" for _ in xs], [f"backward step {t + 1}" for t in range(n)],
               COLORS["backward"], size=34)
    _nodes(fig, "inputs", [xs[t] for t in arch.inputs], [0] * len(arch.inputs), ["" for _ in arch.inputs],
           [f"input {t + 1}" for t in arch.inputs], COLORS["input"], size=28)
    top = 2.5 if arch.bidirectional else 2.0
    _nodes(fig, "outputs", [xs[t] for t in arch.outputs], [top] * len(arch.outputs), ["" for _ in arch.outputs],
           [f"output {t + 1}" for t in arch.outputs], COLORS["output"], size=28)
    for t in arch.inputs:
        _arrow(fig, xs[t], 0.2, xs[t], 0.75, COLORS["W"], width=2)
        if arch.bidirectional:
            _arrow(fig, xs[t] + 0.25, 0.2, xs[t] + 0.25, 1.5, COLORS["backward"], width=1.5, dash=True)
    for t in arch.outputs:
        _arrow(fig, xs[t], 1.95 if arch.bidirectional else 1.25, xs[t], top - 0.22, COLORS["V"], width=2)
        if arch.bidirectional:
            _arrow(fig, xs[t] - 0.25, 1.25, xs[t] - 0.25, top - 0.22, COLORS["V"], width=1.5, dash=True)
    if arch.recurrent:
        for t in range(1, n):
            _arrow(fig, xs[t - 1] + 0.3, hidden_y, xs[t] - 0.3, hidden_y, COLORS["U"], width=2)
            if arch.bidirectional:
                _arrow(fig, xs[t] - 0.3, 1.7, xs[t - 1] + 0.3, 1.7, COLORS["backward"], width=2)
    fig.update_layout(**{**base_layout(height=200), "margin": dict(l=5, r=5, t=5, b=5)}, showlegend=False)
    fig.update_xaxes(visible=False, range=[-0.8, max(xs) + 0.8 if n > 1 else 0.8])
    fig.update_yaxes(visible=False, range=[-0.5, top + 0.5])
    return fig
