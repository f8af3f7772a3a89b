"""Text to token ids, in the spirit of Keras' ``Tokenizer`` and ``pad_sequences``.

* ``tokenize``: lower-case words and single punctuation marks (and emoji); HTML tags such as the
  ``<br />`` that litter IMDB reviews are removed first.
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
from pathlib import Path
from typing import Iterable

PAD, OOV = 0, 1
PAD_TOKEN, OOV_TOKEN = "<pad>", "<oov>"

_TAG = re.compile(r"<[^>]{0,200}>")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]", re.UNICODE)


def clean(text: str) -> str:
    """Remove HTML tags (``<br />`` becomes a space), unescape entities, normalise Unicode (NFKC)."""
    text = _TAG.sub(" ", str(text))
    text = html.unescape(text)
    return unicodedata.normalize("NFKC", text)


def tokenize(text: str) -> list[str]:
    """``"It's GREAT!<br />Loved it 😀"`` -> ``["it's", "great", "!", "loved", "it", "😀"]``."""
    return _TOKEN.findall(clean(text).lower())


class Vocabulary:
    """Word <-> id mapping fitted on texts; saved as JSON beside a model."""

    def __init__(self, num_words: int | None = None):
        self.num_words = num_words
        self.counts: Counter[str] = Counter()
        self.index: dict[str, int] = {}
        self.words: list[str] = [PAD_TOKEN, OOV_TOKEN]

    def fit(self, texts: Iterable[str]) -> "Vocabulary":
        for text in texts:
            self.counts.update(tokenize(text))
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
    def from_dict(cls, data: dict) -> "Vocabulary":
        vocab = cls(data.get("num_words"))
        vocab.words = [PAD_TOKEN, OOV_TOKEN] + list(data["words"])
        vocab.index = {w: i for i, w in enumerate(vocab.words)}
        return vocab

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def pad(ids: list[int], maxlen: int, padding: str = "pre", truncating: str = "pre") -> list[int]:
    """Keras' ``pad_sequences`` for one sequence."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError("padding and truncating must be 'pre' or 'post'")
    if len(ids) > maxlen:
        ids = ids[-maxlen:] if truncating == "pre" else ids[:maxlen]
    fill = [PAD] * (maxlen - len(ids))
    return fill + ids if padding == "pre" else ids + fill
