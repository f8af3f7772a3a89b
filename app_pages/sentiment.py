"""Sentiment lab: type a review and see the prediction at once; then why (word by word, which words
mattered, what an edit changes, how far to trust the probability); train a sentiment model live."""
import hashlib
import math
import time
from dataclasses import replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app_pages import connectivity, training
from app_pages.common import (
    bf16_note,
    escape_md,
    intro,
    keep_text_in_url,
    lessons,
    next_page,
    oversize,
    plot,
    reset_button,
    seed,
    text_models,
    upload_digest,
    url_text,
)
from rnnlab.data.download import imdb_download
from rnnlab.data.text import MAX_UPLOAD_MB, DataError, TextDataset, compact_imdb_info, imdb_sources, read_csv
from rnnlab.figures.memory import colored_text_html
from rnnlab.figures.sentiment import (
    confusion_figure,
    importance_bars,
    probability_trajectory,
    reliability_figure,
    training_curves,
)
from rnnlab.labs import explain
from rnnlab.labs.calibration import ece_change_points, pct, points, probability_note, reliability_from_report
from rnnlab.labs.sentiment import (
    EVAL_SAMPLE,
    MAX_REVIEW_CHARS,
    PRESETS,
    Importance,
    Recipe,
    compare,
    count_params,
    fingerprint,
    float32_mb,
    importance,
    ms_per_step,
    planned_steps,
    read,
    recipe_to_dict,
    sentiment_job,
    temperature,
    text_model_from_result,
    trajectory,
    upload_too_small,
    weights_mb,
)
from rnnlab.labs.sentiment.examples import DEFAULT_EXAMPLE, EXAMPLES
from rnnlab.nn.models import TextModel, text_model_zip
from rnnlab.runtime.settings import load_settings

PRESET_LABELS = {"fast": "Fast live recipe (LSTM 64, pooled)",
                 "fast_3min": "3-minute recipe for the full IMDB (LSTM 128, up to "
                              f"{PRESETS['fast_3min'].maxlen:,} tokens, warm restarts)",
                 "guide_keras": "Guide §8: Keras BiLSTM 64→32", "guide_pytorch": "Guide §6: PyTorch BiLSTM 256×2",
                 "shipped": "The pretrained model's recipe (BiLSTM 256, made on a GPU)"}
TABS = ["Word by word", "Key words", "What if…", "Calibration"]
OWN_EDIT = "✏️ My own edit (type below)"
URL_TEXT_CHARS = 1_000      # a review longer than this stays in the session but not in the link
MAX_SESSION_MODELS = 3      # models trained in this session kept for use (each holds its weights in memory)
MAX_UPLOAD_ROWS = 50_000


def header() -> tuple[tuple[str, TextModel] | None, DeltaGenerator]:
    """The title, one line of introduction, then one row for the model, the examples and the reset button (so
    that on a projector the review box and its prediction are on the first screen; the lessons wait under the
    result): (the model chosen, as :func:`model_in_use` gives it; where the examples go)."""
    st.title("Sentiment lab")
    intro("Type a movie review: a recurrent network reads it word by word and says whether it is positive.")
    c1, c2, c3 = st.columns([2, 1.3, 0.8], vertical_alignment="bottom")
    with c3:
        reset_button("sent")      # first: a pending reset clears the settings before any widget is drawn
    with c1:
        return model_in_use(), c2


def _example_changed():
    st.session_state["sent_text"] = EXAMPLES[st.session_state["sent_example"]]


# Heavy views, cached across sessions by the model's content and the text; bounded in number and age.
@st.cache_data(max_entries=128, ttl=3600, show_spinner="Reading the review word by word…")
def cached_trajectory(model_key: str, text: str, _tm: TextModel) -> dict:
    tr = trajectory(_tm, text)
    return {"tokens": tr.tokens, "positions": tr.positions, "probs": tr.probs, "every": tr.every}


@st.cache_data(max_entries=128, ttl=3600, show_spinner="Removing each word in turn…")
def cached_importance(model_key: str, text: str, _tm: TextModel) -> Importance:
    return importance(_tm, text)


@st.cache_data(max_entries=512, ttl=3600, show_spinner=False)
def cached_read(model_key: str, text: str, _tm: TextModel) -> dict:
    r = read(_tm, text)
    return {"logit": r.logit, "prob": r.prob, "words": r.words, "known": r.known, "dropped": r.dropped,
            "unknown": r.unknown_words, "tokens": len(r.tokens), "mostly_unknown": r.mostly_unknown}


# --- data: an uploaded CSV, the shared IMDB download --------------------------------------------------
@st.cache_data(max_entries=4, ttl=900, show_spinner="Reading the file…")
def read_upload(digest: str, _raw: bytes) -> tuple[TextDataset | None, str | None]:
    """The reviews of an uploaded CSV, or why it cannot be used: parsed once per content (the key is the
    bytes' hash) and shared by all sessions. A refusal is kept too, so a bad file is not parsed again on
    every rerun."""
    try:
        return read_csv(_raw), None
    except DataError as err:
        return None, str(err)


def uploaded_reviews() -> dict | None:
    """The uploader, and the reviews of the file in it for a job (None if there is none or it is refused)."""
    upload = st.file_uploader(f"CSV with a text column and a label column (0/1 or pos/neg; up to {MAX_UPLOAD_MB} MB)",
                              type=["csv"], key="sent_upload", max_upload_size=MAX_UPLOAD_MB)
    if upload is None:
        return None
    too_big = oversize(upload, MAX_UPLOAD_MB, "Upload a smaller CSV: a sample of its rows is enough to train on.")
    if too_big:
        st.error(too_big)
        return None
    # in memory: never on the server's disk
    ds, problem = read_upload(upload_digest(upload, "sent_upload_digest"), upload.getvalue())
    if ds is None:
        st.error(f"This file cannot be used: {escape_md(problem)}")
        return None
    small = upload_too_small(ds, seed())
    if small:                    # the job would refuse it after Train: say so now, with the numbers
        st.error(f"This file cannot be used: {small}")
        return None
    note = ""
    if len(ds) > MAX_UPLOAD_ROWS:
        ds = ds.stratified(MAX_UPLOAD_ROWS, seed())
        note = f" Only a random {MAX_UPLOAD_ROWS:,} of them (same label balance) are used."
    st.caption(f"{len(ds):,} rows ({ds.positive_fraction:.0%} positive): 80% to train on, 20% held out "
               f"to test, both with the same label balance.{note}")
    return {"texts": ds.texts, "labels": ds.labels.tolist()}


@st.fragment(run_every=1)
def download_progress() -> None:
    """The server's one IMDB download, as every session sees it; redrawn each second while it runs."""
    s = imdb_download().status()
    if not s.running:
        st.rerun()      # it has ended: redraw the whole page (the full IMDB appears, or the error)
    st.session_state["sent_dl_watch"] = s.attempt    # this session will be told how it ends
    if s.total and s.done >= s.total:
        st.progress(1.0, text="Downloaded; unpacking the 50,000 reviews…")
    elif s.total:
        st.progress(s.done / s.total, text=f"Downloading the full IMDB for the class… {s.done / 1e6:.0f} of "
                                           f"{s.total / 1e6:.0f} MB")
    else:
        st.progress(0.0, text=f"Downloading the full IMDB for the class… {s.done / 1e6:.0f} MB")


def imdb_download_part(can_download: bool) -> None:
    """The teacher's "download the full IMDB" button. One download runs for the whole server: a click in any
    session while it runs joins it, and every session watching sees the same progress and how it ended."""
    dl = imdb_download()
    s = dl.status()
    if s.running:
        download_progress()
        return
    if s.attempt and st.session_state.get("sent_dl_watch") == s.attempt:    # told once, then forgotten
        del st.session_state["sent_dl_watch"]
        if s.error:
            st.error("The download of the full IMDB failed (no internet on this server?). Ask the teacher; the "
                     "compact subset works without it.")
        else:
            st.success("The full IMDB is now on this server: choose “IMDB, full” under Data.")
    if can_download:
        st.caption("The teacher allows downloading the full IMDB here, once for the whole class.")
        if st.button("Download the full IMDB", key="sent_download"):
            st.session_state["sent_dl_watch"] = dl.start().attempt    # starts it, or joins the one running
            st.rerun()


# --- the model in use, and what it says about the review ------------------------------------------------------
def model_in_use() -> tuple[str, TextModel] | None:
    """(the name of the model chosen to read reviews, the model); None when there is none yet."""
    models = text_models()
    if not models:
        st.info("No trained model yet: the pretrained model is not installed. Train one below; it will appear here.")
        return None
    names = list(models)
    if "sent_activate" in st.session_state:  # a model chosen below, applied before the widget exists
        st.session_state["sent_model"] = st.session_state.pop("sent_activate")
    if st.session_state.get("sent_model") not in names:
        st.session_state.pop("sent_model", None)
    active = st.selectbox("Model", names, key="sent_model", bind="query-params")
    return active, models[active]


def review_box(examples: DeltaGenerator) -> str:
    """The examples (in the column ``examples``) and the review box (kept in the link), cut at the box's limit."""
    examples.selectbox("Example reviews", list(EXAMPLES), index=list(EXAMPLES).index(DEFAULT_EXAMPLE),
                       key="sent_example", on_change=_example_changed, bind="query-params")
    url_text("sent_text", EXAMPLES[st.session_state.get("sent_example", DEFAULT_EXAMPLE)], URL_TEXT_CHARS)
    text = st.text_area("Your review", key="sent_text", height=110, max_chars=MAX_REVIEW_CHARS)
    keep_text_in_url("sent_text", EXAMPLES[st.session_state.get("sent_example", DEFAULT_EXAMPLE)], URL_TEXT_CHARS)
    if len(text) >= MAX_REVIEW_CHARS:  # the server cuts longer values too (the browser's limit can be bypassed)
        st.warning(f"The review box holds at most {MAX_REVIEW_CHARS:,} characters: a longer text is cut there.")
        text = text[:MAX_REVIEW_CHARS]
    return text


def prediction(name: str, tm: TextModel, text: str) -> bool:
    """The model's verdict on the review (probability and log-odds) and how far to trust it; False, with a
    warning, when there is nothing to predict (no word, or none the model knows)."""
    t0 = time.perf_counter()
    try:
        r = cached_read(fingerprint(tm), text, tm)
    except ValueError:
        r = None
    ms = (time.perf_counter() - t0) * 1e3
    if r is None:
        st.warning("Type a review: there is no word to read yet (invisible characters and HTML tags do not count).")
        return False
    if r["known"] == 0:
        what = "no word, only punctuation or symbols" if r["words"] == 0 else \
            f"{r['words']} word{'s' if r['words'] > 1 else ''}, none of which it knows (" + \
            ", ".join(f"“{escape_md(w)}”" for w in r["unknown"][:5]) + ")"
        st.warning(f"**No prediction.** The model read {what}. It learnt English movie reviews: on words it has "
                   "never seen, any answer would be a guess dressed up as a probability. Try a review in English.")
        return False
    p = r["prob"]
    m1, m2, m3 = st.columns(3)
    m1.metric("Prediction", "😀 positive" if p >= 0.5 else "☹️ negative")
    m2.metric("P(positive)", pct(p))
    m3.metric("Log-odds", f"{r['logit']:+.2f}", help=f"log(p / (1 − p)): 0 is undecided, ±{math.log(9):.1f} is "
              f"90/10, ±{math.log(99):.1f} is 99/1. Unlike the probability, it keeps growing with the evidence.")
    T = temperature(tm)
    notes = [f"Computed in {ms:.0f} ms by {escape_md(name)}."]
    notes.append(probability_note(T))
    if r["dropped"]:
        notes.append(f"Only the last {r['tokens']:,} tokens are read, as in training ({r['dropped']:,} "
                     "earlier ones skipped).")
    st.caption(" ".join(notes))
    if r["mostly_unknown"]:
        st.warning(f"The model knows only {r['known']} of the {r['words']} words here (unknown: "
                   + ", ".join(f"“{escape_md(w)}”" for w in r["unknown"][:5])
                   + "): read this prediction with caution.")
    return True


def explanations(tm: TextModel, text: str) -> None:
    """Why the model said so, one tab each (a tab's work is done only while it is open)."""
    tabs = st.tabs(TABS, key="sent_tab", bind="query-params")
    key = fingerprint(tm)
    for tab, part in zip(tabs, (word_by_word, key_words, what_if)):
        with tab:
            if tab.open:
                part(key, tm, text)
    with tabs[3]:
        if tabs[3].open:
            calibration(tm)


def word_by_word(key: str, tm: TextModel, text: str) -> None:
    tr = cached_trajectory(key, text, tm)
    plot(probability_trajectory(tr["positions"], tr["probs"], tr["tokens"]), key="sent_traj")
    st.caption("The model's opinion after reading each token: what it would say if the review ended "
               "there. Look for swings at 'but', 'not' and strong adjectives."
               + ("" if tr["every"] else f" A bidirectional model re-reads each prefix, so on a review "
                  f"this long it is measured after {len(tr['positions'])} evenly spaced tokens, not "
                  f"all {len(tr['tokens']):,}."))


def key_words(key: str, tm: TextModel, text: str) -> None:
    imp = cached_importance(key, text, tm)
    st.html(colored_text_html(imp.tokens, imp.logodds, diverging=True, label="Δ log-odds"))
    plot(importance_bars(imp.tokens, imp.logodds, imp.dprob), key="sent_imp")
    k = imp.strongest
    st.caption(
        "Occlusion: each word is removed in turn and the review read again. Red words pushed towards "
        "positive, blue towards negative; the bar is the change in **log-odds**, which stays readable "
        "when the probability is pinned near 0% or 100%. "
        f"Strongest: “{escape_md(imp.tokens[k])}”, {imp.logodds[k]:+.2f} log-odds "
        f"({points(imp.dprob[k])} of probability)."
        + (f" This review is long: words were removed {imp.span} at a time, to keep the work bounded."
           if imp.span > 1 else ""))
    connectivity.sentiment_view(key, tm, text, imp)     # the gradient per word, and how it differs


def what_if(key: str, tm: TextModel, text: str) -> None:
    edits = explain.suggest(text, per_kind=3)
    options = [f"{explain.TEMPLATES[e.kind]}: {e.label}" for e in edits] + [OWN_EDIT]
    if st.session_state.get("sent_whatif") not in options:
        st.session_state.pop("sent_whatif", None)
    choice = st.radio("Edit", options, key="sent_whatif", bind="query-params",
                      help="Ready-made edits: negate a verb, swap a word for its opposite, or drop the "
                           "sentence before a 'but', 'yet' or 'however'. Or type your own in the box.")
    # One edit box for the whole session (not one per review): refilled when the review or the
    # chosen edit changes, left alone while the student types in it.
    source = hashlib.sha1(f"{text}\x00{choice}".encode()).hexdigest()
    if st.session_state.get("sent_edit_for") != source:
        chosen = next((e.text for e, o in zip(edits, options) if o == choice), text)
        shared = st.query_params.get("sent_edit")
        if choice == OWN_EDIT and shared and "sent_edit_for" not in st.session_state:
            chosen = shared[:URL_TEXT_CHARS]        # a link that carries the student's own edit
        st.session_state["sent_edit"] = chosen
        st.session_state["sent_edit_for"] = source
    edited = st.text_area("Edited review", key="sent_edit", height=100, max_chars=MAX_REVIEW_CHARS)
    if choice == OWN_EDIT:
        keep_text_in_url("sent_edit", text, URL_TEXT_CHARS)
    elif "sent_edit" in st.query_params:
        del st.query_params["sent_edit"]
    try:
        d = compare(tm, text, edited[:MAX_REVIEW_CHARS])
    except ValueError:
        d = None
    if d is None:
        st.warning("The edited review has no word to read.")
        return
    e1, e2, e3 = st.columns(3)
    e1.metric("Original", f"{pct(d['p_original'])} positive")
    e2.metric("Edited", f"{pct(d['p_edited'])} positive", points(d["d_prob"]))
    e3.metric("Change in log-odds", f"{d['d_logodds']:+.2f}",
              help="The same change measured where it does not saturate.")
    a = cached_trajectory(key, text, tm)
    b = cached_trajectory(key, edited[:MAX_REVIEW_CHARS], tm)
    plot(probability_trajectory(a["positions"], a["probs"], a["tokens"], "original",
                                other=(b["positions"], b["probs"], b["tokens"])), key="sent_whatif_fig")


def calibration(tm: TextModel) -> None:
    cal = tm.meta.get("calibration")
    if not cal or "bins" not in cal:
        st.info("**Calibration: not measured** for this model (no reliability data was stored with "
                "it), so there is no ECE to show. A model trained below is measured on its test reviews.")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Temperature T", f"{cal['temperature']:.2f}")
    c2.metric("ECE before (T = 1)", f"{cal['ece_before']:.1%}")
    c3.metric("ECE after", f"{cal['ece_after']:.1%}",
              f"{ece_change_points(cal):+.1f} points", delta_color="inverse")
    plot(reliability_figure(reliability_from_report(cal, "before"),
                            reliability_from_report(cal, "after"), cal["temperature"]),
         key="sent_rel")
    split = str(cal.get("split", "test"))
    where = f"the {cal.get('n', 0):,} test reviews" if split == "test" else escape_md(split)
    st.caption(f"Measured on {where}, sorted into {len(cal['bins']['before']['counts'])} bins by how sure the "
               "model was. "
               "On the dashed diagonal, “90% sure” is right 90% of the time. Temperature scaling "
               "(Guo et al. 2017) divides every logit by one number T fitted on validation reviews: "
               "it never changes a prediction's side of 50%, only how sure it sounds. ECE: the "
               "average gap between confidence and accuracy, weighted by the reviews in each bin.")


# --- live training -----------------------------------------------------------------------------------------
def data_part(settings) -> tuple[str, dict[str, str], dict | None]:
    """The data to train on: (its source, every source's label, the uploaded reviews if any), and the teacher's
    download of the full IMDB."""
    sources = imdb_sources(settings.imdb_path, settings.allow_imdb_download)
    compact = compact_imdb_info()
    labels = {}
    if compact:
        labels["compact"] = "IMDB, compact subset"
    if sources.full is not None:
        labels["imdb"] = "IMDB, full"
    labels["upload"] = "Upload a CSV (text,label)"
    src = st.radio("Data", list(labels), format_func=labels.get, horizontal=True, key="sent_source",
                   bind="query-params")
    upload_data = None
    if src == "compact":
        st.caption(f"A random, label-balanced sample of the IMDB reviews (Maas et al. 2011): "
                   f"{compact['train']['reviews']:,} to train on (a share of them kept for validation) and "
                   f"{compact['test']['reviews']:,} unseen ones to test on. Half positive, half negative.")
    elif src == "imdb":
        st.caption("The whole IMDB dataset (Maas et al. 2011: 25,000 training and 25,000 test reviews), set up on "
                   "this server by the teacher: more reviews, slower epochs, higher accuracy.")
    else:
        upload_data = uploaded_reviews()
    imdb_download_part(sources.can_download)
    return src, labels, upload_data


def recipe_settings(settings) -> tuple[Recipe | None, dict]:
    """The recipe from the preset and the Settings box (None if the hidden sizes are not valid), and the
    run's other choices: ``subset`` (percent of the training reviews), ``budget`` (seconds), ``full_test``."""
    preset = st.selectbox("Recipe", [k for k in PRESETS if k in PRESET_LABELS],
                          format_func=lambda k: PRESET_LABELS.get(k, k), key="sent_preset", bind="query-params")
    base = PRESETS[preset]
    max_seconds = int(settings.max_job_seconds)
    with st.expander("Settings", expanded=False):
        s1, s2, s3, s4 = st.columns(4)
        cell = s1.selectbox("Cell", ["LSTM", "GRU", "RNN"], index=["LSTM", "GRU", "RNN"].index(base.cell),
                            key=f"sent_cell_{preset}", bind="query-params")
        embed = s2.select_slider("Embedding size", [16, 32, 64, 128, 256], base.embed_dim,
                                 key=f"sent_embed_{preset}", bind="query-params")
        sizes = s3.text_input("Hidden sizes (one per layer)", ", ".join(map(str, base.hidden_sizes)),
                              key=f"sent_sizes_{preset}", bind="query-params", max_chars=40)
        bidir = s4.toggle("Bidirectional", base.bidirectional, key=f"sent_bidir_{preset}", bind="query-params")
        s5, s6, s7, s8 = st.columns(4)
        dropout = s5.slider("Dropout", 0.0, 0.7, float(max(base.dropout, base.head_dropout)), 0.05,
                            key=f"sent_drop_{preset}", bind="query-params")
        words = s6.select_slider("Vocabulary (words)", [2000, 5000, 10000, 20000, 30000, 50000], base.num_words,
                                 key=f"sent_words_{preset}", bind="query-params")
        maxlen = s7.select_slider("Max length (tokens)", [50, 100, 200, 300, 400, 500, 1000], base.maxlen,
                                  key=f"sent_maxlen_{preset}", bind="query-params")
        epochs = s8.slider("Epochs", 1, settings.max_epochs, min(base.epochs, settings.max_epochs),
                           key=f"sent_epochs_{preset}", bind="query-params") if settings.max_epochs > 1 else 1
        if settings.max_epochs <= 1:              # a slider from 1 to 1 is an error in Streamlit: say it instead
            s8.caption("Epochs: 1, the class's limit (the teacher sets it).")
        s9, s10, s11, s12 = st.columns(4)
        # the preset's own value is always a choice (the shipped recipe's 2e-3 is not a round step)
        lr = s9.select_slider("Learning rate", sorted({1e-4, 3e-4, 1e-3, 3e-3, 6e-3, 1e-2, 3e-2, 0.1, 1.0, base.lr}),
                              base.lr,
                              format_func=str, key=f"sent_lr_{preset}", bind="query-params")  # a link writes str(v)
        clip_on = s10.toggle("Gradient clipping", base.clip is not None, key=f"sent_clipon_{preset}",
                             bind="query-params", help="Caps the gradient's norm. The optimizer here is Adam, whose "
                             "step barely depends on that norm: clipping cannot rescue a learning rate that is "
                             "too high.")
        clip = s10.slider("Clip norm", 0.1, 10.0, float(base.clip or 1.0), 0.1, key=f"sent_clip_{preset}",
                          disabled=not clip_on, bind="query-params")
        subset = s11.slider("Training reviews used (%)", 5, 100, 100, 5, key="sent_subset", bind="query-params",
                            help="A random sample with the same share of positive reviews as the whole: fewer "
                                 "reviews train faster (and less well).")
        budget = s12.slider("Time limit (s)", 10, int(max_seconds), min(120, int(max_seconds)), 10,
                            key="sent_budget", bind="query-params",
                            help="The whole job (reading the data, training, testing) ends by this limit; training "
                                 "stops early enough to leave time for the test.") if max_seconds >= 20 else \
            int(max_seconds)
        if max_seconds < 20:
            s12.caption(f"Time limit: {max_seconds:.0f} s, the class's limit (the teacher sets it).")
        full_test = st.toggle("After a stop, score the whole test set (slower) instead of a random sample of "
                              f"{EVAL_SAMPLE:,}",
                              False, key="sent_fulltest", bind="query-params")
    run = {"subset": subset, "budget": budget, "full_test": full_test}
    try:
        hidden_sizes = tuple(int(s) for s in sizes.replace(" ", "").split(",") if s)
        if not hidden_sizes or len(hidden_sizes) > 4 or any(h < 1 or h > 1024 for h in hidden_sizes):
            raise ValueError
    except ValueError:
        st.error("Hidden sizes must be 1 to 4 whole numbers between 1 and 1024, separated by commas (e.g. 64, 32).")
        return None, run
    return Recipe(**{**base.__dict__, "name": f"{cell.lower()}-{'-'.join(map(str, hidden_sizes))}",
                     "cell": cell, "embed_dim": embed, "hidden_sizes": hidden_sizes, "bidirectional": bidir,
                     "dropout": dropout if len(hidden_sizes) > 1 else 0.0, "head_dropout": dropout,
                     "num_words": words, "maxlen": maxlen, "epochs": epochs, "lr": lr,
                     "clip": clip if clip_on else None}), run


def train_section() -> None:
    """Data, recipe and ▶ Start training; the curves while it learns; then the test, and the model to use."""
    st.divider()
    st.header("Train a model live")
    settings = load_settings()
    src, labels, upload_data = data_part(settings)
    recipe, run = recipe_settings(settings)
    data_ready = src != "upload" or upload_data is not None
    b1, b2 = st.columns([1, 2])
    n_params = count_params(recipe) if recipe is not None else 0
    if recipe is not None:
        b2.caption(f"{n_params:,} weights ({float32_mb(n_params):.1f} MB as float32).")

    def start() -> training.Submission | None:
        problem = training.check_limits(epochs=recipe.epochs, params=n_params, seconds=run["budget"])
        if problem:
            st.error(problem)
            return None
        n_rows = len(upload_data["texts"]) if upload_data else 0
        params = {k: v for k, v in recipe_to_dict(recipe).items() if k != "name"}
        return training.Submission(
            sentiment_job, {"recipe": recipe_to_dict(recipe), "source": src, "upload": upload_data,
                            "subset_percent": run["subset"], "full_test": run["full_test"], "seed": seed()},
            seed=seed(), job_limits=replace(training.limits(), max_seconds=float(run["budget"])),
            meta={"lab": "sentiment", "task": labels[src], "cell": recipe.cell,
                  "params": {**params, "subset_percent": run["subset"], "time_limit": run["budget"]},
                  "total_steps": planned_steps(recipe, src, n_rows, run["subset"])})

    button = training.Button("▶ Start training", key="sent_start", where=b1,
                             disabled=recipe is None or not data_ready or training.active("sent_job"))
    training.train_live("sent_job", button, start, live_curves, trained_model, draw_ended=True, rerun=True,
                        idle="Choose data and a recipe, then start. The curves update every second while it "
                             "trains; the rest of the page stays usable.")


def live_curves(j) -> None:
    """Loss and accuracy against reviews read (validations, learning-rate drops, epochs, early stop marked),
    and while it trains, how fast."""
    steps = j.of_kind("step")
    evals = [{"reviews": e.data.get("reviews", 0), **e.data} for e in j.of_kind("eval")]
    if steps:
        early = j.of_kind("early_stop")
        fig = training_curves([e.data.get("reviews", 0) for e in steps], [e.data["loss"] for e in steps],
                              [e.data.get("acc") for e in steps], evals,
                              lr_drops=[e.data.get("reviews", 0) for e in j.of_kind("lr")],
                              early_stop=early[0].data.get("reviews") if early else None,
                              epochs=[e.data.get("reviews", 0) for e in j.of_kind("epoch")],
                              restarts=[e.data.get("reviews", 0) for e in j.of_kind("restart")])
        plot(fig, key="sent_curves")
    if j.running:
        phase = j.last("phase")
        if phase is not None and phase.data.get("name") == "training" and j.last("step") is not None:
            s = j.last("step")
            batch = j.meta.get("params", {}).get("batch_size")
            ms = ms_per_step(s.t - phase.t, s.step)     # of training per step, measured
            st.caption(f"{s.data.get('reviews', 0):,} training reviews read, {j.elapsed():.0f} s into the job "
                       f"(measured: {ms:.0f} ms per step" + (f" of {batch} reviews)." if batch else ")."))


def _session_model(j) -> tuple[str, TextModel]:
    """The job's model rebuilt from its weights (once per job), and the name it is listed under."""
    cache = st.session_state.setdefault("sent_rebuilt", {})
    if j.id not in cache:
        cache.clear()   # only the latest job's model is kept rebuilt
        cache[j.id] = text_model_from_result(j.result)
    tm_ = cache[j.id]
    acc = j.result.get("metrics", {}).get("test_acc")
    return f"Trained this session (#{j.id}): {tm_.name}" + (f" ({acc:.1%})" if acc is not None else ""), tm_


def trained_model(job) -> None:
    """Under the end banner: the test, where the time went, and the model to use above or download."""
    res = job.result
    held_out_results(res)
    timing = res.get("timing")
    if timing:
        st.caption("Where the time went (measured): " + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items()) + ".")
    if training.trained_enough(job):
        name, trained = _session_model(job)
        size_mb = weights_mb(trained)
        u1, u2 = st.columns(2)
        if u1.button("Use this model above", key="sent_use"):
            kept = st.session_state.setdefault("text_models", {})
            kept[name] = trained
            while len(kept) > MAX_SESSION_MODELS:
                kept.pop(next(iter(kept)))
            st.session_state["sent_activate"] = name     # applied above before its widget is drawn
            st.rerun()
        u2.download_button("Download the model (.zip)", lambda: text_model_zip(trained),
                           file_name="sentiment_model.zip", mime="application/zip", key="sent_dl")
        st.caption(f"Both hold this run's weights ({size_mb:.1f} MB of float32 numbers, a weights-only file), its "
                   f"vocabulary ({len(trained.vocab):,} words), its settings and its temperature T = "
                   f"{temperature(trained):.2f}. The zip is what `rnnlab.nn.models.load_text_model` reads.")
    elif job.end_state not in ("error",):
        st.caption("“Use this model” and the download appear once a run has trained at least one whole epoch "
                   "without diverging.")


def held_out_results(res: dict) -> None:
    """The trained model on the held-out reviews: accuracy, time, reviews read, confusion and calibration."""
    metrics = res.get("metrics", {})
    if "test_acc" not in metrics:
        return
    r1, r2 = st.columns([1, 2])
    n_test = metrics["test_reviews"]
    r1.metric("Test accuracy", f"{metrics['test_acc']:.1%}",
              help=f"On {n_test:,} held-out reviews of the {res.get('test_total', n_test):,}.")
    r1.metric("Training time", f"{metrics['train_seconds']:.1f} s",
              help="Measured in the training process, training steps and validations only.")
    r1.metric("Reviews read", f"{metrics['reviews_seen']:,}", help=f"{metrics['epochs']} full epoch(s).")
    if metrics.get("precision") == "bf16":
        r1.caption(bf16_note("reviews", "the test accuracy"))
    with r2:
        plot(confusion_figure(res["confusion"], f"Confusion matrix on {n_test:,} test reviews"),
             key="sent_cm", toolbar=False)
    cal = res.get("calibration")
    if cal:
        with st.expander(f"Calibration of this model: ECE {cal['ece_before']:.1%} → {cal['ece_after']:.1%} "
                         f"with T = {cal['temperature']:.2f}"):
            plot(reliability_figure(reliability_from_report(cal, "before"), reliability_from_report(cal, "after"),
                                    cal["temperature"]), key="sent_rel_live")
            st.caption(f"T fitted on the validation reviews; measured on {cal['n']:,} test reviews.")


# --- the page ----------------------------------------------------------------------------------------------
chosen, examples = header()
if chosen is not None:
    name, tm = chosen
    text = review_box(examples)
    if prediction(name, tm, text):
        explanations(tm, text)
lessons("sentiment")
intro("The pretrained model learnt from the IMDB movie reviews of Maas et al. (2011, *Learning Word Vectors for "
      "Sentiment Analysis*, ACL). Train your own model below and watch it learn.")
train_section()
next_page("app_pages/sentiment.py")
