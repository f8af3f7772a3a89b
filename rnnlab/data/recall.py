"""Memory over distance: recall the one marked symbol, read ``k`` steps before the end of the sequence.

A sequence is ``T`` random symbols from an alphabet of ``symbols`` (default 8); exactly one of them is
*marked* (its id is shifted by ``symbols``: token ``s + symbols`` is symbol ``s``, marked). After the last
token, the model must say which symbol was marked. The marked one sits ``k`` steps before the last token
(k = 0: it is the last token itself), so the answer depends on a token exactly k steps back and on
nothing else: a model that cannot see k steps back can only guess, and scores ``1 / symbols`` (chance).

The marker means a model does not have to count or keep a buffer of the last k symbols: a recurrent net
only has to hold one symbol in its state for k steps (the copy-memory and adding problems' difficulty:
the gradient that teaches it to do so must flow back k steps). A model with a fixed view (an MLP's
window, a CNN's receptive field, a Transformer's context) sees the marked symbol or does not.

Training draws k for each sequence from 0 … T-1, log-uniformly (:func:`draw_k`: short distances as often as
long ones on a log scale, so a model learns the short ones first), so one training teaches every distance; the
test sets hold ``per_k`` sequences for each k, drawn from :data:`TEST_SEED` (never from the student's
seed): every model, in every session, is scored on the same sequences. Every draw takes an explicit
``torch.Generator``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import torch

TEST_SEED = 20_261_301
MAX_T = 256
MAX_SYMBOLS = 32


@dataclass(frozen=True)
class RecallTask:
    T: int = 64            # tokens per sequence
    symbols: int = 8       # alphabet size (chance = 1 / symbols)

    def __post_init__(self):
        if not 2 <= self.T <= MAX_T:
            raise ValueError(f"the sequence length must be between 2 and {MAX_T} tokens")
        if not 2 <= self.symbols <= MAX_SYMBOLS:
            raise ValueError(f"the alphabet must have between 2 and {MAX_SYMBOLS} symbols")

    @property
    def vocab_size(self) -> int:
        """Token ids: 0 … symbols-1 plain, symbols … 2·symbols-1 the same symbols marked."""
        return 2 * self.symbols

    @property
    def chance(self) -> float:
        return 1.0 / self.symbols

    def to_dict(self) -> dict:
        return asdict(self)

    def batch(self, n: int, generator: torch.Generator, k: int | torch.Tensor | None = None):
        """``n`` sequences: (x (n, T) token ids, y (n,) the marked symbol, k (n,) its distance from the end).
        ``k`` None: drawn for each sequence by :func:`draw_k`."""
        x = torch.randint(0, self.symbols, (n, self.T), generator=generator)
        if k is None:
            k = draw_k(self.T, n, generator)
        else:
            k = torch.as_tensor(k, dtype=torch.long).expand(n).clone()
            if int(k.min()) < 0 or int(k.max()) >= self.T:
                raise ValueError(f"k must be between 0 and {self.T - 1}")
        rows = torch.arange(n)
        where = self.T - 1 - k
        y = x[rows, where].clone()
        x[rows, where] += self.symbols
        return x, y, k

    def describe(self) -> str:
        return (f"{self.T} tokens from {self.symbols} symbols, one marked; say which symbol was marked "
                f"(chance {self.chance:.1%})")


def draw_k(T: int, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` distances in 0 … T-1, 1 + k drawn log-uniformly from [1, T + 1) and rounded down: as many with k
    in 0 … 2 as in 15 … 62 (for T = 64), so a model learns the short distances first and sees every scale."""
    u = torch.rand(n, generator=generator) * math.log(T + 1)
    return (torch.exp(u).floor().long() - 1).clamp(0, T - 1)


def answer(task: RecallTask, x: torch.Tensor) -> torch.Tensor:
    """The correct output for each sequence of ``x`` (what a model with perfect memory says): the one marked symbol."""
    marked = x >= task.symbols
    if not bool((marked.sum(1) == 1).all()):
        raise ValueError("each sequence must hold exactly one marked symbol")
    return x[marked] - task.symbols


@lru_cache(maxsize=16)
def held_out(task: RecallTask, per_k: int = 64,
             seed: int = TEST_SEED) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``per_k`` sequences for every k in 0 … T-1, fixed by ``seed``: (x (T·per_k, T), y, k). Cached:
    the same task gives the same (read-only) tensors."""
    g = torch.Generator().manual_seed(int(seed) * 1_000 + task.T * 37 + task.symbols)
    k = torch.arange(task.T).repeat_interleave(per_k)
    x, y, k = task.batch(len(k), g, k)
    return x, y, k


def accuracy_by_k(task: RecallTask, correct: torch.Tensor, k: torch.Tensor) -> list[float]:
    """Share of correct answers at each k = 0 … T-1 (``correct``: booleans, one per test sequence)."""
    hits = torch.zeros(task.T).index_add_(0, k, correct.float())
    counts = torch.bincount(k, minlength=task.T).clamp(min=1)
    return (hits / counts).tolist()
