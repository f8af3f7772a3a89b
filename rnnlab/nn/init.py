"""Weight initialisations a teacher can compare, and rescaling W_hh to a chosen spectral radius.

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

import torch
from torch import nn

SCHEMES = ("default", "xavier", "orthogonal", "identity")


def recurrent_blocks(weight_hh: torch.Tensor) -> list[torch.Tensor]:
    """Views of the H x H gate blocks of a (G*H, H) recurrent weight."""
    H = weight_hh.shape[1]
    return list(weight_hh.split(H, dim=0))


def spectral_radius(matrix: torch.Tensor) -> float:
    """Largest absolute eigenvalue of a square matrix."""
    return float(torch.linalg.eigvals(matrix.detach().double().cpu()).abs().max())


def _named(module: nn.Module, prefix: str):
    return [(n, p) for n, p in module.named_parameters() if n.startswith(prefix)]


@torch.no_grad()
def initialize(module: nn.Module, scheme: str = "default", spectral_radius_target: float | None = None,
               generator: torch.Generator | None = None) -> nn.Module:
    """Initialise every recurrent layer inside ``module`` in place and return it.

    ``spectral_radius_target`` then rescales each W_hh block so its spectral radius is that value
    (e.g. 0.5 for vanishing, 2.0 for exploding gradients in a tanh RNN).
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown initialisation {scheme!r}; choose from {', '.join(SCHEMES)}")
    rnns = [m for m in module.modules() if isinstance(m, (nn.RNNBase, nn.RNNCellBase))]
    if not rnns:
        raise ValueError("no recurrent layer found to initialise")
    for rnn in rnns:
        if scheme == "default":
            _seeded(rnn.reset_parameters, generator)
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
    """Rescale every W_hh block in ``module`` so its spectral radius equals ``radius``."""
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


def _seeded(fn, generator: torch.Generator | None):
    if generator is None:
        return fn()
    # reset_parameters draws from the global RNG; fork it so a generator gives repeatable weights.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
        fn()
