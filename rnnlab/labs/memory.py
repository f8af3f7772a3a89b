"""Reading a text with a classifier and looking inside its memory: per-unit signals over tokens,
gate saturation, the hidden-state trajectory (PCA) and the units that fire on a stretch of text.

Every signal is a NumPy array (units, tokens), taken from the model's :class:`~rnnlab.nn.layers.Trace`.
"""
from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass, field

import numpy as np
import torch

from ..data.tokenizer import OOV, Vocabulary, tokenize
from ..inputs import readable
from ..nn.init import seeded
from ..nn.layers import Trace
from ..nn.models import ClassifierConfig, SentimentClassifier, TextModel
from .sentiment.reading import calibrated

MAX_TOKENS = 2000
#: A bidirectional model re-reads every prefix it is asked about: at most this many (evenly spaced, and the
#: last), and fewer on a long text so that the prefixes re-read hold at most PREFIX_BUDGET tokens in all.
MAX_PREFIXES = 64
PREFIX_BUDGET = 32_000
SIGMOID_GATES = {"i", "f", "o", "r", "z"}
SATURATED = (0.1, 0.9)   # a gate below the first or above the second counts as saturated (a switch)
FRESH = "Freshly initialised (untrained)"     # the Model choice of an untrained model, and its defaults:
FRESH_CELL, FRESH_HIDDEN, FRESH_EMBED = "LSTM", 16, 32
DEFAULT_REVIEW = ("I expected a dull remake, but this film surprised me. The acting is wonderful and the story "
                  "never drags, although the ending felt rushed. Not perfect, yet I would happily watch it again.")


@dataclass
class Reading:
    text_tokens: list[str]
    ids: list[int]
    traces: list[Trace]                 # one per recurrent layer
    probability: float                  # P(positive) after the whole text
    prefix_probabilities: np.ndarray    # P(positive) after the tokens at prefix_positions
    truncated: bool = False             # the text was longer than MAX_TOKENS
    prefix_positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # 0-based token indices

    @property
    def every_prefix(self) -> bool:
        """True when P(positive) was computed after every token (not only after a sample of them)."""
        return len(self.prefix_positions) == len(self.text_tokens)

    @property
    def tokens(self) -> list[str]:
        return self.text_tokens

    @property
    def unknown(self) -> list[bool]:
        return [i == OOV for i in self.ids]

    @property
    def n_unknown(self) -> int:
        """How many tokens are outside the vocabulary (read as <oov>)."""
        return sum(self.unknown)

    @property
    def prefix_spacing(self) -> int:
        """The largest gap, in tokens, between two prefixes P(positive) was computed after (0 for fewer than two)."""
        return int(np.diff(self.prefix_positions).max(initial=0))

    def directions(self, layer: int) -> list[str]:
        return [d for (layer_, d) in self.traces[layer].parts if layer_ == 0]

    def signals(self, layer: int = 0, direction: str = "forward") -> dict[str, np.ndarray]:
        """``{"h": (H, T), "c": ..., "i": ..., ...}`` for one layer and direction."""
        part = self.traces[layer][0, direction]
        out = {"h": part.h[0].T.cpu().numpy()}
        if part.c is not None:
            out["c"] = part.c[0].T.cpu().numpy()
        for name, g in part.gates.items():
            if name != "hn":
                out[name] = g[0].T.cpu().numpy()
        return out


def fresh_classifier(vocab: Vocabulary, cell: str = "LSTM", hidden_size: int = 32, embed_dim: int = 32,
                     seed: int = 0) -> SentimentClassifier:
    """An untrained classifier (PyTorch default initialisation, seeded): a baseline to compare with.

    Drawn from its own generator, never torch's global one: every session asking for seed 0 gets the
    same weights, whatever other sessions' threads draw at the same moment."""
    config = ClassifierConfig(vocab_size=len(vocab), embed_dim=embed_dim, hidden_sizes=(hidden_size,), cell=cell)
    return seeded(lambda: SentimentClassifier(config), seed).eval()


def fresh_text_model(words: tuple[str, ...], cell: str = FRESH_CELL, hidden: int = FRESH_HIDDEN,
                     seed: int = 0) -> TextModel:
    """The page's untrained model: a vocabulary of the text's own words and a fresh classifier (no temperature,
    so its P(positive) is the plain sigmoid of its logit)."""
    vocab = Vocabulary().fit([" ".join(words)])
    return TextModel(f"fresh {cell}-{hidden}", fresh_classifier(vocab, cell, hidden, FRESH_EMBED, seed), vocab)


def prefix_positions(T: int, bidirectional: bool, max_prefixes: int = MAX_PREFIXES,
                     budget: int = PREFIX_BUDGET) -> np.ndarray:
    """The tokens (0-based) after which to compute P(positive).

    A unidirectional model gives every prefix in one pass: all of them. A bidirectional one re-reads each
    prefix (its backward half starts from the prefix's end), so the cost is the prefixes' total length:
    every prefix while that stays within ``budget`` tokens, else evenly spaced ones ending on the last
    token, at most ``max_prefixes`` and few enough that their lengths (about T/2 each) fit the budget:
    64 on a 500-token text, 32 on a 2,000-token one. The work stays bounded whatever the length."""
    if not bidirectional or budget >= T * (T + 1) // 2:
        return np.arange(T)
    n = int(min(max_prefixes, max(8, 2 * budget // T)))
    return np.unique(np.r_[np.linspace(0, T - 1, n).round().astype(int), T - 1])


def read_text(model: SentimentClassifier, vocab: Vocabulary, text: str, max_tokens: int = MAX_TOKENS,
              max_prefixes: int = MAX_PREFIXES) -> Reading:
    """Tokenise ``text``, run the model step by step and keep everything. ValueError if nothing to read."""
    tokens = tokenize(text) if readable(text) else []     # control characters alone are no text either
    if not tokens:
        raise ValueError("There is nothing to read: the text has no words (only spaces, tags or symbols "
                         "that are not tokens). Type or paste a review.")
    truncated = len(tokens) > max_tokens
    tokens = tokens[:max_tokens]
    ids = vocab.ids(tokens)
    device = next(model.parameters()).device
    x = torch.tensor([ids], dtype=torch.long, device=device)
    logits, traces = model.trace(x)
    positions = prefix_positions(len(ids), model.config.bidirectional, max_prefixes)
    probs = model.prefix_probabilities(x, positions).cpu().numpy()
    return Reading(tokens, ids, traces, float(torch.sigmoid(logits)[0]), probs, truncated, positions)


def read_model(tm: TextModel, text: str, max_tokens: int = MAX_TOKENS) -> Reading:
    """:func:`read_text` with the model's calibrated head (logits divided by its temperature T, as in the
    Sentiment lab): on a text within the model's ``maxlen`` tokens both pages give the same P(positive). (On a
    longer one the Sentiment lab reads its last ``maxlen`` tokens, as in training; this page its first
    ``max_tokens``, to look inside all of them.) The signals inside are the model's own."""
    return read_text(calibrated(tm), tm.vocab, text, max_tokens)


_DIGESTS: weakref.WeakKeyDictionary[torch.nn.Module, tuple] = weakref.WeakKeyDictionary()


def model_digest(model: torch.nn.Module) -> str:
    """A short hash of the model's configuration and weights: a cache key that two sessions holding the
    same model share, and that changes when any weight changes (unlike ``id(model)``)."""
    params = list(model.state_dict().values())
    versions = tuple(p._version for p in params)
    known = _DIGESTS.get(model)
    if known is not None and known[0] == versions:
        return known[1]
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(getattr(model, "config", type(model).__name__)).encode())
    for p in params:
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    digest = h.hexdigest()
    _DIGESTS[model] = (versions, digest)
    return digest


def varying_units(signal: np.ndarray, k: int = 16) -> np.ndarray:
    """The ``k`` units (rows of ``signal`` (H, T)) whose activation varies most over the text, most first:
    the ones worth looking at in a heatmap of a large layer."""
    spread = np.asarray(signal, dtype=np.float64).std(axis=1)
    return np.argsort(-spread, kind="stable")[:k]


def mean_over_units(signal: np.ndarray) -> np.ndarray:
    """A signal (units, tokens) averaged over its units: one value per token (a gate's mean opening)."""
    return np.asarray(signal).mean(axis=0)


def gate_saturation(gates: dict[str, np.ndarray], low: float = SATURATED[0],
                    high: float = SATURATED[1]) -> dict[str, tuple[float, float]]:
    """Share of values below ``low`` and above ``high``, per gate (each (H, T)).

    A saturated gate is a switch (fully shut or fully open) rather than a dial. The tanh candidates
    (g, n) live in [-1, 1]; they are mapped to [0, 1] first, so 'below 0.1' means below -0.8.
    """
    out = {}
    for name, v in gates.items():
        v = _unit_interval(name, v)
        out[name] = (float((v < low).mean()), float((v > high).mean()))
    return out


def saturation_over_time(gates: dict[str, np.ndarray], low: float = SATURATED[0],
                         high: float = SATURATED[1]) -> dict[str, np.ndarray]:
    """Per gate, the share of units saturated (below ``low`` or above ``high``) at each token: (T,)."""
    return {name: ((_unit_interval(name, v) < low) | (_unit_interval(name, v) > high)).mean(axis=0)
            for name, v in gates.items()}


def _unit_interval(name: str, v: np.ndarray) -> np.ndarray:
    return v if name in SIGMOID_GATES else (v + 1.0) / 2.0


def pca_path(h: np.ndarray, components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Project the states h_t (given as (H, T)) on their first principal components.

    Returns coordinates (T, components) and the share of variance each component explains.

    The SVD runs in torch, whose thread count the server bounds: NumPy's OpenBLAS starts a thread per core
    and, on a busy class server, took 3-6 s for the 2,000 x 128 matrix of a long review instead of 0.05 s."""
    X = np.asarray(h, dtype=np.float64).T
    X = X - X.mean(axis=0, keepdims=True)
    if X.shape[0] < 2:
        return np.zeros((X.shape[0], components)), np.zeros(components)
    U, S, _ = (t.numpy() for t in torch.linalg.svd(torch.from_numpy(X), full_matrices=False))
    k = min(components, len(S))
    coords = np.zeros((X.shape[0], components))
    coords[:, :k] = U[:, :k] * S[:k]
    var = S ** 2
    share = np.zeros(components)
    total = var.sum()
    if total > 0:
        share[:k] = var[:k] / total
    return coords, share


def top_units(signal: np.ndarray, start: int, end: int, k: int = 5) -> list[tuple[int, float, float]]:
    """Units most active over tokens ``start..end`` (inclusive) of ``signal`` (H, T).

    Score: mean |activation| inside the range minus mean |activation| outside it, so a unit that is
    always on does not win. Returns (unit, score, mean activation inside), best first."""
    a = np.abs(signal)
    inside = np.zeros(a.shape[1], dtype=bool)
    inside[start:end + 1] = True
    mean_in = a[:, inside].mean(axis=1)
    mean_out = a[:, ~inside].mean(axis=1) if (~inside).any() else np.zeros(a.shape[0])
    score = mean_in - mean_out
    order = np.argsort(-score)[:k]
    return [(int(u), float(score[u]), float(signal[u, inside].mean())) for u in order]


def firing_positions(row: np.ndarray, reference: float, exclude: tuple[int, int] | None = None,
                     limit: int = 20) -> list[int]:
    """Token positions where a unit's |activation| reaches ``reference`` (e.g. its mean inside a range),
    strongest first, outside ``exclude`` (start, end)."""
    a = np.abs(row)
    idx = np.where(a >= abs(reference))[0]
    if exclude is not None:
        idx = idx[(idx < exclude[0]) | (idx > exclude[1])]
    return [int(i) for i in idx[np.argsort(-a[idx])][:limit]]
