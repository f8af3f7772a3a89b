"""Inside the memory, tab "Search the corpus": select a stretch of text and the units on over it, and find every
other stretch of a whole corpus where the same units are on (LSTMVis's match view), with each match's meta-data.

The sections of the tab, each a function; ``corpus_tab()`` calls them in order. The work is in
``rnnlab.labs.corpus_search`` (the index is built once per model by a job), the figures in
``rnnlab.figures.corpus_search``."""
from __future__ import annotations

import dataclasses
import hashlib
import json

import pandas as pd
import streamlit as st

from app_pages import training
from app_pages.common import escape_md, plot
from rnnlab.figures.corpus_search import matches_figure, units_figure
from rnnlab.labs.corpus_search import (
    CHAR_TRACKS,
    CHARS,
    IMDB_REVIEWS,
    MAX_INDEX_BYTES,
    MAX_INDEXES,
    MAX_SPAN,
    MODELS,
    POS_TRACK,
    Index,
    Query,
    Result,
    SearchModel,
    agreement,
    context_text,
    corpus_index_job,
    default_piece,
    default_stretch,
    halves,
    index_info,
    index_path,
    match_views,
    search,
    strongest,
    units_on,
    where,
)

JOB = "corpus_index_job"      # outside the mem_ prefix: "Reset this page" never forgets a build
INDEX_SECONDS = 900           # a build's time limit (the LSTM-800 reads 111,540 characters on one thread)
DEFAULT_THRESHOLD = 0.3
SHOWN_UNITS = 24              # units preselected at most (the strongest on the stretch)


@st.cache_resource(max_entries=8, show_spinner="Hashing the model's weights…")
def _index_folder(kind: str, folder: str, corpus: str, version: float) -> str:
    """Where this model's index lives: named by its weights' digest (``version``: the file's mtime, so a
    replaced model file gets a new index)."""
    return str(index_path(kind, folder, json.loads(corpus)))


@st.cache_resource(max_entries=4, show_spinner="Opening the index…")
def _open(folder: str, built: str) -> Index:
    return Index(folder)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _search(folder: str, built: str, start: int, end: int, threshold: float, units: tuple[int, ...]) -> Result:
    """Shared by every session: a class asking the same stretch costs one search."""
    return search(_open(folder, built), Query(start, end, threshold, units))


def choose_model() -> SearchModel:
    present = {k: m for k, m in MODELS.items() if m.present}
    key = st.radio("Model and corpus", list(present), format_func=lambda k: present[k].label, horizontal=True,
                   key="mem_cs_model", bind="query-params")
    missing = [m.label.split(" on ")[0] for m in MODELS.values() if not m.present]
    if missing:
        st.caption(f"Not there yet: {', '.join(missing)} (its weights are not in this installation's assets).")
    return present[key]


def folder_of(model: SearchModel) -> str:
    version = (model.folder / "model.pt").stat().st_mtime
    return _index_folder(model.kind, str(model.folder), json.dumps(model.corpus, sort_keys=True), version)


def build_part(model: SearchModel, folder: str) -> None:
    """No index yet: a button builds it (a job), with its progress; the page reloads when it is there."""
    what = f"the first {IMDB_REVIEWS:,} reviews of the IMDB test half" if model.kind == "sentiment" else \
        "the tiny-shakespeare validation text (the last 10%, never trained on)"
    st.info(f"To search, the model first reads {what} once and keeps its hidden state after every token on this "
            "server's disk: the index. Building it reads every token once, on one core, with its progress shown "
            "here; after that every student on this server searches it at once.", icon=":material/database:")
    lim = training.limits()

    def start() -> training.Submission:
        return training.Submission(
            corpus_index_job, {"kind": model.kind, "folder": str(model.folder), "corpus": model.corpus,
                               "name": model.label},
            meta={"lab": "memory", "task": folder, "board": False},
            job_limits=dataclasses.replace(lim, max_seconds=max(lim.max_seconds, INDEX_SECONDS)))

    training.train_live(JOB, training.Button("Build the index", "mem_cs_build"), start,
                        shows=lambda job: job.meta.get("task") == folder)


def about(info: dict) -> None:
    two = halves(info)
    halves_note = f" (units {two[0][0]}–{two[0][-1]} read forwards, {two[1][0]}–{two[1][-1]} backwards)" if two else ""
    cut = f" (cut from {info['cut_from']:,} to stay within {MAX_INDEX_BYTES / 1e6:.0f} MB)" if info.get("cut_from") \
        else ""
    st.caption(f"Index: {info['corpus']}, {info['tokens']:,} tokens{cut} × {info['units']} units of the top layer's "
               f"h{halves_note}, stored as int8 ({info['bytes'] / 1e6:.0f} MB). Built on {info['built']} in "
               f"{info['seconds']:.0f} s on {info['threads']} thread{'s' if info['threads'] > 1 else ''}; kept on "
               f"this server's disk for everyone (the {MAX_INDEXES} most recently used indexes are kept).")


def stretch_controls(index: Index) -> tuple[int, int, float]:
    """The text, the stretch in it and the threshold: (start, end) over the whole corpus, θ. A link's values
    are taken as they come; a new text starts on its default stretch."""
    pieces = index.pieces
    if "mem_cs_piece" in st.session_state and st.session_state["mem_cs_piece"] not in range(len(pieces)):
        st.session_state["mem_cs_piece"] = 0
    c1, c2 = st.columns([3, 1])
    piece = c1.selectbox("Speech" if index.kind == CHARS else "Review", range(len(pieces)),
                         index=default_piece(index), format_func=lambda k: pieces[k][2], key="mem_cs_piece",
                         bind="query-params")
    threshold = c2.slider("Threshold θ", 0.05, 0.95, DEFAULT_THRESHOLD, step=0.05, key="mem_cs_thr",
                          bind="query-params", help="A unit is on at a step when its h is at least θ.")
    a, b, _ = pieces[piece]
    tokens = index.tokens[a:b]
    shown = [t if index.kind != CHARS else {" ": "␣", "\n": "↵"}.get(t, t) for t in tokens]
    default = default_stretch(index, piece)
    where_now = (index.folder.name, piece)
    value = st.session_state.get("mem_cs_range")
    valid = isinstance(value, (tuple, list)) and len(value) == 2 and 0 <= value[0] <= value[1] < len(tokens)
    moved = st.session_state.get("_mem_cs_range_of", where_now) != where_now
    if "mem_cs_range" in st.session_state and (moved or not valid):
        st.session_state["mem_cs_range"] = default
    st.session_state["_mem_cs_range_of"] = where_now
    lo, hi = st.select_slider("Stretch", options=list(range(len(tokens))), value=default,
                              format_func=lambda k: f"{k} {shown[k]}", key="mem_cs_range", bind="query-params",
                              help=f"The tokens whose pattern is searched for (at most {MAX_SPAN}).")
    if hi - lo >= MAX_SPAN:
        st.warning(f"Select at most {MAX_SPAN} tokens: the first {MAX_SPAN} of this stretch are searched.")
        hi = lo + MAX_SPAN - 1
    return a + lo, a + hi + 1, float(threshold)


def units_control(index: Index, start: int, end: int, threshold: float) -> tuple[int, ...]:
    """The units on at every step of the stretch, the strongest preselected; the student may untick some."""
    on = units_on(index.acts, start, end, threshold)
    ranked = strongest(index, start, end, on)
    if not len(ranked):
        return ()
    signature = hashlib.blake2b(repr((index.folder.name, start, end, threshold)).encode(), digest_size=6).hexdigest()
    chosen = st.multiselect(
        f"Units on at every step of the stretch ({len(on)}; the strongest first)", [int(u) for u in ranked],
        default=[int(u) for u in ranked[:SHOWN_UNITS]], key=f"mem_cs_units_{signature}",
        help="The pattern searched for. Untick a unit to leave it out; the units below θ all along the stretch "
             "must stay off in a match.")
    return tuple(sorted(chosen))


def track_control(index: Index) -> str | None:
    tracks = index.tracks()
    if index.kind == CHARS:
        return st.radio("Meta-data track", list(CHAR_TRACKS), horizontal=True, key="mem_cs_track",
                        bind="query-params")
    if POS_TRACK not in tracks:
        st.caption("No part-of-speech track: the shipped tags do not line up with these tokens.")
        return None
    return POS_TRACK


def summary_part(result: Result) -> None:
    q = result.query
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Units searched for", f"{len(result.selected)} of {len(result.on)} on",
              help=f"On at every step of the stretch at θ = {q.threshold:g}.")
    m2.metric("Units that must stay off", f"{len(result.off)}", help="Below θ at every step of the stretch.")
    m3.metric("Windows with every searched unit on", f"{result.full:,}",
              help=f"Of {result.windows:,} windows of {q.length} tokens; {result.exact:,} of them have no unit on "
                   "that must stay off.")
    m4.metric("Search time", f"{result.seconds * 1000:.0f} ms")


def matches_part(index: Index, result: Result, track: str | None) -> None:
    rows = match_views(index, result, track)
    plot(matches_figure(rows, index.kind, track, len(result.selected)), key="mem_cs_matches")
    n = len(result.selected)
    agree = agreement(rows)
    said = ""
    if agree is not None:
        said = (f" **{agree[0]} of {agree[1]}** matches agree with the selection on the track "
                f"({escape_md(rows[0].summary)}).")
    st.caption("Each row is a stretch of the corpus, aligned on its first token and boxed: the selection first, then "
               "the best matches. Colour: the searched units' mean h at each token (red on, blue negative). Under "
               f"each row its meta-data. Score = (searched units on throughout − units on that must stay off) / {n}: "
               f"1 is the selection's pattern exactly.{said} Does the pattern follow the meta-data? Then these units "
               "track it.")
    dash = "–"    # the selection's own row has no score
    table = pd.DataFrame([{"match": r.label, "where": where(index, r.start, r.end), "text": context_text(r, index.kind),
                           "score": dash if r.score is None else f"{r.score:+.2f}",
                           "searched units on": dash if r.hits is None else f"{r.hits}/{n}",
                           "extra units on": dash if r.extras is None else str(r.extras),
                           "mean h": dash if r.mean is None else f"{r.mean:.3f}", "meta-data": r.summary}
                          for r in rows])
    st.dataframe(table, hide_index=True, width="stretch")
    pick = st.selectbox("One stretch unit by unit", range(len(rows)), format_func=lambda k: rows[k].label,
                        key="mem_cs_detail")
    plot(units_figure(rows[pick], [int(u) for u in result.selected], index.kind), key="mem_cs_units_fig")
    st.caption("Each searched unit's h over the stretch and its context: a unit that is on all along the box is "
               "part of the pattern there.")


@st.fragment
def corpus_tab() -> None:
    """The tab: a model, its index (built once), a stretch and threshold, the units, the ranked matches. A
    fragment: moving the stretch or θ reruns this tab only, not the reading above it."""
    st.caption("LSTMVis's question: select a stretch of text; the units on (h ≥ θ) at every step of it are its "
               "pattern. Where else in a whole corpus are the same units on, and the others off? If the matches "
               "share something (a part of speech, a speaker's name), those units have learned to track it.")
    model = choose_model()
    folder = folder_of(model)
    info = index_info(folder)
    if info is None:
        build_part(model, folder)
        return
    about(info)
    index = _open(folder, info["built"])
    start, end, threshold = stretch_controls(index)
    units = units_control(index, start, end, threshold)
    track = track_control(index)
    if not units:
        st.info(f"No unit stays at or above θ = {threshold:g} at every step of this stretch: lower the threshold "
                "or select fewer tokens.")
        return
    result = _search(folder, info["built"], start, end, threshold, units)
    summary_part(result)
    matches_part(index, result, track)
