"""How a trained model reads one review: its calibrated prediction (:func:`read`, :func:`predict`), the
probability after each word (:func:`trajectory`), word importance by occlusion in log-odds
(:func:`importance`), the what-if comparison, and the model a training job returned."""
from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...data.tokenizer import OOV, Vocabulary, tokenize
from ...inputs import readable
from ...nn.models import ClassifierConfig, SentimentClassifier, TextModel
from .. import calibration

MAX_REVIEW_CHARS = 100_000   # the review box's limit, enforced here too (the browser's limit can be bypassed)
MAX_TOKENS = 2_000           # what a model without a length limit reads at most (the end of the text)
WORK_BUDGET = 24_000         # token-steps one explanation may read (all prefixes, or all occluded copies):
                             # about half a second on one CPU thread for the pretrained BiLSTM


def temperature(tm: TextModel) -> float:
    """The model's fitted temperature (``meta["temperature"]``, else ``meta["calibration"]["temperature"]``;
    1.0 for an uncalibrated model). Every probability shown is ``sigmoid(logit / T)``."""
    t = tm.meta.get("temperature") or (tm.meta.get("calibration") or {}).get("temperature") or 1.0
    t = float(t)
    return t if math.isfinite(t) and t > 0 else 1.0


def calibrated(tm: TextModel) -> SentimentClassifier:
    """The model with its last layer divided by T: its logits are the calibrated log-odds.

    A view that shares every other module with ``tm.model`` (nothing is copied but the small head), kept on
    the TextModel; the shared model itself is never changed (other sessions read it at the same time)."""
    T = temperature(tm)
    cached = tm.__dict__.get("_calibrated")
    if cached is not None and cached[0] == T:
        return cached[1]
    model = tm.model
    if T != 1.0:
        model = copy.copy(tm.model)
        model._modules = dict(tm.model._modules)
        head = copy.deepcopy(tm.model.head)
        last = [m for m in head.modules() if isinstance(m, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.weight.div_(T)
            last.bias.div_(T)
        model._modules["head"] = head
    tm.__dict__["_calibrated"] = (T, model)
    return model


def fingerprint(tm: TextModel) -> str:
    """A short hash of everything that decides the model's answers (weights, config, vocabulary, maxlen,
    temperature): the key of caches shared between sessions, never the object's ``id()``."""
    cached = tm.__dict__.get("_fingerprint")
    if cached is not None:
        return cached
    h = hashlib.sha1()
    h.update(json.dumps([tm.model.config.to_dict(), tm.maxlen, temperature(tm)], sort_keys=True).encode())
    for k, v in tm.model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    h.update("\n".join(tm.vocab.words).encode())
    key = h.hexdigest()[:16]
    tm.__dict__["_fingerprint"] = key
    return key


def is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


@dataclass
class Reading:
    """What the model made of one text: the tokens it read, its calibrated answer, and how many of the
    words it knows (a review of unknown words gets an answer that means nothing)."""

    tokens: list[str]
    ids: torch.Tensor           # (1, T) on the model's device
    logit: float                # calibrated log-odds of "positive"
    prob: float                 # sigmoid(logit)
    words: int                  # word tokens read (punctuation and emoji not counted)
    known: int                  # ... of which the model's vocabulary holds
    dropped: int                # tokens before the last ``maxlen`` (not read)
    unknown_words: list[str]    # a few of the words it does not know, for the message

    @property
    def known_fraction(self) -> float:
        return self.known / self.words if self.words else 0.0

    @property
    def mostly_unknown(self) -> bool:
        """Fewer than half of the words are known: the page warns to read the prediction with caution."""
        return self.known < 0.5 * self.words


def _ids(tm: TextModel, text: str) -> tuple[list[str], torch.Tensor, int]:
    text = str(text)[:MAX_REVIEW_CHARS]
    tokens = tokenize(text) if readable(text) else []     # control characters alone are no review either
    limit = tm.maxlen or MAX_TOKENS
    dropped = max(len(tokens) - limit, 0)
    tokens = tokens[dropped:]   # what the model was trained to read: the end of a long review
    if not tokens:
        raise ValueError("There is no word to read: type a review.")
    device = next(tm.model.parameters()).device
    return tokens, torch.tensor([tm.vocab.ids(tokens)], dtype=torch.long, device=device), dropped


@torch.no_grad()
def read(tm: TextModel, text: str) -> Reading:
    """One forward pass: the calibrated prediction and the known-word count. Raises ValueError (with a
    message for the student) when the text holds no token at all."""
    tokens, ids, dropped = _ids(tm, text)
    model = calibrated(tm)
    model.eval()
    z = float(model(ids)[0])
    words = [t for t in tokens if is_word(t)]
    unknown = [t for t in words if tm.vocab.index.get(t, OOV) == OOV]
    return Reading(tokens, ids, z, float(calibration.sigmoid(z)), len(words), len(words) - len(unknown), dropped,
                   list(dict.fromkeys(unknown))[:8])


def predict(tm: TextModel, text: str) -> float:
    """Calibrated P(positive) for one text."""
    return read(tm, text).prob


@dataclass
class Trajectory:
    """P(positive) after some of the words: after every word (``every``), or, for a bidirectional model on a
    long text, after a bounded set of evenly spaced words."""

    tokens: list[str]
    positions: np.ndarray       # 1-based: the probability at positions[k] is after reading that many tokens
    probs: np.ndarray
    every: bool


def prefix_positions(T: int, bidirectional: bool, budget: int = WORK_BUDGET) -> np.ndarray:
    """0-based token positions whose prefixes fit the budget: all of them when reading them all is cheap
    (a unidirectional model reads every prefix in one pass), else evenly spaced ones, always the last."""
    if not bidirectional or budget >= T * (T + 1) // 2:
        return np.arange(T)
    k = max(min(T, 2 * budget // T), 8)
    return np.unique(np.round(np.linspace(0, T - 1, k)).astype(np.int64))


@torch.no_grad()
def trajectory(tm: TextModel, text: str, budget: int = WORK_BUDGET) -> Trajectory:
    """The tokens read and the calibrated P(positive) after each of them (or after a bounded set of them)."""
    tokens, ids, _ = _ids(tm, text)
    model = calibrated(tm)
    pos = prefix_positions(len(tokens), model.config.bidirectional, budget)
    probs = model.prefix_probabilities(ids, positions=torch.from_numpy(pos)).float().cpu().numpy()
    return Trajectory(tokens, pos + 1, probs, len(pos) == len(tokens))


@dataclass
class Importance:
    """Occlusion: each word (or each group of ``span`` words in a long review) removed in turn.

    ``logodds[k]``: the calibrated log-odds of the whole text minus those without token k's group; positive
    means the word pushed towards "positive". Log-odds keep their size when the probability is saturated
    (99.99% and 99.9% differ by 2.3 in log-odds, by 0.09 points in probability). ``dprob``: the same in
    probability."""

    tokens: list[str]
    logodds: np.ndarray
    dprob: np.ndarray
    span: int
    logit: float
    prob: float

    @property
    def strongest(self) -> int:
        """The index of the token whose removal moves the log-odds most (either way; the first on a tie)."""
        return int(np.argmax(np.abs(self.logodds)))


@torch.no_grad()
def importance(tm: TextModel, text: str, budget: int = WORK_BUDGET, batch_size: int = 64) -> Importance:
    """Word importance by occlusion, in log-odds and in probability (see :class:`Importance`). Removing
    one word at a time reads about T² tokens: a long text is occluded ``span`` words at a time, so that
    the work stays within ``budget`` token-steps."""
    tokens, ids, _ = _ids(tm, text)
    model = calibrated(tm)
    model.eval()
    T = ids.shape[1]
    full = float(model(ids)[0])
    p_full = float(calibration.sigmoid(full))
    if T == 1:  # nothing left to compare with: measure against "undecided"
        return Importance(tokens, np.array([full]), np.array([p_full - 0.5]), 1, full, p_full)
    groups = max(min(T, budget // T), 1)
    span = math.ceil(T / groups)
    starts = list(range(0, T, span))
    rows, lengths = [], []
    for s in starts:
        keep = torch.cat([ids[0, :s], ids[0, s + span:]])
        if len(keep) == 0:
            keep = torch.tensor([OOV], device=ids.device)
        rows.append(keep)
        lengths.append(len(keep))
    z = []
    for b in range(0, len(rows), batch_size):
        chunk, lens = rows[b:b + batch_size], torch.tensor(lengths[b:b + batch_size])
        batch = torch.zeros(len(chunk), int(lens.max()), dtype=torch.long, device=ids.device)
        for r, row in enumerate(chunk):
            batch[r, :len(row)] = row
        z.append(model(batch, lens).float().cpu())
    without = torch.cat(z).numpy().astype(np.float64)
    group_of = np.arange(T) // span
    logodds = full - without[group_of]
    dprob = p_full - calibration.sigmoid(without)[group_of]
    return Importance(tokens, logodds, dprob, span, full, p_full)


def weights_mb(tm: TextModel) -> float:
    """The size of a model's weights (its state dict), in MB (10⁶ bytes)."""
    return sum(v.numel() * v.element_size() for v in tm.model.state_dict().values()) / 1e6


def compare(tm: TextModel, original: str, edited: str) -> dict:
    """The what-if numbers: both calibrated predictions and the change in log-odds and in probability."""
    a, b = read(tm, original), read(tm, edited)
    return {"p_original": a.prob, "p_edited": b.prob, "logit_original": a.logit, "logit_edited": b.logit,
            "d_logodds": b.logit - a.logit, "d_prob": b.prob - a.prob}


def text_model_from_result(result: dict) -> TextModel:
    """Rebuild the model a training job returned (weights, config, vocabulary words and settings only)."""
    config = ClassifierConfig.from_dict(result["config"])
    model = SentimentClassifier(config)   # every weight is overwritten by the next line
    model.load_state_dict(result["state_dict"])
    vocab = Vocabulary.from_dict(result["vocab"])
    return TextModel(result.get("name", "trained"), model.eval(), vocab, result.get("maxlen"),
                     dict(result.get("meta", {})))


SHIPPED_MODEL = Path(__file__).resolve().parents[3] / "assets" / "sentiment"


@functools.lru_cache(maxsize=1)
def load_shipped() -> TextModel:
    """The pretrained IMDB model of ``assets/sentiment`` on the CPU, loaded once (the lessons' checks; the app
    loads it once per process itself)."""
    from ...nn.models import load_text_model

    return load_text_model(SHIPPED_MODEL, "cpu")
