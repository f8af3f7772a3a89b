"""An RNN from scratch (NumPy): the forward pass, backpropagation through time by hand, gradient checks,
the same weights in torch.nn.RNN, and a character model trained in NumPy."""
import dataclasses
import inspect
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import keyboard, training
from app_pages.common import escape_md, intro, keep_text_in_url, lessons, next_page, plot, reset_button, url_text
from rnnlab.figures.scratch import backward_flow, char_loss, states_heatmap
from rnnlab.inputs import readable
from rnnlab.labs.equations import matrix
from rnnlab.labs.scratch import (
    CHAR_CHOICES,
    CHAR_DEFAULTS,
    DEFAULT_INPUTS,
    DEFAULT_SENTENCE,
    DEFAULT_SIZES,
    DEFAULT_TARGETS,
    FD_EPS,
    MAX_CHAR_TEXT,
    MAX_HIDDEN,
    MAX_INPUT,
    MAX_OUTPUT,
    MAX_STEPS,
    RIGHT_BELOW,
    SEQ_LEN,
    WRONG_ABOVE,
    Example,
    InputError,
    backward_equations,
    bptt_by_hand,
    chance_loss,
    char_model_job,
    char_model_params,
    clean_sentence,
    continue_text,
    course_example,
    forward_equation,
    gradient_check,
    parse_indices,
    power_of_ten,
    sample_every,
    torch_hidden_states,
    torch_rnn,
    training_text,
    worst_errors,
)
from rnnlab.nn.numpy_rnn import NumpyRNN, alphabet, rnn_forward

PAGE = "app_pages/scratch.py"
JOB = "scr_char_job"
JOB_SECONDS = 60.0   # a NumPy character model needs a few seconds; this caps a stuck one


def page_intro() -> None:
    st.title("An RNN from scratch (NumPy)")
    keyboard.install()
    n_in, n_hidden, n_out = DEFAULT_SIZES
    intro("No deep-learning library: the whole recurrent network is a Python loop around two lines of NumPy. "
          f"Here is the course's example ({n_in} inputs, {n_hidden} hidden units, {n_out} outputs, "
          f"Xavier-initialised weights, {len(DEFAULT_INPUTS.split(','))} one-hot time steps), its backward pass "
          "worked out by hand, checked against finite differences and PyTorch, then a small character model "
          "trained with the same code.")
    lessons("scratch")


@dataclass(frozen=True)
class Network:
    """The network box's choices: the seed of its weights and its three sizes."""
    seed: int
    n_in: int
    n_hidden: int
    n_out: int


def network_box() -> Network:
    """The seed, the sizes, and the inputs and targets of the example (the last two read back from the session)."""
    with st.container(border=True):
        c1, c2, c3, c4 = st.columns(4)
        seed = c1.number_input("Seed", 0, 2**31 - 1, 0, key="scr_seed", bind="query-params",
                               help="Draws the Xavier-initialised weights (and the character model's): the same seed "
                                    "gives the same numbers.")
        n_in = c2.number_input("Input size", 1, MAX_INPUT, DEFAULT_SIZES[0], key="scr_in", bind="query-params")
        n_hidden = c3.number_input("Hidden size", 1, MAX_HIDDEN, DEFAULT_SIZES[1], key="scr_hidden",
                                   bind="query-params")
        n_out = c4.number_input("Output size", 1, MAX_OUTPUT, DEFAULT_SIZES[2], key="scr_out", bind="query-params")
        d1, d2 = st.columns(2)
        url_text("scr_inputs", DEFAULT_INPUTS, 60)
        d1.text_input("Inputs: the hot unit at each step", key="scr_inputs", max_chars=60,
                      help=f"One number per time step (up to {MAX_STEPS}), each from 0 to input size − 1: "
                           "2 means x = [0, 0, 1, …].")
        keep_text_in_url("scr_inputs", DEFAULT_INPUTS, 60)
        url_text("scr_targets", DEFAULT_TARGETS, 60)
        d2.text_input("Targets for the loss: a class at each step", key="scr_targets", max_chars=60,
                      help="The backward pass needs a loss: cross-entropy of softmax(y_t) against these classes, "
                           "averaged over the steps.")
        keep_text_in_url("scr_targets", DEFAULT_TARGETS, 60)
    return Network(int(seed), int(n_in), int(n_hidden), int(n_out))


def example_of(net: Network) -> tuple[Example | None, str | None]:
    """The course's example with these settings, or why they cannot be used: (example, None) or (None, why)."""
    try:
        inputs = parse_indices(st.session_state["scr_inputs"], net.n_in, "input")
        targets = parse_indices(st.session_state["scr_targets"], net.n_out, "target")
        return course_example(net.n_in, net.n_hidden, net.n_out, net.seed, inputs, targets), None
    except InputError as err:
        return None, str(err)


def vec(v, decimals=3) -> str:
    return "[" + ", ".join(f"{x: .{decimals}f}" for x in v) + "]"


def latex_grid(items: list[str], per_row: int) -> None:
    """Matrices ``per_row`` to a row (one to a row once they are too wide to share it)."""
    for start in range(0, len(items), per_row):
        for col, item in zip(st.columns(per_row), items[start:start + per_row]):
            col.latex(item)


# --- forward ----------------------------------------------------------------------------------------
def forward_section(ex: Example, net: Network) -> None:
    """One step written out, under its step slider (the first thing in the tab: both on a projector's first
    screen), then the forward loop's code and what it prints, and the weights."""
    T = ex.steps
    if st.session_state.get("scr_fwd_t", 1) > T:
        st.session_state["scr_fwd_t"] = T

    @st.fragment
    def one_step():
        t = st.slider("Step to write out", 1, T, T if T == 1 else 1, key="scr_fwd_t",
                      bind="query-params", disabled=T == 1, help="← and → step too.") if T > 1 else 1
        st.latex(forward_equation(ex, t))
        st.caption(f"Step {t}: the input x_{t} picks column {ex.inputs[t - 1]} of W_xh (a one-hot vector "
                   f"times a matrix is one column); W_hh mixes in the memory h_{t - 1}"
                   + (" (zero: nothing read yet)." if t == 1 else "."))

    one_step()
    st.markdown(f"**{T} time steps**, each input a one-hot vector of size {net.n_in}; the hidden state "
                f"h has {net.n_hidden} units and starts at zero.")
    left, right = st.columns(2)
    with left:
        st.markdown("**The code** (this is what runs on this page)")
        st.code(inspect.getsource(rnn_forward) +
                "\n# the weights below, the inputs as one-hot rows of X\nhs, ys = rnn_forward(X, W_xh, W_hh, "
                "W_hy, b_h, b_y)\nfor t, h in enumerate(hs, 1):\n    print(f\"step {t}: h =\", "
                "np.round(h, 3))",
                language="python")
    with right:
        st.markdown("**What it prints**")
        printed = "\n".join(f"step {t}: h = {np.round(h, 3)}" for t, h in enumerate(ex.H, 1))
        outputs = "\n".join(f"step {t}: y = {vec(y)}   softmax = {vec(p)}"
                            for t, (y, p) in enumerate(zip(ex.Y, ex.P), 1))
        st.code(printed, language="text")
        st.markdown("**The outputs** y_t = W_hy h_t + b_y, and their softmax (probabilities)")
        st.code(outputs, language="text")
        plot(states_heatmap(ex.H, [f"t={t}" for t in range(1, T + 1)]), key="scr_h_heat", toolbar=False)
    st.markdown("**The weights** (Xavier: uniform in ±√(6 / (fan in + fan out)); the biases start at zero)")
    p = ex.params
    latex_grid([rf"W_{{xh}} = {matrix(p['W_xh'])}", rf"W_{{hh}} = {matrix(p['W_hh'])}",
                rf"W_{{hy}} = {matrix(p['W_hy'])}", rf"b_h = {matrix(p['b_h'])}", rf"b_y = {matrix(p['b_y'])}",
                r",\;".join(rf"x_{{{t}}} = {matrix(x, 0)}" for t, x in enumerate(ex.X, 1))],
               3 if net.n_hidden <= 4 else 1)


# --- backward ---------------------------------------------------------------------------------------
def backward_section(ex: Example, net: Network) -> None:
    """BPTT one step at a time, from t = T back to 1, then the summed gradients and the code."""
    T = ex.steps
    grads, records = bptt_by_hand(ex)
    st.markdown(f"The loss is the mean cross-entropy over the {T} steps; here it is **L = {ex.loss:.4f}**. "
                "Backpropagation through time walks the same steps backwards, from t = T to t = 1, "
                "applying the chain rule at each:")
    st.latex(r"\frac{\partial L}{\partial h_t} = \underbrace{W_{hy}^\top \frac{\partial L}{\partial y_t}}"
             r"_{\text{own output}} + \underbrace{W_{hh}^\top \left[(1 - h_{t+1}^2) \odot "
             r"\frac{\partial L}{\partial h_{t+1}}\right]}_{\text{from the future}}, \qquad "
             r"\frac{\partial L}{\partial W_{hh}} = \sum_{t=1}^{T} \frac{\partial L}{\partial a_t}\, "
             r"h_{t-1}^\top")

    if st.session_state.get("scr_bwd_t", T) not in range(1, T + 1):
        st.session_state["scr_bwd_t"] = T

    @st.fragment
    def backward_step():
        order = list(range(T, 0, -1))
        if T > 1:
            # the plain number as the option's label: a link carries ?scr_bwd_t=1
            t = st.select_slider("Backward step t (from T back to 1)", order, value=T, key="scr_bwd_t",
                                 bind="query-params", help="→ walks one step further back, ← one step forward.")
        else:
            t = 1
        rec = next(r for r in records if r["t"] == t)
        st.markdown(f"#### Step t = {t} (backward step {T - t + 1} of {T})")
        for what, latex in backward_equations(ex, rec):
            st.caption(what)
            st.latex(latex)
        plot(backward_flow(records, t), key="scr_bwd_flow", toolbar=False)
        st.caption("The size (norm) of ∂L/∂h_t's two parts at every step. Red: what the step's own output sends; "
                   "blue: what comes back from the later steps through W_hh and the tanh (nothing at t = T). "
                   "Black: the size of their sum, smaller than the two bars added where they partly cancel.")

    backward_step()
    st.markdown("**The gradients, all steps summed** (what an optimiser would use)")
    d = lambda name: rf"\frac{{\partial L}}{{\partial {name}}} = "  # noqa: E731
    latex_grid([d("W_{xh}") + matrix(grads["W_xh"], 3), d("W_{hh}") + matrix(grads["W_hh"], 3),
                d("W_{hy}") + matrix(grads["W_hy"], 3), d("b_h") + matrix(grads["b_h"], 3),
                d("b_y") + matrix(grads["b_y"], 3)], 2 if net.n_hidden <= 4 else 1)
    with st.expander("The backward pass in code (rnnlab/nn/numpy_rnn.py)"):
        st.code(inspect.getsource(NumpyRNN.backward), language="python")


# --- gradient check ---------------------------------------------------------------------------------
def check_section(ex: Example, net: Network) -> None:
    """The hand-written gradients against finite differences and torch.autograd."""
    rows = gradient_check(ex)
    worst_fd, worst_auto = worst_errors(rows)
    m1, m2 = st.columns(2)
    m1.metric("Largest relative error vs finite differences", f"{worst_fd:.1e}",
              help="max |a − b| / (max |a| + max |b|) over each weight matrix, worst of the five.")
    m2.metric("Largest |difference| vs torch.autograd", f"{worst_auto:.1e}")
    table = pd.DataFrame(rows)
    for col in table.columns[2:]:
        table[col] = table[col].map(lambda v: f"{v:.1e}")
    st.dataframe(table, hide_index=True, width="stretch")
    st.markdown(f"**Finite differences** nudge one weight at a time by ε = {power_of_ten(FD_EPS)} both ways and "
                "measure the "
                "loss: (L(w + ε) − L(w − ε)) / 2ε, two forward passes per weight, no calculus. "
                "**torch.autograd** differentiates the same loss computed by `torch.nn.RNN` holding these "
                "weights. All in float64.")
    st.caption(f"A relative error of {power_of_ten(RIGHT_BELOW)} or less means the hand-written BPTT is right "
               "(what is left is the finite difference's own error); a mistake in one line of the backward pass "
               f"gives more than {WRONG_ABOVE:g}. The agreement with autograd is down to float64 rounding "
               "(about 10⁻¹⁶).")


# --- torch.nn.RNN -----------------------------------------------------------------------------------
def torch_section(ex: Example, net: Network) -> None:
    """The same weights loaded into torch.nn.RNN give the same hidden states."""
    b64, b32 = torch_hidden_states(ex, "float64"), torch_hidden_states(ex, "float32")
    st.markdown("`torch.nn.RNN` computes h_t = tanh(W_ih x_t + b_ih + W_hh h_(t−1) + b_hh): the same "
                "recurrence, with two biases where ours has one. Load our weights into it:")
    st.code(inspect.getsource(torch_rnn), language="python")
    m1, m2 = st.columns(2)
    m1.metric("Max |torch − NumPy|, float64", f"{b64.max_diff:.1e}")
    m2.metric("Max |torch − NumPy|, float32", f"{b32.max_diff:.1e}",
              help="torch's default precision: about 7 significant digits.")
    rows = [{"step": t, "NumPy h_t": vec(h, 4), "torch.nn.RNN h_t": vec(ht, 4)}
            for t, (h, ht) in enumerate(zip(ex.H, b64.H), 1)]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(f"In float64 every hidden state agrees to within {b64.max_diff:.0e}, the rounding of the last "
               "digits: the hand-written loop *is* what the library computes (in C++ instead of a Python loop). "
               "The rest of rnnlab builds on torch's layers for that speed.")


# --- train a character model -------------------------------------------------------------------------
@dataclass(frozen=True)
class CharSettings:
    """The character model's settings; ``weights``: its size (None: the sentence cannot be learned)."""
    sentence: str
    hidden: int
    steps: int
    lr: float
    temperature: float
    weights: int | None


def char_settings() -> CharSettings:
    """The sentence and the model's settings, with its alphabet and size."""
    url_text("scr_sentence", DEFAULT_SENTENCE, MAX_CHAR_TEXT)
    sentence = st.text_input("Sentence to learn", key="scr_sentence", max_chars=MAX_CHAR_TEXT,
                             help=f"Up to {MAX_CHAR_TEXT} characters.")
    keep_text_in_url("scr_sentence", DEFAULT_SENTENCE, MAX_CHAR_TEXT)
    t1, t2, t3, t4 = st.columns(4)
    hidden = t1.select_slider("Hidden units", CHAR_CHOICES["hidden"], CHAR_DEFAULTS["hidden"], key="scr_char_hidden",
                              bind="query-params")
    steps = t2.select_slider("Training steps", CHAR_CHOICES["steps"], CHAR_DEFAULTS["steps"], key="scr_char_steps",
                             bind="query-params")
    lr = t3.select_slider("Learning rate (Adam)", CHAR_CHOICES["lr"], CHAR_DEFAULTS["lr"],
                          format_func=lambda v: f"{v:g}", key="scr_char_lr", bind="query-params")
    temperature = t4.select_slider("Sampling temperature", CHAR_CHOICES["temperature"], CHAR_DEFAULTS["temperature"],
                                   key="scr_char_temp", bind="query-params",
                                   help="Low: the most likely next character almost always. High: more random.")
    try:
        text = training_text(sentence)
    except InputError as err:
        text = None
        st.warning(escape_md(str(err)))
    weights = None
    if text is not None:
        V = len(alphabet(text))
        weights = char_model_params(hidden, V)
        dropped = any(unicodedata.category(c) == "Cf" for c in sentence)
        st.caption(f"{V} different characters (the space between repeats included), so each input is a one-hot "
                   f"vector of size {V}, and a model that guesses uniformly scores a loss of ln {V} = "
                   f"{chance_loss(sentence):.2f} nats per character. {weights:,} weights."
                   + (" Invisible characters (zero-width spaces, direction marks) are left out." if dropped else ""))
    return CharSettings(sentence, hidden, steps, lr, temperature, weights)


def train_section(seed: int) -> None:
    """The NumPy RNN trained on a sentence as a job: its loss and samples live, then the trained model asked
    to continue a prime."""
    st.markdown("The same NumPy RNN, now with one-hot characters in and a softmax over the next character out, "
                f"trained by the hand-written BPTT and Adam: it reads your sentence (repeated) {SEQ_LEN} characters "
                "at a time and learns to continue it.")
    cs = char_settings()
    limit_msg = training.check_limits(params=cs.weights) if cs.weights is not None else None
    if limit_msg:
        st.error(limit_msg)

    def start() -> training.Submission:
        lim = dataclasses.replace(training.limits(), max_seconds=min(JOB_SECONDS, training.limits().max_seconds))
        params = {"sentence": clean_sentence(cs.sentence), "hidden": cs.hidden, "steps": cs.steps, "lr": cs.lr,
                  "temperature": cs.temperature, "sample_every": sample_every(cs.steps)}
        return training.Submission(char_model_job, {**params, "seed": seed}, seed=seed, job_limits=lim,
                                   meta={"lab": "scratch", "task": "characters", "cell": "NumPy RNN",
                                         "params": params, "total_steps": cs.steps})

    button = training.Button("▶ Train", "scr_char_train", disabled=cs.weights is None or bool(limit_msg))
    training.train_live(JOB, button, start, draw=char_progress, draw_ended=True,
                        when_done=lambda job: ask_model(job.result, cs.temperature, seed),
                        idle="Press Train: the loss and the samples appear here while it learns (a few seconds).")


def char_progress(job) -> None:
    """The loss against chance, and the samples drawn while it learns."""
    steps_ev = job.of_kind("step")
    samples = job.of_kind("sample")
    chance = chance_loss(job.kwargs["sentence"])
    plot(char_loss([e.step for e in steps_ev], [e.data["loss"] for e in steps_ev], chance,
                   [e.step for e in samples]), key="scr_char_loss")
    if samples:
        st.markdown("**Samples while it learns** (the model continues the first character by itself)")
        st.dataframe(pd.DataFrame([{"step": e.step, "sample": e.data["text"]} for e in reversed(samples)]),
                     hide_index=True, width="stretch", height=min(38 + 35 * len(samples), 300))


def ask_model(res: dict, temperature: float, seed: int) -> None:
    """The trained model (its weights came back as plain arrays) continues a prime the student types."""
    if not (res.get("params") and res.get("chars")):
        return
    st.markdown("**Ask the trained model** (its weights came back from the training as plain arrays)")
    k1, k2 = st.columns([2, 1])
    url_text("scr_prime", res["sentence"][:5], 40)
    prime = k1.text_input("Start with", key="scr_prime", max_chars=40)
    keep_text_in_url("scr_prime", res["sentence"][:5], 40)
    n = k2.slider("Characters to add", 10, 200, 60, key="scr_char_n", bind="query-params")
    known = [c for c in prime if c in res["chars"]]
    if not readable(prime):        # empty, spaces or invisible characters only: the same rule on every page
        st.warning("Type a few characters for the model to start with (from the sentence it learned).")
    elif not known:
        st.warning("None of these characters is in the sentence it learned: type some that are.")
    else:
        if len(known) < len(prime):
            st.caption("Characters it never saw are skipped.")
        more = continue_text(res["params"], res["chars"], prime, n, temperature, seed)
        st.code(prime + more, language="text", wrap_lines=True)


def scratch_tabs(net: Network, example: Example | None, problem: str | None) -> None:
    """The four views of the course's example (each says why when the settings cannot be used), then the
    character model; each drawn only while its tab is open."""
    tabs = st.tabs(["Forward pass", "Backpropagation by hand", "Gradient check", "The same in torch.nn.RNN",
                    "Train a character model"], key="scr_tab", bind="query-params")
    for tab, section in zip(tabs, (forward_section, backward_section, check_section, torch_section)):
        if tab.open:
            with tab:
                if example is None:
                    st.error(f"**These settings cannot be used.** {escape_md(problem)}")
                else:
                    section(example, net)
    if tabs[4].open:
        with tabs[4]:
            train_section(net.seed)


page_intro()
net = network_box()
example, problem = example_of(net)
scratch_tabs(net, example, problem)
reset_button("scr")
next_page(PAGE)
