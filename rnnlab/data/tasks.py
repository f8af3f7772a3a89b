"""Synthetic long-range tasks that a vanilla RNN cannot learn once T is large.

* Adding problem (Hochreiter & Schmidhuber 1997; the variant of Le, Jaitly & Hinton 2015): each step
  carries a random number in [0, 1] and a marker; exactly two steps are marked, one in each half of
  the sequence. The target is the sum of the two marked numbers. Predicting 1 always gives an expected
  MSE of Var(X1 + X2) = 1/6 ≈ 0.167; Le et al. quote 0.1767 as this baseline, the line we draw.
* Copy memory (Arjovsky, Shah & Bengio 2016): 10 symbols from an alphabet of 8, then T-1 blanks, a
  delimiter and 10 more blanks; the network must output blanks and then the 10 symbols. Outputting
  blanks and then guessing uniformly scores a cross-entropy of 10·log(8)/(T+20).
"""
from __future__ import annotations

import math

import torch

ADDING_BASELINE = 0.1767           # Le et al. (2015), "always predict 1"
ADDING_EXPECTED_BASELINE = 1 / 6   # the exact expectation of the same strategy
COPY_SYMBOLS, COPY_LENGTH = 8, 10
COPY_BLANK, COPY_DELIM = 8, 9      # symbols 0..7 are data
COPY_VOCAB = 10


def adding_problem(batch: int, T: int, generator: torch.Generator | None = None):
    """Inputs (B, T, 2): [value, marker]; targets (B,): the sum of the two marked values."""
    if T < 2:
        raise ValueError("the adding problem needs T >= 2")
    values = torch.rand(batch, T, generator=generator)
    half = T // 2
    first = torch.randint(0, half, (batch,), generator=generator)
    second = torch.randint(half, T, (batch,), generator=generator)
    markers = torch.zeros(batch, T)
    rows = torch.arange(batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=2)
    y = values[rows, first] + values[rows, second]
    return x, y


def adding_baseline(T: int | None = None) -> float:
    return ADDING_BASELINE


def copy_memory(batch: int, T: int, generator: torch.Generator | None = None):
    """Inputs and targets (B, T+20) of symbol ids (0..7 data, 8 blank, 9 delimiter)."""
    if T < 1:
        raise ValueError("the copy task needs T >= 1")
    L = T + 2 * COPY_LENGTH
    data = torch.randint(0, COPY_SYMBOLS, (batch, COPY_LENGTH), generator=generator)
    x = torch.full((batch, L), COPY_BLANK, dtype=torch.long)
    x[:, :COPY_LENGTH] = data
    x[:, COPY_LENGTH + T - 1] = COPY_DELIM
    y = torch.full((batch, L), COPY_BLANK, dtype=torch.long)
    y[:, -COPY_LENGTH:] = data
    return x, y


def copy_baseline(T: int) -> float:
    """Cross-entropy of 'blanks, then a uniform guess over the 8 symbols'."""
    return COPY_LENGTH * math.log(COPY_SYMBOLS) / (T + 2 * COPY_LENGTH)


TASKS = {"adding": (adding_problem, adding_baseline), "copy": (copy_memory, copy_baseline)}
