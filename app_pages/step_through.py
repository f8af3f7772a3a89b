"""Step through an RNN: one time step at a time, with the real numbers in the equations."""
import streamlit as st

from app_pages.common import plot, seed
from rnnlab.nn.cells import GATE_DESCRIPTIONS
from rnnlab.labs.equations import step_equations
from rnnlab.figures.diagrams import unrolled_diagram
from rnnlab.figures.steps import state_history, vector_bars, weight_heatmaps
from rnnlab.nn.init import SCHEMES
from rnnlab.labs.unroll import INPUT_KINDS, MAX_STEPS, build_unroll, gate_weights, history, step_values
from rnnlab.data.tokenizer import tokenize

CELLS = {"RNN (tanh)": "RNN_TANH", "RNN (relu)": "RNN_RELU", "LSTM": "LSTM", "GRU": "GRU"}
WINDOW = 8  # steps drawn in the unrolled diagram around the current one

st.title("Step through an RNN")
st.markdown("Pick a cell and an input, then walk through time. At every step you see the cell's equations "
            "with that step's actual numbers, every gate, and how the memory changes.")

with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    cell_label = c1.selectbox("Cell", list(CELLS), index=2, key="st_cell", bind="query-params")
    hidden = c2.slider("Hidden size", 2, 16, 3, key="st_hidden", bind="query-params",
                       help="Up to 4 the equations are written out number by number; above, as heatmaps.")
    init = c3.selectbox("Initialisation", SCHEMES, key="st_init", bind="query-params")
    kind = c4.selectbox("Input", INPUT_KINDS, key="st_input", bind="query-params",
                        help="A sentence is read word by word, each word turned into a small vector (an embedding).")
    if kind == "sentence":
        text = st.text_input("Sentence", "the movie was not good at all", key="st_text", max_chars=5000)
        length, freq = 0, 1.0
    else:
        d1, d2 = st.columns(2)
        length = d1.slider("Length (steps)", 2, 60, 20, key="st_length")
        freq = d2.slider("Cycles over the sequence", 0.5, 5.0, 1.0, 0.5, key="st_freq", disabled=kind == "random walk")
        text = ""

mode = CELLS[cell_label]


@st.cache_resource(max_entries=64, show_spinner=False)
def unroll(mode, hidden, kind, text, length, freq, init, seed):
    return build_unroll(mode, hidden, kind, text=text, length=length, frequency=freq, seed=seed, init=init)


if kind == "sentence" and len(tokenize(text)) > MAX_STEPS:
    st.info(f"Only the first {MAX_STEPS} words are read here: stepping through more is no longer a lesson.")
try:
    u = unroll(mode, hidden, kind, text, length, freq, init, seed())
except ValueError as err:
    st.warning(str(err))
    st.stop()

T = u.steps
if st.session_state.get("st_t", 1) > T:
    st.session_state["st_t"] = T


def _move(delta: int) -> None:
    st.session_state["st_t"] = min(max(st.session_state.get("st_t", 1) + delta, 1), T)


playing = st.toggle("▶ Play (one step a second, looping)", key="st_play")


@st.fragment(run_every=1.0 if playing else None)
def step_view():
    if playing and T > 1:
        st.session_state["st_t"] = st.session_state.get("st_t", 1) % T + 1
    b1, b2, b3 = st.columns([1.3, 7, 1.3])
    b1.button("◀ Previous", on_click=_move, args=(-1,), disabled=T == 1, width="stretch")
    t1 = b2.slider("Time step t", 1, max(T, 2), key="st_t", disabled=T == 1, label_visibility="collapsed") if T > 1 else 1
    b3.button("Next ▶", on_click=_move, args=(1,), disabled=T == 1, width="stretch")
    t = t1 - 1
    vals = step_values(u, t)
    fmt = lambda v: "[" + ", ".join(f"{x:.2f}" for x in v) + "]"  # noqa: E731
    st.markdown(f"#### Step {t1} of {T}: reading **{u.labels[t]}**")

    first = min(max(t - WINDOW // 2, 0), max(T - WINDOW, 0))
    shown = range(first, min(first + WINDOW, T))
    hist = history(u, T - 1)
    plot(unrolled_diagram(len(shown), mode, highlight=t, first=first, input_labels=[u.labels[k] for k in shown],
                          hidden_hover=[f"h_{k + 1} = {fmt(hist['h'][k])}" for k in shown], outputs=False),
         key="st_diagram")
    st.caption("The orange cell is step t. h" + (" and c flow" if mode == "LSTM" else " flows") +
               " in from step t-1 on the left; hover a cell to read its h.")

    info = f"**Input x_{t1}**: `{u.labels[t]}` → {fmt(vals['x'])} · **h_{t1 - 1}** (memory coming in) = {fmt(vals['h_prev'])}"
    if "c_prev" in vals:
        info += f" · **c_{t1 - 1}** = {fmt(vals['c_prev'])}"
    st.markdown(info)
    if u.gate_names:
        st.caption(" · ".join(f"**{g}**: {GATE_DESCRIPTIONS[g].split(': ')[1]}" for g in u.gate_names))
    st.markdown("**The equations at this step**")
    weights = gate_weights(u)
    if hidden <= 4:
        for line in step_equations(mode, weights, vals, t1):
            st.latex(line)
    else:
        for line in step_equations(mode, weights, vals, t1, numbers=False):
            st.latex(line)
        st.caption(f"With {hidden} units the matrices are too big to write out: here they are as heatmaps "
                   "(red positive, blue negative; hover for the exact number).")
        names = list(weights)
        tabs = st.tabs([f"gate {n}" if n != "h" else "h" for n in names])
        for tab, name in zip(tabs, names):
            with tab:
                blocks = {f"W_{name}": weights[name]["W"], f"x_{t1}": vals["x"],
                          f"U_{name}": weights[name]["U"], f"h_{t1 - 1}": vals["h_prev"],
                          f"b_{name}": weights[name]["b"], "pre-activation": vals[f"pre_{name}"]}
                plot(weight_heatmaps(blocks), key=f"st_heat_{name}")

    states = {"h": vals["h"], **({"c": vals["c"]} if "c" in vals else {})}
    plot(vector_bars(states, title=f"State after step {t1}"), key="st_state_bars")
    if u.gate_names:
        plot(vector_bars({g: vals[g] for g in u.gate_names}, title=f"Gates at step {t1}"), key="st_gate_bars")
    plot(state_history(history(u, t), u.labels, t), key="st_history")


step_view()
