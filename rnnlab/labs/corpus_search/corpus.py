"""The corpora the search runs over: one stream of tokens (words, or characters) with the boundaries of its
texts, the pieces a student picks a stretch in, and a meta-data track beside every token.

* IMDB: the first :data:`IMDB_REVIEWS` reviews of the shipped compact test half (``assets/imdb_subset``,
  about 261,000 tokens; none was seen in training), each read whole up to the Inside the memory page's
  :data:`~rnnlab.labs.memory.MAX_TOKENS`. Track: each word's part of speech (see :mod:`.pos`).
* Shakespeare: the tiny-shakespeare validation text (its last 10%, 111,540 characters) read as one text;
  the pieces are its speeches. Tracks: position in the line, inside a speaker name, inside quotes or
  brackets (:func:`rnnlab.labs.textgen.feature_values`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ...data.chars import shakespeare
from ...data.text import load_compact_imdb
from ...data.tokenizer import tokenize
from ..memory import MAX_TOKENS
from ..textgen import feature_values
from .pos import TAG_NAMES, imdb_tags

WORDS, CHARS = "words", "chars"
IMDB_REVIEWS = 1_000     # the first 1,000 test reviews: about 261,000 tokens x 512 units = 134 MB of int8
PIECE_MAX = 2_000        # a piece longer than this is cut into parts: the stretch slider stays usable
POS_TRACK = "part of speech"
CHAR_TRACKS = ("speaker name", "position in the line", "inside quotes or brackets")


@dataclass
class Corpus:
    """``tokens``: the whole corpus, one step of the model per token. ``bounds``: where each text starts,
    then the end (a window of the search never crosses from one text into the next). ``pieces``: (start,
    end, title) of what a student picks a stretch in. ``before``: characters that come before the corpus,
    read only to warm the state up. ``pos``: one tag code per token (words), or None."""

    name: str
    kind: str
    key: str
    tokens: list[str]
    bounds: np.ndarray
    pieces: list[tuple[int, int, str]]
    before: str = ""
    pos: str | None = None

    def __len__(self) -> int:
        return len(self.tokens)

    def cut(self, max_tokens: int) -> Corpus:
        """At most ``max_tokens`` tokens: whole texts while they fit (the first text cut if even it does not)."""
        if len(self.tokens) <= max_tokens:
            return self
        keep = [int(b) for b in self.bounds if b <= max_tokens]
        end = keep[-1] if len(keep) > 1 else max_tokens
        bounds = np.array(keep[:-1] + [end] if len(keep) > 1 else [0, end], dtype=np.int64)
        pieces = [(a, min(b, end), t) for a, b, t in self.pieces if a < end]
        return Corpus(self.name, self.kind, f"{self.key}-cut{end}", self.tokens[:end], bounds, pieces, self.before,
                      self.pos[:end] if self.pos is not None else None)


def _key(prefix: str, parts) -> str:
    h = hashlib.blake2b(digest_size=6)
    for p in parts:
        h.update(str(p).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return f"{prefix}-{h.hexdigest()}"


def _split_long(pieces: list[tuple[int, int, str]], longest: int = PIECE_MAX) -> list[tuple[int, int, str]]:
    out = []
    for a, b, title in pieces:
        if b - a <= longest:
            out.append((a, b, title))
            continue
        parts = range(a, b, longest)
        out.extend((s, min(s + longest, b), f"{title}, part {k + 1} of {len(parts)}") for k, s in enumerate(parts))
    return out


def words_corpus(texts: list[str], name: str = "texts", titles: list[str] | None = None, key: str | None = None,
                 max_tokens: int = MAX_TOKENS, tags: list[str] | None = None) -> Corpus:
    """Texts tokenised as the sentiment model reads them (each cut at ``max_tokens``); ``tags``: one tag code
    per token of each whole text (as :func:`.pos.imdb_tags` gives them), or None."""
    tokens, bounds, pieces, pos = [], [0], [], []
    for k, text in enumerate(texts):
        toks = tokenize(text)[:max_tokens]
        if not toks:
            continue
        start = len(tokens)
        tokens.extend(toks)
        bounds.append(len(tokens))
        title = titles[k] if titles else f"text {k + 1}"
        pieces.append((start, len(tokens), f"{title} ({len(toks):,} tokens)"))
        if tags is not None:
            pos.append(tags[k][:len(toks)])
    return Corpus(name, WORDS, key or _key("words", texts), tokens, np.array(bounds, dtype=np.int64),
                  _split_long(pieces), pos="".join(pos) if tags is not None else None)


def chars_corpus(text: str, name: str = "text", before: str = "", key: str | None = None) -> Corpus:
    """A text read character by character, as one text; its pieces are its speeches (blocks between blank
    lines, titled by their first line when it names a speaker). ``before``: what precedes it."""
    pieces, start = [], 0
    for block in text.split("\n\n"):
        end = start + len(block)
        if block.strip():
            first = block.split("\n", 1)[0]
            who = first[:-1].strip() if first.rstrip().endswith(":") else "…"
            lines = block.count("\n") + 1
            pieces.append((start, end, f"{who} ({lines} line{'s' if lines > 1 else ''}, character {start:,})"))
        start = end + 2
    return Corpus(name, CHARS, key or _key("chars", [before, text]), list(text), np.array([0, len(text)], np.int64),
                  _split_long(pieces), before=before)


def imdb_corpus(n: int = IMDB_REVIEWS, max_tokens: int = MAX_TOKENS) -> Corpus:
    """The first ``n`` reviews of the compact IMDB test half, with their part-of-speech tags."""
    test = load_compact_imdb()["test"]
    texts = test.texts[:n]
    titles = [f"review {k + 1}, {'positive' if y else 'negative'}" for k, y in enumerate(test.labels[:n].tolist())]
    token_lists = [tokenize(t) for t in texts]
    tags = imdb_tags(token_lists)
    return words_corpus(texts, f"the first {len(texts):,} IMDB test reviews", titles, f"imdb-test{len(texts)}-max"
                        f"{max_tokens}", max_tokens, tags)


def shakespeare_corpus(warmup: int = 256) -> Corpus:
    """The tiny-shakespeare validation text; the ``warmup`` characters of training text before it warm the
    model's state up, so that its first characters too are read in context."""
    corpus = shakespeare()
    return chars_corpus(corpus.val_text, "the tiny-shakespeare validation text", corpus.train_text[-warmup:],
                        key=f"shakespeare-val-w{warmup}")


CORPORA = {"imdb": imdb_corpus, "shakespeare": shakespeare_corpus}


def make_corpus(spec: dict) -> Corpus:
    """A corpus from plain data (what a job receives): ``{"name": "imdb", "reviews": 1000}``,
    ``{"name": "shakespeare"}``, ``{"name": "words", "texts": [...]}`` or ``{"name": "chars", "text": ...,
    "before": ...}``."""
    name = spec.get("name")
    if name == "imdb":
        return imdb_corpus(int(spec.get("reviews", IMDB_REVIEWS)))
    if name == "shakespeare":
        return shakespeare_corpus()
    if name == "words":
        return words_corpus(list(spec["texts"]), spec.get("title", "texts"))
    if name == "chars":
        return chars_corpus(spec["text"], spec.get("title", "text"), spec.get("before", ""))
    raise ValueError(f"unknown corpus {name!r}")


def corpus_key(spec: dict) -> str:
    """The cache key of the corpus ``spec`` describes, without reading it (the shipped corpora never change:
    their files are checksummed or fixed)."""
    name = spec.get("name")
    if name == "imdb":
        return f"imdb-test{int(spec.get('reviews', IMDB_REVIEWS))}-max{MAX_TOKENS}"
    if name == "shakespeare":
        return "shakespeare-val-w256"
    return make_corpus(spec).key


# --- meta-data tracks -----------------------------------------------------------------------------------
def tracks(kind: str, tokens: list[str], pos: str | None) -> dict[str, np.ndarray]:
    """The meta-data tracks of a corpus, one value per token: words, its part of speech (tag names; absent
    without tags); characters, :data:`CHAR_TRACKS` (numbers)."""
    if kind == WORDS:
        if pos is None:
            return {}
        names = np.array([TAG_NAMES[c] for c in sorted(TAG_NAMES)], dtype=object)
        codes = np.array(sorted(TAG_NAMES))
        return {POS_TRACK: names[np.searchsorted(codes, np.array(list(pos)))]}
    feats = feature_values("".join(tokens))
    return {name: feats[name] for name in CHAR_TRACKS}
