"""Part-of-speech tags of the IMDB test reviews the corpus search runs over, precomputed offline and shipped.

Nothing downloads at run time: the tags were computed once with TextBlob's ``PatternTagger`` (Tom De Smedt's
Pattern tagger: a lexicon of 94,118 words, suffix rules for unknown words and 290 contextual rules in Brill's
style, all shipped inside the ``textblob`` wheel), mapped to the 12 universal tags of Petrov, Das & McDonald
(2012), and stored as one letter per token, one line per review, in ``assets/corpus_search/imdb_test_pos.txt.gz``.
The app reads that file; it does not need TextBlob. To write it again (TextBlob installed), from the repository
root (it rewrites the file byte for byte):

    PYTHONPATH=. python assets/corpus_search/tag_reviews.py

Tokens are the sentiment model's own (:func:`rnnlab.data.tokenizer.tokenize`), given to the tagger with their
original capitals; a contraction the tokenizer keeps whole (``didn't``, ``it's``) is tagged as the tagger's
two pieces (``did`` + ``n't``) and takes its first piece's tag; a token with no letter or digit is punctuation.
Checked by hand on 210 tokens (the first 70 of test reviews 1, 8 and 22): 203 agree (97%); the 7 misses are
"first" (an adverb there) read as a noun, "like" (a verb) and relative "that" as prepositions, "bad alien" as
adjective-noun read the other way round, and the noun "feel" as an adjective. A review whose number of tokens
differs from its line (the tokenizer changed since) gets no tags: the page then says that the track is missing.
"""
from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from ...data.tokenizer import clean, tokenize

ASSET = Path(__file__).resolve().parents[3] / "assets" / "corpus_search" / "imdb_test_pos.txt.gz"

#: one letter per universal tag (Petrov et al. 2012), and the name the page shows
TAG_NAMES = {"N": "noun", "V": "verb", "J": "adjective", "R": "adverb", "P": "pronoun", "D": "determiner",
             "A": "preposition", "C": "conjunction", "M": "number", "T": "particle", ".": "punctuation",
             "X": "other"}
PUNCTUATION_TAGS = {".", ",", ":", "(", ")", "``", "''", '"', "#", "$", "SYM", "LS"}


def penn_letter(tag: str) -> str:
    """A Penn Treebank tag as its universal tag's letter (Petrov et al.'s mapping; an entity suffix such
    as ``NNP-PERS`` is dropped, an interjection or a foreign word is "other")."""
    tag = tag.split("-")[0]
    if tag.startswith("NN") or tag == "NP":
        return "N"
    if tag.startswith("VB") or tag == "MD":
        return "V"
    if tag.startswith("JJ"):
        return "J"
    if tag.startswith("RB") or tag == "WRB":
        return "R"
    if tag in ("PRP", "PRP$", "WP", "WP$"):
        return "P"
    if tag in ("DT", "PDT", "WDT", "EX"):
        return "D"
    letters = {"IN": "A", "CD": "M", "CC": "C", "POS": "T", "RP": "T", "TO": "T"}
    if tag in letters:
        return letters[tag]
    return "." if tag in PUNCTUATION_TAGS else "X"


@lru_cache(maxsize=1)
def shipped_lines() -> tuple[str, ...] | None:
    """The shipped tags, one string of tag letters per review of the compact test half (None if absent)."""
    if not ASSET.exists():
        return None
    return tuple(gzip.decompress(ASSET.read_bytes()).decode("ascii").split("\n"))


def imdb_tags(token_lists: list[list[str]]) -> list[str] | None:
    """The shipped tags of the first ``len(token_lists)`` test reviews, or None if they are absent or do not
    line up with these tokens (one letter per token, every review)."""
    lines = shipped_lines()
    if lines is None or len(lines) < len(token_lists):
        return None
    if any(len(line) != len(tokens) for line, tokens in zip(lines, token_lists)):
        return None
    return list(lines[:len(token_lists)])


# --- what the offline tool uses -------------------------------------------------------------------------
_ASCII_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*|[^\w\s]", re.ASCII)


def cased_tokens(text: str) -> list[str]:
    """:func:`tokenize`'s tokens with their original capitals where the text allows it (a tagger reads
    "Paris" better than "paris"); the lower-case tokens themselves otherwise."""
    tokens = tokenize(text)
    cleaned = clean(text)
    low = cleaned.lower()
    if not low.isascii() or len(low) != len(cleaned):
        return tokens
    spans = [m.span() for m in _ASCII_TOKEN.finditer(low)]
    if len(spans) != len(tokens):
        return tokens
    return [cleaned[a:b] for a, b in spans]


def pieces(token: str) -> list[str]:
    """A token as the tagger's lexicon writes it: ``didn't`` -> ``did``, ``n't``; ``it's`` -> ``it``, ``'s``."""
    low = token.lower()
    if low.endswith("n't") and len(token) > 3:
        return [token[:-3], token[-3:]]
    if "'" in token[1:]:
        k = token.index("'", 1)
        return [token[:k], token[k:]]
    return [token]


def tag_letters(tokens: list[str], tagger: Callable[[list[str]], list[str]]) -> str:
    """One universal tag letter per token, given ``tagger``: words -> Penn Treebank tags (the offline tool passes
    TextBlob's). Contractions are split for it (:func:`pieces`) and take their first piece's tag; a token with no
    letter or digit is punctuation whatever the tagger guessed (it reads a lone ' as a verb)."""
    split, head = [], []
    for t in tokens:
        head.append(len(split))
        split.extend(pieces(t))
    tags = tagger(split)
    return "".join("." if not any(c.isalnum() for c in t) else penn_letter(tags[i]) for t, i in zip(tokens, head))
