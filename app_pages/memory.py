"""Inside the memory: what every unit and gate does while a model reads a text."""
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import guard
from app_pages.common import (
    escape_md,
    keep_text_in_url,
    lessons,
    next_page,
    plot,
    reset_button,
    seed,
    text_models,
    url_text,
)
from app_pages.corpus import corpus_tab
from rnnlab.data.tokenizer import tokenize
from rnnlab.figures.memory import (
    activation_heatmap,
    colored_text_html,
    prefix_figure,
    saturation_bars,
    saturation_timeline,
    trajectory_figure,
)
from rnnlab.labs.calibration import pct, probability_note
from rnnlab.labs.memory import (
    DEFAULT_REVIEW,
    FRESH,
    FRESH_CELL,
    FRESH_HIDDEN,
    MAX_TOKENS,
    SATURATED,
    SIGMOID_GATES,
    Reading,
    firing_positions,
    fresh_text_model,
    gate_saturation,
    mean_over_units,
    model_digest,
    pca_path,
    read_model,
    saturation_over_time,
    top_units,
    varying_units,
)
from rnnlab.labs.sentiment import calibrated, temperature
from rnnlab.nn.models import TextModel

PAGE = "app_pages/memory.py"
WINDOW = 250         # tokens drawn at once in the heatmaps
FEW_UNITS = 16       # units shown first: those that vary most
MAX_CHARS = 20_000   # what the box takes: comfortably more than MAX_TOKENS words
URL_CHARS = 1_000    # what a link carries

def intro() -> None:
    st.title("Inside the memory")


def text_box() -> str:
    """The text to read (a link carries its first URL_CHARS characters)."""
    url_text("mem_text", DEFAULT_REVIEW, URL_CHARS)
    text = st.text_area("Text to read", height=110, key="mem_text", max_chars=MAX_CHARS,
                        help=f"Up to {MAX_TOKENS:,} tokens are read; HTML tags are removed.")
    keep_text_in_url("mem_text", DEFAULT_REVIEW, URL_CHARS)
    return text[:MAX_CHARS]   # the browser enforces max_chars; the server does too


@st.cache_resource(max_entries=16, ttl=3600, show_spinner=False)
def fresh_model(words: tuple[str, ...], cell: str, hidden: int, seed_: int) -> TextModel:
    return fresh_text_model(words, cell, hidden, seed_)


@st.cache_resource(max_entries=24, ttl=1800, show_spinner="Reading the text…")
def reading_of(digest: str, text: str, _tm: TextModel) -> Reading:
    """Shared by every session reading the same text with the same model (the key is the model's weights'
    digest, not the object): a whole class pasting the example review costs one read."""
    return read_model(_tm, text)


def choose_model(text: str) -> tuple[str, TextModel]:
    """The model that reads: a trained one, or a fresh one of the chosen cell and size. (its source, the model)
    Drawn beside the text box: its controls stack."""
    models = text_models()
    sources = list(models) + [FRESH]
    source = st.radio("Model", sources, key="mem_source", bind="query-params",
                      help="An untrained model shows how the machinery works; a trained one shows what it learned.")
    if source == FRESH:
        cells = ["LSTM", "GRU", "RNN"]
        c2, c3 = st.columns(2)
        cell = c2.selectbox("Cell", cells, index=cells.index(FRESH_CELL), key="mem_cell", bind="query-params")
        hidden = c3.slider("Hidden units", 4, 64, FRESH_HIDDEN, key="mem_hidden", bind="query-params")
        tm = fresh_model(tuple(tokenize(text)[:MAX_TOKENS]), cell, hidden, seed())
        st.caption("An untrained model shows the machinery; the pretrained model and those you train in the "
                   "Sentiment lab show what was learned.")
    else:
        tm = models[source]
    return source, tm


def read(tm: TextModel, text: str) -> Reading:
    """The model's reading of the text; a text it cannot read ends the page here, with the reason."""
    try:
        reading = reading_of(model_digest(calibrated(tm)), text, tm)
    except ValueError as err:
        st.warning(str(err))
        reset_button("mem_")
        st.stop()
    if reading.truncated:
        st.info(f"The text is longer than {MAX_TOKENS:,} tokens: only the first {MAX_TOKENS:,} are read.")
    return reading


def summary(reading: Reading, source: str) -> None:
    """What was read: tokens, unknown words, P(positive), in a row of three."""
    T = len(reading.tokens)
    m1, m2, m3 = st.columns(3)
    m1.metric("Tokens read", f"{T:,}")
    m2.metric("Unknown words", f"{reading.n_unknown}", help="Words outside the model's vocabulary, read as <oov>.")
    m3.metric("P(positive)", pct(reading.probability),
              help="Untrained: this number means nothing yet." if source == FRESH else None)


def prefix_section(reading: Reading, tm: TextModel) -> None:
    """P(positive) after each prefix of the text (under the views of the memory: the page's result comes first)."""
    tokens = reading.tokens
    T = len(tokens)
    note = probability_note(temperature(tm))
    if tm.maxlen and len(tokens) > tm.maxlen:
        note += (f" The Sentiment lab reads only the last {tm.maxlen:,} of these {T:,} tokens, as in training: its "
                 "P(positive) for this text differs.")
    plot(prefix_figure(reading.prefix_positions, reading.prefix_probabilities, tokens, reading.every_prefix),
         key="mem_prefix")
    st.caption(note)
    if not reading.every_prefix:
        gap = reading.prefix_spacing
        st.caption(f"A bidirectional model must read each prefix again (its backward half starts at the prefix's "
                   f"last token), so P(positive) is computed after {len(reading.prefix_positions)} evenly spaced "
                   f"tokens (one every {gap} or so, and the last), not after all {T:,}: the markers show where. A "
                   f"forward-only model gives every token in one pass.")


@dataclass
class View:
    """What the controls above the tabs chose: one layer and direction's signals, the units to show (and all
    of them ranked, the most varying first), the gates, and the window of tokens the heatmaps draw."""
    signals: dict
    units: np.ndarray
    ranked: np.ndarray
    gate_names: list[str]
    start: int
    end: int
    shown: list[str]


def controls(reading: Reading) -> View:
    """Layer, direction, units, and the first token shown (each only where there is a choice)."""
    tokens = reading.tokens
    T = len(tokens)
    n_layers = len(reading.traces)
    col = iter(st.columns(3 if n_layers > 1 else 2))
    layer = next(col).selectbox("Layer", range(n_layers), format_func=lambda k: f"layer {k + 1}", key="mem_layer",
                                bind="query-params") if n_layers > 1 else 0
    directions = reading.directions(layer)
    direction = next(col).radio("Direction", directions, horizontal=True, key="mem_dir", bind="query-params") \
        if len(directions) > 1 else "forward"
    signals = reading.signals(layer, direction)
    H = signals["h"].shape[0]
    ranked = varying_units(signals["h"], H)         # every unit, the most varying first
    which = next(col).radio("Units", [f"{FEW_UNITS} most varying", f"all {H}"], horizontal=True, key="mem_units",
                            bind="query-params",
                            help="Ranked by how much their h changes over the text (standard deviation).") \
        if H > FEW_UNITS else f"all {H}"
    units = ranked[:FEW_UNITS] if which.endswith("most varying") else ranked
    gate_names = [g for g in signals if g not in ("h", "c")]

    start = 0
    if T > WINDOW:
        start = st.slider("First token shown", 0, T - WINDOW, 0, step=10, key="mem_start", bind="query-params",
                          help=f"The heatmaps and the saturation plot show {WINDOW} tokens at a time so that each "
                               "stays readable.")
    end = min(start + WINDOW, T)
    return View(signals, units, ranked, gate_names, start, end, tokens[start:end])


# The tabs with controls of their own redraw as fragments: moving the unit slider, say, reruns only that tab.
@st.fragment
def heat_view(signals: dict, units, start: int, end: int, shown: list[str], gate_names: list[str]) -> None:
    default = ["h", "c"] if "c" in signals else ["h", gate_names[1] if len(gate_names) > 1 else "h"]
    chosen = st.multiselect("Signals", list(signals), default=list(dict.fromkeys(default)),
                            key="mem_signals_" + "-".join(signals), bind="query-params",
                            help="Add the gates to see when each opens and shuts.")
    for name in chosen:
        plot(activation_heatmap(signals[name][units, start:end], shown, name, start, units=units),
             key=f"mem_heat_{name}")
    H = len(next(iter(signals.values())))
    which = f"the {len(units)} that vary most, most first" if len(units) < H else "all of them, the most varying first"
    st.caption(f"Rows are units ({which}), columns are tokens. Hidden state, cell state and candidates: red "
               "positive, blue negative. Gates: dark = shut (0), yellow = open (1). Hover for exact values.")


@st.fragment
def colour_view(signals: dict, tokens: list[str], ranked, gate_names: list[str]) -> None:
    H = len(ranked)
    options = ["one unit of h"] + (["one unit of c"] if "c" in signals else []) + \
        (["a gate's mean over units"] if gate_names else [])
    how = st.radio("Colour by", options, horizontal=True, key="mem_colour_by", bind="query-params")
    if how.startswith("one unit"):
        sig = "c" if how == "one unit of c" else "h"
        asked = st.session_state["mem_unit"] if "mem_unit" in st.session_state else \
            guard.link_number("mem_unit", -1, 0, H - 1, what="unit")
        asked = asked if isinstance(asked, int) else -1
        # start on the unit that varies most; a unit this model does not have falls back to it too
        st.session_state["mem_unit"] = asked if 0 <= asked < H else int(ranked[0])
        unit = st.slider("Unit", 0, H - 1, key="mem_unit", bind="query-params",
                         help=f"Units ranked by how much they vary here: {', '.join(map(str, ranked[:8]))}, …")
        values = signals[sig][unit]
        html = colored_text_html(tokens, values, diverging=True, label=f"{sig}[{unit}]")   # ± the largest |value|
        st.caption(f"Red: {sig}[{unit}] positive, blue: negative, white: near zero. Look for a unit that "
                   "lights up on negations, punctuation or sentiment words.")
    else:
        gate = st.selectbox("Gate", gate_names, key="mem_colour_gate", bind="query-params")
        values = mean_over_units(signals[gate])
        if gate in SIGMOID_GATES:
            html = colored_text_html(tokens, values, 0.0, 1.0, diverging=False, label=f"mean {gate}")
            st.caption(f"Darker = the {gate} gate is more open on average at that token.")
        else:   # a tanh candidate lives in [-1, 1]: a 0-to-1 scale would leave its negative values white
            html = colored_text_html(tokens, values, -1.0, 1.0, diverging=True, label=f"mean {gate}")
            st.caption(f"Red: the candidate {gate} is positive on average at that token, blue: negative.")
    if not gate_names:
        st.caption("A vanilla RNN has no gates: colour by a unit of h.")
    st.html(html)


@st.fragment
def units_view(signals: dict, tokens: list[str]) -> None:
    T, H = len(tokens), len(signals["h"])
    if T < 2:
        st.info("Type at least two tokens to compare a stretch of text with the rest.")
        return
    lo, hi = st.select_slider("Token range", options=list(range(T)), value=(0, min(2, T - 1)),
                              format_func=lambda k: f"{k} {tokens[k]}", key="mem_range",
                              bind="query-params")
    sig = st.radio("Signal", [s for s in ("h", "c") if s in signals], horizontal=True, key="mem_units_sig",
                   bind="query-params")
    rows = []
    for unit, score, mean_in in top_units(signals[sig], lo, hi, k=min(5, H)):
        elsewhere = firing_positions(signals[sig][unit], mean_in, exclude=(lo, hi), limit=8)
        rows.append({"unit": unit, "selectivity": round(score, 3), f"mean {sig} in range": round(mean_in, 3),
                     "also fires on": ", ".join(f"{k} {tokens[k]}" for k in elsewhere) or "nowhere else"})
    st.markdown(f"Units most active on **{escape_md(' '.join(tokens[lo:hi + 1]))}** (tokens {lo}–{hi}):")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption("Selectivity = mean |activation| inside the range minus mean |activation| elsewhere. "
               f"'Also fires on': other tokens where its |{sig}| reaches the size of its mean {sig} in the range.")


def saturation_view(view: View) -> None:
    """How often each gate is shut or open, overall and over the shown tokens."""
    if not view.gate_names:
        st.info("A vanilla RNN has no gates to saturate.")
        return
    gates = {g: view.signals[g] for g in view.gate_names}
    plot(saturation_bars(gate_saturation(gates)), key="mem_sat_bars")
    series = {g: s[view.start:view.end] for g, s in saturation_over_time(gates).items()}
    plot(saturation_timeline(series, view.shown, view.start), key="mem_sat_time")
    low, high = SATURATED
    st.caption(f"A saturated gate acts as a switch: nearly shut (< {low:g}) or nearly open (> {high:g}). Compare a "
               "fresh model: training makes more gates switch. The candidates g and n live in [−1, 1] and count as "
               f"saturated beyond ±{2 * high - 1:g}.")


def trajectory_view(h, tokens: list[str], cell: str) -> None:
    """The hidden state's path through the text, on its two main directions."""
    coords, explained = pca_path(h)
    plot(trajectory_figure(coords, tokens, explained, cell), key="mem_pca")
    st.caption("Each point is the hidden state after one token (all units), projected on the two directions "
               "along which it varies most (PCA). Words are written where they do not overlap, the biggest "
               "jumps first; hover any point for its token.")


def reading_tabs(reading: Reading, view: View, cell: str) -> None:
    """The five views of the reading, then the search over a whole corpus, each drawn only while its tab is open."""
    tab_heat, tab_text, tab_sat, tab_path, tab_units, tab_corpus = st.tabs(
        ["Heatmaps", "Colour the text", "Gate saturation", "Trajectory", "Find units", "Search the corpus"],
        key="mem_tab", bind="query-params")
    if tab_heat.open:
        with tab_heat:
            heat_view(view.signals, view.units, view.start, view.end, view.shown, view.gate_names)
    if tab_text.open:
        with tab_text:
            colour_view(view.signals, reading.tokens, view.ranked, view.gate_names)
    if tab_sat.open:
        with tab_sat:
            saturation_view(view)
    if tab_path.open:
        with tab_path:
            trajectory_view(view.signals["h"], reading.tokens, cell)
    if tab_units.open:
        with tab_units:
            units_view(view.signals, reading.tokens)
    if tab_corpus.open:
        with tab_corpus:
            corpus_tab()


# The text and the model side by side, then what was read and the view's controls in one row, then the views:
# the box and the first heatmap share a projector's first screen; the lessons and P(positive) come under them.
intro()
box, chooser = st.columns([3, 2])
with box:
    text = text_box()
with chooser:
    source, tm = choose_model(text)
reading = read(tm, text)
numbers, knobs = st.columns([3, 2])
with numbers:
    summary(reading, source)
with knobs:
    view = controls(reading)
reading_tabs(reading, view, tm.model.cell)
lessons("memory")
prefix_section(reading, tm)
reset_button("mem_")
next_page(PAGE)
