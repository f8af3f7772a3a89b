"""The query: a stretch of the corpus, the units on over it, and every other stretch with the same pattern.

LSTMVis's interaction (Strobelt et al. 2018). A unit is **on** at a step when its h is at or above the
threshold θ. The student selects a stretch of L tokens; the units on at *every* step of it are the pattern
(all of them, or the ones ticked: the selected units S); the units below θ at every step of it are those that
*should be off* (O). Every window of L tokens of the corpus that stays inside one text is scored:

* hits: the selected units on at every step of the window (0..|S|);
* extras: the should-be-off units on at every step of the window (a pattern the selection did not have);
* score = (hits − extras) / |S|: 1 is the selection's pattern exactly; each missing or extra unit costs 1/|S|.

Windows are ranked by score, then by strength (the selected units' summed int8 activation over the window:
the more clearly on, the higher), then by position; the best ``k`` that overlap neither the selection nor a
better match are the matches. Units' bits are packed 64 to a machine word and the "on at every step of L"
test is an AND over the window done by doubling (windows of 1, 2, 4, ... steps), so a query over 261,000
tokens x 512 units takes about 0.1 s. :func:`brute_force` computes the same by looping (the tests compare).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .index import SCALE, Index, pack_bits

MAX_SPAN = 64          # the longest stretch a query may select
MATCHES = 10


def level(threshold: float) -> int:
    """The int8 level a threshold θ means: on when round(127·h) >= round(127·θ) (at least 1)."""
    return int(min(max(round(float(threshold) * SCALE), 1), SCALE))


@dataclass(frozen=True)
class Query:
    """A stretch [start, end) of the corpus (positions over the whole corpus), a threshold, the selected
    units (None: every unit on over the stretch) and how many matches to return."""

    start: int
    end: int
    threshold: float
    units: tuple[int, ...] | None = None
    k: int = MATCHES

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass
class Match:
    start: int
    end: int
    text: int
    hits: int
    extras: int
    strength: int          # summed int8 activation of the selected units over the window

    def score(self, n_selected: int) -> float:
        return (self.hits - self.extras) / max(n_selected, 1)

    def mean_activation(self, n_selected: int) -> float:
        """The selected units' mean h over the window."""
        return self.strength / (SCALE * max(n_selected, 1) * max(self.end - self.start, 1))


@dataclass
class Result:
    query: Query
    on: np.ndarray            # units on at every step of the stretch
    selected: np.ndarray      # the units searched for (S)
    off: np.ndarray           # units off at every step of the stretch (O)
    matches: list[Match]
    windows: int              # windows of the stretch's length scored
    full: int                 # windows where every selected unit is on throughout
    exact: int                # ... and no should-be-off unit is
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def units_on(acts: np.ndarray, start: int, end: int, threshold: float) -> np.ndarray:
    """The units at or above ``threshold`` at every step of [start, end)."""
    return np.flatnonzero((np.asarray(acts[start:end]) >= level(threshold)).all(axis=0))


def units_off(acts: np.ndarray, start: int, end: int, threshold: float) -> np.ndarray:
    """The units below ``threshold`` at every step of [start, end)."""
    return np.flatnonzero((np.asarray(acts[start:end]) < level(threshold)).all(axis=0))


def _pattern(acts: np.ndarray, bounds: np.ndarray, query: Query) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    T = acts.shape[0]
    if not 0 <= query.start < query.end <= T:
        raise ValueError(f"the stretch must lie inside the corpus (0..{T})")
    if query.length > MAX_SPAN:
        raise ValueError(f"select at most {MAX_SPAN} tokens")
    text = int(np.searchsorted(bounds, query.start, side="right") - 1)
    if query.end > bounds[text + 1]:
        raise ValueError("the stretch must lie inside one text")
    on = units_on(acts, query.start, query.end, query.threshold)
    selected = on if query.units is None else np.unique(np.asarray(query.units, dtype=np.int64))
    if len(selected) and (selected.min() < 0 or selected.max() >= acts.shape[1]):
        raise ValueError(f"units are numbered 0..{acts.shape[1] - 1}")
    return on, selected, units_off(acts, query.start, query.end, query.threshold)


def window_and(bits: np.ndarray, length: int) -> np.ndarray:
    """Row s: the AND of rows s..s+length-1 of ``bits`` (T, W), for every s that has them: (T-length+1, W).

    By doubling: windows of 1, 2, 4, ... rows, then two overlapping windows of the largest power of two
    that fits make any length (AND does not mind counting a row twice)."""
    span, out = 1, bits
    while 2 * span <= length:
        out = out[:-span] & out[span:]
        span *= 2
    rest = length - span
    return out[:len(out) - rest] & out[rest:] if rest else out


def _mask(units: np.ndarray, words: int) -> np.ndarray:
    m = np.zeros(words * 64, dtype=bool)
    m[units] = True
    return np.packbits(m, bitorder="little").view(np.uint64)


def _pick(order: np.ndarray, starts: np.ndarray, length: int, blocked: np.ndarray, k: int) -> list[int]:
    """The first ``k`` windows in ``order`` that overlap no window taken before them (nor a blocked start)."""
    taken = []
    for i in order:
        s = int(starts[i])
        if blocked[s]:
            continue
        taken.append(i)
        blocked[max(s - length + 1, 0):s + length] = True
        if len(taken) == k:
            break
    return taken


def search(index: Index | None, query: Query, acts: np.ndarray | None = None, bounds: np.ndarray | None = None,
           bits: np.ndarray | None = None) -> Result:
    """The ``query.k`` best matches of the stretch's pattern over the index (or over ``acts`` and ``bounds``)."""
    t0 = time.perf_counter()
    acts = index.acts if acts is None else acts
    bounds = index.bounds if bounds is None else bounds
    on, selected, off = _pattern(acts, bounds, query)
    T, L = acts.shape[0], query.length
    if not len(selected):
        return Result(query, on, selected, off, [], 0, 0, 0, time.perf_counter() - t0)
    if bits is None:
        bits = index.bits(level(query.threshold)) if index is not None else pack_bits(acts, level(query.threshold))
    windows = window_and(bits, L)                                        # (T-L+1, W)
    words = bits.shape[1]
    hits = np.bitwise_count(windows & _mask(selected, words)).sum(axis=1, dtype=np.int64)
    extras = np.bitwise_count(windows & _mask(off, words)).sum(axis=1, dtype=np.int64) if len(off) else \
        np.zeros(len(windows), np.int64)
    summed = np.asarray(acts[:, selected], dtype=np.int64).sum(axis=1)
    cum = np.concatenate([[0], np.cumsum(summed)])
    strength = cum[L:] - cum[:-L]
    starts = np.arange(T - L + 1)
    text_end = index.text_end if index is not None else np.repeat(bounds[1:], np.diff(bounds))
    valid = text_end[:T - L + 1] >= starts + L
    valid[max(query.start - L + 1, 0):query.end] = False                # overlapping the selection
    cand = np.flatnonzero(valid)
    score = hits[cand] - extras[cand]
    order = np.lexsort((cand, -strength[cand], -score))
    blocked = np.zeros(T, dtype=bool)
    taken = _pick(order, cand, L, blocked, query.k)
    matches = [_match(bounds, int(cand[i]), L, int(hits[cand[i]]), int(extras[cand[i]]), int(strength[cand[i]]))
               for i in taken]
    n = len(selected)
    full = int((hits[cand] == n).sum())
    exact = int(((hits[cand] == n) & (extras[cand] == 0)).sum())
    return Result(query, on, selected, off, matches, len(cand), full, exact, time.perf_counter() - t0)


def _match(bounds: np.ndarray, s: int, length: int, hits: int, extras: int, strength: int) -> Match:
    return Match(s, s + length, int(np.searchsorted(bounds, s, side="right") - 1), hits, extras, strength)


def brute_force(acts: np.ndarray, bounds: np.ndarray, query: Query) -> Result:
    """:func:`search` the slow, obvious way: every window of every text, every unit, one at a time."""
    on, selected, off = _pattern(acts, bounds, query)
    L, q = query.length, level(query.threshold)
    rows = []
    for text in range(len(bounds) - 1):
        for s in range(int(bounds[text]), int(bounds[text + 1]) - L + 1):
            if s + L > query.start and s < query.end:
                continue
            window = np.asarray(acts[s:s + L], dtype=np.int64)
            on_all = [all(window[t, u] >= q for t in range(L)) for u in range(acts.shape[1])]
            hits = sum(on_all[u] for u in selected)
            extras = sum(on_all[u] for u in off)
            strength = sum(int(window[t, u]) for t in range(L) for u in selected)
            rows.append((s, hits, extras, strength))
    if not len(selected):
        return Result(query, on, selected, off, [], 0, 0, 0)
    rows.sort(key=lambda r: (-(r[1] - r[2]), -r[3], r[0]))
    taken: list[tuple] = []
    for r in rows:
        if all(r[0] + L <= t[0] or t[0] + L <= r[0] for t in taken):
            taken.append(r)
            if len(taken) == query.k:
                break
    n = len(selected)
    matches = [_match(bounds, s, L, h, e, st) for s, h, e, st in taken]
    return Result(query, on, selected, off, matches, len(rows), sum(r[1] == n for r in rows),
                  sum(r[1] == n and r[2] == 0 for r in rows))
