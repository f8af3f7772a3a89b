"""A small network and an input to unroll one time step at a time, with every number exposed.

``build_unroll`` makes a one-layer RNN, LSTM or GRU (hidden size 2-16), an input sequence (a typed
sentence through a small seeded embedding, or a numeric sequence such as a sine) and runs the trace.
``step_values(u, t)`` then gives everything that step t computed, as NumPy arrays, and
``gate_weights(u)`` the weight blocks each gate uses: the numbers the equations are written with.
``blowup(u)`` says whether the state grew past what can be written out or held in float32 (a relu cell
with a large spectral radius), from which step, and how fast it grew.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..data.tokenizer import tokenize
from ..inputs import readable
from ..nn.cells import GATES
from ..nn.init import initialize, recurrent_blocks, spectral_radius
from ..nn.layers import Trace, make_recurrent

INPUT_KINDS = ("sentence", "sine", "square wave", "random walk")
MAX_STEPS = 200
#: The page's cell choices (label -> ``make_recurrent`` mode) and U's spectral radius choices.
CELLS = {"RNN (tanh)": "RNN_TANH", "RNN (relu)": "RNN_RELU", "LSTM": "LSTM", "GRU": "GRU"}
RADII = ["as initialised", "0.5", "0.9", "1.0", "1.5", "2.0"]
DEFAULT_SENTENCE = "the movie was not good at all"
WRITTEN_OUT = 4   # up to this hidden size the equations are written out number by number
#: A state this large is no longer written out digit by digit (a float32 reaches 3.4e38: 39 digits).
LARGE = 1e6
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: relu's slope for every positive input. relu never saturates, so only a relu cell's h can blow up: tanh's
#: slope is 1 at 0 only and tanh keeps h within ±1 (an LSTM's c grows by at most 1 a step).
RELU_SLOPE = 1.0


@dataclass
class Unroll:
    mode: str
    labels: list[str]            # what each step reads: a token, or x_t's value
    inputs: np.ndarray           # (T, D) the vectors fed in (embeddings for a sentence)
    layer: torch.nn.Module       # the traced layer (one layer, one direction)
    trace: Trace
    vocabulary: dict[str, np.ndarray] | None = None   # token -> embedding, for a sentence

    @property
    def steps(self) -> int:
        return len(self.labels)

    @property
    def hidden_size(self) -> int:
        return self.layer.hidden_size

    @property
    def gate_names(self) -> tuple[str, ...]:
        return GATES[self.mode]


def make_sequence(kind: str, length: int = 20, frequency: float = 1.0, seed: int = 0) -> np.ndarray:
    """A numeric input sequence of ``length`` steps, shape (T, 1)."""
    t = np.arange(length)
    if kind == "sine":
        x = np.sin(2 * math.pi * frequency * t / max(length, 1))
    elif kind == "square wave":
        x = np.sign(np.sin(2 * math.pi * frequency * (t + 0.5) / max(length, 1)))
    elif kind == "random walk":
        x = np.cumsum(np.random.default_rng(seed).normal(0, 0.3, length))
    else:
        raise ValueError(f"unknown sequence {kind!r}")
    return x.astype(np.float32)[:, None]


def embed_tokens(tokens: list[str], dim: int, seed: int) -> dict[str, np.ndarray]:
    """A small random embedding for each distinct token (N(0, 1), seeded): stand-in word vectors."""
    rng = np.random.default_rng(seed)
    vocab: dict[str, np.ndarray] = {}
    for tok in tokens:
        if tok not in vocab:
            vocab[tok] = rng.normal(0, 1, dim).astype(np.float32)
    return vocab


def build_unroll(cell: str = "LSTM", hidden_size: int = 3, input_kind: str = "sentence",
                 text: str = "the movie was not good", length: int = 20, frequency: float = 1.0,
                 embed_dim: int = 3, seed: int = 0, init: str = "default",
                 spectral_radius: float | None = None) -> Unroll:
    """Build the network and input, run the trace. Raises ValueError with a readable message."""
    if not 1 <= hidden_size <= 64:
        raise ValueError("hidden size must be between 1 and 64")
    if input_kind == "sentence":
        # the one rule for "is there any text" (rnnlab.inputs.readable): zero-width characters or lone
        # combining marks are no sentence, here as on every page
        tokens = tokenize(text)[:MAX_STEPS] if readable(text) else []
        if not tokens:
            raise ValueError("The sentence has no words to read: type a few words.")
        vocabulary = embed_tokens(tokens, embed_dim, seed)
        inputs = np.stack([vocabulary[t] for t in tokens])
        labels = tokens
    else:
        length = int(min(max(length, 1), MAX_STEPS))
        inputs = make_sequence(input_kind, length, frequency, seed)
        vocabulary = None
        labels = [f"{v:+.2f}" for v in inputs[:, 0]]
    # Built on the meta device and filled from its own generator: torch's global generator, which every
    # thread of the server shares, is never touched, so the same seed gives the same weights to everyone.
    gen = torch.Generator().manual_seed(seed)
    with torch.device("meta"):
        layer = make_recurrent(cell, inputs.shape[1], hidden_size, batch_first=True)
    layer = layer.to_empty(device="cpu")
    initialize(layer, init, spectral_radius_target=spectral_radius, generator=gen)
    layer.eval()
    with torch.no_grad():
        _, _, trace = layer.trace(torch.from_numpy(inputs)[None])
    return Unroll(layer.mode, labels, inputs, layer, trace, vocabulary)


def step_values(u: Unroll, t: int) -> dict[str, np.ndarray]:
    """Everything step ``t`` (0-based) computed: x, h_prev (and c_prev), pre_<gate>, <gate>, h (and c)."""
    if not 0 <= t < u.steps:
        raise IndexError(f"step {t} outside 0..{u.steps - 1}")
    part = u.trace[0, "forward"]
    arr = lambda x: x[0].detach().cpu().numpy()  # noqa: E731  (drop the batch of one)
    h = arr(part.h)
    values = {"x": u.inputs[t], "h_prev": h[t - 1] if t else arr(part.h0), "h": h[t]}
    if part.c is not None:
        c = arr(part.c)
        values["c_prev"] = c[t - 1] if t else arr(part.c0)
        values["c"] = c[t]
    for name, p in part.pre.items():
        values[f"pre_{name}"] = arr(p)[t]
    for name, g in part.gates.items():
        values[name] = arr(g)[t]
    return values


def history(u: Unroll, upto: int) -> dict[str, np.ndarray]:
    """h (and c) for steps 0..upto, each (upto+1, H)."""
    part = u.trace[0, "forward"]
    out = {"h": part.h[0, :upto + 1].detach().cpu().numpy()}
    if part.c is not None:
        out["c"] = part.c[0, :upto + 1].detach().cpu().numpy()
    return out


def gate_weights(u: Unroll) -> dict[str, dict[str, np.ndarray]]:
    """Per gate (or ``"h"`` for a vanilla RNN): its blocks ``W`` (input), ``U`` (recurrent), biases.

    For RNN and LSTM ``b`` is b_ih + b_hh (they add). The GRU candidate keeps them apart, since the
    reset gate multiplies only the recurrent part: n = tanh(W x + b_in + r * (U h + b_hn)).
    """
    L = u.layer
    H = L.hidden_size
    w_ih, w_hh = L.weight_ih_l0.detach().numpy(), L.weight_hh_l0.detach().numpy()
    b_ih, b_hh = L.bias_ih_l0.detach().numpy(), L.bias_hh_l0.detach().numpy()
    names = u.gate_names or ("h",)
    out = {}
    for k, name in enumerate(names):
        s = slice(k * H, (k + 1) * H)
        blocks = {"W": w_ih[s], "U": w_hh[s], "b": b_ih[s] + b_hh[s]}
        if u.mode == "GRU" and name == "n":
            blocks.update({"b": b_ih[s], "b_hn": b_hh[s]})
        out[name] = blocks
    return out


def recurrent_scales(u: Unroll) -> dict[str, tuple[float, float]]:
    """Per gate block U of W_hh: (spectral radius = largest |eigenvalue|, largest singular value σ_max).

    The spectral radius decides whether repeated multiplication by U alone grows or shrinks a state in the
    long run; Pascanu et al. (2013)'s condition for vanishing gradients in a tanh RNN is on σ_max (σ_max < 1
    is sufficient for vanishing). σ_max >= spectral radius always."""
    names = u.gate_names or ("h",)
    blocks = recurrent_blocks(u.layer.weight_hh_l0.detach())
    return {name: (spectral_radius(b), float(torch.linalg.matrix_norm(b.double(), ord=2)))
            for name, b in zip(names, blocks)}


@dataclass(frozen=True)
class Blowup:
    """How the state of a run grew out of bounds. Steps count from 1, as the page shows them."""

    large_step: int                 # the first step at which some |h| (or |c|) passed LARGE
    overflow_step: int | None       # the first step with a value float32 cannot hold (inf, then nan)
    largest: float                  # the largest finite |h| (or |c|) of the run
    growth: float                   # measured: how many times larger the state got per step on its way up
    radius: float                   # U's spectral radius (the largest over the gate blocks)
    slope: float                    # the activation's largest slope

    @property
    def per_step(self) -> float:
        """The growth the weights allow: U's spectral radius times the activation's slope."""
        return self.radius * self.slope


def _sizes(u: Unroll) -> np.ndarray:
    """max |h| (and |c|) at each step, as float64 (inf where a value is inf or nan)."""
    arrays = history(u, u.steps - 1)
    size = np.zeros(u.steps)
    for a in arrays.values():
        a = np.asarray(a, dtype=np.float64)
        size = np.maximum(size, np.where(np.isfinite(a), np.abs(a), np.inf).max(axis=1))
    return size


def blowup(u: Unroll) -> Blowup | None:
    """None while every state stays below :data:`LARGE`; else when it passed it, when (if ever) it passed
    float32's largest number, and how fast it grew: the measured factor per step over the run up to the
    first overflow (from the last step the state was at most 1), beside U's spectral radius times the
    activation's slope, the factor the weights allow a relu cell on each step."""
    size = _sizes(u)
    over = np.flatnonzero(size >= LARGE)
    if not len(over):
        return None
    bad = np.flatnonzero(~np.isfinite(size))
    overflow = int(bad[0]) if len(bad) else None
    end = (overflow if overflow is not None else u.steps) - 1          # the last finite step
    small = np.flatnonzero(size[:end + 1] <= 1.0)
    start = int(small[-1]) if len(small) and small[-1] < end else 0
    growth = float((size[end] / max(size[start], 1e-30)) ** (1.0 / max(end - start, 1)))
    finite = size[np.isfinite(size)]
    radius = max(rho for rho, _ in recurrent_scales(u).values())
    return Blowup(int(over[0]) + 1, None if overflow is None else overflow + 1, float(finite.max(initial=0.0)),
                  growth, radius, RELU_SLOPE)


def finite_step(values: dict[str, np.ndarray]) -> bool:
    """Whether every number step_values gave for a step is finite (a blown-up relu state is inf, then nan)."""
    return all(np.isfinite(v).all() for v in values.values())


def drawable(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays with inf and nan as gaps (nan) and huge values kept: what a line chart can draw."""
    return {k: np.where(np.isfinite(v), v, np.nan) for k, v in arrays.items()}
