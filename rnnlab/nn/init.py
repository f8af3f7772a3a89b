"""Weight initialisations a teacher can compare, and rescaling W_hh to a chosen spectral radius ρ (its
largest |eigenvalue|; not its largest singular value σ_max, on which Pascanu et al.'s vanishing/exploding
criterion is stated: ρ <= σ_max, with equality for normal matrices such as orthogonal ones).

* ``default``    PyTorch's: every weight and bias uniform in (-1/sqrt(H), 1/sqrt(H)).
* ``xavier``     Glorot uniform for each gate's block of W_ih and W_hh; biases zero.
* ``orthogonal`` W_hh blocks orthogonal (every singular value 1, so gradients neither shrink nor grow
                 through W_hh alone); W_ih Glorot uniform; biases zero.
* ``identity``   IRNN (Le, Jaitly & Hinton 2015): W_hh blocks = I, biases zero, W_ih ~ N(0, 0.001^2).
                 With relu units the state is copied forward unchanged until the input changes it.

Each gate has its own H x H block in W_hh (4 for an LSTM, 3 for a GRU): initialisers act per block,
because each block is its own recurrence.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)

SCHEMES = ("default", "xavier", "orthogonal", "identity")


def recurrent_blocks(weight_hh: torch.Tensor) -> list[torch.Tensor]:
    """Views of the H x H gate blocks of a (G*H, H) recurrent weight."""
    H = weight_hh.shape[1]
    return list(weight_hh.split(H, dim=0))


def spectral_radius(matrix: torch.Tensor) -> float:
    """Largest absolute eigenvalue of a square matrix."""
    return float(torch.linalg.eigvals(matrix.detach().double().cpu()).abs().max())


@torch.no_grad()
def initialize(module: nn.Module, scheme: str = "default", spectral_radius_target: float | None = None,
               generator: torch.Generator | None = None) -> nn.Module:
    """Initialise every recurrent layer inside ``module`` in place and return it.

    ``spectral_radius_target`` then rescales each W_hh block so its spectral radius ρ is that value
    (e.g. 0.5 or 2.0 to show vanishing or exploding gradients in a tanh RNN). This sets ρ, not σ_max:
    ρ = 0.5 *guarantees* vanishing gradients only when σ_max < 1 too, as for a rescaled orthogonal block.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown initialisation {scheme!r}; choose from {', '.join(SCHEMES)}")
    rnns = [m for m in module.modules() if isinstance(m, (nn.RNNBase, nn.RNNCellBase))]
    if not rnns:
        raise ValueError("no recurrent layer found to initialise")
    for rnn in rnns:
        if scheme == "default":
            reset_parameters(rnn, generator)
        else:
            for name, p in rnn.named_parameters():
                if name.startswith("bias"):
                    p.zero_()
                elif name.startswith("weight_hh"):
                    for block in recurrent_blocks(p):
                        if scheme == "xavier":
                            nn.init.xavier_uniform_(block, generator=generator)
                        elif scheme == "orthogonal":
                            block.copy_(_orthogonal(block.shape[0], generator))
                        else:
                            block.copy_(torch.eye(block.shape[0]))
                elif name.startswith("weight_ih"):
                    H = p.shape[0] // _gates(rnn)
                    for block in p.split(H, dim=0):
                        if scheme == "identity":
                            nn.init.normal_(block, 0.0, 0.001, generator=generator)
                        else:
                            nn.init.xavier_uniform_(block, generator=generator)
        if spectral_radius_target is not None:
            set_spectral_radius(rnn, spectral_radius_target)
    return module


@torch.no_grad()
def set_spectral_radius(module: nn.Module, radius: float) -> nn.Module:
    """Rescale every W_hh block in ``module`` so its spectral radius (largest |eigenvalue|, not the largest
    singular value) equals ``radius``."""
    if radius <= 0:
        raise ValueError("spectral radius must be positive")
    for name, p in module.named_parameters():
        if "weight_hh" in name:
            for block in recurrent_blocks(p):
                current = spectral_radius(block)
                if current > 1e-12:
                    block.mul_(radius / current)
    return module


def _gates(rnn: nn.Module) -> int:
    mode = getattr(rnn, "mode", None) or type(rnn).__name__.upper().replace("CELL", "")
    return 4 if "LSTM" in mode else 3 if "GRU" in mode else 1


def _orthogonal(n: int, generator: torch.Generator | None) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))).float()


def as_generator(seed: int | torch.Generator | None) -> torch.Generator:
    """A CPU generator from a seed (or the generator itself): randomness passed down explicitly."""
    if isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(int(seed or 0))


@torch.no_grad()
def reset_parameters(module: nn.Module, generator: torch.Generator | int | None = None) -> nn.Module:
    """PyTorch's default initialisation of every layer in ``module``, drawn from ``generator``.

    The same distributions as each layer's own ``reset_parameters`` (Linear/Conv: U(±1/sqrt(fan_in)),
    Embedding: N(0, 1), RNN/LSTM/GRU: U(±1/sqrt(H)), LayerNorm: 1 and 0, attention: Xavier), but from an
    explicit generator instead of torch's global one, which every thread of the server shares: two
    students building "seed 0" at the same moment must both get seed 0's weights. A module with
    parameters of another kind draws them itself in ``init_extra(generator)``; one that keeps computed
    buffers (a positional encoding) refills them in ``init_buffers()``.
    """
    gen = as_generator(generator)
    for m in module.modules():
        if hasattr(m, "init_extra"):
            m.init_extra(gen)
        elif isinstance(m, (nn.RNNBase, nn.RNNCellBase)):
            bound = 1.0 / math.sqrt(m.hidden_size) if m.hidden_size > 0 else 0.0
            for p in m.parameters(recurse=False):
                nn.init.uniform_(p, -bound, bound, generator=gen)
        elif isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            fan_in = m.weight[0].numel()
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            nn.init.uniform_(m.weight, -bound, bound, generator=gen)
            if m.bias is not None:
                nn.init.uniform_(m.bias, -bound, bound, generator=gen)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 1.0, generator=gen)
            if m.padding_idx is not None:
                m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            if m.weight is not None:
                m.weight.fill_(1.0)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.MultiheadAttention):
            for w in (m.in_proj_weight, m.q_proj_weight, m.k_proj_weight, m.v_proj_weight):
                if w is not None:
                    nn.init.xavier_uniform_(w, generator=gen)
            if m.in_proj_bias is not None:
                m.in_proj_bias.zero_()
        elif any(True for _ in m.parameters(recurse=False)):
            raise TypeError(f"reset_parameters cannot initialise {type(m).__name__}: give it an "
                            "init_extra(generator) method")
        if hasattr(m, "init_buffers"):
            m.init_buffers()
    return module


def seeded(build: Callable[[], M], generator: torch.Generator | int | None = 0) -> M:
    """Build a module without touching torch's global random generator, initialised from ``generator``.

    ``seeded(lambda: nn.LSTM(8, 16), 0)`` builds the layer on the meta device (nothing is drawn),
    gives it CPU storage and fills it with :func:`reset_parameters`: the same weights for the same seed,
    whatever other threads are doing at the time."""
    with torch.device("meta"):
        module = build()
    return reset_parameters(module.to_empty(device="cpu"), generator)
