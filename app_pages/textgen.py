"""Text generation: a character-level LSTM writes Shakespeare from a prompt, a model trains live while the
class watches its samples turn from gibberish into words, and a look for units that mean something."""
import dataclasses
import hashlib
import math
import unicodedata

import pandas as pd
import streamlit as st

from app_pages import connectivity, guard, training
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
    upload_digest,
    url_text,
)
from rnnlab.data.chars import (
    MAX_UPLOAD_BYTES,
    MAX_USER_CHARS,
    MIN_USER_CHARS,
    TRAIN_FRACTION,
    CharCorpus,
    read_user_text,
    shakespeare,
    split_text,
)
from rnnlab.data.text import DataError
from rnnlab.figures.textgen import generated_html, loss_curves, unit_text_html, unit_vs_feature
from rnnlab.inputs import readable
from rnnlab.labs.memory import model_digest
from rnnlab.labs.textgen import (
    DEFAULT_LENGTH,
    DEFAULT_PROMPT,
    DEFAULT_TEMPERATURE,
    EVAL_RESERVE,
    FEATURE_HELP,
    FEATURES,
    PRESETS,
    SAMPLE_TEMPERATURE,
    UNIT_CHARS,
    CharRecipe,
    correlations,
    feature_values,
    fit_to_text,
    mean_surprise,
    model_from_result,
    passages,
    shipped_units,
    signal_label,
    textgen_job,
    trained_how,
    unit_report,
)
from rnnlab.nn.charlm import activations, charlm_params, generate

PAGE = "app_pages/textgen.py"
JOB = "textgen_job"            # not "tg_…": the page's reset button must not forget a running training
MODELS = "textgen_models"      # models trained in this session
MAX_PROMPT = 200
SHIPPED_LABEL = "Pretrained LSTM (Shakespeare)"
HELD_OUT = f"{1 - TRAIN_FRACTION:.0%}"     # the end of a text kept aside to validate on
MIN_INSIDE = 1000                          # held-out characters the unit finder reads at least

# The title shares its row with the reset button; the introduction waits under the sample and the lessons under
# the tabs: on a projector (1024×768) the prompt and the sample share the first screen (tests/test_browser_textgen.py).
_title, _reset = st.columns([3, 1], vertical_alignment="bottom")
_title.title("Text generation")
with _reset:
    reset_button("tg")
INTRO = ("A character-level language model reads text one character at a time and predicts the next one. "
         "Run it in a loop — sample a character, feed it back, predict again — and it writes: the sampling "
         "loop is the one-to-many shape of the course (trained many-to-many), as in Karpathy's *char-rnn* (2015).")


# --- models ---------------------------------------------------------------------------------------------
def pretrained():
    """The pretrained LSTM, the same object the Connectivity tab reads (one copy in the server's memory)."""
    return connectivity.cell_model("LSTM")


def models() -> dict[str, dict]:
    """Every character model this session can use: the pretrained one, then those trained here."""
    out = {}
    shipped = pretrained()
    if shipped is not None:
        model, vocab, meta = shipped
        loss = meta.get("val_loss")
        label = SHIPPED_LABEL + (f", loss {loss:.2f}" if loss else "")
        out[label] = {"model": model, "vocab": vocab, "meta": meta, "val_text": shakespeare().val_text,
                      "shipped": True}
    out.update(st.session_state.get(MODELS, {}))
    return out


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def passage_signals(digest: str, passage: str, _model, _vocab) -> dict:
    """Every unit's activation after each character of the passage (read from a zero state)."""
    ids = _vocab.encode(passage, unknown="map" if _vocab.unknown_id is not None else "drop")
    return {k: v.numpy() for k, v in activations(_model, ids).items()} | {"text": _vocab.decode(ids)}


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def finder(digest: str, text: str, _model, _vocab) -> dict:
    return unit_report(_model, _vocab, text)


available = models()
tab_gen, tab_train, tab_inside, tab_conn = st.tabs(["Generate", "Train live", "Inside the model", "Connectivity"],
                                                   key="tg_tab", bind="query-params")


# --- generate -------------------------------------------------------------------------------------------
@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def written(settings: tuple, _model, _vocab) -> list[dict]:
    """A sample, step by step, for ``settings`` (the model's digest, prompt, temperature, top-k, length, seed,
    draw): the same seed writes the same text, so a class opening the page at once shares one writing
    instead of queueing thirty behind the server's GIL (300 characters of the pretrained model: about 0.2 s
    of one CPU core, through int8 products, see rnnlab.nn.charlm.Int8Writer)."""
    _, prompt, temperature, top_k, length, seed_, draw = settings
    return [dataclasses.asdict(s) for s in generate(_model, _vocab, prompt, length, temperature, top_k or None,
                                                    seed=seed_ * 1000 + draw)]


def visible(prompt: str) -> str:
    """The prompt as the grey text shows it: without invisible format characters, since a direction mark
    (U+202E) left in the page would reverse the generated text after it (issue 29)."""
    return "".join(c for c in prompt if unicodedata.category(c) != "Cf")


@st.fragment
def generate_part():
    if not available:
        st.info("No character model yet: the pretrained one is not installed (assets/textgen/). Train one in "
                "**Train live**, and it appears here.")
        return
    # the prompt beside the model choice, the sampling settings in one row, the sample right under them
    c_prompt, c_model = st.columns([3, 2])
    names = list(available)
    name = c_model.selectbox("Model", names, key="tg_model",
                             help="The pretrained model, or one trained on this page (described under the sample).")
    entry = available[name]
    url_text("tg_prompt", DEFAULT_PROMPT, MAX_PROMPT)
    prompt = c_prompt.text_area("Prompt: the model reads this, then goes on", key="tg_prompt", max_chars=MAX_PROMPT,
                                height=80, help=f"Up to {MAX_PROMPT} characters. Empty: it starts a new line.")
    keep_text_in_url("tg_prompt", DEFAULT_PROMPT, MAX_PROMPT)
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
    temperature = c1.select_slider("Temperature", [0.0, 0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0], DEFAULT_TEMPERATURE,
                                   key="tg_temp",
                                   bind="query-params", format_func=lambda t: "0 (greedy)" if t == 0 else f"{t:g}",
                                   help="The logits are divided by T before the softmax. T → 0: always the likeliest "
                                        "character; T = 1: the model's own probabilities; T > 1: flatter, wilder.")
    top_k = c2.select_slider("Top-k", [1, 2, 3, 5, 10, 20, 0], 0, key="tg_topk", bind="query-params",
                             format_func=lambda k: "all" if k == 0 else str(k),
                             help="Draw only among the k likeliest characters (all: no limit).")
    length = c3.select_slider("Characters", [50, 100, 200, 300, 500, 800], DEFAULT_LENGTH, key="tg_len",
                              bind="query-params")
    if "tg_draw" not in st.session_state:     # which sample: in the link too, so a link shows the same text
        st.session_state["tg_draw"] = guard.link_number("tg_draw", 0, 0, 10**6, what="sample number")
    draw = st.session_state["tg_draw"]
    if c4.button("Another", icon=":material/casino:", key="tg_again", help="Another sample with the same settings",
                 width="stretch"):
        st.session_state["tg_draw"] = draw = draw + 1
    if draw:
        st.query_params["tg_draw"] = str(draw)
    missing = entry["vocab"].unknown(prompt)
    if not readable(prompt):       # empty, spaces or invisible characters: the same rule on every page
        st.info("No prompt to read: the model starts from a new line. Type a few words to start it elsewhere.")
    elif missing:
        read = any(c not in missing for c in prompt)
        st.caption("Not in this model's alphabet, skipped: " + escape_md(" ".join(repr(c) for c in missing[:20]))
                   + ("" if read else "; nothing else is left, so it starts from a new line."))
    settings = (model_digest(entry["model"]), prompt, temperature, top_k, length, seed(), draw)
    done = st.session_state.get("tg_generated")
    if done is None or done["settings"] != settings:
        with st.spinner(f"Writing {length} characters…"):
            steps = written(settings, entry["model"], entry["vocab"])
        done = st.session_state["tg_generated"] = {"settings": settings, "prompt": visible(prompt), "steps": steps}
    with st.container(key="tg_sample"):
        st.html(generated_html(done["prompt"], done["steps"]))
    st.caption(f"Grey: your prompt. Each generated character is coloured by how likely the model found it (white: "
               f"expected, orange: a surprise); hover for its probability and the model's other choices. Mean "
               f"surprise of this text under the model: {mean_surprise(done['steps']):.2f} nats per "
               f"character{' (greedy: always the likeliest)' if temperature == 0 else ''}.")
    if entry.get("shipped"):
        m = entry["meta"]
        share = m.get("train_fraction", TRAIN_FRACTION)
        st.caption(f"The model: a {m['recipe']['num_layers']}-layer LSTM with {m['recipe']['hidden_size']} units per "
                   f"layer ({m.get('params', 0):,} weights) trained for {trained_how(m)} over the first {share:.0%} of "
                   f"tiny-shakespeare. On the last {1 - share:.0%}, which it never trained on (it only chose the "
                   f"checkpoint kept), its loss is {m.get('val_loss', float('nan')):.3f} nats per character "
                   "(measured).")
    intro(INTRO)
    with st.expander("Every character's probability (a table, for touch screens)"):
        st.dataframe(pd.DataFrame([{"#": k + 1, "character": repr(s["char"]), "p (model)": round(s["p"], 4),
                                    "p (drawn with)": round(s["p_sampled"], 4),
                                    "likeliest": ", ".join(f"{c!r} {p:.0%}" for c, p in s["top"][:3])}
                                   for k, s in enumerate(done["steps"])]), hide_index=True, width="stretch",
                     height=300)


if tab_gen.open:
    with tab_gen:
        generate_part()


# --- train live -----------------------------------------------------------------------------------------
@st.cache_data(max_entries=4, ttl=900, show_spinner="Reading your text…")
def read_own(digest: str, _source: str | bytes) -> tuple[str | None, CharCorpus | None, str | None]:
    """(text, corpus, None) for a pasted or uploaded text, checked, cleaned and split, or (None, None, why
    not). Once per content, not on every rerun: 2 million characters take 0.6 s. A refusal is kept too."""
    try:
        text = read_user_text(_source)
    except DataError as err:
        return None, None, str(err)
    return text, split_text(text, "your text"), None


def own_text() -> tuple[str | None, CharCorpus | None, str | None]:
    """(the student's text, its corpus, None) or (None, None, what is wrong with it)."""
    c1, c2 = st.columns(2)
    pasted = c1.text_area("Paste a text", key="tg_paste", height=140, max_chars=MAX_USER_CHARS,
                          help=f"At least {MIN_USER_CHARS:,} characters; the last {HELD_OUT} is kept aside to "
                               "validate on.")
    upload = c2.file_uploader(f"…or upload a UTF-8 .txt file (up to {MAX_UPLOAD_BYTES / 1e6:.0f} MB)", type=["txt"],
                              key="tg_upload", max_upload_size=round(MAX_UPLOAD_BYTES / 1e6))
    too_big = upload is not None and oversize(upload, MAX_UPLOAD_BYTES / 1e6, "Upload a shorter text.")
    if too_big:
        return None, None, too_big
    if upload is not None and upload.size:          # an upload wins over a pasted text
        return read_own(f"upload:{upload_digest(upload, 'tg_upload_digest')}", upload.getvalue())
    if upload is not None:
        return None, None, f"The file is empty: upload a text of at least {MIN_USER_CHARS:,} characters."
    if not pasted:
        return None, None, f"Paste or upload a text of at least {MIN_USER_CHARS:,} characters."
    return read_own(f"paste:{hashlib.sha256(pasted.encode('utf-8', 'surrogatepass')).hexdigest()}", pasted)


LIVE = PRESETS["live"]


def text_choice() -> tuple[str | None, CharCorpus] | None:
    """(the student's own text or None for tiny-shakespeare, its corpus); None, with a warning, when the own
    text cannot be used."""
    data = st.radio("Text", ["tiny-shakespeare", "Your own text"], key="tg_data", horizontal=True,
                    bind="query-params")
    if data == "tiny-shakespeare":
        return None, shakespeare()
    text, corpus, problem = own_text()
    if problem:
        st.warning(escape_md(problem))
        return None
    return text, corpus


def train_settings() -> tuple[CharRecipe, int, int]:
    """The live recipe with the student's settings, the training seconds and the BPTT length asked for (the
    recipe's is capped at the sequence length)."""
    c1, c2, c3 = st.columns(3)
    cell = c1.selectbox("Cell", ["LSTM", "GRU", "RNN"], key="tg_cell", bind="query-params")
    hidden = c2.select_slider("Hidden units", [32, 64, 128, 256, 384, 512, 768, 1024], LIVE.hidden_size,
                              key="tg_hidden", bind="query-params")
    layers = c3.select_slider("Layers", [1, 2, 3], LIVE.num_layers, key="tg_layers", bind="query-params")
    c4, c5, c6 = st.columns(3)
    seq_len = c4.select_slider("Sequence length", [16, 32, 64, 128, 256], LIVE.seq_len, key="tg_seq",
                               bind="query-params", help="Characters per training window (and per update).")
    bptt = c5.select_slider("Truncated BPTT length", [8, 16, 32, 64, 128, 256], 128, key="tg_bptt",
                            bind="query-params",
                            help="How far back the gradient flows; the state itself is carried further.")
    lr = c6.select_slider("Learning rate (Adam)", [3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2, 0.1], LIVE.lr,
                          key="tg_lr", bind="query-params", format_func=lambda v: f"{v:g}",
                          help=f"Decays along a cosine to {LIVE.min_lr_frac:.0%} of this by the end of the training "
                               "time.")
    max_train = max(int(training.limits().max_seconds - EVAL_RESERVE), 10)
    choices = [s for s in (30, 60, 120, 180, 240, 300, 600) if s <= max_train] or [max_train]
    c7, c8 = st.columns([2, 1], vertical_alignment="bottom")
    seconds = c7.select_slider("Training time (s)", choices, 180 if 180 in choices else choices[-1], key="tg_secs",
                               bind="query-params", help="The class's limit per training is "
                                                         f"{training.limits().max_seconds:.0f} s, evaluation included.")
    carry = c8.toggle("Carry the state", True, key="tg_carry", bind="query-params",
                      help="Off: every window starts from a zero state, as if the text began there.")
    recipe = dataclasses.replace(LIVE, cell=cell, hidden_size=hidden, num_layers=layers, seq_len=seq_len,
                                 bptt=min(bptt, seq_len), lr=lr, seconds=float(seconds), carry_state=carry)
    return recipe, seconds, bptt


def size_notes(recipe: CharRecipe, corpus: CharCorpus, bptt: int) -> int:
    """The model's and the text's sizes in one caption; returns the number of weights."""
    V = len(corpus.vocab)
    n_params = charlm_params(recipe.model_config(V))
    notes = [f"{n_params:,} weights", f"{V} different characters (a blind guess loses ln {V} = {math.log(V):.2f} "
             "nats per character)", f"{len(corpus.train):,} characters to train on, {len(corpus.val):,} to validate"]
    if bptt > recipe.seq_len:
        notes.append(f"a BPTT length above the sequence length acts as {recipe.seq_len}")
    st.caption(" · ".join(notes))
    return n_params


def live_samples(job, vocab_size: int, ref_loss: float | None) -> None:
    """The loss curves (with the pretrained model's loss for reference) and the samples written so far."""
    steps = job.of_kind("step")
    evals = job.of_kind("eval")
    samples = job.of_kind("sample")
    V_job = job.meta.get("vocab_size", vocab_size)
    refs = ({f"pretrained model ({ref_loss:.2f})": ref_loss}
            if ref_loss and job.meta.get("task") == "tiny-shakespeare" else {})
    plot(loss_curves([e.step for e in steps], [e.data["loss"] for e in steps],
                     [{"step": e.step, "loss": e.data["loss"]} for e in evals], chance=math.log(V_job),
                     references=refs, samples=[e.step for e in samples]), key="tg_curves")
    if samples:
        last = samples[-1]
        st.markdown(f"**Sample at step {last.step:,}** ({last.t:.0f} s into the job, temperature "
                    f"{SAMPLE_TEMPERATURE:g})")
        st.code(last.data["text"], language=None, wrap_lines=True)
        if len(samples) > 1:
            with st.expander(f"All {len(samples)} samples, newest first"):
                for e in reversed(samples[:-1]):
                    st.markdown(f"*step {e.step:,}, {e.t:.0f} s*")
                    st.code(e.data["text"], language=None, wrap_lines=True)


def trained_model(job) -> None:
    """Under the end banner: the run's numbers, and its model added to this session's lists."""
    res = job.result
    metrics = res.get("metrics", {})
    if "val_loss" in metrics:
        m1, m2, m3 = st.columns(3)
        m1.metric("Validation loss", f"{metrics['val_loss']:.3f}", help=f"nats per character, held-out {HELD_OUT}")
        m2.metric("Training steps", f"{metrics['steps']:,}")
        m3.metric("Passes over the text", f"{metrics['passes']:.2f}")
        if metrics.get("precision") == "bf16":
            st.caption(bf16_note("steps", "the validation loss"))
    if res.get("state_dict") is not None and job.end_state not in ("error", "diverged"):
        label = (f"Trained here: {job.meta.get('cell')}-{job.meta['params']['hidden_size']}"
                 f"×{job.meta['params']['num_layers']} on {job.meta.get('task')} (job {job.id}"
                 + (f", validation loss {metrics['val_loss']:.2f})" if "val_loss" in metrics else ")"))
        store = st.session_state.setdefault(MODELS, {})
        if label not in store:
            model, vocab = model_from_result(res)
            store[label] = {"model": model, "vocab": vocab, "meta": res.get("metrics", {}),
                            "val_text": st.session_state.get("textgen_val_text", "")}
            if len(store) > 3:   # a session keeps its last three models
                store.pop(next(iter(store)))
        st.caption("This model is now in the model lists of **Generate** and **Inside the model**.")


def train_part():
    st.markdown(f"Train a character model from scratch. It reads the text as {LIVE.batch_size} long streams side "
                "by side, "
                "window after window; the final state of one window is where the next one starts (carried "
                "state), while the gradient flows back at most *truncated BPTT length* characters.")
    chosen = text_choice()
    if chosen is None:
        return
    text, corpus = chosen
    recipe, seconds, bptt = train_settings()
    recipe, fitted = fit_to_text(recipe, len(corpus.train))     # a short own text: fewer streams (issue 29)
    if fitted:
        st.info(fitted)
    n_params = size_notes(recipe, corpus, bptt)
    limit_msg = training.check_limits(params=n_params, seconds=seconds + EVAL_RESERVE)
    if limit_msg:
        st.error(limit_msg)

    def start() -> training.Submission:
        lim = dataclasses.replace(training.limits(), max_seconds=min(seconds + EVAL_RESERVE,
                                                                     training.limits().max_seconds))
        params = {"hidden_size": recipe.hidden_size, "num_layers": recipe.num_layers, "seq_len": recipe.seq_len,
                  "bptt": recipe.bptt, "lr": recipe.lr, "seconds": seconds, "carry_state": recipe.carry_state,
                  "batch_size": recipe.batch_size}
        st.session_state["textgen_val_text"] = corpus.val_text
        return training.Submission(textgen_job, {"recipe": recipe.to_dict(), "text": text, "seed": seed()},
                                   seed=seed(), job_limits=lim,
                                   meta={"lab": "textgen", "task": corpus.name, "cell": recipe.cell, "params": params,
                                         "vocab_size": len(corpus.vocab)})

    reference = available.get(next((k for k in available if k.startswith(SHIPPED_LABEL)), ""), {})
    ref_loss = reference.get("meta", {}).get("val_loss") if text is None else None
    training.train_live(JOB, training.Button("▶ Train", key="tg_train", disabled=bool(limit_msg)), start,
                        lambda job: live_samples(job, len(corpus.vocab), ref_loss), trained_model, draw_ended=True,
                        idle="Press Train: the loss curves and a sample every few seconds appear here.")


if tab_train.open:
    with tab_train:
        train_part()


# --- inside the model -----------------------------------------------------------------------------------
def inside_part():
    if not available:
        st.info("No character model yet: train one in **Train live**.")
        return
    name = st.selectbox("Model", list(available), key="tg_imodel")
    entry = available[name]
    model, vocab, val_text = entry["model"], entry["vocab"], entry.get("val_text", "")
    if not val_text:
        st.info("This model's held-out text is no longer in this session: train it again to look inside.")
        return
    if len(val_text) < MIN_INSIDE:
        st.info(f"This model's held-out text (the last {HELD_OUT} of its text) has only {len(val_text):,} "
                f"characters; the unit finder needs {MIN_INSIDE:,}. Train on a text of at least "
                f"{round(MIN_INSIDE / (1 - TRAIN_FRACTION)):,} characters to look inside.")
        return
    digest = model_digest(model)
    report = shipped_units() if entry.get("shipped") else None
    if report is None or report.get("digest") != digest:
        with st.spinner("Reading held-out text and correlating every unit with each feature…"):
            report = finder(digest, val_text[:UNIT_CHARS], model, vocab)
    st.markdown("**The unit finder.** Each unit's activation, character by character over "
                f"{report['chars']:,} held-out characters, against features of the text; the units with the "
                "strongest correlation (r, from −1 to 1) for each feature:")
    rows = report["rows"]
    control = {}
    for r in report.get("control", []):
        control.setdefault(r["feature"], r)   # rows come best first
    table = pd.DataFrame([{"feature": r["feature"], "unit": f"{signal_label(r['signal'])} #{r['unit']}",
                           "r": round(r["r"], 3),
                           "untrained model's best r": round(control[r["feature"]]["r"], 3)
                           if r["feature"] in control else None} for r in rows])
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("The last column is the control: the same network with random weights, before any training. A "
               "recurrent state adds up its inputs, so some units of an untrained model follow the position in "
               "the line too, less closely; what training adds is the difference.")
    found = [f for f in FEATURES if any(r["feature"] == f for r in rows)]
    absent = [f for f in FEATURES if f not in found]
    if absent:
        st.caption("Not in this text, so nothing to correlate: " + ", ".join(absent) + ".")
    c1, c2 = st.columns(2)
    feature = c1.selectbox("Feature", found, key="tg_feature", bind="query-params",
                           help="; ".join(f"{k}: {v}" for k, v in FEATURE_HELP.items()))
    options = [r for r in rows if r["feature"] == feature]
    labels = [f"{signal_label(r['signal'])} #{r['unit']} (r = {r['r']:+.2f})" for r in options]
    pick = c2.selectbox("Unit", range(len(options)), format_func=lambda k: labels[k], key="tg_rank",
                        bind="query-params")
    row = options[min(int(pick), len(options) - 1)]
    pieces = passages(val_text)
    which = st.select_slider("Held-out passage", list(range(1, len(pieces) + 1)), 1, key="tg_passage",
                             bind="query-params",
                             help=f"Pieces of the last {HELD_OUT} of the text, which the model never trained "
                                  "on.")
    start, passage = pieces[int(which) - 1]
    with st.spinner("Reading the passage…"):
        sig = passage_signals(digest, passage, model, vocab)
    values = sig[row["signal"]][:, row["unit"]]
    label = f"{signal_label(row['signal'])} #{row['unit']}"
    st.html(unit_text_html(sig["text"], values, label))
    feat = feature_values(sig["text"])[feature]
    r_here = float(correlations(values[:, None], feat)[0]) if feat.std() > 0 else None
    plot(unit_vs_feature(values, feat, label, feature, r_here), key="tg_unit_plot")
    st.caption("Red: the unit is positive after that character, blue: negative (hover for the value). The passage "
               "is read from a zero state, so its first characters have no context. "
               + (f"Correlation on this passage: r = {r_here:+.2f}." if r_here is not None else
                  "This feature does not vary in this passage."))


if tab_inside.open:
    with tab_inside:
        inside_part()

if tab_conn.open:      # which earlier characters drove a prediction, for the LSTM, GRU and tanh RNN side by side
    with tab_conn:
        connectivity.textgen_view()

lessons("textgen")

next_page(PAGE)
