"""Home: what an RNN is, the folded and unrolled diagram, and the shapes RNNs come in."""
import streamlit as st

from app_pages import common
from app_pages.common import all_pages, lessons, next_page, plot, reset_button
from rnnlab.figures.diagrams import SHARED_WEIGHTS_NOTE, architecture_diagram, unrolled_diagram
from rnnlab.labs.shapes import ARCHITECTURES

PAGE = "app_pages/home.py"


def intro() -> None:
    """The title and what a recurrent network is, in a paragraph (the equations follow the diagram)."""
    st.title("Recurrent neural networks, step by step")
    common.intro(
        """
A feed-forward network sees its whole input at once. A **recurrent** network reads a sequence
**one element at a time** (a word, a price, a character) and carries a **memory**, the hidden
state **h**, from each step to the next. At every step it mixes the new input with what it
remembers, using the *same* weights each time.
"""
    )


def equations() -> None:
    """The two equations of a recurrent network, under the diagram they describe."""
    st.markdown("At every step:")
    st.latex(r"h_t = \tanh\left(W\,x_t + U\,h_{t-1} + b\right)")
    st.latex(r"y_t = V\,h_t + b_y")
    st.markdown(
        "**W** reads the input, **U** carries the memory forward, **V** turns the memory into an output. "
        "Because h_t depends on h_(t-1), which depends on h_(t-2), ..., the last state can in principle "
        "remember the first word of a review. Whether it really does is what the labs of this app let you see."
    )


def loop_section() -> None:
    """One cell drawn folded (a loop) or unrolled over T steps."""
    st.subheader("The loop, and the loop unrolled")
    c1, c2, c3 = st.columns([1, 1, 2])
    with c1:
        cell = st.selectbox("Cell", ["RNN", "LSTM", "GRU"], key="home_cell", bind="query-params",
                            help="LSTM and GRU add gates around the tanh; the picture of the loop stays the same.")
    with c2:
        view = st.radio("View", ["Unrolled", "Folded loop"], key="home_view", horizontal=True, bind="query-params")
    with c3:
        T = st.slider("Time steps T", 1, 10, 4, key="home_T", bind="query-params", disabled=view == "Folded loop",
                      help="Unrolling draws one copy of the cell per time step.")
    plot(unrolled_diagram(T, cell, folded=view == "Folded loop"), key="home_diagram", toolbar=False)
    if view == "Folded loop":
        st.caption("Folded: one cell whose output h feeds back into itself through U at the next step.")
    else:
        st.caption(
            f"Unrolled over {T} steps: each column is the same cell at another time. {SHARED_WEIGHTS_NOTE} "
            "Hover a node to see its equation."
            + (" The LSTM also carries a cell state c (orange), changed only by gates: its path has no weight "
               "matrix, so a gradient along it shrinks only as fast as the forget gates fall below 1."
               if cell == "LSTM" else "")
        )


def shapes_section() -> None:
    """A card per shape of the course's table, three to a row."""
    st.subheader("The shapes an RNN can take")
    st.caption("Green: inputs · blue: hidden state · vermillion (orange-red): outputs · wine: encoder · sky blue: "
               "the backward RNN.")
    # Cards rather than a table: a table's long "how it works" cells were cut on a projector and a phone.
    for row in range(0, len(ARCHITECTURES), 3):
        cols = st.columns(3)
        for col, arch in zip(cols, ARCHITECTURES[row:row + 3]):
            with col.container(border=True):
                st.markdown(f"**{arch.name}** · {arch.shape}")
                plot(architecture_diagram(arch), key=f"arch_{arch.key}", toolbar=False)
                st.caption(f"*{arch.example}*. {arch.explanation}")


def pages_section() -> None:
    """Every other page of the course, with a line on what it shows."""
    st.subheader("Where to go next")
    st.markdown("The pages follow the course: each one is interactive (move a control and the numbers are "
                "recomputed), and each ends with a link to the next.")
    for page in all_pages()[1:]:
        c1, c2 = st.columns([1, 2])
        with c1:
            st.page_link(page.path, label=page.title, icon=page.icon)
        c2.caption(page.blurb)


intro()
loop_section()      # the control and its diagram on the first screen, the lessons and equations under them
lessons("home")
equations()
shapes_section()
pages_section()
reset_button("home_")
next_page(PAGE)
