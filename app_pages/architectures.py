"""Architectures: every row of the course's table as a small model that trains live, with the shape of
its input and output drawn from a real run, and a view of what it learned."""
import dataclasses

import pandas as pd
import streamlit as st

from app_pages import training
from app_pages.common import escape_md, keep_text_in_url, lessons, next_page, plot, reset_button, seed, url_text
from rnnlab.data import seqtasks
from rnnlab.figures import architectures as arch_figures
from rnnlab.inputs import readable
from rnnlab.labs import architectures as arch
from rnnlab.labs.shapes import ARCHITECTURES

PAGE = "app_pages/architectures.py"
JOB_SECONDS = 120.0     # each training is built for ≤ 20 s on one core; the cap leaves room for a busy server
MODELS = "arch_models"  # trained models rebuilt from job results, per section
N_TEST = len(seqtasks.held_out_pairs("dates"))   # the fixed test inputs of both seq2seq tabs

st.title("Architectures: each shape, trained live")
SECTIONS = arch.TAB_LABELS
INPUTS = arch.INPUTS
# The introduction and the course's table one click away: the first tab's input and drawing fill the first screen.
with st.expander("About this page: the course's table, and the tab where each row trains"):
    st.markdown("An RNN maps sequences to sequences in several shapes: one input or many, one output or many, "
                "outputs as the inputs arrive or after the whole input is read. Each tab below trains a small "
                "model of one shape on a task that needs it (in seconds, on this server), draws its input and "
                "output from a real run, and shows what it learned, measured against what *can* be done.")
    st.dataframe(pd.DataFrame([{"Type": a.name, "Shape": a.shape, "Course example": a.example,
                                "Trained live here": a.live_task, "Tab": SECTIONS[a.tab]} for a in ARCHITECTURES]),
                 hide_index=True, width="stretch")
tabs = dict(zip(SECTIONS, st.tabs(list(SECTIONS.values()), key="ar_tab", bind="query-params")))


# --- shared pieces: settings, training, the live panel ------------------------------------------------------
def job_key(section: str) -> str:
    return f"job_arch_{section}"   # not "ar…": resetting the page's settings must not forget a training


def settings(section: str, cells=("GRU", "LSTM"), hidden=(16, 32, 64, 128),
             steps=(100, 150, 200, 300, 400, 600, 800, 1000), with_cell=True) -> dict:
    """Cell, hidden units and training steps, defaults from ``arch.DEFAULTS`` (what the benchmark times)."""
    default = arch.DEFAULTS[section]
    c1, c2, c3 = st.columns(3)
    out = {}
    if with_cell:
        out["cell"] = c1.selectbox("Cell", cells, key=f"ar_{section}_cell", bind="query-params")
    out["hidden"] = c2.select_slider("Hidden units", hidden, default["hidden"], key=f"ar_{section}_hidden",
                                     bind="query-params")
    out["steps"] = c3.select_slider("Training steps", steps, default["steps"], key=f"ar_{section}_steps",
                                    bind="query-params", help="Each step: one batch of fresh examples from the "
                                                              "task's generator, one Adam update.")
    return out


def train(section: str, job_fn, kwargs: dict, task: str, cell: str | None, n_params: int, ylabel: str,
          references: dict[str, float] | None = None) -> None:
    """The section's training: the Train button (after the class's limits are checked), then the live panel
    (queue place or progress bar with Stop, and the validation accuracy so far), then how it ended and what
    was trained."""
    message = training.check_limits(params=n_params)
    if message:
        st.error(message)

    def start() -> training.Submission:
        limits = dataclasses.replace(training.limits(), max_seconds=min(JOB_SECONDS, training.limits().max_seconds))
        sent = {**kwargs, "seed": seed()}
        return training.Submission(job_fn, sent, seed=seed(), job_limits=limits,
                                   meta={"lab": "architectures", "task": task, "cell": cell or "feed-forward",
                                         "params": dict(sent), "total_steps": int(sent["steps"])})

    def curves(job) -> None:
        found: dict[str, tuple[list, list]] = {}
        for e in job.of_kind("eval"):
            xs, ys = found.setdefault(e.data.get("model", "model"), ([], []))
            xs.append(e.step)
            ys.append(e.data["acc"])
        if len(found) == 1:
            found = {ylabel: next(iter(found.values()))}
        if found:
            plot(arch_figures.training_figure(found, job.meta.get("total_steps", 1), ylabel, references),
                 key=f"ar_{section}_curve")

    button = training.Button("▶ Train", key=f"ar_{section}_train", disabled=bool(message))
    training.train_live(job_key(section), button, start, curves, trained_what, draw_ended=True,
                        idle="Press **Train**: the validation accuracy appears here as the model learns.")


def result_of(section: str) -> dict | None:
    """The result of this section's finished training, if it left a model to look at."""
    job = training.current(job_key(section))
    if job is None or job.end_state is None or job.end_state in ("error", "diverged"):
        return None
    res = job.result or {}
    if not (res.get("state_dict") or res.get("models")):
        return None
    return {**res, "job_id": job.id}


def trained_what(job) -> None:
    """Under the end banner: what was trained, and for how many of its steps."""
    res = job.result
    p = job.meta.get("params", {})
    what = ", ".join(f"{k} {v}" for k, v in p.items() if k in ("cell", "hidden", "attention", "task", "noise",
                                                                 "train_len"))
    if res.get("total_steps"):
        st.caption(f"Trained ({escape_md(what)}) for {res.get('steps_done', 0):,} of {res['total_steps']:,} steps"
                   + ("" if res.get("steps_done", 0) >= res["total_steps"] else ": what follows is what it learned "
                                                                                   "by then") + ".")


def models_of(section: str, res: dict) -> dict:
    """The trained model(s) of a result, rebuilt once per training and kept in the session."""
    store = st.session_state.setdefault(MODELS, {})
    entry = store.get(section)
    if entry is None or entry[0] != res["job_id"]:
        if "models" in res:
            built = {name: arch.model_from_result(section, res, name) for name in res["models"]}
        else:
            built = {"model": arch.model_from_result(section, res)}
        store[section] = entry = (res["job_id"], built)
    return entry[1]


def text_box(key: str, label: str, default: str, max_chars: int, help: str = "") -> str:
    url_text(key, default, max_chars)
    value = st.text_input(label, key=key, max_chars=max_chars, help=help or None)
    keep_text_in_url(key, default, max_chars)
    return value


def parsed(parse, text: str):
    """``parse(text)``, text of invisible characters only (zero-width, direction marks, lone combining marks)
    read as an empty box: the one rule of every page (rnnlab.inputs.readable), and the empty box's message."""
    return parse(text if readable(text) else "")


def pct(x: float) -> str:
    return f"{x:.1%}"


# --- 1 → 1 ----------------------------------------------------------------------------------------------
@st.cache_data(max_entries=32, show_spinner=False)
def best_possible_digits(noise: float) -> float:
    x, y = arch.digit_test_set(noise)
    return seqtasks.bayes_accuracy(x, y, noise)


def one_to_one():
    st.markdown("**One input, one output, no sequence.** A feed-forward network reads a 5×7 image of a digit "
                "(some pixels flipped at random) and answers with the digit: the course's *image "
                "classification*. Nothing carries over from one input to the next: there is no hidden state, "
                "so this is the row of the table that is *not* an RNN, here for contrast.")
    c1, c2, c3 = st.columns(3)
    digit = c1.selectbox("Digit shown", list(range(10)), INPUTS["digit"], key="ar_1_digit", bind="query-params")
    noise = c2.slider("Pixel noise", 0.0, 0.4, arch.DEFAULTS["one_to_one"]["noise"], 0.05, key="ar_1_noise",
                      bind="query-params",
                      help=f"Each of the {seqtasks.PIXELS} pixels is flipped with this probability (in training "
                           "and test).")
    draw = c3.number_input("Image number", 0, 10_000, 0, key="ar_1_draw", bind="query-params",
                           help="Another noisy image of the same digit.")
    x, _ = seqtasks.digit_images(1, noise, [seed(), int(draw)], digits=[digit])
    drawing = st.container()     # the image and its flow right under the inputs; the model's settings below them
    cfg = settings("one_to_one", with_cell=False, hidden=(8, 16, 32, 64, 128))
    with drawing:
        left, right = st.columns([1, 2])
        with left:
            plot(arch_figures.digit_figure(x[0], f"the image ({int(x[0].sum())} dark pixels)"), key="ar_1_img",
                 toolbar=False)
        model = arch.build_model("one_to_one", {"hidden": cfg["hidden"]}, seed())
        shapes = arch.classify_digit(model, x[0])["shapes"]
        with right:
            plot(arch_figures.flow_diagram("one_to_one", ["a 5×7 image"], ["a digit"], shapes, height=260),
                 key="ar_1_flow", toolbar=False)
            st.caption(f"{shapes['x']} ({seqtasks.PIXELS} pixels in a row) → {shapes['h']} → {shapes['y']} (a "
                       "score per digit). One step: no arrow from one input to the next.")
    lessons("architectures", "one_to_one")
    best = best_possible_digits(noise)
    st.caption(f"The best possible rule at this noise (the nearest clean glyph, scored on the {arch.DIGIT_TEST:,} "
               f"test images) is right {pct(best)} of the time; guessing, 10%.")
    train("one_to_one", arch.one_to_one_job, {"noise": noise, "hidden": cfg["hidden"], "steps": cfg["steps"]},
          "noisy digits", None, arch.n_params(model), "validation accuracy", {"best possible": best, "chance": 0.1})
    res = result_of("one_to_one")
    if res is None:
        return
    net = models_of("one_to_one", res)["model"]
    m = res["metrics"]
    k1, k2, k3 = st.columns(3)
    k1.metric("Test accuracy", pct(m["test_acc"]),
              help=f"{arch.DIGIT_TEST:,} fixed test images at the noise it trained on")
    k2.metric("Best possible", pct(m["best_possible_acc"]))
    k3.metric("Chance", "10%")
    if abs(res["noise"] - noise) > 1e-9:
        st.caption(f"This network trained at noise {res['noise']:.2f}; the image above has noise {noise:.2f}.")
    out = arch.classify_digit(net, x[0])
    post = seqtasks.digit_posterior(x, noise)[0].tolist()
    plot(arch_figures.probability_bars([str(d) for d in range(10)], out["probs"], post, "exact probability",
                            highlight=digit, highlight_name="the digit shown",
                            title="The network's answer for this image"), key="ar_1_probs")
    st.caption("Bars: the network's probabilities. Black ticks: the exact probability of each digit given this "
               "image (every glyph and the noise level known). Change the image number: one image in, one "
               "answer out, and the same image always gets the same answer.")
    plot(arch_figures.confusion_figure(res["confusion"]), key="ar_1_conf")
    pairs = arch.most_confused(res["confusion"])
    if pairs:
        st.caption("Its most frequent mistakes on the test images: " + ", ".join(
            f"{t} read as {p} ({n} times; glyphs {arch.glyph_distance(t, p)} pixels apart)" for t, p, n in pairs)
                   + ".")
    else:
        st.caption(f"Not a single mistake on the {arch.DIGIT_TEST:,} test images.")


# --- 1 → many --------------------------------------------------------------------------------------------
def one_to_many():
    lessons("architectures", "one_to_many")
    st.markdown("**One input, a sequence out.** From a digit alone, a recurrent network writes the digit's "
                "name, letter by letter, in English, French, German, Spanish or Italian: each letter it draws "
                "is fed back in as the next input, until it writes the end symbol ■ (the course's *image "
                "captioning* and *music generation* work this way). The language is not given: the network must "
                "choose it, so its first letters are a real choice, and their exact probabilities are known. "
                "The **Text generation** lab does the same with Shakespeare.")
    c1, c2, c3 = st.columns(3)
    digit = c1.selectbox("Digit", list(range(10)), INPUTS["digit"], key="ar_2_digit", bind="query-params")
    temperature = c2.slider("Temperature", 0.0, 2.0, INPUTS["temperature"], 0.1, key="ar_2_temp", bind="query-params",
                            help="Letters are drawn from softmax(logits / temperature): 0 always takes the most "
                                 "likely letter, 1 the network's own probabilities, above 1 flattens them.")
    draw = c3.number_input("Draw number", 0, 100_000, 0, key="ar_2_draw", bind="query-params",
                           help="Another draw at random, repeatable: the same number gives the same word.")
    cfg = settings("one_to_many", hidden=(16, 32, 64, 128))
    config = {"cell": cfg["cell"], "hidden": cfg["hidden"]}
    res = result_of("one_to_many")
    model = models_of("one_to_many", res)["model"] if res else arch.build_model("one_to_many", config, seed())
    out = arch.write_word(model, digit, temperature, seed=int(draw))
    letters = [s["chosen"] for s in out["steps"]]
    plot(arch_figures.flow_diagram("one_to_many", [str(digit)], letters, out["shapes"]), key="ar_2_flow", toolbar=False)
    st.caption(f"{'The trained' if res else 'An untrained'} network, digit {digit} → h₀ → "
               f"{len(letters)} steps: {out['shapes']['x']} · {out['shapes']['h']} · {out['shapes']['y']}. "
               "Dashed: each output letter fed back as the next input.")
    train("one_to_many", arch.one_to_many_job, {**config, "steps": cfg["steps"]}, "digit names", cfg["cell"],
          arch.n_params(model), "real names written (T = 1)")
    if res is None:
        st.info("Untrained, it writes random letters. Press **Train**, then come back to this word.")
        return
    m = res["metrics"]
    k1, k2 = st.columns(2)
    k1.metric("Real names at temperature 1", pct(m["valid_words"]),
              help="The share of 1,000 words drawn (100 per digit) that are a real name of their digit in one of "
                   "the languages")
    k2.metric("Loss per name (nats)", f"{m['nll_per_word']:.2f}",
              help=f"The lowest any model can reach is the entropy of the names' distribution (a spelling two "
                   "languages share counts once): "
                   f"{m['entropy_per_word']:.2f} nats")
    verdict = "a real name of " + str(digit) if out["real"] else ("not a name of " + str(digit))
    st.markdown(f"Draw {int(draw)} at temperature {temperature:g}: **{escape_md(out['word']) or '(nothing)'}** "
                f"({verdict}{'' if out['finished'] else f', stopped at {len(letters)} letters'}).")
    plot(arch_figures.choices_figure(out["steps"]), key="ar_2_choices")
    first = out["steps"][0] if out["steps"] else None
    if first and first["ideal"]:
        labels = sorted(set(first["ideal"]) | {s for s, p in first["probs"].items() if p >= 0.02})
        plot(arch_figures.probability_bars(labels, [first["probs"].get(s, 0.0) for s in labels],
                                [first["ideal"].get(s, 0.0) for s in labels], "exact share of the languages",
                                highlight=labels.index(first["chosen"]) if first["chosen"] in labels else None,
                                highlight_name="the letter drawn", title="The first letter: the choice of a language",
                                height=260), key="ar_2_first")
    st.caption("Each column: the probabilities the letter was drawn from (after the temperature); the box: the "
               "letter drawn. The first letters choose among the languages; once only one name fits the letters so "
               "far, its next letters are certain (the exact shares: black ticks above).")
    counts = pd.Series(arch.word_samples(model, digit, temperature, 200, seed=int(draw) + 1)).value_counts().to_dict()
    plot(arch_figures.word_counts_figure(counts, seqtasks.word_distribution(digit), 200), key="ar_2_counts")
    st.caption(f"200 more draws for {digit} at temperature {temperature:g}. Bars in red are not real names. At 0 "
               "the network always writes the same word; the higher the temperature, the more invented ones.")


# --- many → 1 --------------------------------------------------------------------------------------------
def many_to_one():
    lessons("architectures", "many_to_one")
    st.markdown("**A sequence in, one answer out.** The network reads a bit string one bit at a time and "
                "answers at the end: is the number of 1s odd? (parity). The answer is read from its last hidden "
                "state only. The **Sentiment lab** does the course's *sentiment analysis* with reviews; its model "
                "pools every step's output instead (their max and mean).")
    c1, c2 = st.columns([2, 1])
    with c1:
        text = text_box("ar_3_bits", "Your bit string", INPUTS["bits"], 80,
                        help=f"0s and 1s, up to {seqtasks.PARITY_MAX}")
    train_len = c2.slider("Longest string in training", 4, 20, arch.DEFAULTS["many_to_one"]["train_len"],
                          key="ar_3_len", bind="query-params",
                          help=f"Trained on lengths 1 to this; tested up to 3× as long "
                               f"(at most {seqtasks.PARITY_MAX}).")
    try:
        bits = parsed(seqtasks.parse_bits, text)
    except ValueError as err:
        st.error(escape_md(str(err)))
        bits = seqtasks.parse_bits(INPUTS["bits"])
    cfg = settings("many_to_one", cells=("GRU", "LSTM", "RNN"), hidden=(8, 16, 32, 64))
    config = {"cell": cfg["cell"], "hidden": cfg["hidden"]}
    res = result_of("many_to_one")
    model = models_of("many_to_one", res)["model"] if res else arch.build_model("many_to_one", config, seed())
    out = arch.read_bits(model, bits)
    plot(arch_figures.flow_diagram("many_to_one", [str(b) for b in bits], ["odd" if out["answer"] else "even"],
                                   out["shapes"]), key="ar_3_flow", toolbar=False)
    st.caption(f"{out['shapes']['x']} (one-hot bits) → {out['shapes']['h']} → only the last step read: "
               f"{out['shapes']['y']}.")
    train("many_to_one", arch.many_to_one_job, {**config, "train_len": train_len, "steps": cfg["steps"]},
          f"parity, lengths 1–{train_len}", cfg["cell"], arch.n_params(model), "validation accuracy", {"chance": 0.5})
    if res is None:
        return
    m = res["metrics"]
    L = res["train_len"]
    k1, k2, k3 = st.columns(3)
    k1.metric(f"Test, lengths 1–{L}", pct(m["test_acc_trained_lengths"]))
    k2.metric(f"Test, lengths {L + 1}–{len(res['acc_by_length'])}", pct(m["test_acc_longer"]),
              help="Longer than any string it trained on")
    k3.metric("Chance", "50%")
    plot(arch_figures.length_accuracy_figure(res["acc_by_length"], L), key="ar_3_len_acc")
    st.caption("Each point: 100 fixed test strings of that length (all of them when there are fewer). Beyond the "
               "shaded lengths the network meets longer strings than it ever saw.")
    st.markdown(f"Your string: **{'odd' if out['answer'] else 'even'}** (P(odd) = {out['p_odd'][-1]:.1%}); "
                f"the truth: **{'odd' if out['truth'] else 'even'}**.")
    plot(arch_figures.running_answer_figure(bits, out["p_odd"]), key="ar_3_running")
    st.caption("The answer the network would give if the string stopped after each bit. A 1 should flip it, a "
               "0 leave it: the hidden state works as a switch.")


# --- many → many, synced ---------------------------------------------------------------------------------
QA_DEFAULT = INPUTS["qa_text"]


def sync():
    lessons("architectures", "sync")
    st.markdown("**One output per input, as the inputs arrive.** The network tags every character of a text: "
                "does its sentence end with **?** or with **.**? (the course's *part-of-speech tagging* and "
                "*named-entity recognition* are tags of this kind). The sentences are random words, and each "
                "one's mark is a coin flip, so the tag depends only on what comes *later*. A one-directional "
                "RNN has read only the past; a **bidirectional** RNN also reads the text backwards, so each "
                "tag sees the future. Both train side by side on the same batches.")
    text = text_box("ar_4_text", "Your text (letters, spaces, . and ?)", QA_DEFAULT, 120)
    try:
        text = parsed(seqtasks.parse_qa, text)
    except ValueError as err:
        st.error(escape_md(str(err)))
        text = QA_DEFAULT
    cfg = settings("sync")
    res = result_of("sync")
    configs = {n: {"cell": cfg["cell"], "hidden": cfg["hidden"], "bidirectional": n == "bidirectional"}
               for n in ("unidirectional", "bidirectional")}
    models = models_of("sync", res) if res else {n: arch.build_model("sync", c, seed()) for n, c in configs.items()}
    out = arch.tag_text(models, text)
    guess = {n: ["?" if p >= 0.5 else "." for p in probs] for n, probs in out["probs"].items()}
    d1, d2 = st.columns(2)
    for col, name in ((d1, "unidirectional"), (d2, "bidirectional")):
        with col:
            st.markdown(f"**{name.capitalize()}**")
            plot(arch_figures.flow_diagram("sync", list(text), guess[name], out["shapes"][name],
                                bidirectional=name == "bidirectional", max_steps=7, height=260),
                 key=f"ar_4_flow_{name}", toolbar=False)
            s = out["shapes"][name]
            both = ": forward ‖ backward states" if name == "bidirectional" else ""
            st.caption(f"{s['x']} → {s['h']} → {s['y']}{both}")
    ceiling, band = arch.qa_limits()
    st.caption(f"The limit of reading left to right, exactly: before its mark nothing says how a sentence ends, so "
               f"any one-directional reader is right half the time there, and can be right on every mark: "
               f"{pct(ceiling)} of the {arch.QA_TEST:,} test texts' characters at best (luck on these texts: "
               f"±{band:.1%} at most, 95%).")
    n_params = arch.total_params(models.values())
    train("sync", arch.sync_job, {"cell": cfg["cell"], "hidden": cfg["hidden"], "steps": cfg["steps"]},
          "question or statement", cfg["cell"], n_params, "validation accuracy", {"one-directional limit": ceiling})
    if res is None:
        return
    m = res["metrics"]
    k1, k2, k3 = st.columns(3)
    k1.metric("Unidirectional, test", pct(m["test_acc_unidirectional"]),
              help=f"{res['models']['unidirectional']['params']:,} weights")
    k2.metric("Its limit", pct(m["causal_ceiling"]), help=f"± {m['causal_band']:.1%} luck on these texts (95%)")
    k3.metric("Bidirectional, test", pct(m["test_acc_bidirectional"]),
              help=f"{res['models']['bidirectional']['params']:,} weights")
    st.html(arch_figures.tags_html(text, out["probs"], out["truth"]))
    st.caption("Orange: the model says *question*; blue: *statement*; white: a coin flip. Underlined in red: "
               "wrong. Characters after the last mark have no true tag.")
    by_distance = {n: res["models"][n]["by_distance"] for n in ("unidirectional", "bidirectional")}
    best_reader = seqtasks.ceiling_by_distance(len(by_distance["unidirectional"]) - 1)
    plot(arch_figures.distance_figure(by_distance, best_reader), key="ar_4_dist")
    st.caption("Test accuracy by how far the character is from its sentence's end mark (0: the mark itself). "
               "Dotted: the best any left-to-right reader can expect there, a coin flip before the mark. Where the "
               "answer lies in the future, only reading backwards helps.")


# --- encoder–decoder ---------------------------------------------------------------------------------------
DATE_DEFAULT = INPUTS["date"]


def date_input(key: str) -> str:
    text = text_box(key, "A date to normalise", DATE_DEFAULT, seqtasks.DATE_MAX_CHARS,
                    help=f"Written as in one of the {len(seqtasks.DATE_FORMATS)} formats it learned: "
                    + "; ".join(seqtasks.DATE_FORMATS))
    try:
        return parsed(seqtasks.parse_date_input, text)
    except ValueError as err:
        st.error(escape_md(str(err)))
        return DATE_DEFAULT


def answer_line(text: str, output: str, reference: tuple[str, str] | None) -> None:
    if reference is None:
        st.markdown(f"**{escape_md(text)}** → **{escape_md(output) or '(nothing)'}**. Not a date in one of the "
                    "formats it learned (or not a real date in 1950–2049), so there is no right answer to compare.")
    else:
        ok = "✓ right" if output == reference[0] else f"✗ the answer is {reference[0]}"
        st.markdown(f"**{escape_md(text)}** → **{escape_md(output) or '(nothing)'}** ({ok}; format "
                    f"*{escape_md(reference[1])}*).")


def seq2seq():
    lessons("architectures", "seq2seq")
    st.markdown("**A sequence in, a sequence of another length out.** An *encoder* RNN reads a date written "
                f"in one of {len(seqtasks.DATE_FORMATS)} ways; its last hidden state, the **context vector c**, "
                "starts a *decoder* RNN (and is read again at every output step), which writes the date as "
                "YYYY-MM-DD, one symbol at a time, each fed back in (the course's *machine "
                "translation* and *summarisation*). In training the decoder is fed the true previous symbol "
                "(**teacher forcing**); in use it is fed its own (**free running**), greedily.")
    text = date_input("ar_5_date")
    cfg = settings("seq2seq", hidden=(32, 64, 128))
    config = arch.seq2seq_config("dates", cfg["cell"], cfg["hidden"], None)
    res = result_of("seq2seq")
    model = models_of("seq2seq", res)["model"] if res else arch.build_model("seq2seq", config, seed())
    info = arch.translate(model, "dates", text)
    plot(arch_figures.flow_diagram("seq2seq", list(text), info["symbols"], arch.seq2seq_shapes(info), max_steps=12),
         key="ar_5_flow", toolbar=False)
    shapes = arch.seq2seq_shapes(info)
    st.caption(f"{shapes['x']} → {shapes['enc']} → only the last state goes on, {shapes['dec']} → "
               f"{shapes['y']}: {len(text)} symbols in, {len(info['symbols'])} out (■: the end symbol).")
    train("seq2seq", arch.seq2seq_job, {"task": "dates", "cell": cfg["cell"], "hidden": cfg["hidden"],
                                        "steps": cfg["steps"]},
          "dates → ISO", cfg["cell"], arch.n_params(model), "validation: whole date right")
    if res is None:
        return
    m = res["metrics"]
    k1, k2, k3 = st.columns(3)
    k1.metric("Test dates right", pct(m["test_exact"]), help=f"{N_TEST:,} fixed test dates, decoded free running")
    k2.metric("Wrong symbols, teacher forcing", pct(m["teacher_symbol_error"]))
    k3.metric("Wrong symbols, free running", pct(m["free_symbol_error"]))
    answer_line(text, info["output"], seqtasks.reference_date(text))
    st.dataframe(pd.DataFrame({"format": list(res["by_format"]), "test dates right": [pct(v) for v in
                                                                                       res["by_format"].values()]}),
                 hide_index=True, width="stretch")

    st.subheader("Teacher forcing vs free running")
    f = res["forcing"]
    plot(arch_figures.forcing_figure(f["teacher"], f["free"]), key="ar_5_forcing")
    if f["after_error_count"]:
        st.caption(f"On the same {N_TEST:,} test dates: after its first mistake, running free, "
                   f"{f['after_error_free']:.1%} of the symbols that follow are wrong too; fed the true symbols, "
                   f"{f['after_error_teacher']:.1%} of the same symbols are. A mistake fed back becomes the next "
                   "input: errors compound.")
    else:
        st.caption(f"Running free, it made no mistake on the {N_TEST:,} test dates: nothing to compound here.")
    reference = seqtasks.reference_date(text)
    if reference is None:
        st.info("Type a valid date above to put a mistake into its decoding.")
        return
    target = reference[0]
    c1, c2 = st.columns(2)
    pos = c1.slider("Put a mistake at output symbol", 1, len(target), INPUTS["mistake_at"], key="ar_5_pos",
                    bind="query-params")
    right = target[pos - 1]
    choices = list(seqtasks.ISO_VOCAB.alphabet)
    wrong = c2.selectbox(f"Write instead of “{right}”", choices, choices.index(INPUTS["mistake"]), key="ar_5_wrong",
                         bind="query-params", help="The symbol fed to the decoder at that position.")
    if wrong == right:
        st.info(f"“{wrong}” is the right symbol there: choose another one to make a mistake.")
    demo = arch.forcing_demo(model, "dates", text, target, pos - 1, wrong)
    st.dataframe(pd.DataFrame({"decoder fed": ["the true previous symbols (teacher forcing)",
                                                "its own previous symbols (free running)",
                                                f"the true ones, then “{wrong}” at {pos}, then its own"],
                               "writes": [demo["teacher"], demo["free"], demo["mistake"]],
                               "right?": ["✓" if demo["teacher"] == target else "✗",
                                          "✓" if demo["free"] == target else "✗",
                                          "✓" if demo["mistake"] == target else "✗"]}),
                 hide_index=True, width="stretch")
    st.caption(f"The right answer is {target}. After the forced mistake the decoder carries on from the prefix it "
               "was given, right or wrong (in training it was always fed the true symbols).")


# --- attention ---------------------------------------------------------------------------------------------
def attention():
    lessons("architectures", "attention")
    st.markdown("**The same encoder–decoder, with attention.** Without it, everything the decoder knows of the "
                "input is one vector, c. With attention, at every output step the decoder scores every encoder "
                "state, turns the scores into weights α that sum to 1 (a softmax over the input positions), and "
                "reads their weighted sum: a new context for each symbol it writes (Bahdanau et al. 2015; Luong "
                "et al. 2015). Both models train side by side, on the same batches, to **reverse a string of "
                f"letters** ({seqtasks.REV_MIN} to {seqtasks.REV_MAX}) — or on the dates.")
    c1, c2, c3 = st.columns(3)
    task = c1.radio("Task", ["reverse", "dates"], key="ar_6_task", bind="query-params", horizontal=True,
                    format_func=lambda t: {"reverse": "reverse letters", "dates": "dates"}[t])
    kind = c2.radio("Attention", ["luong", "bahdanau"], key="ar_6_kind", bind="query-params", horizontal=True,
                    format_func=lambda k: {"luong": "Luong (general)", "bahdanau": "Bahdanau (additive)"}[k],
                    help="Luong scores the decoder's current state; Bahdanau its previous state, and feeds the "
                         "context into the step (slower to train: its decoder cannot run as one fused kernel).")
    metric = c3.radio("Accuracy", ["exact", "symbols"], key="ar_6_metric", bind="query-params", horizontal=True,
                      format_func=lambda m: {"exact": "whole output", "symbols": "per symbol"}[m])
    if task == "reverse":
        raw = text_box("ar_6_letters", "Letters to reverse", INPUTS["letters"], seqtasks.REV_MAX)
        try:
            text = parsed(seqtasks.parse_letters, raw)
        except ValueError as err:
            st.error(escape_md(str(err)))
            text = INPUTS["letters"]
    else:
        text = date_input("ar_6_date")
    cfg = settings("attention", hidden=(32, 64, 128))
    res = result_of("attention")
    if res is not None and (res.get("task") != task or res["config"]["attention"] != kind):
        st.info(f"The models below were trained on **{res['task']}** with **{res['config']['attention']}** "
                "attention; press Train to train these settings.")
    task_now = res["task"] if res else task
    if task_now != task:
        text = INPUTS["letters"] if task_now == "reverse" else DATE_DEFAULT
    if res:
        models = models_of("attention", res)
    else:
        models = {n: arch.build_model("attention", arch.seq2seq_config(task, cfg["cell"], cfg["hidden"], a), seed())
                  for n, a in (("without attention", None), ("with attention", kind))}
    infos = {n: arch.translate(m, task_now, text) for n, m in models.items()}
    att = infos["with attention"]
    first_row = att["attention"][0].tolist() if att["attention"] is not None else None
    plot(arch_figures.flow_diagram("seq2seq", list(text), att["symbols"], arch.seq2seq_shapes(att), attention=first_row,
                        max_steps=12), key="ar_6_flow", toolbar=False)
    shapes = arch.seq2seq_shapes(att)
    st.caption(f"Blue arcs: the weights α with which the {'trained' if res else 'untrained'} decoder reads each "
               "encoder state while it writes its first symbol (thicker: more weight); it gets a new row of "
               f"weights for every symbol: α is {len(att['symbols'])} × {len(text)} here. {shapes['x']} → "
               f"{shapes['enc']} → {shapes['y']}.")
    n_params = arch.total_params(models.values())
    train("attention", arch.attention_job, {"task": task, "cell": cfg["cell"], "hidden": cfg["hidden"],
                                            "attention": kind, "steps": cfg["steps"]},
          f"{task} with/without attention", cfg["cell"], n_params, "validation: whole output right")
    if res is None:
        return
    parts = res["models"]
    names = [n for n in ("without attention", "with attention") if n in parts]
    if len(names) < 2:
        st.warning("The test was stopped before both models were scored.")
    by = {n: parts[n]["by_length"] for n in names}
    first = by[names[0]]
    plot(arch_figures.length_comparison_figure(first["bins"], {n: by[n][metric] for n in names}, first["counts"],
                                    "whole output right" if metric == "exact" else "symbols right"),
         key="ar_6_lengths")
    if len(names) == 2:
        a, b = by["with attention"][metric], by["without attention"][metric]
        what = "whole outputs" if metric == "exact" else "symbols"
        st.markdown(f"**Measured** on the {N_TEST:,} fixed test inputs, longest inputs ({first['bins'][-1]} "
                    f"characters, {first['counts'][-1]} of them): {what} right **{pct(a[-1])} with attention** and "
                    f"**{pct(b[-1])} without**; shortest ({first['bins'][0]}): {pct(a[0])} and {pct(b[0])}.")
        drop_a, drop_b = a[0] - a[-1], b[0] - b[-1]
        if drop_b > drop_a + 0.1:
            st.caption("As Bahdanau et al. (2015) found for translation: the fixed-size context loses more as inputs "
                       "grow; reading the encoder states directly holds up better.")
        else:
            st.caption("Here the two models lose about as much with length: on this task and training budget, "
                       "the fixed context vector was enough — not the classic result, and this is what was measured.")
    cols = st.columns(2)
    for col, n in zip(cols, ("without attention", "with attention")):
        if n in infos:
            written = escape_md(infos[n]["output"]) or "(nothing)"
            col.markdown(f"**{n.capitalize()}**: {escape_md(text)} → **{written}**")
    if att["attention"] is not None:
        plot(arch_figures.attention_heatmap(att["attention"], text, att["symbols"]), key="ar_6_heat")
        st.caption("Each row: where the decoder looked while writing that symbol (α sums to 1 across the row). "
                   "For reversing, expect an anti-diagonal: often one step right of the mirrored letter, at the letter "
                   "just written (the encoder's state there still holds the letter before it).")
    st.caption("Attention became the standard answer to long inputs: Transformers (Vaswani et al. 2017) keep the "
               "attention and drop the recurrence altogether, and replaced RNNs in most of these tasks.")


for section, tab in tabs.items():
    if tab.open:
        with tab:
            {"one_to_one": one_to_one, "one_to_many": one_to_many, "many_to_one": many_to_one, "sync": sync,
             "seq2seq": seq2seq, "attention": attention}[section]()

reset_button("ar")
next_page(PAGE)
