"""Inside the memory: what every unit and gate does while a model reads a text."""
import numpy as np
import pandas as pd
import streamlit as st

from app_pages.common import plot, seed, text_models
from rnnlab.figures.memory import (activation_heatmap, colored_text_html, saturation_bars, saturation_timeline,
                                   trajectory_figure)
from rnnlab.labs.memory import (MAX_TOKENS, firing_positions, fresh_classifier, gate_saturation, pca_path, read_text,
                           saturation_over_time, top_units)
from rnnlab.nn.models import TextModel
from rnnlab.data.tokenizer import Vocabulary, tokenize

WINDOW = 250  # tokens drawn at once in the heatmaps
DEFAULT_REVIEW = ("I expected a dull remake, but this film surprised me. The acting is wonderful and the story "
                  "never drags, although the ending felt rushed. Not perfect, yet I would happily watch it again.")

st.title("Inside the memory")
st.markdown("A model reads your text one token at a time. Here you see every unit of its hidden state, "
            "every gate, and the path its memory takes, token by token.")


@st.cache_resource(max_entries=16, show_spinner=False)
def fresh_model(words: tuple[str, ...], cell: str, hidden: int, seed_: int) -> TextModel:
    vocab = Vocabulary().fit([" ".join(words)])
    return TextModel(f"fresh {cell}-{hidden}", fresh_classifier(vocab, cell, hidden, 32, seed_), vocab)


text = st.text_area("Text to read", DEFAULT_REVIEW, height=120, key="mem_text", max_chars=200_000,
                    help=f"Up to {MAX_TOKENS} tokens are read; HTML tags are removed.")

models = text_models()
sources = {name: name for name in models}
sources["Freshly initialised (untrained)"] = "fresh"
c1, c2, c3 = st.columns([2, 1, 1])
source_label = c1.radio("Model", list(sources), key="mem_source",
                        help="An untrained model shows how the machinery works; a trained one shows what it learned.")
source = sources[source_label]
if source == "fresh":
    cell = c2.selectbox("Cell", ["LSTM", "GRU", "RNN"], key="mem_cell", bind="query-params")
    hidden = c3.slider("Hidden units", 4, 64, 16, key="mem_hidden", bind="query-params")
    tm = fresh_model(tuple(tokenize(text)[:MAX_TOKENS]), cell, hidden, seed())
else:
    tm = models[source]
if source == "fresh":
    st.caption("An untrained model shows the machinery; the pretrained model and those you train in the "
               "Sentiment lab show what was learned.")

try:
    reading = read_text(tm.model, tm.vocab, text)
except ValueError as err:
    st.warning(str(err))
    st.stop()
if reading.truncated:
    st.info(f"The text is longer than {MAX_TOKENS} tokens: only the first {MAX_TOKENS} are read.")

tokens = reading.tokens
T = len(tokens)
m1, m2, m3 = st.columns(3)
m1.metric("Tokens read", T)
m2.metric("Unknown to the model", f"{sum(reading.unknown)}", help="Words outside the vocabulary read as <oov>.")
if source == "fresh":
    m3.metric("P(positive)", f"{reading.probability:.0%}", help="Untrained: this number means nothing yet.")
else:
    m3.metric("P(positive)", f"{reading.probability:.0%}")

n_layers = len(reading.traces)
l1, l2, l3 = st.columns(3)
layer = l1.selectbox("Layer", range(n_layers), format_func=lambda k: f"layer {k + 1}", key="mem_layer") \
    if n_layers > 1 else 0
directions = reading.directions(layer)
direction = l2.radio("Direction", directions, horizontal=True, key="mem_dir") if len(directions) > 1 else "forward"
signals = reading.signals(layer, direction)
H = signals["h"].shape[0]
start = 0
if T > WINDOW:
    start = l3.slider("First token shown", 0, T - WINDOW, 0, step=10, key="mem_start",
                      help=f"The heatmaps show {WINDOW} tokens at a time so that each stays readable.")
end = min(start + WINDOW, T)
shown = tokens[start:end]
gate_names = [g for g in signals if g not in ("h", "c")]

tab_heat, tab_text, tab_sat, tab_path, tab_units = st.tabs(
    ["Heatmaps", "Colour the text", "Gate saturation", "Trajectory", "Find units"])

with tab_heat:
    # keyed by the set of signals so that switching cell type starts again from "all of them"
    chosen = st.multiselect("Signals", list(signals), default=list(signals), key="mem_signals_" + "-".join(signals))
    st.caption("Rows are units, columns are tokens. Hidden and cell states: red positive, blue negative. "
               "Gates: dark = shut (0), yellow = open (1). Hover for exact values.")
    for name in chosen:
        plot(activation_heatmap(signals[name][:, start:end], shown, name, start), key=f"mem_heat_{name}")

with tab_text:
    how = st.radio("Colour by", ["one unit of h", "one unit of c", "a gate's mean over units"], horizontal=True,
                   key="mem_colour_by") if "c" in signals else \
        st.radio("Colour by", ["one unit of h", "a gate's mean over units"], horizontal=True, key="mem_colour_by")
    if how.startswith("one unit"):
        sig = "c" if how == "one unit of c" else "h"
        unit = st.slider("Unit", 0, H - 1, 0, key="mem_unit")
        values = signals[sig][unit]
        lim = float(np.abs(values).max(initial=1e-6))
        html = colored_text_html(tokens, values, -lim, lim, diverging=True, label=f"{sig}[{unit}]")
        st.caption(f"Red: {sig}[{unit}] positive, blue: negative, white: near zero. Look for a unit that "
                   "lights up on negations, punctuation or sentiment words.")
    elif gate_names:
        gate = st.selectbox("Gate", gate_names, key="mem_colour_gate")
        values = signals[gate].mean(axis=0)
        html = colored_text_html(tokens, values, 0.0, 1.0, diverging=False, label=f"mean {gate}")
        st.caption(f"Darker = the {gate} gate is more open on average at that token.")
    else:
        html = None
        st.info("A vanilla RNN has no gates: colour by a unit of h instead.")
    if html:
        st.html(html)

with tab_sat:
    if gate_names:
        gates = {g: signals[g] for g in gate_names}
        plot(saturation_bars(gate_saturation(gates)), key="mem_sat_bars")
        series = {g: s[start:end] for g, s in saturation_over_time(gates).items()}
        plot(saturation_timeline(series, shown, start), key="mem_sat_time")
        st.caption("A saturated gate behaves like a switch: fully shut (< 0.1) or fully open (> 0.9). Trained "
                   "LSTMs often saturate their forget gates to hold information over long spans. "
                   "The candidates g and n live in [-1, 1] and count as saturated beyond ±0.8.")
    else:
        st.info("A vanilla RNN has no gates to saturate.")

with tab_path:
    coords, explained = pca_path(signals["h"])
    plot(trajectory_figure(coords, tokens, explained, tm.model.cell), key="mem_pca")
    st.caption("Each point is the hidden state after one token, projected on the two directions along which "
               "it varies most (PCA). Jumps show the words that changed the memory most.")

with tab_units:
    if T < 2:
        st.info("Type at least two tokens to compare a stretch of text with the rest.")
    else:
        lo, hi = st.select_slider("Token range", options=list(range(T)), value=(0, min(2, T - 1)),
                                  format_func=lambda k: f"{k} {tokens[k]}", key="mem_range")
        sig = st.radio("Signal", [s for s in ("h", "c") if s in signals], horizontal=True, key="mem_units_sig")
        rows = []
        for unit, score, mean_in in top_units(signals[sig], lo, hi, k=min(5, H)):
            elsewhere = firing_positions(signals[sig][unit], mean_in, exclude=(lo, hi), limit=8)
            rows.append({"unit": unit, "selectivity": round(score, 3), f"mean {sig} in range": round(mean_in, 3),
                         "also fires on": ", ".join(f"{k} {tokens[k]}" for k in elsewhere) or "nowhere else"})
        st.markdown(f"Units most active on **{' '.join(tokens[lo:hi + 1])}** (tokens {lo}–{hi}):")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption("Selectivity = mean |activation| inside the range minus mean |activation| elsewhere. "
                   "'Also fires on' lists other tokens where the unit is at least as strong.")
