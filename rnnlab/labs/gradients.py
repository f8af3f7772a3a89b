"""How gradients travel back through time: ‖∂L/∂h_t‖ per step, the Jacobian product ∏ ∂h_k/∂h_(k-1),
and the weight-matrix criterion of Pascanu, Mikolov & Bengio (2013).

For a loss that depends on the last step only, the gradient reaching step t is

    ∂L/∂h_t = ∂L/∂h_T · ∂h_T/∂h_(T-1) · ... · ∂h_(t+1)/∂h_t

For a tanh RNN each factor is diag(1 - h_k²) W_hh, so its norm is at most σ_max(W_hh) · γ with γ = 1
(the largest slope of tanh). If σ_max(W_hh) < 1/γ the product shrinks geometrically: gradients vanish
(a sufficient condition). If the spectral radius is > 1 they *can* explode (a necessary condition).

Everything here runs the step-by-step loop once and the hand-written BPTT of ``rnnlab.nn.recurrence``
once, in float64 (so 1e-200 is still a number), with no autograd graph.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..nn.init import initialize, recurrent_blocks, spectral_radius
from ..nn.layers import make_recurrent
from ..nn.recurrence import _loop, backward_through_time, input_projection

CELL_CHOICES = {"RNN (tanh)": "RNN_TANH", "RNN (relu)": "RNN_RELU", "LSTM": "LSTM", "GRU": "GRU"}
EXACT_JACOBIAN_MAX_HIDDEN = 64
SKETCH_DIRECTIONS = 32
GAMMA = {"RNN_TANH": 1.0, "RNN_RELU": 1.0}  # largest slope of the nonlinearity (Pascanu et al.'s γ)


@dataclass
class GradientFlow:
    cell: str
    steps: np.ndarray              # t = 1..T
    grad_norms: np.ndarray         # ‖∂L/∂h_t‖, with L = w·h_T for a fixed unit vector w
    jacobian_norms: np.ndarray     # ‖∂h_T/∂h_t‖₂ (spectral norm of the Jacobian product)
    jacobian_exact: bool           # False: a lower bound from random directions (large hidden sizes)
    sigma_max: dict[str, float]    # largest singular value of each W_hh block
    radius: dict[str, float]       # spectral radius of each W_hh block
    gamma: float | None            # the slope bound for vanilla RNNs; None for gated cells

    @property
    def threshold(self) -> float | None:
        """Pascanu et al.'s 1/γ: σ_max(W_hh) below it guarantees vanishing gradients (vanilla RNN)."""
        return None if self.gamma is None else 1.0 / self.gamma

    def ratio_first_last(self) -> float:
        """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: below 1 the gradient shrank on its way back."""
        return float(self.grad_norms[0] / max(self.grad_norms[-1], 1e-300))


def build_layer(cell: str, input_size: int, hidden: int, init: str = "default", radius: float | None = None,
                seed: int = 0, forget_bias: float = 0.0) -> torch.nn.Module:
    """A one-layer traced RNN/LSTM/GRU initialised as asked (``init`` may also be ``"irnn"``).

    ``forget_bias`` is added to an LSTM's forget-gate bias: at 0 a fresh LSTM forgets about half of c at
    every step (f ≈ 0.5); at 2-3, f ≈ 0.9-0.95 and c carries information (and gradient) much further."""
    if init == "irnn":
        cell, init = "RNN_RELU", "identity"
    layer = make_recurrent(cell, input_size, hidden, batch_first=True)
    initialize(layer, init, spectral_radius_target=radius, generator=torch.Generator().manual_seed(seed))
    if forget_bias and layer.mode == "LSTM":
        with torch.no_grad():
            layer.bias_ih_l0[hidden:2 * hidden] += forget_bias
    return layer


def _forward64(layer, x: torch.Tensor):
    """The step loop in float64 from zero states, keeping what BPTT needs: (mode, w_hh, h0, c0, pre, hs, cs, hn)."""
    dt = torch.float64
    mode = layer.mode
    w_ih, w_hh = layer.weight_ih_l0.to(dt), layer.weight_hh_l0.to(dt)
    b_ih, b_hh = layer.bias_ih_l0.to(dt), layer.bias_hh_l0.to(dt)
    x = x.to(dt).transpose(0, 1)                            # (T, B, D)
    xw = input_projection(mode, x, w_ih, b_ih, b_hh)
    h0 = x.new_zeros(x.shape[1], layer.hidden_size)
    c0 = h0.clone() if mode == "LSTM" else None
    _, _, _, pre, hs, cs, hn = _loop(mode, xw, h0, c0, w_hh, b_hh if mode == "GRU" else None, None)
    return mode, w_hh, h0, c0, pre, hs, cs, hn


def _probe(cell: str, T: int, hidden: int, init: str, radius: float | None, inputs: np.ndarray | None,
           input_size: int, seed: int, forget_bias: float = 0.0):
    """The seeded setup both analyses share: inputs (1, T, D), a fresh layer, and the unit vector w of L = w·h_T."""
    gen = torch.Generator().manual_seed(seed)
    if inputs is None:
        x = torch.randn(1, T, input_size, generator=gen)
    else:
        x = torch.as_tensor(np.asarray(inputs, dtype=np.float32))[None]
    layer = build_layer(cell, x.shape[2], hidden, init, radius, seed, forget_bias)
    w = torch.randn(1, hidden, generator=gen)
    return layer, x, w / w.norm()


@torch.no_grad()
def hidden_gradient_norms(layer, x: torch.Tensor, d_hT: torch.Tensor, jacobian: bool = False,
                          sketch: int | None = None, seed: int = 0):
    """Run ``layer`` (one layer, one direction) on ``x`` (B, T, D) and send ``d_hT`` (B, H) back.

    Returns ‖∂L/∂h_t‖ for t = 1..T (Frobenius over the batch), and, if ``jacobian`` (B must be 1),
    ‖∂h_T/∂h_t‖₂ for t = 1..T, exact or (with ``sketch`` = k) a lower bound from k random directions.
    """
    dtype = torch.float64
    mode, w_hh, h0, c0, pre, hs, cs, hn = _forward64(layer, x)
    T, B, H = hs.shape
    rows = [d_hT.to(dtype)]
    if jacobian:
        if B != 1:
            raise ValueError("the Jacobian product is computed for a single sequence")
        if sketch:
            omega = torch.randn(sketch, H, generator=torch.Generator().manual_seed(seed), dtype=dtype)
            rows.append(omega / omega.norm(dim=1, keepdim=True))
        else:
            rows.append(torch.eye(H, dtype=dtype))
    seed_rows = torch.cat(rows)                              # (B + J, H) gradient vectors sent back together
    n_loss = d_hT.shape[0]
    grads: list[torch.Tensor] = [None] * T                  # ∂/∂h_t for t = 1..T, all rows
    grads[T - 1] = seed_rows

    def record(t, dh, dc):
        if t:  # t == 0 is the gradient w.r.t. h_0, the initial state
            grads[t - 1] = dh

    backward_through_time(mode, pre, hs, cs, hn, h0, c0, w_hh, d_hT=seed_rows, record=record)
    stacked = torch.stack(grads)                            # (T, rows, H)
    norms = torch.linalg.vector_norm(stacked[:, :n_loss], dim=(1, 2)).numpy()
    jac = None
    if jacobian:
        blocks = stacked[:, n_loss:]
        if sketch:
            jac = blocks.norm(dim=2).amax(dim=1).numpy()
        else:
            # Spectral norms in float32 after scaling each block to unit Frobenius norm: fast, and the
            # scale (which may be 1e-200) is restored in float64.
            fro = torch.linalg.vector_norm(blocks, dim=(1, 2))
            safe = torch.where(fro > 0, fro, torch.ones_like(fro))   # an underflowed block stays 0
            unit = (blocks / safe[:, None, None]).float()
            jac = (torch.linalg.matrix_norm(unit, ord=2).double() * fro).numpy()
    return norms, jac


def weight_criterion(layer) -> tuple[dict[str, float], dict[str, float]]:
    """σ_max and spectral radius of each gate's W_hh block (the whole matrix for a vanilla RNN)."""
    names = {"LSTM": "ifgo", "GRU": "rzn"}.get(layer.mode, ["W_hh"])
    sig, rad = {}, {}
    for name, block in zip(names, recurrent_blocks(layer.weight_hh_l0.detach().double())):
        key = name if name == "W_hh" else f"W_h{name}"
        sig[key] = float(torch.linalg.matrix_norm(block, ord=2))
        rad[key] = spectral_radius(block)
    return sig, rad


def gradient_flow(cell: str, T: int = 100, hidden: int = 32, init: str = "default", radius: float | None = None,
                  inputs: np.ndarray | None = None, input_size: int = 8, seed: int = 0,
                  forget_bias: float = 0.0) -> GradientFlow:
    """‖∂L/∂h_t‖ and ‖∂h_T/∂h_t‖ for one freshly initialised cell, with L = w·h_T (w a fixed unit vector).

    ``inputs`` (T, D): the sequence to read (e.g. embedded words); default N(0, 1) noise of ``input_size``.
    """
    layer, x, w = _probe(cell, T, hidden, init, radius, inputs, input_size, seed, forget_bias)
    T = x.shape[1]
    exact = hidden <= EXACT_JACOBIAN_MAX_HIDDEN
    norms, jac = hidden_gradient_norms(layer, x, w, jacobian=True, sketch=None if exact else SKETCH_DIRECTIONS,
                                       seed=seed)
    sig, rad = weight_criterion(layer)
    return GradientFlow(layer.mode if init != "irnn" else "IRNN", np.arange(1, T + 1), norms, jac, exact, sig, rad,
                        GAMMA.get(layer.mode))


@torch.no_grad()
def truncation_effect(cell: str, T: int, k: int, hidden: int = 32, init: str = "default",
                      radius: float | None = None, input_size: int = 8, seed: int = 0) -> dict[str, float]:
    """Truncated BPTT with window ``k``: compare ∂L/∂W_hh from the last k steps with the full gradient.

    Returns the cosine between the two gradients and the norm of the truncated one relative to the full one.
    """
    layer, x, w = _probe(cell, T, hidden, init, radius, None, input_size, seed)
    mode, w_hh, h0, c0, pre, hs, cs, hn = _forward64(layer, x)
    w = w.double()
    full = backward_through_time(mode, pre, hs, cs, hn, h0, c0, w_hh, d_hT=w)["w_hh"]
    k = max(1, min(k, T))
    s = T - k  # the truncated backward pass starts from the state before step s, treated as a constant
    h_s = hs[s - 1] if s else h0
    c_s = (cs[s - 1] if s else c0) if mode == "LSTM" else None
    part = backward_through_time(mode, pre[s:], hs[s:], None if cs is None else cs[s:],
                                 None if hn is None else hn[s:], h_s, c_s, w_hh, d_hT=w)["w_hh"]
    cos = float((full * part).sum() / max(float(full.norm() * part.norm()), 1e-300))
    return {"cosine": cos, "norm_ratio": float(part.norm() / max(float(full.norm()), 1e-300))}


def truncated_share(flow_norms: np.ndarray, k: int) -> float:
    """Share of the gradient signal (sum of ‖∂L/∂h_t‖) that comes from steps more than ``k`` before the end:
    what truncated BPTT with window ``k`` throws away."""
    T = len(flow_norms)
    if k >= T:
        return 0.0
    total = float(np.sum(flow_norms))
    return float(np.sum(flow_norms[: T - k]) / total) if total > 0 else 0.0
