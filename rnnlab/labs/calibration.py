"""Calibration: does "80% positive" come true 80% of the time?

A classifier trained to a low loss often becomes over-confident: its probabilities sit at 0% or 100%
even where it is wrong. *Temperature scaling* (Guo, Pleiss, Sun & Weinberger 2017) divides every logit
by one number T > 0, fitted to minimise the negative log-likelihood on held-out validation data. It
never changes which side of 50% a prediction falls on (the sign of the logit is kept), only how sure
it sounds.

*Expected calibration error* (ECE): sort predictions into equal-width bins by confidence and average
|accuracy - confidence| over the bins, weighted by how many predictions each holds (15 bins here, as
Guo et al.). 0 means perfectly calibrated.

For a binary classifier with P(positive) = p, "confidence" is max(p, 1 - p) and "accuracy" whether the
predicted side was right.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

BINS = 15


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood (binary cross-entropy) of ``labels`` under ``sigmoid(logits / T)``."""
    z = torch.as_tensor(np.asarray(logits, dtype=np.float64)) / temperature
    y = torch.as_tensor(np.asarray(labels, dtype=np.float64))
    return float(F.binary_cross_entropy_with_logits(z, y))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, low: float = 0.05, high: float = 20.0) -> float:
    """The T that minimises the validation NLL of ``sigmoid(logits / T)`` (golden-section search on log T:
    the NLL is smooth and has one minimum in T for a fixed set of logits)."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    if len(logits) == 0:
        return 1.0
    a, b = np.log(low), np.log(high)
    g = (np.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = nll(logits, labels, np.exp(c)), nll(logits, labels, np.exp(d))
    for _ in range(80):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = nll(logits, labels, np.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = nll(logits, labels, np.exp(d))
    return float(np.exp((a + b) / 2))


@dataclass
class Reliability:
    """Per confidence bin: mean confidence, accuracy and count; and the ECE."""

    edges: np.ndarray        # (BINS + 1,) from 0.5 to 1.0 for a binary classifier
    confidence: np.ndarray   # (BINS,) NaN for empty bins
    accuracy: np.ndarray     # (BINS,)
    counts: np.ndarray       # (BINS,)
    ece: float


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> Reliability:
    """Reliability diagram data and ECE for P(positive) ``probs`` against 0/1 ``labels``.

    Bins split confidence max(p, 1-p) ∈ [0.5, 1] into ``bins`` equal widths."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64)
    conf = np.maximum(p, 1 - p)
    correct = ((p >= 0.5).astype(np.int64) == y).astype(np.float64)
    edges = np.linspace(0.5, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    counts = np.bincount(idx, minlength=bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, weights=conf, minlength=bins) / counts
        acc = np.bincount(idx, weights=correct, minlength=bins) / counts
    n = max(len(p), 1)
    gaps = np.where(counts > 0, np.abs(np.nan_to_num(acc) - np.nan_to_num(mean_conf)), 0.0)
    return Reliability(edges, mean_conf, acc, counts, float((gaps * counts).sum() / n))


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    return reliability(probs, labels, bins).ece


def sigmoid(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-z))


def _bins(r: Reliability) -> dict:
    """Plain lists (JSON, job results): None where a bin is empty."""
    clean = lambda v: [None if not np.isfinite(x) else round(float(x), 6) for x in v]  # noqa: E731
    return {"confidence": clean(r.confidence), "accuracy": clean(r.accuracy), "counts": [int(c) for c in r.counts]}


def calibration_report(logits: np.ndarray, labels: np.ndarray, temperature: float, split: str = "test",
                       bins: int = BINS) -> dict:
    """What a model's ``meta["calibration"]`` holds, measured on ``logits``/``labels`` (e.g. the test split):

    ``{"temperature": T, "ece_before": ECE at T = 1, "ece_after": ECE at T, "n": reviews, "split": split,
    "bins": {"edges": [...], "before": {"confidence", "accuracy", "counts"}, "after": {...}}}``."""
    logits = np.asarray(logits, dtype=np.float64)
    before = reliability(sigmoid(logits), labels, bins)
    after = reliability(sigmoid(logits / temperature), labels, bins)
    return {"temperature": float(temperature), "ece_before": before.ece, "ece_after": after.ece,
            "n": int(len(logits)), "split": split,
            "bins": {"edges": [float(e) for e in before.edges], "before": _bins(before), "after": _bins(after)}}


def reliability_from_report(report: dict, which: str = "after") -> Reliability:
    """The :class:`Reliability` stored in a calibration report (``which``: "before" or "after")."""
    b = report["bins"][which]
    nan = lambda v: np.array([np.nan if x is None else x for x in v], dtype=np.float64)  # noqa: E731
    return Reliability(np.asarray(report["bins"]["edges"], dtype=np.float64), nan(b["confidence"]),
                       nan(b["accuracy"]), np.asarray(b["counts"], dtype=np.int64),
                       float(report["ece_before" if which == "before" else "ece_after"]))


def ece_change_points(report: dict) -> float:
    """How much temperature scaling moved the ECE of a calibration report, in percentage points
    (negative: calibration lowered it)."""
    return (report["ece_after"] - report["ece_before"]) * 100


def pct(p: float) -> str:
    """A probability for a student: saturated ones as "< 0.1%" / "> 99.9%" (their log-odds tell them apart).
    Every page that shows a model's P(positive) writes it with this, so the same number reads the same."""
    return f"{p:.1%}" if 0.001 <= p <= 0.999 else "> 99.9%" if p > 0.5 else "< 0.1%"


def points(d: float) -> str:
    """A change of probability in percentage points, with enough digits to show a small one."""
    v = d * 100
    return f"{v:+.1f} points" if abs(v) >= 0.1 or v == 0 else f"{v:+.1g} points"


def probability_note(temperature: float) -> str:
    """The caption under a shown P(positive): which probability it is (the Sentiment lab and Inside the memory
    show the same one, the calibrated one when the model has a temperature)."""
    if temperature == 1.0:
        return "P(positive) = sigmoid(logit): no temperature was fitted for this model, so it is not calibrated."
    return (f"P(positive) is calibrated: sigmoid(logit / T) with T = {temperature:.2f}, fitted on held-out reviews, "
            "on every page.")
