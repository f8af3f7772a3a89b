"""The Gradients lab's script: the open tab's experiment (gradient flow, clipping, truncated BPTT, or the race on
a long-range task) at the page's settings."""
from __future__ import annotations

from ..gradients import CELL_CHOICES, PAGE_FORGET_BIAS
from ..longrange import CELLS, RACE_DEFAULTS
from .template import Const, Settings, render

TITLE = "Gradients lab"
INITS = {"PyTorch default": "default", "orthogonal": "orthogonal", "identity": "identity"}
SCALES = {"no rescaling": None, "spectral radius ρ": "radius", "largest singular value σ_max": "sigma"}
DEFAULT_TEXT = "the film starts slowly but the ending is wonderful"
DEFAULTS = {
    "gr_tab": "Gradient flow", "gr_T": 100, "gr_cells": ["RNN (tanh)", "LSTM", "GRU"], "gr_hidden": 32,
    "gr_init": "PyTorch default", "gr_scale": "no rescaling", "gr_radius": 1.0, "gr_fbias": PAGE_FORGET_BIAS,
    "gr_skip": False, "gr_input": "random", "gr_text": DEFAULT_TEXT,
    "gr_cl_cell": "RNN (tanh)", "gr_cl_scale": "spectral radius ρ", "gr_cl_radius": 1.5, "gr_cl_lr": 0.3,
    "gr_cl_thr": 1.0, "gr_cl_T": 50, "gr_cl_steps": 200,
    "gr_tr_cell": "LSTM", "gr_tr_T": 100, "gr_tr_k": 20, "gr_tr_fbias": PAGE_FORGET_BIAS,
    "gr_lr_task": "adding", "gr_lr_T": RACE_DEFAULTS["T"], "gr_lr_cells": list(CELLS),
    "gr_lr_steps": RACE_DEFAULTS["steps"], "gr_lr_hidden": RACE_DEFAULTS["hidden"], "gr_lr_mode": "race (all together)",
}
JOB_SECONDS = 600.0     # the most a script's training may take (the page's class limit is usually lower)


def settings(values) -> Settings:
    return Settings(values, DEFAULTS)


def tag(s: Settings) -> str:
    tab = s["gr_tab"]
    if tab == "Clipping":
        return f"clipping_T{s.num('gr_cl_T', int)}"
    if tab == "Truncated BPTT":
        return f"truncated_T{s.num('gr_tr_T', int)}_k{s.num('gr_tr_k', int)}"
    if tab == "Long-range tasks":
        return f"{s['gr_lr_task']}_T{s.num('gr_lr_T', int)}"
    return f"T{s.num('gr_T', int)}"


def script(s: Settings, seed: int, file_name: str) -> str:
    tab = s["gr_tab"]
    make = {"Clipping": _clipping, "Truncated BPTT": _truncation, "Long-range tasks": _race}.get(tab, _flow)
    return make(s, seed, file_name)


# --- Gradient flow ----------------------------------------------------------------------------------------
FLOW = '''
# An input sequence: N(0, 1) noise, or the sentence's words as seeded random 8-number vectors (the sentence sets T)
inputs = sentence_inputs(SENTENCE, 8, SEED)[0] if SENTENCE is not None else None
flows = [gradient_flow(CELL_CHOICES[cell], T, HIDDEN, INIT, VALUE if RESCALE else None, inputs=inputs, seed=SEED,
                       forget_bias=FORGET_BIAS, scale_by=RESCALE or "radius", residual=with_skip)
         for with_skip in ((False, True) if SKIP else (False,)) for cell in CELLS]

# How much of the gradient of L = w·h_T reaches the first step (1 = nothing lost; above 1, it grew)
for f in flows:
    print(f"{flow_label(f)}: ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖: {sci(f.log10_ratio_first_last())}")

# Pascanu et al.'s criterion: the largest singular value of each cell's W_hh against 1/γ
for f in flows:
    if f.threshold is not None:
        sigma = f.sigma_max["W_hh"]
        print(f"{LABELS.get(f.cell, f.cell)}: σ_max(W_hh) = {sigma:.2f} (ρ = {f.radius['W_hh']:.2f}), "
              f"{criterion_verdict(sigma, f.gamma['W_hh'])}.")

fig = gradient_flow_figure(flows)      # log10 ‖∂L/∂h_t‖ against t, one curve per cell
show(fig, html)
'''


def _flow(s: Settings, seed: int, file_name: str) -> str:
    scale = SCALES.get(s["gr_scale"])
    typed = s["gr_input"] == "typed sentence" and bool(str(s["gr_text"]).strip())
    consts = [
        Const("T", s.num("gr_T", int), "Sequence length T (a typed sentence sets it instead)"),
        Const("CELLS", s.items_list("gr_cells"), "Cells"),
        Const("HIDDEN", s.num("gr_hidden", int), "Hidden size"),
        Const("INIT", INITS.get(s["gr_init"], "default"), f"Initialisation: {s['gr_init']}"),
        Const("RESCALE", scale, f"Rescale each W_hh block to: {s['gr_scale']}"),
        Const("VALUE", s.num("gr_radius"), "the ρ or σ_max each W_hh block is rescaled to (if RESCALE)"),
        Const("FORGET_BIAS", s.num("gr_fbias"), "LSTM forget-gate bias"),
        Const("SKIP", s.flag("gr_skip"), "Skip connections across time"),
        Const("SENTENCE", str(s["gr_text"]) if typed else None, "Input: None for random, else a typed sentence"),
        Const("SEED", seed, "the sidebar's seed"),
    ]
    return render(
        title="Gradients lab, Gradient flow: how much of the gradient survives the trip back through T steps.",
        about="Each cell starts from fresh weights and reads the same input; the loss L = w·h_T depends on the last "
              "step only. The script measures ‖∂L/∂h_t‖ for every t (in log space, so values far below float64's "
              "range stay exact), prints the share that reaches the first step and Pascanu et al.'s criterion for "
              "each cell, and draws the curves. (The tab's training with gradient snapshots is a live job on the "
              "page; the Long-range tasks tab's script runs the same kind of training.)",
        page_title=TITLE, file_name=file_name,
        imports=["from rnnlab.figures.gradients import LABELS, flow_label, gradient_flow_figure",
                 "from rnnlab.labs.gradients import CELL_CHOICES, criterion_verdict, gradient_flow, sci, "
                 "sentence_inputs"],
        consts=consts, body=FLOW)


# --- Truncated BPTT ---------------------------------------------------------------------------------------
TRUNCATION = '''
k = min(K, T)       # the page caps k at T
flow = gradient_flow(CELL, T, 32, seed=SEED, forget_bias=FORGET_BIAS)        # full BPTT: ‖∂L/∂h_t‖ for every t
effect = truncation_effect(CELL, T, k, seed=SEED, forget_bias=FORGET_BIAS)   # ∂L/∂W_hh from the last k steps only
share = truncated_share(flow.log10_grad, k)

print(f"Gradient signal thrown away: {share:.1%}")       # of Σ_t ‖∂L/∂h_t‖, the part more than k steps back
print(f"cos(truncated, full ∂L/∂W_hh): {effect['cosine']:.4f}")
print(f"‖truncated‖ / ‖full‖: {effect['norm_ratio']:.3f}")
print(truncation_verdict(effect["cosine"], share, k, T))

fig = truncation_figure(flow.log10_grad, k, flow.cell)
show(fig, html)
'''


def _truncation(s: Settings, seed: int, file_name: str) -> str:
    cell = CELL_CHOICES.get(s["gr_tr_cell"], "LSTM")
    consts = [
        Const("CELL", cell, f"Cell: {s['gr_tr_cell']}"),
        Const("T", s.num("gr_tr_T", int), "T"),
        Const("K", s.num("gr_tr_k", int), "Truncation length k"),
        Const("FORGET_BIAS", s.num("gr_tr_fbias") if cell == "LSTM" else 0.0,
              "LSTM forget-gate bias (the page uses 0 for the other cells)"),
        Const("SEED", seed, "the sidebar's seed"),
    ]
    return render(
        title="Gradients lab, Truncated BPTT: what sending the error back only k steps throws away.",
        about="One freshly initialised cell reads T steps of N(0, 1) noise. The script compares the gradient "
              "∂L/∂W_hh of truncated BPTT (the last k steps) with the full one, and measures the share of the "
              "gradient signal lying more than k steps back.",
        page_title=TITLE, file_name=file_name,
        imports=["from rnnlab.figures.gradients import truncation_figure",
                 "from rnnlab.labs.gradients import gradient_flow, truncated_share, truncation_effect, "
                 "truncation_verdict"],
        consts=consts, body=TRUNCATION)


# --- Clipping (a live training on the page) ---------------------------------------------------------------
CLIPPING = '''
seed_everything(SEED)           # as the page's worker does before it runs the job
torch.set_num_threads(1)
context = JobContext(1, lambda message: None, None, max_seconds=MAX_SECONDS)    # the job's events go nowhere
result = clipping_job(context, cell=CELL, T=T, radius=VALUE, scale_by=SCALE_BY, lr=LR, threshold=THRESHOLD,
                      steps=STEPS, seed=SEED)

for name, run in result["runs"].items():
    if run["status"] == "diverged":
        print(f"{name}: {run['message']}")
    elif run["loss"]:
        clipped = (f"; {clipped_steps(run)} of {len(run['clipped'])} steps were clipped"
                   if name == "with clipping" else "")
        print(f"{name}: {run['message']} Final loss {run['loss'][-1]:.4f}{clipped}.")

fig = clipping_figure(result["runs"], result["threshold"])     # loss and gradient norm, with and without clipping
show(fig, html)
'''


def _clipping(s: Settings, seed: int, file_name: str) -> str:
    consts = [
        Const("CELL", CELL_CHOICES.get(s["gr_cl_cell"], "RNN_TANH"), f"Cell: {s['gr_cl_cell']}"),
        Const("SCALE_BY", SCALES.get(s["gr_cl_scale"]) or "radius", f"Scale W_hh to: {s['gr_cl_scale']}"),
        Const("VALUE", s.num("gr_cl_radius"), "ρ(W_hh) or σ_max(W_hh)"),
        Const("LR", s.num("gr_cl_lr"), "SGD learning rate"),
        Const("THRESHOLD", s.num("gr_cl_thr"), "Clipping threshold"),
        Const("T", s.num("gr_cl_T", int), "T"),
        Const("STEPS", s.num("gr_cl_steps", int), "Steps (each of the two runs)"),
        Const("SEED", seed, "the sidebar's seed"),
        Const("MAX_SECONDS", JOB_SECONDS, "stop the training after this long"),
    ]
    return render(
        title="Gradients lab, Clipping: the same training with and without gradient clipping.",
        about="A recurrent net whose W_hh is scaled up learns the adding problem with plain SGD, twice from the same "
              "weights on the same batches: once as is, once with clip_grad_norm_. This is the page's live training "
              "(its job function, run here in this process), at the page's settings: the page's step counts are "
              "small, so it takes seconds to a minute on a laptop.",
        page_title=TITLE, file_name=file_name,
        imports=["import torch", "from rnnlab.figures.gradients import clipping_figure",
                 "from rnnlab.labs.clipping import clipped_steps, clipping_job",
                 "from rnnlab.runtime.device import seed_everything", "from rnnlab.runtime.jobs import JobContext"],
        consts=consts, body=CLIPPING)


# --- Long-range tasks (a live training on the page) -------------------------------------------------------
RACE = '''
seed_everything(SEED)           # as the page's worker does before it runs the job
torch.set_num_threads(1)
context = JobContext(1, lambda message: None, None, max_seconds=MAX_SECONDS)    # the job's events go nowhere
result = race_job(context, task=TASK, cells=CELLS, T=T, steps=STEPS, hidden=HIDDEN, together=TOGETHER, seed=SEED,
                  eval_every=EVAL_EVERY)

runs = result["runs"]
print(f"Baseline (no long-range memory): {result['baseline']:.4f}; solved: below {result['threshold']:.4f}")
for cell, run in runs.items():
    if run["solved"]:
        print(f"{cell}: ✓ solved after {int(run['solved_at']):,} steps")
    elif run["status"] == "diverged":
        print(f"{cell}: ✗ diverged, best {run['final']:.4f}")
    else:
        print(f"{cell}: ✗ not solved, best {run['final']:.4f}")

metric = "MSE" if TASK == "adding" else "cross-entropy"
solved = {cell: int(run["solved_at"]) for cell, run in runs.items() if run["solved"]}
fig = task_curves({cell: (run["val_steps"], run["val_loss"]) for cell, run in runs.items()}, result["baseline"],
                  result["threshold"], result["steps"], metric, f"baseline ({result['baseline']:.4f})", solved)
show(fig, html)
'''


def _race(s: Settings, seed: int, file_name: str) -> str:
    consts = [
        Const("TASK", s["gr_lr_task"], "Task: adding or copy"),
        Const("T", s.num("gr_lr_T", int), "T"),
        Const("CELLS", s.items_list("gr_lr_cells"), "Cells"),
        Const("STEPS", s.num("gr_lr_steps", int), "Training steps"),
        Const("HIDDEN", s.num("gr_lr_hidden", int), "Hidden size"),
        Const("TOGETHER", str(s["gr_lr_mode"]).startswith("race"), f"Mode: {s['gr_lr_mode']}"),
        Const("EVAL_EVERY", RACE_DEFAULTS["eval_every"], "validate every this many steps"),
        Const("SEED", seed, "the sidebar's seed"),
        Const("MAX_SECONDS", JOB_SECONDS, "stop the training after this long"),
    ]
    return render(
        title="Gradients lab, Long-range tasks: which cells learn a task whose answer lies T steps back.",
        about="The adding problem (two marked numbers in a long sequence: output their sum) or copy memory (read a "
              "few symbols, wait T steps, write them back), trained for each cell with Adam. This is the page's live "
              "training (its job function, run here in this process) at the page's settings; at the default 400 "
              "steps it takes a minute or two on a laptop's CPU. Lower STEPS for a quicker, rougher look.",
        page_title=TITLE, file_name=file_name,
        imports=["import torch", "from rnnlab.figures.gradients import task_curves",
                 "from rnnlab.labs.longrange import race_job",
                 "from rnnlab.runtime.device import seed_everything", "from rnnlab.runtime.jobs import JobContext"],
        consts=consts, body=RACE)
