"""A trained model's word vectors: nearest neighbours by cosine similarity, what the model says about a
word on its own, and a 2-D projection (PCA) of chosen words.

The embedding layer is a table with one learned row per word of the vocabulary. A sentiment model was
never asked to make similar words similar, only to classify reviews: words that push a review the same
way end up with rows that point the same way, which is what the neighbours show.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.tokenizer import OOV, PAD, Vocabulary, tokenize
from ..inputs import readable, shown
from ..nn.models import SentimentClassifier

MAX_WORDS = 40          # words in the projection
MAX_NEIGHBOURS = 30
DEFAULT_WORD = "awful"      # the page's defaults: a word, its neighbours, among the most frequent words
DEFAULT_NEIGHBOURS = 10
DEFAULT_AMONG = 5000


class WordError(ValueError):
    """A typed word cannot be looked up; the message says why."""


def embedding_table(model: SentimentClassifier, vocab: Vocabulary) -> np.ndarray:
    """(rows, E) float32: one row per word id the vocabulary and the model both have."""
    weight = model.embedding.weight.detach().float().cpu().numpy()
    return weight[:min(len(vocab), weight.shape[0])]


def unit_rows(table: np.ndarray) -> np.ndarray:
    """Each row divided by its length: cosine similarity becomes a dot product."""
    norms = np.linalg.norm(table, axis=1, keepdims=True)
    return table / np.maximum(norms, 1e-12)


def word_id(vocab: Vocabulary, word: str, rows: int) -> int:
    """The id of one typed word, or :class:`WordError` saying why there is none."""
    tokens = tokenize(word) if readable(word) else []     # invisible characters only: no word (every page's rule)
    if not tokens:
        raise WordError("Type a word.")
    if len(tokens) > 1:
        raise WordError(f"One word at a time: this reads as {len(tokens)} tokens ({', '.join(tokens[:5])}).")
    i = vocab.index.get(tokens[0], OOV)
    if i in (OOV, PAD) or i >= rows:
        raise WordError(f"{shown(tokens[0])} is not in the model's vocabulary (the {rows - 2:,} most frequent words of "
                        "its training reviews): the model reads it as <oov>, the same row for every unknown word.")
    return i


@dataclass
class Neighbour:
    word: str
    cosine: float
    rank_in_vocab: int        # 1 = the most frequent word


def nearest_neighbours(unit: np.ndarray, vocab: Vocabulary, word: str, k: int = 10,
                       among: int | None = None) -> list[Neighbour]:
    """The ``k`` words whose rows have the highest cosine similarity with ``word``'s (itself excluded),
    searched among the ``among`` most frequent words (all by default); ``unit`` from :func:`unit_rows`."""
    i = word_id(vocab, word, unit.shape[0])
    k = max(1, min(int(k), MAX_NEIGHBOURS))
    rows = unit.shape[0] if among is None else max(min(int(among) + 2, unit.shape[0]), k + 3)
    sims = unit[:rows] @ unit[i]
    sims[[PAD, OOV]] = -np.inf
    if i < rows:
        sims[i] = -np.inf
    top = np.argpartition(-sims, k)[:k]
    top = top[np.argsort(-sims[top], kind="stable")]
    return [Neighbour(vocab.words[j], float(sims[j]), int(j) - 1) for j in top]


def mean_cosine(neighbours: list[Neighbour]) -> float:
    """The mean cosine similarity of these neighbours (to read against :func:`chance_cosine`)."""
    return float(np.mean([n.cosine for n in neighbours]))


def chance_cosine(unit: np.ndarray, k: int = 10, among: int | None = None, seed: int = 0) -> float:
    """The mean cosine of the ``k`` nearest neighbours of a *random* direction among the same words: what
    "near" means by chance in this many dimensions, to read the real neighbours against."""
    rows = unit.shape[0] if among is None else min(int(among) + 2, unit.shape[0])
    v = np.random.default_rng(seed).normal(size=unit.shape[1])
    sims = unit[2:rows] @ (v / np.linalg.norm(v))
    k = max(1, min(int(k), len(sims) - 1))
    return float(np.sort(sims)[-k:].mean())


@torch.no_grad()
def word_sentiment(model: SentimentClassifier, ids: list[int]) -> np.ndarray:
    """P(positive) the model gives each word read alone, as a one-word review."""
    if not ids:
        return np.zeros(0)
    was = model.training
    model.eval()
    device = next(model.parameters()).device
    x = torch.tensor(ids, dtype=torch.long, device=device)[:, None]
    probs = torch.sigmoid(model(x)).float().cpu().numpy()
    model.train(was)
    return probs


@dataclass
class WordSet:
    words: list[str]          # the words found, in the order typed (duplicates dropped)
    ids: list[int]
    unknown: list[str]        # typed but not in the vocabulary


def choose_words(text: str, vocab: Vocabulary, rows: int, max_words: int = MAX_WORDS) -> WordSet:
    """Words typed with spaces or commas -> those the model knows (at most ``max_words``) and the rest."""
    words, ids, unknown = [], [], []
    for tok in tokenize(str(text).replace(",", " ")):
        if tok in words or tok in unknown or (len(tok) == 1 and not tok.isalnum()) or not readable(tok):
            continue
        i = vocab.index.get(tok, OOV)
        if i in (OOV, PAD) or i >= rows:
            unknown.append(tok)
        elif len(words) < max_words:
            words.append(tok)
            ids.append(i)
    return WordSet(words, ids, unknown)


def project_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PCA of the rows: (n, 2) coordinates on the two directions of largest variance, and the share of
    the variance each direction explains. Signs are fixed (largest coordinate positive) so that the
    picture does not flip between runs."""
    X = np.asarray(vectors, dtype=np.float64)
    if X.shape[0] < 2:
        raise WordError("Choose at least two words the model knows to draw a projection.")
    X = X - X.mean(axis=0)
    U, S, Vt = np.linalg.svd(X, full_matrices=False)
    coords = U[:, :2] * S[:2]
    for j in range(coords.shape[1]):
        if coords[np.argmax(np.abs(coords[:, j])), j] < 0:
            coords[:, j] = -coords[:, j]
    var = S ** 2
    return coords, var[:2] / max(var.sum(), 1e-30)
