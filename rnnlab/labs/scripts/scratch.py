"""An RNN from scratch's script: the course's NumPy example (forward pass, BPTT by hand, the gradient check, the
same weights in torch.nn.RNN) or the NumPy character model trained on a sentence."""
from __future__ import annotations

from ..scratch import CHAR_DEFAULTS, DEFAULT_INPUTS, DEFAULT_SENTENCE, DEFAULT_SIZES, DEFAULT_TARGETS
from .template import Const, Settings, render

TITLE = "An RNN from scratch (NumPy)"
DEFAULTS = {"scr_tab": "Forward pass", "scr_seed": 0, "scr_in": DEFAULT_SIZES[0], "scr_hidden": DEFAULT_SIZES[1],
            "scr_out": DEFAULT_SIZES[2], "scr_inputs": DEFAULT_INPUTS, "scr_targets": DEFAULT_TARGETS,
            "scr_sentence": DEFAULT_SENTENCE, "scr_char_hidden": CHAR_DEFAULTS["hidden"],
            "scr_char_steps": CHAR_DEFAULTS["steps"], "scr_char_lr": CHAR_DEFAULTS["lr"],
            "scr_char_temp": CHAR_DEFAULTS["temperature"]}

EXAMPLE = '''
# The course's network: Xavier-initialised weights (biases zero), one-hot inputs, softmax outputs
ex = course_example(INPUT_SIZE, HIDDEN_SIZE, OUTPUT_SIZE, SEED, parse_indices(INPUTS, INPUT_SIZE, "input"),
                    parse_indices(TARGETS, OUTPUT_SIZE, "target"))
'''

FORWARD = EXAMPLE + '''
# The whole forward pass: a Python loop around h_t = tanh(W_xh x_t + W_hh h_(t-1) + b_h), y_t = W_hy h_t + b_y
print(inspect.getsource(rnn_forward))
p = ex.params                   # W_xh, W_hh, W_hy, b_h, b_y
hs, ys = rnn_forward(ex.X, p["W_xh"], p["W_hh"], p["W_hy"], p["b_h"], p["b_y"])
for t, h in enumerate(hs, 1):
    print(f"step {t}: h =", np.round(h, 3))
for t, (y, prob) in enumerate(zip(ex.Y, ex.P), 1):
    print(f"step {t}: y = {np.round(y, 3)}   softmax = {np.round(prob, 3)}")

fig = states_heatmap(ex.H, [f"t={t}" for t in range(1, ex.steps + 1)])
show(fig, html)
'''

BACKWARD = EXAMPLE + '''
# Backpropagation through time, step by step from t = T back to 1, with the chain rule written out
grads, records = bptt_by_hand(ex)
print(f"L = {ex.loss:.4f}  (the mean cross-entropy over the {ex.steps} steps)")
for name, g in grads.items():           # all steps summed: what an optimiser would use
    print(f"∂L/∂{name} =\\n{np.round(g, 3)}")

fig = backward_flow(records, ex.steps)  # the size of ∂L/∂h_t's two parts at every step
show(fig, html)
'''

CHECK = EXAMPLE + '''
# The hand-written gradients against finite differences and against torch.autograd, all in float64
rows = gradient_check(ex)
worst_fd, worst_auto = worst_errors(rows)
print(f"Largest relative error vs finite differences: {worst_fd:.1e}")
print(f"Largest |difference| vs torch.autograd: {worst_auto:.1e}")
for r in rows:
    print(f"  {r['weight']} ({r['shape']}): " + ", ".join(f"{k} {v:.1e}" for k, v in list(r.items())[2:]))

fig = go.Figure([go.Bar(x=[r["weight"] for r in rows], y=[r[k] for r in rows], name=k)
                 for k in ("relative error (finite diff.)", "max |BPTT − autograd|")])
fig.update_layout(title="How far the hand-written BPTT is from the two checks", yaxis_type="log",
                  barmode="group", template="plotly_white")
show(fig, html)
'''

TORCH = EXAMPLE + '''
# The same weights loaded into torch.nn.RNN (two biases where ours has one): the same hidden states
print(inspect.getsource(torch_rnn))
b64, b32 = torch_hidden_states(ex, "float64"), torch_hidden_states(ex, "float32")
print(f"Max |torch − NumPy|, float64: {b64.max_diff:.1e}")
print(f"Max |torch − NumPy|, float32: {b32.max_diff:.1e}")
for t, (h, h_torch) in enumerate(zip(ex.H, b64.H), 1):
    print(f"step {t}: NumPy h_t = {np.round(h, 4)}  torch.nn.RNN h_t = {np.round(h_torch, 4)}")

fig = states_heatmap(b64.H, [f"t={t}" for t in range(1, ex.steps + 1)], title="torch.nn.RNN's hidden states")
show(fig, html)
'''

CHARS = '''
# The NumPy RNN trained by the hand-written BPTT and Adam on the sentence, repeated (the page's live training)
events = []
context = JobContext(1, lambda message: events.append(message.event), None, max_seconds=MAX_SECONDS)
result = char_model_job(context, SENTENCE, HIDDEN, STEPS, LR, sample_every=sample_every(STEPS),
                        temperature=TEMPERATURE, seed=SEED)
print(result["message"])
for e in events:
    if e.kind == "sample":
        print(f"step {e.step}: {e.data['text']!r}")

steps = [e for e in events if e.kind == "step"]
fig = char_loss([e.step for e in steps], [e.data["loss"] for e in steps], chance_loss(SENTENCE),
                [e.step for e in events if e.kind == "sample"])
show(fig, html)
'''

TABS = {"Forward pass": (FORWARD, "the forward pass, a loop around two lines of NumPy",
                         ["import inspect", "import numpy as np", "from rnnlab.figures.scratch import states_heatmap",
                          "from rnnlab.nn.numpy_rnn import rnn_forward"]),
        "Backpropagation by hand": (BACKWARD, "backpropagation through time by hand",
                                    ["import numpy as np", "from rnnlab.figures.scratch import backward_flow",
                                     "from rnnlab.labs.scratch import bptt_by_hand"]),
        "Gradient check": (CHECK, "the hand-written gradients checked twice",
                           ["import plotly.graph_objects as go",
                            "from rnnlab.labs.scratch import gradient_check, worst_errors"]),
        "The same in torch.nn.RNN": (TORCH, "the same weights in torch.nn.RNN",
                                     ["import inspect", "import numpy as np",
                                      "from rnnlab.figures.scratch import states_heatmap",
                                      "from rnnlab.labs.scratch import torch_hidden_states, torch_rnn"])}


def settings(values) -> Settings:
    return Settings(values, DEFAULTS)


def tag(s: Settings) -> str:
    return {"Forward pass": "forward", "Backpropagation by hand": "bptt", "Gradient check": "gradient_check",
            "The same in torch.nn.RNN": "torch", "Train a character model": "characters"}.get(s["scr_tab"], "")


def script(s: Settings, seed: int, file_name: str) -> str:
    tab = s["scr_tab"]
    if tab == "Train a character model":
        consts = [Const("SENTENCE", " ".join(str(s["scr_sentence"]).split()), "Sentence to learn"),
                  Const("HIDDEN", s.num("scr_char_hidden", int), "Hidden units"),
                  Const("STEPS", s.num("scr_char_steps", int), "Training steps"),
                  Const("LR", s.num("scr_char_lr"), "Learning rate (Adam)"),
                  Const("TEMPERATURE", s.num("scr_char_temp"), "Sampling temperature"),
                  Const("SEED", s.num("scr_seed", int), "the page's Seed: the weights and the samples"),
                  Const("MAX_SECONDS", 600.0, "stop the training after this long")]
        return render(
            title="An RNN from scratch, Train a character model: a NumPy RNN learns to continue a sentence.",
            about="The page's live training (its job function, run here): one-hot characters in, a softmax over "
                  "the next character out, trained by the hand-written BPTT with Adam. It takes seconds.",
            page_title=TITLE, file_name=file_name,
            imports=["from rnnlab.figures.scratch import char_loss",
                     "from rnnlab.labs.scratch import chance_loss, char_model_job, sample_every",
                     "from rnnlab.runtime.jobs import JobContext"],
            consts=consts, body=CHARS)
    body, what, imports = TABS.get(tab, TABS["Forward pass"])
    consts = [Const("INPUT_SIZE", s.num("scr_in", int), "Input size"),
              Const("HIDDEN_SIZE", s.num("scr_hidden", int), "Hidden size"),
              Const("OUTPUT_SIZE", s.num("scr_out", int), "Output size"),
              Const("INPUTS", str(s["scr_inputs"]), "Inputs: the hot unit at each step"),
              Const("TARGETS", str(s["scr_targets"]), "Targets for the loss: a class at each step"),
              Const("SEED", s.num("scr_seed", int), "the page's Seed: it draws the weights")]
    return render(
        title=f"An RNN from scratch (NumPy): {what}.",
        about="The course's example: a vanilla RNN written in NumPy (rnnlab/nn/numpy_rnn.py), with Xavier weights, "
              "one-hot inputs and a cross-entropy loss on a class at each step. (This page's seed is its own, the "
              "Seed box above the tabs, not the sidebar's.)",
        page_title=TITLE, file_name=file_name,
        imports=["from rnnlab.labs.scratch import course_example, parse_indices", *imports],
        consts=consts, body=body)
