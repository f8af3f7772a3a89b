"""Lessons of Step through an RNN: a new word moves the candidate most, U's spectral radius decides what h
remembers, and a large hidden size folds the equations away.

Each check builds the page's own network (:func:`rnnlab.labs.unroll.build_unroll`, seed 0) with the page's
defaults and the lesson's settings: milliseconds, no training.
"""
from __future__ import annotations

import numpy as np
import torch

from ..figures.steps import MAX_LINES, TITLES, shown_units, state_history, vector_bars, weight_heatmaps
from ..labs.equations import step_equations
from ..labs.unroll import CELLS, DEFAULT_SENTENCE, RADII, WRITTEN_OUT, build_unroll, gate_weights, history, step_values
from . import Finding, Lesson, Question

PAGE = "app_pages/step_through.py"
DEFAULTS = {"st_cell": "LSTM", "st_hidden": 3, "st_init": "default", "st_input": "sentence",
            "st_text": DEFAULT_SENTENCE, "st_radius": RADII[0]}
WORD = "not"
LOW, HIGH = "0.5", "2.0"     # the two spectral radii lesson 2 compares
BIG = 12                     # lesson 3's hidden size: above WRITTEN_OUT and above the chart's MAX_LINES
GATES = ("i", "f", "g", "o")   # the default LSTM's gates, in the Gates chart's order


def _unroll(**settings):
    s = {**DEFAULTS, **settings}
    radius = None if s["st_radius"] == RADII[0] else float(s["st_radius"])
    return build_unroll(CELLS[s["st_cell"]], s["st_hidden"], s["st_input"], text=s["st_text"], seed=0,
                        init=s["st_init"], spectral_radius=radius)


def _at_not() -> Finding:
    u = _unroll()
    t = u.labels.index(WORD)
    before, at = step_values(u, t - 1), step_values(u, t)
    moves = {g: float(np.abs(at[g] - before[g]).max()) for g in u.gate_names}
    most = max(moves, key=moves.get)
    flipped = [j for j in range(u.hidden_size) if np.sign(at["h_prev"][j]) != np.sign(at["h"][j])]
    return Finding(most == "g" and bool(flipped),
                   "from '" + u.labels[t - 1] + f"' to '{WORD}' the bars move by at most "
                   + ", ".join(f"{g} {v:.2f}" for g, v in moves.items())
                   + f"; h changes sign in unit(s) {flipped}", value=TITLES[most])


def _first_word_left(u) -> float:
    """How much of a change to the first word's vector is left in the last h (a share of its size at step 1):
    the same layer run on the sentence with x_1 negated."""
    x = torch.from_numpy(u.inputs)[None]
    other = x.clone()
    other[0, 0] = -other[0, 0]
    with torch.no_grad():
        gap = (u.layer(x)[0] - u.layer(other)[0])[0].norm(dim=1)
    return float(gap[-1] / gap[0])


def _radius() -> Finding:
    low, high = _unroll(st_cell="RNN (tanh)", st_radius=LOW), _unroll(st_cell="RNN (tanh)", st_radius=HIGH)
    h_low, h_high = history(low, low.steps - 1)["h"], history(high, high.steps - 1)["h"]
    flips = np.all(np.sign(h_high[1:]) != np.sign(h_high[:-1]), axis=0)            # a unit that flips every step
    pinned = np.all(h_high > 0, axis=0) & (h_high.max(axis=0) > 0.95)              # never flips, reaches ~+1
    flips_low = np.all(np.sign(h_low[1:]) != np.sign(h_low[:-1]), axis=0)
    eig = np.linalg.eigvals(gate_weights(high)["h"]["U"].astype(float))
    top = eig[np.argmax(np.abs(eig))]
    left_low, left_high = _first_word_left(low), _first_word_left(high)
    return Finding(flips.any() and pinned.any() and not flips_low.any() and np.abs(h_low).max() < 0.9
                   and abs(top.imag) < 1e-9 and top.real < 0 and left_low < 0.01 and left_high > 0.5,
                   f"at {HIGH}: unit(s) {np.flatnonzero(flips).tolist()} flip sign at every word, unit(s) "
                   f"{np.flatnonzero(pinned).tolist()} stay positive up to {h_high.max():.2f}; U's largest "
                   f"eigenvalue {top.real:.2f}; at {LOW}: |h| ≤ {np.abs(h_low).max():.2f}, no unit flips at every "
                   f"word; a change to the first word leaves {left_low:.1%} of itself in the last h at {LOW}, "
                   f"{left_high:.0%} at {HIGH}")


def _folded() -> Finding:
    u = _unroll(st_hidden=BIG)
    v = step_values(u, 0)
    lines = step_equations(u.mode, gate_weights(u), v, 1, numbers=False)
    w = gate_weights(u)["i"]
    heat = weight_heatmaps({"W_i": w["W"], "U_i": w["U"], "h_0": v["h_prev"]})
    bars = vector_bars({g: v[g] for g in u.gate_names})
    units = shown_units(history(u, u.steps - 1))
    lines_drawn = {tr["name"] for tr in state_history(history(u, 0), u.labels, 0, units).data}
    per_bar_chart = {len(tr.x) for tr in bars.data}
    return Finding(not any("bmatrix" in line for line in lines) and heat.data[1].z is not None
                   and len(heat.data[1].z) == BIG and per_bar_chart == {BIG} and len(lines_drawn) == MAX_LINES,
                   f"{BIG} units: the equations are symbolic ({len(lines)} lines, no numbers), U_i is a "
                   f"{len(heat.data[1].z)}×{len(heat.data[1].z[0])} heatmap, each gate's bars show "
                   f"{per_bar_chart} units, the h chart {len(lines_drawn)} lines")


LESSONS = (
    Lesson("step_through.not", f"Press <b>Next ▶</b> until the cell reads <i>{WORD}</i>: which bar of the "
           "<i>Gates</i> chart moves most, and does h change sign?", {"st_t": DEFAULT_SENTENCE.split().index(WORD) + 1},
           "the candidate g swings most; some units of h change sign",
           "g is a tanh of the new word (−1 to 1); i, f and o are sigmoids (0 to 1) that only scale. The net is "
           f"untrained and its words are random vectors: to it, <i>{WORD}</i> is just another word.", _at_not,
           question=Question(f"When the LSTM reads “{WORD}”, which bar of the Gates chart moves most from the step "
                             "before?", choices=tuple(TITLES[g] for g in GATES))),
    Lesson("step_through.radius", f"Pick <b>RNN (tanh)</b> and set <b>U's spectral radius</b> to {LOW}, then "
           f"{HIGH}, and watch the h chart: which unit flips sign at every word, which is pinned near +1?",
           {"st_cell": "RNN (tanh)", "st_radius": HIGH},
           f"at {LOW} h follows each word, within ±0.9; at {HIGH} one unit flips at every word, one climbs to 1",
           f"At {LOW} U shrinks the old h at each step: by the last word, the first is all but forgotten. At "
           f"{HIGH} U amplifies it until tanh clips it near ±1, and U's largest eigenvalue here is negative: "
           "that direction flips sign at every step.", _radius),
    Lesson("step_through.folded", f"Raise <b>Hidden size</b> above {WRITTEN_OUT}: the equations fold away into "
           f"heatmaps, the bars still show every unit, the h chart the {MAX_LINES} that vary most.",
           {"st_hidden": BIG}, "symbolic equations, heatmaps of the weights, one bar per unit",
           f"Beyond {WRITTEN_OUT} units a matrix written out number by number no longer fits a screen; a heatmap "
           "shows every weight as a colour, and hovering gives its number.", _folded),
)
