"""What the page shows of a query: each match in its context, the selected units' activations over it, and
its meta-data beside it, compared with the selection's."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .corpus import CHARS, POS_TRACK
from .index import SCALE, Index
from .pos import TAG_NAMES
from .search import Result

#: the universal tag of each tag name, as the figure writes it under a word
SHORT_TAGS = {name: short for name, short in zip(TAG_NAMES.values(), (
    "NOUN", "VERB", "ADJ", "ADV", "PRON", "DET", "ADP", "CONJ", "NUM", "PRT", ".", "X"))}
CONTEXT = {"words": 6, "chars": 24}       # tokens shown on each side of a match


@dataclass
class MatchView:
    """One row of the matches: ``tokens`` around the window, ``span`` (i0, i1) the window within them,
    ``values`` (|S|, len(tokens)) the selected units' h, ``meta`` the track's label under each token and
    ``meta_values`` the numbers it is coloured by (tag index, or the feature's value)."""

    label: str
    start: int
    end: int
    tokens: list[str]
    span: tuple[int, int]
    values: np.ndarray
    meta: list[str]
    meta_values: np.ndarray
    summary: str
    key: object
    score: float | None = None
    hits: int | None = None
    extras: int | None = None
    mean: float | None = None

    @property
    def lead(self) -> int:
        """How many tokens of context come before the window."""
        return self.span[0]


def where(index: Index, start: int, end: int) -> str:
    """Where a stretch is, in the corpus's own words: "review 12, tokens 40–44" or "line 1,203, characters 5–9"."""
    if index.kind == CHARS:
        line, col = index.line_col(start)
        return f"line {line:,}, column {col}"
    t = index.text_of(start)
    title = next((p[2] for p in index.pieces if p[0] <= start < p[1]), f"text {t + 1}")
    a = start - int(index.bounds[t])
    return f"{title.split(' (')[0]}, tokens {a}–{a + end - start - 1}"


def _labels(index: Index, track: str | None, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
    tracks = index.tracks()
    if track is None or track not in tracks:
        return [""] * len(positions), np.zeros(len(positions))
    values = tracks[track][positions]
    if track == POS_TRACK:
        names = list(TAG_NAMES.values())
        return [SHORT_TAGS[v] for v in values], np.array([names.index(v) for v in values], dtype=float)
    if track == "position in the line":
        return [str(int(v)) for v in values], values.astype(float)
    return ["●" if v else "" for v in values], values.astype(float)


def summarise(index: Index, start: int, end: int, track: str | None) -> tuple[str, object]:
    """A stretch's meta-data in words, and a key: two stretches with equal keys agree on the track."""
    tracks = index.tracks()
    if track is None or track not in tracks:
        return "", None
    values = tracks[track][start:end]
    if track == POS_TRACK:
        tags = " ".join(SHORT_TAGS[v] for v in values)
        return tags, tags
    if track == "position in the line":
        return f"columns {int(values[0])}–{int(values[-1])}", None
    inside = int(np.sum(values > 0))
    return (f"{inside} of {len(values)} inside", inside * 2 >= len(values))


def view(index: Index, start: int, end: int, units: np.ndarray, track: str | None, label: str,
         context: int | None = None) -> MatchView:
    """The stretch [start, end) with ``context`` tokens on each side (never past its text's ends)."""
    context = CONTEXT[index.kind] if context is None else context
    t = index.text_of(start)
    a = max(int(index.bounds[t]), start - context)
    b = min(int(index.bounds[t + 1]), end + context)
    positions = np.arange(a, b)
    values = np.asarray(index.acts[a:b][:, units], dtype=np.float32).T / SCALE
    meta, meta_values = _labels(index, track, positions)
    summary, key = summarise(index, start, end, track)
    return MatchView(label, start, end, index.tokens[a:b], (start - a, end - a), values, meta, meta_values,
                     summary, key)


def match_views(index: Index, result: Result, track: str | None, context: int | None = None) -> list[MatchView]:
    """The selection first, then every match, each in its context."""
    q, units = result.query, result.selected
    rows = [view(index, q.start, q.end, units, track, "selection", context)]
    n = len(units)
    for rank, m in enumerate(result.matches, 1):
        v = view(index, m.start, m.end, units, track, f"#{rank}", context)
        v.score, v.hits, v.extras, v.mean = m.score(n), m.hits, m.extras, m.mean_activation(n)
        rows.append(v)
    return rows


def agreement(rows: list[MatchView]) -> tuple[int, int] | None:
    """How many matches agree with the selection on the track (key equal), of how many; None if the track
    gives no key (a position in the line is shown, not compared)."""
    if not rows or rows[0].key is None:
        return None
    return sum(r.key == rows[0].key for r in rows[1:]), len(rows) - 1


def default_piece(index: Index) -> int:
    """The piece shown first: on Shakespeare the first speech that starts with its speaker's name (the
    validation text starts inside one), else the first text."""
    if index.kind != CHARS:
        return 0
    for k, (a, b, _) in enumerate(index.pieces):
        line = "".join(index.tokens[a:min(b, a + 80)]).split("\n", 1)[0]
        if line.endswith(":") and len(line) > 1:
            return k
    return 0


def default_stretch(index: Index, piece: int) -> tuple[int, int]:
    """A stretch worth searching at first, inclusive, within the piece: a speaker's name on Shakespeare (the
    name before its colon), else the three tokens ending a review's first sentence."""
    a, b, _ = index.pieces[piece]
    tokens = index.tokens[a:b]
    if index.kind == CHARS:
        line = "".join(tokens).split("\n", 1)[0]
        if line.endswith(":") and len(line) > 1:
            return 0, min(len(line) - 2, 15)
        return 0, min(5, len(tokens) - 1)
    end = next((k for k, t in enumerate(tokens) if t in ".!?" and k >= 2), min(2, len(tokens) - 1))
    return max(end - 2, 0), end


def strongest(index: Index, start: int, end: int, units: np.ndarray) -> np.ndarray:
    """``units`` ordered by their mean h over [start, end), the strongest first."""
    units = np.asarray(units, dtype=np.int64)
    if not len(units):
        return units
    mean = np.asarray(index.acts[start:end][:, units], dtype=np.float64).mean(axis=0)
    return units[np.argsort(-mean, kind="stable")]


def context_text(row: MatchView, kind: str) -> str:
    """The row's tokens as text, the window in [brackets], a newline shown as ↵."""
    a, b = row.span
    sep = "" if kind == CHARS else " "

    def join(tokens: list[str]) -> str:
        return sep.join(tokens).replace("\n", "↵")

    return f"{join(row.tokens[:a])}{sep}[{join(row.tokens[a:b])}]{sep}{join(row.tokens[b:])}".strip()
