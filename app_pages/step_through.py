"""Step through an RNN: one time step at a time, with the real numbers in the equations.

The settings at the top rebuild the network (cached, shared by every session with the same settings); the
step controls live in a fragment, so Previous / Next / Play / the slider redraw only the step view."""
import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

from app_pages import guard, keyboard
from app_pages.common import escape_md, keep_text_in_url, lessons, next_page, plot, reset_button, seed, url_text
from rnnlab.data.tokenizer import tokenize
from rnnlab.figures.diagrams import unrolled_diagram
from rnnlab.figures.steps import shown_units, state_history, vector_bars, weight_heatmaps
from rnnlab.labs.equations import GRU_NOTE, gathered, step_equations
from rnnlab.labs.unroll import (
    CELLS,
    DEFAULT_SENTENCE,
    FLOAT32_MAX,
    INPUT_KINDS,
    LARGE,
    MAX_STEPS,
    RADII,
    WRITTEN_OUT,
    Blowup,
    blowup,
    build_unroll,
    drawable,
    finite_step,
    gate_weights,
    history,
    recurrent_scales,
    step_values,
)
from rnnlab.nn.cells import GATE_DESCRIPTIONS
from rnnlab.nn.init import SCHEMES

PAGE = "app_pages/step_through.py"
WINDOW = 6        # steps drawn in the unrolled diagram around the current one (6 still fit a phone)
MAX_CHARS = 500   # a typed sentence: enough for MAX_STEPS words, short enough for a link
BARS_HEIGHT = 230  # px: the state and gate bars end within the first screen of a 1024 x 768 projector
DIAGRAM_HEIGHT = 175  # px: the unrolled cells above the bars, both on that first screen

STEP_CSS = """<style>
.st-key-st_controls [data-testid="stSlider"] { flex: 1 1 240px; min-width: 240px; }
.st-key-st_controls .stButton button { min-width: 6.5rem; }
</style>"""

def intro() -> None:
    st.title("Step through an RNN")
    st.html(STEP_CSS)
    keyboard.install()


@dataclass(frozen=True)
class Network:
    """The settings that build the network and its input (everything but the seed)."""
    mode: str
    hidden: int
    init: str
    kind: str
    text: str
    length: int
    freq: float
    radius: float | None


def settings_box() -> Network:
    """The cell, its size and initialisation, the input, and U's spectral radius: one click away, so that the
    step controls and the step's diagram and bars share the first screen (a 1024 x 768 projector)."""
    with st.expander("The network: cell, hidden size, initialisation, input, U's spectral radius",
                     icon=":material/tune:"):
        c1, c2, c3, c4 = st.columns(4)
        cell_label = c1.selectbox("Cell", list(CELLS), index=2, key="st_cell", bind="query-params")
        hidden = c2.slider("Hidden size", 2, 16, 3, key="st_hidden", bind="query-params",
                           help=f"Up to {WRITTEN_OUT} units the equations are written out number by number; above, "
                                "they fold into an expander that draws the matrices as heatmaps.")
        init = c3.selectbox("Initialisation", SCHEMES, key="st_init", bind="query-params",
                            help="default: PyTorch's uniform(±1/√H) · xavier: Glorot uniform · orthogonal: every "
                                 "singular value of each U is 1 · identity: every U block = I, biases 0, input weights "
                                 "tiny (Le et al. 2015's IRNN uses it with relu units).")
        kind = c4.selectbox("Input", INPUT_KINDS, key="st_input", bind="query-params",
                            help="A sentence is read word by word, each word turned into a small random vector "
                                 "(an untrained embedding: the network knows nothing of what words mean).")
        d1, d2 = st.columns([3, 1])
        if kind == "sentence":
            url_text("st_text", DEFAULT_SENTENCE, MAX_CHARS)
            text = d1.text_input("Sentence", key="st_text", max_chars=MAX_CHARS)
            keep_text_in_url("st_text", DEFAULT_SENTENCE, MAX_CHARS)
            length, freq = 0, 1.0
        else:
            e1, e2 = d1.columns(2)
            length = e1.slider("Length (steps)", 2, 60, 20, key="st_length", bind="query-params")
            freq = e2.slider("Cycles over the sequence", 0.5, 5.0, 1.0, 0.5, key="st_freq", bind="query-params",
                             disabled=kind == "random walk")
            text = ""
        radius_label = d2.selectbox(
            "U's spectral radius", RADII, key="st_radius", bind="query-params",
            help="Rescales each recurrent block U (one per gate) so that its spectral radius, its largest "
                 "|eigenvalue|, is this number. That is not its largest singular value σ_max, the quantity in "
                 "Pascanu et al.'s (2013) condition for vanishing gradients: both are printed below the equations.")
    return Network(CELLS[cell_label], hidden, init, kind, text, length, freq,
                   None if radius_label == RADII[0] else float(radius_label))


@st.cache_resource(max_entries=64, ttl=3600, show_spinner=False)
def unroll(mode, hidden, kind, text, length, freq, init, radius, seed_):
    """Shared by every session: the key is the settings themselves, the build is seeded from its own generator."""
    return build_unroll(mode, hidden, kind, text=text, length=length, frequency=freq, seed=seed_, init=init,
                        spectral_radius=radius)


def build(net: Network):
    """The network unrolled over its input; settings it cannot use end the page here, with the reason."""
    if net.kind == "sentence" and len(tokenize(net.text)) > MAX_STEPS:
        st.info(f"Only the first {MAX_STEPS} words are read here: stepping through more is no longer a lesson.")
    try:
        return unroll(net.mode, net.hidden, net.kind, net.text, net.length, net.freq, net.init, net.radius, seed())
    except ValueError as err:
        st.warning(str(err))
        reset_button("st_")
        st.stop()


def clamp_step(T: int) -> None:
    """The step from the session, or from the link when the page opens (read by the guard: ``?st_t=²`` or
    ``?st_t=nan`` is answered by a message and step 1). A link may carry a step past the end of this
    sequence: clamp it, and say so, before the slider reads it."""
    if "st_t" in st.session_state:
        asked = st.session_state["st_t"]
    else:
        asked = guard.link_number("st_t", 1, 1, MAX_STEPS, integer=True, what="time step")
        if asked > T:
            st.info(f"The link asked for step {asked}, but this input has {T} step{'s' * (T != 1)}: "
                    f"showing step {T}.")
    st.session_state["st_t"] = min(max(int(asked), 1), T)


def _move(delta: int, T: int) -> None:
    st.session_state["st_t"] = min(max(st.session_state.get("st_t", 1) + delta, 1), T)


def code(token: str) -> str:
    """A token as inline code, as typed: markdown escapes would show inside it (``\\.`` for a full stop), and
    nothing is markup there but the backtick, which a wider fence holds."""
    return f"`` {token} ``" if "`" in token else f"`{token}`"


def number(x: float) -> str:
    """Two decimals, or e-notation once a number has more digits than a line can read (a blown-up relu state)."""
    return f"{x:.2f}" if abs(x) < 1e4 else f"{x:.2e}"


def fmt(v) -> str:
    return "[" + ", ".join(number(x) for x in v) + "]"


def blowup_message(b: Blowup) -> str:
    """What overflowed, at which step, and why: U's spectral radius times relu's slope."""
    if b.overflow_step:
        where = (f"**h overflowed.** Its largest unit passed a million at step {b.large_step} and float32's largest "
                 f"number ({FLOAT32_MAX:.1e}) at step {b.overflow_step}: from there h is inf, then nan (inf − inf is "
                 "not a number), and those steps cannot be drawn or written out.")
    else:
        where = (f"**h grew out of bounds.** Its largest unit passed a million at step {b.large_step} and reached "
                 f"{b.largest:.1e}: from there its numbers are written in e-notation.")
    return (f"{where} Why: U's spectral radius {b.radius:.1f} times relu's slope {b.slope:g} (for every positive "
            f"input) lets h grow up to {b.per_step:.1f}× a step, and relu, unlike tanh, never saturates; here h grew "
            f"about {b.growth:.1f}× a step. Choose a spectral radius of 1.0 or less, or the tanh RNN, LSTM or GRU.")


def step_controls(ticking: bool, T: int) -> int:
    """Prev, Next, Play and the step slider; a tick of Play moves on one step. The step shown (from 1)."""
    now = time.monotonic()
    # a tick of the timer, not the click that switched Play off (its new value is already in the session)
    if ticking and st.session_state.get("st_play") and T > 1 \
            and now - st.session_state.get("_st_last_tick", now) >= 0.9:
        st.session_state["st_t"] = st.session_state["st_t"] % T + 1      # a tick of Play
    st.session_state["_st_last_tick"] = now
    # One row on a laptop or projector; on a phone the slider wraps onto its own line (see STEP_CSS).
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="st_controls"):
        st.button("◀ Prev", on_click=_move, args=(-1, T), disabled=T == 1, key="st_prev", help="One step back (key ←)")
        st.button("Next ▶", on_click=_move, args=(1, T), disabled=T == 1, key="st_next",
                  help="One step forward (key →)")
        playing = st.toggle("Play", key="st_play", disabled=T == 1, help="One step a second, looping (space bar).")
        if T > 1:
            t1 = st.slider("Time step t", 1, T, key="st_t", bind="query-params", label_visibility="collapsed",
                           width="stretch")
        else:
            t1 = 1
    if playing != ticking:
        st.rerun()   # the timer is set when the fragment is registered: start or stop it with a page run
    return t1


def step_view(ticking: bool, u, net: Network, units: list[int]) -> None:
    """Everything that changes from one step to the next. Run as a fragment: its buttons, slider and the
    Play timer rerun only this, not the page."""
    T = u.steps
    t1 = step_controls(ticking, T)
    t = t1 - 1
    vals = step_values(u, t)
    finite, large = finite_step(vals), largest(vals) >= LARGE
    st.markdown(f"**Step {t1} of {T}**: reading **{escape_md(u.labels[t])}**")
    step_diagram(u, net.mode, t)
    if not large:
        step_bars(u, vals, t1)
    elif finite:
        st.caption(f"At step {t1} h is too large for bars (up to {number(largest(vals))}): the chart of h over the "
                   "steps, below, shows it growing.")
    else:
        st.warning(f"At step {t1} h holds numbers float32 cannot (inf or nan): nothing of it can be drawn. The note "
                   "above says when and why it overflowed; step back to see it grow.")
    st.caption("The orange cell is step t: h" + (" and c flow" if net.mode == "LSTM" else " flows") +
               " in from step t-1 on the left; hover a cell to read its h. The same W and U are used at every "
               "step: unrolling copies the cell, not the weights.")

    info = (f"**Input x_{t1}**: {code(u.labels[t])} → {fmt(vals['x'])} · **h_{t1 - 1}** (memory coming in) "
            f"= {fmt(vals['h_prev'])}")
    if "c_prev" in vals:
        info += f" · **c_{t1 - 1}** = {fmt(vals['c_prev'])}"
    st.markdown(info)
    if large:
        st.markdown("**The equations at this step**")
        st.latex(gathered(step_equations(net.mode, gate_weights(u), vals, t1, numbers=False)))
        st.caption(f"At step {t1} the numbers are too large to write out ("
                   + (f"up to {number(largest(vals))}" if finite else "some are inf or nan")
                   + "): the equations are shown without them.")
    elif net.hidden <= WRITTEN_OUT:
        st.markdown("**The equations at this step**, with its numbers")
        equations(u, net, t1, vals)
    else:
        box = st.expander(f"The equations at this step ({net.hidden} units: the matrices as heatmaps)",
                          key="st_equations", on_change="rerun")
        if box.open:
            with box:
                equations(u, net, t1, vals)

    plot(state_history(drawable(history(u, t)), u.labels, t, units), key="st_history")
    if len(units) < net.hidden:
        st.caption(f"Showing {len(units)} of {net.hidden} units: those whose h varies most over the whole sequence "
                   f"(units {', '.join(map(str, units))}). The bars above show every unit.")


def largest(vals: dict) -> float:
    """The largest |number| of a step, inf when one is inf or nan."""
    return max(float(np.where(np.isfinite(v), np.abs(v), np.inf).max(initial=0.0)) for v in vals.values())


def step_bars(u, vals: dict, t1: int) -> None:
    """The state after the step, and each gate's values at it."""
    states = {"h": vals["h"], **({"c": vals["c"]} if "c" in vals else {})}
    if u.gate_names:
        left, right = st.columns([max(len(states), 1.5), len(u.gate_names)])
        with left:
            plot(vector_bars(states, title=f"State after step {t1}", height=BARS_HEIGHT), key="st_state_bars")
        with right:
            candidate = "g" if "g" in u.gate_names else "n"
            plot(vector_bars({g: vals[g] for g in u.gate_names}, title=f"Gates at step {t1} (and the candidate "
                             f"{candidate})", height=BARS_HEIGHT),
                 key="st_gate_bars")
        st.caption(" · ".join(f"**{g}**: {GATE_DESCRIPTIONS[g].split(': ')[1]}" for g in u.gate_names))
    else:
        plot(vector_bars(states, title=f"State after step {t1}", height=BARS_HEIGHT), key="st_state_bars")


def step_diagram(u, mode: str, t: int) -> None:
    """The unrolled network around step t (WINDOW steps), the current cell in orange (its caption follows the
    bars)."""
    T = u.steps
    first = min(max(t - WINDOW // 2, 0), max(T - WINDOW, 0))
    shown = range(first, min(first + WINDOW, T))
    hist = history(u, T - 1)
    fig = unrolled_diagram(len(shown), mode, highlight=t, first=first, input_labels=[u.labels[k] for k in shown],
                           hidden_hover=[f"h_{k + 1} = {fmt(hist['h'][k])}" for k in shown], outputs=False)
    # the drawing keeps its size; only the empty margins above and below it go
    fig.update_layout(height=DIAGRAM_HEIGHT, margin=dict(t=5, b=5))
    plot(fig,
         key="st_diagram", toolbar=False)


def block_name(n: str) -> str:
    """A weight block's name for the block picker: g and n are candidates, not gates."""
    return n if n == "h" else f"candidate {n}" if n in ("g", "n") else f"gate {n}"


def equations(u, net: Network, t1: int, vals: dict) -> None:
    weights = gate_weights(u)
    # One LaTeX block for all the lines: the browser typesets them in one pass (a block per line cost
    # about twice as much on every step).
    if net.hidden <= WRITTEN_OUT:
        st.latex(gathered(step_equations(net.mode, weights, vals, t1)))
    else:
        st.latex(gathered(step_equations(net.mode, weights, vals, t1, numbers=False)))
        names = list(weights)
        name = st.segmented_control("Block", names, default=names[0], key="st_eq_gate", required=True,
                                    bind="query-params",
                                    format_func=block_name) if len(names) > 1 \
            else names[0]
        st.caption(f"With {net.hidden} units the matrices are too big to write out: here they are as heatmaps "
                   "(red positive, blue negative; hover for the exact number).")
        blocks = {f"W_{name}": weights[name]["W"], f"x_{t1}": vals["x"], f"U_{name}": weights[name]["U"],
                  f"h_{t1 - 1}": vals["h_prev"], f"b_{name}": weights[name]["b"],
                  "pre-activation": vals[f"pre_{name}"]}
        plot(weight_heatmaps(blocks), key="st_heat")
    if net.mode == "GRU":
        st.caption(GRU_NOTE)
    scales = recurrent_scales(u)
    st.caption("Each U, measured: " + " · ".join(
        f"U{'_' + g if g != 'h' else ''}: spectral radius {rho:.2f}, largest singular value {sig:.2f}"
        for g, (rho, sig) in scales.items()))


def stepper(u, net: Network) -> None:
    """The step view as a fragment; while Play is on it reruns itself once a second (and only it)."""
    clamp_step(u.steps)
    grew = blowup(u)
    if grew is not None:
        st.warning(blowup_message(grew), icon=":material/warning:")
    # units chosen by how much they vary: an inf counts as float32's largest number there
    units = shown_units({k: np.nan_to_num(v.astype(np.float64), nan=FLOAT32_MAX, posinf=FLOAT32_MAX,
                                          neginf=-FLOAT32_MAX) for k, v in history(u, u.steps - 1).items()})
    playing = bool(st.session_state.get("st_play")) and u.steps > 1
    st.fragment(step_view, run_every=1.0 if playing else None)(playing, u, net, units)


def footer() -> None:
    c1, c2 = st.columns([1, 3])
    with c1:
        reset_button("st_")
    c2.caption(f"Every setting here, and the step, is in the page's link: share it and the class sees step "
               f"{st.session_state.get('st_t', 1)} of the same network.")


intro()
net = settings_box()
lessons("step_through")
stepper(build(net), net)
footer()
next_page(PAGE)
