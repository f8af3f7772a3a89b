"""Inside the memory's script: a model reads the text, and the open tab's view of its units and gates."""
from __future__ import annotations

from ...inputs import InputError, parse_number
from ..corpus_search import CHAR_TRACKS
from ..memory import DEFAULT_REVIEW, FRESH, FRESH_CELL, FRESH_HIDDEN
from .template import Const, Settings, render

TITLE = "Inside the memory"
FEW_UNITS = 16          # the page's "16 most varying"
DEFAULTS = {"mem_tab": "Heatmaps", "mem_text": DEFAULT_REVIEW, "mem_source": "Pretrained on IMDB",
            "mem_cell": FRESH_CELL, "mem_hidden": FRESH_HIDDEN, "mem_layer": 0, "mem_dir": "forward",
            "mem_units": f"{FEW_UNITS} most varying", "mem_start": 0, "mem_colour_by": "one unit of h",
            "mem_unit": None, "mem_colour_gate": None, "mem_range": [0, 2], "mem_units_sig": "h",
            "mem_cs_model": "sentiment", "mem_cs_piece": 0, "mem_cs_range": None, "mem_cs_thr": 0.3,
            "mem_cs_track": CHAR_TRACKS[0]}

PRETRAINED = '''
model = load_shipped()          # the pretrained IMDB model of assets/sentiment (a bidirectional LSTM)
'''

FRESH_MODEL = '''
# A fresh, untrained model: a vocabulary of the text's own words, weights drawn from SEED
model = fresh_text_model(tuple(tokenize(TEXT)[:MAX_TOKENS]), CELL, HIDDEN, SEED)
'''

READ = '''
reading = read_model(model, TEXT)       # every unit and gate of every layer after each token, and P(positive)
tokens = reading.tokens
print(f"Tokens read: {len(tokens):,}")
print(f"Unknown words: {reading.n_unknown}")            # outside the model's vocabulary, read as <oov>
print(f"P(positive): {pct(reading.probability)}")

layer = min(LAYER, len(reading.traces) - 1)
direction = DIRECTION if DIRECTION in reading.directions(layer) else "forward"
signals = reading.signals(layer, direction)             # {"h": (units, tokens), "c": ..., each gate: ...}
'''
RANKED = '''
ranked = varying_units(signals["h"], len(signals["h"]))  # every unit, the one whose h varies most first
'''
GATES = '''
gates = [g for g in signals if g not in ("h", "c")]
'''

HEATMAPS = RANKED + '''
units = ranked[:16] if ONLY_16_MOST_VARYING else ranked
start = min(START, max(len(tokens) - 250, 0))
end = min(start + 250, len(tokens))                      # the page draws 250 tokens at a time
for name in signals:
    values = signals[name][units]
    print(f"{name}: {len(units)} units, from {values.min():+.3f} to {values.max():+.3f}")

fig = activation_heatmap(signals[SIGNAL][units, start:end], tokens[start:end], SIGNAL, start, units=units)
show(fig, html)
'''

COLOUR = RANKED + GATES + '''
if COLOUR_BY == "a gate's mean over units" and gates:
    gate = GATE if GATE in gates else gates[0]
    values, label = mean_over_units(signals[gate]), f"mean {gate}"
else:
    signal = "c" if COLOUR_BY == "one unit of c" and "c" in signals else "h"
    unit = UNIT if UNIT is not None and 0 <= UNIT < len(ranked) else int(ranked[0])
    values, label = signals[signal][unit], f"{signal}[{unit}]"
for token, value in zip(tokens, values):
    print(f"{token:>15} {value:+.3f}")

fig = go.Figure(go.Bar(x=list(range(len(tokens))), y=values, hovertext=tokens))
fig.update_layout(title=f"{label} after each token", xaxis_title="token", yaxis_title=label,
                  template="plotly_white")
show(fig, html)
'''

SATURATION = GATES + '''
if not gates:
    raise SystemExit("A vanilla RNN has no gates to saturate: choose an LSTM or a GRU.")
shares = gate_saturation({g: signals[g] for g in gates})
for gate, (shut, open_) in shares.items():     # below 0.1 or above 0.9 (a candidate: beyond ±0.8)
    print(f"{gate}: {shut:.0%} nearly shut, {open_:.0%} nearly open")

fig = saturation_bars(shares)
show(fig, html)
'''

TRAJECTORY = '''
coords, explained = pca_path(signals["h"])     # h after each token, on its two main directions
print(f"The two directions explain {explained[0]:.0%} and {explained[1]:.0%} of the variance of h")

fig = trajectory_figure(coords, tokens, explained, model.model.cell)
show(fig, html)
'''

FIND = '''
signal = SIGNAL if SIGNAL in signals else "h"
lo, hi = max(0, min(RANGE)), min(max(RANGE), len(tokens) - 1)
print(f"Units most active on {' '.join(tokens[lo:hi + 1])!r} (tokens {lo}-{hi}):")
found = top_units(signals[signal], lo, hi, k=min(5, len(signals[signal])))
for unit, score, mean_in in found:
    elsewhere = firing_positions(signals[signal][unit], mean_in, exclude=(lo, hi), limit=8)
    also = ", ".join(f"{k} {tokens[k]}" for k in elsewhere) or "nowhere else"
    print(f"  unit {unit}: selectivity {score:.3f}, mean {signal} in range {mean_in:.3f}; also fires on: {also}")

units = [unit for unit, _, _ in found]
fig = activation_heatmap(signals[signal][units], tokens, signal, 0, units=units)
show(fig, html)
'''

TABS = {"Heatmaps": (HEATMAPS, "every unit and gate as a heatmap",
                     ["from rnnlab.figures.memory import activation_heatmap",
                      "from rnnlab.labs.memory import varying_units"]),
        "Colour the text": (COLOUR, "one unit (or a gate's mean) along the text",
                            ["import plotly.graph_objects as go",
                             "from rnnlab.labs.memory import mean_over_units, varying_units"]),
        "Gate saturation": (SATURATION, "how often each gate is shut or open",
                            ["from rnnlab.figures.memory import saturation_bars",
                             "from rnnlab.labs.memory import gate_saturation"]),
        "Trajectory": (TRAJECTORY, "the hidden state's path through the text",
                       ["from rnnlab.figures.memory import trajectory_figure", "from rnnlab.labs.memory import "
                                                                               "pca_path"]),
        "Find units": (FIND, "the units that fire on a stretch of text",
                       ["from rnnlab.figures.memory import activation_heatmap",
                        "from rnnlab.labs.memory import firing_positions, top_units"])}


SEARCH = '''
model = MODELS[MODEL]           # a shipped model and the corpus it is searched over
folder = index_path(model.kind, model.folder, model.corpus)     # named by the digest of the model's weights
if index_info(folder) is None:  # the first time: the model reads the whole corpus once (minutes of one core)
    print("Building the index: the model reads the corpus once and keeps its top layer's h after every token...")
    context = JobContext(1, lambda message: None, None, max_seconds=3600.0)
    corpus_index_job(context, model.kind, str(model.folder), model.corpus, model.label)
index = Index(folder)

# The stretch selected in one text of the corpus; its pattern: the units on (h >= θ) at every step of it
a, b, title = index.pieces[PIECE]
lo, hi = STRETCH if STRETCH is not None else default_stretch(index, PIECE)
start, end = a + lo, a + min(hi, lo + MAX_SPAN - 1) + 1
on = units_on(index.acts, start, end, THRESHOLD)
units = tuple(sorted(int(u) for u in strongest(index, start, end, on)[:24]))    # the strongest, as the page ticks
if not units:
    raise SystemExit(f"No unit stays at or above θ = {THRESHOLD:g} all along this stretch: lower THRESHOLD.")
result = search(index, Query(start, end, THRESHOLD, units))     # every window of the corpus, scored
print(f"{title}: {' '.join(index.tokens[start:end])!r}")
print(f"Units searched for: {len(result.selected)} of {len(result.on)} on")
print(f"Units that must stay off: {len(result.off)}")
print(f"Windows with every searched unit on: {result.full:,}")
print(f"Search time: {result.seconds * 1000:.0f} ms")

track = TRACK if index.kind == CHARS else (POS_TRACK if POS_TRACK in index.tracks() else None)
rows = match_views(index, result, track)       # the selection first, then the best matches
for r in rows:
    score = "" if r.score is None else f", score {r.score:.3f}"
    print(f"  {r.label} ({where(index, r.start, r.end)}{score}): {context_text(r, index.kind)}  [{r.summary}]")

fig = matches_figure(rows, index.kind, track, len(result.selected))
show(fig, html)
'''


def _search(s: Settings, seed: int, file_name: str) -> str:
    rng = s.get("mem_cs_range")
    stretch = [int(v) for v in rng[:2]] if isinstance(rng, list | tuple) and len(rng) >= 2 else None
    consts = [Const("MODEL", s["mem_cs_model"], "Model and corpus: sentiment, lstm, gru or rnn"),
              Const("PIECE", s.num("mem_cs_piece", int), "Review (or speech): its number in the corpus"),
              Const("STRETCH", stretch, "Stretch: first and last token in that text (None: the page's default)"),
              Const("THRESHOLD", s.num("mem_cs_thr"), "Threshold θ: a unit is on when its h is at least θ"),
              Const("TRACK", s["mem_cs_track"], "Meta-data track of a character model's matches"),
              Const("SEED", seed, "the sidebar's seed (nothing here is random)")]
    return render(
        title="Inside the memory, Search the corpus: where else are the same units on (LSTMVis's match view).",
        about="A shipped model reads a whole corpus once (the index, kept on disk and shared with the page's); "
              "a stretch of one text and the units on at every step of it make a pattern, searched for over every "
              "window of the corpus: the same units on, the others off. The matches are ranked and printed in "
              "context with their meta-data. The units searched for are the strongest 24 on the stretch, the page's "
              "preselection (the page lets a student untick some).",
        page_title=TITLE, file_name=file_name,
        imports=["from rnnlab.figures.corpus_search import matches_figure",
                 "from rnnlab.labs.corpus_search import CHARS, MAX_SPAN, MODELS, POS_TRACK, Index, Query, "
                 "context_text, corpus_index_job, default_stretch, index_info, index_path, match_views, search, "
                 "strongest, units_on, where",
                 "from rnnlab.runtime.jobs import JobContext"],
        consts=consts, body=SEARCH)


def _whole(value, default):
    """A whole number from the session or a link ("3", 3), else ``default`` (rnnlab.inputs' rule)."""
    try:
        return parse_number(value, 0, None, integer=True)
    except InputError:
        return default


def settings(values) -> Settings:
    s = Settings(values, DEFAULTS)
    signals = next((v for k, v in s.items() if k.startswith("mem_signals_") and isinstance(v, list) and v), None)
    return Settings({}, {**s, "mem_signal": signals[0] if signals else "h"})


def tag(s: Settings) -> str:
    if s["mem_tab"] == "Search the corpus":
        return f"search_{s['mem_cs_model']}"
    return str(s["mem_tab"]).lower().replace(" ", "_") if s["mem_tab"] in TABS else "heatmaps"


def script(s: Settings, seed: int, file_name: str) -> str:
    if s["mem_tab"] == "Search the corpus":
        return _search(s, seed, file_name)
    tab = s["mem_tab"] if s["mem_tab"] in TABS else "Heatmaps"
    body, what, imports = TABS[tab]
    fresh = s["mem_source"] == FRESH
    consts = [Const("TEXT", str(s["mem_text"]), "Text to read")]
    if fresh:
        consts += [Const("CELL", s["mem_cell"], "Cell of the fresh model"),
                   Const("HIDDEN", s.num("mem_hidden", int), "Hidden units")]
    layer = s["mem_layer"]
    consts += [Const("LAYER", _whole(layer, 0), "Layer (0: the first)"),
               Const("DIRECTION", s["mem_dir"], "Direction (a bidirectional model has two)")]
    if tab == "Heatmaps":
        consts += [Const("ONLY_16_MOST_VARYING", str(s["mem_units"]).endswith("most varying"), "Units"),
                   Const("START", s.num("mem_start", int), "First token shown"),
                   Const("SIGNAL", s["mem_signal"], "the first of the Signals drawn")]
    elif tab == "Colour the text":
        unit = s["mem_unit"]
        consts += [Const("COLOUR_BY", s["mem_colour_by"], "Colour by"),
                   Const("UNIT", _whole(unit, None),
                         "Unit (None: the one that varies most)"),
                   Const("GATE", s["mem_colour_gate"], "Gate")]
    elif tab == "Find units":
        rng = s.items_list("mem_range")
        consts += [Const("RANGE", [int(v) for v in rng[:2]] if len(rng) >= 2 else [0, 2], "Token range"),
                   Const("SIGNAL", s["mem_units_sig"], "Signal")]
    consts.append(Const("SEED", seed, "the sidebar's seed (it draws a fresh model's weights)"))
    own = not fresh and not str(s["mem_source"]).startswith("Pretrained on IMDB")
    return render(
        title=f"Inside the memory, {tab}: {what}.",
        about=("A freshly initialised (untrained) model" if fresh else "The pretrained sentiment model")
              + " reads the text; every unit and gate is recorded after each token. "
              + ("The page was reading with a model trained in the Sentiment lab, which a script cannot reach: this "
                 "one reads with the pretrained model." if own else ""),
        page_title=TITLE, file_name=file_name,
        imports=["from rnnlab.labs.calibration import pct", "from rnnlab.labs.memory import read_model", *imports]
        + (["from rnnlab.data.tokenizer import tokenize", "from rnnlab.labs.memory import MAX_TOKENS, "
            "fresh_text_model"] if fresh else ["from rnnlab.labs.sentiment.reading import load_shipped"]),
        consts=consts, body=(FRESH_MODEL if fresh else PRETRAINED) + READ + body)
