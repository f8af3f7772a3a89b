"""Text to token ids, in the spirit of Keras' ``Tokenizer`` and ``pad_sequences``.

* ``tokenize``: lower-case words and single punctuation marks (and emoji); HTML tags such as the
  ``<br />`` that litter IMDB reviews are removed first, and invisible format characters (zero-width
  spaces and joiners, soft hyphens, direction marks) are dropped, so that ``"gr\u200beat"`` is still
  ``great``. Combining marks (Devanagari vowel signs, accents that NFKC cannot compose) stay inside
  their word.
* ``Vocabulary``: index 0 is padding, 1 the out-of-vocabulary (OOV) token, then words by frequency.
  ``num_words`` keeps the ``num_words - 2`` most frequent words (ids below ``num_words``).
* ``encode(..., maxlen, padding, truncating)``: Keras' defaults are ``"pre"`` for both: keep the end
  of a long review and pad short ones on the left, so the last step the RNN reads is a real word.
"""
from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

PAD, OOV = 0, 1
PAD_TOKEN, OOV_TOKEN = "<pad>", "<oov>"

_TAG = re.compile(r"<[^>]{0,200}>")


def _char_classes() -> tuple[str, str]:
    """Regex character-class bodies, from one pass over the Basic Multilingual Plane: invisible format
    characters (category Cf, plus the tag characters used in flag emoji) and combining marks (Mn, Mc, Me)."""
    found: dict[bool, list[int]] = {True: [], False: []}
    for c in range(0x10000):
        cat = unicodedata.category(chr(c))
        if cat == "Cf" or cat[0] == "M":
            found[cat == "Cf"].append(c)

    def ranges(codes: list[int]) -> str:
        parts, start, prev = [], codes[0], codes[0]
        for c in codes[1:] + [-1]:
            if c == prev + 1:
                prev = c
                continue
            parts.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
            start = prev = c
        return "".join(parts)

    return ranges(found[True]) + "\U000e0000-\U000e007f", ranges(found[False])


_FORMAT_CHARS, _MARKS = _char_classes()
# Invisible format characters (zero-width space/joiners, soft hyphen, bidi marks, BOM, tags) must neither
# split a word nor be a token of their own; combining marks belong to their word (Python's \w skips them).
_FORMAT = re.compile(f"[{_FORMAT_CHARS}]")
_LETTER = f"(?:[^\\W_]|[{_MARKS}])"
_TOKEN = re.compile(f"{_LETTER}+(?:'{_LETTER}+)*|[^\\w\\s{_MARKS}]", re.UNICODE)
# The same rule for plain ASCII text (most reviews), twice as fast: no Unicode classes to test.
_ASCII_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*|[^\w\s]", re.ASCII)


def clean(text: str) -> str:
    """Remove HTML tags (``<br />`` becomes a space), unescape entities, normalise Unicode (NFKC), drop
    invisible format characters, and write the typographic apostrophe (’) as ``'``."""
    text = _TAG.sub(" ", str(text))
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    return _FORMAT.sub("", text).replace("\u2019", "'")


def tokenize(text: str) -> list[str]:
    """``"It's GREAT!<br />Loved it 😀"`` -> ``["it's", "great", "!", "loved", "it", "😀"]``."""
    text = clean(text).lower()
    return (_ASCII_TOKEN if text.isascii() else _TOKEN).findall(text)


class Vocabulary:
    """Word <-> id mapping fitted on texts; saved as JSON beside a model."""

    def __init__(self, num_words: int | None = None):
        self.num_words = num_words
        self.counts: Counter[str] = Counter()
        self.index: dict[str, int] = {}
        self.words: list[str] = [PAD_TOKEN, OOV_TOKEN]

    def fit(self, texts: Iterable[str]) -> Vocabulary:
        return self.fit_tokens(tokenize(text) for text in texts)

    def fit_tokens(self, token_lists: Iterable[list[str]]) -> Vocabulary:
        """Fit on texts already tokenised (a job tokenises once, in chunks, and reuses the tokens)."""
        for tokens in token_lists:
            self.counts.update(tokens)
        self._build()
        return self

    def fit_counts(self, counts: dict[str, int]) -> Vocabulary:
        """Fit on word counts already made (the same vocabulary as ``fit`` on the texts they were counted in)."""
        self.counts.update({w: int(c) for w, c in counts.items() if c > 0})
        self._build()
        return self

    def _build(self) -> None:
        keep = None if self.num_words is None else max(self.num_words - 2, 0)
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
        self.words = [PAD_TOKEN, OOV_TOKEN] + [w for w, _ in ranked]
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def ids(self, tokens: list[str]) -> list[int]:
        return [self.index.get(t, OOV) for t in tokens]

    def encode(self, text: str, maxlen: int | None = None, padding: str = "pre", truncating: str = "pre") -> list[int]:
        """Token ids of ``text``; with ``maxlen``, truncated and padded (with 0) to exactly that length."""
        ids = self.ids(tokenize(text))
        return pad(ids, maxlen, padding, truncating) if maxlen else ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.words[i] if 0 <= i < len(self.words) else OOV_TOKEN for i in ids]

    def to_dict(self) -> dict:
        return {"num_words": self.num_words, "words": self.words[2:]}

    @classmethod
    def from_dict(cls, data: dict) -> Vocabulary:
        vocab = cls(data.get("num_words"))
        vocab.words = [PAD_TOKEN, OOV_TOKEN] + list(data["words"])
        vocab.index = {w: i for i, w in enumerate(vocab.words)}
        return vocab

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def pad(ids: list[int], maxlen: int, padding: str = "pre", truncating: str = "pre") -> list[int]:
    """Keras' ``pad_sequences`` for one sequence."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError("padding and truncating must be 'pre' or 'post'")
    if len(ids) > maxlen:
        ids = ids[-maxlen:] if truncating == "pre" else ids[:maxlen]
    fill = [PAD] * (maxlen - len(ids))
    return fill + ids if padding == "pre" else ids + fill
