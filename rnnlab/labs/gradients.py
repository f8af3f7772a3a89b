"""How gradients travel back through time: ‖∂L/∂h_t‖ per step, the Jacobian product ∏ ∂h_k/∂h_(k-1),
and the weight-matrix criterion of Pascanu, Mikolov & Bengio (2013).

For a loss that depends on the last step only, the gradient reaching step t is

    ∂L/∂h_t = ∂L/∂h_T · ∂h_T/∂h_(T-1) · ... · ∂h_(t+1)/∂h_t

For a tanh RNN each factor is diag(1 - h_k²) W_hh, so its norm is at most σ_max(W_hh) · γ, where σ_max is
the largest *singular value* of W_hh and γ = 1 the largest slope of tanh. If σ_max(W_hh) < 1/γ the
product shrinks geometrically: gradients vanish (a sufficient condition); so σ_max(W_hh) > 1/γ is
necessary for them to explode. The spectral radius ρ (largest |eigenvalue|) is never larger than σ_max
and can be much smaller: ρ < 1/γ does *not* guarantee vanishing. Both are reported for every block.

Gated cells do not follow that simple rule: an LSTM's cell state is carried by c_t = f_t ⊙ c_(t-1) + ...,
a path multiplied by the forget gate and by no weight matrix, and a GRU keeps z_t ⊙ h_(t-1) the same way.
With gates near 1 the gradient survives whatever σ_max of the W_h blocks is.

Numbers far below 1e-308 do not fit in a float64, and at T = 1,000 a tanh RNN's gradient is about
1e-400. So the backward pass here renormalises the gradient at every step and accumulates the scale as
a log10: every norm is returned as log10 ‖·‖, exact where a float64 could hold it and still right where it
could not. It runs the step loop once and a hand-written backward pass (the same equations as
``rnnlab.nn.recurrence``) once, in float64, with no autograd graph.

*Residual connections across time* (``residual=True``): h_t = cell(x_t, h_(t-1)) + h_(t-1). Each
Jacobian factor becomes I + ∂cell/∂h_(t-1), whose eigenvalues are 1 + λ for the eigenvalues λ of the cell's
own factor: the product no longer shrinks geometrically, but it is not the identity either, and it can explode.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..inputs import readable
from ..nn.cells import gru_step, lstm_step, rnn_step
from ..nn.init import initialize, recurrent_blocks, seeded, spectral_radius
from ..nn.layers import make_recurrent
from ..nn.recurrence import input_projection

CELL_CHOICES = {"RNN (tanh)": "RNN_TANH", "RNN (relu)": "RNN_RELU", "LSTM": "LSTM", "GRU": "GRU"}
EXACT_JACOBIAN_MAX_HIDDEN = 64
SKETCH_DIRECTIONS = 32
JACOBIAN_POINTS = 250      # spectral norms at most at this many steps (one SVD each), evenly spread
SIGMOID_SLOPE = 0.25       # the largest slope of the logistic sigmoid
#: γ of each W_h block: the largest slope of the nonlinearity that block's product goes through.
BLOCK_GAMMA = {"RNN_TANH": {"W_hh": 1.0}, "RNN_RELU": {"W_hh": 1.0},
               "LSTM": {"W_hi": SIGMOID_SLOPE, "W_hf": SIGMOID_SLOPE, "W_hg": 1.0, "W_ho": SIGMOID_SLOPE},
               "GRU": {"W_hr": SIGMOID_SLOPE, "W_hz": SIGMOID_SLOPE, "W_hn": 1.0}}
SCALE_BY = ("radius", "sigma")   # what a rescaling sets: spectral radius ρ, or largest singular value σ_max
#: The Gradients page's LSTM forget-gate bias: σ(3) ≈ 0.95, gates near 1 from the start, so the fresh LSTM's cell
#: state carries the gradient far back (at Keras' 1, f ≈ 0.73 and it vanishes too, only more slowly).
PAGE_FORGET_BIAS = 3.0
#: |σ_max·γ - 1| below this: at the boundary of Pascanu et al.'s strict criterion, which then decides nothing
#: (float rounding puts an orthogonal or a rescaled W_hh a hair above or below 1).
BOUNDARY_TOL = 1e-3


@dataclass
class GradientFlow:
    cell: str
    steps: np.ndarray              # t = 1..T
    log10_grad: np.ndarray         # log10 ‖∂L/∂h_t‖, L = w·h_T for a fixed unit vector w (-inf: exactly 0)
    jacobian_steps: np.ndarray     # the steps t where ‖∂h_T/∂h_t‖₂ was computed (all when T <= 250)
    log10_jacobian: np.ndarray     # log10 ‖∂h_T/∂h_t‖₂ at those steps
    jacobian_exact: bool           # False: a lower bound from random directions (large hidden sizes)
    sigma_max: dict[str, float]    # largest singular value of each W_h block
    radius: dict[str, float]       # spectral radius (largest |eigenvalue|) of each W_h block
    gamma: dict[str, float]        # γ of each block (see BLOCK_GAMMA)
    residual: bool = False
    forget_bias: float = 0.0
    overflow_at: int | None = None  # the step where h overflowed a float64: ``steps`` end just before it
    growth: float = 1.0            # how much ‖h_t‖ grew per step before that

    @property
    def gated(self) -> bool:
        return len(self.gamma) > 1

    @property
    def threshold(self) -> float | None:
        """Pascanu et al.'s 1/γ for a vanilla RNN: σ_max(W_hh) below it guarantees vanishing gradients
        (without a residual path). None for gated cells, which the simple rule does not cover."""
        if self.gated or self.residual:
            return None
        return 1.0 / self.gamma["W_hh"]

    @property
    def grad_norms(self) -> np.ndarray:
        """‖∂L/∂h_t‖ as float64 (values below ~1e-308 underflow to 0: use ``log10_grad``)."""
        with np.errstate(under="ignore"):
            return np.power(10.0, self.log10_grad)

    def log10_ratio_first_last(self) -> float:
        """log10 (‖∂L/∂h_1‖ / ‖∂L/∂h_T‖): below 0 the gradient shrank on its way back."""
        return float(self.log10_grad[0] - self.log10_grad[-1])


def sigmoid(x: float) -> float:
    """The logistic σ(x): where a gate with bias x starts, on average."""
    return 1.0 / (1.0 + math.exp(-x))


def criterion_verdict(sigma: float, gamma: float) -> str:
    """What Pascanu et al.'s criterion says about a block with largest singular value ``sigma`` and slope bound
    ``gamma``: σ_max·γ < 1 (strictly) guarantees vanishing; > 1 is necessary for explosion; at 1 (within
    ``BOUNDARY_TOL``) it decides nothing."""
    bound = f"1/γ = {1 / gamma:g}"
    if abs(sigma * gamma - 1) < BOUNDARY_TOL:
        return (f"at the boundary {bound} (within {BOUNDARY_TOL:g}): the criterion is strict, so it decides "
                "nothing here")
    if sigma * gamma < 1:
        return f"below {bound}: the gradient is guaranteed to vanish"
    return f"above {bound}: vanishing is no longer guaranteed, and explosion becomes possible"


def zero_flows(flows: list[GradientFlow]) -> list[GradientFlow]:
    """The flows whose gradient is exactly 0 at some step (log10 = -inf: every relu unit on the way back was off),
    not just small."""
    return [f for f in flows if np.isneginf(f.log10_grad).any()]


def sci(log10_value: float, digits: int = 1) -> str:
    """A number given by its log10, in scientific notation: sci(-400.5) == '3.2e-401', as Python's '%.1e' would
    print it. Works far beyond float64's range; -inf is '0'."""
    if not math.isfinite(log10_value):
        return "0" if log10_value < 0 else "inf"
    exponent = math.floor(log10_value)
    mantissa = 10 ** (log10_value - exponent)
    if round(mantissa, digits) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.{digits}f}e{exponent:+03d}"


# --- building the layer -----------------------------------------------------------------------------
def build_layer(cell: str, input_size: int, hidden: int, init: str = "default", radius: float | None = None,
                seed: int = 0, forget_bias: float = 0.0, scale_by: str = "radius") -> torch.nn.Module:
    """A one-layer traced RNN/LSTM/GRU initialised as asked (``init`` may also be ``"irnn"``), from its own
    generator (never torch's global one).

    ``radius``: rescale every W_h block so that its spectral radius ρ (``scale_by="radius"``) or its largest
    singular value σ_max (``scale_by="sigma"``) is this number. Pascanu et al.'s criterion is on σ_max.
    ``forget_bias`` is added to an LSTM's forget-gate bias: at 0 a fresh LSTM forgets about half of c at
    every step (f ≈ 0.5); at 1 (Keras' ``unit_forget_bias=True``), f ≈ 0.73 and at 3, f ≈ 0.95: c carries
    information, and gradient, much further back."""
    if init == "irnn":
        cell, init = "RNN_RELU", "identity"
    if scale_by not in SCALE_BY:
        raise ValueError(f"scale_by must be one of {SCALE_BY}")
    gen = torch.Generator().manual_seed(seed)
    layer = seeded(lambda: make_recurrent(cell, input_size, hidden, batch_first=True), gen)
    if init != "default":
        initialize(layer, init, generator=gen)
    if radius is not None:
        rescale_recurrent(layer, radius, scale_by)
    if forget_bias and layer.mode == "LSTM":
        with torch.no_grad():
            layer.bias_ih_l0[hidden:2 * hidden] += forget_bias
    return layer


@torch.no_grad()
def rescale_recurrent(layer, value: float, scale_by: str = "radius") -> None:
    """Scale each W_h block so that its spectral radius (``"radius"``) or its largest singular value
    (``"sigma"``) equals ``value``."""
    if value <= 0:
        raise ValueError("the target must be positive")
    for name, p in layer.named_parameters():
        if "weight_hh" in name:
            for block in recurrent_blocks(p):
                current = (spectral_radius(block) if scale_by == "radius"
                           else float(torch.linalg.matrix_norm(block.double(), ord=2)))
                if current > 1e-12:
                    block.mul_(value / current)


# --- forward and backward in float64, norms in log space ----------------------------------------------
@dataclass
class _Forward:
    mode: str
    w_hh: torch.Tensor
    h0: torch.Tensor
    c0: torch.Tensor | None
    pre: torch.Tensor              # (T, B, G*H) pre-activations, as rnnlab.nn.recurrence keeps them
    hs: torch.Tensor               # (T, B, H) state after each step
    cs: torch.Tensor | None
    hn: torch.Tensor | None        # GRU: W_hn h + b_hn per step
    residual: bool = False

    def overflow_step(self) -> int | None:
        """The first step t (1-based) whose state h_t (or c_t) holds a number a float64 cannot: inf or nan."""
        states = self.hs if self.cs is None else torch.cat([self.hs, self.cs], dim=2)
        bad = ~torch.isfinite(states).all(dim=2).all(dim=1)
        return int(bad.nonzero()[0, 0]) + 1 if bad.any() else None

    def first(self, n: int) -> _Forward:
        """The forward pass of the first ``n`` steps only."""
        cut = lambda x: None if x is None else x[:n]  # noqa: E731
        return _Forward(self.mode, self.w_hh, self.h0, self.c0, self.pre[:n], self.hs[:n], cut(self.cs),
                        cut(self.hn), self.residual)

    def growth(self) -> float:
        """How much ‖h_t‖ grew per step over the second half of the steps (a geometric mean)."""
        top = self.hs[:, 0].abs().amax(dim=1).clamp_min(1e-300)     # ‖h‖ in log space: h² may overflow
        norms = top.log10() + torch.linalg.vector_norm(self.hs[:, 0] / top[:, None], dim=1).log10()
        a, b = len(norms) // 2, len(norms) - 1
        return float(10 ** ((norms[b] - norms[a]) / (b - a))) if b > a else 1.0


def _forward64(layer, x: torch.Tensor, residual: bool = False) -> _Forward:
    """The step loop in float64 from zero states, keeping what the backward pass needs."""
    dt = torch.float64
    mode = layer.mode
    w_ih, w_hh = layer.weight_ih_l0.detach().to(dt), layer.weight_hh_l0.detach().to(dt)
    b_ih, b_hh = layer.bias_ih_l0.detach().to(dt), layer.bias_hh_l0.detach().to(dt)
    x = x.detach().to(dt).transpose(0, 1)                             # (T, B, D)
    xw = input_projection(mode, x, w_ih, b_ih, b_hh)
    h = h0 = x.new_zeros(x.shape[1], layer.hidden_size)
    c = c0 = h0.clone() if mode == "LSTM" else None
    pres, hs, cs, hns = [], [], [], []
    relu = mode == "RNN_RELU"
    for xw_t in xw.unbind(0):
        if mode == "LSTM":
            h_new, c, parts = lstm_step(xw_t, h, c, w_hh, None)
            cs.append(c)
        elif mode == "GRU":
            h_new, parts = gru_step(xw_t, h, w_hh, b_hh)
            hns.append(parts["hn"])
        else:
            h_new, parts = rnn_step(xw_t, h, w_hh, None, relu=relu)
        h = h_new + h if residual else h_new
        pres.append(parts["pre"])
        hs.append(h)
    stack = lambda xs: torch.stack(xs) if xs else None  # noqa: E731
    return _Forward(mode, w_hh, h0, c0, torch.stack(pres), torch.stack(hs), stack(cs), stack(hns), residual)


@dataclass
class BackwardNorms:
    log10_loss: np.ndarray         # (T,) log10 ‖∂L/∂h_t‖ (Frobenius over the batch)
    jacobian_steps: np.ndarray     # 1-based steps with a Jacobian norm
    log10_jacobian: np.ndarray | None
    overflow_at: int | None = None  # the step whose state overflowed: the norms cover the steps before it
    growth: float = 1.0            # ‖h_t‖'s growth per step before it overflowed


def _state_backward(fw: _Forward, rows: torch.Tensor, keep_at: np.ndarray, n_loss: int):
    """Send ``rows`` (gradient vectors at h_T, one per row) back through time. After every step each row
    is divided by its norm and the log10 of that norm is kept, so nothing underflows or overflows.

    Returns, per step t = 1..T (index t-1): the first ``n_loss`` rows scaled (T, n_loss, H), all rows
    scaled at the 0-based steps ``keep_at`` (K, rows, H), and each row's accumulated log10 scale
    (T, rows): the true gradient of row r at step t is ``scaled[t, r] * 10**log_scale[t, r]``."""
    mode, pre, hs, w_hh = fw.mode, fw.pre, fw.hs, fw.w_hh
    T, _, H = hs.shape
    if hs.shape[1] not in (1, rows.shape[0]):
        raise ValueError("the gradient rows must match the batch, or the batch must be one sequence")
    h_prev = torch.cat([fw.h0[None], hs[:-1]])
    if mode == "LSTM":
        i, f, _, o = pre.sigmoid().chunk(4, dim=2)
        g = pre[..., 2 * H:3 * H].tanh()
        c_prev = torch.cat([fw.c0[None], fw.cs[:-1]])
        tc = fw.cs.tanh()
        k = o * (1 - tc * tc)                                         # dh -> dc through h = o tanh(c)
        scale = torch.cat([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), tc * o * (1 - o)], dim=2)
    elif mode == "GRU":
        r, z, _ = pre.sigmoid().chunk(3, dim=2)
        n = pre[..., 2 * H:].tanh()
        p_n = (1 - z) * (1 - n * n)
        p_z = (h_prev - n) * z * (1 - z)
        p_r = fw.hn * r * (1 - r)
    else:
        slope = (pre > 0).to(pre.dtype) if mode == "RNN_RELU" else 1 - torch.tanh(pre) ** 2

    def renorm(dh, dc):
        norm = torch.linalg.vector_norm(dh if dc is None else torch.cat([dh, dc], 1), dim=1, keepdim=True)
        norm = torch.where(norm > 0, norm, 1.0)                       # a row that is exactly 0 stays 0
        return dh / norm, (None if dc is None else dc / norm), norm

    dh, dc, norm = renorm(rows, torch.zeros_like(rows) if mode == "LSTM" else None)
    keep = set(int(t) for t in keep_at)
    scaled, norms, kept = [dh[:n_loss]], [norm], []
    if T - 1 in keep:
        kept.append(dh)
    for t in range(T - 1, 0, -1):           # from the gradient at h_(t+1) (index t) to h_t (index t-1)
        if mode == "LSTM":
            dc_new = torch.addcmul(dc, dh, k[t])
            d_pre = torch.cat([dc_new, dc_new, dc_new, dh], dim=1) * scale[t]
            dc_prev = dc_new * f[t]
            dh_prev = d_pre @ w_hh
        elif mode == "GRU":
            dp_n = dh * p_n[t]
            d_hw = torch.cat([dp_n * p_r[t], dh * p_z[t], dp_n * r[t]], dim=1)
            dh_prev = torch.addmm(dh * z[t], d_hw, w_hh)
            dc_prev = None
        else:
            dh_prev = (dh * slope[t]) @ w_hh
            dc_prev = None
        if fw.residual:
            dh_prev = dh_prev + dh                                    # the identity path of h_t = cell + h_(t-1)
        dh, dc, norm = renorm(dh_prev, dc_prev)
        scaled.append(dh[:n_loss])
        norms.append(norm)
        if t - 1 in keep:
            kept.append(dh)
    # index 0 is step T: flip to time order; the scale of step t multiplies every renormalisation from T to t
    log_scale = torch.stack(norms)[..., 0].log10().cumsum(0).flip(0)
    scaled = torch.stack(scaled).flip(0)
    kept = torch.stack(kept).flip(0) if kept else None
    return scaled, kept, log_scale


def _log10_norm(rows: torch.Tensor, log_scale: torch.Tensor, spectral: bool = False) -> torch.Tensor:
    """log10 of the Frobenius (or spectral) norm of a stack of matrices (K, R, H) whose row r is
    ``rows[k, r] * 10**log_scale[k, r]``: rows are rescaled relative to the largest scale first."""
    top = log_scale.amax(dim=1)
    finite = torch.isfinite(top)
    rel = torch.pow(10.0, (log_scale - torch.where(finite, top, 0.0)[:, None]))   # <= 1: no overflow
    m = rows * rel[..., None]
    if spectral:
        fro = torch.linalg.vector_norm(m, dim=(1, 2))
        safe = torch.where(fro > 0, fro, 1.0)
        # spectral norms in float32 of blocks scaled to unit Frobenius norm: fast, and safe from underflow
        val = torch.linalg.matrix_norm((m / safe[:, None, None]).float(), ord=2).double() * fro
    else:
        val = torch.linalg.vector_norm(m, dim=(1, 2))
    return val.log10() + top


@torch.no_grad()
def hidden_gradient_norms(layer, x: torch.Tensor, d_hT: torch.Tensor, jacobian: bool = False,
                          sketch: int | None = None, seed: int = 0, residual: bool = False) -> BackwardNorms:
    """Run ``layer`` (one layer, one direction) on ``x`` (B, T, D) and send ``d_hT`` (B, H) back.

    Returns log10 ‖∂L/∂h_t‖ for t = 1..T (Frobenius over the batch), and, if ``jacobian`` (B must be 1),
    log10 ‖∂h_T/∂h_t‖₂ at up to ``JACOBIAN_POINTS`` steps: exact, or (with ``sketch`` = k) a lower bound
    from k random unit directions."""
    fw = _forward64(layer, x, residual)
    overflow_at, growth = fw.overflow_step(), 1.0
    if overflow_at is not None:
        # past that step h is inf or nan and every gradient through it is meaningless: keep the steps before,
        # with the loss on the last of them
        fw = fw.first(max(overflow_at - 1, 1))
        growth = fw.growth()
    T, B, H = fw.hs.shape
    extra, keep_at = None, np.zeros(0, dtype=int)
    if jacobian:
        if B != 1:
            raise ValueError("the Jacobian product is computed for a single sequence")
        if sketch:
            omega = torch.randn(sketch, H, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
            extra = omega / omega.norm(dim=1, keepdim=True)
        else:
            extra = torch.eye(H, dtype=torch.float64)
        keep_at = np.unique(np.round(np.linspace(0, T - 1, min(T, JACOBIAN_POINTS))).astype(int))
    d_hT = d_hT.detach().to(torch.float64)
    rows = d_hT if extra is None else torch.cat([d_hT, extra])
    scaled, kept, log_scale = _state_backward(fw, rows, keep_at, d_hT.shape[0])
    B_loss = d_hT.shape[0]
    log_loss = _log10_norm(scaled, log_scale[:, :B_loss]).numpy()
    log_jac = None
    if kept is not None:
        blocks, scales = kept[:, B_loss:], log_scale[keep_at, B_loss:]
        if sketch:   # the largest of the random directions' norms
            log_jac = (torch.linalg.vector_norm(blocks, dim=2).log10() + scales).amax(dim=1).numpy()
        else:
            log_jac = _log10_norm(blocks, scales, spectral=True).numpy()
    return BackwardNorms(log_loss, keep_at + 1, log_jac, overflow_at, growth)


def weight_criterion(layer) -> tuple[dict[str, float], dict[str, float]]:
    """σ_max and spectral radius of each gate's W_h block (the whole matrix for a vanilla RNN)."""
    names = {"LSTM": "ifgo", "GRU": "rzn"}.get(layer.mode, ["W_hh"])
    sig, rad = {}, {}
    for name, block in zip(names, recurrent_blocks(layer.weight_hh_l0.detach().double())):
        key = name if name == "W_hh" else f"W_h{name}"
        sig[key] = float(torch.linalg.matrix_norm(block, ord=2))
        rad[key] = spectral_radius(block)
    return sig, rad


def _probe(cell: str, T: int, hidden: int, init: str, radius: float | None, inputs: np.ndarray | None,
           input_size: int, seed: int, forget_bias: float = 0.0, scale_by: str = "radius"):
    """The seeded setup both analyses share: inputs (1, T, D), a fresh layer, and the unit vector w of L = w·h_T."""
    gen = torch.Generator().manual_seed(seed)
    if inputs is None:
        x = torch.randn(1, T, input_size, generator=gen)
    else:
        x = torch.as_tensor(np.asarray(inputs, dtype=np.float32))[None]
    layer = build_layer(cell, x.shape[2], hidden, init, radius, seed, forget_bias, scale_by)
    w = torch.randn(1, hidden, generator=gen)
    return layer, x, w / w.norm()


def gradient_flow(cell: str, T: int = 100, hidden: int = 32, init: str = "default", radius: float | None = None,
                  inputs: np.ndarray | None = None, input_size: int = 8, seed: int = 0,
                  forget_bias: float = 1.0, scale_by: str = "radius", residual: bool = False) -> GradientFlow:
    """‖∂L/∂h_t‖ and ‖∂h_T/∂h_t‖ for one freshly initialised cell, with L = w·h_T (w a fixed unit vector).

    ``inputs`` (T, D): the sequence to read (e.g. embedded words); default N(0, 1) noise of ``input_size``.
    ``forget_bias`` (LSTM only) defaults to 1, as Keras' ``unit_forget_bias=True`` (Jozefowicz et al. 2015).
    """
    layer, x, w = _probe(cell, T, hidden, init, radius, inputs, input_size, seed, forget_bias, scale_by)
    exact = hidden <= EXACT_JACOBIAN_MAX_HIDDEN
    bw = hidden_gradient_norms(layer, x, w, jacobian=True, sketch=None if exact else SKETCH_DIRECTIONS, seed=seed,
                               residual=residual)
    sig, rad = weight_criterion(layer)
    T = len(bw.log10_loss)          # fewer steps than asked when the state overflowed
    return GradientFlow(layer.mode if init != "irnn" else "IRNN", np.arange(1, T + 1), bw.log10_loss,
                        bw.jacobian_steps, bw.log10_jacobian, exact, sig, rad, dict(BLOCK_GAMMA[layer.mode]),
                        residual, forget_bias if layer.mode == "LSTM" else 0.0, bw.overflow_at, bw.growth)


def overflow_note(flow: GradientFlow, label: str) -> str | None:
    """Why ``flow`` stops early, in words: what overflowed, at which step, and why (None if it did not)."""
    if flow.overflow_at is None:
        return None
    if flow.cell == "RNN_RELU":
        why = (f"With ρ(W_hh) = {flow.radius['W_hh']:.2f} (σ_max {flow.sigma_max['W_hh']:.2f}) and the relu's slope "
               "of 1, nothing bounds h (tanh would keep it within ±1)"
               + (", and the skip connection adds h_(t-1) at every step" if flow.residual else ""))
    else:
        why = "The cell's output is bounded, but the skip connection adds h_(t-1) to it at every step"
    last = int(flow.steps[-1])
    return (f"{label}: the hidden state itself overflowed. {why}: h grew about {flow.growth:.2g}× a step, and at "
            f"step {flow.overflow_at:,} it passed {np.finfo(float).max:.1e}, the largest float64, and became "
            f"infinite. Every gradient through that step is meaningless, so this cell's curves stop at step "
            f"{last:,}, with the loss on h_{last}. Lower ρ, choose tanh, or shorten T.")


# --- truncated BPTT -------------------------------------------------------------------------------------
@torch.no_grad()
def truncation_effect(cell: str, T: int, k: int, hidden: int = 32, init: str = "default",
                      radius: float | None = None, input_size: int = 8, seed: int = 0,
                      forget_bias: float = 1.0) -> dict[str, float]:
    """Truncated BPTT with window ``k``: compare ∂L/∂W_hh from the last k steps with the full gradient.

    Returns the cosine between the two gradients and the norm of the truncated one relative to the full one.
    """
    from ..nn.recurrence import backward_through_time

    layer, x, w = _probe(cell, T, hidden, init, radius, None, input_size, seed, forget_bias)
    fw = _forward64(layer, x)
    mode, w_hh, h0, c0, pre, hs, cs, hn = fw.mode, fw.w_hh, fw.h0, fw.c0, fw.pre, fw.hs, fw.cs, fw.hn
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


#: cos(truncated, full) at or above this: truncation leaves the update's direction as good as unchanged
SAME_DIRECTION = 0.99
VANISHED_SHARE = 0.05    # less than this share of the signal beyond k steps: the gradient has vanished by then


def truncation_verdict(cosine: float, share: float, k: int, T: int) -> str:
    """One sentence on what truncation to ``k`` of ``T`` steps did, from its measured cosine and the share of the
    gradient signal it dropped (``truncated_share``)."""
    if k >= T:
        return f"k = {k} covers all {T} steps: this is full BPTT."
    back = f"{share:.1%} of the gradient signal lies more than k = {k} steps back"
    if cosine < SAME_DIRECTION:
        angle = math.degrees(math.acos(max(-1.0, min(1.0, cosine))))
        return f"Here {back}: truncation cuts real signal and turns the update {angle:.0f}° away from full BPTT's."
    if share < VANISHED_SHARE:
        return (f"Here only {back}: the gradient has vanished by then, and truncation leaves the update's "
                f"direction as it was (cosine {cosine:.4f}).")
    return f"Here {back}, but it points the update the same way: truncation changes its direction little."


def truncated_share(log10_norms: np.ndarray, k: int) -> float:
    """Share of the gradient signal (Σ_t ‖∂L/∂h_t‖, given as log10 norms) that comes from steps more than
    ``k`` before the end: what truncated BPTT with window ``k`` throws away."""
    log10_norms = np.asarray(log10_norms, dtype=float)
    T = len(log10_norms)
    if k >= T or not np.isfinite(log10_norms).any():
        return 0.0
    top = np.max(log10_norms[np.isfinite(log10_norms)])
    with np.errstate(under="ignore"):
        rel = np.power(10.0, log10_norms - top)       # the largest term is 1: nothing overflows
    return float(np.sum(rel[: T - k]) / np.sum(rel))


# --- a typed sentence as the input -----------------------------------------------------------------------
MAX_SENTENCE_TOKENS = 1000


def sentence_inputs(text: str, dim: int = 8, seed: int = 0,
                    max_tokens: int = MAX_SENTENCE_TOKENS) -> tuple[np.ndarray | None, int]:
    """The words of ``text`` (at most ``max_tokens``) as a (T, dim) sequence of seeded random word vectors,
    and how many tokens the text had; (None, 0) if it has no words."""
    from ..data.tokenizer import tokenize
    from .unroll import embed_tokens

    tokens = tokenize(text) if readable(text) else []      # invisible characters alone are no words
    if not tokens:
        return None, 0
    kept = tokens[:max_tokens]
    vocab = embed_tokens(kept, dim, seed)
    return np.stack([vocab[t] for t in kept]), len(tokens)
