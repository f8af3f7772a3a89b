"""Gradients lab: watch gradients vanish and explode, and see why LSTM and GRU exist.

Every setting is a widget keyed ``gr_...`` and bound to the URL; the sliders of a section run in a
fragment that redraws only that section; every training runs as a job in a worker process
(``rnnlab.labs.longrange`` / ``rnnlab.labs.clipping``) whose events the live fragments plot.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from app_pages import training
from app_pages.common import intro, keep_text_in_url, lessons, next_page, plot, reset_button, seed, url_text
from rnnlab.data.tasks import ADDING_EXPECTED_BASELINE, COPY_LENGTH, COPY_SYMBOLS, LE_2015_ADDING_MSE
from rnnlab.figures.gradients import (
    LABELS,
    clipping_figure,
    flow_label,
    flow_summary,
    gradient_flow_figure,
    jacobian_figure,
    sweep_figure,
    task_curves,
    training_heatmap,
    truncation_figure,
    weight_criterion_figure,
)
from rnnlab.labs.clipping import clipped_steps, clipping_job
from rnnlab.labs.gradients import (
    CELL_CHOICES,
    JACOBIAN_POINTS,
    PAGE_FORGET_BIAS,
    SKETCH_DIRECTIONS,
    criterion_verdict,
    gradient_flow,
    overflow_note,
    sci,
    sentence_inputs,
    sigmoid,
    truncated_share,
    truncation_effect,
    truncation_verdict,
    zero_flows,
)
from rnnlab.labs.longrange import (
    CELLS,
    DEFAULT_SWEEP,
    RACE_DEFAULTS,
    SOLVED_FRACTION,
    VALIDATION_SIZE,
    Sweep,
    baseline,
    race_job,
    record_job,
    solved_threshold,
    sweep_job,
    task_model_size,
)

SWEEP_FILE = Path(__file__).resolve().parents[1] / "assets" / "gradients" / "sweep_adding.json"
INITS = {"PyTorch default": "default", "orthogonal": "orthogonal", "identity": "identity"}
SCALES = {"no rescaling": None, "spectral radius ρ": "radius", "largest singular value σ_max": "sigma"}
DEFAULT_TEXT = "the film starts slowly but the ending is wonderful"
MAX_TEXT = 5000          # characters read from a typed sentence (the first 1,000 words are used)
URL_TEXT = 300           # the longest sentence kept in a link
MAX_STEPS = 2000
COPY_FORMULA = f"{COPY_LENGTH}·log {COPY_SYMBOLS}/(T+{2 * COPY_LENGTH})"   # copy_baseline's formula, in words
FLOW_HEIGHT = 290     # px: the two gradient-flow plots and the T slider share a 768-pixel screen
JOB_RACE, JOB_RECORD, JOB_CLIP, JOB_SWEEP = "job_gr_race", "job_gr_record", "job_gr_clip", "job_gr_sweep"

# The title shares its row with the reset button, and the lessons wait closed above the tabs: on a projector
# (1024×768) the T slider and the gradient-flow plots are on the first screen (tests/test_layout.py).
_title, _reset = st.columns([3, 1], vertical_alignment="bottom")
_title.title("Gradients lab")
with _reset:
    reset_button("gr")
intro("Training an RNN sends the error back through every time step (backpropagation through time). "
      "Each step multiplies the gradient by a Jacobian ∂h_t/∂h_(t-1); over many steps the product "
      "can shrink to nothing (**vanishing**) or blow up (**exploding**). Here you measure it.")
lessons("gradients")

tab_flow, tab_clip, tab_trunc, tab_long = st.tabs(
    ["Gradient flow", "Clipping", "Truncated BPTT", "Long-range tasks"], key="gr_tab",
    bind="query-params")


# --- shared, cached computations (keyed by content; the same for every session) --------------------------
@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def flows(cells: tuple[str, ...], T: int, hidden: int, init: str, scale_by: str | None, value: float,
          text: str | None, seed_: int, forget_bias: float, residual: bool):
    inputs = sentence_inputs(text, 8, seed_)[0] if text is not None else None
    out = []
    for with_skip in ((False, True) if residual else (False,)):
        out += [gradient_flow(c, T, hidden, init, value if scale_by else None, inputs=inputs, seed=seed_,
                              forget_bias=forget_bias, scale_by=scale_by or "radius", residual=with_skip)
                for c in cells]
    return out


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def truncation(cell: str, T: int, k: int, seed_: int, forget_bias: float):
    flow = gradient_flow(cell, T, 32, seed=seed_, forget_bias=forget_bias)
    return flow, truncation_effect(cell, T, k, seed=seed_, forget_bias=forget_bias)


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def task_baseline(task: str, T: int) -> tuple[float, float]:
    return baseline(task, T), solved_threshold(task, T)


# --- gradient flow -------------------------------------------------------------------------------------
@st.fragment
def flow_section() -> None:
    """T and the cells on top, the two gradient plots right under them, then the other settings (drawn
    first, since the plots depend on them, into a container placed below the plots)."""
    c1, c2, c3 = st.columns([1, 1.6, 1])
    T = c1.slider("Sequence length T", 5, 1000, 100, key="gr_T", bind="query-params")
    cells = c2.multiselect("Cells", list(CELL_CHOICES), default=["RNN (tanh)", "LSTM", "GRU"], key="gr_cells",
                           bind="query-params")
    hidden = c3.select_slider("Hidden size", [4, 8, 16, 32, 64, 128, 256], 32, key="gr_hidden", bind="query-params")
    shown = st.container()
    with st.container(border=True):
        init_label, scale_by, value, forget_bias, residual, text = flow_settings()
    if not cells:
        shown.info("Choose at least one cell.")
        return
    result = flows(tuple(CELL_CHOICES[c] for c in cells), T, hidden, INITS[init_label], scale_by, value, text,
                   seed(), forget_bias, residual)
    with shown:
        flow_plots(result, hidden)
    lstm = next((f for f in result if f.cell == "LSTM"), None)
    if lstm is not None:
        st.caption(f"LSTM forget-gate bias +{forget_bias:g}: its forget gates start near σ({forget_bias:g}) = "
                   f"{sigmoid(forget_bias):.2f}, and the direct path along c multiplies the gradient by f at each "
                   f"step. PyTorch starts at 0 (f ≈ {sigmoid(0):.2f}), Keras' `unit_forget_bias` at 1 "
                   f"(f ≈ {sigmoid(1):.2f}).")
    criterion(result, residual)


def flow_settings() -> tuple[str, str | None, float, float, bool, str | None]:
    """The gradient-flow tab's other settings: (initialisation, rescaling, its value, the LSTM's forget-gate
    bias, skip connections, the typed sentence or None for random input)."""
    c4, c5, c6 = st.columns(3)
    init_label = c4.selectbox("Initialisation", list(INITS), key="gr_init", bind="query-params")
    scale_label = c5.selectbox("Rescale each W_hh block to", list(SCALES), key="gr_scale", bind="query-params",
                               help="The spectral radius ρ is the largest |eigenvalue|; σ_max the largest "
                                    "singular value. ρ ≤ σ_max always, and Pascanu et al.'s criterion is on σ_max.")
    scale_by = SCALES[scale_label]
    value = c5.slider("σ_max(W_hh)" if scale_by == "sigma" else "ρ(W_hh)", 0.1, 3.0, 1.0, 0.05, key="gr_radius",
                      disabled=scale_by is None, bind="query-params",
                      help="Each W_hh block is multiplied by its own number so that its "
                           + ("largest singular value" if scale_by == "sigma" else "spectral radius")
                           + " is this value.")
    forget_bias = c6.slider("LSTM forget-gate bias", 0.0, 5.0, PAGE_FORGET_BIAS, 0.5, key="gr_fbias",
                            bind="query-params",
                            help="Added to the fresh LSTM's forget-gate bias: its gates start near f = σ(bias). "
                                 f"At 0 (PyTorch), f ≈ {sigmoid(0):.2f}: half of c is forgotten at every step. At 1 "
                                 f"(Keras' unit_forget_bias=True, after Jozefowicz et al. 2015), f ≈ {sigmoid(1):.2f}; "
                                 f"at 3, f ≈ {sigmoid(3):.2f} and c carries the gradient much further back.")
    c7, c8 = st.columns(2)
    residual = c7.toggle("Skip connections across time", key="gr_skip", bind="query-params",
                         help="h_t = cell(x_t, h_(t-1)) + h_(t-1): each step adds an identity path. "
                              "The plots then show every cell with (dashed) and without (solid).")
    source = c8.radio("Input", ["random", "typed sentence"], horizontal=True, key="gr_input", bind="query-params")
    text = None
    if source == "typed sentence":
        url_text("gr_text", DEFAULT_TEXT, URL_TEXT)
        text = st.text_input("Sentence (each word becomes a random 8-number vector)", key="gr_text",
                             max_chars=MAX_TEXT)[:MAX_TEXT]
        keep_text_in_url("gr_text", DEFAULT_TEXT, URL_TEXT)
        inputs, n_tokens = sentence_inputs(text, 8, seed())
        if inputs is None:
            st.warning("The sentence has no words: using random input instead.")
            text = None
        else:
            note = f" (only the first {len(inputs):,} are read)" if n_tokens > len(inputs) else ""
            st.caption(f"{n_tokens:,} tokens{note}: the sentence sets T.")
    return init_label, scale_by, value, forget_bias, residual, text


def flow_plots(result: list, hidden: int) -> None:
    """The two gradient-flow plots (short enough to sit under the T slider on a projector), the sentence that
    sums them up, how much of the gradient reaches step 1 in each cell, and how to read them."""
    T_shown = max(len(f.steps) for f in result)
    g1, g2 = st.columns(2)
    with g1:
        st.markdown("**‖∂L/∂h<sub>t</sub>‖: the gradient that reaches step t**", unsafe_allow_html=True)
        plot(gradient_flow_figure(result, height=FLOW_HEIGHT), key="gr_flow", summary=flow_summary(result),
             caption=True)
    with g2:
        st.markdown("**‖∂h<sub>T</sub>/∂h<sub>t</sub>‖: the Jacobian product's norm**", unsafe_allow_html=True)
        plot(jacobian_figure(result, height=FLOW_HEIGHT), key="gr_jac")
    for f in result:
        note = overflow_note(f, flow_label(f))
        if note:
            st.warning(note, icon=":material/warning:")
    cols = st.columns(min(len(result), 4))
    for k, f in enumerate(result):
        cols[k % len(cols)].metric(f"{flow_label(f)}: ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖", sci(f.log10_ratio_first_last()),
                                   help="How much of the gradient reaches the first step "
                                        "(1 = nothing lost; above 1, it grew).")
    st.caption("The loss L = w·h_T depends on the last step only. Read each curve from right to left: how much of "
               "the error signal is left after travelling back T - t steps. The dotted line is 1; falling curves "
               "are vanishing gradients, climbing ones exploding gradients. The norms are computed in log space, "
               f"so values far below {np.finfo(float).tiny:.1e} (the smallest normal float64) are still accurate."
               + (f" The Jacobian's norm is drawn at {JACOBIAN_POINTS} evenly spread steps."
                  if T_shown > JACOBIAN_POINTS else ""))
    zero = [flow_label(f) for f in zero_flows(result)]
    if zero:
        st.caption(f"Gaps in {', '.join(zero)}: there the gradient is exactly 0, not just small (at some step on "
                   "the way back every relu unit was off, so nothing flows through).")
    if any(not f.jacobian_exact for f in result):
        st.caption(f"Hidden size {hidden}: the Jacobian norm is a lower bound from {SKETCH_DIRECTIONS} random "
                   "directions (the exact one needs an SVD of a large matrix per step).")


def criterion(result: list, residual: bool) -> None:
    """Pascanu et al.'s criterion on each cell's W_h blocks, and what skip connections and attention change."""
    st.markdown("**Pascanu et al.'s criterion: the largest singular value σ_max of each W_h block**")
    plot(weight_criterion_figure(result), key="gr_sigma")
    for f in result:
        if f.threshold is not None:
            s = f.sigma_max["W_hh"]
            st.markdown(f"**{LABELS.get(f.cell, f.cell)}**: σ_max(W_hh) = {s:.2f} (ρ = {f.radius['W_hh']:.2f}), "
                        f"{criterion_verdict(s, f.gamma['W_hh'])}.")
    st.caption("Pascanu, Mikolov & Bengio (2013): for h_t = f(W_hh h_(t-1) + ...), each step multiplies the gradient "
               "by at most σ_max(W_hh)·γ, where γ bounds |f'| (γ = 1 for tanh and relu). So σ_max < 1/γ guarantees "
               "vanishing, and σ_max > 1/γ is necessary for explosion. The spectral radius ρ (◆) is never larger "
               "than σ_max and is *not* the quantity in the theorem: with ρ < 1 the gradient can still grow for a "
               "while. Each block's own 1/γ is drawn (|): 1 for a tanh block, 4 for a sigmoid gate (γ = 1/4). "
               "For LSTM and GRU the simple rule does not decide anything: along the LSTM's cell state, "
               "c_t = f_t·c_(t-1) + …, the gradient is multiplied by the forget gate and by no weight matrix, and "
               "the GRU's z_t·h_(t-1) is the same kind of path; with gates near 1 that path keeps the gradient "
               "whatever σ_max is.")
    if residual:
        top = max((f for f in result if f.residual), key=lambda f: f.log10_ratio_first_last())
        st.caption("Skip connections (dashed): every Jacobian factor becomes I + ∂cell/∂h_(t-1), with eigenvalues "
                   "1 + λ instead of λ. That stops the steady shrinking, but a product of such factors is not the "
                   f"identity: it can explode (here {flow_label(top)}: ‖∂L/∂h₁‖/‖∂L/∂h_T‖ = "
                   f"{sci(top.log10_ratio_first_last())}). Residual networks pair skips with normalisation.")
    st.caption("Attention avoids the long trip back: it reads any earlier step directly, one step away however "
               "far back it is.")
    st.page_link("app_pages/architectures.py", icon=":material/target:", query_params={"ar_tab": "Attention"},
                 label="Attention, trained live")


# --- while a model trains ----------------------------------------------------------------------------------
def record_section() -> None:
    st.subheader("While a model trains")
    st.markdown("A cell learns the adding problem (last tab); every few steps we measure how far back its gradient "
                "reaches on a fixed batch. Each row of the heatmap is one snapshot.")
    d1, d2, d3 = st.columns(3)
    cell = d1.selectbox("Cell", list(CELLS), key="gr_hm_cell", bind="query-params")
    T = d2.slider("T", 10, 200, 50, 10, key="gr_hm_T", bind="query-params")
    steps = d3.slider("Training steps", 50, 1000, 300, 50, key="gr_hm_steps", bind="query-params")

    def start() -> training.Submission:
        return training.Submission(
            record_job, dict(cell=cell, T=T, steps=steps, hidden=32, seed=seed()), seed=seed(),
            meta={"lab": "gradients", "task": f"adding problem, T={T} (gradient snapshots)", "cell": cell,
                  "params": {"T": T, "steps": steps, "hidden": 32, "seed": seed()}, "total_steps": steps})

    def draw(job):
        prof = job.of_kind("profile")
        if prof:
            plot(training_heatmap(np.array([e.data["log10"] for e in prof]), [e.step for e in prof]),
                 key="gr_hm_live")

    def done(job):
        r = job.result
        plot(training_heatmap(np.asarray(r["profiles"]), list(r["at_steps"])), key="gr_hm_plot")
        run = r["run"]
        st.caption(f"{LABELS.get(r['cell'], r['cell'])} at T = {r['T']}: best validation MSE {run['final']:.4f} "
                   f"(baseline {run['baseline']:.4f}); "
                   + (f"solved at step {run['solved_at']}." if run["solved"] else "not solved.")
                   + " Dark at the left of a row: at that point of training the gradient from the loss did not "
                     "reach the early steps.")

    training.train_live(JOB_RECORD, training.Button("Train and record", key="gr_hm_go"), start, draw, done)


# --- clipping ------------------------------------------------------------------------------------------------
def clipping_section() -> None:
    st.markdown("A recurrent net whose W_hh is scaled up, trained with plain SGD on the adding problem: the "
                "gradient can grow exponentially with T, and one update can throw the weights far away. "
                "`clip_grad_norm_` rescales the whole gradient (all weights together) to the threshold whenever its "
                "norm exceeds it.")
    e1, e2, e3 = st.columns(3)
    cell = e1.selectbox("Cell", list(CELL_CHOICES), index=0, key="gr_cl_cell", bind="query-params")
    scale_label = e2.selectbox("Scale W_hh to", list(SCALES)[1:], key="gr_cl_scale", bind="query-params",
                               help="ρ: the spectral radius (largest |eigenvalue|); σ_max: the largest singular value.")
    scale_by = SCALES[scale_label]
    value = e3.slider("σ_max(W_hh)" if scale_by == "sigma" else "ρ(W_hh)", 0.5, 3.0, 1.5, 0.1, key="gr_cl_radius",
                      bind="query-params")
    f1, f2, f3, f4 = st.columns(4)
    lr = f1.select_slider("SGD learning rate", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0], 0.3, key="gr_cl_lr",
                          bind="query-params")
    thr = f2.slider("Clipping threshold", 0.1, 10.0, 1.0, 0.1, key="gr_cl_thr", bind="query-params")
    T = f3.slider("T", 10, 200, 50, 10, key="gr_cl_T", bind="query-params")
    steps = f4.slider("Steps", 50, 500, 200, 50, key="gr_cl_steps", bind="query-params")

    def start() -> training.Submission:
        params = dict(cell=CELL_CHOICES[cell], T=T, radius=value, scale_by=scale_by, lr=lr, threshold=thr,
                      steps=steps, seed=seed())
        return training.Submission(clipping_job, params, seed=seed(),
                                   meta={"lab": "gradients", "task": f"adding problem, T={T} (clipping)",
                                         "cell": cell, "params": params, "total_steps": 2 * steps})

    def curves(job) -> dict:
        runs: dict = {}
        for e in job.of_kind("step"):
            r = runs.setdefault(e.data["run"], {"steps": [], "loss": [], "grad_norm": [], "clipped": []})
            r["steps"].append(e.step)
            r["loss"].append(e.data["loss"])
            r["grad_norm"].append(e.data["grad_norm"])
            r["clipped"].append(e.data["clipped"])
        for e in job.of_kind("diverged"):
            runs.setdefault(e.data["run"],
                            {"steps": [], "loss": [], "grad_norm": [], "clipped": []})["status"] = "diverged"
        return runs

    def draw(job):
        runs = curves(job)
        if runs:
            plot(clipping_figure(runs, job.kwargs["threshold"]), key="gr_cl_live")

    def done(job):
        r = job.result
        plot(clipping_figure(r["runs"], r["threshold"]), key="gr_cl_plot")
        for name, run in r["runs"].items():
            if run["status"] == "diverged":
                st.error(f"**{name}**: {run['message']}")
            elif run["loss"]:
                n_clip = clipped_steps(run)
                st.success(f"**{name}**: {run['message']} Final loss {run['loss'][-1]:.4f}"
                           + (f"; {n_clip} of {len(run['clipped'])} steps were clipped." if name == "with clipping"
                              else "."))

    training.train_live(JOB_CLIP, training.Button("Train with and without clipping", key="gr_cl_go"), start, draw,
                        done, idle=lambda: st.info("Press the button: both runs start from the same weights and "
                                                   "see the same batches."))


# --- truncated BPTT -------------------------------------------------------------------------------------------
@st.fragment
def truncation_section() -> None:
    st.markdown("Truncated BPTT sends the error back only k steps: cheaper, but nothing older than k steps can be "
                "learned from this loss.")
    g1, g2, g3, g4 = st.columns(4)
    cell = g1.selectbox("Cell", list(CELL_CHOICES), index=2, key="gr_tr_cell", bind="query-params")
    T = g2.slider("T", 10, 500, 100, 10, key="gr_tr_T", bind="query-params")
    k_asked = g3.slider("Truncation length k", 1, 500, 20, key="gr_tr_k", bind="query-params")
    forget_bias = g4.slider("LSTM forget-gate bias", 0.0, 5.0, PAGE_FORGET_BIAS, 0.5, key="gr_tr_fbias",
                            bind="query-params", disabled=CELL_CHOICES[cell] != "LSTM",
                            help=f"As on the first tab: the gates start near σ(bias). At 0, f ≈ {sigmoid(0):.2f} and "
                                 f"the gradient has vanished within a few steps; at 3, f ≈ {sigmoid(3):.2f} and it "
                                 "reaches far back.")
    k = min(k_asked, T)
    flow, eff = truncation(CELL_CHOICES[cell], T, k, seed(), forget_bias if CELL_CHOICES[cell] == "LSTM" else 0.0)
    plot(truncation_figure(flow.log10_grad, k, flow.cell), key="gr_tr_plot")
    m1, m2, m3 = st.columns(3)
    share = truncated_share(flow.log10_grad, k)
    m1.metric("Gradient signal thrown away", f"{share:.1%}",
              help="Share of Σ_t ‖∂L/∂h_t‖ that lies more than k steps back.")
    m2.metric("cos(truncated, full ∂L/∂W_hh)", f"{eff['cosine']:.4f}",
              help="1: truncation points the update the same way as full BPTT.")
    m3.metric("‖truncated‖ / ‖full‖", f"{eff['norm_ratio']:.3f}")
    st.caption(truncation_verdict(eff["cosine"], share, k, T) + (f" (k is capped at T = {T}.)" if k_asked > T else ""))


# --- long-range tasks -----------------------------------------------------------------------------------------
def race_section() -> None:
    st.markdown("**The adding problem**: two numbers in a long sequence are marked; output their sum. **Copy "
                f"memory**: read {COPY_LENGTH} symbols, wait T steps, write them back. The baseline is the score of "
                "a model that learned nothing about the long-range part, measured on the validation data the curves "
                "use.")
    h1, h2, h3 = st.columns([1, 1, 1.6])
    task = h1.radio("Task", ["adding", "copy"], horizontal=True, key="gr_lr_task", bind="query-params")
    T = h2.select_slider("T", [10, 20, 50, 100, 200, 500], RACE_DEFAULTS["T"], key="gr_lr_T", bind="query-params")
    cells = h3.multiselect("Cells", list(CELLS), default=list(CELLS), key="gr_lr_cells", bind="query-params")
    i1, i2, i3 = st.columns(3)
    steps = i1.slider("Training steps", 50, MAX_STEPS, RACE_DEFAULTS["steps"], 50, key="gr_lr_steps",
                      bind="query-params")
    hidden = i2.select_slider("Hidden size", [16, 32, 64, 128], RACE_DEFAULTS["hidden"], key="gr_lr_hidden",
                              bind="query-params")
    mode = i3.radio("Mode", ["race (all together)", "one after another"], key="gr_lr_mode", bind="query-params")
    base, threshold = task_baseline(task, T)
    if task == "adding":
        st.caption(f"Baseline: always predict 1. On these {VALIDATION_SIZE} validation sequences it scores MSE "
                   f"{base:.4f} (its expectation is exactly 1/6 = {ADDING_EXPECTED_BASELINE:.4f}; Le et al. 2015 "
                   f"report {LE_2015_ADDING_MSE} on their data). Solved: validation MSE below {SOLVED_FRACTION:.0%} "
                   f"of the baseline, {threshold:.4f}.")
    else:
        st.caption(f"Baseline: blanks, then a uniform guess among the {COPY_SYMBOLS} symbols: cross-entropy "
                   f"{COPY_FORMULA} = {base:.4f}. Solved: below {SOLVED_FRACTION:.0%} of it, {threshold:.4f}.")

    def start() -> training.Submission | None:
        params = dict(task=task, cells=list(cells), T=T, steps=steps, hidden=hidden,
                      together=mode.startswith("race"), seed=seed(), eval_every=RACE_DEFAULTS["eval_every"])
        too_big = training.check_limits(params=max(task_model_size(task, c, hidden) for c in cells))
        if too_big:
            st.error(too_big)
            return None
        return training.Submission(race_job, params, seed=seed(),
                                   meta={"lab": "gradients", "task": f"{task} problem, T={T}",
                                         "cell": ", ".join(cells), "params": params, "total_steps": steps * len(cells)})

    def metric_name(task_):
        return "MSE" if task_ == "adding" else "cross-entropy"

    def base_label(task_, b):
        return f"baseline: predict 1 ({b:.4f})" if task_ == "adding" else f"baseline: {COPY_FORMULA} = {b:.4f}"

    def draw(job):
        kw = job.kwargs
        b = job.last("baseline")
        if b is None:
            return
        curves: dict = {c: ([], []) for c in kw["cells"]}
        for e in job.of_kind("eval"):
            curves[e.data["cell"]][0].append(e.step)
            curves[e.data["cell"]][1].append(e.data["loss"])
        solved = {e.data["cell"]: e.step for e in job.of_kind("solved")}
        plot(task_curves(curves, b.data["value"], b.data["threshold"], kw["steps"], metric_name(kw["task"]),
                         base_label(kw["task"], b.data["value"]), solved), key="gr_lr_live")

    def done(job):
        r = job.result
        runs = r["runs"]
        solved = {c: int(v["solved_at"]) for c, v in runs.items() if v["solved"]}
        plot(task_curves({c: (v["val_steps"], v["val_loss"]) for c, v in runs.items()}, r["baseline"], r["threshold"],
                         r["steps"], metric_name(r["task"]), base_label(r["task"], r["baseline"]), solved),
             key="gr_lr_plot")
        cols = st.columns(min(len(runs), 4))
        for k, (c, v) in enumerate(runs.items()):
            if v["solved"]:
                verdict, detail = "✓ solved", f"after {int(v['solved_at']):,} steps"
            elif v["status"] == "diverged":
                verdict, detail = "✗ diverged", f"best {v['final']:.4f}"
            else:
                verdict, detail = "✗ not solved", f"best {v['final']:.4f}"
            cols[k % len(cols)].metric(c, verdict, detail, delta_color="off")
        if not solved and r["steps"] == MAX_STEPS:
            st.info(f"No cell solved it within {r['steps']:,} steps. Try a shorter T, or a bigger hidden size.")
        elif not solved:
            more = min(MAX_STEPS, max(2 * r["steps"], 1000))
            st.info(f"No cell solved it within {r['steps']:,} steps: long-range tasks need many updates before the "
                    f"first signal gets through. Try {more:,} steps (the LSTM and GRU usually get there first), "
                    "or a shorter T.")
        else:
            st.caption(f"The step counts are the first validation (every {RACE_DEFAULTS['eval_every']} steps) below "
                       "the threshold. LSTMs use the chrono initialisation of their gate biases (Tallec & Ollivier "
                       "2018).")

    training.train_live(JOB_RACE, training.Button("Train", key="gr_lr_go", disabled=not cells), start, draw, done)


def sweep_section() -> None:
    st.subheader("Success against sequence length")
    cfg = DEFAULT_SWEEP
    st.markdown(f"Each cell trained for up to {cfg['steps']} steps on the adding problem at T = "
                f"{', '.join(map(str, cfg['Ts']))}, with {len(cfg['seeds'])} seeds each (a run stops once solved).")
    shipped = Sweep.load(SWEEP_FILE) if SWEEP_FILE.exists() else None
    button = st.container()         # the button goes above the note on the shipped sweep's cost
    if shipped is not None and shipped.meta.get("cpu_seconds"):
        st.caption(f"Making the shipped sweep took {shipped.meta['cpu_seconds']:.0f} s of CPU time on one thread "
                   f"({shipped.meta.get('machine', 'machine not recorded')}); a rerun here trains in a worker "
                   "process, more slowly while other trainings run.")

    def start() -> training.Submission:
        return training.Submission(
            sweep_job, {}, seed=seed(),
            meta={"lab": "gradients", "task": "adding problem sweep", "cell": ", ".join(cfg["cells"]),
                  "params": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
                  "total_steps": cfg["steps"] * len(cfg["Ts"]) * len(cfg["seeds"]) * len(cfg["cells"])})

    def shipped_sweep():
        if shipped is None:
            st.info("No shipped sweep here (run `python -m bench.sweep` to make one): press the button to run it.")
        else:
            plot(sweep_figure(shipped.success(), shipped.Ts, len(shipped.seeds)), key="gr_sw_plot")
            st.caption("Results: shipped with the app (made by `python -m bench.sweep`).")

    def partial(job) -> Sweep:
        sw = Sweep(cfg["task"], list(cfg["Ts"]), list(cfg["cells"]), list(cfg["seeds"]), cfg["steps"])
        sw.results = [dict(e.data) for e in job.of_kind("result")]
        return sw

    def draw(job):
        sw = partial(job)
        plot(sweep_figure(sw.success(), sw.Ts, len(sw.seeds)), key="gr_sw_live")

    def done(job):
        sw = Sweep.from_dict(job.result["sweep"])
        plot(sweep_figure(sw.success(), sw.Ts, len(sw.seeds)), key="gr_sw_plot")
        st.caption(f"Results: this session's rerun ({len(sw.results)} runs).")

    rerun = training.Button("Rerun the sweep live", key="gr_sw_go", primary=False, where=button,
                            help="Trains every cell at every T again in a worker process; the figure fills in as "
                                 "runs end.")
    training.train_live(JOB_SWEEP, rerun, start, draw, done, idle=shipped_sweep)


ALL_JOBS = (JOB_RACE, JOB_RECORD, JOB_CLIP, JOB_SWEEP)


@st.fragment(run_every=training.LIVE_EVERY if any(training.active(k) for k in ALL_JOBS) else None)
def keep_jobs_alive() -> None:
    """A training keeps running while this page is open, whichever tab is shown (its own live view only
    polls while its tab is open; a job that hears nothing for a minute is stopped as abandoned)."""
    for key in ALL_JOBS:
        job = training.current(key)
        if job is not None and job.running:
            job.heartbeat()


keep_jobs_alive()
with tab_flow:
    if tab_flow.open:
        flow_section()
        record_section()
with tab_clip:
    if tab_clip.open:
        clipping_section()
with tab_trunc:
    if tab_trunc.open:
        truncation_section()
with tab_long:
    if tab_long.open:
        race_section()
        sweep_section()

next_page("app_pages/gradients.py")
