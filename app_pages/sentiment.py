"""Sentiment lab: type a review and see the prediction at once; train a sentiment model live."""
import time

import numpy as np
import streamlit as st

from app_pages.common import plot, seed, text_models
from app_pages.legacy_jobs import TrainingJob, rerun_once_finished
from rnnlab.data.text import DataError, ImdbUnavailable, TextDataset, download_imdb, find_imdb, load_imdb, read_csv
from rnnlab.figures.memory import colored_text_html
from rnnlab.figures.sentiment import confusion_figure, probability_trajectory, training_curves
from rnnlab.nn.models import text_model_zip
from rnnlab.labs.sentiment import PRESETS, Recipe, occlusion, predict, train_sentiment, trajectory
from rnnlab.data.tokenizer import tokenize

EXAMPLES = {
    "A rave": "One of the best films I have seen in years. The performances are wonderful, the script is sharp "
              "and funny, and the ending moved me to tears. A masterpiece.",
    "A pan": "What a waste of two hours. The plot makes no sense, the acting is wooden and the dialogue is "
             "painfully bad. I kept checking my watch. Avoid.",
    "Mixed, ends well": "The first half is slow and the lead is not very convincing, but the second half is "
                        "gripping and the finale is brilliant. Worth watching.",
    "Mixed, ends badly": "Beautiful photography and a great soundtrack, but the story falls apart and the "
                         "ending is a terrible letdown. Disappointing.",
    "Negation": "This movie is not good. It is not funny and not even bad in an entertaining way.",
}
NEGATABLE = ("good", "great", "bad", "funny", "boring", "wonderful", "terrible", "best", "worst", "brilliant")
PRESET_LABELS = {"fast": "Fast live recipe (LSTM 64, pooled)", "guide_keras": "Guide §8: Keras BiLSTM 64→32",
                 "guide_pytorch": "Guide §6: PyTorch BiLSTM 256×2", "shipped": "The pretrained model's recipe"}

st.title("Sentiment lab")
st.markdown("Type a movie review: a recurrent network reads it word by word and says whether it is positive. "
            "Then train your own model and watch it learn.")


def _example_changed():
    st.session_state["sent_text"] = EXAMPLES[st.session_state["sent_example"]]


@st.cache_data(max_entries=256, show_spinner="Reading the review word by word…")
def explain(model_key: str, text: str, _tm):
    """Trajectory and occlusion for one text (cached per model and text: each costs many forward passes)."""
    tokens, probs = trajectory(_tm, text)
    _, importance, _ = occlusion(_tm, text)
    return tokens, probs, importance


def negate(text: str) -> str:
    """A 'what if' edit: put 'not' before the first sentiment word (or at the start)."""
    words = text.split(" ")
    for k, w in enumerate(words):
        if w.strip(".,!?").lower() in NEGATABLE:
            return " ".join(words[:k] + ["not"] + words[k:])
    return "Not " + text[:1].lower() + text[1:] if text else text


# --- the model in use ----------------------------------------------------------------------------
models = text_models()
if not models:
    st.info("No trained model yet: the pretrained model is not installed. Train one below (about a minute), "
            "and it will appear here.")
else:
    names = list(models)
    if "sent_activate" in st.session_state:  # a model chosen below, applied before the widget exists
        st.session_state["sent_active"] = st.session_state.pop("sent_activate")
    if st.session_state.get("sent_active") not in names:
        st.session_state["sent_active"] = names[0]
    active = st.selectbox("Model", names, key="sent_active")
    tm = models[active]

    st.selectbox("Example reviews", list(EXAMPLES), index=list(EXAMPLES).index("Mixed, ends well"), key="sent_example",
                 on_change=_example_changed)
    if "sent_text" not in st.session_state:
        st.session_state["sent_text"] = EXAMPLES["Mixed, ends well"]
    text = st.text_area("Your review", key="sent_text", height=120, max_chars=100_000)
    if not tokenize(text):
        st.warning("Type a review: there is no word to read yet.")
    else:
        t0 = time.perf_counter()
        p = predict(tm, text)
        ms = (time.perf_counter() - t0) * 1e3
        c1, c2, c3 = st.columns([1, 1, 2])
        c1.metric("Prediction", "😀 positive" if p >= 0.5 else "☹️ negative")
        c2.metric("P(positive)", f"{p:.1%}")
        c3.caption(f"Computed in {ms:.0f} ms by {active}. "
                   + (f"Only the last {tm.maxlen} words are read, as in training." if len(tokenize(text)) > (tm.maxlen or 1e9) else ""))

        tab_traj, tab_imp, tab_what = st.tabs(["Word by word", "Which words mattered", "What if…"])
        key = f"{active}:{id(tm)}"
        tokens, probs, imp = explain(key, text, tm)
        with tab_traj:
            plot(probability_trajectory(probs, tokens), key="sent_traj")
            st.caption("The model's opinion after reading each word: the head applied to the memory so far. Watch it "
                       "swing at 'but', 'not' and strong adjectives." +
                       (" (Bidirectional model: each prefix is re-read on its own.)" if tm.model.config.bidirectional else ""))
        with tab_imp:
            lim = float(np.abs(imp).max(initial=1e-6))
            st.html(colored_text_html(tokens, imp, -lim, lim, diverging=True, label="importance"))
            order = np.argsort(-np.abs(imp))[:8]
            st.caption("Occlusion: each word is removed in turn and the prediction recomputed. Red words pushed "
                       "towards positive, blue towards negative. Strongest: " +
                       ", ".join(f"'{tokens[k]}' ({imp[k]:+.2f})" for k in order))
        with tab_what:
            edited = st.text_area("Edited review", negate(text), key=f"sent_edit_{hash(text)}", height=100)
            if tokenize(edited):
                tok2, probs2, _ = explain(key, edited, tm)
                p2 = float(probs2[-1])
                e1, e2 = st.columns(2)
                e1.metric("Original", f"{p:.1%} positive")
                e2.metric("Edited", f"{p2:.1%} positive", f"{(p2 - p) * 100:+.1f} points")
                plot(probability_trajectory(probs, tokens, "original", probs2, tok2, "edited"), key="sent_whatif")
            else:
                st.warning("The edited review is empty.")

# --- live training -------------------------------------------------------------------------------
st.divider()
st.header("Train a model live")


@st.cache_data(show_spinner="Reading IMDB…", max_entries=2)
def imdb(folder: str) -> dict[str, TextDataset]:
    return load_imdb(folder)


source = st.radio("Data", ["IMDB movie reviews", "Upload a CSV (text,label)"], horizontal=True, key="sent_source")
train_ds = test_ds = None
if source.startswith("IMDB"):
    path = st.text_input("Local IMDB folder (optional)", key="sent_path",
                         help="A folder with an extracted aclImdb/, or with imdb_train.csv(.gz) and imdb_test.csv(.gz). "
                              "Empty: the download cache.")
    folder = find_imdb([path] if path.strip() else [])
    if folder is None:
        st.info("IMDB is not on this machine yet. Download the official archive (84 MB) once, or give a folder "
                "that holds it.")
        if st.button("Download IMDB", key="sent_download"):
            bar = st.progress(0.0, text="Downloading…")
            try:
                download_imdb(progress=lambda d, t: bar.progress(d / t if t else 0.0,
                                                                 text=f"Downloading… {d / 1e6:.0f} MB"))
                st.rerun()
            except ImdbUnavailable as err:
                bar.empty()
                st.error(str(err))
    else:
        try:
            data = imdb(str(folder))
            train_ds, test_ds = data["train"], data["test"]
            st.caption(f"IMDB from {folder}: {len(train_ds):,} training and {len(test_ds):,} test reviews.")
        except (DataError, ImdbUnavailable, OSError) as err:
            st.error(f"Could not read IMDB from {folder}: {err}")
else:
    upload = st.file_uploader("CSV with a text column and a label column (0/1 or pos/neg)", type=["csv"],
                              key="sent_upload")
    if upload is not None:
        try:
            ds = read_csv(upload.getvalue())
            train_ds, test_ds = ds.split(0.2, seed())
            st.caption(f"{len(ds):,} rows: {len(train_ds):,} to train on, {len(test_ds):,} held out for the test.")
        except DataError as err:
            st.error(f"This file cannot be used: {err}")

preset = st.selectbox("Recipe", list(PRESETS), format_func=lambda k: PRESET_LABELS.get(k, k), key="sent_preset")
base = PRESETS[preset]
with st.expander("Settings", expanded=False):
    s1, s2, s3, s4 = st.columns(4)
    cell = s1.selectbox("Cell", ["LSTM", "GRU", "RNN"], index=["LSTM", "GRU", "RNN"].index(base.cell),
                        key=f"sent_cell_{preset}")
    embed = s2.select_slider("Embedding size", [16, 32, 64, 128, 256], base.embed_dim, key=f"sent_embed_{preset}")
    sizes = s3.text_input("Hidden sizes (one per layer)", ", ".join(map(str, base.hidden_sizes)), key=f"sent_sizes_{preset}")
    bidir = s4.toggle("Bidirectional", base.bidirectional, key=f"sent_bidir_{preset}")
    s5, s6, s7, s8 = st.columns(4)
    dropout = s5.slider("Dropout", 0.0, 0.7, float(max(base.dropout, base.head_dropout)), 0.05, key=f"sent_drop_{preset}")
    words = s6.select_slider("Vocabulary (words)", [2000, 5000, 10000, 20000, 30000, 50000], base.num_words,
                             key=f"sent_words_{preset}")
    maxlen = s7.select_slider("Max length (tokens)", [50, 100, 200, 300, 400, 500], base.maxlen, key=f"sent_maxlen_{preset}")
    epochs = s8.slider("Epochs", 1, 10, base.epochs, key=f"sent_epochs_{preset}")
    s9, s10, s11, s12 = st.columns(4)
    lr = s9.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 6e-3, 1e-2, 3e-2, 0.1, 1.0], base.lr,
                          format_func=lambda v: f"{v:g}", key=f"sent_lr_{preset}")
    clip_on = s10.toggle("Gradient clipping", base.clip is not None, key=f"sent_clipon_{preset}")
    clip = s10.slider("Clip norm", 0.1, 10.0, float(base.clip or 1.0), 0.1, key=f"sent_clip_{preset}", disabled=not clip_on)
    subset = s11.slider("Training reviews used (%)", 5, 100, 100, 5, key="sent_subset",
                        help="Fewer reviews train faster (and less well).")
    budget = s12.slider("Time limit (s)", 10, 1800, 120, 10, key="sent_budget",
                        help="Training stops at this limit; the best validated weights are kept.")

try:
    hidden_sizes = tuple(int(s) for s in sizes.replace(" ", "").split(",") if s)
    if not hidden_sizes or any(h < 1 or h > 1024 for h in hidden_sizes):
        raise ValueError
except ValueError:
    hidden_sizes = None
    st.error("Hidden sizes must be whole numbers between 1 and 1024, separated by commas (e.g. 64, 32).")
recipe = None
if hidden_sizes:
    recipe = Recipe(**{**base.__dict__, "name": f"{cell.lower()}-{'-'.join(map(str, hidden_sizes))}",
                       "cell": cell, "embed_dim": embed, "hidden_sizes": hidden_sizes, "bidirectional": bidir,
                       "dropout": dropout if len(hidden_sizes) > 1 else 0.0, "head_dropout": dropout,
                       "num_words": words, "maxlen": maxlen, "epochs": epochs, "lr": lr,
                       "clip": clip if clip_on else None})

job: TrainingJob | None = st.session_state.get("sent_job")
b1, b2 = st.columns(2)
can_start = recipe is not None and train_ds is not None and (job is None or not job.running)
if b1.button("▶ Start training", type="primary", disabled=not can_start, key="sent_start"):
    n = max(int(len(train_ds) * subset / 100), 10)
    job = TrainingJob(train_sentiment, recipe=recipe, train=train_ds.head(n) if n < len(train_ds) else train_ds,
                      test=test_ds, seed=seed(), time_budget=float(budget))
    job.total_steps = epochs * -(-int(n * (1 - recipe.val_fraction)) // recipe.batch_size)
    job.recipe = recipe
    st.session_state["sent_job"] = job
    st.session_state.pop("sent_saved", None)
if b2.button("■ Stop", disabled=job is None or not job.running, key="sent_stop"):
    job.stop()


def curves(job: TrainingJob):
    steps = [e for e in job.of_kind("step")]
    evals = [{"step": e.step, **e.data} for e in job.of_kind("eval")]
    early = job.of_kind("early_stop")
    return training_curves([e.step for e in steps], [e.data["loss"] for e in steps], [e.data.get("acc") for e in steps],
                           evals, [e.step for e in job.of_kind("lr")], early[0].step if early else None)


@st.fragment(run_every=1.0 if job is not None and job.running else None)
def live():
    j: TrainingJob | None = st.session_state.get("sent_job")
    if j is None:
        st.caption("Choose data and a recipe, then start. Curves update every second while it trains.")
        return
    steps = j.of_kind("step")
    done = steps[-1].step if steps else 0
    if j.running:
        elapsed = time.perf_counter() - j.started
        testing = bool(j.of_kind("done"))  # the trainer is done; the test set is being scored
        st.progress(1.0 if testing else min(done / max(j.total_steps, 1), 1.0),
                    text="Measuring accuracy on the test reviews…" if testing else
                    f"Training… step {done}/{j.total_steps}, {elapsed:.0f} s")
    plot(curves(j), key="sent_curves")
    rerun_once_finished(j, "sent_seen")


live()

if job is not None and not job.running:
    if job.error:
        st.error(f"Training failed: {job.error}")
    else:
        run = job.result
        h = run.history
        {"diverged": st.error, "cancelled": st.warning, "early_stopped": st.info}.get(h.status, st.success)(h.message)
        if run.test is not None:
            r1, r2 = st.columns([1, 2])
            r1.metric("Test accuracy", f"{run.test['acc']:.1%}", help=f"On {int(run.test['confusion'].sum()):,} held-out reviews.")
            r1.metric("Training time", f"{h.seconds:.0f} s")
            with r2:
                plot(confusion_figure(run.test["confusion"]), key="sent_cm")
        name = f"{run.text_model.name} ({run.test['acc']:.1%})" if run.test else run.text_model.name
        u1, u2 = st.columns(2)
        if u1.button("Use this model above", key="sent_use", disabled=h.status == "diverged"):
            st.session_state.setdefault("text_models", {})[f"Trained this session: {name}"] = run.text_model
            st.session_state["sent_activate"] = f"Trained this session: {name}"
            st.rerun()
        u2.download_button("Download the model (.zip)", text_model_zip(run.text_model), file_name="sentiment_model.zip",
                           mime="application/zip", key="sent_dl", disabled=h.status == "diverged")
