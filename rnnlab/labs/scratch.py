"""An RNN from scratch: the course's example (input 3, hidden 4, output 2, Xavier weights, 3 one-hot
steps), backpropagation through time by hand with every intermediate gradient, gradient checks (finite
differences and ``torch.autograd``), the same weights in ``torch.nn.RNN``, and a character model trained
in NumPy as a job.

The NumPy maths lives in :mod:`rnnlab.nn.numpy_rnn`; this module sets up the lesson around it.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import numpy as np
import torch

from ..inputs import InputError as BadValue
from ..inputs import parse_number, readable, shown
from ..nn.numpy_rnn import (
    PARAM_NAMES,
    NumpyRNN,
    alphabet,
    init_params,
    numerical_gradient,
    one_hot,
    relative_error,
    rnn_forward,
    sample_text,
    train_chars,
)
from .equations import aligned, matrix

# Bounds that keep every number on screen readable and every click instant.
MAX_INPUT, MAX_HIDDEN, MAX_OUTPUT, MAX_STEPS = 8, 8, 5, 8
MAX_CHAR_TEXT = 200          # characters the student may type for the character model
MAX_CHAR_STEPS = 3000
MAX_CHAR_HIDDEN = 128
SEQ_LEN = 25                 # characters per truncated-BPTT window
#: The page's example: the hot input unit and the target class at each step.
DEFAULT_SIZES = (3, 4, 2)    # input, hidden, output
DEFAULT_INPUTS, DEFAULT_TARGETS = "0, 1, 2", "0, 1, 0"
#: The gradient check: the finite difference's step, and the relative errors that mean right and wrong
#: (tests/test_scratch.py measures both: a right BPTT stays below, a one-line mistake lands above).
FD_EPS, RIGHT_BELOW, WRONG_ABOVE = 1e-6, 1e-7, 0.1
#: The character model's sentence, the choices of its sliders and their defaults.
DEFAULT_SENTENCE = "hello world"
CHAR_CHOICES = {"hidden": [8, 16, 32, 64, 128], "steps": [100, 200, 400, 800, 1500, 3000],
                "lr": [1e-3, 3e-3, 5e-3, 1e-2, 3e-2, 0.1, 0.5], "temperature": [0.1, 0.3, 0.5, 0.8, 1.0, 1.5]}
CHAR_DEFAULTS = {"hidden": 32, "steps": 400, "lr": 5e-3, "temperature": 0.5}


class InputError(ValueError):
    """A typed setting cannot be used; the message says why and what to type."""


def parse_indices(text: str, size: int, what: str, max_steps: int = MAX_STEPS) -> list[int]:
    """``"0, 1, 2"`` -> [0, 1, 2], each in 0..size-1 (one per time step, at most ``max_steps``). Numbers
    are read by :func:`rnnlab.inputs.parse_number` (decimal digits of any script; not "²" or "1_0"), and a
    text without a readable character (spaces, zero-width spaces) counts as empty, as on every page."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",")]
    parts = [q for p in parts for q in p.split()]
    if not readable("".join(parts)):
        raise InputError(f"Type at least one {what}, e.g. 0, 1, 2.")
    if len(parts) > max_steps:
        raise InputError(f"At most {max_steps} time steps here (you typed {len(parts)}).")
    out = []
    for p in parts:
        try:
            k = parse_number(p, integer=True)
        except BadValue:
            raise InputError(f"{shown(p, 20)} is not a whole number: type {what}s between 0 and {size - 1}, "
                             "separated by commas.") from None
        if not 0 <= k < size:
            raise InputError(f"{k if abs(k) < 10**12 else shown(p, 20)} is not a valid {what}: with size {size} "
                             f"they go from 0 to {size - 1}.")
        out.append(k)
    return out


@dataclass
class Example:
    """The small RNN and what one forward pass over the one-hot inputs computed."""

    params: dict[str, np.ndarray]   # W_xh (H, D), W_hh (H, H), b_h (H,), W_hy (O, H), b_y (O,)
    inputs: list[int]               # the hot unit at each step
    targets: list[int]              # the class the loss asks for at each step
    X: np.ndarray                   # (T, D) one-hot rows
    H: np.ndarray                   # (T, H) hidden state after each step
    Y: np.ndarray                   # (T, O) outputs (logits)
    P: np.ndarray                   # (T, O) softmax of Y
    loss: float                     # mean cross-entropy over the steps

    @property
    def steps(self) -> int:
        return len(self.inputs)

    @property
    def pre(self) -> np.ndarray:
        """a_t = W_xh x_t + W_hh h_(t-1) + b_h for every step (T, H)."""
        p = self.params
        H_prev = np.vstack([np.zeros(self.H.shape[1]), self.H[:-1]])
        return self.X @ p["W_xh"].T + H_prev @ p["W_hh"].T + p["b_h"]


def course_example(input_size: int = DEFAULT_SIZES[0], hidden_size: int = DEFAULT_SIZES[1],
                   output_size: int = DEFAULT_SIZES[2], seed: int = 0,
                   inputs=(0, 1, 2), targets=None, init: str = "xavier") -> Example:
    """The course's RNN: Xavier-initialised weights (biases zero) run on one-hot inputs with
    :func:`rnnlab.nn.numpy_rnn.rnn_forward`. ``targets`` default to class 0 at every step."""
    for name, value, top in (("input size", input_size, MAX_INPUT), ("hidden size", hidden_size, MAX_HIDDEN),
                             ("output size", output_size, MAX_OUTPUT)):
        if not 1 <= value <= top:
            raise InputError(f"The {name} must be between 1 and {top}.")
    inputs = [int(i) for i in inputs]
    targets = [0] * len(inputs) if targets is None else [int(k) for k in targets]
    if not 1 <= len(inputs) <= MAX_STEPS:
        raise InputError(f"Between 1 and {MAX_STEPS} time steps.")
    if len(targets) != len(inputs):
        raise InputError(f"One target per time step: {len(inputs)} inputs but {len(targets)} targets.")
    if any(not 0 <= i < input_size for i in inputs) or any(not 0 <= k < output_size for k in targets):
        raise InputError("An input or a target is outside its size.")
    params = init_params(input_size, hidden_size, output_size, seed=seed, init=init)
    X = one_hot(inputs, input_size)
    H, Y = rnn_forward(X, **params)
    P = np.exp(Y - Y.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    loss = float(-np.log(P[np.arange(len(targets)), targets]).mean())
    return Example(params, inputs, targets, X, H, Y, P, loss)


# --- backpropagation through time, step by step --------------------------------------------------------
def bptt_by_hand(ex: Example) -> tuple[dict[str, np.ndarray], list[dict]]:
    """The gradients of the mean cross-entropy and one record per backward step (last step first):
    see :meth:`rnnlab.nn.numpy_rnn.NumpyRNN.backward`."""
    model = NumpyRNN.from_params(ex.params)
    records: list[dict] = []
    grads = model.backward(model.forward(ex.X, ex.targets), record=records)
    return grads, records


def backward_equations(ex: Example, rec: dict, decimals: int = 3) -> list[tuple[str, str]]:
    """(what it is, LaTeX) for one backward step, the chain rule with that step's numbers."""
    M = lambda a: matrix(a, decimals)  # noqa: E731
    t, T = rec["t"], ex.steps
    h_t, h_prev = ex.H[t - 1], (ex.H[t - 2] if t > 1 else np.zeros(ex.H.shape[1]))
    lines = [
        ("The error of this step's output: softmax minus the one-hot target, divided by T (the loss is a mean).",
         rf"\frac{{\partial L}}{{\partial y_{{{t}}}}} = "
         rf"\frac{{p_{{{t}}} - \mathrm{{onehot}}({ex.targets[t - 1]})}}{{{T}}}"
         rf" = \frac{{1}}{{{T}}}\left({M(ex.P[t - 1])} - {M(np.eye(ex.P.shape[1])[ex.targets[t - 1]])}\right)"
         rf" = {M(rec['dy'])}"),
    ]
    if t == T:
        future = r"\underbrace{0}_{\text{no step after } T}"
        future_num = M(np.zeros_like(rec["dh"]))
    else:
        future = rf"W_{{hh}}^\top \frac{{\partial L}}{{\partial a_{{{t + 1}}}}}"
        future_num = M(rec["dh_next"])
    lines.append((
        "h_t reaches the loss two ways: through its own output y_t, and through h_(t+1) (everything later).",
        aligned(rf"\frac{{\partial L}}{{\partial h_{{{t}}}}} = "
                rf"W_{{hy}}^\top \frac{{\partial L}}{{\partial y_{{{t}}}}} + {future}",
                rf"{M(rec['dh_out'])} + {future_num}", M(rec["dh"]))))
    lines.append((
        "Through the tanh: its slope is 1 - h², small where a unit is saturated (h near ±1).",
        aligned(rf"\frac{{\partial L}}{{\partial a_{{{t}}}}} = "
                rf"(1 - h_{{{t}}}^2) \odot \frac{{\partial L}}{{\partial h_{{{t}}}}}",
                rf"{M(1 - h_t ** 2)} \odot {M(rec['dh'])}", M(rec["da"]))))
    lines.append((
        f"This step's share of ∂L/∂W_hh (an outer product with the memory it read, h_{t - 1}), added to the "
        "shares of the later steps.",
        aligned(rf"\Delta\frac{{\partial L}}{{\partial W_{{hh}}}} = "
                rf"\frac{{\partial L}}{{\partial a_{{{t}}}}}\, h_{{{t - 1}}}^\top",
                rf"{M(rec['da'])} {M(h_prev[None, :])}", M(rec["dW_hh"]))))
    lines.append((
        f"Summed over steps {t}…{T} so far:",
        rf"\sum_{{k={t}}}^{{{T}}} \frac{{\partial L}}{{\partial a_{{k}}}}\, h_{{k-1}}^\top = {M(rec['sum_W_hh'])}"))
    lines.append((
        f"The same for W_xh (with the input x_{t}) and b_h (the bias sees ∂L/∂a_t itself):",
        rf"\Delta\frac{{\partial L}}{{\partial W_{{xh}}}} = \frac{{\partial L}}{{\partial a_{{{t}}}}}\, x_{{{t}}}^\top"
        rf" = {M(rec['dW_xh'])}, \quad \Delta\frac{{\partial L}}{{\partial b_{{h}}}} = {M(rec['db_h'])}"))
    if t > 1:
        lines.append((
            f"What step {t} sends back to h_{t - 1}: this product, repeated over many steps, is what vanishes "
            "or explodes.",
            aligned(rf"W_{{hh}}^\top \frac{{\partial L}}{{\partial a_{{{t}}}}} = "
                    rf"{M(ex.params['W_hh'].T)} {M(rec['da'])}",
                    M(ex.params["W_hh"].T @ rec["da"]))))
    return lines


def forward_equation(ex: Example, t: int, decimals: int = 2) -> str:
    """h_t = tanh(W_xh x_t + W_hh h_(t-1) + b_h) with step ``t``'s numbers (1-based)."""
    M = lambda a: matrix(a, decimals)  # noqa: E731
    p = ex.params
    h_prev = ex.H[t - 2] if t > 1 else np.zeros(ex.H.shape[1])
    return (rf"h_{{{t}}} = \tanh\left({M(p['W_xh'])}{matrix(ex.X[t - 1], 0)} + {M(p['W_hh'])}{M(h_prev)}"
            rf" + {M(p['b_h'])}\right)"
            rf" = \tanh\left({M(ex.pre[t - 1])}\right) = {M(ex.H[t - 1])}")


# --- checks: finite differences, autograd, torch.nn.RNN ------------------------------------------------
def torch_rnn(params: dict, dtype: torch.dtype = torch.float64) -> tuple[torch.nn.RNN, torch.nn.Linear]:
    """``torch.nn.RNN`` (tanh, batch_first) and an output ``nn.Linear`` holding the NumPy weights.

    torch keeps two biases, b_ih and b_hh, where the NumPy RNN has one: b_ih = b_h and b_hh = 0 give the
    same sum. Built on the meta device: nothing is drawn from torch's shared random generator."""
    W_xh, W_hh, W_hy = (np.asarray(params[k]) for k in ("W_xh", "W_hh", "W_hy"))
    H, D = W_xh.shape
    with torch.device("meta"):
        rnn = torch.nn.RNN(D, H, batch_first=True, dtype=dtype)
        head = torch.nn.Linear(H, W_hy.shape[0], dtype=dtype)
    rnn, head = rnn.to_empty(device="cpu"), head.to_empty(device="cpu")
    with torch.no_grad():
        as_t = lambda a: torch.as_tensor(np.asarray(a), dtype=dtype)  # noqa: E731
        rnn.weight_ih_l0.copy_(as_t(W_xh))
        rnn.weight_hh_l0.copy_(as_t(W_hh))
        rnn.bias_ih_l0.copy_(as_t(params["b_h"]))
        rnn.bias_hh_l0.zero_()
        head.weight.copy_(as_t(W_hy))
        head.bias.copy_(as_t(params["b_y"]))
    return rnn, head


@dataclass
class TorchBridge:
    H: np.ndarray            # (T, hidden) torch.nn.RNN's hidden states
    max_diff: float          # max |torch - NumPy| over every state
    dtype: str


def torch_hidden_states(ex: Example, dtype: torch.dtype | str = torch.float64) -> TorchBridge:
    """Run ``torch.nn.RNN`` with the example's weights on the same inputs (``dtype``: a torch dtype or
    its name, "float32" or "float64")."""
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    rnn, _ = torch_rnn(ex.params, dtype)
    with torch.no_grad():
        out, _ = rnn(torch.as_tensor(ex.X, dtype=dtype)[None])
    H = out[0].double().numpy()
    return TorchBridge(H, float(np.abs(H - ex.H).max()), str(dtype).replace("torch.", ""))


def autograd_gradients(ex: Example) -> dict[str, np.ndarray]:
    """The same loss through ``torch.nn.RNN`` + ``nn.Linear`` + cross-entropy, differentiated by autograd
    (float64), with torch's gradients renamed to the NumPy names."""
    rnn, head = torch_rnn(ex.params, torch.float64)
    out, _ = rnn(torch.as_tensor(ex.X)[None])
    loss = torch.nn.functional.cross_entropy(head(out[0]), torch.as_tensor(ex.targets))
    loss.backward()
    return {"W_xh": rnn.weight_ih_l0.grad.numpy(), "W_hh": rnn.weight_hh_l0.grad.numpy(),
            "b_h": rnn.bias_ih_l0.grad.numpy(), "W_hy": head.weight.grad.numpy(), "b_y": head.bias.grad.numpy()}


def gradient_check(ex: Example, eps: float = FD_EPS) -> list[dict]:
    """Per weight: BPTT by hand against central finite differences and against autograd (float64)."""
    grads, _ = bptt_by_hand(ex)
    model = NumpyRNN.from_params(ex.params)
    auto = autograd_gradients(ex)
    rows = []
    for name in PARAM_NAMES:
        fd = numerical_gradient(model, ex.X, ex.targets, name, eps=eps)
        rows.append({"weight": name, "shape": "×".join(map(str, grads[name].shape)),
                     "max |BPTT − finite diff.|": float(np.abs(grads[name] - fd).max()),
                     "relative error (finite diff.)": relative_error(grads[name], fd),
                     "max |BPTT − autograd|": float(np.abs(grads[name] - auto[name]).max())})
    return rows


def worst_errors(rows: list[dict]) -> tuple[float, float]:
    """The worst of :func:`gradient_check`'s rows: (largest relative error vs finite differences, largest
    |BPTT − autograd|)."""
    return (max(r["relative error (finite diff.)"] for r in rows),
            max(r["max |BPTT − autograd|"] for r in rows))


# --- the character model, trained as a job -----------------------------------------------------------
def clean_sentence(sentence: str) -> str:
    """The sentence as the model learns it: runs of spaces and newlines as one space, and no invisible format
    characters (zero-width spaces, direction marks such as U+202E, which would also reverse the samples shown)."""
    return " ".join("".join(c for c in str(sentence) if unicodedata.category(c) != "Cf").split())


def training_text(sentence: str, seq_len: int = SEQ_LEN, min_chars: int = 200) -> str:
    """The sentence (:func:`clean_sentence`) repeated, with a space between, until there are enough characters
    for a few windows."""
    typed, sentence = str(sentence).strip(), clean_sentence(sentence)
    if not readable(sentence):        # empty, spaces, or only invisible characters (zero-width, direction marks)
        raise InputError("Type a sentence for the model to learn: letters, digits or punctuation (this one has "
                         "none you can see)." if typed else "Type a sentence for the model to learn.")
    if len(sentence) > MAX_CHAR_TEXT:
        raise InputError(f"At most {MAX_CHAR_TEXT} characters here (you typed {len(sentence)}): "
                         "a NumPy model that trains in seconds learns a sentence, not a book.")
    unit = sentence + " "
    reps = max(math.ceil(max(min_chars, seq_len + 1) / len(unit)), 2)
    return unit * reps


def char_model_job(ctx, sentence: str = "hello world", hidden: int = 32, steps: int = 600, lr: float = 1e-2,
                   seq_len: int = SEQ_LEN, sample_every: int = 50, temperature: float = 0.5, seed: int = 0) -> dict:
    """Train a NumPy character RNN on ``sentence`` (repeated), streaming the loss at every step and a sample
    every ``sample_every`` steps. Returns its weights (float64 arrays) and alphabet."""
    ctx.phase("preparing")
    if not 1 <= hidden <= MAX_CHAR_HIDDEN:
        raise ValueError(f"The hidden size must be between 1 and {MAX_CHAR_HIDDEN}.")
    if not 1 <= steps <= MAX_CHAR_STEPS:
        raise ValueError(f"Between 1 and {MAX_CHAR_STEPS} steps.")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError("The learning rate must be a positive number.")
    sample_every = max(int(sample_every), 1)
    try:
        text = training_text(sentence, seq_len)
    except InputError as err:
        raise ValueError(str(err)) from None
    sentence = clean_sentence(sentence)
    chars = alphabet(text)
    seq_len = min(seq_len, len(text) - 1)
    rng = np.random.default_rng(seed)  # the samples, like the weights, follow the seed
    sample_len = min(len(sentence) + 20, 240)

    def on_step(step, loss, model):
        ctx.emit("step", step + 1, loss=loss)
        if (step + 1) % sample_every == 0 or step + 1 == steps:
            ctx.emit("sample", step + 1, text=sentence[0] + sample_text(model, chars, sentence[0], sample_len, rng,
                                                                      temperature))

    ctx.phase("training")
    model, chars, log = train_chars(text, hidden_size=hidden, seq_len=seq_len, steps=steps, lr=lr,
                                    optimizer="adam", clip=5.0, seed=seed, on_step=on_step,
                                    should_stop=ctx.should_stop)
    final = log.losses[-1] if log.losses else float("nan")
    tail = float(np.mean(log.losses[-20:])) if log.losses else float("nan")
    windows_per_pass = max((len(text) - 1) // seq_len, 1)
    message = (f"{log.message} Loss over the last 20 steps {tail:.3f} (chance: ln {len(chars)} = "
               f"{math.log(len(chars)):.3f})." if log.losses else log.message)
    overshoot = above_chance(log.losses, len(chars), lr)
    return {"status": log.status,
            "message": message + (" " + overshoot if overshoot else ""),
            "epochs_completed": len(log.losses) // windows_per_pass,
            "metrics": {"final_loss": final, "loss_last20": tail, "chance_loss": math.log(len(chars))},
            "params": model.params, "chars": chars, "sentence": sentence,
            "history": {"steps": [s + 1 for s in log.steps], "loss": log.losses, "grad_norm": log.grad_norms},
            "config": {"hidden": hidden, "steps": steps, "lr": lr, "seq_len": seq_len, "optimizer": "Adam",
                       "clip": 5.0, "text_chars": len(text)}}


def above_chance(losses: list[float], n_chars: int, lr: float, last: int = 20) -> str | None:
    """Why a run whose loss ended above chance (ln V, what a uniform guess scores) learned nothing, or None:
    with Adam each step moves every weight by up to about the learning rate, so a large one overshoots and
    the loss climbs instead of falling."""
    if len(losses) < last:
        return None
    tail, chance = float(np.mean(losses[-last:])), math.log(n_chars)
    if not tail > chance:
        return None
    return (f"It ended above chance ({tail:.2f} > {chance:.2f}): worse than guessing uniformly. With Adam each "
            f"step moves every weight by up to about the learning rate, {lr:g}; steps that large overshoot, so "
            "the loss rose instead of falling. Lower the learning rate (the default is "
            f"{CHAR_DEFAULTS['lr']:g}).")


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(x: float) -> str:
    """1e-06 -> "10⁻⁶" (the nearest power of ten, for text)."""
    return "10" + str(round(math.log10(x))).translate(_SUPERSCRIPT)


def sample_every(steps: int) -> int:
    """How often the page's training draws a sample: about 20 samples a run, at least 10 steps apart."""
    return max(int(steps) // 20, 10)


def chance_loss(sentence: str) -> float:
    """The loss of a model that guesses uniformly among the sentence's characters: ln V nats."""
    return math.log(len(alphabet(training_text(sentence))))


def continue_text(params: dict, chars: list[str], prime: str, n: int = 60, temperature: float = 0.5,
                  seed: int = 0) -> str:
    """A trained character model (weights from the job's result) continues ``prime``."""
    model = NumpyRNN.from_params(params)
    return sample_text(model, list(chars), prime, max(min(int(n), 400), 1), np.random.default_rng(seed),
                       max(float(temperature), 0.05))


def char_model_params(hidden: int, chars: int) -> int:
    """Weights of a character RNN: W_xh, W_hh, b_h, W_hy, b_y."""
    return hidden * chars + hidden * hidden + hidden + chars * hidden + chars

