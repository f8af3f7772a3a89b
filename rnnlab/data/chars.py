"""Character-level text for language models: tiny-shakespeare, a student's own text, and batches.

* :func:`shakespeare` — the tiny-shakespeare corpus (1,115,394 characters, 65 distinct; public-domain
  Shakespeare, as in Karpathy's char-rnn), shipped xz-compressed in ``assets/textgen/``. The first 90% is
  for training, the last 10% for validation: a contiguous split, so no validation line was seen in training.
* :func:`read_user_text` / :func:`user_corpus` — a pasted or uploaded text, size-capped, UTF-8 checked and
  cleaned (newlines normalised, control characters dropped), then split the same way.
* :class:`CharVocab` — characters ↔ ids. A student's text with very many distinct characters keeps the
  most frequent :data:`MAX_VOCAB` − 1 and maps the rest to one "unknown" character.
* :class:`StreamBatches` — batches for truncated BPTT with a *carried* state: the training text is cut
  into ``batch_size`` long streams read side by side, window after window, so the state a model ends one
  window with is the right state to start the next (char-rnn's scheme). :func:`random_windows` draws
  independent windows instead (what a Transformer, which has no state to carry, trains on).
"""
from __future__ import annotations

import hashlib
import lzma
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from ..inputs import readable
from .text import DataError

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "textgen"
SHAKESPEARE_FILE = ASSETS / "tinyshakespeare.txt.xz"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
TRAIN_FRACTION = 0.9

MAX_UPLOAD_BYTES = 5_000_000     # an upload or paste larger than this is refused before decoding
MAX_USER_CHARS = 2_000_000       # about twice tiny-shakespeare
MIN_USER_CHARS = 2_000           # below this the validation part (10%) is too short to mean anything
MAX_VOCAB = 256
UNKNOWN = "\ufffd"               # stands for every character outside a capped vocabulary


class CharVocab:
    """The characters a model knows, in a fixed order: id i is ``chars[i]``."""

    def __init__(self, chars: list[str] | str):
        chars = list(chars)
        if len(set(chars)) != len(chars):
            raise ValueError("a vocabulary lists each character once")
        if not chars or any(len(c) != 1 for c in chars):
            raise ValueError("a vocabulary is a non-empty list of single characters")
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str, max_size: int = MAX_VOCAB) -> CharVocab:
        """Every character of ``text`` (sorted), or the ``max_size - 1`` most frequent plus :data:`UNKNOWN`."""
        counts = Counter(text)
        if len(counts) <= max_size:
            return cls(sorted(counts))
        kept = [c for c, _ in counts.most_common(max_size - 1) if c != UNKNOWN][: max_size - 1]
        return cls(sorted(kept) + [UNKNOWN])

    def __len__(self) -> int:
        return len(self.chars)

    def __eq__(self, other) -> bool:
        return isinstance(other, CharVocab) and self.chars == other.chars

    @property
    def unknown_id(self) -> int | None:
        return self.index.get(UNKNOWN)

    def unknown(self, text: str) -> list[str]:
        """The distinct characters of ``text`` this vocabulary lacks, in order of appearance."""
        return list(dict.fromkeys(c for c in text if c not in self.index))

    def encode(self, text: str, unknown: str = "map") -> torch.Tensor:
        """Ids (int64) of ``text``. Characters outside the vocabulary: ``"map"`` to :data:`UNKNOWN` if the
        vocabulary has it (else dropped), ``"drop"``, or ``"error"`` (raise :class:`DataError`)."""
        if unknown not in ("map", "drop", "error"):
            raise ValueError("unknown must be 'map', 'drop' or 'error'")
        index, unk = self.index, self.unknown_id
        missing = self.unknown(text)
        if missing and unknown == "error":
            raise DataError(f"characters not in the vocabulary: {''.join(missing[:20])!r}")
        if not missing:
            ids = [index[c] for c in text]
        elif unknown == "map" and unk is not None:
            ids = [index.get(c, unk) for c in text]
        else:
            ids = [index[c] for c in text if c in index]
        return torch.tensor(ids, dtype=torch.long)

    def decode(self, ids) -> str:
        chars = self.chars
        return "".join(chars[int(i)] for i in ids)

    def to_json(self) -> list[str]:
        return list(self.chars)


@dataclass
class CharCorpus:
    """A text split for a character language model: ``train`` and ``val`` are int64 id tensors."""

    name: str
    vocab: CharVocab
    train: torch.Tensor
    val: torch.Tensor
    train_text: str
    val_text: str

    @property
    def chars(self) -> int:
        return len(self.train) + len(self.val)


def split_text(text: str, name: str, fraction: float = TRAIN_FRACTION, vocab: CharVocab | None = None) -> CharCorpus:
    """First ``fraction`` of ``text`` for training, the rest for validation; the vocabulary comes from
    the whole text (a character seen only in validation still needs an id) unless one is given."""
    if not 0 < fraction < 1:
        raise ValueError("the training fraction must be between 0 and 1")
    cut = int(len(text) * fraction)
    vocab = vocab or CharVocab.from_text(text)
    return CharCorpus(name, vocab, vocab.encode(text[:cut]), vocab.encode(text[cut:]), text[:cut], text[cut:])


@lru_cache(maxsize=1)
def shakespeare_text() -> str:
    """The shipped tiny-shakespeare text, checked against its SHA-256."""
    try:
        raw = lzma.decompress(SHAKESPEARE_FILE.read_bytes())
    except FileNotFoundError:
        raise DataError(f"tiny-shakespeare is missing: {SHAKESPEARE_FILE} should ship with the app") from None
    if hashlib.sha256(raw).hexdigest() != SHAKESPEARE_SHA256:
        raise DataError(f"{SHAKESPEARE_FILE.name} is damaged (checksum mismatch)")
    return raw.decode("utf-8")


@lru_cache(maxsize=1)
def shakespeare() -> CharCorpus:
    """tiny-shakespeare: 1,003,854 characters to train on, the last 111,540 to validate."""
    return split_text(shakespeare_text(), "tiny-shakespeare")


# --- a student's own text ------------------------------------------------------------------------------
def read_user_text(source, max_bytes: int = MAX_UPLOAD_BYTES, max_chars: int = MAX_USER_CHARS,
                   min_chars: int = MIN_USER_CHARS) -> str:
    """A pasted (``str``) or uploaded (``bytes`` or a binary file object) text, checked and cleaned.

    Refused with a :class:`DataError` that says why: larger than ``max_bytes`` / ``max_chars``, not
    UTF-8, without a readable character (:func:`rnnlab.inputs.readable`), or shorter than ``min_chars``
    once cleaned (counted by :func:`countable`). Cleaning: Windows/Mac newlines become ``\\n``,
    Unicode is NFC-normalised (an accent and its letter become one character), control characters other
    than newline and tab are dropped."""
    if isinstance(source, str):
        if len(source) > max_chars:
            raise DataError(f"the text has {len(source):,} characters; the limit is {max_chars:,}")
        text = source
    else:
        raw = source if isinstance(source, (bytes, bytearray)) else source.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise DataError(f"the file is over {max_bytes / 1e6:.0f} MB; the limit is {max_bytes / 1e6:.0f} MB")
        try:
            text = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise DataError(f"the file is not UTF-8 text (byte {err.start} cannot be decoded); save it as "
                            "UTF-8 plain text (.txt) and try again") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if c in "\n\t" or (unicodedata.category(c) not in ("Cc", "Cs") and c != "\ufeff"))
    if len(text) > max_chars:
        raise DataError(f"the text has {len(text):,} characters; the limit is {max_chars:,}")
    if not readable(text):
        raise DataError("the text has no letters, digits or punctuation, only spaces or invisible characters: "
                        "paste or upload a real text")
    counted = countable(text)
    if counted < min_chars:
        hidden = " (invisible characters not counted)" if counted < len(text.strip()) else ""
        raise DataError(f"the text has {counted:,} characters{hidden}; a language model needs at least "
                        f"{min_chars:,} ({1 - TRAIN_FRACTION:.0%} of them are kept aside to validate on)")
    return text


def countable(text: str) -> int:
    """The characters of ``text`` that count towards its length: not the spaces at its ends, and not
    invisible format characters (zero-width spaces, direction marks), which a reader cannot see."""
    text = text.strip()
    return len(text) - sum(unicodedata.category(c) == "Cf" for c in text)


def user_corpus(source, name: str = "your text", **limits) -> CharCorpus:
    """:func:`read_user_text`, then split 90/10 with a vocabulary of at most :data:`MAX_VOCAB` characters."""
    return split_text(read_user_text(source, **limits), name)


# --- batches -------------------------------------------------------------------------------------------
class StreamBatches:
    """Batches for truncated BPTT with a carried state.

    The ids are cut into ``batch_size`` equal streams (row b of every batch continues row b of the
    previous one), read in windows of ``seq_len`` characters. Call with a step number: ``(x, y, reset)``
    with ``x``, ``y`` of shape (batch, seq_len) and ``y`` the next character of each ``x``. ``reset`` is
    True on the first window of each pass over the text, where a carried state must start again from zero.
    Each pass starts at a different offset (drawn from ``seed``), so windows do not always cut the text
    at the same places."""

    def __init__(self, ids: torch.Tensor, batch_size: int, seq_len: int, seed: int = 0):
        if batch_size < 1 or seq_len < 1:
            raise ValueError("batch size and sequence length must be at least 1")
        stream = len(ids) // batch_size
        if stream < seq_len + 2:
            raise DataError(f"{len(ids):,} characters are too few for {batch_size} streams of windows of "
                            f"{seq_len}: use a smaller batch or sequence length, or a longer text")
        self.ids, self.batch_size, self.seq_len, self.seed = ids, batch_size, seq_len, seed
        self.stream_len = stream
        # one window of each pass is kept free for the random offset
        self.windows = (stream - 1 - seq_len) // seq_len if stream - 1 >= 2 * seq_len else 1
        self._pass, self._offset = -1, 0

    def __len__(self) -> int:
        return self.windows

    def _streams_for(self, n_pass: int) -> torch.Tensor:
        if n_pass != self._pass:
            spare = self.stream_len - 1 - self.windows * self.seq_len
            g = torch.Generator().manual_seed(self.seed * 7919 + n_pass)
            self._offset = int(torch.randint(0, spare + 1, (1,), generator=g)) if spare > 0 else 0
            self._pass = n_pass
        return self.ids[: self.batch_size * self.stream_len].view(self.batch_size, self.stream_len)

    def __call__(self, step: int) -> tuple[torch.Tensor, torch.Tensor, bool]:
        n_pass, w = divmod(step, self.windows)
        streams = self._streams_for(n_pass)
        a = self._offset + w * self.seq_len
        return streams[:, a:a + self.seq_len], streams[:, a + 1:a + self.seq_len + 1], w == 0


def random_windows(ids: torch.Tensor, batch_size: int, seq_len: int,
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` windows of ``seq_len`` characters at random places (x) and the character after each (y)."""
    if len(ids) < seq_len + 2:
        raise DataError(f"{len(ids):,} characters are too few for windows of {seq_len}")
    starts = torch.randint(0, len(ids) - seq_len - 1, (batch_size,), generator=generator)
    offsets = torch.arange(seq_len + 1)
    rows = ids[starts[:, None] + offsets]
    return rows[:, :-1], rows[:, 1:]


def eval_streams(ids: torch.Tensor, n_streams: int) -> torch.Tensor:
    """``ids`` as ``n_streams`` contiguous rows (the tail that does not fill a row is dropped), for scoring
    a text with a carried state: only each row's first characters are read without context."""
    n_streams = max(1, min(n_streams, len(ids) // 2))
    length = len(ids) // n_streams
    return ids[: n_streams * length].view(n_streams, length)
