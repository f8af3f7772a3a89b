"""Lessons of the home page ("What is an RNN?"): the unrolled loop shares its weights."""
from __future__ import annotations

from ..figures.diagrams import unrolled_diagram
from . import Finding, Lesson

PAGE = "app_pages/home.py"
DEFAULTS = {"home_cell": "RNN", "home_view": "Unrolled", "home_T": 4}


def _weights(fig) -> list[str]:
    """The weight names written on a diagram's arrows (``<b>W</b>`` → ``W``)."""
    return [a.text[3:-4] for a in fig.layout.annotations if a.text and a.text.startswith("<b>") and not a.showarrow]


def _hidden_nodes(fig) -> int:
    return sum(len(t.x) for t in fig.data if t.name == "hidden")


def _same_weights() -> Finding:
    short = unrolled_diagram(DEFAULTS["home_T"], DEFAULTS["home_cell"])
    long = unrolled_diagram(10, DEFAULTS["home_cell"])
    names_short, names_long = set(_weights(short)), set(_weights(long))
    steps = (_hidden_nodes(short), _hidden_nodes(long))
    return Finding(names_short == names_long == {"W", "U", "V"} and steps == (4, 10),
                   f"T = 4 draws {steps[0]} cells, T = 10 draws {steps[1]}; the weights written on the arrows are "
                   f"{sorted(names_short)} and {sorted(names_long)}")


def _folded() -> Finding:
    fig = unrolled_diagram(DEFAULTS["home_T"], DEFAULTS["home_cell"], folded=True)
    loop = [s for s in fig.layout.shapes if s.type == "path"]
    return Finding(_hidden_nodes(fig) == 1 and len(loop) == 1,
                   f"the folded view draws {_hidden_nodes(fig)} cell and {len(loop)} loop back into it")


def _cell_state() -> Finding:
    lstm, rnn = unrolled_diagram(DEFAULTS["home_T"], "LSTM"), unrolled_diagram(DEFAULTS["home_T"], "RNN")
    lines = [a for a in lstm.layout.annotations if a.showarrow and a.ay == 1.3]
    weights_on_c = [w for w in _weights(lstm) if w not in {"W", "U", "V", "c"}]
    in_rnn = [a for a in rnn.layout.annotations if a.showarrow and a.ay == 1.3]
    return Finding(len(lines) == DEFAULTS["home_T"] and not in_rnn and "c" in _weights(lstm) and not weights_on_c,
                   f"the LSTM draws {len(lines)} arrows of a second line c between its cells (the RNN {len(in_rnn)}), "
                   "labelled c and no weight")


LESSONS = (
    Lesson("home.unrolled", "Drag <b>Time steps T</b> to 10: each new column is the same cell again; do new weights "
           "appear?", {"home_T": 10, "home_view": "Unrolled"},
           "more columns, the same three weight names W, U, V", "No: unrolling copies the cell, not its weights. "
           "One W, one U and one V serve every step, which is why an RNN can read a sequence of any length.",
           _same_weights),
    Lesson("home.folded", "Switch <b>View</b> to <i>Folded loop</i>: the same network drawn as one cell that feeds "
           "h back to itself.", {"home_view": "Folded loop"}, "one cell and one loop",
           "The folded loop and the unrolled chain are the same network; unrolling only draws each time step apart.",
           _folded),
    Lesson("home.cell_state", "Pick <b>LSTM</b>: which second line runs along the chain, and why does it carry no "
           "weight matrix?", {"home_cell": "LSTM", "home_view": "Unrolled"},
           "a second line c from cell to cell, with no weight on it",
           "The cell state c: each step only scales it by the forget gate and adds the new content, with no matrix "
           "multiplication, so a gradient along c shrinks only as fast as the forget gates are below 1.",
           _cell_state),
)
