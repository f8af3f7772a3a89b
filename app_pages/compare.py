"""RNN vs CNN vs MLP vs Transformer: the course's comparison table, measured. Four models with the same
number of weights train on a memory task and on Shakespeare through the job runner; their speed and memory
are timed on this machine by a job; the table is filled in from those measurements."""
import math
import time

import pandas as pd
import streamlit as st

from app_pages import training
from app_pages.common import escape_md, lessons, next_page, plot, reset_button, seed
from rnnlab.data.recall import RecallTask
from rnnlab.figures.compare import (
    accuracy_figure,
    course_table_html,
    lm_figure,
    memory_figure,
    sensitivity_figure,
    step_time_figure,
    token_time_figure,
    training_figure,
    views_figure,
)
from rnnlab.labs.compare import (
    CELL_LABELS,
    CHAR_LINEUP,
    EVAL_CHARS,
    LM_RESERVE,
    LM_STREAMS,
    RECALL_LINEUP,
    RECALL_STEPS,
    RECALL_T,
    SPAN_ACCURACY,
    SPEED_LINEUP,
    VAL_STREAMS,
    Lineup,
    charlm_job,
    course_table,
    recall_job,
    size_problem,
    speed_job,
    within_beyond,
)
from rnnlab.nn.seqmodels import KINDS, LONG_NAMES, size_of

PAGE = "app_pages/compare.py"
# job keys do not start with "cmp": the page's reset button must not forget a running training
JOB_RECALL, JOB_LM, JOB_SPEED = "compare_recall_job", "compare_lm_job", "compare_speed_job"
CELLS = {k: CELL_LABELS[k] for k in ("LSTM", "GRU", "RNN")}     # the first is the default
CHAR_VOCAB = 65           # tiny-shakespeare's characters
SPEED_VOCAB = 65


def kilo(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 else str(n)


st.title("RNN vs CNN vs MLP vs Transformer")
# The introduction one click away, the lessons and the reset button under the tabs: the Memory tab's controls, its
# Train button and its result share the first screen.
with st.expander("About this page"):
    st.markdown("The course compares recurrent, convolutional and feed-forward networks in a table: what input each "
                "takes, whether it has a memory, whether it shares its weights, how fast it trains, what it is best "
                "at. Here the claims are **measured**: four models with the same number of weights (a recurrent net, "
                "a causal dilated CNN, an MLP on a window of the last tokens and a small causal Transformer) train on "
                    "the same data, and are timed on this machine.")

# short names: the four fit a phone's width
tab_mem, tab_lm, tab_speed, tab_table = st.tabs(["Memory", "Shakespeare", "Speed", "Table"], key="cmp_tab",
                                                bind="query-params")


def with_models(when_done):
    """``when_done`` for the comparison's jobs: called only for a job that returned models."""
    return lambda job: when_done(job) if job.result.get("models") else None


def sizes_table(lu: Lineup, settings: dict, sizes: dict) -> None:
    width = {"RNN": lambda s: f"{s['hidden_size']} units", "CNN": lambda s: f"{s['channels']} channels",
             "MLP": lambda s: f"{s['hidden_size']} units per layer", "Transformer": lambda s: f"width {s['d_model']}"}
    views = lu.views()
    rows = [{"model": lu.label(k), "what it is": LONG_NAMES[k], "weights": f"{sizes[k]:,}",
             "width": width[k](settings[k]),
             "sees back": "no limit (its state)" if views[k] is None else f"{views[k]} tokens"} for k in KINDS]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


# --- memory over distance ---------------------------------------------------------------------------------
def memory_part() -> None:
    st.markdown("**The task.** A sequence of random symbols, one of them *marked*; after the last token, say which "
                "symbol was marked. It sits **k** steps before the end, so the answer depends on one token k steps "
                "back: a model that cannot see that far can only guess. Training mixes every k; the test has 64 "
                "fixed sequences for each k (the same for everyone).")
    c1, c2, c3, c4 = st.columns(4)
    cell = c1.selectbox("Recurrent cell", list(CELLS), format_func=CELLS.get, key="cmp_cell", bind="query-params")
    size = c2.select_slider("Weights per model", [10_000, 20_000, 50_000, 100_000], RECALL_LINEUP.params,
                            format_func=kilo, key="cmp_size", bind="query-params",
                            help="Each model's width is chosen so that it has about this many weights.")
    T = c3.select_slider("Sequence length T", [16, 32, 64, 128], RECALL_T, key="cmp_T", bind="query-params")
    steps = c4.select_slider("Training steps", [100, 200, 400, 800, 1600], RECALL_STEPS, key="cmp_steps",
                             bind="query-params",
                             help="Batches of 64 sequences; every model trains on the same batches.")
    c5, c6, c7, c8 = st.columns([1, 1, 1, 0.8], vertical_alignment="bottom")
    window = c5.select_slider("MLP window (tokens)", [1, 2, 4, 8, 16, 32], RECALL_LINEUP.window, key="cmp_window",
                              bind="query-params")
    layers = c6.select_slider("CNN layers (kernel 2, dilations 1, 2, 4 …)", [1, 2, 3, 4, 5, 6, 7],
                              RECALL_LINEUP.cnn_layers, key="cmp_layers", bind="query-params",
                              help="Each layer doubles the receptive field: 2, 4, 8, 16, 32, 64, 128 tokens.")
    context = c7.select_slider("Transformer context (tokens)", [4, 8, 16, 32, 64, 128], RECALL_LINEUP.context,
                               key="cmp_context", bind="query-params")
    lu = Lineup(params=size, cell=cell, window=window, cnn_layers=layers, context=context)
    task = RecallTask(T)
    settings = lu.settings(task.vocab_size, task.symbols)
    sizes = {k: size_of(k, task.vocab_size, task.symbols, **s) for k, s in settings.items()}
    problem = size_problem(sizes, size, lu.labels())
    limit = problem or training.check_limits(params=max(sizes.values()))
    if limit:
        st.error(escape_md(limit))

    def start() -> training.Submission:
        params = {"size": size, "T": T, "steps": steps, "window": window, "cnn_layers": layers, "context": context,
                  "symbols": task.symbols}
        return training.Submission(
            recall_job, {"lineup": lu.to_dict(), "T": T, "symbols": task.symbols, "steps": steps, "seed": seed()},
            seed=seed(), meta={"lab": "compare", "task": f"memory over distance, T={T}",
                               "cell": f"{lu.label('RNN')} vs CNN vs MLP vs Transformer", "params": params,
                               "total_steps": steps * len(KINDS)})

    # the button beside the controls and its result right under them; what each model sees (the lineup) follows
    train = training.Button("▶ Train the four", key="cmp_train", disabled=bool(limit), where=c8)
    training.train_live(JOB_RECALL, train, start, recall_live, with_models(recall_results),
                        idle="Press **Train the four**: each model's training accuracy, then its test accuracy at "
                             "every k, appear here.")
    plot(views_figure(lu.views(), lu.labels(), T), key="cmp_views", toolbar=False)
    st.caption(f"What each model can see from the last token, where it answers. The CNN's receptive field is "
               f"1 + (kernel − 1)(1 + 2 + … + 2^(layers−1)) = {lu.views()['CNN']}; the MLP reads a window of "
               f"{window}; the Transformer at most {context} tokens; the recurrent net reads every token into its "
               "state. (A test changes a token just outside each view and checks the output does not move.)")
    with st.expander("The four models and their weights"):
        sizes_table(lu, settings, sizes)


def recall_done(job) -> dict:
    """The models of a memory job that have been tested so far, by name."""
    return {e.data["model"]: dict(e.data) for e in job.of_kind("model_done")}


def recall_live(job) -> None:
    """While the four train: each one's training accuracy, and the test at every k of those done."""
    done = recall_done(job)
    T_job, symbols = job.kwargs["T"], job.kwargs["symbols"]
    labels = Lineup.from_dict(job.kwargs["lineup"]).labels()
    curves = {}
    for e in job.of_kind("train"):
        xs, ys = curves.setdefault(e.data["model"], ([], []))
        xs.append(e.step)
        ys.append(e.data["acc"])
    if curves:
        plot(training_figure(curves, labels, 1 / symbols, job.kwargs["steps"]), key="cmp_train_live")
        last = job.last("train")
        st.caption(f"Training the {labels[last.data['model']]}: step {last.step:,}; accuracy on its batches "
                   f"of 64 sequences (every k mixed; chance {1 / symbols:.0%}). Each model's test at every k "
                   "appears below as soon as it has trained.")
    if done:
        plot(accuracy_figure(done, 1 / symbols, T_job), key="cmp_acc_live")


def recall_results(job) -> None:
    """The memory test of the four: accuracy at every k, how far each holds, and why."""
    r = job.result
    models, T_job = r["models"], r["task"]["T"]
    plot(accuracy_figure(models, r["chance"], T_job), key="cmp_acc")
    st.caption(f"Test accuracy at every k, {r['per_k']} fixed sequences each (chance {r['chance']:.1%}). The "
               "dotted vertical lines mark where each bounded view ends.")
    cols = st.columns(len(models))
    for col, (_k, m) in zip(cols, models.items()):
        value = f"k ≤ {m['span']}" if m["span"] >= 0 else "none"
        col.metric(f"{m['label']}: holds", value, f"{m['mean_acc']:.0%} over all k", delta_color="off",
                   delta_arrow="off",
                   help=f"The longest distance up to which test accuracy stays at or above {SPAN_ACCURACY:.0%}.")
    lines = []
    for _k, m in models.items():
        if m["view"] > 0 and m["view"] < T_job:
            within, beyond = within_beyond(m["acc"], m["view"])
            lines.append(f"- **{m['label']}** sees {m['view']} tokens: {within:.0%} "
                         f"within, {beyond:.0%} beyond (chance {r['chance']:.0%}).")
        elif m["view"] < 0:
            reach = "every distance of this task" if m["span"] >= T_job - 1 else "then its memory gives out"
            lines.append(f"- **{m['label']}** has no fixed view: it holds k ≤ {m['span']} ({reach}).")
        else:
            lines.append(f"- **{m['label']}** sees the whole sequence ({m['view']} ≥ T = {T_job}).")
    st.markdown("\n".join(lines))
    with st.expander("How strongly does each answer depend on the marked token?", expanded=False):
        plot(sensitivity_figure(models, T_job), key="cmp_sens")
        st.caption("The gradient of the correct answer's score with respect to the marked token, k steps back "
                   "(log scale), averaged over 8 test sequences per k. Beyond its view a model's is exactly 0 "
                   "(not drawn). A recurrent net's must travel back through every step: a fading line is the "
                   "vanishing gradient that limits what it learns to hold.")
    st.caption(" · ".join(f"{m['label']}: {m['params']:,} weights, {m['steps']:,} steps in {m['seconds']:.0f} s"
                          for m in models.values()))


if tab_mem.open:
    with tab_mem:
        memory_part()


# --- character language model -----------------------------------------------------------------------------
def lm_part() -> None:
    st.markdown("**Character language modelling** on tiny-shakespeare (the Text generation page's text): each "
                "model trains for the same number of seconds, one after the other, and is validated on the same "
                f"{EVAL_CHARS:,} held-out characters as it goes. The recurrent net reads the text as the "
                f"Text generation page's recipe does ({LM_STREAMS} long streams, its state carried from window to "
                "window); the others train on random windows. Each learning rate was tuned the same way for a short "
                "budget.")
    c1, c2, c3 = st.columns(3)
    cell = c1.selectbox("Recurrent cell", list(CELLS), format_func=CELLS.get, key="cmp_lm_cell", bind="query-params")
    size = c2.select_slider("Weights per model", [50_000, 100_000, 200_000, 400_000], CHAR_LINEUP.params,
                            format_func=kilo, key="cmp_lm_size", bind="query-params")
    max_each = int((training.limits().max_seconds - 10) / len(KINDS) - LM_RESERVE)
    choices = [s for s in (10, 20, 30, 45, 60, 90, 120) if s <= max_each] or [max(max_each, 5)]
    seconds = c3.select_slider("Training seconds per model", choices, 30 if 30 in choices else choices[-1],
                               key="cmp_lm_secs", bind="query-params",
                               help=f"The class's limit per training ({training.limits().max_seconds:.0f} s) "
                                    "covers all four and their validations.")
    c4, c5, c6 = st.columns(3)
    window = c4.select_slider("MLP window", [8, 16, 32, 64], CHAR_LINEUP.window, key="cmp_lm_window",
                              bind="query-params")
    layers = c5.select_slider("CNN layers", [4, 5, 6, 7, 8], CHAR_LINEUP.cnn_layers, key="cmp_lm_layers",
                              bind="query-params", help="Receptive field 2^layers characters (kernel 2).")
    context = c6.select_slider("Transformer context", [32, 64, 128, 256], CHAR_LINEUP.context, key="cmp_lm_context",
                               bind="query-params")
    lu = Lineup(params=size, cell=cell, embed=CHAR_LINEUP.embed, cnn_layers=layers, window=window, context=context)
    settings = lu.settings(CHAR_VOCAB)
    sizes = {k: size_of(k, CHAR_VOCAB, None, **s) for k, s in settings.items()}
    with st.expander("The four models and their weights"):
        sizes_table(lu, settings, sizes)
    job_seconds = len(KINDS) * (seconds + LM_RESERVE) + 10
    problem = size_problem(sizes, size, lu.labels())
    limit = problem or training.check_limits(params=max(sizes.values()), seconds=job_seconds)
    if limit and not problem and seconds == min(choices) and max_each < min(choices):
        # no choice on this page fits: say so, rather than ask for something the student cannot change
        limit += (f" Even {seconds} s per model needs {job_seconds:.0f} s for the four: this tab needs the teacher to "
                  "raise the class's time limit.")
    if limit:
        st.error(escape_md(limit))

    def start() -> training.Submission:
        # the class's whole time limit, not just job_seconds: each model stops at its own budget anyway, and
        # on a busy machine the validations take longer than their reserve
        params = {"size": size, "seconds": seconds, "window": window, "cnn_layers": layers, "context": context}
        return training.Submission(charlm_job, {"lineup": lu.to_dict(), "seconds": float(seconds), "seed": seed()},
                                   seed=seed(), meta={"lab": "compare", "task": f"tiny-shakespeare, {seconds} s each",
                                                      "cell": f"{lu.label('RNN')} vs CNN vs MLP vs Transformer",
                                                      "params": params})

    def curves(job) -> dict:
        lu_job = Lineup.from_dict(job.kwargs["lineup"])
        out = {}
        for e in job.of_kind("lm_eval"):
            k = e.data["model"]
            out.setdefault(k, {"label": lu_job.label(k), "curve": []})["curve"].append(
                {"seconds": e.data["seconds"], "loss": e.data["loss"]})
        return out

    def draw(job):
        c = curves(job)
        if c:
            plot(lm_figure(c, math.log(CHAR_VOCAB)), key="cmp_lm_live")

    def done(job):
        r = job.result
        plot(lm_figure(r["models"], r["chance"]), key="cmp_lm_plot")
        st.caption(f"Validation loss on {r['val_chars']:,} held-out characters against each model's own training "
                   f"time (validations paused its clock). In validation the recurrent net reads them as "
                   f"{VAL_STREAMS} long streams with its state carried along; the CNN and the MLP score every "
                   "character with their whole view before it; the Transformer reads windows of its context half a "
                   "context apart.")
        rows = [{"model": m["label"], "validation loss": round(m["val_loss"], 3), "weights": f"{m['params']:,}",
                 "training steps": m["steps"], "characters read": f"{m['chars']:,}",
                 "training s": round(m["train_s"], 1), "CPU s": round(m["cpu_s"], 1)} for m in r["models"].values()]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        busy = [m for m in r["models"].values() if m["train_s"] > 0 and m["cpu_s"] / m["train_s"] < 0.7]
        if busy:
            st.caption("CPU seconds well below training seconds: other work shared this machine's cores while it "
                       "trained, so each model got less computing than its clock says.")
        for m in r["models"].values():
            with st.expander(f"A sample from the {m['label']} (temperature 0.8)"):
                st.code(m["sample"], language=None, wrap_lines=True)

    train = training.Button("▶ Train the four", key="cmp_lm_train", disabled=bool(limit))
    training.train_live(JOB_LM, train, start, draw, with_models(done))


if tab_lm.open:
    with tab_lm:
        lm_part()


# --- speed and memory -------------------------------------------------------------------------------------
@st.cache_resource
def shared_measurements() -> dict:
    """The last speed measurement of each configuration on this server, for every session."""
    return {}


def speed_part() -> None:
    st.markdown("**Time and memory on this machine.** A job times each model (about the same number of weights) "
                "on batches of 16 sequences of T tokens: one training step (forward, backward, Adam) and the memory "
                "kept for the backward pass; then the time to predict one **new token** after H tokens: the "
                "recurrent net steps its running state, the others reread what they can see (the Transformer "
                "without a cache, its context raised to 1,024 — its weights do not change).")
    c1, c2, c3 = st.columns([1, 1, 1], vertical_alignment="bottom")
    cell = c1.selectbox("Recurrent cell", list(CELLS), format_func=CELLS.get, key="cmp_sp_cell", bind="query-params")
    size = c2.select_slider("Weights per model", [50_000, 100_000, 200_000], SPEED_LINEUP.params, format_func=kilo,
                            key="cmp_sp_size", bind="query-params")
    lu = Lineup(**{**SPEED_LINEUP.to_dict(), "params": size, "cell": cell})
    config = (cell, size)
    store = shared_measurements()
    limit = training.check_limits(params=max(lu.sizes(SPEED_VOCAB).values()))
    measure = training.Button("Measure on this machine", key="cmp_sp_go", primary=False, disabled=bool(limit),
                              stretch=True, where=c3, help="Runs as a job in a worker process; its progress shows "
                                                           "below.")
    if limit:
        st.error(escape_md(limit))

    def start() -> training.Submission:
        return training.Submission(speed_job, {"lineup": lu.to_dict(), "seed": seed()}, seed=seed(),
                                   meta={"lab": "compare", "task": "speed and memory",
                                         "cell": f"{lu.label('RNN')} vs CNN vs MLP vs Transformer",
                                         "params": {"size": size}})

    def draw(job):
        rows = [e.data for e in job.of_kind("speed") if e.data["what"] == "step"]
        if rows:
            labels = Lineup.from_dict(job.kwargs["lineup"]).labels()
            Ts = sorted({r["T"] for r in rows})
            partial = {"Ts": Ts, "batch": 16, "labels": labels,
                       "step": {k: [r["seconds"] for r in rows if r["model"] == k] for k in KINDS}}
            plot(step_time_figure(partial), key="cmp_sp_live")

    def done(job):
        lu_job = Lineup.from_dict(job.kwargs["lineup"])
        if job.result.get("complete"):
            store[(lu_job.cell, lu_job.params)] = job.result

    training.train_live(JOB_SPEED, measure, start, draw, done)
    res = store.get(config)
    if res is None:
        st.info("No measurement of these models on this server yet: press **Measure on this machine**.")
        return
    ago = time.time() - res["measured_at"]
    load = res.get("load_before") or []
    st.caption(f"Measured {ago / 60:.0f} min ago by a job on this server ({res['threads']} torch thread(s), "
               f"{res['cores']} cores"
               + (f"; load average {load[0]:.1f} before, {res['load_after'][0]:.1f} after" if load else "")
               + "). Each time is the fastest of a few runs: other work on the machine only makes runs slower.")
    plot(step_time_figure(res), key="cmp_sp_step")
    st.caption("Time per training step as the sequences grow (log-log: a straight line of slope 1 is work in "
               "proportion to T, slope 2 in proportion to T²).")
    plot(token_time_figure(res), key="cmp_sp_token")
    st.caption("Time to predict one new token after H tokens. The recurrent net reads it into its state; the CNN and "
               "the MLP reread their view; the Transformer without a cache rereads all H tokens of its context.")
    plot(memory_figure(res), key="cmp_sp_mem")
    st.caption("Memory kept for the backward pass of one training step, measured with autograd's saved-tensor "
               "hooks. To generate, the recurrent net keeps " + f"{res['state']['RNN'][-1]:,} numbers (its state); "
               f"the Transformer without a cache the {res['history'][-1] - 1:,} tokens before "
               f"({res['state']['Transformer'][-1]:,} numbers as embeddings).")


if tab_speed.open:
    with tab_speed:
        speed_part()


# --- the course's table -----------------------------------------------------------------------------------
def table_part() -> None:
    recall_job = training.current(JOB_RECALL)
    lm_job = training.current(JOB_LM)
    recall = (recall_job.result if recall_job is not None and recall_job.result and recall_job.result.get("models")
              else None)
    charlm = lm_job.result if lm_job is not None and lm_job.result and lm_job.result.get("models") else None
    store = shared_measurements()
    speed_job = training.current(JOB_SPEED)
    speed = (speed_job.result if speed_job is not None and speed_job.result and speed_job.result.get("complete")
             else None)
    if speed is None and store:
        speed = max(store.values(), key=lambda r: r["measured_at"])
    lu = Lineup.from_dict(recall["lineup"]) if recall else RECALL_LINEUP
    rows = course_table(recall, charlm, speed, lu)
    st.html(course_table_html(rows, lu.labels()))
    sources = [("memory over distance", recall is not None), ("language model", charlm is not None),
               ("speed and memory", speed is not None)]
    st.caption("Filled in from " + ", ".join(f"{n} ({'measured' if ok else 'not yet run'})" for n, ok in sources)
               + ". The models' settings are those of your last recall training (or the defaults). The Transformer "
               "is not in the course's table: its row of claims is the usual one.")


if tab_table.open:
    with tab_table:
        table_part()

lessons("compare")
reset_button("cmp")
next_page(PAGE)
