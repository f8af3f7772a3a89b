"""Connectivity views the pages call: on Text generation, which earlier characters drove a prediction, for the
shipped LSTM, GRU and tanh RNN side by side, the model's top-5 guesses under the passage, and how far back each
cell looks on average; on the Sentiment lab, the gradient per word beside occlusion. Widgets, caches and
captions only: the numbers come from rnnlab.labs.connectivity."""
from __future__ import annotations

import streamlit as st

from app_pages import training
from app_pages.common import escape_md, plot, seed
from rnnlab.data.chars import shakespeare
from rnnlab.figures.connectivity import (
    connectivity_bars,
    influence_curves,
    top_guesses_table,
    word_gradient_bars,
)
from rnnlab.labs.connectivity import (
    AVERAGE_BACK,
    AVERAGE_POSITIONS,
    DEFAULT_BACK,
    DEFAULT_POSITION,
    IG_STEPS,
    MAX_PASSAGE,
    METHODS,
    NEAR,
    AverageConnectivity,
    average_job,
    char_connectivity,
    compare_explanations,
    known_text,
    passage_states,
    shipped_cell,
    shipped_folders,
    shipped_stamps,
    top_guesses,
    word_gradients,
)
from rnnlab.labs.memory import model_digest
from rnnlab.labs.textgen import passages

CELL_NAMES = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "tanh RNN"}
HELD_OUT, SAMPLE = "Held-out passage", "The last generated sample"
SHOWN = (20, 40, 60, 100, 200)          # characters back drawn
AVG_JOB = "conn_avg_job"                # not "tg_…": the page's reset button must not forget a running job
MAX_CURVES = 32                         # averaged curves kept for everyone (models × passages)
TABLE_BEFORE, TABLE_AFTER = 30, 10      # positions of the top-5 table around the chosen one


# --- models and caches ------------------------------------------------------------------------------------------
@st.cache_resource(max_entries=6, show_spinner="Loading a character model…")
def _cell_model(cell: str, folder: str, stamp: float):
    return shipped_cell(cell, {cell: folder})


def cell_model(cell: str) -> tuple | None:
    """One shipped character model, loaded once per server (the Generate tab's LSTM is this same object); None
    while its folder is not there (looked for on every run, so a model copied in while the server runs appears
    at once; ``stamp``: a model replaced is reloaded)."""
    folder, stamp = shipped_stamps()[cell]
    return _cell_model(cell, str(folder), stamp) if stamp else None


def cell_models() -> dict[str, tuple | None]:
    """The three shipped character models (None for those not there yet)."""
    return {cell: cell_model(cell) for cell in shipped_stamps()}


@st.cache_data(max_entries=24, ttl=3600, show_spinner=False)
def _states(digest: str, passage: str, _model, _vocab) -> dict:
    """Every layer's state after each character: read once per model and passage, so that a move of the
    position only backpropagates through the window drawn."""
    return passage_states(_model, _vocab.encode(passage))


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def _bars(digest: str, passage: str, t: int, back: int, method: str, _model, _vocab):
    states = _states(digest, passage, _model, _vocab)
    return char_connectivity(_model, _vocab, _vocab.encode(passage), t, back, method, states=states)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def _top(digest: str, passage: str, _model, _vocab):
    return top_guesses(_model, _vocab, _vocab.encode(passage))


def _loss_note(cell: str, meta: dict) -> str:
    loss = meta.get("val_loss")
    params = meta.get("params")
    size = f"{meta['recipe']['num_layers']}×{meta['recipe']['hidden_size']}" if "recipe" in meta else ""
    parts = [f"{CELL_NAMES[cell]} {size}".strip()]
    if params:
        parts.append(f"{params:,} weights")
    if loss is not None:
        parts.append(f"validation loss {loss:.3f} nats/char")
    return ", ".join(parts)


# --- the Text generation view -----------------------------------------------------------------------------------
def _passage() -> str | None:
    """The passage chosen: a piece of the held-out text, or the Generate tab's last sample."""
    c1, c2 = st.columns([2, 1])
    source = c1.radio("Passage", [HELD_OUT, SAMPLE], key="tg_conn_source", horizontal=True, bind="query-params",
                      help="The held-out text is the last 10% of tiny-shakespeare, which no model trained on.")
    if source == SAMPLE:
        done = st.session_state.get("tg_generated")
        if not done:
            st.info("No sample yet: write one in **Generate**, then come back.")
            return None
        return done["prompt"] + "".join(s["char"] for s in done["steps"])
    pieces = passages(shakespeare().val_text, length=MAX_PASSAGE)
    which = c2.select_slider("Which piece", list(range(1, len(pieces) + 1)), 1, key="tg_conn_piece",
                             bind="query-params")
    return pieces[int(which) - 1][1]


def textgen_view() -> None:
    """The Connectivity tab of Text generation."""
    st.markdown("**Which earlier characters drove this prediction?** Pick a position in the passage: each bar is "
                "the size of the gradient of log p(the next character) with respect to one earlier character's "
                "vector — how much a small change of that character would move the prediction (Madsen 2019).")
    models = cell_models()
    present = {c: m for c, m in models.items() if m is not None}
    missing = [c for c, m in models.items() if m is None]
    if missing:
        st.info("Not there yet: " + ", ".join(f"the {CELL_NAMES[c]} (`assets/textgen/{shipped_folders()[c].name}/`)"
                                              for c in missing)
                + ". They are trained with the LSTM's recipe; until they are shipped, the view shows the models "
                  "that are.")
    if not present:
        return
    passage = _passage()
    if passage is None:
        return
    passage = known_text(passage, [vocab for _, vocab, _ in present.values()])
    if len(passage) < 3:
        st.info("Too few characters these models know in this passage: write a longer sample.")
        return
    if st.session_state.get("tg_conn_t", 0) > len(passage) - 2:      # a shorter passage than the last one
        st.session_state["tg_conn_t"] = len(passage) - 2
    c1, c2, c3 = st.columns([3, 2, 2])
    t = c1.slider("Position t (the character after it is predicted)", 1, len(passage) - 2,
                  min(DEFAULT_POSITION, len(passage) - 2), key="tg_conn_t", bind="query-params")
    method = c2.radio("Measure", METHODS, key="tg_conn_method", bind="query-params",
                      help=f"Integrated gradients: the gradient averaged over {IG_STEPS} points on the way from "
                           "zero vectors to the real characters, times the characters' vectors; the attributions "
                           "add up to the change of log p.")
    shown = c3.select_slider("Characters back", SHOWN, DEFAULT_BACK, key="tg_conn_shown", bind="query-params")
    t = min(int(t), len(passage) - 2)
    panels = []
    with st.spinner("Reading the passage and backpropagating…"):
        for cell, (model, vocab, meta) in present.items():
            conn = _bars(model_digest(model), passage, t, int(shown), method, model, vocab)
            panels.append({"label": _loss_note(cell, meta), "cell": cell, "conn": conn})
    plot(connectivity_bars(panels), key="tg_conn_bars")
    st.caption(_bars_caption(panels, method))
    _top_part(present, passage, t)
    _average_part(present, passage)


def _bars_caption(panels: list[dict], method: str) -> str:
    first = panels[0]["conn"]
    near = min(NEAR, first.back + 1)
    parts = [f"★ the character predicted, {escape_md(repr(first.target))}. "]
    for p in panels:
        c = p["conn"]
        parts.append(f"{CELL_NAMES[p['cell']]}: p = {c.p_target:.1%}, {c.share_within(near - 1):.0%} of the bars' "
                     f"total on the last {near} characters. ")
    if method == "gradient":
        parts.append("Tall bars far back mean the prediction still depends on that character: the memory reaches "
                     "it. A gradient only says how sensitive the prediction is, not how much a character added.")
    else:
        c, name = first, CELL_NAMES[panels[0]["cell"]]
        parts.append(f"Red: the character made the prediction likelier, blue: less likely. The {name}'s "
                     f"signed attributions add up to {c.signed.sum():+.3f} nats against a change of log p of "
                     f"{c.gap:+.3f} from zero vectors to the real characters (completeness, up to the "
                     f"{IG_STEPS}-point path's error).")
    return "".join(parts)


def _top_part(present: dict, passage: str, t: int) -> None:
    cell = next(iter(present))
    model, vocab, _ = present[cell]
    top = _top(model_digest(model), passage, model, vocab)
    start = max(0, t - TABLE_BEFORE)
    stop = min(len(top.chars), t + TABLE_AFTER + 1)
    st.markdown(f"**What the {CELL_NAMES[cell]} expects next** (Karpathy's view): under each character, its five "
                "likeliest guesses for the one that follows.")
    plot(top_guesses_table(top, start, stop, mark=t), key="tg_conn_top")
    st.caption(f"Bluer: likelier; bold: the character that came; the framed column is position t. Over this "
               f"passage the first guess is right at {top.hit_rate(1):.0%} of the positions and the right "
               f"character is among the five at {top.hit_rate(5):.0%}; mean surprise {top.surprise:.2f} nats "
               "per character.")


@st.cache_resource(show_spinner=False)
def _curve_store() -> dict:
    """Averaged curves measured by any session, by models and passage: the second student sees them at once."""
    return {}


def _average_part(present: dict, passage: str) -> None:
    st.markdown("**How far back each cell looks.** The same bars at "
                f"{AVERAGE_POSITIONS} positions of this passage, each with its {AVERAGE_BACK} characters back, "
                "scaled to sum to 1, then averaged.")
    if len(passage) < AVERAGE_BACK + 2:
        st.caption(f"This passage is too short: the average needs more than {AVERAGE_BACK} characters.")
        return
    key = (tuple((cell, model_digest(m)) for cell, (m, _, _) in present.items()), passage, AVERAGE_BACK)
    store = _curve_store()
    if key not in store:
        folders = {cell: str(shipped_folders()[cell]) for cell in present}

        def start() -> training.Submission:
            return training.Submission(average_job, {"folders": folders, "passage": passage, "back": AVERAGE_BACK},
                                       seed=seed(), meta={"lab": "textgen", "task": "connectivity", "board": False,
                                                          "passage": passage, "cells": list(present)})

        def keep(job) -> None:
            if len(store) >= MAX_CURVES:
                store.pop(next(iter(store)))
            store[key] = job.result["curves"]

        training.train_live(AVG_JOB, training.Button("Measure how far back each cell looks", "tg_conn_measure"),
                            start, when_done=keep, shows=lambda job: job.meta.get("passage") == passage,
                            idle="Press Measure: a few seconds of backward passes per model, run on the training "
                                 "worker; then kept for everyone who opens this passage.")
        if key not in store:
            return
    curves = [{"label": CELL_NAMES[cell], "cell": cell, "avg": AverageConnectivity.from_dict(c)}
              for cell, c in store[key].items()]
    plot(influence_curves(curves), key="tg_conn_avg_plot")
    st.caption("Log scale: a straight fall is an exponential forgetting. "
               + " ".join(f"{c['label']}: 90% of the influence within {c['avg'].reach(0.9)} characters, "
                          f"{c['avg'].beyond(20):.1%} from further than 20 back." for c in curves))


# --- the Sentiment lab's Key words tab --------------------------------------------------------------------------
@st.cache_data(max_entries=128, ttl=3600, show_spinner="Backpropagating to every word…")
def _word_gradients(model_key: str, text: str, _tm):
    return word_gradients(_tm, text)


def sentiment_view(model_key: str, tm, text: str, imp) -> None:
    """The gradient per word beside the occlusion explanation (``imp``) already drawn, and how they differ."""
    wg = _word_gradients(model_key, text, tm)
    agreement = compare_explanations(wg.tokens, wg.norms, imp.logodds, imp.span)
    st.markdown("**The gradient's view.** ‖∂ logit / ∂ word vector‖: how much a small change of each word's "
                "vector would move the log-odds, from one backward pass (no word removed).")
    plot(word_gradient_bars(wg.tokens, wg.norms, imp.logodds), key="sent_grad")
    st.caption(escape_md(agreement.sentence()))
