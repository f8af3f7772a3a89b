"""Gradients lab: watch gradients vanish and explode, and see why LSTM and GRU exist."""
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from app_pages.common import plot, seed
from rnnlab.figures.gradients import (LABELS, clipping_figure, gradient_flow_figure, sweep_figure, task_curves,
                                      training_heatmap, truncation_figure, weight_criterion_figure)
from rnnlab.labs.gradients import CELL_CHOICES, gradient_flow, truncated_share, truncation_effect
from rnnlab.labs.longrange import CELLS, DEFAULT_SWEEP, SOLVED_FRACTION, Sweep, baseline, gradient_profile, race, \
    run_sweep, start_task
from rnnlab.data.tasks import adding_problem
from rnnlab.data.tokenizer import tokenize
from rnnlab.labs.unroll import embed_tokens

SWEEP_FILE = Path(__file__).resolve().parents[1] / "assets" / "gradients" / "sweep_adding.json"
INITS = {"PyTorch default": "default", "orthogonal": "orthogonal", "identity": "identity"}

st.title("Gradients lab")
st.markdown("Training an RNN means sending the error back through every time step (backpropagation through "
            "time). Each step multiplies the gradient by a Jacobian ∂h_k/∂h_(k-1); over many steps the product "
            "shrinks to nothing (**vanishing**) or blows up (**exploding**). Here you measure it.")

tab_flow, tab_clip, tab_trunc, tab_long = st.tabs(
    ["Gradient flow", "Exploding gradients & clipping", "Truncated BPTT", "Long-range tasks"])


@st.cache_data(max_entries=64, show_spinner=False)
def flows(cells: tuple[str, ...], T: int, hidden: int, init: str, radius: float | None, text: str | None, seed_: int,
          forget_bias: float = 0.0):
    inputs = None
    if text is not None:
        toks = tokenize(text)[:1000]
        vocab = embed_tokens(toks, 8, seed_)
        inputs = np.stack([vocab[t] for t in toks])
    return [gradient_flow(c, T, hidden, init, radius, inputs=inputs, seed=seed_, forget_bias=forget_bias) for c in cells]


# --- gradient flow -------------------------------------------------------------------------------
with tab_flow:
    c1, c2, c3 = st.columns(3)
    T = c1.slider("Sequence length T", 5, 1000, 100, key="gr_T", bind="query-params")
    cells = c2.multiselect("Cells", list(CELL_CHOICES), default=["RNN (tanh)", "LSTM", "GRU"], key="gr_cells")
    hidden = c3.select_slider("Hidden size", [4, 8, 16, 32, 64, 128, 256], 32, key="gr_hidden", bind="query-params")
    c4, c5, c6 = st.columns(3)
    init_label = c4.selectbox("Initialisation", list(INITS), key="gr_init")
    rescale = c5.toggle("Rescale W_hh to a spectral radius", value=False, key="gr_rescale")
    radius = c5.slider("Spectral radius of W_hh", 0.1, 3.0, 1.0, 0.05, key="gr_radius", disabled=not rescale,
                       help="Every W_hh block is rescaled so that its largest |eigenvalue| is this number.")
    source = c6.radio("Input", ["random", "typed sentence"], horizontal=True, key="gr_input")
    forget_bias = c6.slider("LSTM forget-gate bias", 0.0, 5.0, 0.0, 0.5, key="gr_fbias",
                            help="Raise it and the fresh LSTM's forget gate opens (f → 1): c then carries the "
                                 "gradient back through many more steps. This is why LSTMs are often initialised "
                                 "with a forget bias of 1 or more.")
    text = None
    if source == "typed sentence":
        text = st.text_input("Sentence", "the film starts slowly but the ending is wonderful", key="gr_text")
        if not tokenize(text):
            st.warning("The sentence has no words: using random input instead.")
            text = None
        else:
            st.caption(f"The sentence ({len(tokenize(text)[:1000])} tokens) sets T; each word is a random 8-dim embedding.")
    if not cells:
        st.info("Choose at least one cell.")
    else:
        with st.spinner("Backpropagating…"):
            result = flows(tuple(CELL_CHOICES[c] for c in cells), T, hidden, INITS[init_label],
                           radius if rescale else None, text, seed(), forget_bias)
        plot(gradient_flow_figure(result), key="gr_flow")
        st.caption("The loss L = w·h_T depends on the last step only. Read each curve from right to left: how much "
                   "of the error signal is left after travelling back T - t steps. The dashed line is 1; "
                   "curves that fall are vanishing gradients, curves that climb are exploding ones.")
        cols = st.columns(len(result))
        for col, f in zip(cols, result):
            ratio = f.ratio_first_last()
            col.metric(f"{LABELS.get(f.cell, f.cell)}: ‖∂L/∂h₁‖", f"{ratio:.1e}",
                       help="Gradient reaching the first step, relative to the last (1 = nothing lost).")
        if any(not f.jacobian_exact for f in result):
            st.caption(f"Hidden size {hidden}: the Jacobian norm is a lower bound estimated from 32 random directions "
                       "(the exact one needs a matrix per step).")
        plot(weight_criterion_figure(result), key="gr_sigma")
        rnn = [f for f in result if f.threshold is not None]
        for f in rnn:
            s = f.sigma_max["W_hh"]
            side = ("below 1/γ: the gradient is guaranteed to vanish" if s < f.threshold else
                    "above 1/γ: vanishing is no longer guaranteed and explosion is possible")
            st.markdown(f"**{LABELS.get(f.cell, f.cell)}**: σ_max(W_hh) = {s:.2f}, {side}.")
        st.caption("Pascanu, Mikolov & Bengio (2013): for h_t = f(W_hh h_(t-1) + ...), if σ_max(W_hh) < 1/γ, where γ "
                   "bounds |f'| (γ = 1 for tanh), the gradient shrinks at least geometrically. LSTM and GRU escape this: "
                   "their cell/state path is multiplied by gates (f, z), not by a weight matrix.")

    st.subheader("While a model trains")
    st.markdown("A tanh RNN learns the adding problem (below); every few steps we measure how far back its gradient "
                "reaches. Each row of the heatmap is one snapshot.")
    d1, d2, d3 = st.columns(3)
    hm_cell = d1.selectbox("Cell", list(CELLS), key="gr_hm_cell")
    hm_T = d2.slider("T", 10, 200, 50, 10, key="gr_hm_T")
    hm_steps = d3.slider("Training steps", 50, 1000, 300, 50, key="gr_hm_steps")
    if st.button("Train and record", key="gr_hm_go", type="primary"):
        run = start_task("adding", hm_cell, hm_T, steps=hm_steps, hidden=32, seed=seed(), eval_every=25)
        probe = adding_problem(64, hm_T, torch.Generator().manual_seed(seed() + 7))
        every = max(hm_steps // 40, 1)
        profiles, at_steps = [], []
        bar = st.progress(0.0, text="Training…")
        chart = st.empty()
        for step in run.steps:
            if step % every == 0 or step == 1:
                profiles.append(gradient_profile(run.model, *probe))
                at_steps.append(step)
                bar.progress(step / hm_steps, text=f"Training… step {step}/{hm_steps}")
                if len(profiles) % 5 == 0:
                    chart.plotly_chart(training_heatmap(np.array(profiles), at_steps), width="stretch")
        bar.progress(1.0, text=run.trainer.history.message)
        if profiles:
            chart.plotly_chart(training_heatmap(np.array(profiles), at_steps), width="stretch")
        st.session_state["gr_hm_result"] = (np.array(profiles), at_steps)
    elif "gr_hm_result" in st.session_state:
        plot(training_heatmap(*st.session_state["gr_hm_result"]), key="gr_hm_plot")


# --- clipping ------------------------------------------------------------------------------------
with tab_clip:
    st.markdown("A tanh RNN whose W_hh has spectral radius above 1, trained with plain SGD on the adding problem: "
                "the gradient can grow exponentially with T, and one update can throw the weights off to infinity. "
                "`clip_grad_norm_` rescales every gradient whose norm exceeds the threshold.")
    e1, e2, e3, e4 = st.columns(4)
    cl_cell = e1.selectbox("Cell", list(CELL_CHOICES), index=0, key="cl_cell")
    cl_radius = e2.slider("Spectral radius", 0.5, 3.0, 1.5, 0.1, key="cl_radius")
    cl_lr = e3.select_slider("SGD learning rate", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0], 0.3, key="cl_lr")
    cl_thr = e4.slider("Clipping threshold", 0.1, 10.0, 1.0, 0.1, key="cl_thr")
    f1, f2 = st.columns(2)
    cl_T = f1.slider("T", 10, 200, 50, 10, key="cl_T")
    cl_steps = f2.slider("Steps", 50, 500, 200, 50, key="cl_steps")
    if st.button("Train with and without clipping", key="cl_go", type="primary"):
        from rnnlab.labs.clipping import clipping_experiment
        bar = st.progress(0.0, text="Training…")
        runs = clipping_experiment(CELL_CHOICES[cl_cell], cl_T, cl_radius, cl_lr, cl_thr, cl_steps, seed=seed(),
                                   on_progress=lambda f, msg: bar.progress(min(f, 1.0), text=msg))
        bar.empty()
        st.session_state["cl_result"] = (runs, cl_thr)
    if "cl_result" in st.session_state:
        runs, thr = st.session_state["cl_result"]
        plot(clipping_figure(runs, thr), key="cl_plot")
        for name, r in runs.items():
            if r["status"] == "diverged":
                st.error(f"**{name}**: {r['message']}")
            else:
                n_clip = sum(r["clipped"])
                st.success(f"**{name}**: {r['message']} Final loss {r['loss'][-1]:.4f}"
                           + (f"; {n_clip} of {len(r['clipped'])} steps were clipped." if name == "with clipping" else "."))
    else:
        st.info("Press the button: both runs start from the same weights and see the same batches.")


# --- truncated BPTT -----------------------------------------------------------------------------
with tab_trunc:
    st.markdown("Truncated BPTT sends the error back only k steps: cheaper, but nothing older than k steps can be "
                "learned from this loss.")
    g1, g2, g3 = st.columns(3)
    tr_cell = g1.selectbox("Cell", list(CELL_CHOICES), index=2, key="tr_cell")
    tr_T = g2.slider("T", 10, 500, 100, 10, key="tr_T")
    tr_k = g3.slider("Truncation length k", 1, tr_T, min(20, tr_T), key="tr_k")
    flow = flows((CELL_CHOICES[tr_cell],), tr_T, 32, "default", None, None, seed())[0]
    plot(truncation_figure(flow.grad_norms, tr_k, flow.cell), key="tr_plot")
    eff = truncation_effect(CELL_CHOICES[tr_cell], tr_T, tr_k, seed=seed())
    m1, m2, m3 = st.columns(3)
    m1.metric("Gradient signal thrown away", f"{truncated_share(flow.grad_norms, tr_k):.1%}",
              help="Share of Σ_t ‖∂L/∂h_t‖ that lies more than k steps back.")
    m2.metric("cos(truncated ∂L/∂W_hh, full)", f"{eff['cosine']:.4f}",
              help="1: truncation points the update the same way as full BPTT.")
    m3.metric("‖truncated‖ / ‖full‖", f"{eff['norm_ratio']:.3f}")
    st.caption("When the gradient vanishes anyway, truncation loses almost nothing: the cosine stays near 1. "
               "With a cell that carries gradients far (or near the edge of chaos), truncation cuts real signal.")


# --- long-range tasks ----------------------------------------------------------------------------
with tab_long:
    st.markdown("**The adding problem**: two numbers in a long sequence are marked; output their sum. **Copy memory**: "
                "read 10 symbols, wait T steps, write them back. Both baselines are the score of a model that "
                "learned nothing about the long-range part.")
    h1, h2, h3 = st.columns(3)
    task = h1.radio("Task", ["adding", "copy"], horizontal=True, key="lr_task")
    lr_T = h2.select_slider("T", [10, 20, 50, 100, 200, 500], 50, key="lr_T")
    lr_cells = h3.multiselect("Cells", list(CELLS), default=list(CELLS), key="lr_cells")
    i1, i2, i3 = st.columns(3)
    lr_steps = i1.slider("Training steps", 50, 2000, 400, 50, key="lr_steps")
    lr_hidden = i2.select_slider("Hidden size", [16, 32, 64, 128], 32, key="lr_hidden")
    mode = i3.radio("Mode", ["race (all together)", "one after another"], key="lr_mode")
    base = baseline(task, lr_T)
    base_label = (f"baseline: predict 1 (MSE {base:.4f}, Le et al. 2015)" if task == "adding"
                  else f"baseline: 10·log 8/(T+20) = {base:.4f}")
    if st.button("Train", key="lr_go", type="primary", disabled=not lr_cells):
        runs = [start_task(task, c, lr_T, steps=lr_steps, hidden=lr_hidden, seed=seed(), eval_every=25)
                for c in lr_cells]
        bar = st.progress(0.0, text="Training…")
        chart = st.empty()

        def redraw(step):
            curves = {r.cell: ([e["step"] for e in r.trainer.history.evals], [e["loss"] for e in r.trainer.history.evals])
                      for r in runs}
            chart.plotly_chart(task_curves(curves, base, "MSE" if task == "adding" else "cross-entropy", base_label),
                               width="stretch")
            bar.progress(min(step / lr_steps, 1.0), text=f"Step {step}/{lr_steps}")

        if mode.startswith("race"):
            race(runs, on_round=redraw, every=25)
        else:
            for r in runs:
                for step in r.steps:
                    if step % 25 == 0:
                        redraw(step)
        bar.progress(1.0, text="Done")
        st.session_state["lr_result"] = ({r.cell: r.result() for r in runs}, base, base_label, task)
    if "lr_result" in st.session_state:
        results, b, b_label, t_name = st.session_state["lr_result"]
        plot(task_curves({c: (r.val_steps, r.val_loss) for c, r in results.items()}, b,
                         "MSE" if t_name == "adding" else "cross-entropy", b_label), key="lr_plot")
        cols = st.columns(len(results))
        for col, (c, r) in zip(cols, results.items()):
            verdict = "✅ solved" if r.solved else ("💥 diverged" if r.status == "diverged" else "❌ not solved")
            col.metric(c, verdict, f"best {r.final:.4f}", delta_color="off")
        st.caption(f"Solved: the best validation loss is below {SOLVED_FRACTION:.0%} of the baseline. LSTMs use the "
                   "chrono initialisation of their gate biases (Tallec & Ollivier 2018).")

    st.subheader("Success against sequence length")
    cfg = DEFAULT_SWEEP
    st.markdown(f"Each cell trained for up to {cfg['steps']} steps on the adding problem at T = "
                f"{', '.join(map(str, cfg['Ts']))}, with {len(cfg['seeds'])} seeds each.")
    sweep_slot = st.empty()
    if "sweep" in st.session_state:
        sweep = st.session_state["sweep"]
    elif SWEEP_FILE.exists():
        sweep = Sweep.load(SWEEP_FILE)
    else:
        sweep = None
    if sweep is not None:
        sweep_slot.plotly_chart(sweep_figure(sweep.success(), sweep.Ts, len(sweep.seeds)), width="stretch",
                                key="lr_sweep_plot")
        source = "this session" if "sweep" in st.session_state else "shipped with the app (bench/sweep.py)"
        st.caption(f"Results: {source}.")
    if st.button("Rerun the sweep live (about 3 minutes on a laptop CPU)", key="lr_sweep_go"):
        total = len(cfg["Ts"]) * len(cfg["seeds"]) * len(cfg["cells"])
        bar = st.progress(0.0, text="Sweeping…")

        def on_result(sw, row):
            done = len(sw.results)
            bar.progress(done / total, text=f"{done}/{total}: T={row['T']} {row['cell']} "
                                            f"{'solved' if row['solved'] else 'not solved'}")
            sweep_slot.plotly_chart(sweep_figure(sw.success(), sw.Ts, len(sw.seeds)), width="stretch")

        st.session_state["sweep"] = run_sweep(on_result=on_result, **cfg)
        st.rerun()
