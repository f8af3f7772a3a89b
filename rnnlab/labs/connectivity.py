"""Connectivity: which earlier inputs drove a prediction, and how far back each cell looks.

For a character model (:class:`~rnnlab.nn.charlm.CharLM`, any cell) reading a passage, the prediction at
position t is log p(next character | everything read up to t). Its **connectivity** to the character read k
steps earlier is ‖∂ log p / ∂ x_(t−k)‖, the size of the gradient with respect to that character's embedding
vector (Madsen, "Visualizing memorization in RNNs", Distill 2019): how much a small change of that input would
move this prediction. One backward pass gives it for every k at once (:func:`char_connectivity`).

**Integrated gradients** (Sundararajan et al. 2017) answer a different question: how much of the prediction
each input *contributed*, against a baseline where the last K inputs are zero vectors. The gradient is
averaged along the straight path from the baseline to the real inputs; the attributions then add up to
f(x) − f(baseline) (completeness), which a bare gradient never promises.

:func:`average_connectivity` averages the gradient's bars over many positions of a passage, each position's
bars first scaled to sum to 1: influence against distance, one curve per cell, "how far back it looks".
:func:`top_guesses` gives the model's five likeliest next characters at each position (Karpathy's view).

For the sentiment classifier, :func:`word_gradients` is the same gradient per word of a review
(∂ logit / ∂ word vector), and :func:`compare_explanations` says how it differs from occlusion.

The work per call is bounded: at most :data:`MAX_BACK` characters back and :data:`MAX_PASSAGE` characters of
passage; the characters before the window are read once without gradient and held fixed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.chars import ASSETS, CharVocab
from ..nn.charlm import CharLM, load_charlm
from ..nn.models import SentimentClassifier, TextModel
from ..status import Status
from .sentiment.reading import calibrated, is_word, read

MAX_BACK = 200           # characters back a connectivity bar may reach
MAX_PASSAGE = 600        # characters of a passage read at most
IG_STEPS = 32            # points on the path from the baseline (midpoint rule)
#: Integrated gradients reach at most this many characters back: the path from zero vectors through a long
#: window crosses regimes where log p jumps, and 32 points no longer add up to the change (measured on the
#: shipped LSTM: within 2% at 20 characters back at most positions, off by 10-30% at 40)
IG_BACK = 20
CHECKPOINT_EVERY = 20    # characters between two states kept of a passage
TOP_K = 5                # guesses per position in Karpathy's view
AVERAGE_POSITIONS = 24   # positions of a passage the averaged curve is measured at
AVERAGE_BACK = 100       # ... each with this many characters back
METHODS = ("gradient", "integrated gradients")
#: The Connectivity tab's defaults: the first held-out piece at position 470, where the shipped LSTM must choose
#: what follows a phrase ("bashful modesty"): its gradient reaches well back (rnnlab/lessons/textgen.py)
DEFAULT_POSITION = 470
DEFAULT_BACK = 60
NEAR = 10                # the page's summary: the share of the bars on the last NEAR characters
#: The three character models trained with the same recipe on tiny-shakespeare, in the order they are drawn.
SHIPPED_CELLS = {cell: ASSETS / f"shakespeare_{cell.lower()}" for cell in ("LSTM", "GRU", "RNN")}


def shipped_folders() -> dict[str, Path]:
    """Where each cell's shipped character model is (or will be)."""
    return dict(SHIPPED_CELLS)


def shipped_stamps() -> dict[str, tuple[Path, float | None]]:
    """Each cell's folder and the time its weights were written (None while they are not there)."""
    out = {}
    for cell, folder in SHIPPED_CELLS.items():
        weights = Path(folder) / "model.pt"
        out[cell] = (Path(folder), weights.stat().st_mtime if weights.exists() else None)
    return out


def shipped_cell(cell: str, folders: dict[str, Path] | None = None):
    """The shipped character model of ``cell`` (model, vocabulary, meta), or None while its folder is not
    there (``folders``: other places, for tests)."""
    folder = Path((folders or SHIPPED_CELLS)[cell])
    if not (folder / "model.pt").exists() or not (folder / "config.json").exists():
        return None
    return load_charlm(folder)


# --- the character model --------------------------------------------------------------------------------------
@dataclass
class Connectivity:
    """The influence of each character read before one prediction.

    Position ``t`` of the passage is the last character read; the prediction is of the character at t + 1
    (``target``, with probability ``p_target``). ``values[k]`` is the influence of the character read k steps
    before (``chars[k]``; k = 0 is the character at t itself). For integrated gradients ``signed[k]`` is the
    attribution with its sign (up: it made the target likelier), ``values`` its size, and ``gap`` is
    f(x) − f(baseline), which the signed attributions add up to."""

    t: int
    chars: list[str]
    values: np.ndarray
    target: str
    p_target: float
    method: str = "gradient"
    signed: np.ndarray | None = None
    gap: float | None = None

    @property
    def back(self) -> int:
        """How many characters back the bars reach (K)."""
        return len(self.values) - 1

    def share_within(self, k: int) -> float:
        """The share of the total influence that comes from the last ``k`` + 1 characters (0..k back)."""
        total = float(self.values.sum())
        return float(self.values[:k + 1].sum()) / total if total > 0 else float("nan")


def known_text(text: str, vocabs: list[CharVocab]) -> str:
    """``text`` without the characters some of ``vocabs`` lack, cut to :data:`MAX_PASSAGE`: every model then
    reads the same characters at the same positions."""
    return "".join(c for c in text if all(c in v.index for v in vocabs))[:MAX_PASSAGE]


def _as_ids(ids) -> torch.Tensor:
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)[:MAX_PASSAGE]
    if len(ids) < 2:
        raise ValueError("a passage needs at least two characters: one to read, one to predict")
    return ids


def _check_position(ids: torch.Tensor, t: int) -> int:
    t = int(t)
    if not 0 <= t <= len(ids) - 2:
        raise ValueError(f"position t must lie in 0..{len(ids) - 2}: the character at t + 1 is predicted")
    return t


def _expand(state, n: int):
    """A batch-1 recurrent state repeated for ``n`` rows (None stays None)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.expand(-1, n, -1).contiguous() for s in state)
    return state.expand(-1, n, -1).contiguous()


def _cat_states(model: CharLM, states: list):
    """Batch-1 states side by side as one batch (the rows' windows start at different places; None, a window
    at the passage's start, is a zero state)."""
    if all(s is None for s in states):
        return None
    p = next(model.parameters())
    zero = p.new_zeros(model.config.num_layers, 1, model.config.hidden_size)
    states = [s if s is not None else (zero, zero) if model.cell == "LSTM" else zero for s in states]
    if isinstance(states[0], tuple):
        return tuple(torch.cat(parts, dim=1) for parts in zip(*states))
    return torch.cat(states, dim=1)


@torch.no_grad()
def passage_states(model: CharLM, ids, every: int = CHECKPOINT_EVERY) -> dict:
    """The recurrent state after every ``every`` characters of the passage ``ids`` (read from a zero state at its
    start), from one pass of the fused layers: ``{"every", "states"}``, ``states[k]`` being the state after
    ``(k + 1) * every`` characters (NumPy; a tuple (h, c) for an LSTM). Read once per passage, they let each
    later prediction start from the nearest checkpoint instead of re-reading the passage."""
    ids = _as_ids(ids)
    model.eval()
    device = next(model.parameters()).device
    state, saved = None, []
    for a in range(0, len(ids), every):
        _, state = model.rnn(model.embedding(ids[a:a + every].view(1, -1).to(device)), state)
        saved.append(tuple(s.cpu().numpy() for s in state) if isinstance(state, tuple) else state.cpu().numpy())
    return {"every": int(every), "states": saved}


@torch.no_grad()
def _state_before(model: CharLM, ids: torch.Tensor, start: int, states: dict | None = None):
    """The recurrent state after reading ``ids[:start]`` from a zero state (None when ``start`` is 0): the
    characters before the window, held fixed. From the nearest checkpoint of ``states`` (:func:`passage_states`)
    when given, else read from the passage's start."""
    if start <= 0:
        return None
    p = next(model.parameters())
    state, begin = None, 0
    k = start // states["every"] if states else 0
    if k >= 1:
        saved = states["states"][k - 1]
        state = tuple(torch.as_tensor(s).to(p) for s in saved) if isinstance(saved, tuple) \
            else torch.as_tensor(saved).to(p)
        begin = k * states["every"]
    if begin < start:
        _, state = model.rnn(model.embedding(ids[begin:start].view(1, -1).to(p.device)), state)
    return state


def _log_probs(model: CharLM, vectors: torch.Tensor, state) -> torch.Tensor:
    """log p over the vocabulary after reading the character vectors ``vectors`` (B, w, E) from ``state``:
    the prediction at each row's last character (eval mode: no dropout)."""
    out, _ = model.rnn(vectors, state)
    return torch.log_softmax(model.head(out[:, -1]), dim=-1)


def char_connectivity(model: CharLM, vocab: CharVocab, ids, t: int, back: int = MAX_BACK,
                      method: str = "gradient", steps: int = IG_STEPS, states: dict | None = None) -> Connectivity:
    """The influence of each of the ``back`` + 1 characters read before the prediction at position ``t`` of
    the passage ``ids`` (1-D character ids, read from a zero state at its start).

    ``method="gradient"``: ‖∂ log p(ids[t+1]) / ∂ x_(t−k)‖ for k = 0..back, from one backward pass.
    ``method="integrated gradients"``: the attribution of each x_(t−k), k ≤ :data:`IG_BACK`, against a baseline
    where those vectors are zero, the gradient averaged over ``steps`` points of the path (midpoint rule), summed
    over the embedding's dimensions; ``values`` holds its size, ``signed`` its sign too.

    ``states`` (:func:`passage_states` of the same passage) saves re-reading the characters before the window."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    ids = _as_ids(ids)
    t = _check_position(ids, t)
    back = max(0, min(int(back), MAX_BACK if method == "gradient" else IG_BACK, t))
    start = t - back
    model.eval()
    device = next(model.parameters()).device
    target = int(ids[t + 1])
    state = _state_before(model, ids, start, states)
    with torch.no_grad():
        x = model.embedding(ids[start:t + 1].view(1, -1).to(device))         # (1, back + 1, E)
    chars = [vocab.chars[int(i)] for i in ids[start:t + 1].flip(0)]
    with torch.enable_grad():
        if method == "gradient":
            v = x.clone().requires_grad_(True)
            lp = _log_probs(model, v, state)
            (g,) = torch.autograd.grad(lp[0, target], v)
            values = g[0].norm(dim=-1).flip(0)
            p = float(lp[0, target].detach().exp())
            return Connectivity(t, chars, values.detach().cpu().double().numpy(), vocab.chars[target], p)
        n = max(int(steps), 1)
        alphas = (torch.arange(n, dtype=x.dtype, device=device) + 0.5) / n
        path = (alphas[:, None, None] * x).requires_grad_(True)                       # (n, back + 1, E)
        lp = _log_probs(model, path, _expand(state, n))[:, target]
        (g,) = torch.autograd.grad(lp.sum(), path)
    signed = (x[0] * g.mean(dim=0)).sum(dim=-1).flip(0).detach().cpu().double().numpy()
    with torch.no_grad():
        ends = _log_probs(model, torch.cat([x, torch.zeros_like(x)]), _expand(state, 2))[:, target]
    gap = float(ends[0] - ends[1])
    return Connectivity(t, chars, np.abs(signed), vocab.chars[target], float(ends[0].exp()), method, signed, gap)


@dataclass
class AverageConnectivity:
    """Influence against distance, averaged over ``positions`` of a passage: ``mean[k]`` is the average share
    of a prediction's gradient (each position's bars scaled to sum to 1) that falls on the character read k
    steps before it."""

    mean: np.ndarray
    positions: list[int]

    @classmethod
    def from_dict(cls, d: dict) -> AverageConnectivity:
        """Back from the plain form a job returns (``{"mean", "positions"}``)."""
        return cls(np.asarray(d["mean"], dtype=float), list(d["positions"]))

    def reach(self, share: float = 0.9) -> int:
        """The smallest k such that the characters 0..k back hold ``share`` of the influence, on average."""
        c = np.cumsum(self.mean)
        return int(np.searchsorted(c, share * c[-1]))

    def beyond(self, k: int) -> float:
        """The average share of the influence that comes from further back than ``k`` characters."""
        return float(self.mean[k + 1:].sum() / self.mean.sum()) if self.mean.sum() > 0 else float("nan")


def average_positions(n_chars: int, back: int, count: int = AVERAGE_POSITIONS) -> list[int]:
    """``count`` positions spread evenly over a passage of ``n_chars`` characters, each with ``back``
    characters before it and one after it (fewer positions when the passage is short)."""
    first, last = back, n_chars - 2
    if last < first:
        return []
    return sorted({int(round(v)) for v in np.linspace(first, last, count)})


def average_connectivity(model: CharLM, ids, back: int = MAX_BACK, count: int = AVERAGE_POSITIONS,
                         chunk: int = 8, states: dict | None = None) -> AverageConnectivity:
    """The gradient's bars at ``count`` positions of the passage ``ids``, each scaled to sum to 1, then
    averaged: how far back this model looks. Every position has its full ``back`` + 1 characters before it;
    rows of ``chunk`` positions share one backward pass (each row's loss touches only its own window)."""
    ids = _as_ids(ids)
    back = max(1, min(int(back), MAX_BACK, len(ids) - 2))
    positions = average_positions(len(ids), back, count)
    states = states if states is not None else passage_states(model, ids)     # one pass, not one per position
    model.eval()
    device = next(model.parameters()).device
    rows = []
    for a in range(0, len(positions), chunk):
        part = positions[a:a + chunk]
        state = _cat_states(model, [_state_before(model, ids, t - back, states) for t in part])
        with torch.no_grad():
            x = model.embedding(torch.stack([ids[t - back:t + 1] for t in part]).to(device))
        targets = torch.tensor([int(ids[t + 1]) for t in part], device=device)
        with torch.enable_grad():
            v = x.clone().requires_grad_(True)
            lp = _log_probs(model, v, state)
            (g,) = torch.autograd.grad(lp.gather(1, targets[:, None]).sum(), v)
        bars = g.norm(dim=-1).flip(1).detach().cpu().double().numpy()               # (rows, back + 1)
        rows.append(bars / np.maximum(bars.sum(axis=1, keepdims=True), 1e-30))
    mean = np.concatenate(rows).mean(axis=0) if rows else np.zeros(back + 1)
    return AverageConnectivity(mean, positions)


def average_job(ctx, folders: dict[str, str], passage: str, back: int = AVERAGE_BACK,
                count: int = AVERAGE_POSITIONS) -> dict:
    """:func:`average_connectivity` of each character model saved in ``folders`` (cell -> folder) on ``passage``,
    as a job of the job runner: a few seconds of backward passes per large model, run in a worker so that the
    page stays responsive and a class pressing at once is served in turn. Returns ``curves``: cell ->
    ``{"mean", "positions"}`` (plain lists)."""
    curves = {}
    ctx.phase("measuring")
    for n, (cell, folder) in enumerate(folders.items()):
        ctx.check()
        loaded = shipped_cell(cell, {cell: Path(folder)})
        if loaded is None:
            continue
        model, vocab, _ = loaded
        avg = average_connectivity(model, vocab.encode(known_text(passage, [vocab])), back, count)
        curves[cell] = {"mean": avg.mean.tolist(), "positions": list(avg.positions)}
        ctx.progress(n + 1, len(folders), f"{cell} measured")
    return {"status": Status.FINISHED, "curves": curves, "message": f"{len(curves)} models measured"}


@dataclass
class TopGuesses:
    """The model's ``k`` likeliest next characters after each character of a passage (Karpathy's view):
    ``guesses[t]`` and ``probs[t]`` are its guesses for the character at t + 1, best first; ``p_next[t]`` the
    probability it gave the character that came (no entry for the passage's last character)."""

    chars: list[str]
    guesses: list[list[str]]
    probs: np.ndarray          # (L, k)
    p_next: np.ndarray         # (L − 1,)
    rank_next: np.ndarray      # (L − 1,): 1 = the first guess was right

    def hit_rate(self, k: int = 1) -> float:
        """The share of positions where the character that came was among the first ``k`` guesses."""
        return float((self.rank_next <= k).mean()) if len(self.rank_next) else float("nan")

    @property
    def surprise(self) -> float:
        """Mean −log p of the characters that came, in nats per character."""
        return float(-np.log(np.maximum(self.p_next, 1e-30)).mean()) if len(self.p_next) else float("nan")


@torch.no_grad()
def top_guesses(model: CharLM, vocab: CharVocab, ids, k: int = TOP_K) -> TopGuesses:
    """One pass over the passage ``ids`` (from a zero state): the top-``k`` next characters at each position."""
    ids = _as_ids(ids)
    model.eval()
    device = next(model.parameters()).device
    logits, _ = model(ids.view(1, -1).to(device))
    p = torch.softmax(logits[0].double(), dim=-1).cpu()                                # (L, V)
    k = min(int(k), p.shape[1])
    best = p.topk(k, dim=-1)
    nxt = ids[1:]
    p_next = p[torch.arange(len(nxt)), nxt]
    rank = (p[:-1] > p_next[:, None]).sum(dim=1) + 1
    return TopGuesses([vocab.chars[int(i)] for i in ids],
                      [[vocab.chars[j] for j in row] for row in best.indices.tolist()],
                      best.values.double().numpy(), p_next.double().numpy(), rank.numpy())


# --- the sentiment model ----------------------------------------------------------------------------------------
def _logit_from_vectors(model: SentimentClassifier, x: torch.Tensor) -> torch.Tensor:
    """The classifier's logit for one row of word vectors ``x`` (1, T, E): ``model.forward`` from the
    embedding on (eval mode: every dropout is the identity)."""
    state = None
    for rnn in model.rnns:
        x, state = rnn(x)
    feats = model._pool(x, None) if model.config.pooling == "maxmean" else model._final(state)
    return model.head(feats).squeeze(-1)


@dataclass
class WordGradients:
    """‖∂ logit / ∂ word vector‖ for each token of a review (the calibrated logit: log-odds of positive)."""

    tokens: list[str]
    norms: np.ndarray
    logit: float


def word_gradients(tm: TextModel, text: str) -> WordGradients:
    """One backward pass of the calibrated logit to every word vector of ``text`` (the tokens the model
    reads: the end of a review longer than its limit). Raises ValueError for a text with no token."""
    r = read(tm, text)
    model = calibrated(tm)
    model.eval()
    with torch.no_grad():
        x = model.embedding(r.ids)
    with torch.enable_grad():
        v = x.clone().requires_grad_(True)
        z = _logit_from_vectors(model, v)[0]
        (g,) = torch.autograd.grad(z, v)
    return WordGradients(r.tokens, g[0].norm(dim=-1).detach().cpu().double().numpy(), float(z.detach()))


def ranks(values: np.ndarray) -> np.ndarray:
    """1 for the largest value, 2 for the next...; ties share their average rank."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(-values, kind="stable")
    r = np.empty(len(values))
    r[order] = np.arange(1, len(values) + 1)
    for v in np.unique(values):
        same = values == v
        if same.sum() > 1:
            r[same] = r[same].mean()
    return r


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (the Pearson correlation of the ranks; nan when either is constant)."""
    ra, rb = ranks(a), ranks(b)
    if len(ra) < 2 or ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


@dataclass
class Agreement:
    """How the gradient and occlusion rank a review's words: ``rho`` (Spearman, over ``n`` words or word groups),
    the words both put in their top ``top``, and those one ranks high and the other not (with both ranks)."""

    rho: float
    n: int
    top: int
    both: list[str]
    gradient_only: list[tuple[str, int, int]]     # (word, rank by gradient, rank by occlusion)
    occlusion_only: list[tuple[str, int, int]]

    @property
    def verdict(self) -> str:
        if not math.isfinite(self.rho):
            return "too few words to compare"
        if self.rho >= 0.7:
            return "close agreement"
        if self.rho >= 0.4:
            return "partial agreement"
        if self.rho >= 0.0:
            return "weak agreement"
        return "they disagree"

    def sentence(self) -> str:
        """The comparison in words, every number computed."""
        if self.n < 3:
            return "Too few words to compare the two rankings."
        out = [f"Rank correlation of the two explanations over the {self.n} "
               f"{'words' if self.n > 1 else 'word'}: Spearman ρ = {self.rho:+.2f} ({self.verdict})."]
        if self.both:
            out.append(f"Both put {', '.join(f'“{w}”' for w in self.both)} among their {self.top} strongest.")
        if self.gradient_only:
            words = ", ".join(f"“{w}” ({_ordinal(rg)} against {_ordinal(ro)})" for w, rg, ro in self.gradient_only)
            out.append(f"High for the gradient, not for occlusion: {words}: the answer is sensitive to a small "
                       "change of these vectors, yet removing the words moves it less.")
        if self.occlusion_only:
            words = ", ".join(f"“{w}” ({_ordinal(ro)} against {_ordinal(rg)})" for w, rg, ro in self.occlusion_only)
            out.append(f"High for occlusion, not for the gradient: {words}: removing them moves the answer, though "
                       "a small change of their vectors hardly does (a saturated model, or an effect that is not "
                       "linear).")
        return " ".join(out)


def compare_explanations(tokens: list[str], gradient: np.ndarray, occlusion: np.ndarray, span: int = 1,
                         top: int = 3) -> Agreement:
    """Compare the gradient's sizes with occlusion's |Δ log-odds| over the words of a review (punctuation left
    out). Occlusion of a long review removes ``span`` tokens at a time: then the groups are compared, each
    group's gradient being the sum over its tokens."""
    gradient, occlusion = np.asarray(gradient, float), np.abs(np.asarray(occlusion, float))
    span = max(int(span), 1)
    labels, g, o = [], [], []
    for a in range(0, len(tokens), span):
        words = [k for k in range(a, min(a + span, len(tokens))) if is_word(tokens[k])]
        if not words:
            continue
        labels.append(" ".join(tokens[k] for k in words) if span > 1 else tokens[words[0]])
        g.append(gradient[words].sum())
        o.append(occlusion[words[0]])
    g, o = np.array(g), np.array(o)
    n = len(labels)
    top = min(top, n)
    rg, ro = ranks(g), ranks(o)
    first_g = [k for k in np.argsort(rg, kind="stable")[:top]]
    first_o = [k for k in np.argsort(ro, kind="stable")[:top]]
    both = [labels[k] for k in first_g if k in first_o]
    far = 2 * top        # "ranks it high and the other not": in one's top, below the other's top 2×top
    g_only = [(labels[k], round(rg[k]), round(ro[k])) for k in first_g if ro[k] > far]
    o_only = [(labels[k], round(rg[k]), round(ro[k])) for k in first_o if rg[k] > far]
    return Agreement(spearman(g, o) if n >= 3 else float("nan"), n, top, list(dict.fromkeys(both)), g_only, o_only)
