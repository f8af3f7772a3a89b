"""Synthetic long-range tasks on which a fresh tanh RNN, trained for a few hundred steps, fails once T is large.

* Adding problem (Hochreiter & Schmidhuber 1997; the variant of Le, Jaitly & Hinton 2015): each step
  carries a random number in [0, 1] and a marker; exactly two steps are marked, one in each half of
  the sequence. The target is the sum of the two marked numbers. A model that learned nothing about the
  markers can only predict the mean, 1; its expected MSE is Var(X1 + X2) = 2 · 1/12 = 1/6 ≈ 0.1667.
  The baseline a lab draws is that strategy's MSE *measured on the data it validates on*
  (:func:`baseline_on`); Le et al. (2015) report 0.1767 for it on their data, a figure we quote, never draw.
* Copy memory (Arjovsky, Shah & Bengio 2016): 10 symbols from an alphabet of 8, then T-1 blanks, a
  delimiter and 10 more blanks; the network must output blanks and then the 10 symbols. Outputting
  blanks and then guessing uniformly scores a cross-entropy of exactly 10·log(8)/(T+20) on any data.

Every generator takes an explicit ``torch.Generator``: the same seed gives the same batches in any
process or thread.
"""
from __future__ import annotations

import math

import torch

ADDING_EXPECTED_BASELINE = 1 / 6   # E[(X1 + X2 - 1)^2] for X1, X2 ~ U(0, 1): "always predict 1"
LE_2015_ADDING_MSE = 0.1767        # the figure Le, Jaitly & Hinton (2015) report for it, on their data
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
    """The expected MSE of 'always predict 1' (the same for every T): exactly 1/6."""
    return ADDING_EXPECTED_BASELINE


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
    """Cross-entropy of 'blanks, then a uniform guess over the 8 symbols' (exact on any data)."""
    return COPY_LENGTH * math.log(COPY_SYMBOLS) / (T + 2 * COPY_LENGTH)


def baseline_on(task: str, x: torch.Tensor, y: torch.Tensor) -> float:
    """The no-memory strategy's loss measured on this data: MSE of predicting 1 (adding), or the
    cross-entropy of blanks then a uniform guess (copy)."""
    if task == "adding":
        return float(((y.double() - 1.0) ** 2).mean())
    if task == "copy":
        T = y.shape[1] - 2 * COPY_LENGTH
        return copy_baseline(T)
    raise ValueError(f"unknown task {task!r}")


#: task -> (generator(batch, T, generator), expected baseline(T))
TASKS = {"adding": (adding_problem, adding_baseline), "copy": (copy_memory, copy_baseline)}
