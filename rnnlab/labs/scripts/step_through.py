"""Step through an RNN's script: the network unrolled over its input, and everything one step computed."""
from __future__ import annotations

from ..unroll import CELLS, DEFAULT_SENTENCE, RADII
from .template import Const, Settings, render

TITLE = "Step through an RNN"
DEFAULTS = {"st_cell": "LSTM", "st_hidden": 3, "st_init": "default", "st_input": "sentence",
            "st_text": DEFAULT_SENTENCE, "st_length": 20, "st_freq": 1.0, "st_radius": RADII[0], "st_t": 1}

BODY = '''
# A fresh cell (its weights drawn from SEED) reads the input; every step's values are kept
u = build_unroll(CELL, HIDDEN, INPUT, text=SENTENCE, length=LENGTH, frequency=CYCLES, seed=SEED, init=INIT,
                 spectral_radius=SPECTRAL_RADIUS)
t = min(max(STEP, 1), u.steps)          # the page's step, counted from 1
v = step_values(u, t - 1)


def vector(x) -> str:                   # as the page writes a vector
    return "[" + ", ".join(f"{value:.2f}" for value in x) + "]"


print(f"Step {t} of {u.steps}: reading {u.labels[t - 1]}")
print(f"Input x_{t}: {u.labels[t - 1]} → {vector(v['x'])} · h_{t - 1} (memory coming in) = {vector(v['h_prev'])}"
      + (f" · c_{t - 1} = {vector(v['c_prev'])}" if "c_prev" in v else ""))
for name in [k[4:] for k in v if k.startswith("pre_")]:    # each gate (or candidate, or h): before and after
    print(f"  {name}: pre-activation {vector(v['pre_' + name])} → {vector(v[name])}")
print(f"State after step {t}: h_{t} = {vector(v['h'])}" + (f", c_{t} = {vector(v['c'])}" if "c" in v else ""))
print("Each U, measured: " + " · ".join(
    f"U{'_' + g if g != 'h' else ''}: spectral radius {rho:.2f}, largest singular value {sigma:.2f}"
    for g, (rho, sigma) in recurrent_scales(u).items()))

# h (and c) of the units over the steps so far (at most 8 units: those whose h varies most)
fig = state_history(history(u, t - 1), u.labels, t - 1, shown_units(history(u, u.steps - 1)))
show(fig, html)
'''


def settings(values) -> Settings:
    return Settings(values, DEFAULTS)


def tag(s: Settings) -> str:
    return f"{CELLS.get(s['st_cell'], 'LSTM')}_t{s.num('st_t', int)}"


def script(s: Settings, seed: int, file_name: str) -> str:
    sentence = s["st_input"] == "sentence"
    radius = s["st_radius"]
    consts = [Const("CELL", CELLS.get(s["st_cell"], "LSTM"), f"Cell: {s['st_cell']}"),
              Const("HIDDEN", s.num("st_hidden", int), "Hidden size"),
              Const("INIT", s["st_init"], "Initialisation"),
              Const("INPUT", s["st_input"], "Input: sentence, sine, square wave or random walk"),
              Const("SENTENCE", str(s["st_text"]) if sentence else "", "Sentence (each word a random vector)"),
              Const("LENGTH", 0 if sentence else s.num("st_length", int), "Length (steps) of a signal"),
              Const("CYCLES", 1.0 if sentence else s.num("st_freq"), "Cycles over the sequence"),
              Const("SPECTRAL_RADIUS", None if radius == RADII[0] else float(radius),
                    "U's spectral radius (None: as initialised)"),
              Const("STEP", s.num("st_t", int), "Time step t"),
              Const("SEED", seed, "the sidebar's seed: the weights and the word vectors")]
    return render(
        title="Step through an RNN: one time step with its real numbers.",
        about="A freshly initialised cell (nothing trained) reads a sentence word by word, each word a small "
              "random vector, or a signal. The script prints what one step computed: the input, the memory "
              "coming in, each gate before and after its squashing function, the new state, and how large each "
              "recurrent block U is; then it draws the state over the steps so far.",
        page_title=TITLE, file_name=file_name,
        imports=["from rnnlab.figures.steps import shown_units, state_history",
                 "from rnnlab.labs.unroll import build_unroll, history, recurrent_scales, step_values"],
        consts=consts, body=BODY)
